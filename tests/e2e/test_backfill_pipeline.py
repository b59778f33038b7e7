"""docproc backfill on the local stack: objects already in the bucket go through the normal intake path, once."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from docproc_local.backfill import backfill
from docproc_local.client import StackClient

from stack_helpers import REPO, collect_events, events_for, executions_of

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

SAMPLES = ["cuad-aduro-consulting-agreement.txt", "jsonresume-sample-resume.json", "medline-pubmed-records.txt"]


@pytest.fixture
def intake_rule_disabled(stack: StackClient) -> Iterator[None]:
    """Uploads made inside this fixture create no S3 event: objects that were in the bucket before docproc."""
    events = stack.client("events")
    (rule,) = [r["Name"] for r in events.list_rules()["Rules"] if "ObjectCreatedRule" in r["Name"]]
    events.disable_rule(Name=rule)
    try:
        yield
    finally:
        events.enable_rule(Name=rule)


def _drained(stack: StackClient, timeout: float = 60) -> None:
    """Wait until the intake queue is empty for two polls in a row (the deadline is a hang guard)."""
    deadline, quiet = time.monotonic() + timeout, 0
    while quiet < 2 and time.monotonic() < deadline:
        quiet = quiet + 1 if stack.queue_depth("IntakeQueueUrl") == 0 else 0
        time.sleep(1)
    assert quiet >= 2, "the intake queue did not drain"


def _backfill(stack: StackClient) -> object:
    return backfill(
        stack.client("s3"),
        stack.client("sqs"),
        bucket=stack.outputs["InputBucketName"],
        prefix="backfill/",
        queue_url=stack.outputs["IntakeQueueUrl"],
        region=stack.region,
        rate=20,
    )


def test_backfill_processes_old_objects_once_and_a_second_run_changes_nothing(
    stack: StackClient, intake_rule_disabled: None
) -> None:
    # GIVEN objects that were in the bucket before docproc (no S3 event) and one uploaded since (processed)
    old = [stack.upload_file(REPO / "samples" / name, key=f"backfill/old/{name}") for name in SAMPLES]
    time.sleep(2)
    assert all(stack.record(upload.document_id) is None for upload in old), "an upload sent an event"
    events = stack.client("events")
    (rule,) = [r["Name"] for r in events.list_rules()["Rules"] if "ObjectCreatedRule" in r["Name"]]
    events.enable_rule(Name=rule)
    new = stack.upload_file(REPO / "samples" / "invoice2data-aws.pdf", key="backfill/new/invoice.pdf")
    (before,) = stack.wait_for([new.document_id], timeout=180).values()
    assert before["status"] == "COMPLETED"
    every = [*old, new]

    # WHEN the prefix is backfilled
    first = _backfill(stack)
    records = stack.wait_for([u.document_id for u in every], timeout=300)

    # THEN every old object was processed once, and the one already processed was not processed again
    assert (first.listed, first.sent, first.failed) == (4, 4, 0)  # type: ignore[attr-defined]
    assert {r["status"] for r in records.values()} == {"COMPLETED"}
    assert records[new.document_id] == before
    _drained(stack)

    # WHEN it is backfilled again
    second = _backfill(stack)
    assert second.sent == 4  # type: ignore[attr-defined]
    _drained(stack)

    # THEN the records are the same, each document ran exactly one execution and published one event
    assert {u.document_id: stack.record(u.document_id) for u in every} == records
    for upload in every:
        assert [e["name"] for e in executions_of(stack, upload.document_id)] == [f"{upload.document_id}-g1-a1"]
    seen = collect_events(stack, lambda got: all(events_for(got, u.document_id) for u in every), timeout=60)
    seen += collect_events(stack, lambda _: False, timeout=3)  # anything late would be a duplicate
    assert {u.key: len(events_for(seen, u.document_id)) for u in every} == {u.key: 1 for u in every}
