"""Word-processing documents: DOCX with python-docx (MIT), OpenDocument text with the standard library's XML parser.

DOCX: python-docx reads the body in document order (paragraphs and tables, merged cells once); a macro-enabled
or template package that python-docx refuses by content type is read from its XML directly (paragraphs only).
ODT stays hand-written: there is no maintained, permissive, lxml-free ODF reader (odfpy is Apache-2.0 but
unmaintained and loads the whole DOM through xml.dom.minidom, far slower and hungrier than one ElementTree pass).
Tables come out twice: as ``a | b`` lines in the text and as :class:`~docproc.formats.tables.Table` rows.

Not done: DOCX headers, footers, text boxes and footnotes.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from xml.etree import ElementTree as ET

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph

from docproc.errors import EncryptedDocument
from docproc.formats.base import Raw, Sniffed, words
from docproc.formats.limits import Limits, Sink
from docproc.formats.office import (
    damage_is_corruption,
    iterparse,
    local,
    ooxml_main_part,
    open_member,
    open_zip,
    read_small,
    unreadable,
)
from docproc.formats.registry import MEDIA_TYPES, DocumentFormat
from docproc.formats.tables import Table, clean_row, make_table, row_text

# --- DOCX ------------------------------------------------------------------------------------------------------


@damage_is_corruption(DocumentFormat.DOCX)
def extract_docx(sniffed: Sniffed, limits: Limits) -> Raw:
    with open_zip(sniffed.data, DocumentFormat.DOCX) as zf:  # encryption and size checks on every part
        main = ooxml_main_part(zf, "word/document.xml")
        open_member(zf, main, DocumentFormat.DOCX).close()
    try:
        document = docx.Document(io.BytesIO(sniffed.data))
    except ValueError as exc:  # macro-enabled or template content type: read the XML ourselves
        return _extract_docx_xml(sniffed, limits, f"python-docx refused the file ({exc}); read word XML directly")
    except (PackageNotFoundError, KeyError, zipfile.BadZipFile, SyntaxError) as exc:
        raise unreadable(f"DOCX could not be parsed: {type(exc).__name__}: {exc}", exc) from exc
    sink = Sink(limits.max_chars)
    tables: list[Table] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            text = block.text
        else:
            rows = _docx_rows(block, 0)
            table = make_table(rows, f"table {len(tables) + 1}")
            if table is not None:
                tables.append(table)
            text = "\n".join(row_text(row) for row in rows if row)
        if not sink.add(text):
            break
    return Raw(sink.text(), truncated=sink.truncated, empty_reason="DOCX has no text in its body", tables=tables)


def _docx_rows(table: DocxTable, depth: int) -> list[tuple[str, ...]]:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell repeats for every grid column it spans
                continue
            seen.add(id(cell._tc))
            if depth >= 5:
                cells.append(cell.text)
                continue
            parts = []
            for inner in cell.iter_inner_content():  # a nested table's rows become text inside the cell
                if isinstance(inner, Paragraph):
                    parts.append(inner.text)
                else:
                    parts.extend(row_text(r) for r in _docx_rows(inner, depth + 1) if r)
            cells.append(" ".join(parts))
        rows.append(clean_row(cells))
    return rows


def _extract_docx_xml(sniffed: Sniffed, limits: Limits, warning: str) -> Raw:
    sink = Sink(limits.max_chars)
    with open_zip(sniffed.data, DocumentFormat.DOCX) as zf:
        main = ooxml_main_part(zf, "word/document.xml")
        with open_member(zf, main, DocumentFormat.DOCX) as member:
            try:
                for _, elem in iterparse(member):
                    if local(elem.tag) == "p":
                        parts = []
                        for node in elem.iter():
                            name = local(node.tag)
                            if name == "t" and node.text:
                                parts.append(node.text)
                            elif name == "tab":
                                parts.append("\t")
                            elif name in ("br", "cr"):
                                parts.append("\n")
                        elem.clear()
                        if not sink.add("".join(parts)):
                            break
            except ET.ParseError as exc:
                raise unreadable(f"DOCX {main} is not well-formed XML: {exc}", exc) from exc
    return Raw(sink.text(), truncated=sink.truncated, warnings=[warning], empty_reason="DOCX has no text in its body")


# --- ODT (and other OpenDocument text containers) ----------------------------------------------------------------

_ODF_SKIP = words(
    "annotation automatic-styles bookmark-ref font-face-decls forms note-citation scripts sequence-decls "
    "tracked-changes user-field-decls variable-decls"
)
_ODF_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"


@damage_is_corruption(DocumentFormat.ODT)
def extract_odt(sniffed: Sniffed, limits: Limits) -> Raw:
    warnings: list[str] = []
    if sniffed.media_type != MEDIA_TYPES[DocumentFormat.ODT]:
        warnings.append(f"OpenDocument type {sniffed.media_type} extracted as text")
    with open_zip(sniffed.data, DocumentFormat.ODT) as zf:
        if "META-INF/manifest.xml" in zf.namelist() and b"encryption-data" in read_small(
            zf, "META-INF/manifest.xml", 1 << 22
        ):
            raise EncryptedDocument("password-protected OpenDocument file (manifest lists encrypted parts)")
        with open_member(zf, "content.xml", DocumentFormat.ODT) as member:
            try:
                root = ET.parse(member).getroot()  # noqa: S314 - no DTDs; expat >= 2.4 refuses entity amplification
            except ET.ParseError as exc:
                raise unreadable(f"ODT content.xml is not well-formed XML: {exc}", exc) from exc
    sink = Sink(limits.max_chars)
    tables: list[Table] = []
    body = next((child for child in root if local(child.tag) == "body"), root)
    _odf_blocks(body, sink, tables, 0)
    return Raw(
        sink.text(), truncated=sink.truncated, warnings=warnings, empty_reason="ODT body has no text", tables=tables
    )


def _odf_blocks(elem: ET.Element, sink: Sink, tables: list[Table], depth: int) -> None:
    for child in elem:
        if sink.full:
            sink.truncated = True
            return
        name = local(child.tag)
        if name in _ODF_SKIP or depth > 100:
            continue
        if name in ("p", "h"):
            sink.add(_odf_inline(child, 0))
        elif name == "table":
            rows = [_odf_row(row) for row in _odf_table_rows(child, 0)]
            table = make_table(rows, f"table {len(tables) + 1}")
            if table is not None:
                tables.append(table)
            for row in rows:
                if row:
                    sink.add(row_text(row))
        else:
            _odf_blocks(child, sink, tables, depth + 1)


def _odf_table_rows(elem: ET.Element, depth: int) -> Iterator[ET.Element]:
    """The rows of a table, also inside row groups and header rows, but not those of tables nested in cells."""
    for child in elem:
        name = local(child.tag)
        if name == "table-row":
            yield child
        elif name != "table-cell" and depth < 10:
            yield from _odf_table_rows(child, depth + 1)


def _odf_row(row: ET.Element) -> tuple[str, ...]:
    return clean_row(
        " ".join(_odf_inline(p, 0) for p in cell.iter() if local(p.tag) in ("p", "h"))
        for cell in row
        if local(cell.tag) == "table-cell"
    )


def _odf_inline(elem: ET.Element, depth: int) -> str:
    parts = [elem.text or ""]
    for child in elem:
        name = local(child.tag)
        if name == "s":
            parts.append(" " * min(int(child.get(f"{_ODF_TEXT}c", "1") or 1), 100))
        elif name == "tab":
            parts.append("\t")
        elif name == "line-break":
            parts.append("\n")
        elif name not in _ODF_SKIP and depth < 50:
            parts.append(_odf_inline(child, depth + 1))
        parts.append(child.tail or "")
    return "".join(parts)
