"""The document-class configuration: the bundled file, the loader's errors, and the tool set built from it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from docproc import classes

REQUIRED_CLASSES = {
    "invoice",
    "receipt",
    "contract",
    "resume",
    "clinical_note",
    "financial_statement",
    "form",
    "letter",
    "report",
    "other",
}


def bundled() -> dict[str, Any]:
    return yaml.safe_load(classes.DEFAULT_PATH.read_text(encoding="utf-8"))


def test_the_bundled_file_has_every_required_class_with_the_fields_users_ask_for() -> None:
    config = classes.load(classes.DEFAULT_PATH)

    assert set(config.names) >= REQUIRED_CLASSES
    assert config.version
    assert config.system_prompt.startswith("You extract structured data")
    invoice = set(config.get("invoice").field_names)
    assert {"invoice_number", "issue_date", "due_date", "issuer", "recipient", "total", "tax", "currency"} <= invoice
    assert "line_items" in invoice
    assert config.get("invoice").is_list("line_items")
    contract = set(config.get("contract").field_names)
    assert {"parties", "agreement_date", "effective_date", "expiration_date", "term", "governing_law"} <= contract
    assert {"renewal"} <= contract
    assert {"name", "email", "phone", "skills", "employers"} <= set(config.get("resume").field_names)
    assert config.get("invoice").domains == ("financial",)


def test_every_class_becomes_a_named_tool() -> None:
    config = classes.load(classes.DEFAULT_PATH)

    tools = classes.tool_config(config, "anthropic.claude-3-haiku-20240307-v1:0")

    assert tools["toolChoice"] == {"any": {}}
    names = [t["toolSpec"]["name"] for t in tools["tools"]]
    assert names == [f"record_{n}" for n in config.names]
    assert all(len(n) <= 64 for n in names)
    invoice = tools["tools"][0]["toolSpec"]
    assert invoice["description"].startswith("Record a document of class 'invoice': A bill")
    assert "Instructions: issuer is the seller" in invoice["description"]
    assert config.for_tool("record_contract") is config.get("contract")
    assert config.for_tool("record_nothing") is None
    assert config.for_tool("contract") is None


@pytest.mark.parametrize(
    ("model_id", "strict"),
    [
        ("anthropic.claude-3-haiku-20240307-v1:0", False),
        ("anthropic.claude-sonnet-4-5-20250929-v1:0", True),
        ("us.anthropic.claude-haiku-4-5-20251001-v1:0", True),
        ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", True),
        ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.anthropic.claude-sonnet-4-5-x", True),
        ("amazon.nova-pro-v1:0", False),
    ],
)
def test_strict_mode_follows_the_model_list(model_id: str, strict: bool) -> None:
    config = classes.load(classes.DEFAULT_PATH)

    specs = [t["toolSpec"] for t in classes.tool_config(config, model_id)["tools"]]

    assert all(spec.get("strict", False) is strict for spec in specs)


# --- errors: each names the file, the class and the path ------------------------------------------------------------


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "document_classes.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def broken(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(bundled())
    change(data)
    return data


def _class(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in data["classes"] if c["name"] == name)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            lambda d: _class(d, "invoice")["schema"]["properties"]["total"].update(type="money"),
            r"class 'invoice': schema/properties/total/type: 'money' is not valid",
            id="bad-type",
        ),
        pytest.param(
            lambda d: _class(d, "contract")["schema"]["properties"]["parties"].pop("items"),
            r"class 'contract': schema/properties/parties: an array field needs an items schema",
            id="array-without-items",
        ),
        pytest.param(
            lambda d: _class(d, "resume")["schema"]["properties"].update({"Full Name": {"type": "string"}}),
            r"class 'resume': schema/properties/Full Name: field names are lower_snake_case",
            id="field-name",
        ),
        pytest.param(
            lambda d: _class(d, "receipt")["schema"].update(type="array"),
            r"class 'receipt': schema: must be \{\"type\": \"object\"",
            id="root-not-object",
        ),
        pytest.param(
            lambda d: _class(d, "form").update(domains=["sports"]),
            r"class 'form': domains: must be a list of",
            id="unknown-domain",
        ),
        pytest.param(
            lambda d: _class(d, "letter").pop("description"),
            r"class 'letter': description: required",
            id="no-description",
        ),
        pytest.param(
            lambda d: _class(d, "report").update(fields={}),
            r"class 'report': unknown key\(s\) fields",
            id="unknown-class-key",
        ),
        pytest.param(
            lambda d: d["classes"].append(copy.deepcopy(d["classes"][0])),
            r"classes: class name\(s\) used more than once: invoice",
            id="duplicate",
        ),
        pytest.param(
            lambda d: d.update(classes=[c for c in d["classes"] if c["name"] != "other"]),
            r"a class named 'other' is required",
            id="no-fallback",
        ),
        pytest.param(lambda d: d.pop("version"), r"version: required", id="no-version"),
        pytest.param(lambda d: d.update(version=3), r"version: required: a string", id="numeric-version"),
        pytest.param(lambda d: d.update(prompt="x"), r"unknown key\(s\) prompt", id="unknown-top-key"),
        pytest.param(
            lambda d: d["classes"][0].update(name="Invoice!"),
            r"classes\[0\]\.name: required: lower_snake_case",
            id="bad-class-name",
        ),
    ],
)
def test_a_bad_configuration_names_the_file_class_and_path(tmp_path: Path, change: Any, message: str) -> None:
    path = write(tmp_path, broken(change))

    with pytest.raises(classes.ClassConfigError, match=message) as raised:
        classes.load(path)

    assert str(raised.value).startswith(str(path))


def test_yaml_syntax_errors_and_missing_files_are_config_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: [unclosed\n", encoding="utf-8")

    with pytest.raises(classes.ClassConfigError, match="not valid YAML"):
        classes.load(bad)
    with pytest.raises(classes.ClassConfigError, match="cannot read"):
        classes.load(tmp_path / "missing.yaml")


def test_the_environment_can_point_at_another_file_and_edits_are_picked_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = bundled()
    data["version"] = "team-a.1"
    path = write(tmp_path, data)
    monkeypatch.setenv(classes.CONFIG_ENV, str(path))

    assert classes.load().version == "team-a.1"

    data["version"] = "team-a.2"
    write(tmp_path, data)
    import os

    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert classes.load().version == "team-a.2"


def test_a_user_class_needs_no_code_change(tmp_path: Path) -> None:
    data = bundled()
    data["classes"].insert(
        0,
        {
            "name": "insurance_policy",
            "description": "An insurance policy schedule.",
            "domains": ["financial"],
            "schema": {
                "type": "object",
                "properties": {"policy_number": {"type": "string"}, "premium": {"type": "number"}},
            },
        },
    )
    config = classes.load(write(tmp_path, data))

    tool = classes.tool_config(config, "m")["tools"][0]["toolSpec"]

    assert tool["name"] == "record_insurance_policy"
    fields = tool["inputSchema"]["json"]["properties"]["fields"]["properties"]
    assert set(fields) == {"policy_number", "premium"}
    assert fields["premium"]["properties"]["value"] == {"type": "number"}
