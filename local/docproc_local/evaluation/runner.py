"""Run golden documents through a stack: upload through S3 under a key prefix unique to this run, wait for the
terminal records, read each COMPLETED record's result JSON (the DynamoDB item when the JSON cannot be read)."""

from __future__ import annotations

import secrets
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from docproc_local.client import StackClient
from docproc_local.evaluation.golden import GoldenDocument

KEY_ROOT = "evaluate"


@dataclass(frozen=True)
class DocumentRun:
    golden: GoldenDocument
    key: str
    document_id: str
    record: dict[str, Any] | None  # the result JSON, or the record; None when none was terminal in time


def run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(3)


def run_documents(
    client: StackClient,
    documents: Sequence[GoldenDocument],
    *,
    timeout: float,
    prefix: str,
    on_change: Callable[[str, dict[str, Any]], None] | None = None,
) -> list[DocumentRun]:
    uploads = [client.upload_file(doc.path, key=f"{prefix}{doc.name}") for doc in documents]
    records = client.wait_for([u.document_id for u in uploads], timeout=timeout, on_change=on_change)
    runs = []
    for doc, upload in zip(documents, uploads, strict=True):
        record = records.get(upload.document_id)
        if record is not None and record.get("status") == "COMPLETED":  # QUEUED / PROCESSING: scored unfinished
            record = _result(client, record)
        runs.append(DocumentRun(doc, upload.key, upload.document_id, record))
    return runs


def _result(client: StackClient, record: dict[str, Any]) -> dict[str, Any]:
    try:
        result = client.result_json(record)
    except ClientError as exc:
        print(f"docproc evaluate: cannot read {record.get('resultUri')} ({exc}); using the table item", file=sys.stderr)
        return record
    return result if isinstance(result, dict) else record


@contextmanager
def stack_client(
    stack_name: str | None, region: str | None, template: Path | None, parameters: dict[str, str] | None = None
) -> Iterator[tuple[StackClient, str]]:
    """(client, description): the deployed stack ``stack_name``, or a local stack started for this run."""
    if stack_name:
        yield StackClient.for_cloudformation_stack(stack_name, region), f"stack {stack_name}"
        return
    from docproc_local.runtime import LocalRuntime

    runtime = LocalRuntime(template=template, parameters=parameters)
    print(f"Starting the local stack from {runtime.template.name} (moto + model stand-ins) ...", file=sys.stderr)
    with runtime as client:
        print(f"  ready in {runtime.startup_seconds:.1f}s", file=sys.stderr)
        yield client, f"local stack ({runtime.template})"
