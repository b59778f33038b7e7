"""The live event feed: what reaches the example subscriber queue, read without taking it away.

The console is not that queue's consumer: it never deletes a message. Each poll receives every visible message
(up to ``max_batches`` x 10) with a short visibility timeout, remembers the events by ``eventId`` (EventBridge
delivers at least once; a message seen again is the same event) and lets them become visible again, so
``docproc events`` and other readers still get them. While the console runs, a message is hidden from them for
``visibility_seconds`` after each poll.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger("docproc_console")


class EventFeed:
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        *,
        keep: int = 1000,
        interval_seconds: float = 2.0,
        visibility_seconds: int = 20,
        max_batches: int = 20,
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.keep = keep
        self.interval = interval_seconds
        self.visibility = visibility_seconds
        self.max_batches = max_batches
        self._events: OrderedDict[str, dict[str, Any]] = OrderedDict()  # eventId -> event, in arrival order
        self._sequence = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error = ""

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="console-event-feed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
                self.last_error = ""
            except (BotoCoreError, ClientError) as exc:
                self.last_error = type(exc).__name__
                log.warning("event feed: receiving failed (%s)", type(exc).__name__)
            self._stop.wait(self.interval)

    def poll(self) -> int:
        """One sweep of the queue; returns how many events were new."""
        new = 0
        for _ in range(self.max_batches):
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=self.visibility
            ).get("Messages", [])
            if not messages:
                break
            for message in messages:
                new += self._remember(message)
        return new

    def _remember(self, message: dict[str, Any]) -> int:
        try:
            envelope = json.loads(message["Body"])
            detail = envelope.get("detail")
            if isinstance(detail, str):
                detail = json.loads(detail)
        except (ValueError, KeyError, AttributeError):
            return 0
        if not isinstance(detail, dict):
            return 0
        event_id = str(detail.get("eventId") or envelope.get("id") or message.get("MessageId"))
        with self._lock:
            if event_id in self._events:
                return 0
            self._sequence += 1
            self._events[event_id] = {
                "sequence": self._sequence,
                "eventId": event_id,
                "detailType": envelope.get("detail-type", ""),
                "time": envelope.get("time", ""),
                "documentId": detail.get("documentId", ""),
                "key": (detail.get("source") or {}).get("key", ""),
                "status": detail.get("status", ""),
                "domain": detail.get("domain", ""),
                "documentClass": detail.get("documentClass", ""),
                "confidence": detail.get("confidence"),
                "reasonCode": detail.get("reasonCode", ""),
                "reviewReasons": detail.get("reviewReasons") or [],
            }
            while len(self._events) > self.keep:
                self._events.popitem(last=False)
        return 1

    def events(self, after: int = 0, document_id: str = "") -> list[dict[str, Any]]:
        """Events newer than sequence number ``after`` (newest first), optionally of one document."""
        with self._lock:
            found = [e for e in self._events.values() if e["sequence"] > after]
        if document_id:
            found = [e for e in found if e["documentId"] == document_id]
        return list(reversed(found))
