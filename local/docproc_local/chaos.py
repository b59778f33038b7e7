"""Fault injection that belongs to the AWS side rather than to the model stand-ins.

EventBridge and S3 deliver at least once. ``DuplicateDeliveries`` makes that literal: every S3 event that an
EventBridge rule sends to an SQS target is delivered ``times`` times (patching moto's rule delivery).
The stand-ins inject model faults; ``LocalCloud.set_crash_rate`` injects Lambda crashes.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from moto.events import models as events_models


class DuplicateDeliveries:
    _lock = threading.Lock()

    def __init__(self, times: int, source: str = "aws.s3") -> None:
        if times < 1:
            raise ValueError("times must be at least 1")
        self.times = times
        self.source = source
        self.delivered = 0  # deliveries of matching events, duplicates included
        self._original: Any = None

    def start(self) -> DuplicateDeliveries:
        with self._lock:
            if self._original is not None:
                return self
            original = events_models.Rule._send_to_sqs_queue
            injector = self

            def deliver(rule: Any, resource_id: str, event: dict[str, Any], group_id: str | None = None) -> None:
                if event.get("source") != injector.source:
                    original(rule, resource_id, event, group_id)
                    return
                for _ in range(injector.times):
                    original(rule, resource_id, copy.deepcopy(event), group_id)
                    injector.delivered += 1

            self._original = original
            events_models.Rule._send_to_sqs_queue = deliver  # type: ignore[method-assign]
        return self

    def stop(self) -> None:
        with self._lock:
            if self._original is not None:
                events_models.Rule._send_to_sqs_queue = self._original  # type: ignore[method-assign]
                self._original = None

    def __enter__(self) -> DuplicateDeliveries:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
