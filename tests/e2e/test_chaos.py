"""A small chaos run as a test: duplicates, throttling, 5xx and crashes, and still nothing lost or doubled."""

from __future__ import annotations

import io

import pytest

from docproc_local.bench import chaos_report, print_chaos

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]


def test_small_chaos_run_loses_nothing_and_writes_nothing_twice() -> None:
    log = io.StringIO()
    report = chaos_report(n=40, samples=None, seed=3, timeout=600, log=log, broken_every=10)
    print_chaos(report, log)
    print(log.getvalue())

    assert report["entered"] == 40
    assert report["lost"] == 0
    assert report["duplicate_terminal_writes"] == 0
    assert report["records_for_unknown_documents"] == 0
    assert report["completed"] + report["failed"] == 40
    assert report["failed_by_reason"].get("RETRIES_EXHAUSTED", 0) <= 2
    assert report["documents_without_event"] == 0
    assert report["standins"]["bedrock"]["throttled"] > 0
