"""How fast the console's document list is with many records: ``python -m docproc_local.console.bench [-n 5000]``.

Creates the template's own ResultsTable (key, attributes and ``StatusIndex`` from template.yaml) in a moto server
reached over HTTP, writes ``n`` synthetic records (statuses, domains, classes and times spread like a busy stack),
then times the list's pages through the console's Flask app (template rendering included) and, for comparison,
what a list without the index costs: a full scan sorted in memory. Prints one line per measurement.
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from docproc_local.client import StackClient

DOMAINS = ("legal", "medical", "financial", "technical", "hr", "general")
CLASSES = ("invoice", "receipt", "contract", "resume", "clinical_note", "financial_statement", "form", "letter")


def synthetic_records(n: int, seed: int = 7, step_seconds: int = 30) -> list[dict[str, Any]]:
    """``n`` plain records: 2 % FAILED, 0.5 % PROCESSING, the rest COMPLETED; 'report' is a rare class (1 %)."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        when = start + timedelta(seconds=i * step_seconds + rng.randint(0, step_seconds - 1))
        roll = rng.random()
        status = "FAILED" if roll < 0.02 else ("PROCESSING" if roll < 0.025 else "COMPLETED")
        record: dict[str, Any] = {
            "documentId": f"{rng.getrandbits(128):032x}",
            "status": status,
            "generation": 1,
            "attempt": 1,
            "source": {"bucket": "bench-input", "key": f"inbox/{when:%Y/%m/%d}/document-{i:05d}.pdf", "size": 12345},
            "updatedAt": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "queuedAt": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
        if status == "COMPLETED":
            record |= {
                "domain": rng.choice(DOMAINS),
                "documentClass": "report" if rng.random() < 0.01 else rng.choice(CLASSES),
                "title": f"Synthetic document {i}",
                "confidence": round(rng.uniform(0.3, 0.95), 4),
                "needsReview": rng.random() < 0.1,
                "cost": {"totalUsd": round(rng.uniform(0.003, 0.007), 6), "pricesVersion": "bench"},
                "timings": {"totalMs": rng.randint(800, 4000)},
                "fields": {"title": {"value": "x" * 200, "confidence": 0.9}},  # records are not tiny
            }
        elif status == "FAILED":
            record |= {"reasonCode": rng.choice(("EMPTY_DOCUMENT", "CORRUPT_DOCUMENT", "RETRIES_EXHAUSTED"))}
        out.append(record)
    return out


def create_results_table(dynamodb: Any, name: str = "bench-results") -> str:
    """The ResultsTable exactly as template.yaml declares its keys, attributes and indexes."""
    from docproc_local.cloud.translate import load_template
    from docproc_local.runtime import default_template

    props = load_template(default_template())["Resources"]["ResultsTable"]["Properties"]
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"],
    )
    return name


def load(dynamodb: Any, table: str, records: list[dict[str, Any]]) -> None:
    from boto3.dynamodb.types import TypeSerializer

    from docproc.records import _decimals

    serializer = TypeSerializer()
    for start in range(0, len(records), 25):
        batch = [
            {"PutRequest": {"Item": {k: serializer.serialize(v) for k, v in _decimals(r).items()}}}
            for r in records[start : start + 25]
        ]
        request: dict[str, Any] = {table: batch}
        while request:
            request = dynamodb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def _time(fn: Callable[[], Any], repeat: int = 5) -> tuple[float, Any]:
    """Median milliseconds of ``repeat`` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def run(n: int, repeat: int = 5, moto_patch: bool = True) -> list[str]:
    """Populate a fresh moto server with ``n`` records and measure; returns the printed lines."""
    import boto3
    from moto.server import ThreadedMotoServer

    from docproc_local.cloud.dynamodb import sort_items_once
    from docproc_local.cloud.patching import Patches
    from docproc_local.console.app import create_app
    from docproc_local.console.backend import Backend

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request
    patches = Patches()
    if moto_patch:
        sort_items_once(patches)  # what the local stack's moto runs with
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    lines: list[str] = [f"moto {'with' if moto_patch else 'without'} the local stack's sort patch"]
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        dynamodb = boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",  # noqa: S106 - moto's fake credentials
        )
        table = create_results_table(dynamodb)
        started = time.perf_counter()
        load(dynamodb, table, synthetic_records(n))
        lines.append(f"{n} synthetic records written in {time.perf_counter() - started:.1f} s (moto over HTTP)")
        client = StackClient(outputs={"ResultsTableName": table}, endpoint_url=endpoint, region="us-east-1")
        client._clients["dynamodb"] = dynamodb
        backend = Backend(client=client)
        app = create_app(backend)
        http = app.test_client()
        lister = backend.lister

        def page(path: str) -> Any:
            response = http.get(path)
            assert response.status_code == 200, (path, response.status_code)
            return response

        from docproc_local.console.listing import Filters

        for label, filters in (
            ("newest 50, no filter", Filters()),
            ("status FAILED", Filters(status="FAILED")),
            ("domain legal", Filters(domain="legal")),
            ("class report (1 %)", Filters(document_class="report")),
            ("one day (2026-11-02)", Filters(date_from="2026-11-02", date_to="2026-11-02")),
        ):
            ms, result = _time(lambda f=filters: lister.page(f, limit=50), repeat)
            calls = ", ".join(f"{v} {k}" for k, v in result.calls.items())
            lines.append(
                f"  list page, {label:<24} {ms:7.1f} ms  ({len(result.rows)} rows, {result.examined} keys, {calls})"
            )
        cursor = None
        started = time.perf_counter()
        for _ in range(20):
            cursor = lister.page(Filters(), cursor=cursor, limit=50).cursor
        per_page = (time.perf_counter() - started) * 1000 / 20
        lines.append(f"  pages 2-21, following the cursors           {per_page:7.1f} ms per page")
        backend._cache.clear()
        ms, _ = _time(lambda: (backend._cache.clear(), page("/")), repeat)
        lines.append(f"  GET / (counts by status + newest 50 + template)   {ms:7.1f} ms")
        ms, _ = _time(lambda: page("/?class=report"), repeat)
        lines.append(f"  GET /?class=report (counts cached)               {ms:7.1f} ms")
        ms, counts = _time(lister.counts, repeat)
        lines.append(f"  counts by status (COUNT queries of the index)    {ms:7.1f} ms  {counts}")

        def naive() -> int:
            items = []
            for scanned in dynamodb.get_paginator("scan").paginate(TableName=table):
                items.extend(scanned["Items"])
            items.sort(key=lambda i: i["updatedAt"]["S"], reverse=True)
            return len(items[:50])

        ms, _ = _time(naive, max(1, repeat // 2))
        lines.append(f"  for comparison, a full scan sorted in memory     {ms:7.1f} ms")
    finally:
        server.stop()
        patches.undo()
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m docproc_local.console.bench", description=__doc__)
    parser.add_argument("-n", "--records", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--unpatched-moto", action="store_true", help="without the local stack's DynamoDB sort patch")
    args = parser.parse_args(argv)
    for line in run(args.records, args.repeat, moto_patch=not args.unpatched_moto):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
