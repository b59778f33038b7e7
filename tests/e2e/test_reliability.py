"""Never lose a document, never process one twice: each failure path on the local stack from template.yaml."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from docproc_local.client import StackClient
from docproc_local.runtime import LocalRuntime

from stack_helpers import REPO, collect_events, events_for, executions_of, s3_event_body, validate_event

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

SAMPLE = REPO / "samples" / "cuad-aduro-consulting-agreement.txt"


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    """The stack with the content cache off: these tests send the same sample through the models again and again
    (faults, retries, redrive) and need every copy to reach them."""
    from conftest import E2E_PARAMETERS

    local = LocalRuntime(template=REPO / "template.yaml", parameters={**E2E_PARAMETERS, "CacheTtlDays": "0"})
    local.start()
    yield local
    local.stop()


def _fault(**kwargs: float) -> object:
    from docproc_local.standins.server import FaultConfig

    return FaultConfig(seed=11, **kwargs)


def test_duplicate_s3_events_collapse_into_one_execution_and_one_record(stack: StackClient) -> None:
    # GIVEN a document whose S3 event is delivered three times (twice more while the first is in flight)
    upload = stack.upload_file(SAMPLE, key="dup/agreement.txt")
    duplicate = s3_event_body(stack, "dup/agreement.txt")
    for _ in range(2):
        stack.client("sqs").send_message(QueueUrl=stack.outputs["IntakeQueueUrl"], MessageBody=duplicate)

    # WHEN the pipeline has finished
    (record,) = stack.wait_for([upload.document_id], timeout=120).values()

    # THEN one execution ran, one record exists, one completion event was published
    assert record["status"] == "COMPLETED"
    assert [e["name"] for e in executions_of(stack, upload.document_id)] == [f"{upload.document_id}-g1-a1"]
    events = collect_events(stack, lambda seen: bool(events_for(seen, upload.document_id)), timeout=30)
    events += collect_events(stack, lambda _: False, timeout=3)  # anything late would be a duplicate
    assert len(events_for(events, upload.document_id)) == 1

    # AND a late duplicate after completion changes nothing
    stack.client("sqs").send_message(QueueUrl=stack.outputs["IntakeQueueUrl"], MessageBody=duplicate)
    time.sleep(4)
    assert stack.record(upload.document_id) == record
    assert len(executions_of(stack, upload.document_id)) == 1


def test_throttling_is_retried_in_the_state_machine_then_succeeds(runtime: LocalRuntime, stack: StackClient) -> None:
    runtime.standins.set_faults("bedrock", _fault(throttle_rate=0.5))
    before = runtime.standins.stats()

    upload = stack.upload_file(SAMPLE, key="throttled/agreement.txt")
    (record,) = stack.wait_for([upload.document_id], timeout=300).values()

    assert record["status"] == "COMPLETED"
    assert record["partial"] is False
    assert runtime.standins.stats()["bedrock"]["throttled"] > before["bedrock"]["throttled"], "nothing was throttled"


def test_retries_exhausted_requeue_then_failed_and_dead_lettered_then_redrive(
    runtime: LocalRuntime, stack: StackClient
) -> None:
    # GIVEN Bedrock throttles every call
    runtime.standins.set_faults("bedrock", _fault(throttle_rate=1.0))

    # WHEN a document goes through its attempts (MaxAttempts=2 in these tests)
    upload = stack.upload_file(SAMPLE, key="exhausted/agreement.txt")
    (record,) = stack.wait_for([upload.document_id], timeout=400).values()

    # THEN it was requeued once through SQS, then ended FAILED with RETRIES_EXHAUSTED and a DLQ entry
    assert record["status"] == "FAILED"
    assert record["reasonCode"] == "RETRIES_EXHAUSTED"
    assert "ModelThrottled" in record["error"]["message"]
    assert record["attempt"] == 2
    assert sorted(e["name"][-5:] for e in executions_of(stack, upload.document_id)) == ["g1-a1", "g1-a2"]
    events = collect_events(stack, lambda seen: bool(events_for(seen, upload.document_id)))
    (failed,) = events_for(events, upload.document_id)
    validate_event(failed)
    assert failed["detail"]["deadLettered"] is True
    assert stack.queue_depth("DeadLetterQueueUrl") == 1

    # WHEN Bedrock recovers and an operator redrives the DLQ
    runtime.standins.set_faults("bedrock", _fault())
    assert stack.redrive() == 1

    # THEN the document is processed again as generation 2 and completes
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and (stack.record(upload.document_id) or {}).get("generation") != 2:
        time.sleep(0.5)
    (record,) = stack.wait_for([upload.document_id], timeout=180).values()
    assert (record["status"], record["generation"]) == ("COMPLETED", 2)
    assert stack.queue_depth("DeadLetterQueueUrl") == 0


def test_one_branch_failing_permanently_keeps_the_other(runtime: LocalRuntime, stack: StackClient) -> None:
    # GIVEN Bedrock answers with schema-invalid tool input every time (also after the repair round)
    runtime.standins.set_faults("bedrock", _fault(malformed_rate=1.0))

    upload = stack.upload_file(SAMPLE, key="partial/agreement.txt")
    (record,) = stack.wait_for([upload.document_id], timeout=180).values()

    # THEN the record is COMPLETED with the classification, and says extraction is missing and why
    assert record["status"] == "COMPLETED"
    assert record["partial"] is True
    assert record["classification"]["domain"] == "legal"
    assert "extraction" not in record
    (missing,) = record["missing"]
    assert (missing["part"], missing["reasonCode"]) == ("extraction", "MODEL_OUTPUT_INVALID")
    events = collect_events(stack, lambda seen: bool(events_for(seen, upload.document_id)))
    (event,) = events_for(events, upload.document_id)
    validate_event(event)
    assert event["detail"]["partial"] is True
    assert event["detail"]["documentClass"] is None


def test_crashes_after_side_effects_are_retried_without_duplicates(runtime: LocalRuntime, stack: StackClient) -> None:
    # GIVEN the prepare and merge functions crash after doing their work half of the time
    runtime.cloud.set_crash_rate("PrepareFunction", 0.5, seed=5)
    runtime.cloud.set_crash_rate("MergeFunction", 0.5, seed=6)

    uploads = [stack.upload_file(SAMPLE, key=f"crash/{i}.txt") for i in range(4)]
    records = stack.wait_for([u.document_id for u in uploads], timeout=300)

    assert [records[u.document_id]["status"] for u in uploads] == ["COMPLETED"] * 4
    crashes = sum(s.get("crashes", 0) for s in runtime.cloud.lambda_stats().values())
    assert crashes > 0, "no crash was injected"
    events = collect_events(stack, lambda seen: all(events_for(seen, u.document_id) for u in uploads))
    assert sorted(len(events_for(events, u.document_id)) for u in uploads) == [1, 1, 1, 1]


def test_ingest_crash_is_redelivered_by_sqs_and_starts_exactly_one_execution(
    runtime: LocalRuntime, stack: StackClient
) -> None:
    # GIVEN the ingest function crashes after starting the execution (its batch is not deleted)
    runtime.cloud.set_crash_rate("IngestFunction", 1.0, seed=1)
    upload = stack.upload_file(SAMPLE, key="ingest-crash/agreement.txt")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not executions_of(stack, upload.document_id):
        time.sleep(0.2)
    runtime.cloud.set_crash_rate("IngestFunction", 0.0)

    # WHEN SQS redelivers the message after the visibility timeout
    (record,) = stack.wait_for([upload.document_id], timeout=120).values()
    time.sleep(12)  # past the 10 s visibility timeout: the redelivery has been handled by now

    # THEN the document completed once
    assert record["status"] == "COMPLETED"
    assert len(executions_of(stack, upload.document_id)) == 1
    assert runtime.cloud.lambda_stats()["IngestFunction"]["crashes"] >= 1
    assert stack.queue_depth("IntakeQueueUrl") == 0


def test_reprocess_is_explicit_and_makes_a_new_generation(stack: StackClient) -> None:
    upload = stack.upload_file(SAMPLE, key="again/agreement.txt")
    (first,) = stack.wait_for([upload.document_id], timeout=120).values()
    assert (first["status"], first["generation"]) == ("COMPLETED", 1)

    assert stack.reprocess("again/agreement.txt") == upload.document_id
    deadline = time.monotonic() + 120
    record = first
    while time.monotonic() < deadline and not (record["generation"] == 2 and record["status"] == "COMPLETED"):
        time.sleep(0.5)
        record = stack.record(upload.document_id) or record

    assert (record["status"], record["generation"]) == ("COMPLETED", 2)
    events = collect_events(stack, lambda seen: len(events_for(seen, upload.document_id)) >= 2)
    assert sorted(e["detail"]["generation"] for e in events_for(events, upload.document_id)) == [1, 2]
    assert len({e["detail"]["eventId"] for e in events_for(events, upload.document_id)}) == 2


def test_an_aborted_execution_is_taken_over_automatically(runtime: LocalRuntime, stack: StackClient) -> None:
    # GIVEN a document whose first execution is in flight (Bedrock answers slowly)
    runtime.standins.set_faults("bedrock", _fault(latency_ms=3000))
    upload = stack.upload_file(SAMPLE, key="aborted/agreement.txt")
    first = f"{upload.document_id}-g1-a1"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (stack.record(upload.document_id) or {}).get("status") != "PROCESSING":
        time.sleep(0.2)

    # WHEN an operator (or a timeout) stops that execution
    arn = stack.outputs["StateMachineArn"].replace(":stateMachine:", ":execution:") + ":" + first
    stack.client("stepfunctions").stop_execution(executionArn=arn, error="Operator", cause="testing")
    runtime.standins.set_faults("bedrock", _fault())

    # THEN the status-change event brings it back through ingest, and attempt 2 completes it
    record = stack.record(upload.document_id) or {}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (record.get("status") == "COMPLETED" and record.get("attempt") == 2):
        time.sleep(0.5)
        record = stack.record(upload.document_id) or {}
    assert (record["status"], record["attempt"]) == ("COMPLETED", 2)
    assert sorted(e["name"] for e in executions_of(stack, upload.document_id)) == [first, first[:-1] + "2"]
