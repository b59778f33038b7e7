"""E-mail addresses, identifiers, phone numbers and URLs of the local extractor."""

import itertools
import re
from collections.abc import Callable

from docproc_local.standins.insights.text import MAX_ITEMS, MAX_URLS, VALUE_MAX, _clip, _Doc

_EMAIL_RE = re.compile(
    r"(?<![\w.%+=-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b"
)
_ID_HEADER_RE = re.compile(r"^(?:message-id|in-reply-to|references|x-[\w-]+):", re.I)


def _emails(doc: _Doc) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    if "@" not in doc.scan:
        return out
    for match in _EMAIL_RE.finditer(doc.scan):
        line_start = doc.scan.rfind("\n", 0, match.start()) + 1
        if _ID_HEADER_RE.match(doc.scan[line_start : line_start + 40]):
            continue
        email = match.group(0).rstrip(".")
        if email.lower() not in seen:
            seen.add(email.lower())
            out.append(email[:254])
            if len(out) >= MAX_ITEMS:
                break
    return out


_ID_VALUE = r"(?P<v>[A-Z0-9][A-Z0-9/_.:-]{1,39})"
_ID_LABEL_TAIL = r"\.?[ \t]*(?:(?:no|nr|num|number|id|ref)\b\.?|#|n°|nº)(?:[ \t]*[:#.])*[ \t]*\n?[ \t]*"
_ID_LABEL_TAIL_OR_COLON = rf"(?:{_ID_LABEL_TAIL}|\.?[ \t]*:(?:[ \t]*#)?[ \t]*\n?[ \t]*)"
_LABELLED_IDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(rf"\b(?:{labels}){tail}{_ID_VALUE}", re.I))
    for kind, labels, tail in (
        ("invoice number", r"invoice|inv|facture|rechnung|factura", _ID_LABEL_TAIL_OR_COLON),
        ("order number", r"order|purchase order|po|bestellung|commande|pedido", _ID_LABEL_TAIL),
        ("case number", r"case|docket|civil action|cause|appeal|petition", _ID_LABEL_TAIL),
        ("account number", r"account|acct|a/c|customer account|konto|compte", _ID_LABEL_TAIL),
        ("customer id", r"customer|client|member|kunden", _ID_LABEL_TAIL),
        ("policy number", r"policy|insurance policy|police", _ID_LABEL_TAIL),
        ("claim number", r"claim", _ID_LABEL_TAIL),
        ("contract number", r"contract|agreement", _ID_LABEL_TAIL),
        ("reference number", r"reference|our ref|your ref|ref", _ID_LABEL_TAIL_OR_COLON),
        ("tracking number", r"tracking|awb|shipment", _ID_LABEL_TAIL),
        ("patient id", r"patient|mrn|medical record", _ID_LABEL_TAIL_OR_COLON),
        ("employee id", r"employee|staff|personnel", _ID_LABEL_TAIL),
        (
            "tax id",
            r"tax id|tin|ein|vat(?: reg(?:istration)?)?|gstin|gst|pan|siret|siren|ust-?idnr|tva",
            _ID_LABEL_TAIL_OR_COLON,
        ),
    )
)
#: (kind, a word that must occur in the lower-cased text for the regex to be worth running, regex, cleaner)
_OTHER_IDS: tuple[tuple[str, str, re.Pattern[str], Callable[[re.Match[str]], str | None]], ...] = (
    ("DOI", "10.", re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)"), lambda m: m.group(1).rstrip(".,;:)]}")),
    ("PMID", "pmid", re.compile(r"\bPMID\s*[-:]?\s*(\d{5,9})\b"), lambda m: m.group(1)),
    ("ISBN", "isbn", re.compile(r"\bISBN(?:-1[03])?\s*:?\s*([\dX][\d -]{8,15}[\dX])\b", re.I), lambda m: _isbn(m[1])),
    ("ISSN", "issn", re.compile(r"\bISSN\s*:?\s*(\d{4}-\d{3}[\dX])\b", re.I), lambda m: m.group(1)),
    ("arXiv", "arxiv", re.compile(r"\barXiv:\s?(\d{4}\.\d{4,5}(?:v\d+)?)", re.I), lambda m: m.group(1)),
    ("RFC", "rfc", re.compile(r"\bRFC\s?(\d{3,5})\b"), lambda m: f"RFC {m.group(1)}"),
    (
        "IBAN",
        "iban",
        re.compile(r"\bIBAN\s*:?\s*([A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?)\b"),
        lambda m: m.group(1).replace(" ", ""),
    ),
    (
        "SWIFT/BIC",
        "bic",
        re.compile(r"\b(?:SWIFT|BIC)(?:/BIC)?(?: code)?\s*:?\s*([A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?)\b"),
        lambda m: m.group(1),
    ),
)
_PHONE_LABELLED_RE = re.compile(
    r"\b(?P<label>phone|tel|telephone|téléphone|telefon|mobile|cell|fax|ph)\.?(?:\s*(?:no|number)\.?)?\s*[:.]?\s*"
    r"(?P<v>\+?[\d(][\d\s().-]{5,20}\d)",
    re.I,
)
_PHONE_RE = re.compile(
    r"(?<![\w+/.-])(\+\d{1,3}[\s.-]?\(?\d{1,4}\)?(?:[\s.-]?\d{2,4}){2,4}|\(\d{3}\)\s?\d{3}-\d{4})(?![\w])"
)
_URL_RE = re.compile(r"\bhttps?://[^\s<>\"'\])}|]+|\bwww\.[^\s<>\"'\])}|]+", re.I)
_CASE_NO_RE = re.compile(r"\bNos?\.\s+(\d{1,2}[-\u2013]\d{2,6})\b")


