"""Concurrent in-process invocations log with their own function's Powertools context."""

from __future__ import annotations

import io
import json
import logging
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from docproc_local.cloud.lambdas import LambdaRuntime
from docproc_local.cloud.patching import Patches

SERVICE = "docproc-log-context-test"  # one service for both functions, as every docproc function has
HANDLER = f"""
from aws_lambda_powertools import Logger

logger = Logger(service="{SERVICE}")


@logger.inject_lambda_context(correlation_id_path="documentId")
def handler(event, context):
    event["injected"].wait(timeout=10)  # every invocation has appended its context keys
    logger.info("working", step=context.function_name)
    event["logged"].wait(timeout=10)
    logger.info("done", step=context.function_name)
    return {{"ok": True}}
"""


def _function(name: str) -> SimpleNamespace:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", HANDLER)
    code = buffer.getvalue()
    return SimpleNamespace(
        function_name=name,
        function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        code_sha_256=name,
        code_bytes=code,
        handler="app.handler",
        version="$LATEST",
        memory_size=512,
        timeout=30,
    )


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[LambdaRuntime]:
    patches = Patches()
    runtime = LambdaRuntime(tmp_path / "code")
    runtime.install(patches)
    yield runtime
    patches.undo()


def _capture(runtime: LambdaRuntime, function: SimpleNamespace) -> io.StringIO:
    """Load the handler (its Logger sets up the service's handler) and point that handler at a buffer."""
    runtime.load_handler(function)
    stream = io.StringIO()
    for handler in logging.getLogger(SERVICE).handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(stream)
    logging.getLogger(SERVICE).setLevel(logging.INFO)
    return stream


def test_concurrent_invocations_log_their_own_function_name_and_correlation_id(runtime: LambdaRuntime) -> None:
    # GIVEN two functions sharing a Powertools service name, loaded into one process
    functions = [_function(f"docproc-fn-{i}") for i in range(4)]
    stream = None
    for function in functions:
        stream = _capture(runtime, function)
    assert stream is not None
    injected, logged = threading.Barrier(len(functions)), threading.Barrier(len(functions))
    results: dict[str, Any] = {}

    def invoke(function: SimpleNamespace) -> None:
        event = {"documentId": f"doc-of-{function.function_name}", "injected": injected, "logged": logged}
        results[function.function_name] = runtime.invoke(function, event)

    # WHEN they are invoked at the same time, every one injecting its context before any logs
    threads = [threading.Thread(target=invoke, args=(f,)) for f in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(not thread.is_alive() for thread in threads), "an invocation hung"
    assert all(errored is False for _, errored, _ in results.values()), results

    # THEN every line names the function (and the correlation id) of the invocation that wrote it
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    assert len(lines) == 2 * len(functions)
    for line in lines:
        assert line["function_name"] == line["step"], line
        assert line["correlation_id"] == f"doc-of-{line['step']}", line
    assert len({line["function_request_id"] for line in lines}) == len(functions)


def test_keys_appended_in_one_invocation_do_not_leak_into_the_next(runtime: LambdaRuntime) -> None:
    first, second = _function("docproc-first"), _function("docproc-second")
    stream = _capture(runtime, first)
    stream = _capture(runtime, second)
    one = threading.Barrier(1)
    runtime.invoke(first, {"documentId": "doc-1", "injected": one, "logged": one})
    runtime.invoke(second, {"injected": one, "logged": one})  # no documentId: no correlation id
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    assert [line["function_name"] for line in lines] == ["docproc-first"] * 2 + ["docproc-second"] * 2
    assert [line.get("correlation_id") for line in lines[2:]] == [None, None]


def test_a_logger_made_while_installed_still_logs_once_the_patch_is_undone() -> None:
    # GIVEN the per-invocation log keys installed, and a Powertools logger created meanwhile (a handler imported)
    from aws_lambda_powertools import Logger

    from docproc_local.cloud import logcontext

    patches = Patches()
    logcontext.install(patches)
    stream = io.StringIO()
    logger = Logger(service="docproc-log-context-after", level="INFO", logger_handler=logging.StreamHandler(stream))
    logger.append_keys(stage="installed")

    # WHEN the local runtime stops (the patch is undone), as between two test modules
    patches.undo()

    # THEN the logger keeps its keys and logs (no AttributeError: 'log_format')
    logger.info("after")
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["message"] == "after"
    assert line["stage"] == "installed"


METRICS_HANDLER = """
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

metrics = Metrics(namespace="docproc-metrics-context-test", service="docproc")


@metrics.log_metrics
def handler(event, context):
    metrics.add_dimension(name="domain", value=event["domain"])
    event["added"].wait(timeout=10)  # every invocation has added its dimension
    metrics.add_metric(name="DocumentsCompleted", unit=MetricUnit.Count, value=1)
    event["measured"].wait(timeout=10)  # every invocation has added its metric before any flushes
    return {"ok": True}
"""


def test_concurrent_invocations_emit_their_own_metrics_and_dimensions(
    runtime: LambdaRuntime, capsys: pytest.CaptureFixture[str], recwarn: pytest.WarningsRecorder
) -> None:
    # GIVEN one function whose handler adds a dimension and a metric (as merge does), loaded once
    function = _function("docproc-metrics")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", METRICS_HANDLER)
    function.code_bytes, function.code_sha_256 = buffer.getvalue(), "docproc-metrics-emf"
    runtime.load_handler(function)
    domains = ["legal", "medical", "financial", "hr"]
    added, measured = threading.Barrier(len(domains)), threading.Barrier(len(domains))
    results: list[Any] = []

    def invoke(domain: str) -> None:
        results.append(runtime.invoke(function, {"domain": domain, "added": added, "measured": measured}))

    # WHEN four invocations run at once, each adding its dimension and metric before any flushes
    threads = [threading.Thread(target=invoke, args=(d,)) for d in domains]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(not thread.is_alive() for thread in threads), "an invocation hung"
    assert all(errored is False for _, errored, _ in results), results

    # THEN each flushed one EMF blob of its own: its domain, one document, no dimension clash
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert sorted(blob["domain"] for blob in blobs) == sorted(domains)
    assert [blob["DocumentsCompleted"] for blob in blobs] == [[1.0]] * len(domains)
    assert not [w for w in recwarn if "already been added" in str(w.message)]
