"""Intake: messages -> at most one execution per (document, generation, attempt), on moto DynamoDB/SQS/Step Functions.

moto does not run the state machine (it stays RUNNING), which is what these tests want: they check what the
ingest step decides and writes, not the workflow.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from docproc import ids
from docproc.intake import Ingestor, InvalidIntakeMessage, Outcome, parse_intake_message
from docproc.leases import LeasePool
from docproc.models import DocumentRef, PipelineInput
from docproc.records import from_item
from docproc.triage import reprocess_message, retry_message

from helpers import create_lease_table, create_results_table, document_ref, load_event

REGION = "us-east-1"
PASS_STATE_MACHINE = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})


# --- parsing -------------------------------------------------------------------------------------------------------


def test_parses_an_eventbridge_object_created_event() -> None:
    body = json.dumps(load_event("s3_object_created"))

    (message,) = parse_intake_message(body)

    assert message.kind == "s3"
    assert (message.generation, message.attempt) == (1, 1)
    doc = message.document
    assert doc.bucket == "docproc-input"
    assert doc.key == "incoming/invoice2data-aws.pdf"
    assert doc.version_id == "IYV3p45BT0ac8hjHg1houSdS1a.Mc8cE"
    assert doc.etag == "b1946ac92492d2347c6235b4d2611184"
    assert doc.size == 154526
    assert doc.event_time is not None
    assert doc.event_time.isoformat() == "2026-01-15T10:21:07+00:00"
    assert doc.document_id == ids.document_id(doc.bucket, doc.key, doc.version_id, doc.etag)


def test_parses_a_classic_s3_notification_and_decodes_the_key() -> None:
    body = json.dumps(load_event("s3_notification_records"))

    (message,) = parse_intake_message(body)

    assert message.kind == "s3"
    assert message.document.key == "incoming/my file(1).pdf"  # from "my+file%281%29.pdf"
    assert message.document.version_id == "096fKKXTRTtl3on89fVO.nfljtsv6qko"
    assert message.document.etag == "d41d8cd98f00b204e9800998ecf8427e"
    assert message.document.document_id == ids.document_id(
        "docproc-input", "incoming/my file(1).pdf", "096fKKXTRTtl3on89fVO.nfljtsv6qko", None
    )


def test_a_classic_notification_may_name_several_objects_and_other_events_are_skipped() -> None:
    event = load_event("s3_notification_records")
    created = event["Records"][0]
    second = json.loads(json.dumps(created))
    second["s3"]["object"]["key"] = "incoming/second.pdf"
    removed = json.loads(json.dumps(created))
    removed["eventName"] = "ObjectRemoved:Delete"

    messages = parse_intake_message(json.dumps({"Records": [created, removed, second]}))

    assert [m.document.key for m in messages] == ["incoming/my file(1).pdf", "incoming/second.pdf"]


def test_the_s3_test_event_names_no_document() -> None:
    assert parse_intake_message(json.dumps(load_event("s3_test_event"))) == []


def test_triage_commands_round_trip_through_the_intake_parser() -> None:
    document = DocumentRef.model_validate(document_ref())

    (retry,) = parse_intake_message(retry_message(document, 2, 3))
    (reprocess,) = parse_intake_message(reprocess_message(document, 2, "RETRIES_EXHAUSTED"))

    assert (retry.kind, retry.generation, retry.attempt) == ("retry", 2, 3)
    assert (reprocess.kind, reprocess.generation, reprocess.attempt) == ("reprocess", 3, 1)
    assert retry.document == reprocess.document == document


def _eventbridge(**object_fields: Any) -> str:
    event = load_event("s3_object_created")
    event["detail"]["object"] = object_fields
    return json.dumps(event)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("not json at all", id="not-json"),
        pytest.param("", id="empty"),
        pytest.param("[1, 2]", id="json-list"),
        pytest.param('"a string"', id="json-string"),
        pytest.param(json.dumps({"hello": "world"}), id="unrecognised-object"),
        pytest.param(_eventbridge(etag="abc"), id="s3-event-without-key"),
        pytest.param(_eventbridge(key="incoming/a.pdf"), id="s3-event-without-version-or-etag"),
        pytest.param(
            json.dumps({"docproc": "retry", "document": document_ref(), "generation": 1}), id="retry-no-attempt"
        ),
        pytest.param(
            json.dumps({"docproc": "retry", "document": document_ref(), "generation": 1, "attempt": "two"}),
            id="retry-attempt-not-a-number",
        ),
        pytest.param(
            json.dumps({"docproc": "retry", "document": {"key": "k"}, "generation": 1, "attempt": 1}),
            id="retry-document-incomplete",
        ),
        pytest.param(json.dumps({"docproc": "reprocess", "document": document_ref()}), id="reprocess-no-generation"),
    ],
)
def test_poison_bodies_are_rejected(body: str) -> None:
    with pytest.raises(InvalidIntakeMessage):
        parse_intake_message(body)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            json.dumps(
                {"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": "b", "object": {"key": "k"}}}]}
            ),
            id="bucket-not-an-object",
        ),
        pytest.param(_eventbridge(key="incoming/a.pdf", etag="abc", size="big"), id="size-not-a-number"),
        pytest.param(
            json.dumps({"source": "aws.s3", "detail-type": "Object Created", "detail": "oops"}),
            id="detail-not-an-object",
        ),
    ],
)
def test_structurally_malformed_s3_events_are_poison(body: str) -> None:
    with pytest.raises(InvalidIntakeMessage):
        parse_intake_message(body)


# --- ingesting -----------------------------------------------------------------------------------------------------


class Clock:
    def __init__(self, now: float = 1_767_225_600.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Stack:
    """The AWS resources ingest touches, on moto, plus what it sent to the queue."""

    dynamodb: Any
    sfn: Any
    sqs: Any
    results_table: str
    lease_table: str
    state_machine_arn: str
    queue_url: str
    events: Any
    bus_name: str
    dlq_url: str
    subscriber_url: str
    clock: Clock = field(default_factory=Clock)
    sent: list[dict[str, Any]] = field(default_factory=list)

    def ingestor(self, *, max_in_flight: int = 5, input_prefix: str = "incoming/", max_attempts: int = 3) -> Ingestor:
        return Ingestor(
            dynamodb=self.dynamodb,
            sfn=self.sfn,
            sqs=self.sqs,
            results_table=self.results_table,
            state_machine_arn=self.state_machine_arn,
            intake_queue_url=self.queue_url,
            leases=self.leases(max_in_flight),
            events=self.events,
            event_bus_name=self.bus_name,
            dead_letter_queue_url=self.dlq_url,
            input_prefix=input_prefix,
            max_attempts=max_attempts,
            rng=random.Random(3),
        )

    def leases(self, size: int = 5) -> LeasePool:
        return LeasePool(dynamodb=self.dynamodb, table=self.lease_table, size=size, lease_seconds=960, clock=self.clock)

    def executions(self) -> list[dict[str, Any]]:
        return self.sfn.list_executions(stateMachineArn=self.state_machine_arn)["executions"]

    def execution_arn(self, name: str) -> str:
        return self.state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + name

    def execution_input(self, name: str) -> PipelineInput:
        execution = self.sfn.describe_execution(executionArn=self.execution_arn(name))
        return PipelineInput.model_validate_json(execution["input"])

    def records(self) -> list[dict[str, Any]]:
        return [from_item(i) for i in self.dynamodb.scan(TableName=self.results_table)["Items"]]

    def record(self, document_id: str) -> dict[str, Any]:
        item = self.dynamodb.get_item(TableName=self.results_table, Key={"documentId": {"S": document_id}})
        return from_item(item["Item"])

    def set_record(self, document_id: str, **values: Any) -> None:
        """Move the record on, as the state machine's MarkRequeued / PersistResult would."""
        names = {f"#{k}": k for k in values}
        attrs = {f":{k}": ({"N": str(v)} if isinstance(v, int) else {"S": v}) for k, v in values.items()}
        self.dynamodb.update_item(
            TableName=self.results_table,
            Key={"documentId": {"S": document_id}},
            UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in values),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=attrs,
        )


