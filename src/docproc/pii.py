"""The PII policy for events (``EventPiiPolicy``): what of a record's personal data may leave on the event bus.

Policies, applied to the ``Document Processed`` detail (title, summary, every field value and evidence quote) just
before it is published; the DynamoDB record and the result JSON keep the full values and say which policy applied:

* ``keep``: the event carries the values as extracted.
* ``mask`` (default): every finding is replaced by a placeholder naming its kind, e.g. ``[EMAIL]``, ``[PHONE]``.
* ``drop``: a field with a finding (a list field: the items with one) is left out of the event and named in
  ``pii.droppedFields``; a title or summary with a finding becomes null.

Findings: e-mail addresses; phone numbers (international ``+CC ...``, North American ``(555) 555-0100`` /
``555-555-0100``, UK national ``020 7946 0000``); US social security numbers (``123-45-6789``, the invalid areas
000, 666 and 9xx excluded); UK National Insurance numbers (``QQ 12 34 56 C``, the prefixes HMRC never issues
excluded); payment card numbers (13-19 digits with an issuer prefix of Visa, Mastercard, American Express,
Discover, JCB or Diners, and a valid Luhn check digit); IBANs (country code, check digits, and a valid ISO 7064
mod-97 check); and person names in medical documents: the values of the person-name fields of the
``clinical_note`` class (:data:`NAME_FIELDS`), masked wherever they occur in the event.

Regular expressions and check digits rather than a library: the PII libraries (Presidio and the like) pull in
spaCy models, far too heavy for the Lambda layer, and these formats have exact checks.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

Policy = Literal["keep", "mask", "drop"]
POLICIES: tuple[Policy, ...] = ("keep", "mask", "drop")
DEFAULT_POLICY: Policy = "mask"

#: class -> its fields whose values are names of people (masked everywhere in that class's events)
NAME_FIELDS: dict[str, tuple[str, ...]] = {"clinical_note": ("patient_name", "provider")}
_TITLES = {"dr", "mr", "mrs", "ms", "miss", "prof", "md", "rn", "np", "do", "phd", "jr", "sr"}

_EMAIL_RE = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE_RES = (
    re.compile(r"(?<![\w+])\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}(?:[\s.-]?\d{2,5}){1,4}(?!\d)"),
    re.compile(r"(?<![\d-])(?:\(\d{3}\)[\s.-]?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?![\d-])"),
    re.compile(r"(?<![\d-])0\d{2,4}[\s-]\d{3,4}[\s-]?\d{3,4}(?![\d-])"),
)
_SSN_RE = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}[- ](?!00)\d{2}[- ](?!0000)\d{4}(?![\d-])")
_NI_RE = re.compile(
    r"\b(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b", re.IGNORECASE
)
_CARD_RE = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_CARD_PREFIX_RE = re.compile(r"^(?:4|5[1-5]|2[2-7]|3[47]|6011|64[4-9]|65|35|30|36|38)")
_IBAN_RE = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")

PLACEHOLDERS = {
    "email": "[EMAIL]",
    "phone": "[PHONE]",
    "ssn": "[SSN]",
    "ni_number": "[NI_NUMBER]",
    "card": "[CARD]",
    "iban": "[IBAN]",
    "name": "[NAME]",
}


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check of a card number's digits."""
    if not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_valid(text: str) -> bool:
    """ISO 13616: the country code and check digits moved to the end, letters as 10-35, mod 97 == 1."""
    compact = text.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


def find(text: str, names: Iterable[str] = ()) -> list[Finding]:
    """Non-overlapping findings in ``text``, in order (the first detector in :data:`PLACEHOLDERS` order wins)."""
    found: list[Finding] = [Finding("email", m.start(), m.end()) for m in _EMAIL_RE.finditer(text)]
    for match in _CARD_RE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and _CARD_PREFIX_RE.match(digits) and luhn_valid(digits):
            found.append(Finding("card", match.start(), match.end()))
    found += [Finding("iban", m.start(), m.end()) for m in _IBAN_RE.finditer(text) if iban_valid(m.group())]
    found += [Finding("ssn", m.start(), m.end()) for m in _SSN_RE.finditer(text)]
    found += [Finding("ni_number", m.start(), m.end()) for m in _NI_RE.finditer(text)]
    for pattern in _PHONE_RES:
        for match in pattern.finditer(text):
            if 8 <= sum(c.isdigit() for c in match.group()) <= 15:
                found.append(Finding("phone", match.start(), match.end()))
    for name in _name_patterns(names):
        found += [Finding("name", m.start(), m.end()) for m in name.finditer(text)]
    found.sort(key=lambda f: (f.start, -(f.end - f.start)))
    out: list[Finding] = []
    for finding in found:
        if not out or finding.start >= out[-1].end:
            out.append(finding)
    return out


