"""Experiments as configuration: validation errors, deterministic assignment, split ratios, the window."""

from __future__ import annotations

import copy
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from docproc import errors, experiments
from docproc.models import DocumentRef
from docproc.prepare import experiment_for

VALID: dict[str, Any] = {
    "version": "1",
    "prompts": {"terse": {"system_prompt_suffix": "Be brief."}},
    "experiments": [
        {
            "name": "ab",
            "active": True,
            "start": "2026-01-01T00:00:00Z",
            "end": "2027-01-01T00:00:00Z",
            "variants": [
                {"name": "control", "model_id": "anthropic.claude-3-haiku-20240307-v1:0", "weight": 70},
                {"name": "candidate", "model_id": "amazon.nova-micro-v1:0", "prompt_version": "terse", "weight": 30},
            ],
        }
    ],
}
INSIDE = datetime(2026, 6, 1, tzinfo=UTC)
IDS = [f"{i:032x}" for i in range(10_000)]


def config(**changes: Any) -> experiments.ExperimentConfig:
    data = copy.deepcopy(VALID)
    for key, value in changes.items():
        data["experiments"][0][key] = value
    return experiments.from_dict(data, source="exp.yaml", class_versions={"2026.12.1": Path("x.yaml")})


def test_the_shipped_file_is_valid_and_its_demo_inactive() -> None:
    shipped = experiments.load(experiments.DEFAULT_PATH)
    demo = shipped.get("demo")
    assert demo is not None
    assert not demo.active
    assert experiments.assign("any-id", when=INSIDE, activated="", config=shipped) is None
    assert experiments.assign("any-id", when=INSIDE, activated="demo", config=shipped) is not None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"variants": [{"name": "a", "model_id": "m", "weight": 60}, {"name": "b", "model_id": "n", "weight": 30}]},
            "experiments[ab]: variant weights add up to 90; they must add up to 1 or to 100",
        ),
        ({"end": "2025-01-01T00:00:00Z"}, "experiments[ab]: end must be after start"),
        ({"start": "2026-01-01T00:00:00"}, "experiments[ab].start: needs a time zone"),
        ({"variants": [{"name": "a", "model_id": "m", "weight": 1}]}, "experiments[ab].variants: List should have"),
        (
            {"variants": [{"name": "a", "model_id": "m", "weight": 50}, {"name": "a", "model_id": "n", "weight": 50}]},
            "variant names must be unique",
        ),
        (
            {
                "variants": [
                    {"name": "a", "model_id": "m", "weight": 50},
                    {"name": "b", "model_id": "n", "weight": 50, "temperature": 1.5},
                ]
            },
            "experiments[ab].variants[b].temperature: Input should be less than or equal to 1",
        ),
        (
            {
                "variants": [
                    {"name": "a", "model_id": "m", "weight": 50},
                    {"name": "b", "model_id": "n", "weight": 50, "prompt_version": "v9"},
                ]
            },
            "experiments[ab].variants[b].prompt_version: unknown prompt version 'v9'; defined: default, terse",
        ),
        (
            {
                "variants": [
                    {"name": "a", "model_id": "m", "weight": 50},
                    {"name": "b", "model_id": "n", "weight": 50, "class_config_version": "0.9"},
                ]
            },
            "experiments[ab].variants[b].class_config_version: no document_classes*.yaml with version '0.9'",
        ),
        ({"colour": "red"}, "experiments[ab].colour: Extra inputs are not permitted"),
    ],
)
def test_config_errors_name_the_file_experiment_and_key(change: dict[str, Any], message: str) -> None:
    with pytest.raises(experiments.ExperimentConfigError) as caught:
        config(**change)
    assert str(caught.value).startswith("exp.yaml: ")
    assert message in str(caught.value)


