"""The document list: one page of records, newest first, filtered, read through ``StatusIndex``.

The ResultsTable's only key is ``documentId``, so a plain scan has no order and gets slower with every record.
``StatusIndex`` (status HASH, updatedAt RANGE, keys only) is ordered by time within each status: a page is the
newest ``limit`` keys of a k-way merge of one descending query per status (or one query with a status filter;
the date filter is part of the key condition), then one ``BatchGetItem`` of just the list's columns for those
keys. Domain and class are not in the index, so they filter the fetched items and the merge reads on until the
page is full (at most ``max_examined`` keys per request, then it returns what it has with a cursor).

The cursor is the last key consumed per status (base64url JSON): the next page resumes every query exactly where
the previous page stopped, so no record is skipped or repeated while records are being added.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from docproc.records import from_item

STATUSES = ("QUEUED", "PROCESSING", "COMPLETED", "FAILED")
INDEX = "StatusIndex"
#: The list's columns (DynamoDB reads whole items anyway; this keeps the responses and the pages small).
COLUMNS = (
    "documentId",
    "#s",
    "#d",
    "documentClass",
    "confidence",
    "needsReview",
    "cost.totalUsd",
    "timings.totalMs",
    "updatedAt",
    "source.#k",
    "title",
    "reasonCode",
    "generation",
)
_NAMES = {"#s": "status", "#d": "domain", "#k": "key"}
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class BadFilter(ValueError):
    """A filter or cursor from the URL is not valid; the message says which."""


@dataclass(frozen=True)
class Filters:
    status: str = ""
    domain: str = ""
    document_class: str = ""
    date_from: str = ""  # YYYY-MM-DD, on updatedAt, inclusive
    date_to: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        status = (args.get("status") or "").strip().upper()
        if status and status not in STATUSES:
            raise BadFilter(f"status {status!r} is not one of {', '.join(STATUSES)}")
        dates = {}
        for name in ("from", "to"):
            value = (args.get(name) or "").strip()
            if value:
                if not _DATE_RE.match(value):
                    raise BadFilter(f"{name} must be a date YYYY-MM-DD, not {value!r}")
                try:
                    date.fromisoformat(value)
                except ValueError as exc:
                    raise BadFilter(f"{name}: {exc}") from None
            dates[name] = value
        return cls(
            status=status,
            domain=(args.get("domain") or "").strip(),
            document_class=(args.get("class") or "").strip(),
            date_from=dates["from"],
            date_to=dates["to"],
        )

    def as_args(self) -> dict[str, str]:
        pairs = {"status": self.status, "domain": self.domain, "class": self.document_class}
        pairs |= {"from": self.date_from, "to": self.date_to}
        return {k: v for k, v in pairs.items() if v}

    def matches(self, item: Mapping[str, Any]) -> bool:
        if self.domain and item.get("domain") != self.domain:
            return False
        return not (self.document_class and item.get("documentClass") != self.document_class)


@dataclass
class Page:
    rows: list[dict[str, Any]]
    cursor: str | None  # None: no more pages
    examined: int  # index keys read for this page
    calls: dict[str, int] = field(default_factory=dict)  # DynamoDB requests by operation


def encode_cursor(state: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(text: str) -> dict[str, Any]:
    try:
        state = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadFilter("the page cursor is not valid (start again from the first page)") from None
    if not isinstance(state, dict) or not set(state) <= set(STATUSES):
        raise BadFilter("the page cursor is not valid (start again from the first page)")
    return state


class _StatusStream:
    """The index keys of one status, newest first, fetched lazily in chunks."""

    def __init__(self, lister: DocumentLister, status: str, start: Any, filters: Filters, chunk: int) -> None:
        self.lister, self.status, self.filters, self.chunk = lister, status, filters, chunk
        self.start = start if isinstance(start, dict) else None  # ExclusiveStartKey; None = from the newest
        self.more = True

    def __iter__(self) -> Iterator[dict[str, Any]]:
        while self.more:
            yield from self._fetch()

    def _fetch(self) -> list[dict[str, Any]]:
        values: dict[str, Any] = {":s": {"S": self.status}}
        condition = "#s = :s"
        if self.filters.date_from or self.filters.date_to:
            values[":a"] = {"S": self.filters.date_from or "0000"}
            values[":b"] = {"S": (self.filters.date_to or "9999") + "~"}  # "~" sorts after any time of that day
            condition += " AND updatedAt BETWEEN :a AND :b"
        kwargs: dict[str, Any] = {
            "TableName": self.lister.table,
            "IndexName": INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": self.chunk,
        }
        if isinstance(self.start, dict):
            kwargs["ExclusiveStartKey"] = self.start
        response = self.lister.call("query", **kwargs)
        self.start = response.get("LastEvaluatedKey")
        self.more = self.start is not None
        return list(response.get("Items", []))


class DocumentLister:
    """Pages of the ResultsTable for the console's list, through ``StatusIndex``."""

    def __init__(self, dynamodb: Any, table: str, *, max_examined: int = 5000) -> None:
        self.dynamodb = dynamodb
        self.table = table
        self.max_examined = max_examined
        self.calls: dict[str, int] = {}

    def call(self, operation: str, **kwargs: Any) -> Any:
        self.calls[operation] = self.calls.get(operation, 0) + 1
        return getattr(self.dynamodb, operation)(**kwargs)

    def page(self, filters: Filters, cursor: str | None = None, limit: int = 50) -> Page:
        self.calls = {}
        state = decode_cursor(cursor) if cursor else {}
        statuses = (filters.status,) if filters.status else STATUSES
        # narrow filters (domain, class) read bigger chunks: most keys will not match
        chunk = limit if not (filters.domain or filters.document_class) else 1000
        streams = [_StatusStream(self, s, state.get(s), filters, chunk) for s in statuses]
        merged = heapq.merge(*streams, key=_key_time, reverse=True)
        consumed: dict[str, Any] = {s: state.get(s) for s in statuses}  # last key handled, per status
        rows: list[dict[str, Any]] = []
        examined = 0
        full = False
        pending: list[dict[str, Any]] = []
        for key in merged:
            pending.append(key)
            if len(pending) < chunk:
                continue
            full, examined = self._consume(pending, filters, rows, consumed, limit, examined)
            pending = []
            if full or examined >= self.max_examined:
                break
        else:
            if pending:
                full, examined = self._consume(pending, filters, rows, consumed, limit, examined)
            if not full:  # every key of every status was read: this is the last page
                return Page(rows=rows, cursor=None, examined=examined, calls=dict(self.calls))
        return Page(rows=rows, cursor=encode_cursor(consumed), examined=examined, calls=dict(self.calls))

    def _consume(
        self,
        keys: list[dict[str, Any]],
        filters: Filters,
        rows: list[dict[str, Any]],
        consumed: dict[str, Any],
        limit: int,
        examined: int,
    ) -> tuple[bool, int]:
        """Add the matching items of ``keys`` (in order) to ``rows`` until it holds ``limit``; a key counts as
        consumed (the cursor moves past it) only when it was looked at, so the next page starts right after."""
        for start in range(0, len(keys), 100):  # fetch 100 at a time: stop reading once the page is full
            batch = keys[start : start + 100]
            items = self._items(batch)
            for key in batch:
                status = key["status"]["S"]
                consumed[status] = key
                examined += 1
                item = items.get(key["documentId"]["S"])
                # a record that moved on since the index was read (another status now) shows up under that status
                if item and item.get("status") == status and filters.matches(item):
                    rows.append(_row(item))
                    if len(rows) >= limit:
                        return True, examined
        return False, examined

    def _items(self, keys: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The list columns of ``keys`` by documentId (BatchGetItem, 100 at a time, unprocessed keys retried)."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(keys), 100):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [{"documentId": k["documentId"]} for k in keys[start : start + 100]],
                    "ProjectionExpression": ", ".join(COLUMNS),
                    "ExpressionAttributeNames": _NAMES,
                }
            }
            for _ in range(8):
                response = self.call("batch_get_item", RequestItems=request)
                for item in response.get("Responses", {}).get(self.table, []):
                    plain = from_item(item)
                    found[plain["documentId"]] = plain
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
        return found

    def counts(self, filters: Filters | None = None) -> dict[str, int]:
        """Documents per status (COUNT queries of the keys-only index: about 1 request per 10,000 keys)."""
        filters = filters or Filters()
        out = {}
        for status in STATUSES:
            total, start = 0, None
            while True:
                kwargs: dict[str, Any] = {
                    "TableName": self.table,
                    "IndexName": INDEX,
                    "KeyConditionExpression": "#s = :s",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {":s": {"S": status}},
                    "Select": "COUNT",
                }
                if start:
                    kwargs["ExclusiveStartKey"] = start
                response = self.call("query", **kwargs)
                total += int(response.get("Count", 0))
                start = response.get("LastEvaluatedKey")
                if not start:
                    break
            out[status] = total
        return out


def _key_time(key: Mapping[str, Any]) -> str:
    return str(key.get("updatedAt", {}).get("S", ""))


def _row(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "documentId": item.get("documentId", ""),
        "key": (item.get("source") or {}).get("key", ""),
        "status": item.get("status", ""),
        "domain": item.get("domain", ""),
        "documentClass": item.get("documentClass", ""),
        "title": item.get("title", ""),
        "confidence": item.get("confidence"),
        "needsReview": bool(item.get("needsReview")),
        "costUsd": (item.get("cost") or {}).get("totalUsd"),
        "latencyMs": (item.get("timings") or {}).get("totalMs"),
        "updatedAt": item.get("updatedAt", ""),
        "reasonCode": item.get("reasonCode", ""),
        "generation": item.get("generation"),
    }
