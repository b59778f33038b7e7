"""PDF tables as rows and cells: ruled and whitespace-aligned tables on generated pages, a real invoice and
statement, the tables JSON prepare writes, and the bounds that keep hostile PDFs cheap (hang guards, no timing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from docproc.formats import DocumentFormat, Table, extract_text, pdf_tables

from helpers import pdf_from_objects

REALDOCS = Path(__file__).resolve().parents[3] / "shared" / "realdocs"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def text_ops(lines: list[tuple[float, float, str]], size: int = 10) -> bytes:
    """Content-stream operators drawing each ``(x, y, text)`` in Helvetica."""
    return b"".join(b"BT /F1 %d Tf %.1f %.1f Td (%s) Tj ET\n" % (size, x, y, _escape(t).encode()) for x, y, t in lines)


def grid_ops(x0: float, y_top: float, widths: list[float], rows: int, height: float) -> bytes:
    """The rules of a grid: one horizontal line per row edge and one vertical line per column edge."""
    xs = [x0]
    for width in widths:
        xs.append(xs[-1] + width)
    ys = [y_top - height * row for row in range(rows + 1)]
    ops = [b"%.1f %.1f m %.1f %.1f l S" % (xs[0], y, xs[-1], y) for y in ys]
    ops += [b"%.1f %.1f m %.1f %.1f l S" % (x, ys[0], x, ys[-1]) for x in xs]
    return b"0.5 w\n" + b"\n".join(ops) + b"\n"


def pdf_of_pages(contents: list[bytes]) -> bytes:
    """A PDF whose pages (US letter) draw the given content streams, with Helvetica as /F1."""
    n = len(contents)
    kids = b" ".join(b"%d 0 R" % (4 + 2 * i) for i in range(n))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for i, content in enumerate(contents):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            b"/Contents %d 0 R >>" % (5 + 2 * i)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
    return pdf_from_objects(objects)


RULED_ROWS = [("Item", "Qty", "Price"), ("Widget", "4", "12.50"), ("Gadget", "10", "3.99"), ("Total", "", "89.90")]
WIDTHS = [150.0, 80.0, 100.0]


def ruled_page(x0: float = 72, y_top: float = 700) -> bytes:
    cells = []
    for r, row in enumerate(RULED_ROWS):
        x = x0
        for c, value in enumerate(row):
            if value:
                cells.append((x + 4, y_top - 20 * r - 14, value))
            x += WIDTHS[c]
    heading = text_ops([(72, 740, "Order summary for March")], size=14)
    return heading + grid_ops(x0, y_top, WIDTHS, len(RULED_ROWS), 20) + text_ops(cells)


UNRULED_ROWS = [
    ("Region", "Units", "Revenue", "Margin"),
    ("North", "1,204", "56,300.00", "21%"),
    ("South", "877", "41,950.50", "18%"),
    ("East", "1,530", "70,120.25", "24%"),
]


def unruled_page() -> bytes:
    prose = [
        (72, 740, "Quarterly results by region are shown below; all figures are unaudited."),
        (72, 726, "The board reviewed them on 12 April."),
    ]
    cells = [
        (x, 690 - 16 * r, value)
        for r, row in enumerate(UNRULED_ROWS)
        for x, value in zip((72, 200, 300, 420), row, strict=True)
    ]
    after = [(72, 600, "Margins improved in every region compared with the previous quarter.")]
    return text_ops(prose + cells + after)


def test_a_ruled_table_comes_out_as_rows_and_cells() -> None:
    result = extract_text(pdf_of_pages([ruled_page()]), "order.pdf")

    assert result.format is DocumentFormat.PDF
    assert result.tables == (Table(page=1, rows=tuple(RULED_ROWS), source="page 1, table 1"),)
    # the page text stays pypdf's reading: every cell is in it
    assert "Order summary for March" in result.text
    assert all(cell in result.text for row in RULED_ROWS for cell in row)


def test_a_whitespace_aligned_table_comes_out_as_rows_and_cells() -> None:
    result = extract_text(pdf_of_pages([unruled_page()]), "regions.pdf")

    assert [table.rows for table in result.tables] == [tuple(UNRULED_ROWS)]
    assert result.tables[0].page == 1
    assert "Margins improved" in result.text


def test_tables_keep_their_page_and_prose_pages_have_none() -> None:
    prose = text_ops([(72, 700 - 14 * i, f"This is line {i} of an ordinary paragraph of text.") for i in range(20)])
    two_columns = text_ops(
        [(72, 700 - 14 * i, "Left column prose that goes on for a while") for i in range(12)]
        + [(330, 700 - 14 * i, "and right column prose that also goes on") for i in range(12)]
    )

    result = extract_text(pdf_of_pages([prose, ruled_page(), two_columns, unruled_page()]), "mixed.pdf")

    assert [(table.page, table.source) for table in result.tables] == [(2, "page 2, table 1"), (4, "page 4, table 1")]


def test_prepare_writes_the_tables_json_of_a_pdf() -> None:
    from docproc.models import DocumentRef
    from docproc.prepare import prepare_document

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="input")
        s3.create_bucket(Bucket="artifacts")
        s3.put_object(Bucket="input", Key="order.pdf", Body=pdf_of_pages([ruled_page(), unruled_page()]))
        ref = DocumentRef(document_id="a" * 32, bucket="input", key="order.pdf")

        prepared = prepare_document(ref, s3=s3, artifacts_bucket="artifacts", max_document_bytes=10**7)
        body = s3.get_object(Bucket="artifacts", Key=f"text/{'a' * 32}.tables.json")["Body"].read()

    assert prepared.text.table_count == 2
    assert prepared.text.tables_uri == f"s3://artifacts/text/{'a' * 32}.tables.json"
    assert json.loads(body) == {
        "tables": [
            {"page": 1, "source": "page 1, table 1", "rows": [list(row) for row in RULED_ROWS]},
            {"page": 2, "source": "page 1, table 1".replace("1,", "2,"), "rows": [list(row) for row in UNRULED_ROWS]},
        ]
    }


# --- real documents (evaluation data: asserted, never tuned on) --------------------------------------------------


def _real(name: str) -> bytes:
    path = REALDOCS / name
    if not path.exists():
        pytest.skip(f"{path} not present")
    return path.read_bytes()


def test_the_aws_invoice_lists_its_charges_as_a_table() -> None:
    result = extract_text(_real("invoice2data-aws.pdf"), "invoice2data-aws.pdf")

    rows = [row for table in result.tables for row in table.rows]
    assert len(result.tables) >= 2
    assert ("AWS Data Transfer", "$0.01") in rows
    assert ("Amazon Elastic Compute Cloud", "$1.87") in rows


def test_the_flipkart_invoice_line_item_is_a_row() -> None:
    result = extract_text(_real("invoice2data-flipkart.pdf"), "invoice2data-flipkart.pdf")

    rows = [row for table in result.tables for row in table.rows]
    assert ("Memory cards", "SanDisk Ultra 16 GB MicroSDHC Class", "1", "278.61", "14.50%", "40.39", "319.00") in rows


def test_the_mitsubishi_statement_has_rows_of_figures() -> None:
    result = extract_text(_real("mitsubishi-equity-statement-2021.pdf"), "mitsubishi-equity-statement-2021.pdf")

    rows = [row for table in result.tables for row in table.rows]
    assert len(result.tables) >= 3
    assert ("Purchase of treasury stock", "", "", "(367)", "(367)", "", "(367)") in rows


def test_the_sec_spec_tables_have_header_and_value_cells() -> None:
    result = extract_text(_real("sec-edgar-ownership-xml-techspec.pdf"), "sec.pdf")

    cells = {cell for table in result.tables for row in table.rows for cell in row}
    assert len(result.tables) >= 10
    assert {"Code", "State or Country name", "Isle of Man", "Guernsey"} <= cells


# --- bounds (hang guards) ---------------------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_a_page_of_thousands_of_tiny_cells_is_not_examined() -> None:
    # GIVEN a page of 100 x 100 tiny cells, each its own rectangle, with a figure in many of them
    boxes = b"\n".join(b"%d %d 4 5 re S" % (10 + 4 * c, 275 + 5 * r) for r in range(100) for c in range(100))
    figures = text_ops([(10 + 4 * c, 775 - 5 * r, "1") for r in range(0, 100, 4) for c in range(0, 100, 4)], size=2)
    page = boxes + b"\n" + figures

    result = extract_text(pdf_of_pages([page, ruled_page()]), "bomb.pdf")

    # THEN that page is skipped with a warning and the next page's table is still found
    assert any("ruled tables not examined" in warning for warning in result.warnings)
    assert [table.page for table in result.tables] == [2]


@pytest.mark.timeout(120)
def test_tables_are_looked_for_on_a_bounded_number_of_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_tables, "MAX_TABLE_PAGES", 3)

    result = extract_text(pdf_of_pages([ruled_page()] * 8), "many.pdf")

    assert [table.page for table in result.tables] == [1, 2, 3]
    assert "looked for tables on the first 3 of 8 pages that may hold one" in result.warnings


@pytest.mark.timeout(120)
def test_a_big_table_is_cut_at_the_cell_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_tables, "MAX_CELLS_PER_TABLE", 30)
    rows = 40
    cells = [(76 + 60 * c, 760 - 18 * r - 13, f"{r}.{c}") for r in range(rows) for c in range(3)]
    page = grid_ops(72, 760, [60.0] * 3, rows, 18) + text_ops(cells)

    result = extract_text(pdf_of_pages([page]), "long.pdf")

    assert len(result.tables) == 1
    assert result.tables[0].rows[:2] == (("0.0", "0.1", "0.2"), ("1.0", "1.1", "1.2"))
    assert len(result.tables[0].rows) == 10
    assert any("cut at 10 rows" in warning for warning in result.warnings)


@pytest.mark.parametrize("name", ["govdocs-federal-register-bad-page.pdf", "pdfminer-zen-of-python-corrupted.pdf"])
def test_malformed_real_pdfs_still_read(name: str) -> None:
    result = extract_text(_real(name), name)

    assert result.text.strip()


def test_a_page_pdfminer_cannot_parse_loses_its_tables_not_its_text(monkeypatch: pytest.MonkeyPatch) -> None:
    import pdfplumber.page
    from pdfminer.pdfparser import PDFSyntaxError

    def broken(*_args: object, **_kwargs: object) -> None:
        raise PDFSyntaxError("unexpected token")

    monkeypatch.setattr(pdfplumber.page.Page, "find_tables", broken)

    result = extract_text(pdf_of_pages([ruled_page(), unruled_page()]), "broken.pdf")

    assert "Order summary for March" in result.text
    assert "tables on page 1 not read (PDFSyntaxError)" in result.warnings
    assert [table.page for table in result.tables] == [2]  # the other page still has its table


def test_pdfplumber_is_imported_only_when_a_pdf_has_a_table_candidate() -> None:
    code = (
        "import sys\n"
        "from docproc.formats import extract_text\n"
        "extract_text(b'hello world, plain text', 'a.txt')\n"
        "assert 'pdfplumber' not in sys.modules and 'pdfminer' not in sys.modules\n"
        f"extract_text({pdf_of_pages([ruled_page()])!r}, 'a.pdf')\n"
        "assert 'pdfplumber' in sys.modules\n"
        # pypdf imports Pillow when it is installed (not in the layer); pdfplumber's rendering must stay unimported
        "assert 'pdfplumber.display' not in sys.modules and 'pypdfium2' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
