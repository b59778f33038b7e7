"""Typed values in text: dates (with the label that gives them a role), amounts with currencies, labelled values.

The date and number grammars are the extractor's (:mod:`docproc_local.standins.extractor`: many notations and
languages); this module adds what typed fields need on top: *where* each value is, *which label* stands before it
(on its line, on the line above, or above it in a column of a table) and helpers that pick the value a label
names. Hand-written on purpose: the stand-in must stay dependency-free and deterministic.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass

from docproc_local.standins.fields.source import Hit, Line, Source, clean
from docproc_local.standins.insights.amounts import _CURRENCY_CODES, _PREFIX_SYMBOLS, _SUFFIX_WORDS, _parse_number
from docproc_local.standins.insights.dates import _DATE_PATTERNS, _date_value

LABEL_CHARS = 60  # how far before a value its label may start, on the same line
WINDOW = 250  # how far after a label its value may be, on the same line
MAX_MATCHES = 200  # label occurrences looked at (bounded work on pathological texts)

# --- dates ---------------------------------------------------------------------------------------------------------

_DAY_OF_RE = re.compile(
    r"\b(?P<day>[0-3]?\d)(?:st|nd|rd|th)?\s+day\s+of\s+(?P<month>[^\W\d_]{3,10}),?\s+(?:in\s+the\s+year\s+)?"
    r"(?P<year>(?:19|20)\d{2})\b",
    re.I,
)


@dataclass(frozen=True)
class DateHit:
    start: int
    end: int
    iso: str  # YYYY-MM-DD, or YYYY-MM for a month and year

    @property
    def full(self) -> bool:
        return len(self.iso) == 10


def dates(source: Source, language: str) -> list[DateHit]:
    """Every date in the text, in text order, without overlaps (cached on the source)."""
    key = f"dates:{language}"
    if key in source.cache:
        return source.cache[key]
    found: list[tuple[int, int, str]] = []
    for kind, pattern in (("dmy", _DAY_OF_RE), *_DATE_PATTERNS):
        for match in pattern.finditer(source.text):
            value = _date_value(kind, match, language)
            if value:
                found.append((match.start(), match.end(), value))
    found.sort(key=lambda item: (item[0], item[0] - item[1]))
    out: list[DateHit] = []
    for start, end, value in found:
        if not out or start >= out[-1].end:
            out.append(DateHit(start, end, value))
    source.cache[key] = out
    return out


def label_before(source: Source, start: int) -> str:
    """The label a value at ``start`` carries: text before it on its line, else the line or table cell above."""
    line = source.line_at(start)
    before = source.text[max(line.start, start - LABEL_CHARS) : start]
    before = re.split(r"[|\t]|\s{3,}", before)[-1] if re.search(r"[|\t]|\s{3,}", before.rstrip()) else before
    if re.search(r"[^\W\d_]{2,}", before):
        return before.strip()
    above = source.previous_line(line)
    if above is None:
        return ""
    cells, above_cells = source.cells(line), source.cells(above)
    index = next((i for i, (a, b, _) in enumerate(cells) if a <= start < b), 0)
    if len(cells) > 1 and len(above_cells) == len(cells):
        return above_cells[index][2]
    if len(cells) > 1 and len(above_cells) > 1:  # columns of different widths: the header cell above the value
        column = start - line.start
        for a, b, text in above_cells:
            if a - above.start <= column + 2 and column < b - above.start + 6:
                return text
    return above.stripped[-LABEL_CHARS:] if len(above.stripped) <= 2 * LABEL_CHARS else ""


def labelled_date(
    source: Source, language: str, label: re.Pattern[str], *, exclude: re.Pattern[str] | None = None
) -> Hit | None:
    """The first full date whose label matches ``label`` (and not ``exclude``), with the label in its evidence."""
    for hit in dates(source, language):
        if not hit.full:
            continue
        text = label_before(source, hit.start)
        if text and label.search(text) and not (exclude and exclude.search(text)):
            same_line = source.line_at(hit.start).start <= source.find(text, max(0, hit.start - 400)) < hit.start
            confidence = 0.9 if same_line else 0.8
            return Hit(hit.iso, confidence, hit.start, hit.end)
    return None


def date_after(source: Source, language: str, position: int, limit: int = 80) -> DateHit | None:
    """The first full date that starts within ``limit`` characters after ``position``."""
    for hit in dates(source, language):
        if position <= hit.start <= position + limit and hit.full:
            return hit
        if hit.start > position + limit:
            break
    return None


# --- amounts -------------------------------------------------------------------------------------------------------

_CODES = frozenset(_CURRENCY_CODES.split()) | {"CHF", "SEK", "NOK", "DKK"}
_SYMBOLS = sorted(_PREFIX_SYMBOLS, key=len, reverse=True)
_SYMBOL_ALT = "|".join(re.escape(s) for s in _SYMBOLS)
_SUFFIX_ALT = "|".join(re.escape(s) for s in sorted(_SUFFIX_WORDS, key=len, reverse=True))
_NUMBER = (
    r"\d{1,3}(?:[,.'\u2019\u00a0\u202f]\d{3})+(?:[.,]\d{1,2})?"  # 1,234.56  1.234,56  1'234.56
    r"|\d{1,3}(?: \d{3})+,\d{2}"  # 1 234,56
    r"|\d+(?:[.,]\d{1,2})?"
)
AMOUNT_RE = re.compile(
    rf"(?P<neg>[-\u2212]\s?|\(\s?)?(?P<pre>{_SYMBOL_ALT}|\b(?:{'|'.join(sorted(_CODES))})\b\.?)?\s?"
    rf"(?P<neg2>[-\u2212])?(?<![\d.,])(?P<num>{_NUMBER})(?![\d])(?P<close>\))?"
    rf"(?:\s?(?P<post>{_SUFFIX_ALT}|\b(?:{'|'.join(sorted(_CODES))})\b|EUR|kr)(?![^\W\d_]))?"
    r"(?P<pct>\s?%)?"
)


@dataclass(frozen=True)
class Amount:
    start: int
    end: int
    value: float
    currency: str | None
    decimals: bool  # written with cents: a money amount rather than a count

    @property
    def number(self) -> float | int:
        return int(self.value) if self.value == int(self.value) and abs(self.value) < 1e15 else self.value


def _currency(symbol: str | None, language: str) -> str | None:
    if not symbol:
        return None
    symbol = symbol.rstrip(".")
    code = _PREFIX_SYMBOLS.get(symbol) or _SUFFIX_WORDS.get(symbol) or _SUFFIX_WORDS.get(symbol.lower())
    if code is None and symbol.upper() in _CODES:
        code = symbol.upper()
    if symbol == "kr":
        code = {"sv": "SEK", "da": "DKK", "no": "NOK"}.get(language, "SEK")
    if code == "JPY" and language == "zh":
        code = "CNY"
    return "CNY" if code == "RMB" else code


def amounts(source: Source, start: int, end: int, language: str = "en") -> list[Amount]:
    """The amounts whose number lies in ``source.text[start:end]`` (no percentages, no parts of dates)."""
    everything = _all_amounts(source, language)
    starts = source.cache[f"amount-starts:{language}"]
    lo, hi = bisect.bisect_left(starts, start), bisect.bisect_left(starts, end)
    return [a for a in everything[lo:hi] if a.end <= end + 4]


def _all_amounts(source: Source, language: str) -> list[Amount]:
    """Every amount of the text, found in one pass and cached (ordered by where its number starts)."""
    key = f"amounts:{language}"
    if key in source.cache:
        return source.cache[key]
    spans = [(d.start, d.end) for d in dates(source, language)]
    span_starts = [a for a, _ in spans]
    out: list[Amount] = []
    for match in AMOUNT_RE.finditer(source.text):
        if match.group("pct"):
            continue
        num_start = match.start("num")
        index = bisect.bisect_right(span_starts, num_start) - 1
        if index >= 0 and spans[index][0] <= num_start < spans[index][1]:
            continue
        before = source.text[max(0, num_start - 1) : num_start]
        after = source.text[match.end("num") : match.end("num") + 1]
        if (before.isalpha() and not match.group("pre")) or (after.isalpha() and not match.group("post")):
            continue  # part of a word or identifier (INV2024, 3rd)
        raw = match.group("num").replace("\u00a0", "").replace("\u202f", "").replace("\u2019", "'")
        value = _parse_number(raw)
        if value is None:
            continue
        negative = bool(match.group("neg2")) or (match.group("neg") or "").strip() in ("-", "\u2212")
        negative = negative or ((match.group("neg") or "").startswith("(") and bool(match.group("close")))
        currency = _currency(match.group("pre") or match.group("post"), language)
        decimals = bool(re.search(r"[.,]\d{2}$", raw))
        out.append(Amount(num_start, match.end(), -value if negative else value, currency, decimals))
    source.cache[key] = out
    source.cache[f"amount-starts:{language}"] = [a.start for a in out]
    return out


def labelled_amount(
    source: Source,
    language: str,
    labels: re.Pattern[str],
    *,
    exclude: re.Pattern[str] | None = None,
    pick: str = "last",
) -> tuple[Hit, Amount] | None:
    """The amount a label names: on the label's line after it (the last one, or ``pick='first'``), else below it.

    When several lines carry the label, the last one wins (totals come after the lines they sum).
    """
    best: tuple[Hit, Amount] | None = None
    for count, match in enumerate(labels.finditer(source.text)):
        if count >= MAX_MATCHES:
            break
        line = source.line_at(match.start())
        if exclude and exclude.search(source.text[line.start : min(line.end, match.end() + WINDOW)]):
            continue
        line_end = min(line.end, match.end() + WINDOW)
        found = [a for a in amounts(source, match.end(), line_end, language) if a.value or a.decimals]
        label_start = match.start()
        if not found:
            below = next(source.next_lines(line, 1), None)
            if below is None or re.search(r"[^\W\d_]{3,}", below.text.replace("EUR", "").replace("USD", "")):
                continue
            found = amounts(source, below.start, below.end, language)
            if not found:
                continue
        chosen = found[-1] if pick == "last" else found[0]
        confidence = 0.9 if chosen.start - match.end() < 40 else 0.8
        best = (Hit(chosen.number, confidence, label_start, chosen.end), chosen)
    return best


def main_currency(source: Source, language: str, preferred: Amount | None = None) -> tuple[str, float, int] | None:
    """(ISO code, confidence, offset of its evidence): the total's currency, else the one the document uses most."""
    if preferred is not None and preferred.currency:
        return preferred.currency, 0.85, preferred.start
    counted = [a for a in amounts(source, 0, len(source.text), language) if a.currency]
    if not counted:
        code = re.search(rf"\b({'|'.join(sorted(_CODES))})\b", source.text)
        return (code.group(1), 0.6, code.start()) if code else None
    counts = Counter(a.currency for a in counted)
    currency = counts.most_common(1)[0][0]
    first = next(a for a in counted if a.currency == currency)
    return str(currency), 0.75 if len(counts) == 1 else 0.6, first.start


