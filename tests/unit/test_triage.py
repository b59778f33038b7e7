"""The failure path's decision: requeue with a growing delay, or FAILED with a reason code (and the DLQ)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import boto3
import pytest
from jsonschema import Draft202012Validator

from docproc.models import DocumentRef, dump
from docproc.records import from_item
from docproc.triage import MAX_SQS_DELAY, TriageInput, TriageOutput, requeue_delay, triage

from helpers import DOCUMENT_ID, create_results_table, document_ref, load_schema, triage_input

NOW = datetime(2026, 1, 15, 10, 25, tzinfo=UTC)
MAX_ATTEMPTS = 3
BASE_DELAY = 30


@pytest.fixture(scope="module")
def failed_schema() -> Draft202012Validator:
    return Draft202012Validator(
        load_schema("document-processing-failed.v1.json"), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def decide(event: dict, *, seed: int = 7) -> TriageOutput:
    return triage(
        TriageInput.model_validate(event),
        max_attempts=MAX_ATTEMPTS,
        base_delay_seconds=BASE_DELAY,
        now=NOW,
        rng=random.Random(seed),
    )


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ("CorruptDocument", "CORRUPT_DOCUMENT"),
        ("UnsupportedDocumentType", "UNSUPPORTED_TYPE"),
        ("DocumentTooLarge", "DOCUMENT_TOO_LARGE"),
        ("SourceObjectNotFound", "SOURCE_NOT_FOUND"),
        ("ModelOutputInvalid", "MODEL_OUTPUT_INVALID"),
    ],
)
def test_permanent_error_fails_at_once_with_its_reason(
    error: str, reason: str, failed_schema: Draft202012Validator
) -> None:
    # GIVEN a permanent error on the first attempt (attempts are left, but retrying cannot help)
    decision = decide(triage_input(error))

    assert decision.action == "FAIL"
    assert decision.reason_code == reason
    assert decision.dead_letter is False
    assert decision.next_attempt is None

    # THEN the record says FAILED and why
    assert decision.item is not None
    record = from_item(decision.item)
    assert record["documentId"] == DOCUMENT_ID
    assert record["status"] == "FAILED"
    assert record["reasonCode"] == reason
    assert record["error"]["errorType"] == error
    assert record["error"]["message"] == "it failed"
    assert record["executionName"] == f"{DOCUMENT_ID}-g1-a1"  # PersistFailure's condition and later writes need it
    assert record["source"]["key"] == "incoming/invoice2data-aws.pdf"
    assert record["completedAt"] == NOW.isoformat().replace("+00:00", "Z")

    # AND the event is valid against the published schema
    assert decision.event is not None
    failed_schema.validate(decision.event)
    assert decision.event["reasonCode"] == reason
    assert decision.event["errorType"] == error
    assert decision.event["deadLettered"] is False
    assert decision.event["attempts"] == 1
    assert decision.event["eventId"] == f"{DOCUMENT_ID}:1:FAILED"


def test_transient_error_with_attempts_left_is_requeued_as_a_retry_command() -> None:
    decision = decide(triage_input("ModelThrottled", generation=2, attempt=1))

    assert decision.action == "REQUEUE"
    assert decision.next_attempt == "2"  # a string: MarkRequeued passes it to DynamoDB as "N.$"
    assert decision.item is None
    assert decision.event is None
    assert decision.dead_letter is False
    assert BASE_DELAY <= decision.delay_seconds <= 2 * BASE_DELAY
    command = json.loads(decision.message)
    assert command["docproc"] == "retry"
    assert (command["generation"], command["attempt"]) == (2, 2)
    assert DocumentRef.model_validate(command["document"]) == DocumentRef.model_validate(document_ref())


def test_requeue_output_has_the_fields_the_state_machine_reads() -> None:
    wire = dump(decide(triage_input("ModelUnavailable", attempt=2)))

    assert wire["action"] == "REQUEUE"
    assert wire["nextAttempt"] == "3"
    assert isinstance(wire["delaySeconds"], int)
    assert isinstance(wire["message"], str)
    assert isinstance(wire["reasonCode"], str)


@pytest.mark.parametrize("seed", [0, 1, 42])
def test_requeue_delay_grows_with_the_attempt_and_stays_within_sqs_limits(seed: int) -> None:
    delays = [requeue_delay(attempt, BASE_DELAY, random.Random(seed)) for attempt in range(1, 12)]

    assert all(0 <= d <= MAX_SQS_DELAY == 900 for d in delays)
    assert delays[:5] == sorted(delays[:5])
    assert len(set(delays[:5])) == 5  # strictly growing until the cap
    assert delays[-1] == MAX_SQS_DELAY


def test_requeue_delay_has_jitter() -> None:
    delays = {requeue_delay(1, BASE_DELAY, random.Random(seed)) for seed in range(20)}

    assert len(delays) > 1
    assert all(BASE_DELAY <= d <= 2 * BASE_DELAY for d in delays)


def test_transient_error_at_the_last_attempt_fails_and_dead_letters(failed_schema: Draft202012Validator) -> None:
    decision = decide(triage_input("ModelThrottled", generation=2, attempt=MAX_ATTEMPTS))

    assert decision.action == "FAIL"
    assert decision.reason_code == "RETRIES_EXHAUSTED"
    assert decision.dead_letter is True
    command = json.loads(decision.message)
    assert command["docproc"] == "reprocess"
    assert command["fromGeneration"] == 2
    assert command["reasonCode"] == "RETRIES_EXHAUSTED"
    assert DocumentRef.model_validate(command["document"]) == DocumentRef.model_validate(document_ref())
    record = from_item(decision.item or {})
    assert record["status"] == "FAILED"
    assert record["reasonCode"] == "RETRIES_EXHAUSTED"
    assert record["error"]["errorType"] == "ModelThrottled"
    assert f"{MAX_ATTEMPTS} attempt(s) failed" in record["error"]["message"]
    assert decision.event is not None
    failed_schema.validate(decision.event)
    assert decision.event["deadLettered"] is True
    assert decision.event["attempts"] == MAX_ATTEMPTS
    assert decision.event["generation"] == 2


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        ("States.Timeout", None),
        ("States.TaskFailed", "The task failed"),
        ("Runtime.ExitError", '{"errorType":"Runtime.ExitError","errorMessage":"RequestId: 1 Error: exit status 137"}'),
        ("Lambda.Unknown", "The cause could not be determined"),
        ("SomethingNew", ""),
    ],
)
def test_unknown_error_names_are_treated_as_transient(error: str, cause: str | None) -> None:
    event = triage_input(error)
    event["error"]["Cause"] = cause

    decision = decide(event)

    assert decision.action == "REQUEUE"
    assert decision.reason_code == "INTERNAL_ERROR"
    assert decision.next_attempt == "2"


def test_unknown_error_at_the_last_attempt_keeps_its_plain_text_cause() -> None:
    decision = decide(triage_input("States.Timeout", "Execution timed out after 900 s", attempt=MAX_ATTEMPTS))

    assert decision.action == "FAIL"
    assert decision.reason_code == "RETRIES_EXHAUSTED"
    record = from_item(decision.item or {})
    assert record["error"]["errorType"] == "States.Timeout"
    assert "Execution timed out after 900 s" in record["error"]["message"]


def test_failed_item_can_be_persisted_as_is_and_found_by_status(aws: None) -> None:
    # GIVEN the results table that template.yaml declares (PersistFailure puts the item unchanged)
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    table = create_results_table(dynamodb)
    decision = decide(triage_input("CorruptDocument"))
    assert decision.item is not None

    dynamodb.put_item(TableName=table, Item=decision.item)

    found = dynamodb.query(
        TableName=table,
        IndexName="StatusIndex",
        KeyConditionExpression="#s = :failed",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":failed": {"S": "FAILED"}},
    )["Items"]
    assert [i["documentId"]["S"] for i in found] == [DOCUMENT_ID]
