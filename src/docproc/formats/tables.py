"""Tables as structure: rows of cell strings, kept beside the text (where every row is also a ``a | b | c`` line)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: Cells a row keeps (wider rows are cut: a row of 16,384 columns is a spreadsheet artefact, not a table).
MAX_COLUMNS = 200


@dataclass(frozen=True)
class Table:
    """One table: ``page`` is the PDF page, sheet or slide number where the format has one (else None); ``source``
    says where it came from (``sheet Revenue``, ``table 2``, ``slide 3, table 1``)."""

    page: int | None
    rows: tuple[tuple[str, ...], ...]
    source: str

    def to_json(self) -> dict[str, Any]:
        return {"page": self.page, "source": self.source, "rows": [list(row) for row in self.rows]}


def clean_cell(value: str) -> str:
    return " ".join(value.split())


def clean_row(cells: Iterable[str], max_columns: int | None = MAX_COLUMNS) -> tuple[str, ...]:
    """Cells with whitespace collapsed and trailing empty cells dropped (an empty tuple for an empty row)."""
    row = [clean_cell(cell) for cell in cells][:max_columns]
    while row and not row[-1]:
        row.pop()
    return tuple(row)


def row_text(row: tuple[str, ...]) -> str:
    return " | ".join(row)


def make_table(
    rows: Iterable[tuple[str, ...]], source: str, page: int | None = None, *, grid_only: bool = False
) -> Table | None:
    """A table of the non-empty rows, or None when no row has text.

    ``grid_only`` (HTML, where tables are often page layout): None unless there are two rows or more and some row
    has two cells or more.
    """
    kept = tuple(row for row in rows if row)
    if grid_only and (len(kept) < 2 or max(len(row) for row in kept) < 2):
        return None
    return Table(page=page, rows=kept, source=source) if kept else None
