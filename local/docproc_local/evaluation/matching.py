"""Compare an expected field value with what the pipeline predicted, choosing the matcher by the field's type.

Matchers (``kind_for`` picks one from the class schema; a golden file's ``"match": {field: kind}`` overrides it):

* ``numeric``  numbers (schema ``number`` / ``integer``): equal within 0.5 % of the expected value or 0.01
  absolute, whichever is larger. A predicted string is parsed ("1,190.00", "1.190,00", "EUR 12").
* ``date``     ``format: date`` fields, and partial-date strings (fields named ``start``, ``end``, ``year``,
  ``*_year`` or described with "YYYY"): YYYY-MM-DD, YYYY-MM and YYYY are accepted (also with ``/`` or ``.``, and a
  trailing time); compared at the precision of the expected value ("2024-03" matches "2024-03-15", not the other
  way round). A value that is not a date on the expected side ("present") is compared ``exact``.
* ``identifier`` fields named ``*_number``, ``*_id``, ``*_code``, ``purchase_order``, ``email``, ``phone``:
  Unicode NFKC, case-folded, and only letters and digits kept ("INV 001" == "inv-001", "+1 (555) 010-2030" ==
  "15550102030").
* ``exact``    enum / pattern fields (currency, patient_sex) and booleans: NFKC, case-folded, whitespace collapsed.
* ``fuzzy``    other strings: NFKC, case-folded, accents and punctuation removed, whitespace collapsed; passes when
  ``max(SequenceMatcher ratio, token-sort ratio) >= 0.85`` (token-sort: tokens sorted before comparing, so "Smith,
  John" == "John Smith"). A token-*set* ratio is deliberately not used: it scores "Acme" against "Acme Widgets
  International" as a perfect match.
* ``words``    short descriptions the model writes in its own words (``purpose``, ``topics``, ``headline``,
  ``chief_complaint`` and ``*_type`` fields such as ``contract_type``): passes when fuzzy passes or when at least
  half of the expected value's words (of 3+ letters, folded) occur in the prediction ("consulting" vs
  "consulting agreement" passes; "NDA" vs "non-disclosure agreement" does not).
* ``name``     fuzzy, for organisation names (issuer, recipient, merchant, company, organisation(s),
  issuing_authority, institution, and the ``name`` of contract parties and résumé employers): trailing legal-form
  tokens (Inc., LLC, Ltd., GmbH, AG, S.A., SARL, B.V., plc, ...) are dropped from both sides first.

Lists are matched one-to-one by :func:`match_list` with ``scipy.optimize.linear_sum_assignment``: the assignment
maximises the number of passing pairs first and the total similarity second (weight = passed + similarity /
(n + 1), so similarity never outweighs one more passing pair). Objects in lists (line items, parties, employers,
education, filled fields) match when their key field (``name``, ``description``, ``institution`` or ``label``,
else the first required property) matches and at least half (rounded up) of the other fields present in the
expected item match; predicted extra fields are ignored. rapidfuzz is not installed, hence difflib.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

KINDS = ("exact", "identifier", "numeric", "date", "fuzzy", "name", "words")
OVERRIDE_KINDS = ("exact", "numeric", "date", "fuzzy", "words")  # what a golden file's "match" may ask for
FUZZY_THRESHOLD = 0.85
RELATIVE_TOLERANCE = 0.005
ABSOLUTE_TOLERANCE = 0.01
KEY_FIELDS = ("name", "description", "institution", "label")

_IDENTIFIER_NAMES = {"purchase_order", "email", "phone", "id"}
_IDENTIFIER_SUFFIXES = ("_number", "_id", "_code")
_PARTIAL_DATE_NAMES = {"start", "end", "year"}
_DESCRIPTIVE_NAMES = {"purpose", "topics", "headline", "chief_complaint"}
WORDS_SHARE = 0.5
_ORG_NAMES = {"issuer", "recipient", "merchant", "company", "organisation", "organisations", "issuing_authority"}
_ORG_NAMES_IN_LISTS = {("parties", "name"), ("employers", "name"), ("education", "institution")}
_LEGAL_FORMS = {
    "inc",
    "incorporated",
    "llc",
    "ltd",
    "limited",
    "corp",
    "corporation",
    "co",
    "company",
    "plc",
    "lp",
    "llp",
    "pty",
    "pte",
    "gmbh",
    "mbh",
    "ag",
    "kg",
    "ohg",
    "ug",
    "eg",
    "ev",
    "se",
    "sa",
    "sas",
    "sarl",
    "srl",
    "spa",
    "sl",
    "bv",
    "nv",
    "oy",
    "ab",
    "as",
    "aps",
    "kk",
}
_DATE_RE = re.compile(r"^\s*(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?(?:[T ].*)?\s*$")


@dataclass(frozen=True)
class Comparison:
    """One expected value against one predicted value."""

    passed: bool
    similarity: float  # 0..1, used to pair list items
    detail: str = ""  # "expected X, got Y (why)" when it failed (empty when it passed)
    why: str = ""  # the reason alone: "different", "similarity 0.62", "not a date", ...


@dataclass(frozen=True)
class ListMatch:
    """The one-to-one assignment of predicted list items to expected ones."""

    pairs: tuple[tuple[int, int, Comparison], ...]  # (expected index, predicted index, comparison)
    unmatched_expected: tuple[int, ...]
    unmatched_predicted: tuple[int, ...]

    @property
    def true_positives(self) -> int:
        return sum(1 for *_, c in self.pairs if c.passed)

    def predicted_correct(self, index: int) -> bool:
        return any(p == index and c.passed for _, p, c in self.pairs)


@dataclass(frozen=True)
class FieldSpec:
    """How one field (or one list's items) is compared."""

    kind: str  # one of KINDS, or "object" for lists of objects
    is_list: bool = False
    key: str | None = None  # objects: the key field
    members: Mapping[str, FieldSpec] = field(default_factory=dict)  # objects: the spec of each property


# --- normalisation -------------------------------------------------------------------------------------------------


def normalise(text: Any) -> str:
    """NFKC, case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", str(text)).casefold().split())


def fold(text: Any) -> str:
    """:func:`normalise` without accents and punctuation (for fuzzy comparison)."""
    decomposed = unicodedata.normalize("NFKD", normalise(text))
    kept = "".join(
        " " if unicodedata.category(ch)[0] in "PS" else ch for ch in decomposed if not unicodedata.combining(ch)
    )
    return " ".join(kept.split())


def identifier_key(text: Any) -> str:
    return "".join(ch for ch in normalise(text) if ch.isalnum())


def strip_legal_form(text: str) -> str:
    """Drop trailing legal-form tokens of folded text ("acme widgets gmbh" -> "acme widgets"); one token stays."""
    tokens = text.split()
    run = 0  # "S.A.", "B.V.", "L.L.C." fold to single letters: join a trailing run of them into one token
    while run < len(tokens) and len(tokens[-1 - run]) == 1:
        run += 1
    if 2 <= run < len(tokens):
        tokens = [*tokens[:-run], "".join(tokens[-run:])]
    while len(tokens) > 1 and tokens[-1] in _LEGAL_FORMS:
        tokens.pop()
    return " ".join(tokens)


def parse_number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    text = re.sub(r"[^\d,.\-]", "", str(value).replace("\u2212", "-"))
    if not re.search(r"\d", text):
        return None
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        text = text.replace("." if decimal == "," else ",", "").replace(",", ".")
    elif "," in text:
        head, _, tail = text.rpartition(",")
        text = text.replace(",", "") if len(tail) == 3 and head else head.replace(",", "") + "." + tail
    try:
        return float(text)
    except ValueError:
        return None


def parse_date(value: Any) -> tuple[int, ...] | None:
    """(year,), (year, month) or (year, month, day); None when it is not an ISO-ordered date."""
    if not isinstance(value, str):
        value = str(value) if isinstance(value, int) and not isinstance(value, bool) else ""
    match = _DATE_RE.match(value)
    if not match:
        return None
    parts = tuple(int(p) for p in match.groups() if p is not None)
    if (len(parts) > 1 and not 1 <= parts[1] <= 12) or (len(parts) > 2 and not 1 <= parts[2] <= 31):
        return None
    return parts


# --- scalar matchers -----------------------------------------------------------------------------------------------


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _fail(expected: Any, predicted: Any, similarity: float, why: str = "") -> Comparison:
    detail = f"expected {_show(expected)}, got {_show(predicted)}" + (f" ({why})" if why else "")
    return Comparison(False, similarity, detail, why or "different")


def ratio(a: str, b: str) -> float:
    """max(SequenceMatcher ratio, token-sort ratio) of two already-folded strings."""
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    plain = SequenceMatcher(None, a, b, autojunk=False).ratio()
    sorted_a, sorted_b = " ".join(sorted(a.split())), " ".join(sorted(b.split()))
    return max(plain, SequenceMatcher(None, sorted_a, sorted_b, autojunk=False).ratio())


def match_exact(expected: Any, predicted: Any) -> Comparison:
    a, b = normalise(expected), normalise(predicted)
    if a == b:
        return Comparison(True, 1.0)
    return _fail(expected, predicted, 0.5 * ratio(fold(a), fold(b)))


def match_identifier(expected: Any, predicted: Any) -> Comparison:
    a, b = identifier_key(expected), identifier_key(predicted)
    if a == b and a:
        return Comparison(True, 1.0)
    similarity = SequenceMatcher(None, a, b, autojunk=False).ratio() if a and b else 0.0
    return _fail(expected, predicted, 0.5 * similarity)


def match_numeric(expected: Any, predicted: Any) -> Comparison:
    a, b = parse_number(expected), parse_number(predicted)
    if a is None or b is None:
        return _fail(expected, predicted, 0.0, "not a number")
    tolerance = max(ABSOLUTE_TOLERANCE, RELATIVE_TOLERANCE * abs(a))
    if abs(a - b) <= tolerance + 1e-12:
        return Comparison(True, 1.0)
    relative = abs(a - b) / max(abs(a), abs(b), ABSOLUTE_TOLERANCE)
    return _fail(expected, predicted, 0.5 * max(0.0, 1.0 - relative))


def match_date(expected: Any, predicted: Any) -> Comparison:
    a = parse_date(expected)
    if a is None:  # "present", "ongoing": not a date, compare as text
        return match_exact(expected, predicted)
    b = parse_date(predicted)
    if b is None:
        return _fail(expected, predicted, 0.0, "not a date")
    if len(b) >= len(a) and b[: len(a)] == a:
        return Comparison(True, 1.0)
    same = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        same += 1
    why = "less precise than expected" if b == a[: len(b)] else ""
    return _fail(expected, predicted, 0.5 * same / len(a), why)


def match_fuzzy(expected: Any, predicted: Any, *, names: bool = False) -> Comparison:
    a, b = fold(expected), fold(predicted)
    if names:
        a, b = strip_legal_form(a), strip_legal_form(b)
    similarity = ratio(a, b)
    if similarity >= FUZZY_THRESHOLD:
        return Comparison(True, similarity)
    return _fail(expected, predicted, similarity, f"similarity {similarity:.2f}")


def match_words(expected: Any, predicted: Any) -> Comparison:
    fuzzy = match_fuzzy(expected, predicted)
    if fuzzy.passed:
        return fuzzy
    wanted = {w for w in fold(expected).split() if len(w) >= 3}
    got = set(fold(predicted).split())
    if not wanted:
        return fuzzy
    share = len(wanted & got) / len(wanted)
    if share >= WORDS_SHARE:
        return Comparison(True, max(fuzzy.similarity, share))
    return _fail(expected, predicted, max(fuzzy.similarity, share), f"{share:.0%} of the words")


def match_value(kind: str, expected: Any, predicted: Any) -> Comparison:
    """Compare two plain scalar values with the matcher ``kind``."""
    if predicted is None:
        return Comparison(False, 0.0, f"expected {_show(expected)}, got nothing", "missing")
    if isinstance(predicted, dict | list) and kind != "numeric":
        return _fail(expected, predicted, 0.0, "not a single value")
    if kind == "numeric":
        return match_numeric(expected, predicted)
    if kind == "date":
        return match_date(expected, predicted)
    if kind == "identifier":
        return match_identifier(expected, predicted)
    if kind == "exact":
        return match_exact(expected, predicted)
    if kind in ("fuzzy", "name"):
        return match_fuzzy(expected, predicted, names=kind == "name")
    if kind == "words":
        return match_words(expected, predicted)
    raise ValueError(f"unknown matcher {kind!r}; use one of {', '.join(KINDS)}")


# --- choosing a matcher from the schema ----------------------------------------------------------------------------


def kind_for(name: str, schema: Mapping[str, Any], parent: str | None = None) -> str:
    """The matcher of a scalar field (or of a list's items) from its JSON Schema and name."""
    kind = schema.get("type")
    if kind in ("number", "integer"):
        return "numeric"
    if schema.get("format") == "date":
        return "date"
    if kind == "boolean" or "enum" in schema or "pattern" in schema:
        return "exact"
    if name in _IDENTIFIER_NAMES or name.endswith(_IDENTIFIER_SUFFIXES):
        return "identifier"
    if name in _PARTIAL_DATE_NAMES or name.endswith("_year") or "YYYY" in str(schema.get("description", "")):
        return "date"
    if (parent is None and name in _ORG_NAMES) or (parent, name) in _ORG_NAMES_IN_LISTS:
        return "name"
    if parent is None and (name in _DESCRIPTIVE_NAMES or name.endswith("_type")):
        return "words"
    return "fuzzy"


def field_spec(name: str, schema: Mapping[str, Any], override: str | None = None) -> FieldSpec:
    """The :class:`FieldSpec` of one class field. ``override`` (a golden file's ``match``) replaces the matcher
    of a scalar field, of a list's items, or of the key field of a list of objects."""
    if schema.get("type") != "array":
        return FieldSpec(kind=override or kind_for(name, schema))
    items = schema.get("items") or {}
    if items.get("type") != "object":
        return FieldSpec(kind=override or kind_for(name, items), is_list=True)
    properties: Mapping[str, Any] = items.get("properties") or {}
    key = next((k for k in KEY_FIELDS if k in properties), None)
    key = key or next(iter(items.get("required") or []), None) or next(iter(properties), None)
    members = {
        member: FieldSpec(kind=override if override and member == key else kind_for(member, sub, parent=name))
        for member, sub in properties.items()
    }
    return FieldSpec(kind="object", is_list=True, key=key, members=members)


# --- objects and lists ---------------------------------------------------------------------------------------------


def match_object(spec: FieldSpec, expected: Mapping[str, Any], predicted: Any) -> Comparison:
    """An object list item: its key field must match and at least half (rounded up) of its other fields."""
    if not isinstance(predicted, Mapping):
        return _fail(dict(expected), predicted, 0.0, "not an object")
    key = spec.key if spec.key in expected else None
    key_result = None
    if key is not None:
        key_result = match_value(spec.members[key].kind, expected[key], predicted.get(key))
    others = [m for m in expected if m != key]
    results = {
        m: match_value(spec.members[m].kind if m in spec.members else "fuzzy", expected[m], predicted.get(m))
        for m in others
    }
    passed_others = sum(1 for r in results.values() if r.passed)
    needed = math.ceil(len(others) / 2)
    other_similarity = sum(r.similarity for r in results.values()) / len(results) if results else None
    if key_result is None:
        similarity = other_similarity or 0.0
    elif other_similarity is None:
        similarity = key_result.similarity
    else:
        similarity = 0.5 * key_result.similarity + 0.5 * other_similarity
    problems = [f"{m}: {r.detail}" for m, r in results.items() if not r.passed]
    if key_result is not None and not key_result.passed:
        problems.insert(0, f"{key}: {key_result.detail}")
    passed = (key_result is None or key_result.passed) and passed_others >= needed
    detail = "" if passed and not problems else "; ".join(problems)
    if passed and problems:
        detail = "matched; differs in " + detail
    return Comparison(passed, similarity, detail, detail)


def compare_item(spec: FieldSpec, expected: Any, predicted: Any) -> Comparison:
    if spec.kind == "object":
        if not isinstance(expected, Mapping):
            raise ValueError(f"expected an object, got {expected!r}")
        return match_object(spec, expected, predicted)
    return match_value(spec.kind, expected, predicted)


def match_list(spec: FieldSpec, expected: Sequence[Any], predicted: Sequence[Any]) -> ListMatch:
    """One-to-one assignment maximising passing pairs first, then total similarity (see module docstring)."""
    if not expected or not predicted:
        return ListMatch((), tuple(range(len(expected))), tuple(range(len(predicted))))
    comparisons = [[compare_item(spec, e, p) for p in predicted] for e in expected]
    scale = 1.0 / (min(len(expected), len(predicted)) + 1)
    weights = np.array([[(1.0 if c.passed else 0.0) + scale * c.similarity for c in row] for row in comparisons])
    rows, cols = linear_sum_assignment(weights, maximize=True)
    pairs = tuple((int(r), int(c), comparisons[r][c]) for r, c in zip(rows, cols, strict=True))
    used_e, used_p = {r for r, _, _ in pairs}, {c for _, c, _ in pairs}
    return ListMatch(
        pairs=pairs,
        unmatched_expected=tuple(i for i in range(len(expected)) if i not in used_e),
        unmatched_predicted=tuple(i for i in range(len(predicted)) if i not in used_p),
    )
