"""Hostile inputs, generated here (never committed), through the local pipeline from template.yaml.

Every one must end in a terminal record on its first attempt, FAILED with its own specific reason code (never
RETRIES_EXHAUSTED or INTERNAL_ERROR) or COMPLETED where the content is readable, within the hang guard.
``docproc bench --hostile`` prints the same rows as a table.
"""

from __future__ import annotations

import uuid

import pytest

from docproc_local.client import StackClient
from docproc_local.hostile import CASES
from docproc_local.hostile_bench import GENERIC_REASONS, Outcome, print_table, run_cases

from stack_helpers import executions_of

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def outcomes(runtime: object) -> dict[str, Outcome]:
    stack: StackClient = runtime.client  # type: ignore[attr-defined]
    rows = run_cases(stack, timeout=600, prefix=f"{uuid.uuid4().hex[:6]}/")  # the deadline is the hang guard
    print_table(rows)  # shown with -s or on failure
    return {row.case.name: row for row in rows}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_input_ends_at_once_with_a_specific_reason(case: object, outcomes: dict[str, Outcome]) -> None:
    row = outcomes[case.name]  # type: ignore[attr-defined]
    assert row.status in ("COMPLETED", "FAILED"), f"{row.case.name} did not finish before the deadline: {row}"
    assert row.attempt == 1, f"retried: {row}"
    assert row.reason not in GENERIC_REASONS, row
    assert (row.status, row.reason) == (row.case.status, row.case.reason), row


def test_no_hostile_input_ran_a_second_execution(runtime: object, outcomes: dict[str, Outcome]) -> None:
    stack: StackClient = runtime.client  # type: ignore[attr-defined]
    for row in outcomes.values():
        names = [execution["name"] for execution in executions_of(stack, row.document_id)]
        assert names == [f"{row.document_id}-g1-a1"], (row.case.name, names)
