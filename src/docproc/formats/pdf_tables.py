"""PDF tables as rows and cells: ruled tables with pdfplumber, whitespace-aligned ones by clustering its words.

pdfplumber (MIT, on pdfminer.six, MIT) finds ruled tables from the page's lines and rectangles
(``vertical_strategy="lines"``). Its ``"text"`` strategy cuts words apart on real pages (invoices, statements),
so tables drawn without rules are found here instead (:mod:`.pdf_columns`): words grouped into lines, lines
into runs of multi-cell lines, cells into the columns their x-ranges share.

Only pages whose pypdf reading suggests a table are opened by pdfminer (it costs ~0.1-0.3 s a page, pypdf
~0.01 s): :func:`page_hint` looks at the page's drawing operators and at its text's lines of several numbers.
Everything is bounded: at most :data:`MAX_TABLE_PAGES` pages per document, pages with more than
:data:`MAX_PAGE_OBJECTS` characters or :data:`MAX_PAGE_DRAWINGS` lines and rectangles are skipped, at most
:data:`MAX_TABLES_PER_PAGE` / :data:`MAX_TABLES` tables and :data:`MAX_CELLS_PER_TABLE` / :data:`MAX_CELLS`
cells are kept. A page pdfminer cannot read loses its tables (with a warning), never its text.

pdfplumber's rendering (``Page.to_image``: Pillow, pypdfium2) is never imported, so the layer ships
pdfplumber and pdfminer.six without those two.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from docproc.formats.pdf_columns import Word, whitespace_tables
from docproc.formats.tables import Table, clean_cell

if TYPE_CHECKING:
    from pypdf import PageObject

#: Pages per document handed to pdfminer for tables (the first candidates in page order), and their text (pypdf's
#: characters): pdfminer's time grows with both, about 0.1 ms a character.
MAX_TABLE_PAGES = 12
MAX_TABLE_CHARS = 36_000
#: A page with more characters (pypdf's count before, pdfminer's after) is not examined for tables.
MAX_PAGE_OBJECTS = 20_000
#: A page drawing more lines and rectangles is not examined (pdfplumber intersects every pair of edges).
MAX_PAGE_DRAWINGS = 3_000
#: Content-stream bytes :func:`page_hint` scans for drawing operators.
HINT_SCAN_BYTES = 1 << 20
MAX_TABLES_PER_PAGE = 20
MAX_TABLES = 200
MAX_CELLS_PER_TABLE = 5_000
MAX_CELLS = 50_000

#: Path operators that draw rules: ``x y w h re`` and ``x y l``.
_RULE_OPS = re.compile(rb"(?<![A-Za-z])(?:re|l)(?![A-Za-z])")
#: A figure: amounts, counts, percentages, dates (``1,234.50``, ``(2,595)``, ``12%``, ``2024-03-31``).
_FIGURE = re.compile(r"^[(\-+$€£¥]*\d[\d,.:/\-]*%?\)?$")
#: Rule operators on a page that make it worth looking for a ruled table.
MIN_RULES = 8
#: Lines mostly of figures (two or more) on a page that make it worth looking for a whitespace table.
MIN_FIGURE_LINES = 3

_RULED = {"vertical_strategy": "lines", "horizontal_strategy": "lines"}


@dataclass(frozen=True)
class Hint:
    ruled: bool  # the page draws enough rules for pdfplumber's line strategy
    aligned: bool  # the page's text has lines of figures: look for whitespace-aligned columns
    chars: int  # characters pypdf read on the page


@dataclass
class Found:
    tables: list[Table] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    cells: int = 0


def page_hint(page: PageObject, text: str) -> Hint | None:
    """Whether a page read by pypdf may hold a table (cheap: its operators and text, no layout)."""
    if len(text) > MAX_PAGE_OBJECTS:
        return None
    figure_lines = sum(1 for line in text.split("\n") if _is_figure_line(line.split()))
    ruled = _rule_count(page) >= MIN_RULES
    aligned = figure_lines >= MIN_FIGURE_LINES
    return Hint(ruled=ruled, aligned=aligned, chars=len(text)) if ruled or aligned else None


def _is_figure_line(tokens: list[str]) -> bool:
    """Two figures or more, and at least 40% of the line's tokens (``North 1,204 56,300.00 21%``)."""
    figures = sum(1 for token in tokens if _FIGURE.match(token))
    return figures >= 2 and figures >= 0.4 * len(tokens)


def _rule_count(page: PageObject) -> int:
    try:
        contents = page.get_contents()
        data = contents.get_data()[:HINT_SCAN_BYTES] if contents is not None else b""
    except (ValueError, KeyError, TypeError, AttributeError, zlib.error, struct.error, RecursionError):
        return 0
    if b"re" not in data and b" l" not in data:
        return 0
    return len(_RULE_OPS.findall(data))