def _name_patterns(names: Iterable[str]) -> list[re.Pattern[str]]:
    """The whole name and each of its parts of 3+ letters (not a title), as case-insensitive whole words."""
    parts: set[str] = set()
    for name in names:
        name = " ".join(str(name).split())
        if len(name) < 3:
            continue
        parts.add(name)
        parts.update(p for p in re.split(r"[\s,.]+", name) if len(p) >= 3 and p.lower().strip(".") not in _TITLES)
    ordered = sorted(parts, key=len, reverse=True)
    return [re.compile(rf"(?<!\w){re.escape(p)}(?!\w)", re.IGNORECASE) for p in ordered]


def mask(text: str, names: Iterable[str] = ()) -> tuple[str, Counter[str]]:
    """``text`` with every finding replaced by its placeholder, and the count per kind."""
    findings = find(text, names)
    counts: Counter[str] = Counter(f.kind for f in findings)
    for finding in reversed(findings):
        text = text[: finding.start] + PLACEHOLDERS[finding.kind] + text[finding.end :]
    return text, counts


# --- events --------------------------------------------------------------------------------------------------------


def names_in(document_class: str | None, fields: dict[str, Any] | None) -> list[str]:
    """The person names a record's name fields hold (clinical notes), to be masked wherever they occur."""
    out: list[str] = []
    for field_name in NAME_FIELDS.get(document_class or "", ()):
        raw = (fields or {}).get(field_name)
        for envelope in raw if isinstance(raw, list) else [raw]:
            value = envelope.get("value") if isinstance(envelope, dict) else None
            out.extend(_strings(value))
    return out


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _masked(value: Any, names: list[str], counts: Counter[str]) -> Any:
    if isinstance(value, str):
        text, found = mask(value, names)
        counts.update(found)
        return text
    if isinstance(value, dict):
        return {k: _masked(v, names, counts) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, names, counts) for v in value]
    return value


def _has_pii(value: Any, names: list[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for text in _strings(value):
        counts.update(f.kind for f in find(text, names))
    return counts


def apply_to_event(detail: dict[str, Any], policy: Policy) -> dict[str, Any]:
    """A copy of a ``Document Processed`` detail with ``policy`` applied, and ``pii`` saying what was done."""
    if policy not in POLICIES:
        raise ValueError(f"EventPiiPolicy must be one of {', '.join(POLICIES)}, not {policy!r}")
    out = dict(detail)
    counts: Counter[str] = Counter()
    dropped: list[str] = []
    if policy != "keep":
        names = names_in(detail.get("documentClass"), detail.get("fields"))
        name_fields = set(NAME_FIELDS.get(detail.get("documentClass") or "", ()))
        for key in ("title", "summary"):
            if isinstance(out.get(key), str):
                if policy == "mask":
                    out[key] = _masked(out[key], names, counts)
                elif found := _has_pii(out[key], names):
                    counts.update(found)
                    out[key] = None
        fields = dict(detail.get("fields") or {})
        for name, raw in list(fields.items()):
            if policy == "mask":
                fields[name] = _masked(raw, names, counts)
                continue
            items = raw if isinstance(raw, list) else [raw]
            kept = []
            for item in items:
                found = _has_pii(item, names)
                if name in name_fields:
                    found["name"] += 0 if found else 1
                counts.update(found)
                if not found:
                    kept.append(item)
            if len(kept) == len(items):
                continue
            dropped.append(name)
            if isinstance(raw, list) and kept:
                fields[name] = kept
            else:
                del fields[name]
        if detail.get("fields") is not None:
            out["fields"] = fields
    out["pii"] = {"policy": policy, "redacted": dict(sorted(counts.items())), "droppedFields": dropped}
    return out
