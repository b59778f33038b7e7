"""What the console's pages read and do, over one stack (local or deployed), independent of the web framework."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from docproc_local.client import StackClient
from docproc_local.console import documents, experiments
from docproc_local.console.corrections import CorrectionsStore, Review
from docproc_local.console.feed import EventFeed
from docproc_local.console.listing import DocumentLister

T = TypeVar("T")


class ActionsDisabled(PermissionError):
    """The console runs read-only (start it with --allow-actions to reprocess, redrive and review)."""


@dataclass
class _Cached:
    value: Any
    at: float


@dataclass
class Backend:
    client: StackClient
    allow_actions: bool = False
    reviewer: str = "unknown"
    experiments_root: Path = experiments.EXPERIMENTS
    feed: EventFeed | None = None
    _cache: dict[str, _Cached] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.lister = DocumentLister(self.client.client("dynamodb"), self.client.outputs["ResultsTableName"])
        table = self.client.outputs.get("CorrectionsTableName")
        self.corrections = CorrectionsStore(self.client.client("dynamodb"), table) if table else None
        from docproc import classes

        self.config = classes.load()

    # --- reading ----------------------------------------------------------------------------------------------------
    def cached(self, key: str, seconds: float, compute: Callable[[], T]) -> T:
        with self._lock:
            held = self._cache.get(key)
            if held and time.monotonic() - held.at < seconds:
                return held.value  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            self._cache[key] = _Cached(value, time.monotonic())
        return value

    def counts(self) -> dict[str, int]:
        return self.cached("counts", 30, self.lister.counts)  # COUNT queries read the whole index

    def record(self, document_id: str) -> dict[str, Any] | None:
        return self.client.record(document_id)

    def document(self, document_id: str) -> dict[str, Any] | None:
        """Everything the document page shows."""
        record = self.record(document_id)
        if record is None:
            return None
        text, cut = documents.read_text(self.client, record)
        reviews = self.corrections.for_document(document_id) if self.corrections else []
        return {
            "record": record,
            "text": text,
            "textCut": cut,
            "history": documents.history(self.client, record),
            "reviews": reviews,
            "feedEvents": self.feed.events(document_id=document_id) if self.feed else [],
        }

    def cost(self) -> dict[str, Any]:
        def compute() -> dict[str, Any]:
            from docproc.cost import default_prices
            from docproc_local import cost_cli

            return cost_cli.summarise(cost_cli.records_from_stack(self.client), default_prices())

        return self.cached("cost", 30, compute)

    def dlq_depth(self) -> int | None:
        if "DeadLetterQueueUrl" not in self.client.outputs:
            return None
        return self.client.queue_depth("DeadLetterQueueUrl")

    def experiments(self) -> list[experiments.Experiment]:
        return experiments.list_experiments(self.experiments_root)

    # --- actions ----------------------------------------------------------------------------------------------------
    def _require_actions(self) -> None:
        if not self.allow_actions:
            raise ActionsDisabled("the console is read-only: start it with --allow-actions")

    def reprocess(self, document_id: str) -> str:
        self._require_actions()
        record = self.record(document_id)
        if record is None:
            raise LookupError(document_id)
        key = (record.get("source") or {}).get("key")
        if not key:
            raise ValueError("the record names no source object")
        self.client.reprocess(str(key))
        return str(key)

    def redrive(self) -> int:
        self._require_actions()
        return self.client.redrive()

    def review(self, record: dict[str, Any], review: Review) -> dict[str, Any]:
        self._require_actions()
        if self.corrections is None:
            raise RuntimeError("this stack has no CorrectionsTable: deploy the current template.yaml")
        return self.corrections.add(record, review, self.reviewer)