_NUMERIC_DATE_RE = re.compile(r"\d{1,4}[/.-]\d{1,2}(?:[/.-]\d{1,4})?(?:T[\d:]+)?")


def _isbn(raw: str) -> str | None:
    digits = re.sub(r"[^\dX]", "", raw.upper())
    return digits if len(digits) in (10, 13) else None


def _phone(raw: str) -> str | None:
    raw = raw.strip(" .-")
    digits = re.sub(r"\D", "", raw)
    if _NUMERIC_DATE_RE.fullmatch(raw):
        return None
    return raw if 7 <= len(digits) <= 15 else None


def _identifiers(doc: _Doc, document_type: str) -> list[dict[str, str]]:
    found: list[tuple[str, str]] = []
    for kind, pattern in _LABELLED_IDS:
        for match in pattern.finditer(doc.scan):
            value = match.group("v").rstrip(".:-/")
            if any(ch.isdigit() for ch in value) and len(value) >= 3 and not _NUMERIC_DATE_RE.fullmatch(value):
                found.append((kind, value))
    if document_type == "court opinion":
        found.extend(("case number", m.group(1)) for m in _CASE_NO_RE.finditer(doc.head))
    for kind, needle, pattern, clean in _OTHER_IDS:
        if needle not in doc.scan_lower and (kind != "SWIFT/BIC" or "swift" not in doc.scan_lower):
            continue
        for match in pattern.finditer(doc.scan):
            value = clean(match)
            if value:
                found.append((kind, value))
    for match in _PHONE_LABELLED_RE.finditer(doc.scan):
        value = _phone(match.group("v"))
        if value:
            found.append(("fax" if match.group("label").lower() == "fax" else "phone", value))
    for match in _PHONE_RE.finditer(doc.scan):
        value = _phone(match.group(1))
        if value:
            found.append(("phone", value))
    urls = itertools.islice(_URL_RE.finditer(doc.scan), MAX_URLS)
    found.extend(("URL", match.group(0).rstrip(".,;:!?")) for match in urls)
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for kind, value in found:
        key = re.sub(r"\W", "", value.lower())
        if key in seen:
            continue
        seen.add(key)
        out.append({"kind": kind, "value": _clip(value, VALUE_MAX)})
        if len(out) >= MAX_ITEMS:
            break
    return out
