"""The document text the field fillers read, and the evidence (page, verbatim quote) for what they find.

Every filler works on :class:`Source`: the ORIGINAL text (a bounded prefix, nothing rewritten, so offsets point
into what the model was given), its lines with their offsets, and its pages (form feeds). A filler reports each
value as a :class:`Hit` (value, confidence, the span of text that states it); :meth:`Source.envelope` turns a hit
into the tool-input envelope ``{value, confidence, evidence: {page, quote}}`` whose quote is the line holding the
span (or a window of at most :data:`QUOTE_MAX` characters around it), copied exactly.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

SCAN_CHARS = 60_000  # the prefix every filler reads: a 200k-character text costs what a 60k one does
QUOTE_MAX = 200
_LINE_BREAK_RE = re.compile(r"[\n\f]")
_CELL_SPLIT_RE = re.compile(r"\t|\s*\|\s*|\s{2,}")


@dataclass(frozen=True)
class Hit:
    """A value found in the text: ``start``/``end`` delimit the text that states it (label included or not)."""

    value: Any
    confidence: float
    start: int
    end: int


@dataclass(frozen=True)
class Line:
    start: int
    end: int  # exclusive, without the line break
    text: str
    number: int

    @property
    def stripped(self) -> str:
        return self.text.strip()


class Source:
    """The scanned prefix of a document, with line and page lookups and quote extraction."""

    def __init__(self, text: str) -> None:
        self.text = (text or "")[:SCAN_CHARS]
        self.lower = self.text.lower()
        self._page_breaks = [m.start() for m in re.finditer("\f", self.text)]
        starts = [0, *(m.end() for m in _LINE_BREAK_RE.finditer(self.text))]
        self.lines: list[Line] = []
        for number, start in enumerate(starts):
            end = starts[number + 1] - 1 if number + 1 < len(starts) else len(self.text)
            self.lines.append(Line(start, end, self.text[start:end], number))
        self._line_starts = starts
        self.cache: dict[str, Any] = {}  # what helpers compute once per document (dates, amounts)

    # --- lookups ---------------------------------------------------------------------------------------------------

    def page(self, position: int) -> int:
        return 1 + bisect.bisect_right(self._page_breaks, position - 1) if self._page_breaks else 1

    def line_at(self, position: int) -> Line:
        return self.lines[max(0, bisect.bisect_right(self._line_starts, position) - 1)]

    def next_lines(self, line: Line, count: int = 3) -> Iterator[Line]:
        """Up to ``count`` non-blank lines after ``line`` (stops at a blank line after the first one)."""
        seen = 0
        for other in self.lines[line.number + 1 : line.number + 1 + 2 * count]:
            if not other.stripped:
                if seen:
                    return
                continue
            yield other
            seen += 1
            if seen >= count:
                return

    def previous_line(self, line: Line) -> Line | None:
        for other in reversed(self.lines[max(0, line.number - 3) : line.number]):
            if other.stripped:
                return other
        return None

    def find(self, needle: str, start: int = 0) -> int:
        """Offset of ``needle`` (case-insensitive), or -1."""
        return self.lower.find(needle.lower(), start) if needle else -1

    def span_of(self, line: Line, fragment: str) -> tuple[int, int]:
        """The offsets of ``fragment`` inside ``line`` (the whole line when it is not there)."""
        index = line.text.find(fragment) if fragment else -1
        if index < 0:
            return line.start, line.end
        return line.start + index, line.start + index + len(fragment)

    def cells(self, line: Line) -> list[tuple[int, int, str]]:
        """The cells of a table row: split at tabs, pipes and runs of two or more spaces (offsets kept)."""
        key = f"cells:{line.number}"
        if key in self.cache:
            return self.cache[key]
        out: list[tuple[int, int, str]] = []
        position = 0
        text = line.text
        for match in [*_CELL_SPLIT_RE.finditer(text), None]:
            end = match.start() if match else len(text)
            raw = text[position:end]
            if raw.strip():
                lead = len(raw) - len(raw.lstrip())
                out.append((line.start + position + lead, line.start + position + len(raw.rstrip()), raw.strip()))
            if match:
                position = match.end()
        self.cache[key] = out
        return out

    # --- evidence --------------------------------------------------------------------------------------------------

    def quote(self, start: int, end: int) -> str:
        """Verbatim text around ``[start, end)``: its line(s) when short enough, else a window of QUOTE_MAX."""
        start, end = max(0, min(start, len(self.text))), max(0, min(max(end, start), len(self.text)))
        first, last = self.line_at(start), self.line_at(max(start, end - 1))
        lo, hi = max(first.start, self.text.rfind("\f", 0, start) + 1), last.end
        if "\f" in self.text[lo:hi]:
            hi = lo + self.text[lo:hi].index("\f")
        if hi - lo > QUOTE_MAX:
            span = min(end, hi) - start
            if span >= QUOTE_MAX:
                lo, hi = start, start + QUOTE_MAX
            else:
                room = QUOTE_MAX - span
                lo = max(lo, start - room // 3)
                hi = min(hi, lo + QUOTE_MAX)
        if lo > first.start and self.text[lo - 1].isalnum():  # do not start or end in the middle of a word
            space = self.text.find(" ", lo, min(start, lo + 20))
            lo = space + 1 if space >= 0 else lo
        if hi < last.end and self.text[hi : hi + 1].isalnum():
            space = self.text.rfind(" ", max(end, hi - 20), hi)
            hi = space if space >= 0 else hi
        quote = self.text[lo:hi].strip()
        if not quote:
            quote = self.text[start:end].strip() or self.text[max(0, start - 20) : start + 20].strip()
        return quote[:QUOTE_MAX].strip()

    def envelope(self, hit: Hit) -> dict[str, Any]:
        confidence = round(min(0.95, max(0.05, hit.confidence)), 2)
        return {
            "value": hit.value,
            "confidence": confidence,
            "evidence": {"page": self.page(hit.start), "quote": self.quote(hit.start, hit.end)},
        }

    def hit_for(self, value: Any, text: str, confidence: float, start: int = 0) -> Hit | None:
        """A hit for ``value`` whose evidence is the first occurrence of ``text`` at or after ``start``."""
        index = self.find(text, start)
        if index < 0 and start:
            index = self.find(text)
        if index < 0:
            return None
        return Hit(value, confidence, index, index + len(text))


def clean(value: str, limit: int = 200) -> str:
    """One line of text, trimmed of separators and markup a label leaves behind."""
    value = (
        re.sub(r"\s+", " ", value)
        .strip(" \t:;,|*#_>\"'\u201c\u201d")
        .lstrip("-\u2013\u2014. ")
        .rstrip(" -\u2013\u2014")
    )
    if len(value) > limit:
        value = value[:limit].rsplit(" ", 1)[0]
    return value