def find_tables(data: bytes, hints: dict[int, Hint]) -> Found:
    """The tables on the hinted pages (1-based numbers) of the PDF ``data``, in page order."""
    found = Found()
    if not hints:
        return found
    numbers: list[int] = []
    budget = MAX_TABLE_CHARS
    for number in sorted(hints):
        if len(numbers) >= MAX_TABLE_PAGES or hints[number].chars > budget:
            break
        numbers.append(number)
        budget -= hints[number].chars
    if len(numbers) < len(hints):
        found.warnings.append(f"looked for tables on the first {len(numbers)} of {len(hints)} pages that may hold one")
    if not numbers:
        return found
    import pdfplumber  # only here: pdfminer.six costs import time that documents without tables never pay
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdftypes import PDFException
    from pdfminer.psparser import PSException
    from pdfplumber.utils.exceptions import MalformedPDFException, PdfminerException

    from docproc.formats.pdf import _PDF_FAILURES  # what PDF parsers leak on hostile input (pypdf's list)

    failures: tuple[type[BaseException], ...] = (
        PDFException,
        PSException,
        MalformedPDFException,
        PdfminerException,
        *_PDF_FAILURES,
    )
    try:
        pdf = pdfplumber.PDF(io.BytesIO(data))
    except failures as exc:
        found.warnings.append(f"tables not read: pdfminer could not open the PDF ({type(exc).__name__})")
        return found
    wanted = set(numbers)
    try:
        pages = _pages(pdf, PDFPage, max(numbers))
        for number, pdfpage in pages:
            if number not in wanted:
                continue
            if len(found.tables) >= MAX_TABLES or found.cells >= MAX_CELLS:
                found.warnings.append(f"stopped looking for tables at page {number}: {len(found.tables)} tables kept")
                break
            page = pdfplumber.page.Page(pdf, pdfpage, page_number=number, initial_doctop=0)
            try:
                _read_page(page, number, hints[number], found)
            except failures as exc:
                found.warnings.append(f"tables on page {number} not read ({type(exc).__name__})")
            finally:
                page.close()
    except failures as exc:
        found.warnings.append(f"tables not read past a damaged page tree ({type(exc).__name__})")
    finally:
        pdf.close()
    return found


def _pages(pdf: Any, pdfpage_class: Any, last: int) -> Iterator[tuple[int, Any]]:
    """``(number, pdfminer page)`` up to page ``last``: pdfplumber's ``PDF.pages`` would build every page."""
    for index, pdfpage in enumerate(pdfpage_class.create_pages(pdf.doc)):
        if index >= last:
            return
        yield index + 1, pdfpage


def _read_page(page: Any, number: int, hint: Hint, found: Found) -> None:
    if len(page.chars) > MAX_PAGE_OBJECTS:
        found.warnings.append(f"page {number} has {len(page.chars)} characters: not examined for tables")
        return
    drawings = len(page.lines) + len(page.rects)
    rows_per_table: list[list[tuple[str, ...]]] = []
    boxes: list[tuple[float, float, float, float]] = []
    if hint.ruled and drawings > MAX_PAGE_DRAWINGS:
        found.warnings.append(f"page {number} draws {drawings} lines and rectangles: ruled tables not examined")
    elif hint.ruled or drawings:
        for table in page.find_tables(_RULED)[: MAX_TABLES_PER_PAGE * 4]:
            rows = tidy(table.extract())
            if rows is not None:
                rows_per_table.append(rows)
                boxes.append(table.bbox)
    if hint.aligned or hint.ruled:
        words = [
            Word(w["x0"], w["x1"], w["top"], w["bottom"], w["text"])
            for w in page.extract_words(keep_blank_chars=False, use_text_flow=False)
            if not any(_inside(w, box) for box in boxes)
        ]
        for rows in whitespace_tables(words):
            cleaned = tidy([list(row) for row in rows])
            if cleaned is not None:
                rows_per_table.append(cleaned)
    for kept_here, rows in enumerate(rows_per_table, 1):
        if kept_here > MAX_TABLES_PER_PAGE or len(found.tables) >= MAX_TABLES:
            found.warnings.append(f"page {number}: kept the first {kept_here - 1} tables")
            break
        width = max(len(row) for row in rows)
        limit = max(1, min(MAX_CELLS_PER_TABLE, MAX_CELLS - found.cells) // width)
        if len(rows) > limit:
            found.warnings.append(f"page {number}: a table of {len(rows)} rows cut at {limit} rows (cell limit)")
            rows = rows[:limit]
        found.cells += sum(len(row) for row in rows)
        found.tables.append(Table(page=number, rows=tuple(rows), source=f"page {number}, table {kept_here}"))


def _inside(word: dict[str, Any], box: tuple[float, float, float, float]) -> bool:
    x0, top, x1, bottom = box
    middle_x, middle_y = (word["x0"] + word["x1"]) / 2, (word["top"] + word["bottom"]) / 2
    return x0 <= middle_x <= x1 and top <= middle_y <= bottom


def tidy(raw: list[list[str | None]]) -> list[tuple[str, ...]] | None:
    """Cells cleaned, empty rows and columns dropped; None unless a grid of 2 x 2 or more with a quarter filled
    (a box around a paragraph, a form's empty frame, a one-column list are not tables)."""
    rows = [[clean_cell(cell or "") for cell in row] for row in raw]
    rows = [row for row in rows if any(row)]
    if not rows:
        return None
    width = max(len(row) for row in rows)
    rows = [row + [""] * (width - len(row)) for row in rows]
    used = [column for column in range(width) if any(row[column] for row in rows)]
    grid = [tuple(row[column] for column in used) for row in rows]
    filled = sum(1 for row in grid for cell in row if cell)
    if len(grid) < 2 or len(used) < 2 or filled < 4 or filled < 0.25 * len(grid) * len(used):
        return None
    return grid
