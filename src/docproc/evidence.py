"""The evidence check: is each extracted value backed by a verbatim quote from the document?

A field's evidence is ``{page, quote}``. The quote is looked up in the text the model was given, after the same
normalisation on both sides (NFKC, case folding, one kind of quote mark and dash, runs of whitespace as one
space). Pages are separated by form feeds in the extracted text (PDF). Outcomes, recorded in ``flags``:

- quote found on the stated page: confidence unchanged;
- found on another page: ``page_corrected``, the page is fixed, confidence x 0.9;
- not found anywhere: ``quote_not_found`` (a likely hallucination), confidence x 0.3;
- quote found but the value does not appear in it (numbers compared by value, strings by their words):
  ``value_not_in_quote``, confidence x 0.7.

The model's own figure is kept as ``modelConfidence``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from docproc.models import Evidence, FieldValue

NOT_FOUND_FACTOR = 0.3
OTHER_PAGE_FACTOR = 0.9
VALUE_MISMATCH_FACTOR = 0.7

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00ab": '"',
        "\u00bb": '"',
    }
)
_SPACE_RE = re.compile(r"\s+")
_ELLIPSIS_RE = re.compile(r"\s*(?:\.\.\.|\u2026|\[\.\.\.\])\s*")
_NUMBER_RE = re.compile(r"\d[\d,.' \u00a0\u202f]*\d|\d")
_WORD_RE = re.compile(r"\w+")
_CURRENCY_CODE_RE = re.compile(r"^[A-Z]{3}$")
_CURRENCY_SIGNS_RE = re.compile(r"[$\u00a2-\u00a5\u20a0-\u20c0\u5143\u5186]|\b(?:fr|kr|zł|lei|r\$|rs)\b")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    return _SPACE_RE.sub(" ", text).strip()


@dataclass
class DocumentText:
    """A document's text prepared for quote lookups: normalised pages and their concatenation."""

    pages: list[str]
    whole: str
    first_page: int = 1  # page number of the text's first character (a chunk of a long document)

    @classmethod
    def of(cls, text: str, first_page: int = 1) -> DocumentText:
        pages = [normalise(page) for page in text.split("\f")]
        return cls(pages=pages, whole=" ".join(pages), first_page=first_page)

    def locate(self, quote: str) -> int | None:
        """The 1-based page the (normalised) quote is on, or None. Quotes with ellipses match part by part."""
        parts = [p for p in _ELLIPSIS_RE.split(quote) if p]
        if not parts:
            return None
        for number, page in enumerate(self.pages, start=self.first_page):
            if all(part in page for part in parts):
                return number
        return None


def _numbers(text: str) -> list[float]:
    found = []
    for raw in _NUMBER_RE.findall(text):
        digits = re.sub(r"[\s\u00a0\u202f']", "", raw)
        candidates = {digits.replace(",", ""), digits.replace(".", "").replace(",", ".")}
        for candidate in candidates:
            try:
                found.append(float(candidate))
            except ValueError:
                continue
    return found


def value_in_quote(value: Any, quote: str) -> bool:
    """Whether a plain value appears in a normalised quote (lenient: formats of numbers and dates vary)."""
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int | float):
        numbers = _numbers(quote)
        target = abs(float(value))
        # the quote may state the amount in thousands or millions ("352,583" with "in millions")
        return any(
            abs(n * scale - target) <= max(0.005 * target, 0.01) for n in numbers for scale in (1, 1e3, 1e6, 1e9)
        )
    if isinstance(value, str):
        if _CURRENCY_CODE_RE.match(value):  # an ISO 4217 code is often only implied by a sign ($, €, ¥)
            return value.casefold() in quote or bool(_CURRENCY_SIGNS_RE.search(quote))
        if re.fullmatch(r"\d{4}(?:-\d{2}){0,2}", value):
            return value[:4] in quote or value[2:4] in quote  # dates are written in many ways; the year must show
        words = _WORD_RE.findall(normalise(value))
        if not words:
            return True
        present = sum(1 for word in words if word in quote)
        return present / len(words) >= 0.6
    if isinstance(value, dict):
        return any(value_in_quote(v, quote) for v in value.values() if isinstance(v, str | int | float))
    if isinstance(value, list):
        return all(value_in_quote(v, quote) for v in value)
    return True


def check_field(raw: dict[str, Any], document: DocumentText) -> FieldValue:
    """One tool-input envelope ``{value, confidence, evidence}`` checked against the document."""
    confidence = float(raw.get("confidence", 0.0))
    evidence_raw = raw.get("evidence") or {}
    quote = str(evidence_raw.get("quote") or "")
    stated_page = evidence_raw.get("page")
    flags: list[str] = []
    score = confidence
    normalised = normalise(quote)
    page = document.locate(normalised) if normalised else None
    if page is None:
        flags.append("quote_not_found")
        score *= NOT_FOUND_FACTOR
    else:
        if stated_page is not None and stated_page != page:
            flags.append("page_corrected")
            score *= OTHER_PAGE_FACTOR
        if not value_in_quote(raw.get("value"), normalised):
            flags.append("value_not_in_quote")
            score *= VALUE_MISMATCH_FACTOR
    return FieldValue(
        value=raw.get("value"),
        confidence=round(max(0.0, min(1.0, score)), 3),
        model_confidence=round(max(0.0, min(1.0, confidence)), 3),
        evidence=Evidence(page=page if page is not None else stated_page, quote=quote, found=page is not None),
        flags=flags,
    )


def check_fields(fields: dict[str, Any], text: str, first_page: int = 1) -> dict[str, FieldValue | list[FieldValue]]:
    """Every field of a tool input checked against the text the model read (see the module docstring)."""
    document = DocumentText.of(text, first_page)
    checked: dict[str, FieldValue | list[FieldValue]] = {}
    for name, raw in fields.items():
        if isinstance(raw, list):
            checked[name] = [check_field(item, document) for item in raw if isinstance(item, dict)]
        elif isinstance(raw, dict):
            checked[name] = check_field(raw, document)
    return checked


def field_confidences(fields: dict[str, FieldValue | list[FieldValue]]) -> list[float]:
    values: list[float] = []
    for item in fields.values():
        values.extend(v.confidence for v in (item if isinstance(item, list) else [item]))
    return values


def unverified(fields: dict[str, FieldValue | list[FieldValue]]) -> list[str]:
    """Names of fields with at least one quote that was not found."""
    return [
        name
        for name, item in fields.items()
        if any("quote_not_found" in v.flags for v in (item if isinstance(item, list) else [item]))
    ]
