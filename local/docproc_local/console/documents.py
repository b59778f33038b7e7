"""One document for the document page: its record, extracted text, and history (executions and their events).

The history comes from Step Functions, not from a log of the console's own: execution names are deterministic
(``<documentId>-g<generation>-a<attempt>``), so each attempt of each generation is one ``DescribeExecution``
away, and the events an execution published are the ``events:putEvents`` tasks in its history.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from docproc import ids
from docproc_local.client import StackClient

MAX_TEXT_BYTES = 1_000_000  # the page shows at most this much of the extracted text
MAX_ATTEMPTS_PROBED = 10


@dataclass
class Execution:
    name: str
    generation: int
    attempt: int
    status: str
    started: str
    stopped: str
    states: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)  # {detailType, eventId, status, published}
    error: str = ""


def read_text(client: StackClient, record: Mapping[str, Any]) -> tuple[str | None, bool]:
    """The extracted text of the record (``textUri`` in the artifacts bucket) and whether it was cut."""
    uri = str(record.get("textUri") or "")
    if not uri.startswith("s3://"):
        return None, False
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        response = client.client("s3").get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{MAX_TEXT_BYTES - 1}")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "AccessDenied"):
            return None, False
        raise
    data = response["Body"].read()
    total = int(str(response.get("ContentRange", "")).rpartition("/")[2] or len(data) or 0)
    return data.decode("utf-8", errors="replace"), total > len(data)


def _execution_arn(state_machine_arn: str, name: str) -> str:
    prefix, _, machine = state_machine_arn.rpartition(":stateMachine:")
    return f"{prefix}:execution:{machine}:{name}"


def history(client: StackClient, record: Mapping[str, Any]) -> list[Execution]:
    """Every execution of every generation of the document, oldest first, with the events each published."""
    machine = client.outputs.get("StateMachineArn")
    if not machine:
        return []
    sfn = client.client("stepfunctions")
    doc_id = str(record["documentId"])
    current_generation = int(record.get("generation") or 1)
    out: list[Execution] = []
    for generation in range(1, current_generation + 1):
        for attempt in range(1, MAX_ATTEMPTS_PROBED + 1):
            name = ids.execution_name(doc_id, generation, attempt)
            arn = _execution_arn(machine, name)
            try:
                described = sfn.describe_execution(executionArn=arn)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "ExecutionDoesNotExist":
                    break
                raise
            execution = Execution(
                name=name,
                generation=generation,
                attempt=attempt,
                status=described.get("status", ""),
                started=str(described.get("startDate", ""))[:23],
                stopped=str(described.get("stopDate", "") or "")[:23],
                error=str(described.get("error") or ""),
            )
            _read_history(sfn, arn, execution)
            out.append(execution)
    return out


def _read_history(sfn: Any, arn: str, execution: Execution) -> None:
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(
        executionArn=arn, PaginationConfig={"PageSize": 500}
    ):
        events.extend(page.get("events", []))
    pending: list[dict[str, Any]] = []
    for event in events:
        kind = event.get("type", "")
        if kind.endswith("StateEntered"):
            execution.states.append(str(event.get("stateEnteredEventDetails", {}).get("name", "")))
        elif kind == "TaskScheduled":
            details = event.get("taskScheduledEventDetails", {})
            if details.get("resource") == "putEvents":
                pending.extend(_published(details.get("parameters", "")))
        elif kind in ("TaskSucceeded", "TaskFailed") and pending:
            details = event.get("taskSucceededEventDetails") or event.get("taskFailedEventDetails") or {}
            if details.get("resource") == "putEvents":
                for published in pending:
                    published["published"] = kind == "TaskSucceeded"
                execution.events.extend(pending)
                pending = []
    execution.events.extend(pending)  # scheduled, never answered (the execution stopped)


def _published(parameters: str) -> list[dict[str, Any]]:
    try:
        entries = json.loads(parameters).get("Entries", [])
    except (ValueError, AttributeError):
        return []
    out = []
    for entry in entries:
        detail = entry.get("Detail")
        if isinstance(detail, str):
            try:
                detail = json.loads(detail)
            except ValueError:
                detail = {}
        detail = detail if isinstance(detail, dict) else {}
        out.append(
            {
                "detailType": entry.get("DetailType", ""),
                "eventId": detail.get("eventId", ""),
                "status": detail.get("status", ""),
                "reasonCode": detail.get("reasonCode", ""),
                "published": False,
            }
        )
    return out
