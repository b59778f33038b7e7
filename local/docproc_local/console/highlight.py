"""Evidence highlighting: where each field's quote is in the extracted text, as spans of the original text.

The pipeline's evidence check (:mod:`docproc.evidence`) compares quotes and text after normalising both (NFKC,
case folding, one kind of quote mark and dash, whitespace runs as one space) and keeps no offsets. To mark a quote
in the text as the user sees it, this module normalises the text the same way while remembering, for every
normalised character, the original character it came from; a quote found in the normalised text then maps back to
an original span. Hand-written because no library keeps offsets through this normalisation; it reuses
``docproc.evidence.normalise`` for the quotes so both sides agree with the pipeline.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from docproc.evidence import _ELLIPSIS_RE, _QUOTES, normalise

MAX_TEXT_CHARS = 300_000  # longer texts are shown cut (the page stays usable); quotes past it are not marked


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    field: str  # "invoice_number", "line_items[2]"


class IndexedText:
    """``text`` normalised like the evidence check, with the original offset of each normalised character."""

    def __init__(self, text: str) -> None:
        self.text = text
        out: list[str] = []
        origin: list[int] = []
        pending_space = False
        for index, char in enumerate(text):
            if char.isspace():
                pending_space = bool(out)
                continue
            piece = unicodedata.normalize("NFKC", char).translate(_QUOTES).casefold()
            if pending_space:
                out.append(" ")
                origin.append(index - 1)
                pending_space = False
            for part in piece:
                if part.isspace():
                    continue
                out.append(part)
                origin.append(index)
        self.normalised = "".join(out)
        self.origin = origin

    def find(self, quote: str, start: int = 0) -> tuple[int, int] | None:
        """The original (start, end) of the first occurrence of ``quote`` (normalised) at or after ``start``."""
        needle = normalise(quote)
        if not needle:
            return None
        at = self.normalised.find(needle, start)
        if at < 0:
            return None
        return self.origin[at], self.origin[at + len(needle) - 1] + 1


def field_quotes(fields: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    """(field label, quote) for every field value of a record, list fields one per item."""
    for name, value in fields.items():
        entries = value if isinstance(value, list) else [value]
        for number, entry in enumerate(entries):
            if not isinstance(entry, Mapping):
                continue
            quote = str((entry.get("evidence") or {}).get("quote") or "")
            if quote:
                yield (f"{name}[{number}]" if isinstance(value, list) else name), quote


def spans(text: str, fields: Mapping[str, Any]) -> list[Span]:
    """Where the fields' quotes are in ``text`` (a quote with an ellipsis marks each of its parts)."""
    indexed = IndexedText(text)
    found: list[Span] = []
    for label, quote in field_quotes(fields):
        for part in (p for p in _ELLIPSIS_RE.split(quote) if p.strip()):
            where = indexed.find(part)
            if where:
                found.append(Span(where[0], where[1], label))
    return found


def render(text: str, found: Iterable[Span]) -> Markup:
    """``text`` as HTML with the spans in ``<mark data-field=...>``; overlapping spans share one mark."""
    text = text[:MAX_TEXT_CHARS]
    ordered = sorted((s for s in found if s.end <= len(text)), key=lambda s: (s.start, -s.end))
    clusters: list[tuple[int, int, list[str]]] = []
    for span in ordered:
        if clusters and span.start < clusters[-1][1]:
            start, end, labels = clusters[-1]
            clusters[-1] = (start, max(end, span.end), [*labels, span.field])
        else:
            clusters.append((span.start, span.end, [span.field]))
    pieces: list[str] = []
    position = 0
    anchors: set[str] = set()
    for start, end, labels in clusters:
        names = list(dict.fromkeys(labels))
        ids = [a for a in (anchor(label) for label in names) if a not in anchors]
        anchors.update(ids)
        ident = f' id="ev-{ids[0]}"' if ids else ""
        pieces.append(str(escape(text[position:start])))
        pieces.append(
            f'<mark{ident} data-field="{escape(" ".join(names))}" title="{escape(", ".join(names))}">'
            f"{escape(text[start:end])}</mark>"
        )
        position = end
    pieces.append(str(escape(text[position:])))
    return Markup("".join(pieces))  # noqa: S704 - every piece of document text above went through escape()


def anchor(label: str) -> str:
    """An HTML id fragment for a field label: ``line_items[2]`` -> ``line_items-2-``."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", label)