@pytest.fixture
def stack(aws: None) -> Stack:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    machine = sfn.create_state_machine(
        name="docproc-document-pipeline",
        definition=PASS_STATE_MACHINE,
        roleArn="arn:aws:iam::123456789012:role/docproc-pipeline",
    )
    events = boto3.client("events", region_name=REGION)
    bus_name = events.create_event_bus(Name="docproc-documents")["EventBusArn"].rsplit("/", 1)[-1]
    subscriber_url = sqs.create_queue(QueueName="docproc-subscriber")["QueueUrl"]
    subscriber_arn = sqs.get_queue_attributes(QueueUrl=subscriber_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name="all", EventBusName=bus_name, EventPattern=json.dumps({"source": ["docproc"]}))
    events.put_targets(Rule="all", EventBusName=bus_name, Targets=[{"Id": "q", "Arn": subscriber_arn}])
    created = Stack(
        dynamodb=dynamodb,
        sfn=sfn,
        sqs=sqs,
        results_table=create_results_table(dynamodb),
        lease_table=create_lease_table(dynamodb),
        state_machine_arn=machine["stateMachineArn"],
        queue_url=sqs.create_queue(QueueName="docproc-intake")["QueueUrl"],
        events=events,
        bus_name=bus_name,
        dlq_url=sqs.create_queue(QueueName="docproc-intake-dlq")["QueueUrl"],
        subscriber_url=subscriber_url,
    )

    def record_send(params: dict[str, Any], **_: Any) -> None:
        created.sent.append(dict(params))

    sqs.meta.events.register("provide-client-params.sqs.SendMessage", record_send)
    return created


