"""Dates of the local extractor: patterns in several languages, normalised to ISO 8601."""

import re
from datetime import date

from docproc_local.standins.insights.text import MAX_ITEMS, TEXT_MAX, _clip, _Doc

_MONTH_NAMES: dict[int, str] = {
    1: "january jan janvier janv janvier januar jänner enero gennaio januari janeiro январь января",
    2: "february feb février fevrier févr fevr februar febrero febbraio februari fevereiro февраля",
    3: "march mar mars märz maerz mär marzo maart março marco марта",
    4: "april apr avril avr abril aprile апреля",
    5: "may mai mayo maggio mei maio мая",
    6: "june jun juin juni junio giugno junho июня",
    7: "july jul juillet juil juli julio luglio julho июля",
    8: "august aug août aout agosto augustus авг августа",
    9: "september sep sept septembre septiembre setiembre settembre setembro сентября",
    10: "october oct octobre oktober okt octubre ottobre outubro октября",
    11: "november nov novembre noviembre novembro ноября",
    12: "december dec décembre decembre déc dezember dez diciembre dicembre dezembro декабря",
}
_MONTHS: dict[str, int] = {name: number for number, names in _MONTH_NAMES.items() for name in names.split()}
_MONTH = r"(?P<month>[^\W\d_]{3,10})\.?"  # any word: checked against _MONTHS afterwards (faster than alternation)
_YEAR = r"(?P<year>(?:1[89]|2[01])\d{2})"
_DAY = r"(?P<day>[0-3]?\d)"
_DATE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("iso", re.compile(rf"(?<![\d.])(?P<year>(?:19|20)\d{{2}})([-/.])(?P<month>[01]?\d)\2{_DAY}(?![\d])")),
    ("mdy", re.compile(rf"\b{_MONTH}\s+{_DAY}(?:st|nd|rd|th)?\s?,?\s+{_YEAR}\b")),
    (
        "dmy",
        re.compile(
            rf"(?<![\w\-\u2013/.,]){_DAY}(?:st|nd|rd|th|er|\.)?(?:\s+of|\s+de|[\s-])\s*{_MONTH}(?:\s+de)?,?[\s-]+{_YEAR}\b"
        ),
    ),
    ("cjk", re.compile(r"(?P<year>(?:19|20)\d{2})\s*年\s*(?P<month>[01]?\d)\s*月(?:\s*(?P<day>[0-3]?\d)\s*日)?")),
    (
        "numeric",
        re.compile(r"(?<![\d.,/-])(?P<a>[0-3]?\d)([/.-])(?P<b>[0-3]?\d)\2(?P<year>(?:19|20)\d{2}|\d{2})(?![\d/-])"),
    ),
    ("my", re.compile(rf"\b{_MONTH}\s+{_YEAR}\b")),
)


def _is_date_line(line: str) -> bool:
    for _, pattern in _DATE_PATTERNS:
        line = pattern.sub(" ", line)
    return sum(ch.isalpha() for ch in line) <= 3


def _iso(year: int, month: int, day: int | None) -> str | None:
    if not 1800 <= year <= 2200 or not 1 <= month <= 12:
        return None
    if day is None:
        return f"{year:04d}-{month:02d}"
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _date_value(kind: str, match: re.Match[str], language: str) -> str | None:
    groups = match.groupdict()
    if kind == "numeric":
        a, b, year = int(groups["a"]), int(groups["b"]), int(groups["year"])
        if len(groups["year"]) == 2:
            if match.group(2) != "/":
                return None
            year += 2000 if year < 70 else 1900
        day_first = a > 12 or (b <= 12 and (match.group(2) == "." or language != "en"))
        day, month = (a, b) if day_first else (b, a)
        return _iso(year, month, day)
    month_text = groups["month"].lower().rstrip(".")
    month = _MONTHS.get(month_text) if not month_text.isdigit() else int(month_text)
    if month is None:
        return None
    day = int(groups["day"]) if groups.get("day") else None
    return _iso(int(groups["year"]), month, day)


def _date_spans(doc: _Doc, language: str) -> list[tuple[int, int, str, str]]:
    """Non-overlapping (start, end, ISO value, text) of every date in the scanned prefix, in text order."""
    found: list[tuple[int, int, str, str]] = []
    for kind, pattern in _DATE_PATTERNS:
        for match in pattern.finditer(doc.scan):
            value = _date_value(kind, match, language)
            if value:
                found.append((match.start(), match.end(), value, match.group(0)))
    found.sort(key=lambda item: (item[0], item[0] - item[1]))
    spans: list[tuple[int, int, str, str]] = []
    for item in found:
        if not spans or item[0] >= spans[-1][1]:
            spans.append(item)
    return spans


def _dates(spans: list[tuple[int, int, str, str]]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for _, _, value, text in spans:
        if value not in seen:
            seen.add(value)
            out.append({"value": value, "text": _clip(text, TEXT_MAX)})
            if len(out) >= MAX_ITEMS:
                break
    return out
