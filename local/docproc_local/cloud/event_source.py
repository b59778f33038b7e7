"""SQS -> Lambda event source mapping, the way Lambda runs it: a poll loop, not moto's trigger inside SendMessage.

Each of ``max_concurrency`` workers: long-poll up to ``batch_size`` messages (filling the batch for up to
``MaximumBatchingWindowInSeconds``), invoke the function with the SQS event, then delete what succeeded:
everything on success; with ``ReportBatchItemFailures`` all but the listed ``itemIdentifier``s; nothing when the
invoke failed (handler error, crash, timeout). Undeleted messages reappear after the visibility timeout, and moto's
SQS moves them to the DLQ after ``maxReceiveCount`` receives.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.client import BaseClient

log = logging.getLogger(__name__)

_SQS_RECEIVE_MAX = 10


class InvocationError(Exception):
    """The function returned an error (exception, crash, timeout): the whole batch stays on the queue."""

    def __init__(self, payload: Any) -> None:
        self.payload = payload
        error_type = payload.get("errorType") if isinstance(payload, dict) else None
        super().__init__(error_type or "function error")


Invoke = Callable[[str, dict[str, Any]], Any]
"""(function ARN, event) -> the function's response; raises :class:`InvocationError` if the function failed."""


@dataclass(frozen=True)
class SqsEventSourceConfig:
    function_arn: str
    queue_arn: str
    queue_url: str
    batch_size: int = 10
    batching_window_seconds: float = 0.0
    report_batch_item_failures: bool = False
    max_concurrency: int = 5
    uuid: str = ""

    @classmethod
    def from_mapping(cls, mapping: dict[str, Any], queue_url: str) -> SqsEventSourceConfig:
        """From a GetEventSourceMapping response. No ScalingConfig: 5 pollers, as Lambda starts with."""
        scaling = (mapping.get("ScalingConfig") or {}).get("MaximumConcurrency")
        return cls(
            function_arn=mapping["FunctionArn"],
            queue_arn=mapping["EventSourceArn"],
            queue_url=queue_url,
            batch_size=int(mapping.get("BatchSize") or 10),
            batching_window_seconds=float(mapping.get("MaximumBatchingWindowInSeconds") or 0),
            report_batch_item_failures="ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or []),
            max_concurrency=max(2, int(scaling)) if scaling else 5,
            uuid=mapping.get("UUID", ""),
        )


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda builds from received SQS messages."""
    return {"Records": [_record(m, queue_arn, region) for m in messages]}


def _record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {name: _attribute(v) for name, v in message.get("MessageAttributes", {}).items()},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _attribute(value: dict[str, Any]) -> dict[str, Any]:
    attribute: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode("ascii")
    return attribute


def failed_message_ids(response: Any, message_ids: list[str]) -> set[str]:
    """The messages a ``ReportBatchItemFailures`` response keeps on the queue.

    As in Lambda: no response, ``{}`` or an empty list mean all succeeded; an identifier that is empty or not in
    the batch makes the whole batch a failure.
    """
    if not isinstance(response, dict) or not response.get("batchItemFailures"):
        return set()
    failures = response["batchItemFailures"]
    identifiers = {item.get("itemIdentifier") if isinstance(item, dict) else None for item in failures}
    if not identifiers <= set(message_ids):
        log.warning("batchItemFailures names unknown messages %s: the whole batch failed", identifiers)
        return set(message_ids)
    return {str(i) for i in identifiers}


class SqsEventSource:
    """One event source mapping: ``max_concurrency`` poller threads feeding one function."""

    def __init__(
        self,
        config: SqsEventSourceConfig,
        sqs: BaseClient,
        invoke: Invoke,
        region: str,
        *,
        poll_wait_seconds: int = 1,
        paused: bool = False,
    ) -> None:
        self.config = config
        self._sqs = sqs
        self._invoke = invoke
        self._region = region
        self._wait = poll_wait_seconds
        self._stopping = threading.Event()
        self._running = threading.Event()
        if not paused:
            self._running.set()
        self._busy = 0
        self._idle = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._stats: Counter[str] = Counter()
        self._stats_lock = threading.Lock()

    @property
    def stats(self) -> dict[str, int]:
        """batches, messages, deleted, kept (left for redelivery), invoke_errors."""
        with self._stats_lock:
            return {k: self._stats[k] for k in ("batches", "messages", "deleted", "kept", "invoke_errors")}

    def start(self) -> None:
        name = self.config.function_arn.rsplit(":", 1)[-1]
        for index in range(self.config.max_concurrency):
            thread = threading.Thread(target=self._loop, name=f"sqs-poller-{name}-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop polling; in-flight batches finish. Raises if a worker is still busy after ``timeout``."""
        self._stopping.set()
        self._running.set()  # wake paused workers so they can see the stop
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in self._threads if t.is_alive()]
        self._threads.clear()
        if alive:
            raise TimeoutError(f"pollers still running after {timeout:.0f} s: {alive}")

    def pause(self, timeout: float = 10.0) -> None:
        """Stop taking new batches and wait until no batch is in flight."""
        self._running.clear()
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{self._busy} batch(es) still in flight after {timeout:.0f} s")
                self._idle.wait(remaining)

    def resume(self) -> None:
        self._running.set()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            if not self._running.wait(timeout=0.2):
                continue
            with self._idle:
                if not self._running.is_set() or self._stopping.is_set():
                    continue
                self._busy += 1
            try:
                self.poll_once()
            except Exception:  # a poller must outlive any one failure, as Lambda's does
                log.exception("SQS poller for %s failed; polling again in 1 s", self.config.function_arn)
                self._stopping.wait(1.0)
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

    def poll_once(self) -> int:
        """One receive -> invoke -> delete cycle. Returns how many messages it received."""
        messages = self._receive_batch()
        if not messages:
            return 0
        ids = [m["MessageId"] for m in messages]
        with self._stats_lock:
            self._stats.update(batches=1, messages=len(messages))
        try:
            response = self._invoke(self.config.function_arn, sqs_event(messages, self.config.queue_arn, self._region))
        except InvocationError as exc:
            log.info("%s failed (%s): %d message(s) stay on the queue", self.config.function_arn, exc, len(ids))
            with self._stats_lock:
                self._stats.update(invoke_errors=1, kept=len(ids))
            return len(messages)
        failed = failed_message_ids(response, ids) if self.config.report_batch_item_failures else set()
        self._delete([m for m in messages if m["MessageId"] not in failed])
        with self._stats_lock:
            self._stats.update(deleted=len(ids) - len(failed), kept=len(failed))
        return len(messages)

    def _receive_batch(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        window_ends: float | None = None
        while len(messages) < self.config.batch_size and not self._stopping.is_set():
            response = self._sqs.receive_message(
                QueueUrl=self.config.queue_url,
                MaxNumberOfMessages=min(_SQS_RECEIVE_MAX, self.config.batch_size - len(messages)),
                WaitTimeSeconds=0 if messages else self._wait,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            received = response.get("Messages", [])
            messages.extend(received)
            if not messages:
                break
            if window_ends is None:
                window_ends = time.monotonic() + self.config.batching_window_seconds
            remaining = window_ends - time.monotonic()
            if remaining <= 0:
                break
            if not received:
                self._stopping.wait(min(0.1, remaining))
        return messages

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), _SQS_RECEIVE_MAX):
            chunk = messages[start : start + _SQS_RECEIVE_MAX]
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)]
            response = self._sqs.delete_message_batch(QueueUrl=self.config.queue_url, Entries=entries)
            for failure in response.get("Failed", []):
                log.warning("could not delete a message from %s: %s", self.config.queue_url, failure)
