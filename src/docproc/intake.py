"""Step 0 (ingest): turn an intake message into at most one execution per document attempt.

Messages on the intake queue are one of:

* an S3 ``Object Created`` event delivered by EventBridge (or a classic S3 notification with ``Records``);
* ``{"docproc": "retry", "document", "generation", "attempt"}``: the state machine's delayed requeue;
* ``{"docproc": "reprocess", "document", "fromGeneration"}``: deliberate re-processing (``docproc
  reprocess``, ``docproc redrive``), which starts generation ``fromGeneration + 1``.

Duplicates collapse on three levels: the record's conditional writes decide whether this message is the
current (generation, attempt) of its document; the execution name is deterministic, so StartExecution for
a duplicate returns the running execution or ``ExecutionAlreadyExists``; and an in-flight lease is held by
execution name, so a redelivered message reuses its slot.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

from docproc import ids
from docproc.leases import LeasePool
from docproc.models import DocumentRef, DocumentStatus, PipelineInput, dump, utcnow
from docproc.records import from_item

ACTIVE = (DocumentStatus.QUEUED.value, DocumentStatus.PROCESSING.value)
DEFER_SECONDS = (5, 20)


class InvalidIntakeMessage(Exception):
    """The message is not something docproc can act on (poison): it fails and ends in the DLQ."""


class Outcome(StrEnum):
    STARTED = "STARTED"  # a new execution is running
    DUPLICATE = "DUPLICATE"  # this (generation, attempt) is already running or finished
    STALE = "STALE"  # the document has moved on (later attempt or generation)
    DEFERRED = "DEFERRED"  # no in-flight slot free: re-sent with a delay
    IGNORED = "IGNORED"  # not for us: outside the input prefix, or an S3 test event


@dataclass(frozen=True)
class IntakeMessage:
    kind: Literal["s3", "retry", "reprocess"]
    document: DocumentRef
    generation: int = 1
    attempt: int = 1


def parse_intake_message(body: str) -> list[IntakeMessage]:
    """All documents named by one message body (a classic S3 notification may carry several)."""
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise InvalidIntakeMessage(f"message body is not JSON ({len(body)} chars)") from exc
    if not isinstance(payload, dict):
        raise InvalidIntakeMessage("message body is not a JSON object")
    command = payload.get("docproc")
    if command in ("retry", "reprocess"):
        try:
            document = DocumentRef.model_validate(payload["document"])
            if command == "retry":
                return [IntakeMessage("retry", document, int(payload["generation"]), int(payload["attempt"]))]
            return [IntakeMessage("reprocess", document, int(payload["fromGeneration"]) + 1, 1)]
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidIntakeMessage(f"malformed docproc {command} message: {exc}") from exc
    if payload.get("source") == "aws.s3" and payload.get("detail-type") == "Object Created":
        detail = payload.get("detail") or {}
        obj = detail.get("object") or {}
        return [
            _s3_message(
                detail.get("bucket", {}).get("name"),
                obj.get("key"),
                obj.get("version-id"),
                obj.get("etag"),
                obj.get("size"),
                payload.get("time"),
            )
        ]
    if isinstance(payload.get("Records"), list):
        out = []
        for record in payload["Records"]:
            s3 = record.get("s3") or {}
            obj = s3.get("object") or {}
            if not str(record.get("eventName", "")).startswith("ObjectCreated"):
                continue
            out.append(
                _s3_message(
                    s3.get("bucket", {}).get("name"),
                    obj.get("key"),
                    obj.get("versionId"),
                    obj.get("eTag"),
                    obj.get("size"),
                    record.get("eventTime"),
                )
            )
        return out
    if payload.get("Event") == "s3:TestEvent":
        return []
    raise InvalidIntakeMessage(
        f"unrecognised message (keys: {', '.join(sorted(payload)[:8])}); expected an S3 Object Created event "
        "or a docproc retry/reprocess command"
    )


def _s3_message(bucket: Any, raw_key: Any, version_id: Any, etag: Any, size: Any, when: Any) -> IntakeMessage:
    if not bucket or not raw_key:
        raise InvalidIntakeMessage("S3 event without bucket name or object key")
    key = unquote_plus(str(raw_key))  # S3 URL-encodes keys in notifications
    etag = str(etag).strip('"') if etag else None
    version = str(version_id) if version_id else None
    try:
        doc_id = ids.document_id(str(bucket), key, version, etag)
    except ValueError as exc:
        raise InvalidIntakeMessage(str(exc)) from exc
    return IntakeMessage(
        "s3",
        DocumentRef(
            document_id=doc_id,
            bucket=str(bucket),
            key=key,
            version_id=version,
            etag=etag,
            size=int(size) if size is not None else None,
            event_time=datetime.fromisoformat(str(when).replace("Z", "+00:00")) if when else None,
        ),
    )


class Ingestor:
    def __init__(
        self,
        *,
        dynamodb: Any,
        sfn: Any,
        sqs: Any,
        results_table: str,
        state_machine_arn: str,
        intake_queue_url: str,
        leases: LeasePool,
        input_prefix: str = "",
        rng: random.Random | None = None,
    ) -> None:
        self._ddb = dynamodb
        self._sfn = sfn
        self._sqs = sqs
        self._table = results_table
        self._state_machine_arn = state_machine_arn
        self._queue_url = intake_queue_url
        self._leases = leases
        self._prefix = input_prefix
        self._rng = rng or random.Random()

    def ingest(self, message: IntakeMessage, raw_body: str) -> Outcome:
        doc = message.document
        if message.kind == "s3" and not doc.key.startswith(self._prefix):
            return Outcome.IGNORED
        record, outcome = self._claim_record(message)
        if outcome is not None:
            return outcome
        name = ids.execution_name(doc.document_id, message.generation, message.attempt)
        acquired = self._leases.acquire(name)
        if acquired is None:
            self._defer(raw_body)
            return Outcome.DEFERRED
        lease, reused = acquired
        pipeline_input = PipelineInput(
            document=doc,
            generation=message.generation,
            attempt=message.attempt,
            queued_at=datetime.fromisoformat(record["queuedAt"]),
            lease=lease,
        )
        try:
            self._sfn.start_execution(
                stateMachineArn=self._state_machine_arn, name=name, input=json.dumps(dump(pipeline_input))
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ExecutionAlreadyExists":
                if not reused:
                    self._leases.release(lease, name)
                raise
            if not reused and not self._is_running(name):
                self._leases.release(lease, name)
            return Outcome.DUPLICATE
        return Outcome.STARTED

    def _claim_record(self, message: IntakeMessage) -> tuple[dict[str, Any], Outcome | None]:
        """The record for this message if it is the document's current (generation, attempt), else why not."""
        doc = message.document
        now = utcnow().isoformat()
        if message.kind == "s3":
            item = {
                "documentId": {"S": doc.document_id},
                "status": {"S": DocumentStatus.QUEUED.value},
                "generation": {"N": "1"},
                "attempt": {"N": "1"},
                "source": {"M": {k: _attr(v) for k, v in dump(doc).items()}},
                "queuedAt": {"S": now},
                "updatedAt": {"S": now},
            }
            try:
                self._ddb.put_item(
                    TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(documentId)"
                )
                return from_item(item), None
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
        elif message.kind == "reprocess":
            try:
                response = self._ddb.update_item(
                    TableName=self._table,
                    Key={"documentId": {"S": doc.document_id}},
                    UpdateExpression="SET #s = :queued, generation = :next, attempt = :one, queuedAt = :now, "
                    "updatedAt = :now REMOVE executionName, reasonCode, #e",
                    ConditionExpression="attribute_not_exists(documentId) OR "
                    "(generation = :from AND NOT #s IN (:queued, :processing))",
                    ExpressionAttributeNames={"#s": "status", "#e": "error"},
                    ExpressionAttributeValues={
                        ":queued": {"S": "QUEUED"},
                        ":processing": {"S": "PROCESSING"},
                        ":next": {"N": str(message.generation)},
                        ":from": {"N": str(message.generation - 1)},
                        ":one": {"N": "1"},
                        ":now": {"S": now},
                    },
                    ReturnValues="ALL_NEW",
                )
                return from_item(response["Attributes"]), None
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
        current = self._ddb.get_item(
            TableName=self._table, Key={"documentId": {"S": doc.document_id}}, ConsistentRead=True
        ).get("Item")
        if current is None:  # a retry for a record that is gone: treat as stale rather than resurrect it
            return {}, Outcome.STALE
        record = from_item(current)
        same = record.get("generation") == message.generation and record.get("attempt") == message.attempt
        if same and record.get("status") in ACTIVE:
            return record, None
        if same:
            return record, Outcome.DUPLICATE
        return record, Outcome.STALE

    def _defer(self, raw_body: str) -> None:
        """No slot free: put the same message back with a delay (does not count as a failed receive)."""
        self._sqs.send_message(
            QueueUrl=self._queue_url, MessageBody=raw_body, DelaySeconds=self._rng.randint(*DEFER_SECONDS)
        )

    def _is_running(self, name: str) -> bool:
        arn = self._state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + name
        try:
            return self._sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
        except ClientError:
            return False


def _attr(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": str(value)}
    return {"S": str(value)}
