"""The failure path's decision: requeue through SQS with a delay, or end FAILED with a reason code.

* permanent error -> FAILED now, with the error's reason code; no retries wasted, nothing in the DLQ;
* transient error, attempts left -> back to the intake queue after ``base x 2^(attempt-1)`` seconds plus
  jitter (capped at SQS's 900 s), with the next attempt number;
* transient error, attempts used up -> FAILED (``RETRIES_EXHAUSTED``) and a reprocess request in the DLQ,
  which ``docproc redrive`` sends back.
"""

from __future__ import annotations

import json
import random
from datetime import datetime
from typing import Any, Literal

from docproc import errors, ids
from docproc.contract import DocumentProcessingFailed, FailedSource
from docproc.models import (
    DocumentRef,
    DocumentStatus,
    ErrorInfo,
    InsightRecord,
    StepError,
    WireModel,
    dump,
    dump_event,
    error_message,
    utcnow,
)
from docproc.records import to_item

MAX_SQS_DELAY = 900


class TriageInput(WireModel):
    document: DocumentRef
    generation: int
    attempt: int
    queued_at: datetime
    execution_name: str
    error: StepError


class TriageOutput(WireModel):
    action: Literal["REQUEUE", "FAIL"]
    reason_code: str
    message: str
    next_attempt: str | None = None
    delay_seconds: int | None = None
    dead_letter: bool = False
    item: dict[str, Any] | None = None
    event: dict[str, Any] | None = None


def retry_message(document: DocumentRef, generation: int, attempt: int) -> str:
    return json.dumps({"docproc": "retry", "document": dump(document), "generation": generation, "attempt": attempt})


def reprocess_message(document: DocumentRef, from_generation: int, reason_code: str) -> str:
    return json.dumps(
        {
            "docproc": "reprocess",
            "document": dump(document),
            "fromGeneration": from_generation,
            "reasonCode": reason_code,
        }
    )


def requeue_delay(attempt: int, base_seconds: int, rng: random.Random | None = None) -> int:
    rng = rng or random.Random()
    backoff = base_seconds * 2 ** (attempt - 1)
    return int(min(MAX_SQS_DELAY, backoff + rng.uniform(0, max(base_seconds, 1))))


def triage(
    data: TriageInput,
    *,
    max_attempts: int,
    base_delay_seconds: int,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> TriageOutput:
    now = now or utcnow()
    reason, retryable = errors.reason_for_error_name(data.error.Error)
    message = error_message(data.error)
    if retryable and data.attempt < max_attempts:
        return TriageOutput(
            action="REQUEUE",
            reason_code=reason,
            next_attempt=str(data.attempt + 1),
            delay_seconds=requeue_delay(data.attempt, base_delay_seconds, rng),
            message=retry_message(data.document, data.generation, data.attempt + 1),
        )

    final_reason = errors.ReasonCode.RETRIES_EXHAUSTED if retryable else reason
    if retryable:
        message = f"{data.attempt} attempt(s) failed; last error {data.error.Error} ({reason}): {message}"
    error = ErrorInfo(reason_code=final_reason, error_type=data.error.Error, message=message[:1000])
    record = InsightRecord(
        document_id=data.document.document_id,
        status=DocumentStatus.FAILED,
        generation=data.generation,
        attempt=data.attempt,
        execution_name=data.execution_name,
        source=data.document,
        error=error,
        queued_at=data.queued_at,
        completed_at=now,
        updated_at=now,
    )
    event = DocumentProcessingFailed(
        event_id=ids.event_id(data.document.document_id, data.generation, DocumentStatus.FAILED),
        document_id=data.document.document_id,
        generation=data.generation,
        source=FailedSource.model_validate(dump(data.document)),
        reason_code=final_reason,
        error_type=data.error.Error,
        message=error.message,
        attempts=data.attempt,
        dead_lettered=retryable,
        failed_at=now,
    )
    return TriageOutput(
        action="FAIL",
        reason_code=final_reason,
        dead_letter=retryable,
        message=reprocess_message(data.document, data.generation, final_reason),
        item=to_item(record),
        event=dump_event(event),
    )
