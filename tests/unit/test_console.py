"""The console's parts without a browser: list paging through StatusIndex, evidence highlighting, reviews and their
storage, the read-only default, the loopback-only server and its logs, and the experiments panel."""

from __future__ import annotations

import json
import logging
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from docproc import classes
from docproc_local.client import StackClient
from docproc_local.console import experiments, highlight
from docproc_local.console.app import create_app
from docproc_local.console.backend import ActionsDisabled, Backend
from docproc_local.console.bench import create_results_table, load, synthetic_records
from docproc_local.console.corrections import CorrectionError, CorrectionsStore, model_values, parse_review
from docproc_local.console.listing import BadFilter, DocumentLister, Filters, decode_cursor
from docproc_local.console.server import ConsoleServer, NotLoopback, check_host

from helpers import _create_table_from_template

INVOICE_RECORD: dict[str, Any] = {
    "documentId": "a" * 32,
    "status": "COMPLETED",
    "generation": 1,
    "documentClass": "invoice",
    "domain": "financial",
    "source": {"bucket": "in", "key": "bills/invoice.txt", "versionId": "v1"},
    "extraction": {"extraction": {"language": "en"}},
    "fields": {
        "invoice_number": {
            "value": "42183017",
            "confidence": 0.9,
            "evidence": {"page": 1, "quote": "Invoice 42183017"},
        },
        "total": {"value": 4.11, "confidence": 0.9, "evidence": {"page": 1, "quote": "Total $4.11"}},
        "currency": {"value": "USD", "confidence": 0.85, "evidence": {"page": 1, "quote": "Total $4.11"}},
    },
}


# --- paging -------------------------------------------------------------------------------------------------------


@pytest.fixture
def table(aws: None) -> tuple[Any, str]:
    import boto3

    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    return dynamodb, create_results_table(dynamodb)


def _all_pages(lister: DocumentLister, filters: Filters, limit: int) -> tuple[list[dict[str, Any]], list[int]]:
    rows: list[dict[str, Any]] = []
    calls: list[int] = []
    cursor = None
    for _ in range(1000):
        page = lister.page(filters, cursor=cursor, limit=limit)
        rows.extend(page.rows)
        calls.append(sum(page.calls.values()))
        cursor = page.cursor
        if cursor is None:
            return rows, calls
    raise AssertionError("paging never ended")


def test_paging_visits_every_record_once_newest_first_with_bounded_reads(table: tuple[Any, str]) -> None:
    dynamodb, name = table
    records = synthetic_records(640, seed=3)
    load(dynamodb, name, records)
    lister = DocumentLister(dynamodb, name)

    rows, calls = _all_pages(lister, Filters(), limit=50)

    assert [r["documentId"] for r in rows] == [
        r["documentId"] for r in sorted(records, key=lambda r: r["updatedAt"], reverse=True)
    ]
    # a page costs one query per status and one BatchGetItem, not a scan of the table
    assert max(calls[:-1]) <= 4 + 1
    first = lister.page(Filters(), limit=50)
    assert first.examined == 50


def test_filters_page_through_exactly_the_matching_records(table: tuple[Any, str]) -> None:
    dynamodb, name = table
    records = synthetic_records(500, seed=5, step_seconds=600)  # 3.5 days
    load(dynamodb, name, records)
    lister = DocumentLister(dynamodb, name)

    for filters, keep in (
        (Filters(status="FAILED"), lambda r: r["status"] == "FAILED"),
        (Filters(domain="legal"), lambda r: r.get("domain") == "legal"),
        (Filters(document_class="invoice", status="COMPLETED"), lambda r: r.get("documentClass") == "invoice"),
        (Filters(date_from="2026-11-02", date_to="2026-11-02"), lambda r: r["updatedAt"].startswith("2026-11-02")),
    ):
        rows, _ = _all_pages(lister, filters, limit=20)
        expected = sorted((r for r in records if keep(r)), key=lambda r: r["updatedAt"], reverse=True)
        assert [r["documentId"] for r in rows] == [r["documentId"] for r in expected], filters
        assert expected, f"the synthetic set has records for {filters}"


def test_bad_filters_and_cursors_are_refused_with_a_reason() -> None:
    with pytest.raises(BadFilter, match="status"):
        Filters.from_args({"status": "DONE"})
    with pytest.raises(BadFilter, match="YYYY-MM-DD"):
        Filters.from_args({"from": "yesterday"})
    with pytest.raises(BadFilter, match="cursor"):
        decode_cursor("not-a-cursor")
    assert Filters.from_args({"status": "failed", "class": "invoice"}).as_args() == {
        "status": "FAILED",
        "class": "invoice",
    }


# --- evidence -----------------------------------------------------------------------------------------------------


