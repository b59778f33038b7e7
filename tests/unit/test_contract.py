"""The event contract: committed JSON Schemas are exactly what the pydantic models generate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from docproc import contract

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@pytest.mark.parametrize("name", sorted(contract.SCHEMA_FILES))
def test_committed_schema_matches_the_model(name: str) -> None:
    committed = (SCHEMAS / name).read_text()
    assert committed == contract.render(contract.SCHEMA_FILES[name]), (
        f"schemas/{name} is out of date: run `make schemas` and commit the result"
    )
    Draft202012Validator.check_schema(json.loads(committed))


def test_failed_event_requires_a_reason_code() -> None:
    schema = json.loads((SCHEMAS / "document-processing-failed.v1.json").read_text())
    event = {
        "schemaVersion": "1.0",
        "eventId": "x:1:FAILED",
        "documentId": "x",
        "generation": 1,
        "status": "FAILED",
        "source": {"bucket": "b", "key": "k"},
        "reasonCode": "CORRUPT_DOCUMENT",
        "errorType": "CorruptDocument",
        "message": "zip without central directory",
        "attempts": 1,
        "deadLettered": False,
        "failedAt": "2026-01-01T00:00:00Z",
    }
    Draft202012Validator(schema).validate(event)
    missing_reason = {k: v for k, v in event.items() if k != "reasonCode"}
    assert list(Draft202012Validator(schema).iter_errors(missing_reason))