# --- labelled text -------------------------------------------------------------------------------------------------

_SEPARATOR_RE = re.compile(r"^[ \t]*(?:\([^)\n]{0,30}\))?[ \t]*[:\uff1a#=\-\u2013\u2014|.]*[ \t]*")


def after_label(source: Source, match: re.Match[str], *, below: bool = True, limit: int = 120) -> tuple[str, int, int]:
    """(value, start, end) written after a label match: the rest of its line, else the next non-blank line."""
    line = source.line_at(match.start())
    line_end = min(line.end, match.end() + 3 * WINDOW)
    rest = source.text[match.end() : line_end]
    sep = _SEPARATOR_RE.match(rest)
    offset = match.end() + (sep.end() if sep else 0)
    value = source.text[offset:line_end]
    cut = re.search(r"\t|\s{3,}|\s\|\s", value)  # the next column of a table row holds something else
    if cut:
        value = value[: cut.start()]
    value = clean(value, limit)
    if value:
        start = source.find(value, offset)
        return value, start if start >= 0 else offset, (start if start >= 0 else offset) + len(value)
    if below:
        nxt = next(source.next_lines(line, 1), None)
        if nxt is not None:
            value = clean(nxt.text[: 3 * WINDOW], limit)
            if value:
                start = source.find(value, nxt.start)
                return value, start, start + len(value)
    return "", offset, offset


