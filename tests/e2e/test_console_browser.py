"""``docproc console`` in a real browser (Debian's Chromium driven by Playwright) over the local stack: the list and
its filters, a document's fields and evidence, a review stored beside the model's values, the other pages, and
``docproc golden export`` read back by ``docproc evaluate``.

Screenshots go to a temporary folder; with ``DOCPROC_CONSOLE_SCREENSHOTS=DIR`` (``make console-screenshots``) they
are also copied to DIR.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from docproc_local.client import StackClient, Upload
from docproc_local.console.cli import start_console
from docproc_local.runtime import LocalRuntime

from stack_helpers import REPO

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SAMPLES = ("invoice2data-aws.pdf", "medline-pubmed-records.txt", "cuad-aduro-consulting-agreement.txt")
REVIEWER = "e2e-reviewer"
CORRECTED_TITLE = "MEDLINE records of bioinformatics software (reviewed)"


@pytest.fixture(scope="module")
def documents(runtime: LocalRuntime) -> dict[str, Upload]:
    """Three samples and one empty file (it fails with EMPTY_DOCUMENT), all finished."""
    stack = runtime.client
    assert stack is not None
    uploads = {name: stack.upload_file(REPO / "samples" / name) for name in SAMPLES}
    uploads["empty.txt"] = stack.upload_bytes(b"", "empty.txt")
    records = stack.wait_for([u.document_id for u in uploads.values()], timeout=180)
    unfinished = [
        n for n, u in uploads.items() if records.get(u.document_id, {}).get("status") not in ("COMPLETED", "FAILED")
    ]
    assert not unfinished, f"documents did not finish: {unfinished}"
    return uploads


@pytest.fixture(scope="module")
def console(runtime: LocalRuntime, documents: dict[str, Upload]) -> Iterator[str]:
    args = argparse.Namespace(host="127.0.0.1", port=0, no_feed=False, allow_actions=True, reviewer=REVIEWER)
    backend, server = start_console(runtime.client, args)
    yield server.url
    server.stop()
    if backend.feed is not None:
        backend.feed.stop()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("console-screenshots")
    yield folder
    target = os.environ.get("DOCPROC_CONSOLE_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for png in folder.glob("*.png"):
            shutil.copy2(png, Path(target) / png.name)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1360, "height": 900},
        )
        context.set_default_timeout(20_000)
        yield context
        context.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    tab = browser.new_page()
    yield tab
    tab.close()


def _keys(page: Any) -> list[str]:
    return [k.strip() for k in page.locator("#documents tbody tr td:first-child a").all_inner_texts()]


def test_list_shows_every_document_and_filters_it(page: Any, console: str, shots: Path) -> None:
    # GIVEN three processed samples and one failed file
    page.goto(console + "/")
    # THEN the list shows all four with their status, class and cost
    assert sorted(k.split("\n")[0] for k in _keys(page)) == sorted([*SAMPLES, "empty.txt"])
    invoice = page.locator("#documents tbody tr", has_text="invoice2data-aws.pdf")
    assert invoice.get_attribute("data-status") == "COMPLETED"
    assert invoice.get_attribute("data-class") == "invoice"
    assert "$0.00" in invoice.inner_text()
    page.screenshot(path=str(shots / "01-list.png"), full_page=True)

    # WHEN the user filters on FAILED
    page.select_option("select[name=status]", "FAILED")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**status=FAILED**")
    # THEN only the empty file is left, with its reason code
    assert [k.split("\n")[0] for k in _keys(page)] == ["empty.txt"]
    assert "EMPTY_DOCUMENT" in page.locator("#documents tbody").inner_text()
    page.screenshot(path=str(shots / "02-list-failed.png"), full_page=True)

    # WHEN the user filters on the financial domain instead
    page.select_option("select[name=status]", "")
    page.select_option("select[name=domain]", "financial")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**domain=financial**")
    assert [k.split("\n")[0] for k in _keys(page)] == ["invoice2data-aws.pdf"]

    # a date range with nothing in it empties the list
    page.goto(console + "/?from=2001-01-01&to=2001-01-02")
    assert _keys(page) == []
    assert "match these filters" in page.locator("#documents tbody").inner_text()


def test_document_page_shows_fields_and_highlights_their_evidence(page: Any, console: str, shots: Path) -> None:
    page.goto(console + "/")
    page.click("text=invoice2data-aws.pdf")
    page.wait_for_selector("#fields")
    assert page.inner_text("#doc-title") == "invoice2data-aws.pdf"
    row = page.locator("tr.field[data-field=invoice_number]")
    assert "42183017" in row.inner_text()
    assert "has-evidence" in (row.get_attribute("class") or "")
    # the quote is marked in the extracted text
    mark = page.locator("mark[data-field~=invoice_number]").first
    assert "42183017" in mark.inner_text()
    # clicking the field finds its evidence
    row.click()
    assert "active" in (mark.get_attribute("class") or "")
    assert "Source object" in page.inner_text("#source")
    history = page.inner_text("#history")
    assert "Document Processed" in history and "MarkProcessing" in history
    page.screenshot(path=str(shots / "03-document.png"), full_page=True)


def test_failed_document_shows_its_reason(page: Any, console: str, documents: dict[str, Upload]) -> None:
    page.goto(f"{console}/documents/{documents['empty.txt'].document_id}")
    failure = page.inner_text("#failure")
    assert "EMPTY_DOCUMENT" in failure and "empty" in failure
    assert "Document Processing Failed" in page.inner_text("#history")


def test_review_is_stored_beside_the_model_values(
    page: Any, console: str, runtime: LocalRuntime, documents: dict[str, Upload], shots: Path
) -> None:
    stack = runtime.client
    assert stack is not None
    doc_id = documents["medline-pubmed-records.txt"].document_id
    before = stack.record(doc_id)
    assert before is not None and before["needsReview"], "the MEDLINE sample is the one marked for review"
    title_field = next(iter(before["fields"]))  # the class's first field the model filled
    page.goto(f"{console}/documents/{doc_id}")
    # the review form is open for a needs-review document
    assert page.locator("#review details").get_attribute("open") is not None
    page.fill(f"#f-{title_field}", CORRECTED_TITLE)
    page.fill("#note", "title taken from the first record")
    page.click("#save-review")
    page.wait_for_selector("#saved")
    # the reviewed value shows beside the model's, with the review's author
    row = page.locator(f"tr.field[data-field={title_field}]")
    assert CORRECTED_TITLE in row.locator("td.reviewed").inner_text()
    assert page.locator("tr.field[data-field] td.value").first.inner_text() != CORRECTED_TITLE
    assert REVIEWER in page.inner_text("#reviews")
    page.locator("#review").screenshot(path=str(shots / "04-review.png"))

    # the review is a CorrectionsTable item; the model's output in ResultsTable is untouched
    items = stack.client("dynamodb").query(
        TableName=stack.outputs["CorrectionsTableName"],
        KeyConditionExpression="documentId = :d",
        ExpressionAttributeValues={":d": {"S": doc_id}},
    )["Items"]
    assert len(items) == 1
    assert items[0]["reviewer"]["S"] == REVIEWER
    assert items[0]["fields"]["M"][title_field]["S"] == CORRECTED_TITLE
    assert stack.record(doc_id)["fields"] == before["fields"]

    # a bad value is refused with the input named, and nothing is stored
    page.goto(f"{console}/documents/{documents['invoice2data-aws.pdf'].document_id}")
    assert page.locator("#review details").get_attribute("open") is None  # not marked for review: folded
    page.click("#review summary")
    page.fill("#f-total", "four pounds")
    page.click("#save-review")
    assert "is not a number" in page.inner_text("#review")
    assert page.locator("#saved").count() == 0


def test_read_only_pages(page: Any, console: str, shots: Path) -> None:
    page.goto(console + "/failures")
    assert "empty.txt" in page.inner_text("#failures")
    assert page.inner_text("#dlq-depth") == "0"
    page.goto(console + "/cost")
    assert "invoice" in page.inner_text("main")
    page.screenshot(path=str(shots / "05-cost.png"), full_page=True)
    page.goto(console + "/events")
    page.wait_for_function("document.querySelectorAll('#event-feed tbody tr').length >= 4")
    assert "Document Processed" in page.inner_text("#event-feed")
    page.screenshot(path=str(shots / "06-events.png"), full_page=True)
    page.goto(console + "/experiments")
    assert page.locator("#no-experiments").count() == 1 or page.locator("section.experiment").count() > 0


def test_golden_export_is_read_by_docproc_evaluate(
    runtime: LocalRuntime, documents: dict[str, Upload], console: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from docproc_local import cli
    from docproc_local.console.golden_export import export
    from docproc_local.evaluation import runner

    stack = runtime.client
    assert stack is not None
    if not stack.outputs.get("CorrectionsTableName"):
        pytest.fail("the local stack has no CorrectionsTable output")
    # GIVEN the review saved by the browser test (run on its own, save one here the same way)
    from docproc import classes
    from docproc_local.console.corrections import CorrectionsStore, parse_review

    store = CorrectionsStore(stack.client("dynamodb"), stack.outputs["CorrectionsTableName"])
    doc_id = documents["medline-pubmed-records.txt"].document_id
    if not store.for_document(doc_id):
        record = stack.record(doc_id)
        assert record is not None
        form = {f"field.{next(iter(record['fields']))}": CORRECTED_TITLE, "domain": record["domain"]}
        store.add(record, parse_review(form, record, classes.load()), REVIEWER)

    # WHEN the reviews are exported
    out = tmp_path / "golden"
    result = export(stack, out)
    assert result.written == ["medline-pubmed-records.txt"]
    expected = json.loads((out / "expected" / "medline-pubmed-records.txt.json").read_text())
    assert CORRECTED_TITLE in expected["fields"].values()
    assert (out / "documents" / "medline-pubmed-records.txt").read_bytes() == (
        REPO / "samples" / "medline-pubmed-records.txt"
    ).read_bytes()

    # THEN `docproc evaluate` reads and scores the export (against this module's stack)
    @contextmanager
    def this_stack(*_: Any, **__: Any) -> Iterator[tuple[StackClient, str]]:
        yield stack, "the test's local stack"

    monkeypatch.setattr(runner, "stack_client", this_stack)
    report_dir = tmp_path / "report"
    assert cli.main(["evaluate", str(out), "--out", str(report_dir), "--json"]) == 0
    report = json.loads((report_dir / "report.json").read_text())
    assert report["golden"] == str(out)
    assert report["summary"]["documents"] == 1
    assert report["summary"]["completed"] == 1
    # the reviewed title is the label the model's (uncorrected) title is now scored against
    assert CORRECTED_TITLE in json.dumps(report, ensure_ascii=False)
