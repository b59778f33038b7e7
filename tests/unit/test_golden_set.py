"""The hand-labelled golden set in golden/: every document has a well-formed label that the class schema accepts.

These tests guard the evaluation data, not the pipeline: a label that names no class, misspells a field, breaks the
schema (a date not in YYYY-MM-DD, a string where a number belongs), lacks its source or licence, or quotes a name
that is not in its document would make `docproc evaluate` score the pipeline against a wrong answer.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from docproc import classes
from docproc.formats import extract_text

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
DOCUMENTS = GOLDEN / "documents"
EXPECTED = GOLDEN / "expected"

MIN_DOCUMENTS = 34
MIN_NON_ENGLISH = 8
MIN_PER_CLASS = {"invoice": 5, "contract": 5}  # every other class: at least 2
MIN_OTHER_CLASSES = 2
DOMAINS = {"legal", "medical", "financial", "technical", "hr", "general"}
OWN_SOURCE = "written for docproc (Apache-2.0)"
# "<owner>/<repo> <path> @<40-hex commit> (realdocs/<file>)"; the path may contain spaces.
REAL_SOURCE = re.compile(
    r"^(?P<repo>[\w.-]+/[\w.-]+) (?P<path>.+) @(?P<commit>[0-9a-f]{40}) \(realdocs/(?P<file>[^)]+)\)$"
)
# Licences that allow redistribution in this repository (a third-party file must name one of these families).
REDISTRIBUTABLE = re.compile(r"^(MIT|BSD-\d-Clause|Apache-2\.0|CC-BY-(SA-)?\d\.\d|CC0-1\.0|Public-Domain|IETF-Trust)")
TOP_KEYS = {"file", "class", "domain", "language", "source", "license", "attribution", "fields", "notes", "match"}
REQUIRED_KEYS = {"file", "class", "domain", "language", "source", "license", "fields"}
FILE_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*\.[a-z0-9]+$")
# Values that are normalised or paraphrased, not copied from the document (see golden/README.md).
NOT_VERBATIM = {
    "purpose",
    "contract_type",
    "statement_type",
    "note_type",
    "topics",
    "patient_sex",
    "currency",
    "location",
    "degree",
    "start",
    "end",
    "form_year",
}
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def expected_files() -> list[Path]:
    return sorted(EXPECTED.glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.name}: top level must be an object"
    return data


@pytest.fixture(scope="module")
def labels() -> dict[str, dict[str, Any]]:
    return {path.name: load(path) for path in expected_files()}


def closed(schema: Any) -> Any:
    """The schema with ``additionalProperties: false`` on every object that lists properties: no unknown fields."""
    if isinstance(schema, dict):
        out = {key: closed(value) for key, value in schema.items()}
        if out.get("type") == "object" and "properties" in out:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [closed(value) for value in schema]
    return schema


def schema_errors(fields: Any, document_class: classes.DocumentClass) -> list[str]:
    validator = Draft202012Validator(closed(document_class.schema), format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path)) or '<fields>'}: {e.message}" for e in validator.iter_errors(fields)]


def string_leaves(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for name, item in value.items():
            yield from string_leaves(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from string_leaves(item, key)
    elif isinstance(value, str):
        yield key, value


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).casefold()


@cache
def document_text(name: str) -> str:
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    path = DOCUMENTS / name
    return squash(extract_text(path.read_bytes(), key=name).text)


# --- the helpers themselves can fail -----------------------------------------------------------------------------


def test_schema_check_rejects_bad_labels() -> None:
    # GIVEN the invoice class WHEN a label has a misspelt field, a non-ISO date and a string total THEN each is caught
    invoice = classes.load().get("invoice")
    errors = schema_errors({"invoice_no": "1", "issue_date": "01.03.2024", "total": "1.190,00"}, invoice)
    assert len(errors) == 3, errors
    assert any("invoice_no" in e for e in errors)
    assert any(e.startswith("issue_date") for e in errors)
    assert any(e.startswith("total") for e in errors)
    assert schema_errors({"line_items": [{"description": "x", "qty": 1}]}, invoice) != []
    assert schema_errors({"issue_date": "2024-03-01", "total": 1190.0, "currency": "EUR"}, invoice) == []


def test_source_pattern_parses_a_realdocs_reference() -> None:
    ref = "org/repo data/A B.txt @" + "0" * 40 + " (realdocs/a-b.txt)"
    match = REAL_SOURCE.match(ref)
    assert match is not None
    assert match["path"] == "data/A B.txt"
    assert match["file"] == "a-b.txt"
    assert REAL_SOURCE.match("org/repo path @abc (realdocs/x.txt)") is None
    assert REDISTRIBUTABLE.match("GPL-3.0") is None
    assert REDISTRIBUTABLE.match("unknown") is None


# --- the golden set ----------------------------------------------------------------------------------------------


def test_every_document_has_a_label_and_every_label_a_document() -> None:
    documents = {p.name for p in DOCUMENTS.iterdir() if p.is_file()}
    labelled = {p.name.removesuffix(".json") for p in expected_files()}
    assert documents - labelled == set(), "documents without golden/expected/<name>.json"
    assert labelled - documents == set(), "labels without a document in golden/documents/"
    assert {p.name for p in EXPECTED.iterdir()} == {p.name for p in expected_files()}, "non-JSON file in expected/"


def test_document_file_names_are_lower_case_with_hyphens() -> None:
    bad = [p.name for p in DOCUMENTS.iterdir() if not FILE_NAME.match(p.name)]
    assert bad == []


def test_size_classes_and_languages(labels: dict[str, dict[str, Any]]) -> None:
    assert len(labels) >= MIN_DOCUMENTS
    per_class = Counter(label["class"] for label in labels.values())
    config = classes.load()
    for name in config.names:
        assert per_class[name] >= MIN_PER_CLASS.get(name, MIN_OTHER_CLASSES), f"too few {name} documents: {per_class}"
    non_english = [name for name, label in labels.items() if label["language"] != "en"]
    assert len(non_english) >= MIN_NON_ENGLISH
    assert len({labels[name]["language"] for name in non_english}) >= 5, "non-English documents in too few languages"


@pytest.mark.parametrize("path", expected_files(), ids=lambda p: p.name)
def test_label_is_well_formed(path: Path) -> None:
    label = load(path)
    assert label.keys() >= REQUIRED_KEYS, f"missing {REQUIRED_KEYS - label.keys()}"
    assert label.keys() <= TOP_KEYS, f"unknown keys {label.keys() - TOP_KEYS}"
    assert label["file"] == path.name.removesuffix(".json")
    assert label["domain"] in DOMAINS
    assert re.fullmatch(r"[a-z]{2}", label["language"]), "language must be an ISO 639-1 code"
    for key in ("source", "license"):
        assert isinstance(label[key], str)
        assert label[key].strip()
    assert isinstance(label["fields"], dict)
    assert label["fields"], "a golden document with no fields tests nothing"
    assert isinstance(label.get("notes", ""), str)


@pytest.mark.parametrize("path", expected_files(), ids=lambda p: p.name)
def test_fields_validate_against_the_class_schema(path: Path) -> None:
    label = load(path)
    config = classes.load()
    assert label["class"] in config, f"class {label['class']!r} is not in {config.names}"
    assert schema_errors(label["fields"], config.get(label["class"])) == []
    for field_name, value in label["fields"].items():
        assert value not in ("", [], {}, None), f"{field_name}: an absent field is left out, not empty"


@pytest.mark.parametrize("path", expected_files(), ids=lambda p: p.name)
def test_third_party_documents_are_attributed_and_redistributable(path: Path) -> None:
    label = load(path)
    if label["source"] == OWN_SOURCE:
        assert label["license"] == "Apache-2.0"
        return
    match = REAL_SOURCE.match(label["source"])
    assert match, f"source must be {OWN_SOURCE!r} or '<repo> <path> @<commit> (realdocs/<file>)'"
    assert match["file"] == label["file"], "keep the realdocs file name"
    assert REDISTRIBUTABLE.match(label["license"]), f"licence {label['license']!r} not known to allow redistribution"
    assert match["repo"] in label.get("attribution", ""), "third-party documents need an attribution naming the repo"
    assert match["commit"] in label["attribution"]
    readme = (GOLDEN / "README.md").read_text(encoding="utf-8")
    assert label["file"] in readme, "every third-party document is listed in golden/README.md"


@pytest.mark.slow
@pytest.mark.parametrize("path", expected_files(), ids=lambda p: p.name)
def test_copied_values_occur_in_the_document_text(path: Path) -> None:
    # Names, numbers-as-text, identifiers, list items: copied from the document, so findable in the text the
    # pipeline reads (case and whitespace aside). Paraphrased or normalised fields are exempt.
    label = load(path)
    text = document_text(label["file"])
    missing = [
        f"{key}={value!r}"
        for key, value in string_leaves(label["fields"])
        if key not in NOT_VERBATIM and not ISO_DATE.match(value) and squash(value) not in text
    ]
    assert missing == []
