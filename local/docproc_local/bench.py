"""``docproc bench``: numbers, not pass/fail.

* default: N documents through the local stack (S3 -> EventBridge -> SQS -> ingest -> Step Functions ->
  DynamoDB/EventBridge) -> documents/s, p50/p95 end-to-end latency; then the same documents through the
  handlers called directly in one process (the floor: no queues, no orchestration) and the ratio.
* ``--chaos``: every S3 event delivered twice, Bedrock throttling, SageMaker 5xx, Lambda crashes after their
  side effects, plus a few broken documents -> entered, completed, failed by reason, lost, duplicate
  terminal writes, events, duration. Exits non-zero when anything was lost or written twice.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from docproc_local.client import StackClient, Upload
from docproc_local.runtime import REPO, LocalRuntime

FUNCTIONS = REPO / "functions"
BROKEN = {
    "broken-empty.pdf": b"",
    "broken-image.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
    "broken-truncated.docx": b"PK\x03\x04\x14\x00\x06\x00\x08\x00" + b"\x00" * 40,
}


@dataclass(frozen=True)
class Doc:
    name: str
    data: bytes


def main(args: argparse.Namespace) -> int:
    if args.chaos:
        return run_chaos(
            n=args.documents or 500,
            samples=args.samples,
            seed=args.seed,
            timeout=args.timeout,
            cache=not getattr(args, "no_cache", False),
        )
    return run_throughput(n=args.documents or 60, samples=args.samples, timeout=args.timeout)


def load_corpus(samples: Path | None, n: int) -> list[Doc]:
    folder = samples or REPO / "samples"
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise FileNotFoundError(f"no documents in {folder}")
    return [Doc(f"{i:04d}-{files[i % len(files)].name}", files[i % len(files)].read_bytes()) for i in range(n)]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _ts(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


# --- throughput ------------------------------------------------------------------------------------------------


def run_throughput(n: int, samples: Path | None, timeout: float) -> int:
    docs = load_corpus(samples, n)
    runtime = LocalRuntime(parameters={"MaxInFlightDocuments": "25", "IngestMaximumConcurrency": "5"})
    print(f"docproc bench: {n} documents from {samples or 'samples/'}", flush=True)
    with runtime as stack:
        print(f"  local stack start-up      {runtime.startup_seconds:8.2f} s", flush=True)
        started = time.time()
        uploads = [stack.upload_bytes(d.data, f"bench/{uuid.uuid4().hex[:8]}/{d.name}") for d in docs]
        records = stack.wait_for([u.document_id for u in uploads], timeout=timeout, poll=0.5)
        finished = [r for r in records.values() if r.get("status") in ("COMPLETED", "FAILED")]
        last = max((_ts(r["completedAt"]) for r in finished if r.get("completedAt")), default=time.time())
        latencies = [
            _ts(records[u.document_id]["completedAt"]) - u.uploaded_at
            for u in uploads
            if records.get(u.document_id, {}).get("completedAt")
        ]
        elapsed = last - started
        stack_rate = len(finished) / elapsed if elapsed > 0 else float("nan")
        print(f"  completed / failed        {_count(records, 'COMPLETED'):5d} / {_count(records, 'FAILED')}")
        print(f"  wall time                 {elapsed:8.2f} s")
        print(f"  throughput                {stack_rate:8.2f} documents/s")
        print(f"  end-to-end latency p50    {percentile(latencies, 0.5):8.2f} s")
        print(f"  end-to-end latency p95    {percentile(latencies, 0.95):8.2f} s", flush=True)

        floor = run_floor(stack, docs)
        print(
            f"  floor (handlers direct)   {floor['rate']:8.2f} documents/s, "
            f"p50 {floor['p50'] * 1000:.0f} ms, p95 {floor['p95'] * 1000:.0f} ms per document"
        )
        ratio = floor["rate"] / stack_rate if stack_rate else float("nan")
        print(f"  floor / stack throughput  {ratio:8.2f}x")
    return 0 if len(finished) == n else 1


def _count(records: dict[str, dict[str, Any]], status: str) -> int:
    return sum(1 for r in records.values() if r.get("status") == status)


def _load_handler(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"docproc_bench_{name}", FUNCTIONS / name / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


class _Context:
    function_name = "bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench"
    log_group_name = log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def run_floor(stack: StackClient, docs: list[Doc]) -> dict[str, float]:
    """The same documents through prepare -> extract -> classify -> merge, called in-process, one after another."""
    handlers = {name: _load_handler(name) for name in ("prepare", "extract", "classify", "merge")}
    with Path(os.devnull).open("w") as devnull, contextlib.redirect_stdout(devnull):  # the handlers' logs and EMF
        return _floor(stack, docs, handlers)


def _floor(stack: StackClient, docs: list[Doc], handlers: dict[str, Any]) -> dict[str, float]:
    context = _Context()
    durations = []
    bucket = stack.outputs["InputBucketName"]
    started = time.perf_counter()
    for doc in docs:
        upload = stack.upload_bytes(doc.data, f"floor/{uuid.uuid4().hex[:8]}/{doc.name}")
        t0 = time.perf_counter()
        document = {"documentId": upload.document_id, "bucket": bucket, "key": upload.key}
        try:
            prepared = handlers["prepare"]({"document": document}, context)
        except Exception:  # noqa: BLE001 - a broken document costs what it costs; the floor keeps going
            durations.append(time.perf_counter() - t0)
            continue
        branch_input = {"document": document, "prepared": prepared}
        extraction = handlers["extract"](branch_input, context)
        classification = handlers["classify"](branch_input, context)
        handlers["merge"](
            {
                "document": document,
                "generation": 1,
                "attempt": 1,
                "queuedAt": datetime.now().astimezone().isoformat(),
                "executionName": "floor",
                "prepared": prepared,
                "extraction": extraction,
                "classification": classification,
            },
            context,
        )
        durations.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    return {"rate": len(docs) / elapsed, "p50": percentile(durations, 0.5), "p95": percentile(durations, 0.95)}


# --- chaos -----------------------------------------------------------------------------------------------------


def run_chaos(
    n: int, samples: Path | None, seed: int, timeout: float, out: Any = sys.stdout, *, cache: bool = True
) -> int:
    report = chaos_report(n=n, samples=samples, seed=seed, timeout=timeout, log=out, cache=cache)
    print_chaos(report, out)
    return 0 if report["lost"] == 0 and report["duplicate_terminal_writes"] == 0 else 1


def chaos_report(
    *,
    n: int,
    samples: Path | None,
    seed: int,
    timeout: float,
    log: Any = sys.stdout,
    throttle: float = 0.20,
    sagemaker_errors: float = 0.05,
    crash_rate: float = 0.02,
    broken_every: int = 50,
    cache: bool = True,
) -> dict[str, Any]:
    from docproc_local.standins.server import FaultConfig

    docs = load_corpus(samples, n)
    for i in range(0, n, broken_every):  # a few documents that must fail permanently, with their reason
        name, data = list(BROKEN.items())[(i // broken_every) % len(BROKEN)]
        docs[i] = Doc(f"{i:04d}-{name}", data)
    faults = {
        "bedrock": FaultConfig(throttle_rate=throttle, seed=seed),
        "sagemaker": FaultConfig(error_rate=sagemaker_errors, seed=seed + 1),
    }
    parameters = {
        "MaxInFlightDocuments": "25",
        "IngestMaximumConcurrency": "5",
        "MaxAttempts": "3",
        "RequeueBaseDelaySeconds": "2",
        "IntakeVisibilityTimeoutSeconds": "10",
    }
    if not cache:
        parameters["CacheTtlDays"] = "0"
    runtime = LocalRuntime(parameters=parameters, faults=faults, duplicate_deliveries=2)
    print(
        f"docproc bench --chaos: {n} documents, every S3 event delivered twice, {throttle:.0%} Bedrock "
        f"throttling, {sagemaker_errors:.0%} SageMaker errors, {crash_rate:.0%} Lambda crashes, content cache "
        f"{'on' if cache else 'off'}",
        file=log,
        flush=True,
    )
    with runtime as stack:
        runtime.cloud.set_crash_rate("*", crash_rate, seed=seed)
        started = time.time()
        uploads = [stack.upload_bytes(d.data, f"chaos/{uuid.uuid4().hex[:8]}/{d.name}") for d in docs]
        records = stack.wait_for([u.document_id for u in uploads], timeout=timeout, poll=1.0)
        _wait_quiet(stack, timeout=120)
        duration = time.time() - started
        events = _drain_all_events(stack)
        writes = terminal_writes(stack)
        report = summarise(uploads, records, events, writes, duration)
        report["dead_letter_queue"] = stack.queue_depth("DeadLetterQueueUrl")
        report["lambda"] = runtime.cloud.lambda_stats()
        report["standins"] = runtime.standins.stats()
        report["intake"] = runtime.cloud.event_source_stats()
        report["startup_seconds"] = runtime.startup_seconds
    return report


def _wait_quiet(stack: StackClient, timeout: float) -> None:
    """Let in-flight duplicates finish: intake queue empty and no execution running (bounded)."""
    sfn = stack.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = sfn.list_executions(
            stateMachineArn=stack.outputs["StateMachineArn"], statusFilter="RUNNING", maxResults=1
        ).get("executions", [])
        if not running and stack.queue_depth("IntakeQueueUrl") == 0:
            return
        time.sleep(1)


def _drain_all_events(stack: StackClient) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    empty_polls = 0
    while empty_polls < 2:
        batch = stack.receive_events(wait_seconds=1)
        events.extend(batch)
        empty_polls = 0 if batch else empty_polls + 1
    return events


def terminal_writes(stack: StackClient) -> Counter[tuple[str, str]]:
    """Per (document, generation): how many executions wrote a terminal record (reached a Notify state)."""
    sfn = stack.client("stepfunctions")
    writes: Counter[tuple[str, str]] = Counter()
    for execution in _executions(sfn, stack.outputs["StateMachineArn"]):
        history = sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)["events"]
        entered = {e.get("stateEnteredEventDetails", {}).get("name") for e in history}
        if entered & {"NotifyProcessed", "NotifyFailed"}:
            doc_id, generation, _attempt = execution["name"].rsplit("-", 2)
            writes[(doc_id, generation)] += 1
    return writes


def _executions(sfn: Any, arn: str) -> Iterable[dict[str, Any]]:
    kwargs: dict[str, Any] = {"stateMachineArn": arn, "maxResults": 1000}
    while True:
        page = sfn.list_executions(**kwargs)
        yield from page["executions"]
        if not page.get("nextToken"):
            return
        kwargs["nextToken"] = page["nextToken"]


def summarise(
    uploads: list[Upload],
    records: dict[str, dict[str, Any]],
    events: list[dict[str, Any]],
    writes: Counter[tuple[str, str]],
    duration: float,
) -> dict[str, Any]:
    entered = {u.document_id for u in uploads}
    statuses = Counter(records.get(d, {}).get("status", "MISSING") for d in entered)
    reasons = Counter(
        (records[d].get("error") or {}).get("reasonCode") or records[d].get("reasonCode") or "?"
        for d in entered
        if records.get(d, {}).get("status") == "FAILED"
    )
    event_docs = Counter(e["detail"]["documentId"] for e in events)
    distinct_ids = {e["detail"]["eventId"] for e in events}
    return {
        "entered": len(entered),
        "completed": statuses["COMPLETED"],
        "partial": sum(1 for d in entered if records.get(d, {}).get("partial")),
        "cache_hits": sum(1 for d in entered if (records.get(d, {}).get("cache") or {}).get("status") == "hit"),
        "failed": statuses["FAILED"],
        "failed_by_reason": dict(reasons),
        "lost": len(entered) - statuses["COMPLETED"] - statuses["FAILED"],
        "duplicate_terminal_writes": sum(count - 1 for count in writes.values() if count > 1),
        "records_for_unknown_documents": len({d for d, _ in writes} - entered),
        "events_published": len(events),
        "distinct_event_ids": len(distinct_ids),
        "documents_without_event": len(entered - set(event_docs)),
        "duration_seconds": round(duration, 1),
    }


def print_chaos(report: dict[str, Any], out: Any = sys.stdout) -> None:
    rows = [
        ("documents entered", report["entered"]),
        ("completed", report["completed"]),
        ("  of which partial (one branch missing)", report["partial"]),
        ("  of which content-cache hits (models skipped)", report.get("cache_hits", 0)),
        ("failed", report["failed"]),
        *[(f"  failed: {reason}", count) for reason, count in sorted(report["failed_by_reason"].items())],
        ("lost (no terminal record)", report["lost"]),
        ("duplicate terminal writes", report["duplicate_terminal_writes"]),
        ("records for unknown documents", report["records_for_unknown_documents"]),
        ("events published (received by subscriber)", report["events_published"]),
        ("  distinct event ids", report["distinct_event_ids"]),
        ("  documents without an event", report["documents_without_event"]),
        ("dead-letter queue depth", report.get("dead_letter_queue", "")),
        ("duration (s)", report["duration_seconds"]),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        out.write(f"  {label.ljust(width)}  {value}\n")
    if "intake" in report:
        out.write(f"  intake event source: {json.dumps(report['intake'], sort_keys=True)}\n")
    if "lambda" in report:
        out.write(f"  lambda: {json.dumps(report['lambda'], sort_keys=True)}\n")
    if "standins" in report:
        out.write(f"  stand-ins: {json.dumps(report['standins'], sort_keys=True)}\n")
    out.flush()
