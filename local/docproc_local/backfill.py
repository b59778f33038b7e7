"""``docproc backfill s3://bucket/prefix``: objects already in a bucket, fed through the normal intake path.

For every current object version under the prefix it sends the intake queue the message the stack's EventBridge
rule delivers for a new upload (an ``aws.s3`` "Object Created" event, key URL-encoded, with version id and etag),
so ingest treats it exactly as an upload: the same document id (bucket, key, version), the same QUEUED record and
deterministic execution name. That makes a backfill idempotent: an object already processed, or sent by an earlier
backfill, is recognised by ingest as a duplicate and not processed again.

The listing is paged (``ListObjectVersions``, which pages like ``ListObjectsV2`` and also carries the version ids
that document ids are derived from; the current version of each key, no delete markers), messages go out in
``SendMessageBatch`` calls of up to 10 at ``--rate`` messages per second at most, with a progress bar (rich) when
the terminal is interactive. For millions of objects in AWS, see the README's S3 Batch Operations path.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus, urlsplit

BATCH = 10  # SendMessageBatch's limit


@dataclass(frozen=True)
class ObjectVersion:
    bucket: str
    key: str
    version_id: str | None
    etag: str
    size: int
    last_modified: datetime


@dataclass
class Summary:
    listed: int = 0
    sent: int = 0
    failed: int = 0
    seconds: float = 0.0


def parse_s3_uri(uri: str) -> tuple[str, str]:
    parts = urlsplit(uri)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"expected s3://bucket/prefix, got {uri!r}")
    return parts.netloc, parts.path.lstrip("/")


def list_current_versions(s3: Any, bucket: str, prefix: str, page_size: int = 1000) -> Iterator[ObjectVersion]:
    """The current version of every object under ``prefix``, page by page (no delete markers, no old versions, no
    ``folder/`` placeholders). Ingest applies the stack's ``InputPrefix`` as it does to uploads."""
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size}):
        for version in page.get("Versions", []):
            if not version.get("IsLatest", True) or version["Key"].endswith("/"):
                continue
            version_id = version.get("VersionId")
            yield ObjectVersion(
                bucket=bucket,
                key=version["Key"],
                version_id=None if version_id in (None, "null") else version_id,
                etag=str(version.get("ETag", "")).strip('"'),
                size=int(version.get("Size", 0)),
                last_modified=version.get("LastModified") or datetime.now(UTC),
            )


def object_created_event(obj: ObjectVersion, region: str, now: datetime | None = None) -> str:
    """The EventBridge "Object Created" event S3 sends for ``obj``, as the intake rule delivers it to SQS."""
    when = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    detail_object: dict[str, Any] = {"key": quote_plus(obj.key, safe="/"), "size": obj.size, "etag": obj.etag}
    if obj.version_id:
        detail_object["version-id"] = obj.version_id
    return json.dumps(
        {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Object Created",
            "source": "aws.s3",
            "account": "000000000000",
            "time": when,
            "region": region,
            "resources": [f"arn:aws:s3:::{obj.bucket}"],
            "detail": {
                "version": "0",
                "bucket": {"name": obj.bucket},
                "object": detail_object,
                "request-id": "docproc-backfill",
                "requester": "docproc-backfill",
                "reason": "PutObject",
            },
        }
    )


class RateLimiter:
    """At most ``rate`` units per second on average (``None``: no limit); ``sleep`` and ``clock`` for tests."""

    def __init__(
        self,
        rate: float | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate is not None and rate <= 0:
            raise ValueError(f"--rate must be positive, got {rate}")
        self.rate, self.clock, self.sleep = rate, clock, sleep
        self._next = clock()

    def take(self, units: int) -> None:
        if self.rate is None:
            return
        now = self.clock()
        if self._next > now:
            self.sleep(self._next - now)
        self._next = max(self._next, now) + units / self.rate


def backfill(
    s3: Any,
    sqs: Any,
    *,
    bucket: str,
    prefix: str,
    queue_url: str,
    region: str,
    rate: float | None = 50.0,
    limiter: RateLimiter | None = None,
    progress: Callable[[int, int], None] | None = None,
    objects: Iterable[ObjectVersion] | None = None,
) -> Summary:
    """Send one intake message per current object version under ``prefix``; returns the counts."""
    started = time.monotonic()
    limiter = limiter or RateLimiter(rate)
    summary = Summary()
    pending: list[ObjectVersion] = []

    def flush() -> None:
        if not pending:
            return
        limiter.take(len(pending))
        entries = [
            {"Id": str(index), "MessageBody": object_created_event(obj, region)} for index, obj in enumerate(pending)
        ]
        response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        failed = len(response.get("Failed", []))
        summary.failed += failed
        summary.sent += len(entries) - failed
        if progress:
            progress(summary.listed, summary.sent)
        pending.clear()

    for obj in objects if objects is not None else list_current_versions(s3, bucket, prefix):
        summary.listed += 1
        pending.append(obj)
        if len(pending) == BATCH:
            flush()
    flush()
    summary.seconds = round(time.monotonic() - started, 2)
    return summary


# --- the command ---------------------------------------------------------------------------------------------------


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("backfill", help="process objects already in a bucket through the normal intake path")
    parser.add_argument("uri", metavar="s3://BUCKET/PREFIX", help="the objects to process (the stack's input bucket)")
    parser.add_argument("--rate", type=float, default=50.0, help="intake messages per second at most (default 50)")
    parser.add_argument("--stack-name", help="a deployed stack in AWS (default: the running `docproc local up`)")
    parser.add_argument("--region", help="AWS region of --stack-name")
    parser.set_defaults(func=cmd_backfill)


def cmd_backfill(args: argparse.Namespace) -> int:
    from docproc_local.client import StackClient

    if args.stack_name:
        stack = StackClient.for_cloudformation_stack(args.stack_name, args.region)
    else:
        from docproc_local.runtime import client_from_state

        stack = client_from_state()
    bucket, prefix = parse_s3_uri(args.uri)
    if bucket != stack.outputs["InputBucketName"]:
        print(
            f"docproc: note: {bucket} is not the stack's input bucket ({stack.outputs['InputBucketName']}); "
            "the pipeline's functions may not be allowed to read it",
            file=sys.stderr,
        )
    summary = run_with_progress(stack, bucket, prefix, args.rate)
    print(
        f"backfill s3://{bucket}/{prefix}: {summary.listed} object(s) listed, {summary.sent} sent to the intake "
        f"queue, {summary.failed} failed, in {summary.seconds:.1f}s; "
        "objects already processed are recognised by ingest and not processed again"
    )
    return 1 if summary.failed else 0


def run_with_progress(stack: Any, bucket: str, prefix: str, rate: float | None) -> Summary:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    s3, sqs = stack.client("s3"), stack.client("sqs")
    with Progress(
        TextColumn("backfill"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("sent"),
        TimeElapsedColumn(),
        transient=True,
        disable=not sys.stderr.isatty(),
        console=None,
    ) as bar:
        task = bar.add_task("backfill", total=None)

        def progress(listed: int, sent: int) -> None:
            bar.update(task, completed=sent, total=listed)

        return backfill(
            s3,
            sqs,
            bucket=bucket,
            prefix=prefix,
            queue_url=stack.outputs["IntakeQueueUrl"],
            region=stack.region,
            rate=rate,
            progress=progress,
        )
