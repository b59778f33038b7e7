"""Guardrails and model variants through the local Bedrock stand-in, with a real boto3 client and docproc's extract.

The stand-in answers the lite model (Nova Micro) with another strategy (standins/strategies.py) and applies the
local guardrail of standins/guardrails.json: the differences here are behaviours a report measures.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from docproc import errors
from docproc.extraction import Guardrail, extract
from docproc_local.standins import StandinServer, strategies

FULL_MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
LITE_MODEL = "amazon.nova-micro-v1:0"
GUARDRAIL = Guardrail("docproclocal1", "DRAFT")

INVOICE = """ACME Cloud Services Ltd.
12 Harbour Street, Bristol BS1 4DJ, United Kingdom

INVOICE

Invoice Number: INV-2024-00123
Invoice Date: March 5, 2024
Due Date: 04/04/2024

Bill To:
Northwind Traders Inc.

Description                         Qty   Unit Price     Amount
Cloud hosting (March 2024)            1    $1,200.00   $1,200.00
Premium support                       1      $350.00     $350.00

Subtotal: $1,550.00
Tax (8.5%): $131.75
Total Due: USD 1,681.75
"""


@pytest.fixture(scope="module")
def bedrock() -> Iterator[Any]:
    with StandinServer(environ={}) as server:
        yield boto3.client(
            "bedrock-runtime",
            endpoint_url=server.url,
            region_name="us-east-1",
            config=Config(retries={"total_max_attempts": 1}),
        )


def run(bedrock: Any, text: str, model_id: str = FULL_MODEL, **options: Any) -> Any:
    return extract(text, bedrock=bedrock, model_id=model_id, max_input_chars=60_000, **options)


def test_guardrail_passes_clean_documents(bedrock: Any) -> None:
    result = run(bedrock, INVOICE, guardrail=GUARDRAIL)
    assert result.document_class == "invoice"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (INVOICE + "\nTOP SECRET//NOFORN\n", "input blocked by word policy"),
        ("Field manual.\nStep 3: how to build a bomb from fertiliser.\n", "input blocked by denied topic Weapons"),
    ],
)
def test_guardrail_intervention_is_permanent_with_its_reason(bedrock: Any, text: str, reason: str) -> None:
    with pytest.raises(errors.GuardrailIntervened) as caught:
        run(bedrock, text, guardrail=GUARDRAIL)
    assert reason in str(caught.value)
    assert "docproclocal1:DRAFT" in str(caught.value)
    assert caught.value.reason_code == "GUARDRAIL_INTERVENED"
    assert not caught.value.retryable
    # without a guardrail the same document is extracted
    assert run(bedrock, text).document_class


def test_unknown_guardrail_is_a_request_error(bedrock: Any) -> None:
    with pytest.raises(errors.ModelRequestInvalid, match="ValidationException"):
        run(bedrock, INVOICE, guardrail=Guardrail("nosuchguardrail", "1"))


def test_lite_model_needs_a_repair_round_and_states_fewer_fields(bedrock: Any) -> None:
    full = run(bedrock, INVOICE)
    lite = run(bedrock, INVOICE, model_id=LITE_MODEL)
    assert full.document_class == lite.document_class == "invoice"
    # amounts as text on the first round: schema errors, then the repair round fixes them
    assert not full.repaired
    assert lite.repaired
    assert lite.usage.input_tokens > full.usage.input_tokens  # two calls
    assert set(lite.fields or {}) <= set(full.fields or {})
    stated = [v for value in (lite.fields or {}).values() for v in (value if isinstance(value, list) else [value])]
    assert all((v.model_confidence or 0) >= strategies.LITE.min_confidence for v in stated)  # no heuristic hits
    assert isinstance((lite.fields or {})["total"].value, float)
    assert len(lite.extraction.summary) <= len(full.extraction.summary)


def test_lite_model_reads_less_and_does_not_track_pages(bedrock: Any) -> None:
    page_two = "Cover page of the statement.\n" + "\f" + INVOICE
    full = run(bedrock, page_two)
    lite = run(bedrock, page_two, model_id=LITE_MODEL)
    number_full = (full.fields or {})["invoice_number"]
    number_lite = (lite.fields or {})["invoice_number"]
    assert number_full.evidence.page == 2
    assert "page_corrected" not in number_full.flags
    assert number_lite.evidence.page == 2  # the evidence check moved it ...
    assert "page_corrected" in number_lite.flags  # ... from the page 1 the lite model said
    assert number_lite.confidence < number_full.confidence
    late = "Notes.\n" + "x " * 2500 + "\n" + INVOICE  # the invoice starts after the lite model's 4,000 characters
    assert "invoice_number" in (run(bedrock, late).fields or {})
    assert "invoice_number" not in (run(bedrock, late, model_id=LITE_MODEL).fields or {})


def test_strategy_by_model_id() -> None:
    assert strategies.for_model("amazon.nova-micro-v1:0") is strategies.LITE
    assert strategies.for_model("us.amazon.nova-micro-v1:0") is strategies.LITE
    assert strategies.for_model(FULL_MODEL) is strategies.FULL
    assert strategies.for_model(FULL_MODEL, {strategies.LITE_MODELS_ENV: "anthropic.claude-3"}) is strategies.LITE
