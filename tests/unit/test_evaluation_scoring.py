"""``docproc evaluate``: golden-set validation, per-document scoring, the metrics on hand-computed examples, cost,
the gates, the report files and the command's exit codes (with a stand-in stack client; the real stack is in
tests/e2e/test_evaluate_golden.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from docproc import classes
from docproc.cost import ModelPrice
from docproc_local import cli as docproc_cli
from docproc_local.client import Upload
from docproc_local.evaluation import costs, runner
from docproc_local.evaluation.costs import Prices, load_prices
from docproc_local.evaluation.gates import Thresholds, check, parse_field_gate
from docproc_local.evaluation.golden import GoldenDocument, GoldenSetError, load
from docproc_local.evaluation.scoring import (
    calibration,
    cost_metrics,
    field_metrics,
    label_metrics,
    percentile,
    prf,
    score_document,
    selected_f1,
    summarise,
)

CONFIG = classes.load()

INVOICE_FIELDS = {
    "invoice_number": "RE-2024-0815",
    "issue_date": "2024-03-01",
    "issuer": "Kessler Haustechnik GmbH",
    "total": 1190.0,
    "currency": "EUR",
    "line_items": [
        {"description": "Wartung Heizungsanlage", "quantity": 1, "unit_price": 1000.0, "amount": 1000.0},
        {"description": "Anfahrt", "amount": 45.0},
    ],
}


def write_golden(root: Path, entries: dict[str, dict[str, Any]]) -> Path:
    (root / "documents").mkdir(parents=True)
    (root / "expected").mkdir()
    for name, expected in entries.items():
        (root / "documents" / name).write_text(f"document {name}\n", encoding="utf-8")
        body = {"file": name, "language": "en", "source": "written for the test", "license": "Apache-2.0", **expected}
        (root / "expected" / f"{name}.json").write_text(json.dumps(body), encoding="utf-8")
    return root


def golden_doc(name: str, class_name: str, domain: str, fields: dict[str, Any], **kw: Any) -> GoldenDocument:
    return GoldenDocument(
        name=name, path=Path(name), expected_path=Path(name + ".json"), class_name=class_name, domain=domain,
        fields=fields, **kw,
    )  # fmt: skip


def env(value: Any, confidence: float = 0.9) -> dict[str, Any]:
    return {"value": value, "confidence": confidence, "evidence": {"page": 1, "quote": str(value), "found": True}}


def record(
    document_class: str,
    domain: str,
    fields: dict[str, Any],
    *,
    confidence: float = 0.8,
    usage: tuple[int, int] = (1000, 200),
    total_ms: int = 2000,
    model: str = "anthropic.claude-3-haiku-20240307-v1:0",
) -> dict[str, Any]:
    return {
        "documentId": "d-" + document_class,
        "status": "COMPLETED",
        "documentClass": document_class,
        "classification": {"domain": domain, "confidence": 0.9},
        "extraction": {"modelId": model, "usage": {"inputTokens": usage[0], "outputTokens": usage[1]}},
        "fields": fields,
        "confidence": confidence,
        "usage": {"inputTokens": usage[0], "outputTokens": usage[1], "totalTokens": sum(usage)},
        "timings": {"totalMs": total_ms},
    }


# --- golden set ----------------------------------------------------------------------------------------------------


def test_load_a_valid_golden_set(tmp_path: Path) -> None:
    root = write_golden(tmp_path / "g", {
        "invoice-a.txt": {"class": "invoice", "domain": "financial", "fields": INVOICE_FIELDS,
                          "match": {"issuer": "exact"}},
        "letter-b.txt": {"class": "letter", "domain": "general", "fields": {"subject": "Hello"}},
    })  # fmt: skip
    documents = load(root, CONFIG)
    assert [d.name for d in documents] == ["invoice-a.txt", "letter-b.txt"]
    assert documents[0].class_name == "invoice"
    assert documents[0].match == {"issuer": "exact"}
    assert documents[0].path == root / "documents" / "invoice-a.txt"


def test_golden_errors_name_the_file_and_the_json_path(tmp_path: Path) -> None:
    root = write_golden(tmp_path / "g", {
        "bad-class.txt": {"class": "invoise", "domain": "financial", "fields": {}},
        "bad-total.txt": {"class": "invoice", "domain": "financial", "fields": {"total": "1.190,00"}},
        "bad-item.txt": {"class": "invoice", "domain": "financial",
                         "fields": {"line_items": [{"description": "x", "quantity": "two"}]}},
        "bad-date.txt": {"class": "invoice", "domain": "financial", "fields": {"issue_date": "01.03.2024"}},
        "bad-field.txt": {"class": "receipt", "domain": "financial", "fields": {"invoice_number": "1"}},
        "bad-domain.txt": {"class": "letter", "domain": "finance", "fields": {}},
        "bad-match.txt": {"class": "letter", "domain": "general", "fields": {}, "match": {"subject": "soundex"}},
    })  # fmt: skip
    (root / "documents" / "orphan.txt").write_text("no label")
    (root / "expected" / "ghost.txt.json").write_text("{not json")
    with pytest.raises(GoldenSetError) as raised:
        load(root, CONFIG)
    message = str(raised.value)
    expected = root / "expected"
    assert "has 9 problem(s)" in message
    assert f"{expected / 'bad-class.txt.json'}: $.class: 'invoise' is not a document class" in message
    assert f"{expected / 'bad-total.txt.json'}: $.fields.total: '1.190,00' is not of type 'number'" in message
    assert (
        f"{expected / 'bad-item.txt.json'}: $.fields.line_items[0].quantity: 'two' is not of type 'number'" in message
    )
    assert f"{expected / 'bad-date.txt.json'}: $.fields.issue_date: '01.03.2024' is not a 'date'" in message
    assert (
        f"{expected / 'bad-field.txt.json'}: $.fields.invoice_number: receipt has no field 'invoice_number'" in message
    )
    assert f"{expected / 'bad-domain.txt.json'}: $.domain: 'finance' is not one of" in message
    assert f"{expected / 'bad-match.txt.json'}: $.match.subject: 'soundex' is not one of" in message
    assert f"{root / 'documents' / 'orphan.txt'}: no expected file" in message
    assert f"{expected / 'ghost.txt.json'}: no document" in message


def test_golden_without_its_folders(tmp_path: Path) -> None:
    with pytest.raises(GoldenSetError, match="needs documents/ and expected/"):
        load(tmp_path, CONFIG)


# --- one document --------------------------------------------------------------------------------------------------


def test_score_document_counts_tp_fp_fn_per_field() -> None:
    golden = golden_doc("inv.txt", "invoice", "financial", INVOICE_FIELDS)
    predicted = {
        "invoice_number": env("RE 2024 0815", 0.95),  # TP (identifier)
        "issue_date": env("2024-03-10", 0.7),  # FP + FN
        "issuer": env("Kessler Haustechnik", 0.9),  # TP (legal form dropped)
        "currency": env("EUR", 0.9),  # TP
        # total missing: FN
        "due_date": env("2024-03-31", 0.4),  # not in the document: FP
        "line_items": [env(INVOICE_FIELDS["line_items"][0], 0.8), env({"description": "Rabatt", "amount": -5}, 0.3)],
    }
    outcome = score_document(golden, record("invoice", "financial", predicted), CONFIG, key="k/inv.txt")
    counts = {f.field: (f.tp, f.fp, f.fn) for f in outcome.fields}
    assert counts == {
        "invoice.invoice_number": (1, 0, 0),
        "invoice.issue_date": (0, 1, 1),
        "invoice.due_date": (0, 1, 0),
        "invoice.issuer": (1, 0, 0),
        "invoice.total": (0, 0, 1),
        "invoice.currency": (1, 0, 0),
        "invoice.line_items": (1, 1, 1),
    }
    by_field = {f.field: f for f in outcome.fields}
    assert by_field["invoice.issue_date"].mismatches == ("different",)
    assert by_field["invoice.total"].mismatches == ("missing",)
    assert by_field["invoice.due_date"].mismatches == ("not in the document",)
    assert by_field["invoice.line_items"].mismatches == (
        "description: expected Anfahrt, got Rabatt (similarity 0.46); amount: expected 45.0, got -5",
    )
    assert by_field["invoice.line_items"].predictions == ((0.8, True), (0.3, False))
    assert outcome.class_correct
    assert not outcome.fully_correct


def test_wrong_class_counts_expected_as_fn_and_predictions_as_fp() -> None:
    golden = golden_doc("inv.txt", "invoice", "financial", INVOICE_FIELDS)
    predicted = {"merchant": env("Kessler"), "items": [env({"description": "a"}), env({"description": "b"})]}
    outcome = score_document(golden, record("receipt", "financial", predicted), CONFIG)
    counts = {f.field: (f.tp, f.fp, f.fn) for f in outcome.fields}
    assert counts == {
        "invoice.invoice_number": (0, 0, 1),
        "invoice.issue_date": (0, 0, 1),
        "invoice.issuer": (0, 0, 1),
        "invoice.total": (0, 0, 1),
        "invoice.currency": (0, 0, 1),
        "invoice.line_items": (0, 0, 2),
        "receipt.merchant": (0, 1, 0),
        "receipt.items": (0, 2, 0),
    }
    assert outcome.domain_correct
    assert not outcome.class_correct
    assert outcome.fields[0].mismatches == ("missing (class receipt instead of invoice)",)


def test_failed_and_unfinished_documents_are_wrong_everywhere() -> None:
    golden = golden_doc("c.pdf", "contract", "legal", {"governing_law": "State of New York"})
    failed = {"documentId": "d1", "status": "FAILED", "error": {"reasonCode": "ENCRYPTED_DOCUMENT", "message": "x"}}
    outcome = score_document(golden, failed, CONFIG)
    assert (outcome.status, outcome.reason_code, outcome.predicted_class) == ("FAILED", "ENCRYPTED_DOCUMENT", None)
    assert [(f.field, f.fn) for f in outcome.fields] == [("contract.governing_law", 1)]
    assert not outcome.domain_correct
    unfinished = score_document(golden, None, CONFIG)
    assert (unfinished.status, unfinished.reason_code) == ("UNFINISHED", "TIMEOUT")
    processing = score_document(golden, {"status": "PROCESSING"}, CONFIG)
    assert (processing.status, processing.error_message) == ("UNFINISHED", "still PROCESSING at the deadline")


def test_match_override_from_the_golden_file() -> None:
    golden = golden_doc("c.txt", "contract", "legal", {"term": "two (2) years"}, match={"term": "exact"})
    outcome = score_document(golden, record("contract", "legal", {"term": env("two years")}), CONFIG)
    assert (outcome.fields[0].tp, outcome.fields[0].fn) == (0, 1)  # fuzzy would pass (0.9)


# --- metrics -------------------------------------------------------------------------------------------------------


def test_prf() -> None:
    assert prf(2, 1, 1) == pytest.approx(
        {"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "tp": 2, "fp": 1, "fn": 1, "support": 3}
    )
    assert prf(0, 0, 0)["f1"] == 0.0
    assert prf(3, 0, 1)["f1"] == pytest.approx(2 * 1 * 0.75 / 1.75)


def test_label_metrics_macro_f1_and_confusion() -> None:
    pairs = [("legal", "legal"), ("legal", "financial"), ("financial", "financial"), ("medical", None)]
    result = label_metrics(pairs)
    assert result["accuracy"] == 0.5
    assert result["per_label"]["legal"]["precision"] == 1.0
    assert result["per_label"]["legal"]["recall"] == 0.5
    assert result["per_label"]["financial"]["precision"] == 0.5
    assert result["per_label"]["medical"]["f1"] == 0.0
    assert result["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 0) / 3)
    assert result["confusion"] == {
        "rows": ["financial", "legal", "medical"],
        "columns": ["financial", "legal", "medical", "(none)"],
        "matrix": [[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0, 1]],
    }
    # a predicted label not in the golden set is a column, never a row, and not in the macro average
    other = label_metrics([("legal", "hr"), ("legal", "legal")])
    assert other["confusion"]["columns"] == ["legal", "hr"]
    assert list(other["per_label"]) == ["legal"]
    assert other["macro_f1"] == pytest.approx(2 / 3)


def test_calibration_ece_on_a_small_example() -> None:
    points = [(0.95, True), (0.95, False), (0.35, True), (0.0, False)]
    result = calibration(points)
    # |0.5 - 0.95| * 2/4 + |1 - 0.35| * 1/4 + |0 - 0| * 1/4
    assert result["ece"] == pytest.approx(0.3875)
    assert [(b["bin"], b["count"]) for b in result["bins"] if b["count"]] == [
        ("0.0-0.1", 1),
        ("0.3-0.4", 1),
        ("0.9-1.0", 2),
    ]
    assert len(result["bins"]) == 10
    assert calibration([])["ece"] is None


def test_percentile_is_nearest_rank() -> None:
    assert percentile(list(range(1, 21)), 95) == 19
    assert percentile([3.0, 1.0, 2.0], 95) == 3.0
    assert percentile([5.0], 50) == 5.0
    assert percentile([], 95) is None


def test_field_metrics_and_selected_f1() -> None:
    golden = golden_doc("inv.txt", "invoice", "financial", {"total": 100.0, "currency": "EUR"})
    receipt = golden_doc("r.txt", "receipt", "financial", {"total": 9.5})
    outcomes = [
        score_document(golden, record("invoice", "financial", {"total": env(100), "currency": env("USD")}), CONFIG),
        score_document(receipt, record("receipt", "financial", {"total": env(9.0)}), CONFIG),
    ]
    metrics = field_metrics(outcomes, CONFIG)
    assert list(metrics["per_field"]) == ["invoice.total", "invoice.currency", "receipt.total"]
    assert metrics["overall"] == pytest.approx(prf(1, 2, 2))
    assert selected_f1(metrics["per_field"], "invoice.total")["f1"] == 1.0
    assert selected_f1(metrics["per_field"], "total")["f1"] == pytest.approx(prf(1, 1, 1)["f1"])
    assert selected_f1(metrics["per_field"], "tax") is None


# --- cost, summary and gates ---------------------------------------------------------------------------------------

SHIPPED = load_prices()
assert SHIPPED is not None
PAGE = {"source": "https://aws.amazon.com/bedrock/pricing/", "as_of": "2026-01-01"}
PRICES: Prices = SHIPPED.model_copy(
    update={
        "version": "test",
        "source": "",
        "models": {
            "anthropic.claude-3-haiku-20240307-v1:0": ModelPrice(
                input_per_million_usd=3.0, output_per_million_usd=15.0, **PAGE
            )
        },
    }
)


def test_prices_lookup_and_cost() -> None:
    assert PRICES.cost("anthropic.claude-3-haiku-20240307-v1:0", 1000, 200) == pytest.approx(0.006)
    assert PRICES.cost("us.anthropic.claude-3-haiku-20240307-v1:0", 1_000_000, 0) == pytest.approx(3.0)
    arn = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
    assert PRICES.cost(arn, 0, 1_000_000) == pytest.approx(15.0)
    assert PRICES.cost("amazon.nova-pro-v1:0", 10, 10) is None
    assert PRICES.cost(None, 0, 0) == 0.0


def test_load_prices(tmp_path: Path) -> None:
    assert load_prices(tmp_path / "missing.yaml") is None
    shipped = costs.PRICES_PATH.read_text()
    good = tmp_path / "prices.yaml"
    good.write_text(shipped.replace("input_per_million_usd: 0.25,", "input_per_million_usd: 1,"))
    table = load_prices(good)
    assert table is not None
    assert table.models["anthropic.claude-3-haiku-20240307-v1:0"].input_per_million_usd == 1.0  # the old keys
    bad = tmp_path / "bad.yaml"
    bad.write_text(shipped.replace("input_per_million_usd: 0.25,", "input_per_million_usd: -1,"))
    with pytest.raises(
        ValueError,
        match=r"bad.yaml: models.anthropic.claude-3-haiku-20240307-v1:0.input_per_million_usd: Input should be greater",
    ):
        load_prices(bad)


def test_evaluate_reports_the_records_own_cost() -> None:
    # GIVEN a record that carries the pipeline's estimate, and an older one with tokens only
    golden = golden_doc("inv.txt", "invoice", "financial", {"total": 100.0})
    with_cost = record("invoice", "financial", {"total": env(100, 0.9)}) | {"cost": {"totalUsd": 0.0042}}
    outcomes = [score_document(golden, with_cost, CONFIG), score_document(golden, record("invoice", "financial",
                {"total": env(100, 0.9)}), CONFIG)]  # fmt: skip
    # THEN the first costs what its record says, the second its tokens: (1000*3 + 200*15)/1e6
    assert cost_metrics(outcomes, PRICES, "p")["documents"] == pytest.approx([0.0042, 0.006])
    assert cost_metrics(outcomes[:1], None, "p")["per_document_usd"] == pytest.approx(0.0042)


def _two_documents() -> list[Any]:
    invoice = golden_doc("inv.txt", "invoice", "financial", {"total": 100.0, "currency": "EUR"})
    contract = golden_doc("c.txt", "contract", "legal", {"governing_law": "State of New York"})
    return [
        score_document(invoice, record("invoice", "financial", {"total": env(100, 0.9), "currency": env("EUR", 0.9)},
                                       confidence=0.9, total_ms=1000), CONFIG),
        score_document(contract, record("letter", "general", {"subject": env("NDA", 0.6)}, confidence=0.4,
                                        usage=(3000, 400), total_ms=3000), CONFIG),
    ]  # fmt: skip


def test_summary_numbers() -> None:
    result = summarise(_two_documents(), CONFIG, PRICES, "prices.yaml")
    s = result["summary"]
    assert (s["documents"], s["completed"], s["fully_correct"], s["records_right"]) == (2, 2, 1, 1)
    assert s["class_accuracy"] == 0.5
    assert s["domain_macro_f1"] == pytest.approx(0.5)  # financial F1 1, legal F1 0
    assert (s["field_precision"], s["field_recall"]) == pytest.approx((2 / 3, 2 / 3))
    # field values: 0.9 right, 0.9 right, 0.6 wrong -> |1-0.9|*2/3 + |0-0.6|*1/3
    assert s["field_ece"] == pytest.approx(0.1 * 2 / 3 + 0.6 / 3)
    # records: 0.9 right (class, domain, field F1 1.0), 0.4 not -> (0.1 + 0.4) / 2
    assert s["record_ece"] == pytest.approx(0.25)
    # cost: (1000*3 + 200*15)/1e6 = 0.006 and (3000*3 + 400*15)/1e6 = 0.015
    assert result["cost"]["documents"] == pytest.approx([0.006, 0.015])
    assert s["cost_per_document_usd"] == pytest.approx(0.0105)
    assert (s["latency_median_s"], s["latency_p95_s"]) == (2.0, 3.0)


def test_gates_pass_fail_and_unmeasurable() -> None:
    result = summarise(_two_documents(), CONFIG, PRICES, "prices.yaml")
    gates = check(result, Thresholds(
        min_domain_macro_f1=0.5, min_class_accuracy=0.6, min_field_f1=0.6,
        min_field_f1_for=(("total", 1.0), ("invoice.currency", 1.0), ("receipt.tax", 0.5)),
        max_ece=0.2, max_cost_per_doc=0.01, max_p95_latency_s=3.0,
    ))  # fmt: skip
    assert [(g.option, g.passed) for g in gates] == [
        ("--min-domain-macro-f1", True),
        ("--min-class-accuracy", False),
        ("--min-field-f1", True),
        ("--min-field-f1-for total", True),
        ("--min-field-f1-for invoice.currency", True),
        ("--min-field-f1-for receipt.tax", False),
        ("--max-ece", False),
        ("--max-cost-per-doc", False),
        ("--max-p95-latency-s", True),
    ]
    assert gates[5].note == "not measured: no expected or predicted values of receipt.tax in this golden set"
    assert check(result, Thresholds()) == []


def test_cost_gate_fails_clearly_without_a_price() -> None:
    unpriced = summarise(_two_documents(), CONFIG, PRICES.model_copy(update={"models": {}}), "prices.yaml")
    (gate,) = check(unpriced, Thresholds(max_cost_per_doc=1.0))
    assert not gate.passed
    assert (
        gate.note == "not measured: cost is n/a (model(s) not in prices.yaml: anthropic.claude-3-haiku-20240307-v1:0)"
    )
    no_table = summarise(_two_documents(), CONFIG, None, "src/docproc/config/prices.yaml")
    (gate,) = check(no_table, Thresholds(max_cost_per_doc=1.0))
    assert gate.note == "not measured: cost is n/a (no price table at src/docproc/config/prices.yaml)"


def test_field_gate_names_are_checked_against_the_classes() -> None:
    assert parse_field_gate("invoice.total=0.9", CONFIG) == ("invoice.total", 0.9)
    assert parse_field_gate("governing_law=0.5", CONFIG) == ("governing_law", 0.5)
    for text, problem in (("invoice.totl=0.9", "has no field"), ("invoce.total=1", "no document class"),
                          ("colour=0.5", "no document class has a field"), ("total", "expected FIELD=X"),
                          ("total=1.5", "not between 0 and 1")):  # fmt: skip
        with pytest.raises(ValueError, match=problem):
            parse_field_gate(text, CONFIG)


# --- the command (stand-in stack client) ---------------------------------------------------------------------------


class FakeStack:
    """Answers uploads with the records a test prepared, by file name."""

    def __init__(self, records: dict[str, dict[str, Any] | None]) -> None:
        self.records = records
        self.keys: list[str] = []

    def upload_file(self, path: Path, key: str | None = None) -> Upload:
        assert key is not None
        self.keys.append(key)
        return Upload(document_id=path.name, key=key, path=path, uploaded_at=0.0)

    def wait_for(self, ids: list[str], *, timeout: float, on_change: Any = None) -> dict[str, dict[str, Any]]:
        return {i: r for i in ids if (r := self.records.get(i)) is not None}

    def result_json(self, record: dict[str, Any]) -> dict[str, Any]:
        return record


@pytest.fixture
def fake_stack(monkeypatch: pytest.MonkeyPatch) -> FakeStack:
    stack = FakeStack({})

    @contextmanager
    def stack_client(*_: Any, **__: Any) -> Iterator[tuple[FakeStack, str]]:
        yield stack, "fake stack"

    monkeypatch.setattr(runner, "stack_client", stack_client)
    monkeypatch.setattr(costs, "PRICES_PATH", Path("/nonexistent/prices.yaml"))
    return stack


@pytest.fixture
def golden_set(tmp_path: Path, fake_stack: FakeStack) -> Path:
    root = write_golden(tmp_path / "golden", {
        "inv.txt": {"class": "invoice", "domain": "financial", "fields": {"total": 100.0, "currency": "EUR"}},
        "c.txt": {"class": "contract", "domain": "legal", "fields": {"governing_law": "State of New York"}},
        "x.pdf": {"class": "letter", "domain": "general", "fields": {"subject": "Hello"}},
    })  # fmt: skip
    fake_stack.records.update({
        "inv.txt": record("invoice", "financial", {"total": env(100.0), "currency": env("EUR")}),
        "c.txt": record("contract", "legal", {"governing_law": env("the State of New York", 0.7)}),
        "x.pdf": {"documentId": "x", "status": "FAILED", "error": {"reasonCode": "CORRUPT_DOCUMENT", "message": "bad"}},
    })  # fmt: skip
    return root


def test_command_passes_writes_the_report_and_exits_0(
    golden_set: Path, fake_stack: FakeStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = docproc_cli.main(["evaluate", str(golden_set), "--out", str(out), "--min-field-f1-for", "total=1",
                             "--min-class-accuracy", "0.6"])  # fmt: skip
    assert code == 0
    captured = capsys.readouterr()
    assert f"wrote {out / 'report.md'}" in captured.err
    assert "CORRUPT_DOCUMENT" in captured.out  # the failed document is listed
    report = json.loads((out / "report.json").read_text())
    assert report["passed"] is True
    assert report["summary"]["class_accuracy"] == pytest.approx(2 / 3)
    assert report["failed"] == [{"file": "x.pdf", "status": "FAILED", "reasonCode": "CORRUPT_DOCUMENT",
                                 "message": "bad"}]  # fmt: skip
    markdown = (out / "report.md").read_text()
    assert "| --min-class-accuracy | >= 0.600 | 0.667 | PASS |  |" in markdown
    assert "### x.pdf" in markdown
    assert "| letter.subject | Hello | - | missing (failed) |" in markdown
    svg = ElementTree.fromstring((out / "reliability.svg").read_text())  # noqa: S314 - our own file; well-formed XML
    bars = [
        r
        for r in svg.iter("{http://www.w3.org/2000/svg}rect")
        if r.find("{http://www.w3.org/2000/svg}title") is not None
    ]
    assert [b.find("{http://www.w3.org/2000/svg}title").text for b in bars] == [  # field confidences 0.7; 0.9, 0.9
        "0.6-0.7: 1 value(s), accuracy 1.00, mean confidence 0.70",
        "0.8-0.9: 2 value(s), accuracy 1.00, mean confidence 0.90",
    ]
    assert len(set(fake_stack.keys)) == 3
    assert all(k.startswith("evaluate/") for k in fake_stack.keys)


def test_command_exits_1_when_a_gate_fails(
    golden_set: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = docproc_cli.main(["evaluate", str(golden_set), "--out", str(tmp_path / "o"), "--json",
                             "--min-class-accuracy", "0.9", "--max-cost-per-doc", "0.01"])  # fmt: skip
    assert code == 1
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert [(g["option"], g["passed"]) for g in report["gates"]] == [
        ("--min-class-accuracy", False),
        ("--max-cost-per-doc", False),
    ]
    assert report["gates"][1]["note"] == "not measured: cost is n/a (no price table at /nonexistent/prices.yaml)"
    assert "2 of 2 gate(s) failed: --min-class-accuracy, --max-cost-per-doc" in captured.err
    assert "FAIL" in (tmp_path / "o" / "report.md").read_text()


def test_command_exits_2_on_usage_and_golden_set_errors(
    golden_set: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert docproc_cli.main(["evaluate", str(golden_set), "--min-field-f1-for", "invoice.totl=1"]) == 2
    assert "class invoice has no field 'totl'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        docproc_cli.main(["evaluate", str(golden_set), "--min-class-accuracy", "1.5"])
    assert usage.value.code == 2
    (golden_set / "expected" / "c.txt.json").write_text(json.dumps({"file": "c.txt", "class": "deal",
                                                                    "domain": "legal", "fields": {}}))  # fmt: skip
    assert docproc_cli.main(["evaluate", str(golden_set), "--out", str(tmp_path / "o")]) == 2
    assert "c.txt.json: $.class: 'deal' is not a document class" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
