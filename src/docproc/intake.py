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
from docproc.contract import EVENT_SOURCE
from docproc.contract import FAILED as FAILED_DETAIL_TYPE
from docproc.leases import LeasePool
from docproc.models import DocumentRef, DocumentStatus, LeaseRef, PipelineInput, StepError, dump, utcnow
from docproc.records import from_item
from docproc.triage import TriageInput, triage

ACTIVE = (DocumentStatus.QUEUED.value, DocumentStatus.PROCESSING.value)
EXECUTION_STATUS_CHANGE = "Step Functions Execution Status Change"
DEFER_SECONDS = (5, 20)


class InvalidIntakeMessage(Exception):
    """The message is not something docproc can act on (poison): it fails and ends in the DLQ."""


class Outcome(StrEnum):
    STARTED = "STARTED"  # a new execution is running
    DUPLICATE = "DUPLICATE"  # this (generation, attempt) is already running or finished
    STALE = "STALE"  # the document has moved on (later attempt or generation)
    DEFERRED = "DEFERRED"  # no in-flight slot free: re-sent with a delay
    IGNORED = "IGNORED"  # not for us: outside the input prefix, or an S3 test event
    TAKEN_OVER = "TAKEN_OVER"  # its execution died without finishing: the next attempt was started
    FAILED = "FAILED"  # its execution died without finishing and no attempts were left: ended FAILED here


