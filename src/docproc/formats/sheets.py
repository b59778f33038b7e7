"""Spreadsheets and delimited text: XLSX with openpyxl (MIT), CSV/TSV with the standard library.

XLSX: openpyxl in read-only, data-only mode streams each sheet's rows and gives cached formula results, numbers
and dates as Python values (dates come out as ISO dates, not serial numbers). Rows are read at most
:data:`~docproc.formats.tables.MAX_COLUMNS` wide after resetting the sheet's declared dimensions, so a sheet that
claims ``A1:XFD1048576`` costs what its cells cost. Workbooks openpyxl cannot model (odd styles, a package without
content types) are read from their sheet XML directly, as docproc did before openpyxl: that streaming reader stays
as the fallback, with a warning. Each sheet is one :class:`~docproc.formats.tables.Table` (``page`` = the sheet's
number); the text has a ``Sheet: <name>`` line and the rows as ``a | b | c`` lines.

Not done: number formats (percentages and currencies appear as plain numbers), charts, legacy ``.xls``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import warnings as python_warnings
import zipfile
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree as ET

import openpyxl

from docproc.formats.base import Raw, Sniffed
from docproc.formats.limits import Limits, Sink, bounded
from docproc.formats.office import (
    damage_is_corruption,
    iterparse,
    local,
    ooxml_main_part,
    open_member,
    open_zip,
    relationships,
    unreadable,
)
from docproc.formats.registry import DocumentFormat
from docproc.formats.sniff import best_delimiter
from docproc.formats.tables import MAX_COLUMNS, Table, clean_row, make_table, row_text

# What openpyxl raises on workbooks it cannot model (its typed descriptors, missing content types, odd parts).
_OPENPYXL_REFUSALS = (TypeError, ValueError, KeyError, OSError, AttributeError, IndexError)

# --- XLSX --------------------------------------------------------------------------------------------------------


@damage_is_corruption(DocumentFormat.XLSX)
def extract_xlsx(sniffed: Sniffed, limits: Limits) -> Raw:
    with open_zip(sniffed.data, DocumentFormat.XLSX):  # encryption and size checks on every part
        pass
    try:
        return _extract_with_openpyxl(sniffed.data, limits)
    except _OPENPYXL_REFUSALS as exc:
        if isinstance(exc, zipfile.BadZipFile):
            raise
        raw = _extract_xlsx_xml(sniffed, limits)
        raw.warnings.append(
            f"openpyxl could not read the workbook ({type(exc).__name__}: {str(exc)[:120]}); "
            "read the sheet XML directly"
        )
        return raw


def _extract_with_openpyxl(data: bytes, limits: Limits) -> Raw:
    sink = Sink(limits.max_chars)
    tables: list[Table] = []
    with python_warnings.catch_warnings():
        python_warnings.simplefilter("ignore")  # "extension is not supported and will be removed", ...
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
        try:
            names = workbook.sheetnames
            for number, sheet in enumerate(workbook.worksheets, 1):
                if not sink.add(f"Sheet: {sheet.title}"):
                    break
                sheet.reset_dimensions()  # trust the cells, not the declared A1:XFD1048576
                rows: list[tuple[str, ...]] = []
                for values in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True):
                    if not any(value is not None for value in values):
                        continue
                    row = clean_row(_cell_text(value) for value in values)
                    if row:
                        rows.append(row)
                        if not sink.add(row_text(row)):
                            break
                table = make_table(rows, f"sheet {sheet.title}", page=number)
                if table is not None:
                    tables.append(table)
                if sink.full:
                    sink.truncated = True
                    break
        finally:
            workbook.close()
    return Raw(
        sink.text(), pages=len(names), truncated=sink.truncated, empty_reason="XLSX has no cell text", tables=tables
    )


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _format_number(repr(value))
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.replace(microsecond=0).isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _extract_xlsx_xml(sniffed: Sniffed, limits: Limits) -> Raw:
    """The streaming sheet-XML reader (shared strings, inline strings, numbers, booleans; dates as serials)."""
    sink = Sink(limits.max_chars)
    tables: list[Table] = []
    with open_zip(sniffed.data, DocumentFormat.XLSX) as zf:
        try:
            workbook = ooxml_main_part(zf, "xl/workbook.xml")
            rels = relationships(zf, workbook)
            shared = _xlsx_shared_strings(zf, rels, limits.max_chars)
            sheets: list[tuple[str, str]] = []
            with open_member(zf, workbook, DocumentFormat.XLSX) as member:
                for _, elem in iterparse(member):
                    if local(elem.tag) == "sheet":
                        rel_id = next((v for k, v in elem.attrib.items() if local(k) == "id"), "")
                        target = rels.get(rel_id, ("", ""))[1]
                        sheets.append((elem.get("name", f"Sheet{len(sheets) + 1}"), target))
            for number, (name, target) in enumerate(sheets, 1):
                if target not in zf.namelist():
                    continue
                if not sink.add(f"Sheet: {name}"):
                    break
                rows: list[tuple[str, ...]] = []
                with open_member(zf, target, DocumentFormat.XLSX) as member:
                    for row in _xlsx_rows(member, shared):
                        rows.append(row)
                        if not sink.add(row_text(row)):
                            break
                table = make_table(rows, f"sheet {name}", page=number)
                if table is not None:
                    tables.append(table)
                if sink.full:
                    sink.truncated = True
                    break
        except ET.ParseError as exc:
            raise unreadable(f"XLSX holds malformed XML: {exc}", exc) from exc
    return Raw(
        sink.text(), pages=len(sheets), truncated=sink.truncated, empty_reason="XLSX has no cell text", tables=tables
    )


def _xlsx_shared_strings(zf: zipfile.ZipFile, rels: dict[str, tuple[str, str]], max_chars: int) -> list[str]:
    target = next((t for kind, t in rels.values() if kind.endswith("/sharedStrings")), "xl/sharedStrings.xml")
    if target not in zf.namelist():
        return []
    strings: list[str] = []
    size = 0
    with open_member(zf, target, DocumentFormat.XLSX) as member:
        for _, elem in iterparse(member):
            if local(elem.tag) != "si":
                continue
            parts = []
            for child in elem:
                name = local(child.tag)
                if name == "t":
                    parts.append(child.text or "")
                elif name == "r":
                    parts.extend(t.text or "" for t in child if local(t.tag) == "t")
            value = "".join(parts)
            strings.append(value)
            size += len(value)
            elem.clear()
            if size > 4 * max_chars:  # strings beyond this cannot make it into the text anyway
                break
    return strings


def _xlsx_rows(member: io.BufferedIOBase, shared: list[str]) -> Iterator[tuple[str, ...]]:
    for _, elem in iterparse(member):
        if local(elem.tag) != "row":
            continue
        cells: dict[int, str] = {}
        for cell in elem:
            if local(cell.tag) != "c":
                continue
            value = _xlsx_cell_value(cell, shared)
            if value:
                column = _xlsx_column(cell.get("r", "")) if cell.get("r") else len(cells)
                cells[min(column, MAX_COLUMNS)] = value
        elem.clear()
        if cells:
            yield clean_row(cells.get(i, "") for i in range(max(cells) + 1))


def _xlsx_cell_value(cell: ET.Element, shared: list[str]) -> str:
    kind = cell.get("t", "n")
    value = None
    inline: list[str] = []
    for child in cell:
        name = local(child.tag)
        if name == "v":
            value = child.text
        elif name == "is":
            inline.extend(node.text or "" for node in child.iter() if local(node.tag) == "t")
    if kind == "inlineStr":
        return " ".join("".join(inline).split())
    if value is None:
        return ""
    if kind == "s":
        try:
            return " ".join(shared[int(value)].split())
        except (ValueError, IndexError):
            return ""
    if kind == "b":
        return "TRUE" if value == "1" else "FALSE"
    if kind == "n":
        return _format_number(value)
    return " ".join(value.split())


def _format_number(value: str) -> str:
    try:
        number = float(value)
    except ValueError:
        return value
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return f"{number:.15g}"


def _xlsx_column(ref: str) -> int:
    column = 0
    for ch in ref:
        if not ch.isalpha():
            break
        column = column * 26 + (ord(ch.upper()) - 64)
    return max(column - 1, 0)


# --- CSV / TSV ---------------------------------------------------------------------------------------------------


def extract_csv(sniffed: Sniffed, limits: Limits) -> Raw:
    source, truncated = bounded(sniffed.text or "", limits)
    source = source.replace("\x00", "")
    delimiter = best_delimiter(source[:32768], sniffed.ext)
    sink = Sink(limits.max_chars)
    warnings: list[str] = []
    rows: list[tuple[str, ...]] = []
    try:
        for cells in csv.reader(io.StringIO(source), delimiter=delimiter):
            row = clean_row(cells, max_columns=None)  # a CSV row is read whole, as before
            if row:
                rows.append(row)
                if not sink.add(row_text(row)):
                    break
    except csv.Error as exc:
        return Raw(source, truncated=truncated, warnings=[f"CSV could not be parsed ({exc}); extracted as plain text"])
    if delimiter != ",":
        warnings.append(f"CSV delimiter {delimiter!r}")
    table = make_table(rows, "csv")
    return Raw(
        sink.text(),
        truncated=truncated or sink.truncated,
        warnings=warnings,
        empty_reason="CSV has no cell text",
        tables=[table] if table else [],
    )
