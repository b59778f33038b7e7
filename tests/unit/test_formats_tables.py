"""Tables as tables: every format with tables returns their rows, and the text keeps them as "a | b" lines."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest

from docproc.formats import DocumentFormat, Table, extract_text


def _xlsx() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Revenue"
    sheet.append(["Region", "Booked", "Amount", "Share", "Paid"])
    sheet.append(["North", dt.date(2024, 3, 31), 1234.5, 0.25, True])
    sheet.append(["South", dt.datetime(2024, 4, 1, 9, 30), 99, None, False])
    sheet["A10"] = "Total"
    sheet["C10"] = "=SUM(C2:C3)"  # no cached value (never calculated): an empty cell, as Excel shows it unsaved
    notes = workbook.create_sheet("Notes")
    notes["B2"] = "Figures   in\nEUR"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_sheets_are_tables_with_dates_as_dates() -> None:
    result = extract_text(_xlsx(), "revenue.xlsx")

    assert result.format is DocumentFormat.XLSX
    assert result.pages == 2
    assert result.text == (
        "Sheet: Revenue\nRegion | Booked | Amount | Share | Paid\nNorth | 2024-03-31 | 1234.5 | 0.25 | TRUE\n"
        "South | 2024-04-01 09:30:00 | 99 |  | FALSE\nTotal\nSheet: Notes\n | Figures in EUR"
    )
    assert result.tables == (
        Table(
            page=1,
            rows=(
                ("Region", "Booked", "Amount", "Share", "Paid"),
                ("North", "2024-03-31", "1234.5", "0.25", "TRUE"),
                ("South", "2024-04-01 09:30:00", "99", "", "FALSE"),
                ("Total",),
            ),
            source="sheet Revenue",
        ),
        Table(page=2, rows=(("", "Figures in EUR"),), source="sheet Notes"),
    )
    assert not any("openpyxl could not" in warning for warning in result.warnings)


def test_xlsx_declaring_a_huge_dimension_costs_only_its_cells() -> None:
    data = _xlsx()
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b'<dimension ref="A1:E10"/>', b'<dimension ref="A1:XFD1048576"/>')
                assert b"XFD1048576" in content
            target.writestr(info, content)

    result = extract_text(buffer.getvalue(), "revenue.xlsx")

    assert result.tables[0].rows[0] == ("Region", "Booked", "Amount", "Share", "Paid")
    assert len(result.tables[0].rows) == 4


def test_csv_is_one_table() -> None:
    result = extract_text(b"name;city\nAda;London\nGrace;New York\n", "people.csv")

    assert result.tables == (Table(None, (("name", "city"), ("Ada", "London"), ("Grace", "New York")), "csv"),)


def test_docx_tables_in_document_order() -> None:
    document = docx.Document()
    document.add_paragraph("Parties")
    first = document.add_table(rows=2, cols=2)
    for row, values in zip(first.rows, [("Party", "Role"), ("Acme", "Supplier")], strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_paragraph("Prices")
    second = document.add_table(rows=1, cols=3)
    second.rows[0].cells[0].merge(second.rows[0].cells[1]).text = "Widget"
    second.rows[0].cells[2].text = "9.50"
    buffer = io.BytesIO()
    document.save(buffer)

    result = extract_text(buffer.getvalue(), "contract.docx")

    assert result.text == "Parties\nParty | Role\nAcme | Supplier\nPrices\nWidget | 9.50"
    assert result.tables == (
        Table(None, (("Party", "Role"), ("Acme", "Supplier")), "table 1"),
        Table(None, (("Widget", "9.50"),), "table 2"),  # a merged cell is one cell
    )


def test_html_data_tables_are_tables_but_layout_tables_are_not() -> None:
    page = (
        b"<html><body><table><tr><td><p>Menu and page layout</p></td></tr></table>"
        b"<table><tr><th>Year</th><th>Revenue</th></tr><tr><td>2023</td><td>10 <b>m</b></td></tr>"
        b"<tr><td>2024</td><td><table><tr><td>12</td><td>est.</td></tr><tr><td>a</td><td>b</td></tr></table>"
        b"</td></tr></table></body></html>"
    )

    result = extract_text(page, "report.html")

    assert [table.source for table in result.tables] == ["table 2", "table 3"]
    assert result.tables[0].rows == (("Year", "Revenue"), ("2023", "10 m"), ("2024", "12 est. a b"))
    assert result.tables[1].rows == (("12", "est."), ("a", "b"))
    assert "Year | Revenue\n2023 | 10 m" in result.text


@pytest.mark.parametrize(
    ("name", "count"),
    [
        ("nestle-half-year-segment-analysis.xlsx", 5),
        ("vodafone-financial-kpis.xlsx", 1),
        ("koha-user-manual-fr.odt", 2),
        ("buckle-8k-ex99-earnings-release.html", 4),
        ("apple-balance-sheet-2023.csv", 1),
    ],
)
def test_corpus_tables(realdocs: Path, name: str, count: int) -> None:
    result = extract_text((realdocs / name).read_bytes(), name)

    assert len(result.tables) == count
    text = " ".join(result.text.split())
    for table in result.tables:
        assert table.rows
        for row in table.rows:
            assert all(cell in text for cell in row)  # the text keeps every cell
