"""PPTX: slide text, tables and speaker notes, read from the DrawingML parts with the standard library.

Hand-written on purpose: python-pptx (MIT) gives the same text on the corpus's decks but needs Pillow and
XlsxWriter, which add about 22 MB to the Lambda layer (+27 %), costs about 0.4 s to import, and reads a deck 10 to
40 times slower; this reader walks each slide's XML once. Slides are read in presentation order from
``presentation.xml``; group shapes, tables (``a | b`` lines, and :class:`~docproc.formats.tables.Table` rows
with ``page`` = the slide number) and notes slides (``Notes:``) are included; slide numbers in notes are dropped.

Not done: charts, SmartArt text kept outside the slide part, embedded objects.
"""

from __future__ import annotations

import zipfile
from xml.etree import ElementTree as ET

from docproc.formats.base import Raw, Sniffed
from docproc.formats.limits import Limits, Sink
from docproc.formats.office import (
    damage_is_corruption,
    iterparse,
    local,
    ooxml_main_part,
    open_member,
    open_zip,
    unreadable,
)
from docproc.formats.office import relationships as part_relationships
from docproc.formats.registry import DocumentFormat
from docproc.formats.tables import Table, clean_row, make_table, row_text


@damage_is_corruption(DocumentFormat.PPTX)
def extract_pptx(sniffed: Sniffed, limits: Limits) -> Raw:
    sink = Sink(limits.max_chars)
    tables: list[Table] = []
    with open_zip(sniffed.data, DocumentFormat.PPTX) as zf:
        try:
            presentation = ooxml_main_part(zf, "ppt/presentation.xml")
            rels = part_relationships(zf, presentation)
            slides = []
            with open_member(zf, presentation, DocumentFormat.PPTX) as member:
                for _, elem in iterparse(member):
                    if local(elem.tag) == "sldId":
                        rel_id = next((v for k, v in elem.attrib.items() if local(k) == "id" and k.startswith("{")), "")
                        target = rels.get(rel_id, ("", ""))[1]
                        if target in zf.namelist():
                            slides.append(target)
            for number, slide in enumerate(slides, 1):
                slide_tables: list[tuple[tuple[str, ...], ...]] = []
                blocks = _drawingml_blocks(zf, slide, slide_tables)
                for index, rows in enumerate(slide_tables, 1):
                    table = make_table(rows, f"slide {number}, table {index}", page=number)
                    if table is not None:
                        tables.append(table)
                notes = [
                    target
                    for kind, target in part_relationships(zf, slide).values()
                    if kind.endswith("/notesSlide") and target in zf.namelist()
                ]
                note_blocks = [b for note in notes for b in _drawingml_blocks(zf, note, []) if not b.isdigit()]
                if note_blocks:
                    blocks += ["Notes:", *note_blocks]
                if blocks and not sink.add("\n".join([f"Slide {number}", *blocks])):
                    break
        except ET.ParseError as exc:
            raise unreadable(f"PPTX holds malformed XML: {exc}", exc) from exc
    return Raw(
        sink.text("\n\n"),
        pages=len(slides),
        truncated=sink.truncated,
        empty_reason=f"PPTX has {len(slides)} slide(s) but no text (pictures or embedded objects only)",
        tables=tables,
    )


def _drawingml_blocks(zf: zipfile.ZipFile, part: str, tables: list[tuple[tuple[str, ...], ...]]) -> list[str]:
    """Paragraphs of a slide or notes part in document order; table rows become ``a | b | c`` lines."""
    with open_member(zf, part, DocumentFormat.PPTX) as member:
        root = ET.parse(member).getroot()  # noqa: S314 - no DTDs; expat >= 2.4 refuses entity amplification
    blocks: list[str] = []
    _drawingml_walk(root, blocks, tables, 0)
    return [block for block in blocks if block.strip()]


def _drawingml_walk(elem: ET.Element, blocks: list[str], tables: list[tuple[tuple[str, ...], ...]], depth: int) -> None:
    for child in elem:
        name = local(child.tag)
        if name == "p":
            blocks.append(_drawingml_paragraph(child))
        elif name == "tbl":
            rows = tuple(_drawingml_row(tr) for tr in child if local(tr.tag) == "tr")
            tables.append(rows)
            blocks.extend(row_text(row) for row in rows)
        elif name == "tr":  # a row outside a table element (not written by PowerPoint, but seen in the wild)
            blocks.append(row_text(_drawingml_row(child)))
        elif depth < 100:
            _drawingml_walk(child, blocks, tables, depth + 1)


def _drawingml_row(row: ET.Element) -> tuple[str, ...]:
    cells = [
        " ".join(_drawingml_paragraph(p) for p in tc.iter() if local(p.tag) == "p")
        for tc in row
        if local(tc.tag) == "tc"
    ]
    return clean_row(cells)


def _drawingml_paragraph(paragraph: ET.Element) -> str:
    parts = []
    for node in paragraph.iter():
        name = local(node.tag)
        if name == "t" and node.text:
            parts.append(node.text)
        elif name == "br":
            parts.append("\n")
    return "".join(parts)