def s3_body() -> str:
    return json.dumps(load_event("s3_object_created"))


def ingest(stack: Stack, body: str, **ingestor_options: Any) -> list[Outcome]:
    ingestor = stack.ingestor(**ingestor_options)
    return [ingestor.ingest(message, body) for message in parse_intake_message(body)]


def the_document() -> DocumentRef:
    (message,) = parse_intake_message(s3_body())
    return message.document


def test_first_delivery_records_queued_and_starts_one_execution(stack: Stack) -> None:
    doc = the_document()

    assert ingest(stack, s3_body()) == [Outcome.STARTED]

    # THEN one record, QUEUED for generation 1 attempt 1
    (record,) = stack.records()
    assert record["documentId"] == doc.document_id
    assert record["status"] == "QUEUED"
    assert (record["generation"], record["attempt"]) == (1, 1)
    assert record["source"]["key"] == "incoming/invoice2data-aws.pdf"
    assert record["source"]["versionId"] == doc.version_id
    assert record["queuedAt"]

    # AND one execution with the deterministic name and the document as input
    (execution,) = stack.executions()
    name = f"{doc.document_id}-g1-a1"
    assert execution["name"] == name
    started = stack.execution_input(name)
    assert started.document == doc
    assert (started.generation, started.attempt) == (1, 1)
    assert started.queued_at.isoformat() == record["queuedAt"]

    # AND users can find it through the status index that template.yaml declares
    queued = stack.dynamodb.query(
        TableName=stack.results_table,
        IndexName="StatusIndex",
        KeyConditionExpression="#s = :queued",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":queued": {"S": "QUEUED"}},
    )["Items"]
    assert [i["documentId"]["S"] for i in queued] == [doc.document_id]

    # AND the execution holds an in-flight lease under its name
    (lease,) = stack.dynamodb.scan(TableName=stack.lease_table)["Items"]
    assert lease["holder"]["S"] == name
    assert lease["slot"]["S"] == started.lease.slot


