"""``docproc evaluate`` end to end: a tiny golden set written here, run through the local stack built from
template.yaml, scored, reported, and gated (exit codes 1 and 0)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from docproc_local import cli

from stack_helpers import REPO

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

DOCUMENTS: dict[str, tuple[str, dict[str, Any]]] = {
    "invoice-northwind.txt": (
        """NORTHWIND TRADERS LTD
12 Harbour Street, Bristol BS1 4DJ, United Kingdom

INVOICE

Invoice number: INV-2024-017
Invoice date: 2024-05-02
Due date: 2024-06-01

Bill to: Contoso GmbH, Hauptstrasse 5, 10115 Berlin

Description            Qty   Unit price    Amount
Espresso machine         2       400.00    800.00
Descaling service        1       200.00    200.00

Subtotal: EUR 1,000.00
VAT 19%: EUR 190.00
Total due: EUR 1,190.00
""",
        {
            "class": "invoice",
            "domain": "financial",
            "fields": {
                "invoice_number": "INV-2024-017",
                "issue_date": "2024-05-02",
                "due_date": "2024-06-01",
                "issuer": "Northwind Traders Ltd",
                "recipient": "Contoso GmbH",
                "subtotal": 1000.0,
                "tax": 190.0,
                "total": 1190.0,
                "currency": "EUR",
                "line_items": [
                    {"description": "Espresso machine", "quantity": 2, "unit_price": 400.0, "amount": 800.0},
                    {"description": "Descaling service", "quantity": 1, "unit_price": 200.0, "amount": 200.0},
                ],
            },
        },
    ),
    "consulting-agreement.txt": (
        """CONSULTING AGREEMENT

This Consulting Agreement (the "Agreement") is made and entered into as of March 1, 2024 by and between
Blue Heron Analytics, Inc., a Delaware corporation (the "Company"), and Maria Alvarez (the "Consultant").

WHEREAS the Company wishes to retain the Consultant to provide data analysis services;

1. Term. This Agreement shall commence on the date above and continue for a period of twelve (12) months.
2. Fees. The Company shall pay the Consultant a total fee of USD 48,000.
3. Termination. Either party may terminate this Agreement upon thirty (30) days' written notice.
4. Governing Law. This Agreement shall be governed by the laws of the State of New York.

IN WITNESS WHEREOF, the parties have executed this Agreement as of the date first written above.
""",
        {
            "class": "contract",
            "domain": "legal",
            "fields": {
                "contract_type": "Consulting agreement",
                "parties": [
                    {"name": "Blue Heron Analytics, Inc.", "role": "Company"},
                    {"name": "Maria Alvarez", "role": "Consultant"},
                ],
                "agreement_date": "2024-03-01",
                "term": "twelve (12) months",
                "termination_notice": "thirty (30) days' written notice",
                "governing_law": "State of New York",
                "total_value": 48000.0,
                "currency": "USD",
            },
        },
    ),
    "discharge-note.txt": (
        """DISCHARGE SUMMARY

Patient: John Carter    Age: 67    Sex: male
Date of service: 2024-02-14
Attending physician: Dr. Helen Wu, St. Mary's Hospital

Chief complaint: Chest pain.

Diagnoses:
1. Non-ST elevation myocardial infarction
2. Type 2 diabetes mellitus

Medications at discharge:
- Aspirin 81 mg daily
- Metformin 500 mg twice daily

