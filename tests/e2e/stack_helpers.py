"""Helpers for the end-to-end tests: schema validation, event collection, duplicate S3 events."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from docproc_local.client import StackClient

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = {
    "Document Processed": REPO / "schemas" / "document-processed.v2.json",
    "Document Processing Failed": REPO / "schemas" / "document-processing-failed.v1.json",
    "Document Needs Review": REPO / "schemas" / "document-needs-review.v1.json",
}


def validate_event(event: dict[str, Any]) -> None:
    """An EventBridge envelope from the subscriber queue: right source, detail valid against schemas/."""
    assert event["source"] == "docproc"
    schema = json.loads(SCHEMAS[event["detail-type"]].read_text())
    Draft202012Validator(schema).validate(event["detail"])


def collect_events(
    stack: StackClient, until: Callable[[list[dict[str, Any]]], bool], timeout: float = 60
) -> list[dict[str, Any]]:
    """Read the subscriber queue until ``until(events)`` holds or the deadline passes."""
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while not until(events) and time.monotonic() < deadline:
        events.extend(stack.receive_events(wait_seconds=1))
    return events


REVIEW = "Document Needs Review"


def events_for(events: list[dict[str, Any]], document_id: str, *, reviews: bool = False) -> list[dict[str, Any]]:
    """A document's result events (Processed / Failed), or with ``reviews`` its "Document Needs Review" events."""
    return [e for e in events if e["detail"]["documentId"] == document_id and (e["detail-type"] == REVIEW) is reviews]


def s3_event_body(stack: StackClient, key: str) -> str:
    """The EventBridge "Object Created" message S3 sends for the current version of ``key`` (for duplicates)."""
    bucket = stack.outputs["InputBucketName"]
    head = stack.client("s3").head_object(Bucket=bucket, Key=key)
    return json.dumps(
        {
            "version": "0",
            "id": "00000000-0000-0000-0000-000000000000",
            "detail-type": "Object Created",
            "source": "aws.s3",
            "account": "123456789012",
            "time": "2026-01-01T00:00:00Z",
            "region": stack.region,
            "resources": [f"arn:aws:s3:::{bucket}"],
            "detail": {
                "version": "0",
                "bucket": {"name": bucket},
                "object": {
                    "key": key,
                    "size": head["ContentLength"],
                    "etag": head["ETag"].strip('"'),
                    "version-id": head.get("VersionId"),
                },
                "reason": "PutObject",
            },
        }
    )


def executions_of(stack: StackClient, document_id: str) -> list[dict[str, Any]]:
    sfn = stack.client("stepfunctions")
    found = sfn.list_executions(stateMachineArn=stack.outputs["StateMachineArn"], maxResults=1000)["executions"]
    return [e for e in found if e["name"].startswith(document_id)]