def test_redelivered_event_is_a_duplicate(stack: Stack) -> None:
    assert ingest(stack, s3_body()) == [Outcome.STARTED]
    stack.clock.now += 60  # SQS redelivers after the visibility timeout

    assert ingest(stack, s3_body()) == [Outcome.DUPLICATE]

    assert len(stack.executions()) == 1
    assert len(stack.records()) == 1
    assert stack.leases().in_use() == 1


def test_a_duplicate_event_in_the_same_second_still_starts_nothing_new(stack: Stack) -> None:
    ingest(stack, s3_body())

    ingest(stack, s3_body())

    assert len(stack.executions()) == 1
    assert len(stack.records()) == 1
    assert stack.leases().in_use() == 1


def test_a_duplicate_event_in_the_same_second_is_reported_as_duplicate(stack: Stack) -> None:
    ingest(stack, s3_body())

    assert ingest(stack, s3_body()) == [Outcome.DUPLICATE]


def test_retry_for_the_current_attempt_starts_it(stack: Stack) -> None:
    # GIVEN attempt 1 failed transiently and the state machine moved the record to attempt 2, QUEUED
    doc = the_document()
    ingest(stack, s3_body())
    stack.set_record(doc.document_id, status="QUEUED", attempt=2)

    # WHEN the delayed retry command arrives
    outcome = ingest(stack, retry_message(doc, 1, 2))

    # THEN attempt 2 runs under its own name
    assert outcome == [Outcome.STARTED]
    assert sorted(e["name"] for e in stack.executions()) == [f"{doc.document_id}-g1-a1", f"{doc.document_id}-g1-a2"]
    assert stack.execution_input(f"{doc.document_id}-g1-a2").attempt == 2


def test_retry_for_an_earlier_attempt_is_stale(stack: Stack) -> None:
    doc = the_document()
    ingest(stack, s3_body())
    stack.set_record(doc.document_id, status="QUEUED", attempt=2)

    assert ingest(stack, retry_message(doc, 1, 1)) == [Outcome.STALE]

    assert len(stack.executions()) == 1


def test_retry_for_a_record_that_is_gone_is_stale(stack: Stack) -> None:
    doc = the_document()

    assert ingest(stack, retry_message(doc, 1, 2)) == [Outcome.STALE]

    assert stack.executions() == []
    assert stack.records() == []


def test_event_for_a_completed_document_is_a_duplicate(stack: Stack) -> None:
    doc = the_document()
    ingest(stack, s3_body())
    stack.set_record(doc.document_id, status="COMPLETED")

    assert ingest(stack, s3_body()) == [Outcome.DUPLICATE]

    assert len(stack.executions()) == 1
    assert stack.record(doc.document_id)["status"] == "COMPLETED"


def test_reprocess_starts_the_next_generation_once(stack: Stack) -> None:
    # GIVEN generation 1 completed
    doc = the_document()
    ingest(stack, s3_body())
    stack.set_record(doc.document_id, status="COMPLETED")
    command = reprocess_message(doc, 1, "MANUAL")

    # WHEN it is reprocessed
    assert ingest(stack, command) == [Outcome.STARTED]

    # THEN generation 2 attempt 1 is QUEUED and running under its own name
    record = stack.record(doc.document_id)
    assert (record["status"], record["generation"], record["attempt"]) == ("QUEUED", 2, 1)
    assert sorted(e["name"] for e in stack.executions()) == [f"{doc.document_id}-g1-a1", f"{doc.document_id}-g2-a1"]

    # AND the same reprocess request again (redelivered) changes nothing
    stack.clock.now += 60
    assert ingest(stack, command) == [Outcome.DUPLICATE]
    assert len(stack.executions()) == 2
    assert stack.record(doc.document_id)["generation"] == 2


