"""Cost per document: the price table's validation, ``estimate`` against hand-computed numbers, the transition rule
against the deployed state machine, and the Lambda sizes against template.yaml."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from docproc import cost
from docproc.cost import Deployment, PriceTable, PriceTableError, estimate, express_usd, load_price_table
from docproc.models import (
    ClassificationResult,
    DocumentStatus,
    Extraction,
    ExtractionResult,
    InsightRecord,
    OcrSummary,
    SourceObject,
    Timings,
    TokenUsage,
    dump,
)

from helpers import REPO, template

PAGE = {"source": "https://aws.amazon.com/pricing/", "as_of": "2026-01-01"}


def round_prices() -> PriceTable:
    """Prices chosen so the expected numbers can be worked out by hand."""
    return PriceTable.model_validate(
        {
            "version": "test-1",
            "models": {
                "m": {"input_per_million_usd": 1.0, "output_per_million_usd": 2.0, "cache_read_per_million_usd": 0.1}
                | PAGE
            },
            "services": {
                "sagemaker_serverless": {
                    "per_second_usd_by_memory_mb": {1024: 0.00002, 2048: 0.00004},
                    "data_in_per_gb_usd": 0.016,
                    "data_out_per_gb_usd": 0.016,
                }
                | PAGE,
                "step_functions": {
                    "standard_per_million_transitions_usd": 25.0,
                    "express_per_million_requests_usd": 1.0,
                    "express_per_gb_second_usd": 0.00001667,
                }
                | PAGE,
                "lambda": {
                    "x86_64": {"per_gb_second_usd": 0.00001, "per_million_requests_usd": 0.2},
                    "arm64": {"per_gb_second_usd": 0.000008, "per_million_requests_usd": 0.2},
                }
                | PAGE,
                "textract": {"detect_document_text_per_thousand_pages_usd": 1.5} | PAGE,
                "eventbridge": {"per_million_events_usd": 1.0} | PAGE,
                "dynamodb": {"per_million_write_request_units_usd": 1.0, "per_million_read_request_units_usd": 0.5}
                | PAGE,
                "sqs": {"per_million_requests_usd": 0.4} | PAGE,
                "s3": {"put_per_thousand_requests_usd": 0.005, "get_per_thousand_requests_usd": 0.0004} | PAGE,
            },
        }
    )


def a_record(
    *, chunks: int = 1, ocr: OcrSummary | None = None, review: bool = False, attempt: int = 1, model: str = "m"
) -> InsightRecord:
    extraction = ExtractionResult(
        document_class="invoice",
        config_version="1",
        extraction=Extraction(title="t", summary="s", language="en", domain_hint="financial"),
        model_id=model,
        usage=TokenUsage(input_tokens=10_000, output_tokens=1_000, total_tokens=11_000),
        duration_ms=3000,
        input_chars=40_000,
        chunks=chunks,
        chunks_duration_ms=2000 * chunks if chunks > 1 else None,
    )
    return InsightRecord(
        document_id="d" * 32,
        status=DocumentStatus.COMPLETED,
        generation=1,
        attempt=attempt,
        source=SourceObject(bucket="b", key="k", size=10),
        format="txt",
        extraction=extraction,
        classification=ClassificationResult(
            domain="financial", confidence=0.9, scores={}, endpoint_name="e", duration_ms=500, input_chars=10_000
        ),
        needs_review=review,
        usage=extraction.usage,
        timings=Timings(prepare_ms=1000, extract_ms=3000, classify_ms=500, merge_ms=24, total_ms=12_345),
        ocr=ocr,
    )


def item_units(record: InsightRecord) -> int:
    return math.ceil(len(json.dumps(dump(record), ensure_ascii=False).encode()) / 1024)


# --- the price table -----------------------------------------------------------------------------------------------


def test_the_shipped_table_loads_and_prices_every_part() -> None:
    table = load_price_table()
    assert table.version
    assert table.price("anthropic.claude-3-haiku-20240307-v1:0") is not None
    assert table.price("us.amazon.nova-micro-v1:0") is not None  # inference profiles are priced as their model
    assert sorted(table.services.sagemaker_serverless.per_second_usd_by_memory_mb) == [
        1024,
        2048,
        3072,
        4096,
        5120,
        6144,
    ]
    assert all(m.source.startswith("https://aws.amazon.com/") for m in table.models.values())


@pytest.fixture
def shipped() -> dict[str, Any]:
    import yaml

    return yaml.safe_load(cost.PRICES_PATH.read_text())


def _write(tmp_path: Path, data: Any) -> Path:
    import yaml

    path = tmp_path / "prices.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (lambda d: d["services"].pop("sqs"), r"services\.sqs: Field required"),
        (lambda d: d["services"]["lambda"]["arm64"].update(per_gb_second_usd=-1), r"services\.lambda\.arm64\.per_gb"),
        (lambda d: d["models"]["amazon.nova-micro-v1:0"].pop("source"), r"models\.amazon\.nova-micro-v1:0\.source"),
        (lambda d: d["services"]["s3"].update(as_of="last week"), r"services\.s3\.as_of"),
        (lambda d: d["services"]["textract"].update(source="aws.amazon.com"), r"services\.textract\.source"),
        (lambda d: d["services"]["dynamodb"].update(per_write_unit=1), r"services\.dynamodb\.per_write_unit: Extra"),
    ],
)
def test_a_bad_table_fails_naming_the_file_and_the_key(
    tmp_path: Path, shipped: dict[str, Any], edit: Any, where: str
) -> None:
    edit(shipped)
    path = _write(tmp_path, shipped)
    with pytest.raises(PriceTableError, match=rf"prices\.yaml: {where}"):
        load_price_table(path)


def test_a_missing_or_unparsable_table_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(PriceTableError, match="cannot read the price table"):
        load_price_table(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: [unclosed\n")
    with pytest.raises(PriceTableError, match="not valid YAML"):
        load_price_table(bad)


# --- estimate ------------------------------------------------------------------------------------------------------


def test_estimate_of_a_one_chunk_document_by_hand() -> None:
    record = a_record()
    result = estimate(record, round_prices())
    b = result.breakdown

    assert b.bedrock == pytest.approx((10_000 * 1.0 + 1_000 * 2.0) / 1e6)  # 0.012
    # 0.5 s x $0.00004 at 2 GB; 10,000 chars + 32 bytes sent, 512 received, at $0.016/GB
    assert b.sagemaker == pytest.approx(0.5 * 0.00004 + (10_032 + 512) / 1024**3 * 0.016)
    assert b.textract == 0
    assert result.state_transitions == 16
    assert b.step_functions == pytest.approx(16 * 25 / 1e6)
    # GB-s: ingest 0.2 s x 0.5 GB + prepare 1 s x 1 GB + extract 3 s x 0.5 + classify 0.5 x 0.5 + merge 0.024 x 0.5
    assert result.lambda_gb_seconds == pytest.approx(0.1 + 1.0 + 1.5 + 0.25 + 0.012)
    assert b.lambda_ == pytest.approx(2.862 * 0.000008 + 5 * 0.2 / 1e6)  # arm64, as deployed
    # 1 event; writes 9 + the item's KB; 1 lease scan; SQS 3 + 1 subscriber send; S3 2 PUTs, 3 GETs
    other = 1e-6 + (9 + item_units(record)) * 1e-6 + 0.5e-6 + 4 * 0.4e-6 + 2 * 0.005e-3 + 3 * 0.0004e-3
    assert b.other == pytest.approx(other)
    assert result.total_usd == pytest.approx(sum(dump(b).values()))
    assert result.prices_version == "test-1"
    assert result.unpriced is None


def test_chunks_ocr_polls_review_and_a_second_attempt_count_on_the_path() -> None:
    ocr = OcrSummary(mode="async", pages=[1, 2, 3], mean_confidence=0.9, reason="scan", pages_processed=5, polls=2)
    record = a_record(chunks=3, ocr=ocr, review=True, attempt=2)
    result = estimate(record, round_prices())

    # 16 + review 1 + chunks (ExtractChunks, 3 x ExtractChunk, CombineChunks instead of ExtractionDone) 4
    # + OCR 3 + 2 polls x 3, and one requeued attempt before: 14
    assert result.state_transitions == 16 + 1 + 4 + 3 + 6 + 14
    assert result.breakdown.textract == pytest.approx(5 * 1.5 / 1000)  # the pages Textract read, not only the used
    one_pass = estimate(a_record(), round_prices())
    assert result.breakdown.bedrock == one_pass.breakdown.bedrock  # tokens are the record's sum over chunks
    # Lambda: + plan 0.3 s, chunks 3 x 2 s (instead of one 3 s extract, plus combining 3 s), OCR 3 x 1 s; and the
    # requeued attempt's ingest, prepare and triage
    gb_s = 0.1 + 1.0 + 3 * 0.5 + (0.3 + 6.0 + 3.0) * 0.5 + 0.25 + 0.012
    assert result.lambda_gb_seconds == pytest.approx(gb_s)
    # 12 invocations: ingest, prepare, 3 x OCR, plan, 3 chunks, combine, classify, merge
    requeued = (0.1 + 1.0 + 0.1) * 0.000008 + 3 * 0.2e-6
    assert result.breakdown.lambda_ == pytest.approx(gb_s * 0.000008 + 12 * 0.2e-6 + requeued)


def test_cache_reads_are_priced_and_unknown_models_are_named() -> None:
    record = a_record()
    record.usage = TokenUsage(input_tokens=1000, output_tokens=0, cache_read_input_tokens=100_000)
    assert estimate(record, round_prices()).breakdown.bedrock == pytest.approx((1000 * 1.0 + 100_000 * 0.1) / 1e6)

    unknown = estimate(a_record(model="vendor.new-model-v9"), round_prices())
    assert unknown.breakdown.bedrock == 0
    assert unknown.unpriced == ["vendor.new-model-v9"]
    assert unknown.total_usd > 0


def test_classifier_memory_and_architecture_change_the_price() -> None:
    record = a_record()
    small = estimate(record, round_prices(), Deployment(classifier_memory_mb=1024, architecture="arm64"))
    assert small.breakdown.sagemaker == pytest.approx(0.5 * 0.00002 + (10_032 + 512) / 1024**3 * 0.016)
    assert small.breakdown.lambda_ == pytest.approx(2.862 * 0.000008 + 5 * 0.2 / 1e6)


def test_express_comparison_from_the_measured_duration() -> None:
    # 12,345 ms -> 12.4 s at 64 MB, one request
    assert express_usd(12_345, round_prices()) == pytest.approx(1e-6 + 0.0625 * 12.4 * 0.00001667)
    assert express_usd(100, round_prices(), attempts=2) == pytest.approx(2e-6 + 0.0625 * 0.1 * 0.00001667)


# --- the rule against the deployed definition and template ---------------------------------------------------------


def walk(states: dict[str, Any], start: str, decide: dict[str, list[str]], items: int = 1) -> list[str]:
    """States entered from ``start``: a Choice takes the next of ``decide[name]`` (else its Default), a Parallel
    runs every branch, a Map its iterator ``items`` times."""
    path, name = [], start
    while name:
        state = states[name]
        path.append(name)
        if state["Type"] == "Choice":
            queue = decide.get(name, [])
            name = queue.pop(0) if queue else state["Default"]
            continue
        if state["Type"] == "Parallel":
            for branch in state["Branches"]:
                path += walk(branch["States"], branch["StartAt"], decide, items)
        if state["Type"] == "Map":
            inner = state.get("ItemProcessor") or state["Iterator"]
            for _ in range(items):
                path += walk(inner["States"], inner["StartAt"], decide, items)
        if state.get("End") or state["Type"] in ("Succeed", "Fail"):
            break
        name = state["Next"]
    return path


@pytest.fixture(scope="module")
def definition() -> dict[str, Any]:
    return json.loads((REPO / "statemachine" / "document_pipeline.asl.json").read_text())


def test_the_base_path_is_the_definitions_path(definition: dict[str, Any]) -> None:
    path = walk(definition["States"], definition["StartAt"], {})
    assert tuple(path) == cost.BASE_PATH


@pytest.mark.parametrize(
    ("chunks", "polls", "review"),
    [(1, 0, False), (1, 0, True), (4, 0, False), (1, 3, False), (2, 1, True)],
)
def test_transitions_equal_a_walk_of_the_definition(
    definition: dict[str, Any], chunks: int, polls: int, review: bool
) -> None:
    decide: dict[str, list[str]] = {}
    ocr = None
    if polls:
        ocr = OcrSummary(mode="async", pages=[1], mean_confidence=0.9, reason="scan", polls=polls)
        decide["NeedsOcr?"] = ["StartOcr"]
        decide["OcrDone?"] = ["WaitForOcr"] * polls + ["UseOcrText"]
    if chunks > 1:
        decide["Chunked?"] = ["ExtractChunks"]
    if review:
        decide["NeedsReview?"] = ["NotifyNeedsReview"]
    path = walk(definition["States"], definition["StartAt"], decide, items=chunks)
    assert cost.state_transitions(a_record(chunks=chunks, ocr=ocr, review=review)) == len(path)


def test_the_requeued_pass_states_exist(definition: dict[str, Any]) -> None:
    names = set(definition["States"])
    for state in definition["States"].values():
        for branch in state.get("Branches", []):
            names |= set(branch["States"])
    assert set(cost.REQUEUED_PASS) <= names


def test_lambda_memory_matches_the_template() -> None:
    resources = template()["Resources"]
    default = template()["Globals"]["Function"]["MemorySize"]
    for name, memory in cost.LAMBDA_MEMORY_MB.items():
        props = resources[f"{name.capitalize()}Function"]["Properties"]
        assert props.get("MemorySize", default) == memory, name
    assert template()["Globals"]["Function"]["Architectures"] == [Deployment().architecture]
    merge_env = resources["MergeFunction"]["Properties"]["Environment"]["Variables"]
    assert "CLASSIFIER_MEMORY_MB" in merge_env


# --- docproc run's cost column and docproc cost --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.0037125, "$0.003713"),
        (1.23456, "$1.235"),
        (0.000012344, "$0.00001234"),
        (1234.56, "$1235"),
        (0.00099996, "$0.001000"),
        (0, "$0"),
    ],
)
def test_usd_has_four_significant_digits_and_no_exponent(value: float, shown: str) -> None:
    from docproc_local.cost_cli import usd

    assert usd(value) == shown


def _stored(document_class: str, domain: str, model: str, total: float, sfn: float = 0.0004) -> dict[str, Any]:
    """A COMPLETED record as the table holds it, with a cost whose breakdown sums to ``total``."""
    breakdown = {"bedrock": total - sfn - 0.0001, "sagemaker": 0.0001, "textract": 0.0, "stepFunctions": sfn,
                 "lambda": 0.0, "other": 0.0}  # fmt: skip
    return {
        "documentId": f"{document_class}-{total}",
        "status": "COMPLETED",
        "generation": 1,
        "attempt": 1,
        "source": {"bucket": "b", "key": "k", "size": 1},
        "documentClass": document_class,
        "classification": {"domain": domain, "confidence": 0.9, "endpointName": "e", "durationMs": 90},
        "extraction": {"modelId": model},
        "timings": {"totalMs": 2950},
        "cost": {"totalUsd": total, "breakdown": breakdown, "pricesVersion": "v1", "stateTransitions": 16},
    }


def test_run_table_shows_each_documents_cost_and_a_total_line() -> None:
    import io

    from docproc_local import cli
    from docproc_local.client import Upload

    records = [_stored("invoice", "financial", "m", 0.0037124), _stored("letter", "general", "m", 0.0011)]
    rows = [cli._row(Upload(r["documentId"], f"{i}.txt", None, 0.0), r) for i, r in enumerate(records)]
    rows.append(cli._row(Upload("x", "unfinished.txt", None, 0.0), None))
    out = io.StringIO()
    cli.print_table(rows, out)
    header, first, second, unfinished = out.getvalue().splitlines()
    assert "COST" in header.split()
    assert first.split()[-1] == "$0.003712"
    assert second.split()[-1] == "$0.001100"
    assert "$" not in unfinished
    # 0.0048124 for 2 documents -> per 1,000: $2.406
    line = cli.cost_line([*records, {"status": "FAILED"}])
    assert line.startswith("cost: $0.004812 for 2 document(s), $2.406 per 1,000 documents")
    assert "price table v1" in line
    assert cli.cost_line([]).startswith("cost: n/a")


def test_cost_summary_by_model_domain_class_and_component(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from docproc_local import cli
    from docproc_local.cost_cli import summarise

    records = [
        _stored("invoice", "financial", "anthropic.claude-3-haiku-20240307-v1:0", 0.004),
        _stored("invoice", "financial", "amazon.nova-micro-v1:0", 0.001),
        _stored("contract", "legal", "anthropic.claude-3-haiku-20240307-v1:0", 0.006),
        {"status": "COMPLETED", "documentId": "old"},  # written before costs existed
        {"status": "FAILED", "documentId": "f"},
    ]
    summary = summarise(records, load_price_table())

    assert (summary["documents"], summary["withoutCost"]) == (3, 1)
    assert summary["totalUsd"] == pytest.approx(0.011)
    assert summary["per1000Usd"] == pytest.approx(11 / 3)
    claude = summary["byModel"]["anthropic.claude-3-haiku-20240307-v1:0"]
    assert (claude["documents"], claude["totalUsd"], claude["per1000Usd"]) == (2, pytest.approx(0.01), pytest.approx(5))
    assert list(summary["byModel"]) == ["anthropic.claude-3-haiku-20240307-v1:0", "amazon.nova-micro-v1:0"]
    assert summary["byDomain"]["financial"]["totalUsd"] == pytest.approx(0.005)
    assert summary["byClass"]["contract"]["per1000Usd"] == pytest.approx(6)
    assert summary["byComponent"]["stepFunctions"]["per1000Usd"] == pytest.approx(0.4)
    assert sum(c["totalUsd"] for c in summary["byComponent"].values()) == pytest.approx(summary["totalUsd"])
    # Express: 1 request + 64 MB x 3.0 s each, at the shipped prices
    express = load_price_table().services.step_functions
    per_doc = express.express_per_million_requests_usd / 1e6 + 0.0625 * 3.0 * express.express_per_gb_second_usd
    assert summary["stepFunctions"]["expressPer1000Usd"] == pytest.approx(1000 * per_doc)

    # AND the command reads `docproc run --jsonl` lines and prints the same numbers
    jsonl = tmp_path / "run.jsonl"
    jsonl.write_text("".join(json.dumps({"record": r, "result": None}) + "\n" for r in records))
    assert cli.main(["cost", "--jsonl", str(jsonl), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["per1000Usd"] == pytest.approx(11 / 3)
    assert cli.main(["cost", "--jsonl", str(jsonl)]) == 0
    printed = capsys.readouterr().out
    assert "$3.667" in printed  # per 1,000 documents
    assert "amazon.nova-micro-v1:0" in printed
    assert max(len(line) for line in printed.splitlines()) <= 120