def test_two_active_experiments_and_bad_yaml_are_errors() -> None:
    data = copy.deepcopy(VALID)
    data["experiments"].append({**copy.deepcopy(data["experiments"][0]), "name": "other"})
    with pytest.raises(experiments.ExperimentConfigError, match="at most one experiment may be active"):
        experiments.from_dict(data, source="exp.yaml", class_versions={})
    with pytest.raises(experiments.ExperimentConfigError, match="not valid YAML"):
        experiments.parse("experiments: [", source="exp.yaml")


def test_weights_may_add_up_to_one() -> None:
    variants = [{"name": "a", "model_id": "m", "weight": 0.25}, {"name": "b", "model_id": "n", "weight": 0.75}]
    assert config(variants=variants).experiments[0].variants[1].weight == 0.75


def test_assignment_is_stable_and_follows_the_hash() -> None:
    cfg = config()
    first = [experiments.assign(i, when=INSIDE, activated="", config=cfg) for i in IDS[:200]]
    again = [experiments.assign(i, when=INSIDE, activated="", config=cfg) for i in IDS[:200]]
    assert first == again
    # the same document always lands in the same variant: pinned, so a change of the hash is noticed
    assert experiments.bucket("ab", "0" * 32) == pytest.approx(0.142309, abs=1e-6)
    assert [a.variant for a in first[:6] if a] == [cfg.experiments[0].variant_for(i).name for i in IDS[:6]]


def test_split_ratios_over_10000_documents() -> None:
    cfg = config()
    counts = Counter(experiments.assign(i, when=INSIDE, activated="", config=cfg).variant for i in IDS)  # type: ignore[union-attr]
    assert abs(counts["control"] / len(IDS) - 0.7) < 0.015
    assert abs(counts["candidate"] / len(IDS) - 0.3) < 0.015
    # and another experiment name splits the same documents independently
    other = config(name="other")
    moved = sum(1 for i in IDS if other.experiments[0].variant_for(i).name != cfg.experiments[0].variant_for(i).name)
    assert 0.3 < moved / len(IDS) < 0.5  # 2 * 0.7 * 0.3 = 0.42 expected for independent splits


def test_documents_outside_the_window_get_no_variant() -> None:
    cfg = config()
    assert experiments.assign("d", when=datetime(2025, 12, 31, 23, 59, tzinfo=UTC), activated="", config=cfg) is None
    assert experiments.assign("d", when=datetime(2027, 1, 1, tzinfo=UTC), activated="", config=cfg) is None
    assigned = experiments.assign("d", when=INSIDE, activated="", config=cfg)
    assert assigned is not None
    assert assigned.name == "ab"
    assert assigned.config_version == "1"


def test_active_experiment_parameter_activates_and_unknown_names_fail() -> None:
    cfg = config(active=False)
    assert experiments.assign("d", when=INSIDE, activated="", config=cfg) is None
    assert experiments.assign("d", when=INSIDE, activated="ab", config=cfg) is not None
    with pytest.raises(experiments.ExperimentConfigError, match="ActiveExperiment 'nope' is not an experiment"):
        experiments.assign("d", when=INSIDE, activated="nope", config=cfg)


def test_prepare_turns_a_broken_configuration_into_config_invalid(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broken = tmp_path / "experiments.yaml"
    broken.write_text("version: '1'\nexperiments: [{name: x}]\n", encoding="utf-8")
    monkeypatch.setenv(experiments.CONFIG_ENV, str(broken))
    document = DocumentRef(document_id="d" * 32, bucket="b", key="k")
    with pytest.raises(errors.ConfigurationInvalid, match="experiments\\[x\\]"):
        experiment_for(document, "")


def test_variant_prompt_and_model_override() -> None:
    cfg = config()
    candidate = next(
        a
        for i in IDS
        if (a := experiments.assign(i, when=INSIDE, activated="", config=cfg)) and a.variant == "candidate"
    )
    assert experiments.model_id(candidate, "stack-default") == "amazon.nova-micro-v1:0"
    assert experiments.model_id(None, "stack-default") == "stack-default"
    assert cfg.system_prompt("Base.", candidate.prompt_version) == "Base.\n\nBe brief."
    assert cfg.system_prompt("Base.", "default") == "Base."
