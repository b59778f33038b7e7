"""``docproc bench --hostile``: every hostile input of :mod:`docproc_local.hostile` through the local pipeline.

Each document is generated, uploaded through the S3 API and followed to its terminal record. The table says, per
input: status and reason code, the attempt it ended on, the seconds from upload to the terminal record, and whether
that is what the case expects (terminal, attempt 1, its specific reason). Exits 1 when any input missed. The hostile
tests (``tests/hostile/``) run the same :func:`run_cases` and assert on its rows.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any

from docproc_local.client import StackClient
from docproc_local.hostile import CASES, Case
from docproc_local.runtime import LocalRuntime

#: Short delays: a transient failure would show up as attempt 2 quickly instead of after minutes.
PARAMETERS = {"RequeueBaseDelaySeconds": "1", "MaxAttempts": "2", "MaxInFlightDocuments": "10"}
GENERIC_REASONS = frozenset({"RETRIES_EXHAUSTED", "INTERNAL_ERROR"})


@dataclass(frozen=True)
class Outcome:
    case: Case
    bytes: int
    status: str  # COMPLETED, FAILED, or UNFINISHED at the deadline
    reason: str | None
    attempt: int | None
    seconds: float
    document_id: str = ""
    message: str = ""

    @property
    def as_expected(self) -> bool:
        return (
            self.status == self.case.status
            and self.reason == self.case.reason
            and self.attempt == 1
            and self.reason not in GENERIC_REASONS
        )


def run_cases(
    stack: StackClient, cases: tuple[Case, ...] = CASES, *, timeout: float = 600, prefix: str = ""
) -> list[Outcome]:
    """Upload every case, wait for all terminal records (``timeout`` is the hang guard), return one row each."""
    uploads = []
    for case in cases:
        data = case.make()
        upload = stack.upload_bytes(data, key=f"{prefix}hostile/{case.name}")
        uploads.append((case, len(data), upload))
        del data
    records = stack.wait_for([upload.document_id for _, _, upload in uploads], timeout=timeout)
    return [_outcome(case, size, upload, records.get(upload.document_id)) for case, size, upload in uploads]


def _outcome(case: Case, size: int, upload: Any, record: dict[str, Any] | None) -> Outcome:
    status = (record or {}).get("status") or "UNFINISHED"
    if status not in ("COMPLETED", "FAILED"):
        status = "UNFINISHED"
    finished = _timestamp((record or {}).get("completedAt")) if status != "UNFINISHED" else None
    return Outcome(
        case=case,
        bytes=size,
        status=status,
        reason=(record or {}).get("reasonCode") if status == "FAILED" else None,
        attempt=int(record["attempt"]) if record and record.get("attempt") is not None else None,
        seconds=round((finished or time.time()) - upload.uploaded_at, 1),
        document_id=upload.document_id,
        message=str(((record or {}).get("error") or {}).get("message") or "")[:200],
    )


def _timestamp(value: Any) -> float | None:
    from datetime import datetime

    return datetime.fromisoformat(str(value)).timestamp() if value else None


def print_table(outcomes: list[Outcome], out: Any = sys.stdout) -> None:
    print(f"{'INPUT':<22} {'SIZE':>9}  {'OUTCOME':<30} {'ATTEMPTS':>8} {'SECONDS':>7}  OK  WHAT", file=out)
    for row in outcomes:
        outcome = row.status if row.status != "FAILED" else f"FAILED {row.reason}"
        size = f"{row.bytes / 1e6:.2f} MB" if row.bytes >= 10_000 else f"{row.bytes} B"
        attempts = "-" if row.attempt is None else str(row.attempt)
        ok = "yes" if row.as_expected else "NO"
        print(
            f"{row.case.name:<22} {size:>9}  {outcome:<30} {attempts:>8} {row.seconds:>7.1f}  {ok:<3} {row.case.what}",
            file=out,
        )
    missed = [row for row in outcomes if not row.as_expected]
    print(f"{len(outcomes) - len(missed)} of {len(outcomes)} inputs ended as expected", file=out)
    for row in missed:
        print(f"  {row.case.name}: expected {row.case.status} {row.case.reason or ''} on attempt 1; {row}", file=out)


def run(timeout: float = 900) -> int:
    runtime = LocalRuntime(parameters=PARAMETERS)
    print(f"docproc bench --hostile: {len(CASES)} generated inputs through the local stack", flush=True)
    with runtime as stack:
        outcomes = run_cases(stack, timeout=timeout)
    print_table(outcomes)
    return 0 if all(row.as_expected for row in outcomes) else 1
