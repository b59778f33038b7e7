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


def test_loggers_set_up_while_installed_keep_working_once_it_is_undone(tmp_path: Path) -> None:
    from aws_lambda_powertools import Logger

    patches = Patches()
    LambdaRuntime(tmp_path / "code").install(patches)
    logger = Logger(service="docproc-log-context-undo")  # its formatter is created under the descriptor
    patches.undo()
    stream = io.StringIO()
    logging.getLogger("docproc-log-context-undo").handlers[0].setStream(stream)  # type: ignore[attr-defined]
    logger.append_keys(step="after")
    logger.warning("still logs")
    assert json.loads(stream.getvalue())["step"] == "after"
