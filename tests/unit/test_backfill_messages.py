"""docproc backfill: the message it sends is the one S3 sends, paged listing, rate limit."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from docproc import ids
from docproc.intake import parse_intake_message
from docproc_local.backfill import ObjectVersion, RateLimiter, backfill, list_current_versions, object_created_event


def _version(key: str, version_id: str | None = "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY") -> ObjectVersion:
    return ObjectVersion("in-bucket", key, version_id, "9b2cf535f27731c974343645a3985328", 1234, datetime.now(UTC))


@pytest.mark.parametrize("key", ["plain.pdf", "folder/with space + plus.pdf", "ünïcode/%41.txt"])
def test_the_event_names_the_same_document_as_the_upload_did(key: str) -> None:
    obj = _version(key)
    (message,) = parse_intake_message(object_created_event(obj, "us-east-1"))
    assert message.kind == "s3"
    assert message.document.key == key
    assert message.document.document_id == ids.document_id("in-bucket", key, obj.version_id, obj.etag)
    assert (message.document.version_id, message.document.etag, message.document.size) == (
        obj.version_id,
        obj.etag,
        1234,
    )


def test_an_unversioned_object_is_identified_by_its_etag() -> None:
    obj = _version("a.txt", version_id=None)
    body = json.loads(object_created_event(obj, "us-east-1"))
    assert "version-id" not in body["detail"]["object"]
    (message,) = parse_intake_message(json.dumps(body))
    assert message.document.document_id == ids.document_id("in-bucket", "a.txt", None, obj.etag)


def test_the_listing_is_paged_and_keeps_only_current_versions(aws: None) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="in-bucket")
    s3.put_bucket_versioning(Bucket="in-bucket", VersioningConfiguration={"Status": "Enabled"})
    for number in range(23):
        s3.put_object(Bucket="in-bucket", Key=f"docs/{number:02d}.txt", Body=b"first")
    s3.put_object(Bucket="in-bucket", Key="docs/05.txt", Body=b"second version")
    s3.delete_object(Bucket="in-bucket", Key="docs/07.txt")  # a delete marker is current: nothing to process
    s3.put_object(Bucket="in-bucket", Key="docs/folder/", Body=b"")
    s3.put_object(Bucket="in-bucket", Key="other/x.txt", Body=b"elsewhere")

    found = list(list_current_versions(s3, "in-bucket", "docs/", page_size=5))

    assert sorted(obj.key for obj in found) == sorted(f"docs/{n:02d}.txt" for n in range(23) if n != 7)
    current = s3.head_object(Bucket="in-bucket", Key="docs/05.txt")["VersionId"]
    assert next(obj for obj in found if obj.key == "docs/05.txt").version_id == current


class _FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_messages_go_out_in_batches_of_ten_at_the_rate_asked() -> None:
    sent: list[list[dict[str, Any]]] = []

    class Sqs:
        def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
            sent.append(Entries)
            return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}

    fake = _FakeClock()
    summary = backfill(
        None,
        Sqs(),
        bucket="in-bucket",
        prefix="",
        queue_url="q",
        region="us-east-1",
        limiter=RateLimiter(10.0, clock=fake.clock, sleep=fake.sleep),
        objects=[_version(f"{n}.txt") for n in range(35)],
    )
    assert [len(batch) for batch in sent] == [10, 10, 10, 5]
    assert (summary.listed, summary.sent, summary.failed) == (35, 35, 0)
    # 35 messages at 10/s: the first batch goes at once, the others wait for their share of the budget
    assert sum(fake.slept) == pytest.approx(3.0)


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(0)