def label_pattern(alternatives: str, *, line_start: bool = True, loose: bool = False) -> re.Pattern[str]:
    """A label regex: one of ``alternatives`` at the start of a line (after bullets, bold or a table pipe), followed
    by a colon (or the end of the line; with ``loose`` also by a space and a value)."""
    prefix = r"(?:^|(?<=[|\f]))[ \t>*\-•]*(?:\*\*)?" if line_start else r"\b"
    tail = r"[ \t]*(?:\([^)\n]{0,30}\))?[ \t]*(?:\*\*)?[ \t]*[:\uff1a#|]|[ \t]*(?:\*\*)?[ \t]*$"
    if loose:
        tail += r"|[ \t]+\S"
    return re.compile(rf"{prefix}(?:{alternatives})(?!\w)(?:\*\*)?(?={tail})", re.I | re.M)


def labelled_text(
    source: Source, labels: re.Pattern[str], *, confidence: float = 0.85, below: bool = True, limit: int = 120
) -> Hit | None:
    for count, match in enumerate(labels.finditer(source.text)):
        if count >= MAX_MATCHES:
            break
        value, start, end = after_label(source, match, below=below, limit=limit)
        if value and re.search(r"[^\W_]", value):
            same_line = source.line_at(match.start()).number == source.line_at(start).number
            return Hit(value, confidence if same_line else confidence - 0.1, match.start(), end)
    return None


def line_of(source: Source, line: Line, value: str, confidence: float) -> Hit:
    start, end = source.span_of(line, value)
    return Hit(value, confidence, start, end)
