"""Amounts of the local extractor: currencies, number formats and scales."""

import math
import re
from collections import Counter
from typing import Any

from docproc_local.standins.insights.text import MAX_ITEMS, TEXT_MAX, _clip, _Doc

_CURRENCY_CODES = (
    "USD EUR GBP INR JPY CNY RMB CHF CAD AUD HKD SGD BRL MXN SEK NOK DKK PLN RUB ZAR NZD KRW TRY CZK HUF ILS AED SAR"
)
_PREFIX_SYMBOLS = {
    "US$": "USD",
    "C$": "CAD",
    "CA$": "CAD",
    "A$": "AUD",
    "AU$": "AUD",
    "HK$": "HKD",
    "S$": "SGD",
    "R$": "BRL",
    "NZ$": "NZD",
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "￥": "JPY",
    "₹": "INR",
    "Rs.": "INR",
    "Rs": "INR",
    "₩": "KRW",
    "₽": "RUB",
    "₺": "TRY",
    "₪": "ILS",
}
_SUFFIX_WORDS = {
    "€": "EUR",
    "£": "GBP",
    "dollars": "USD",
    "dollar": "USD",
    "euros": "EUR",
    "euro": "EUR",
    "pounds": "GBP",
    "yen": "JPY",
    "rupees": "INR",
    "円": "JPY",
    "元": "CNY",
    "zł": "PLN",
    "Kč": "CZK",
    "₽": "RUB",
    "руб": "RUB",  # noqa: RUF001
    "рублей": "RUB",
}
_SCALES = {
    "thousand": 1e3,
    "k": 1e3,
    "million": 1e6,
    "millions": 1e6,
    "mio": 1e6,
    "mn": 1e6,
    "m": 1e6,
    "billion": 1e9,
    "bn": 1e9,
    "milliard": 1e9,
    "milliards": 1e9,
    "mrd": 1e9,
    "trillion": 1e12,
}
_NUM = (
    r"(?P<num>\d{1,2}(?:,\d{2})+,\d{3}(?:\.\d{1,2})?"  # 1,00,000 (Indian grouping)
    r"|\d{1,3}(?:[,.']\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)(?![\d])"
)
_NUM_SPACED = r"(?P<num>\d{1,3}(?:[,.' ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)(?![\d])"  # 1 234,56 €
_SCALE = r"(?:\s?(?P<scale>thousand|millions?|billion|trillion|milliards?|mio|mrd|mn|bn|m|k)\.?(?![^\W\d_]))?"
_SYMBOL_ALT = "|".join(re.escape(s) for s in sorted(_PREFIX_SYMBOLS, key=len, reverse=True))
_CODE_ALT = "|".join(_CURRENCY_CODES.split())
_SUFFIX_ALT = "|".join(re.escape(s) for s in sorted(_SUFFIX_WORDS, key=len, reverse=True))
_AMOUNT_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "prefix",
        re.compile(
            rf"(?P<neg>[-\u2212\u2013]\s?|\(\s?)?(?P<cur>{_SYMBOL_ALT}|\b(?:{_CODE_ALT})\b)\s?(?P<paren>\()?(?P<neg2>[-\u2212])?"
            rf"{_NUM}{_SCALE}(?P<close>\))?"
        ),
    ),
    (
        "suffix",
        re.compile(
            rf"(?<![\w.,])(?P<neg>[-\u2212])?{_NUM_SPACED}{_SCALE}\s?(?P<cur>\b(?:{_CODE_ALT})\b|{_SUFFIX_ALT})(?![^\W\d_])",
            re.I,
        ),
    ),
    (
        "labelled",
        re.compile(
            r"\b(?:grand total|sub-?total|total|amount(?: due)?|balance(?: due)?|net amount|tax|vat|gst)\b"
            rf"[^\d]{{0,30}}?(?<![\w.]){_NUM}(?=[ \t]*(?:$|[,;|\t]))",
            re.I | re.M,
        ),
    ),
)


def _parse_number(raw: str) -> float | None:
    raw = raw.replace("'", "").replace(" ", "")
    if "," in raw and "." in raw:
        decimal = "," if raw.rindex(",") > raw.rindex(".") else "."
        raw = raw.replace("." if decimal == "," else ",", "").replace(decimal, ".")
    elif "," in raw or "." in raw:
        sep = "," if "," in raw else "."
        groups = raw.split(sep)
        thousands = len(groups) > 2 or len(groups[-1]) == 3
        raw = raw.replace(sep, "" if thousands else ".")
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _amounts(doc: _Doc, language: str, date_spans: list[tuple[int, int, str, str]]) -> list[dict[str, Any]]:
    # dates go in first, as spans no amount may overlap (the "3" of "August 3, 2014" is no amount)
    found: list[tuple[int, int, float, str | None, str]] = [(s, e, 0.0, None, "") for s, e, *_ in date_spans]
    for kind, pattern in _AMOUNT_PATTERNS:
        for match in pattern.finditer(doc.scan):
            groups = match.groupdict()
            value = _parse_number(groups["num"])
            if value is None:
                continue
            currency: str | None = None
            if kind == "prefix":
                symbol = groups["cur"]
                currency = _PREFIX_SYMBOLS.get(symbol, symbol.upper())
                if currency == "JPY" and language == "zh":
                    currency = "CNY"
            elif kind == "suffix":
                symbol = groups["cur"]
                currency = _SUFFIX_WORDS.get(symbol) or _SUFFIX_WORDS.get(symbol.lower()) or symbol.upper()
            if currency == "RMB":
                currency = "CNY"
            scale = (groups.get("scale") or "").lower().rstrip(".")
            value *= _SCALES.get(scale, 1.0)
            negative = bool(groups.get("neg2")) or (
                (groups.get("neg") or "").strip() in ("-", "\u2212", "\u2013") or bool(groups.get("paren"))
            )
            if (groups.get("neg") or "").startswith("(") and groups.get("close"):
                negative = True
            start = match.start("num") if kind == "labelled" else match.start()
            text = match.group(0)[start - match.start() :].strip()
            if not negative:
                text = text.strip("()- ")
            found.append((start, match.end(), round(-value if negative else value, 4), currency, text))
    currencies = Counter(c for *_, c, _ in found if c)
    default_currency = currencies.most_common(1)[0][0] if len(currencies) == 1 else None
    found.sort(key=lambda item: (item[0], item[0] - item[1]))
    out: list[dict[str, Any]] = []
    seen: set[tuple[float, str | None]] = set()
    last_end = -1
    for start, end, value, currency, text in found:
        if start < last_end:
            continue
        last_end = end
        if not text:  # a date
            continue
        currency = currency or default_currency
        if (value, currency) in seen:
            continue
        seen.add((value, currency))
        out.append({"value": value, "currency": currency, "text": _clip(text, TEXT_MAX)})
        if len(out) >= MAX_ITEMS:
            break
    return out