@dataclass(frozen=True)
class IntakeMessage:
    kind: Literal["s3", "retry", "reprocess", "ended"]
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
    if payload.get("source") == "aws.states" and payload.get("detail-type") == EXECUTION_STATUS_CHANGE:
        detail = _mapping(payload.get("detail"), "detail")
        try:
            execution = PipelineInput.model_validate_json(str(detail["input"]))
        except (KeyError, ValueError) as exc:
            raise InvalidIntakeMessage(f"execution status event without a pipeline input: {exc}") from exc
        return [IntakeMessage("ended", execution.document, execution.generation, execution.attempt)]
    if payload.get("source") == "aws.s3" and payload.get("detail-type") == "Object Created":
        detail = _mapping(payload.get("detail"), "detail")
        obj = _mapping(detail.get("object"), "detail.object")
        bucket = _mapping(detail.get("bucket"), "detail.bucket").get("name")
        return [
            _s3_message(
                bucket, obj.get("key"), obj.get("version-id"), obj.get("etag"), obj.get("size"), payload.get("time")
            )
        ]
    if isinstance(payload.get("Records"), list):
        out = []
        for record in payload["Records"]:
            record = _mapping(record, "Records[]")
            if not str(record.get("eventName", "")).startswith("ObjectCreated"):
                continue
            s3 = _mapping(record.get("s3"), "Records[].s3")
            obj = _mapping(s3.get("object"), "Records[].s3.object")
            bucket = _mapping(s3.get("bucket"), "Records[].s3.bucket").get("name")
            out.append(
                _s3_message(
                    bucket,
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


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidIntakeMessage(f"malformed S3 event: {where} is {type(value).__name__}, not an object")
    return value


def _s3_message(bucket: Any, raw_key: Any, version_id: Any, etag: Any, size: Any, when: Any) -> IntakeMessage:
    if not isinstance(bucket, str) or not bucket or not isinstance(raw_key, str) or not raw_key:
        raise InvalidIntakeMessage("malformed S3 event: no bucket name or object key")
    key = unquote_plus(raw_key)  # S3 URL-encodes keys in notifications
    etag = str(etag).strip('"') if etag else None
    version = str(version_id) if version_id else None
    try:
        doc_id = ids.document_id(bucket, key, version, etag)
        size_bytes = int(size) if size is not None else None
        event_time = datetime.fromisoformat(str(when).replace("Z", "+00:00")) if when else None
    except (TypeError, ValueError) as exc:
        raise InvalidIntakeMessage(f"malformed S3 event for s3://{bucket}/{key}: {exc}") from exc
    return IntakeMessage(
        "s3",
        DocumentRef(
            document_id=doc_id,
            bucket=bucket,
            key=key,
            version_id=version,
            etag=etag,
            size=size_bytes,
            event_time=event_time,
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
        events: Any,
        event_bus_name: str,
        dead_letter_queue_url: str,
        input_prefix: str = "",
        max_attempts: int = 3,
        rng: random.Random | None = None,
    ) -> None:
        self._ddb = dynamodb
        self._sfn = sfn
        self._sqs = sqs
        self._table = results_table
        self._state_machine_arn = state_machine_arn
        self._queue_url = intake_queue_url
        self._events = events
        self._bus = event_bus_name
        self._dlq_url = dead_letter_queue_url
        self._leases = leases
        self._prefix = input_prefix
        self._max_attempts = max_attempts
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
        if reused and self._execution_status(name) is not None:
            return self._already_started(message, name, lease, reused, record)
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
            return self._already_started(message, name, lease, reused, record)
        return Outcome.STARTED

    def _already_started(
        self, message: IntakeMessage, name: str, lease: LeaseRef, reused: bool, record: dict[str, Any]
    ) -> Outcome:
        """An execution of this name exists: a duplicate, unless it died and left the record unfinished."""
        status = self._execution_status(name)
        if status in (None, "RUNNING"):
            return Outcome.DUPLICATE
        self._leases.release(lease, name)
        if record.get("status") in ACTIVE:  # closed, yet its (generation, attempt) never reached a terminal record
            return self._take_over(message, status, record)
        return Outcome.DUPLICATE

    def _take_over(self, message: IntakeMessage, status: str, record: dict[str, Any]) -> Outcome:
        """The execution ended (timed out, aborted, broke) without a terminal record: run the next attempt."""
        doc = message.document
        if message.attempt >= self._max_attempts:
            return self._fail_exhausted(message, status, record)
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key={"documentId": {"S": doc.document_id}},
                UpdateExpression="SET #s = :queued, attempt = :next, lastError = :why, updatedAt = :now "
                "REMOVE executionName",
                ConditionExpression="generation = :g AND attempt = :a AND #s IN (:queued, :processing)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":queued": {"S": "QUEUED"},
                    ":processing": {"S": "PROCESSING"},
                    ":g": {"N": str(message.generation)},
                    ":a": {"N": str(message.attempt)},
                    ":next": {"N": str(message.attempt + 1)},
                    ":why": {"S": f"EXECUTION_{status}"},
                    ":now": {"S": utcnow().isoformat()},
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return Outcome.STALE
            raise
        retry = IntakeMessage("retry", doc, message.generation, message.attempt + 1)
        self.ingest(
            retry,
            json.dumps(
                {"docproc": "retry", "document": dump(doc), "generation": retry.generation, "attempt": retry.attempt}
            ),
        )
        return Outcome.TAKEN_OVER

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
            started = self._start_generation(
                message, "attribute_not_exists(documentId) OR (generation = :from AND NOT #s IN (:queued, :processing))"
            )
            if started is not None:
                return started, None
        current = self._ddb.get_item(
            TableName=self._table, Key={"documentId": {"S": doc.document_id}}, ConsistentRead=True
        ).get("Item")
        if current is None:  # a retry for a record that is gone: treat as stale rather than resurrect it
            return {}, Outcome.STALE
        record = from_item(current)
        if message.kind == "reprocess" and record.get("generation") == message.generation - 1:
            # Still QUEUED/PROCESSING: allowed only if its execution died without finishing the record.
            name = ids.execution_name(doc.document_id, int(record["generation"]), int(record["attempt"]))
            if record.get("status") in ACTIVE and self._execution_status(name) not in (None, "RUNNING"):
                started = self._start_generation(
                    message,
                    "generation = :from AND attempt = :a AND #s = :was",
                    {":a": {"N": str(record["attempt"])}, ":was": {"S": str(record["status"])}},
                )
                if started is not None:
                    return started, None
        same = record.get("generation") == message.generation and record.get("attempt") == message.attempt
        if same and record.get("status") in ACTIVE:
            return record, None
        if same:
            return record, Outcome.DUPLICATE
        return record, Outcome.STALE

    def _start_generation(
        self, message: IntakeMessage, condition: str, extra_values: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """Move the record to ``message.generation``, attempt 1, QUEUED; None when ``condition`` does not hold."""
        update = (
            "SET #s = :queued, generation = :next, attempt = :one, queuedAt = :now, updatedAt = :now "
            "REMOVE executionName, reasonCode, #e"
        )
        values = {
            ":queued": {"S": "QUEUED"},
            ":processing": {"S": "PROCESSING"},
            ":next": {"N": str(message.generation)},
            ":from": {"N": str(message.generation - 1)},
            ":one": {"N": "1"},
            ":now": {"S": utcnow().isoformat()},
            **(extra_values or {}),
        }
        try:
            response = self._ddb.update_item(
                TableName=self._table,
                Key={"documentId": {"S": message.document.document_id}},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#s": "status", "#e": "error"},
                ExpressionAttributeValues={k: v for k, v in values.items() if k in update or k in condition},
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        return from_item(response["Attributes"])

    def _defer(self, raw_body: str) -> None:
        """No slot free: put the same message back with a delay (does not count as a failed receive)."""
        self._sqs.send_message(
            QueueUrl=self._queue_url, MessageBody=raw_body, DelaySeconds=self._rng.randint(*DEFER_SECONDS)
        )

    def _fail_exhausted(self, message: IntakeMessage, status: str, record: dict[str, Any]) -> Outcome:
        """No attempts left: the same FAILED record, event and DLQ entry the state machine's failure path writes."""
        name = ids.execution_name(message.document.document_id, message.generation, message.attempt)
        error_name = "States.Timeout" if status == "TIMED_OUT" else f"Execution{status.title().replace('_', '')}"
        decision = triage(
            TriageInput(
                document=message.document,
                generation=message.generation,
                attempt=message.attempt,
                queued_at=datetime.fromisoformat(record["queuedAt"]),
                execution_name=name,
                error=StepError(Error=error_name, Cause=f"execution {name} ended {status} without a record"),
            ),
            max_attempts=self._max_attempts,
            base_delay_seconds=0,
        )
        assert decision.item is not None
        assert decision.event is not None
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item=decision.item,
                ConditionExpression="generation = :g AND attempt = :a AND #s IN (:queued, :processing)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":g": {"N": str(message.generation)},
                    ":a": {"N": str(message.attempt)},
                    ":queued": {"S": "QUEUED"},
                    ":processing": {"S": "PROCESSING"},
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return Outcome.STALE
            raise
        self._events.put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": FAILED_DETAIL_TYPE,
                    "EventBusName": self._bus,
                    "Detail": json.dumps(decision.event),
                }
            ]
        )
        if decision.dead_letter:
            self._sqs.send_message(QueueUrl=self._dlq_url, MessageBody=decision.message)
        return Outcome.FAILED

    def _execution_status(self, name: str) -> str | None:
        arn = self._state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + name
        try:
            return str(self._sfn.describe_execution(executionArn=arn)["status"])
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ExecutionDoesNotExist":
                return None
            raise


def _attr(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": str(value)}
    return {"S": str(value)}
