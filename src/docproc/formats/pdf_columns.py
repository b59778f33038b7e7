"""Whitespace-aligned tables from positioned words: lines, cells split at wide gaps, columns from shared gutters.

Hand-written because pdfplumber's ``"text"`` strategy (vertical edges where word edges line up) cuts cells
through words on real invoices and statements ("Sol" | "d By"), and camelot (MIT) needs OpenCV and Ghostscript.
The method: words are grouped into lines by their tops; a line is split into cells where the gap between two
words is wider than its font height; runs of at least :data:`MIN_ROWS` consecutive, closely spaced lines of two
cells or more are table candidates; their columns are the x-ranges that cells cover, split by the gutters no
cell crosses. A candidate whose cells read like prose (long on average) is two-column text, not a table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: Lines a whitespace table needs (a header and two rows).
MIN_ROWS = 3
#: A gap wider than this many times the words' height separates two cells.
CELL_GAP = 1.0
#: The smallest gap (points) that separates cells, for tiny fonts.
MIN_CELL_GAP = 4.0
#: Consecutive lines further apart than this many line heights end a run.
ROW_GAP = 2.5
#: Mean cell length above which a candidate is two columns of prose.
PROSE_CELL_CHARS = 32
#: Words a page may hand in (more is a page bomb: nothing is clustered).
MAX_WORDS = 20_000


@dataclass(frozen=True)
class Word:
    x0: float
    x1: float
    top: float
    bottom: float
    text: str


@dataclass(frozen=True)
class Cell:
    x0: float
    x1: float
    text: str


def whitespace_tables(words: Iterable[Word]) -> list[list[tuple[str, ...]]]:
    """Every whitespace-aligned table among ``words`` (page coordinates, top down) as rows of cells."""
    words = list(words)
    if len(words) > MAX_WORDS:
        return []
    tables = []
    for run in _runs(_lines(words)):
        rows = _grid(run)
        if rows is not None:
            tables.append(rows)
    return tables


def _lines(words: list[Word]) -> list[tuple[float, float, list[Word]]]:
    """``(top, height, words left to right)`` per text line, top to bottom."""
    lines: list[tuple[float, float, list[Word]]] = []
    for word in sorted(words, key=lambda w: (round(w.top), w.x0)):
        height = max(word.bottom - word.top, 1.0)
        if lines and abs(word.top - lines[-1][0]) <= 0.5 * max(height, lines[-1][1]):
            lines[-1][2].append(word)
        else:
            lines.append((word.top, height, [word]))
    return [(top, height, sorted(line, key=lambda w: w.x0)) for top, height, line in lines]


def _cells(line: list[Word], height: float) -> list[Cell]:
    gap = max(MIN_CELL_GAP, CELL_GAP * height)
    cells: list[Cell] = []
    for word in line:
        if cells and word.x0 - cells[-1].x1 <= gap:
            last = cells[-1]
            cells[-1] = Cell(last.x0, max(last.x1, word.x1), f"{last.text} {word.text}")
        else:
            cells.append(Cell(word.x0, word.x1, word.text))
    return cells


def _runs(lines: list[tuple[float, float, list[Word]]]) -> list[list[list[Cell]]]:
    runs: list[list[list[Cell]]] = []
    current: list[list[Cell]] = []
    previous: tuple[float, float] | None = None
    for top, height, words in lines:
        cells = _cells(words, height)
        close = previous is not None and top - previous[0] <= ROW_GAP * max(height, previous[1])
        if len(cells) >= 2 and (close or not current):
            current.append(cells)
        else:
            if len(current) >= MIN_ROWS:
                runs.append(current)
            current = [cells] if len(cells) >= 2 else []
        previous = (top, height)
    if len(current) >= MIN_ROWS:
        runs.append(current)
    return runs


def _grid(run: list[list[Cell]]) -> list[tuple[str, ...]] | None:
    columns: list[list[float]] = []  # [x0, x1] of each column, merged where cells overlap
    for cell in sorted((cell for row in run for cell in row), key=lambda c: c.x0):
        if columns and cell.x0 <= columns[-1][1]:
            columns[-1][1] = max(columns[-1][1], cell.x1)
        else:
            columns.append([cell.x0, cell.x1])
    if len(columns) < 2:
        return None
    rows = []
    for row in run:
        texts = [""] * len(columns)
        for cell in row:
            index = next(i for i, (x0, x1) in enumerate(columns) if x0 <= cell.x0 <= x1)
            texts[index] = f"{texts[index]} {cell.text}".strip()
        rows.append(tuple(texts))
    filled = [cell for row in rows for cell in row if cell]
    if sum(len(cell) for cell in filled) > PROSE_CELL_CHARS * len(filled):
        return None
    if sum(1 for row in rows if sum(1 for cell in row if cell) >= 2) < MIN_ROWS:
        return None
    return rows