def test_reprocess_of_a_document_still_in_flight_is_stale(stack: Stack) -> None:
    doc = the_document()
    ingest(stack, s3_body())
    stack.set_record(doc.document_id, status="PROCESSING")

    assert ingest(stack, reprocess_message(doc, 1, "MANUAL")) == [Outcome.STALE]

    record = stack.record(doc.document_id)
    assert (record["status"], record["generation"]) == ("PROCESSING", 1)
    assert len(stack.executions()) == 1


def test_reprocess_of_a_document_whose_execution_died_starts_the_next_generation(stack: Stack) -> None:
    # GIVEN generation 1's execution was aborted (or timed out) after MarkProcessing, leaving the record PROCESSING
    doc = the_document()
    ingest(stack, s3_body())
    name = f"{doc.document_id}-g1-a1"
    stack.set_record(doc.document_id, status="PROCESSING", executionName=name)
    stack.sfn.stop_execution(executionArn=stack.execution_arn(name))

    # WHEN an operator reprocesses it
    outcome = ingest(stack, reprocess_message(doc, 1, "MANUAL"))

    # THEN generation 2 runs
    assert outcome == [Outcome.STARTED]
    assert stack.record(doc.document_id)["generation"] == 2


def test_full_pool_defers_the_message_with_a_delay(stack: Stack) -> None:
    # GIVEN every in-flight slot is taken
    stack.leases(size=1).acquire("someone-else")
    body = s3_body()

    # WHEN a new document arrives
    outcome = ingest(stack, body, max_in_flight=1)

    # THEN nothing starts and the same message goes back to the queue, delayed
    assert outcome == [Outcome.DEFERRED]
    assert stack.executions() == []
    (sent,) = stack.sent
    assert sent["QueueUrl"] == stack.queue_url
    assert sent["MessageBody"] == body
    assert 1 <= sent["DelaySeconds"] <= 900
    attributes = stack.sqs.get_queue_attributes(QueueUrl=stack.queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"
    assert stack.record(the_document().document_id)["status"] == "QUEUED"


def test_deferred_message_starts_once_a_slot_is_free(stack: Stack) -> None:
    pool = stack.leases(size=1)
    held = pool.acquire("someone-else")
    assert held is not None
    assert ingest(stack, s3_body(), max_in_flight=1) == [Outcome.DEFERRED]

    pool.release(held[0], "someone-else")

    assert ingest(stack, s3_body(), max_in_flight=1) == [Outcome.STARTED]
    assert len(stack.executions()) == 1


def test_key_outside_the_input_prefix_is_ignored(stack: Stack) -> None:
    event = load_event("s3_object_created")
    event["detail"]["object"]["key"] = "archive/invoice2data-aws.pdf"

    assert ingest(stack, json.dumps(event), input_prefix="incoming/") == [Outcome.IGNORED]

    assert stack.records() == []
    assert stack.executions() == []


def test_redelivery_after_the_execution_died_runs_the_next_attempt(stack: Stack) -> None:
    # GIVEN attempt 1's execution was aborted after it claimed the record
    doc = the_document()
    ingest(stack, s3_body())
    name = f"{doc.document_id}-g1-a1"
    stack.set_record(doc.document_id, status="PROCESSING", executionName=name)
    stack.sfn.stop_execution(executionArn=stack.execution_arn(name))

    # WHEN the same S3 event is delivered again
    outcome = ingest(stack, s3_body())

    # THEN the document is not stuck: attempt 2 runs, and the dead execution's lease is free again
    assert outcome == [Outcome.TAKEN_OVER]
    record = stack.record(doc.document_id)
    assert (record["status"], record["attempt"], record["lastError"]) == ("QUEUED", 2, "EXECUTION_ABORTED")
    assert sorted(e["name"] for e in stack.executions()) == [name, f"{doc.document_id}-g1-a2"]
    assert stack.leases().in_use() == 1


def test_takeover_without_attempts_left_ends_failed_with_event_and_dlq_entry(stack: Stack) -> None:
    # GIVEN the only attempt's execution was aborted
    doc = the_document()
    ingest(stack, s3_body(), max_attempts=1)
    name = f"{doc.document_id}-g1-a1"
    stack.sfn.stop_execution(executionArn=stack.execution_arn(name))

    # WHEN its message comes back
    outcome = ingest(stack, s3_body(), max_attempts=1)

    # THEN the document ends FAILED like the state machine's exhausted path: record, event, DLQ entry
    assert outcome == [Outcome.FAILED]
    record = stack.record(doc.document_id)
    assert (record["status"], record["reasonCode"], record["attempt"]) == ("FAILED", "RETRIES_EXHAUSTED", 1)
    assert "ABORTED" in record["error"]["message"]
    (message,) = stack.sqs.receive_message(QueueUrl=stack.subscriber_url, WaitTimeSeconds=1)["Messages"]
    event = json.loads(message["Body"])
    assert event["detail-type"] == "Document Processing Failed"
    assert (event["detail"]["reasonCode"], event["detail"]["deadLettered"]) == ("RETRIES_EXHAUSTED", True)
    (parked,) = stack.sqs.receive_message(QueueUrl=stack.dlq_url, WaitTimeSeconds=1)["Messages"]
    assert json.loads(parked["Body"])["docproc"] == "reprocess"
    assert len(stack.executions()) == 1


def execution_ended_body(stack: Stack, name: str, status: str) -> str:
    execution = stack.sfn.describe_execution(executionArn=stack.execution_arn(name))
    return json.dumps(
        {
            "version": "0",
            "id": "e1",
            "detail-type": "Step Functions Execution Status Change",
            "source": "aws.states",
            "detail": {
                "executionArn": stack.execution_arn(name),
                "stateMachineArn": stack.state_machine_arn,
                "name": name,
                "status": status,
                "input": execution["input"],
            },
        }
    )


def test_execution_status_event_takes_over_a_document_whose_execution_timed_out(stack: Stack) -> None:
    # GIVEN attempt 1 is PROCESSING and its execution ended abnormally
    doc = the_document()
    ingest(stack, s3_body())
    name = f"{doc.document_id}-g1-a1"
    stack.set_record(doc.document_id, status="PROCESSING", executionName=name)
    stack.sfn.stop_execution(executionArn=stack.execution_arn(name))

    # WHEN the ExecutionEndedRule delivers the status change to the intake queue
    body = execution_ended_body(stack, name, "TIMED_OUT")
    (message,) = parse_intake_message(body)
    outcome = stack.ingestor().ingest(message, body)

    # THEN attempt 2 runs
    assert (message.kind, message.attempt) == ("ended", 1)
    assert outcome == Outcome.TAKEN_OVER
    assert stack.record(doc.document_id)["attempt"] == 2
    assert f"{doc.document_id}-g1-a2" in [e["name"] for e in stack.executions()]


def test_execution_status_event_for_a_finished_document_changes_nothing(stack: Stack) -> None:
    doc = the_document()
    ingest(stack, s3_body())
    name = f"{doc.document_id}-g1-a1"
    stack.set_record(doc.document_id, status="COMPLETED", executionName=name)
    stack.sfn.stop_execution(executionArn=stack.execution_arn(name))

    body = execution_ended_body(stack, name, "FAILED")
    assert [stack.ingestor().ingest(m, body) for m in parse_intake_message(body)] == [Outcome.DUPLICATE]

    assert stack.record(doc.document_id)["status"] == "COMPLETED"
    assert len(stack.executions()) == 1


def test_execution_status_event_without_input_is_poison() -> None:
    body = json.dumps(
        {"source": "aws.states", "detail-type": "Step Functions Execution Status Change", "detail": {"name": "x"}}
    )
    with pytest.raises(InvalidIntakeMessage, match="without a pipeline input"):
        parse_intake_message(body)