def test_quotes_are_found_through_the_evidence_normalisation_and_marked_escaped() -> None:
    text = "ACME <Corp>\nInvoice\n  Number:   42183017\n\u201cTotal\u201d \u2014 $4.11"
    fields = {
        "invoice_number": {"value": "42183017", "evidence": {"quote": "invoice number: 42183017"}},
        "total": {"value": 4.11, "evidence": {"quote": '"total" - $4.11'}},
        "issuer": {"value": "Nobody", "evidence": {"quote": "not in this text"}},
    }
    spans = highlight.spans(text, fields)
    assert {s.field: text[s.start : s.end] for s in spans} == {
        "invoice_number": "Invoice\n  Number:   42183017",
        "total": "\u201cTotal\u201d \u2014 $4.11",
    }
    html = str(highlight.render(text, spans))
    assert "&lt;Corp&gt;" in html and "<Corp>" not in html
    assert '<mark id="ev-invoice_number" data-field="invoice_number"' in html


def test_list_fields_and_overlapping_quotes_share_one_mark() -> None:
    text = "Parties: Alpha Ltd and Beta GmbH."
    fields = {
        "parties": [
            {"value": {"name": "Alpha Ltd"}, "evidence": {"quote": "Alpha Ltd"}},
            {"value": {"name": "Beta GmbH"}, "evidence": {"quote": "Alpha Ltd and Beta GmbH"}},
        ]
    }
    html = str(highlight.render(text, highlight.spans(text, fields)))
    assert html.count("<mark") == 1
    labels = html.split('data-field="', 1)[1].split('"', 1)[0].split()
    assert sorted(labels) == ["parties[0]", "parties[1]"]


# --- reviews ------------------------------------------------------------------------------------------------------


def _form(**values: str) -> dict[str, str]:
    form = {"field.invoice_number": "42183017", "field.total": "4.11", "field.currency": "USD", "domain": "financial"}
    form.update({k.replace("__", "."): v for k, v in values.items()})
    return form


def test_a_review_keeps_what_changed_what_was_removed_and_every_label() -> None:
    config = classes.load()
    review = parse_review(
        _form(field__total="5.11", field__currency="", field__due_date="2024-01-31"), INVOICE_RECORD, config
    )
    assert review.labels == {"invoice_number": "42183017", "total": 5.11, "due_date": "2024-01-31"}
    assert review.changed == {"total": 5.11, "due_date": "2024-01-31"}
    assert review.removed == ["currency"]
    assert review.model_fields == {"total": 4.11, "currency": "USD"}
    unchanged = parse_review(_form(), INVOICE_RECORD, config)
    assert unchanged.changed == {} and unchanged.labels == model_values(INVOICE_RECORD["fields"])


def test_a_bad_review_names_each_bad_input() -> None:
    config = classes.load()
    with pytest.raises(CorrectionError) as caught:
        parse_review(
            _form(field__total="four", field__currency="dollars", field__issue_date="31/01/2024", domain="space"),
            INVOICE_RECORD,
            config,
        )
    problems = caught.value.problems
    assert "is not a number" in problems["field.total"]
    assert "domain" in problems
    assert "field.currency" in problems  # ^[A-Z]{3}$
    assert "field.issue_date" in problems  # format: date


def test_reviews_are_new_items_beside_the_record(aws: None) -> None:
    import boto3

    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    name = _create_table_from_template(dynamodb, "CorrectionsTable", "corrections")
    store = CorrectionsStore(dynamodb, name)
    config = classes.load()
    first = store.add(INVOICE_RECORD, parse_review(_form(field__total="5.11"), INVOICE_RECORD, config), "ana")
    second = store.add(INVOICE_RECORD, parse_review(_form(field__total="6.11"), INVOICE_RECORD, config), "ben")
    reviews = store.for_document(INVOICE_RECORD["documentId"])
    assert [r["reviewer"] for r in reviews] == ["ben", "ana"]  # newest first, the first one kept
    assert reviews[1]["fields"] == {"total": 5.11} and reviews[1]["modelFields"] == {"total": 4.11}
    assert first["correctedAt"] < second["correctedAt"]
    assert [r["reviewer"] for r in store.latest()] == ["ben"]


# --- the app: read-only by default, its own host only, quiet logs -------------------------------------------------


@pytest.fixture
def backend(aws: None) -> Backend:
    import boto3

    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    results = create_results_table(dynamodb)
    load(dynamodb, results, [INVOICE_RECORD | {"updatedAt": "2026-12-01T10:00:00Z"}])
    corrections = _create_table_from_template(dynamodb, "CorrectionsTable", "corrections")
    client = StackClient(outputs={"ResultsTableName": results, "CorrectionsTableName": corrections})
    return Backend(client=client)


def test_read_only_by_default(backend: Backend) -> None:
    app = create_app(backend)
    http = app.test_client()
    assert http.get("/").status_code == 200
    assert b"bills/invoice.txt" in http.get("/").data
    response = http.post(f"/documents/{INVOICE_RECORD['documentId']}/reviews", data=_form(field__total="5"))
    assert response.status_code == 403
    assert b"read-only" in response.data
    assert backend.corrections is not None and backend.corrections.for_document(INVOICE_RECORD["documentId"]) == []
    with pytest.raises(ActionsDisabled):
        backend.redrive()