Allergies: Penicillin
""",
        {
            "class": "clinical_note",
            "domain": "medical",
            "fields": {
                "note_type": "Discharge summary",
                "patient_name": "John Carter",
                "patient_age": 67,
                "patient_sex": "male",
                "date_of_service": "2024-02-14",
                "provider": "Dr. Helen Wu",
                "chief_complaint": "Chest pain",
                "diagnoses": ["Non-ST elevation myocardial infarction", "Type 2 diabetes mellitus"],
                "medications": ["Aspirin 81 mg daily", "Metformin 500 mg twice daily"],
                "allergies": ["Penicillin"],
            },
        },
    ),
    "empty.pdf": ("", {"class": "other", "domain": "general", "fields": {}}),  # fails: EMPTY_DOCUMENT
}


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("golden")
    (root / "documents").mkdir()
    (root / "expected").mkdir()
    for name, (text, expected) in DOCUMENTS.items():
        (root / "documents" / name).write_text(text, encoding="utf-8")
        label = {"file": name, "language": "en", "source": "written for docproc", "license": "Apache-2.0", **expected}
        (root / "expected" / f"{name}.json").write_text(json.dumps(label, indent=2), encoding="utf-8")
    return root


def _expected_values() -> int:
    return sum(len(v) if isinstance(v, list) else 1 for _, e in DOCUMENTS.values() for v in e["fields"].values())


def test_evaluate_reports_and_gates_on_the_local_stack(
    golden: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = str(REPO / "template.yaml")
    first, second = tmp_path / "first", tmp_path / "second"

    # WHEN the golden set is evaluated with a class-accuracy gate that the failing document makes impossible
    code = cli.main([
        "evaluate", str(golden), "--template", template, "--out", str(first), "--timeout", "300",
        "--min-class-accuracy", "1.0", "--min-field-f1-for", "invoice.invoice_number=1.0",
        "--max-cost-per-doc", "1.0", "--max-p95-latency-s", "120",
    ])  # fmt: skip
    captured = capsys.readouterr()

    # THEN it exits 1, prints where the reports are, and the report says which gate failed and why
    assert code == 1, captured.err
    for name in ("report.md", "report.json", "reliability.svg"):
        assert f"wrote {first / name}" in captured.err
    report = json.loads((first / "report.json").read_text())
    assert [(g["option"], g["passed"]) for g in report["gates"]] == [
        ("--min-class-accuracy", False),
        ("--min-field-f1-for invoice.invoice_number", True),
        ("--max-cost-per-doc", True),
        ("--max-p95-latency-s", True),
    ]
    assert report["passed"] is False
    summary = report["summary"]
    assert (summary["documents"], summary["completed"], summary["failed"], summary["unfinished"]) == (4, 3, 1, 0)
    assert report["failed"][0]["file"] == "empty.pdf"
    assert report["failed"][0]["reasonCode"] == "EMPTY_DOCUMENT"
    by_file = {d["file"]: d for d in report["documents"]}
    assert by_file["invoice-northwind.txt"]["predictedClass"] == "invoice"
    assert by_file["consulting-agreement.txt"]["predictedClass"] == "contract"
    assert by_file["consulting-agreement.txt"]["predictedDomain"] == "legal"
    assert summary["class_accuracy"] <= 0.75
    # every expected value is counted once, as a TP or a FN, whatever the stack predicted
    overall = report["fields"]["overall"]
    assert overall["tp"] + overall["fn"] == _expected_values()
    # the invoice number was extracted and matched; the records carry confidences, tokens, prices and timings
    assert report["fields"]["per_field"]["invoice.invoice_number"]["tp"] == 1
    assert report["calibration"]["fields"]["values"] > 0
    assert report["cost"]["priced"] is True
    assert summary["cost_per_document_usd"] > 0
    assert 0 < summary["latency_p95_s"] <= 120
    markdown = (first / "report.md").read_text()
    assert "| --min-class-accuracy | >= 1.000 |" in markdown
    assert "Overall: **FAIL**" in markdown
    assert "| empty.pdf | FAILED | EMPTY_DOCUMENT |" in markdown
    assert "### empty.pdf" not in markdown  # no expected fields, nothing to explain
    assert (first / "reliability.svg").read_text().startswith("<svg")

    # WHEN it runs again with gates the stack meets, printing JSON
    code = cli.main([
        "evaluate", str(golden), "--template", template, "--out", str(second), "--timeout", "300", "--json",
        "--min-class-accuracy", "0.5", "--max-p95-latency-s", "120",
    ])  # fmt: skip
    captured = capsys.readouterr()

    # THEN it exits 0, and this run's documents were uploaded under keys of their own
    assert code == 0, captured.err
    again = json.loads(captured.out)
    assert again["passed"] is True
    keys = {d["key"] for d in again["documents"]}
    assert len(keys) == 4
    assert all(key.startswith("evaluate/") for key in keys)
    assert keys.isdisjoint(d["key"] for d in report["documents"])