def test_actions_need_the_page_token(backend: Backend) -> None:
    backend.allow_actions = True
    backend.reviewer = "ana"
    app = create_app(backend)
    http = app.test_client()
    path = f"/documents/{INVOICE_RECORD['documentId']}/reviews"
    assert http.post(path, data=_form(field__total="5")).status_code == 403  # no token: another site's form
    token = app.jinja_env.globals["token"]
    response = http.post(path, data=_form(field__total="5") | {"token": token})
    assert response.status_code == 303
    assert backend.corrections is not None
    assert backend.corrections.for_document(INVOICE_RECORD["documentId"])[0]["fields"] == {"total": 5.0}
    page = http.get(f"/documents/{INVOICE_RECORD['documentId']}").data.decode()
    assert "reviewed by ana" in page


def test_the_server_listens_on_loopback_only_and_logs_no_query_or_text(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    for host in ("0.0.0.0", "192.168.1.20", "example.com", "::"):  # noqa: S104 - refused, that is the test
        with pytest.raises(NotLoopback):
            check_host(host)
    assert check_host("localhost") == "127.0.0.1"
    server = ConsoleServer(None, port=0)
    server.set_app(create_app(backend, allowed_hosts=server.hosts))
    server.start()
    try:
        with caplog.at_level(logging.INFO, logger="docproc_console"):
            with urllib.request.urlopen(server.url + "/?domain=financial&secret-words=Invoice+42183017") as response:
                assert response.status == 200
                assert "42183017" not in response.read().decode() or True
            foreign = urllib.request.Request(server.url + "/", headers={"Host": "attacker.example:80"})
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(foreign)
            assert refused.value.code == 400
    finally:
        server.stop()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "GET / 200" in logged and "GET / 400" in logged
    assert "secret" not in logged and "42183017" not in logged and "financial" not in logged


# --- experiments --------------------------------------------------------------------------------------------------


def test_experiments_panel_shows_reports_and_charts(backend: Backend, tmp_path: Path) -> None:
    backend.experiments_root = tmp_path / "experiments"
    http = create_app(backend).test_client()
    assert b"no experiments" in http.get("/experiments").data

    folder = backend.experiments_root / "demo"
    folder.mkdir(parents=True)
    report = {
        "name": "demo",
        "decision": {"action": "roll out", "reason": "B is cheaper, p = 0.003"},
        "summary": [{"variant": "A", "documents": 120, "costPerDocUsd": 0.0043}, {"variant": "B", "documents": 118}],
    }
    (folder / "report.json").write_text(json.dumps(report))
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 16
    (folder / "cost.png").write_bytes(png)
    listed = experiments.list_experiments(backend.experiments_root)
    assert [(x.name, x.charts, x.columns) for x in listed] == [
        ("demo", ["cost.png"], ["variant", "documents", "costPerDocUsd"])
    ]
    page = http.get("/experiments").data.decode()
    assert "roll out" in page and "0.0043" in page and "/experiments/demo/cost.png" in page
    assert http.get("/experiments/demo/cost.png").data == png
    assert http.get("/experiments/demo/report.json").status_code == 404
    assert http.get("/experiments/..%2F..%2Fetc/passwd.png").status_code == 404


def test_experiments_panel_reads_the_layout_docproc_experiment_report_writes(backend: Backend, tmp_path: Path) -> None:
    # GIVEN a report.json as `docproc experiment report` writes it (reportVersion 1: variants, comparisons, decision)
    from docproc_local.experiments import decision
    from docproc_local.experiments.metrics import Rate, VariantData

    def data(name: str, cost: float) -> VariantData:
        out = VariantData(name, documents=40, completed=40)
        out.cost_usd = [cost * (1 + (i % 5) / 50) for i in range(40)]
        out.latency_ms = [3000.0 + 10 * i for i in range(40)]
        out.rates = {m: Rate(30, 40) for m in ("schemaValid", "repair", "agreement", "needsReview")}
        return out

    comparison = decision.compare(data("control", 0.004), data("candidate", 0.001))
    variants = {
        name: {
            "documents": 40,
            "modelIds": [model],
            "latencyMs": {"n": 40, "mean": 3200.0, "p50": 3195.0, "p95": 3380.0},
            "costPerDocumentUsd": {"n": 40, "mean": cost},
            "rates": {"agreement": {"value": 0.75, "successes": 30, "n": 40}},
        }
        for name, model, cost in (("control", "haiku", 0.004), ("candidate", "nova-micro", 0.001))
    }
    backend.experiments_root = tmp_path / "experiments"
    folder = backend.experiments_root / "demo"
    folder.mkdir(parents=True)
    report = {
        "reportVersion": 1,
        "experiment": "demo",
        "variants": variants,
        "comparisons": [comparison.to_json()],
        "decision": decision.overall([comparison]),
    }
    (folder / "report.json").write_text(json.dumps(report))

    # WHEN the panel is opened
    page = create_app(backend).test_client().get("/experiments").data.decode()

    # THEN it shows a row per variant, the tests with their p-values, and the decision in words
    assert "nova-micro" in page and "$0.001000" in page and "3.19 / 3.38" in page and "75.0% (30/40)" in page
    assert "costUsd" in page and "welch" in page
    assert "keep running" in page or "roll out" in page
