"""Parties of the local extractor: organisations, people and their roles."""

import itertools
import re

from docproc_local.standins.insights.text import MAX_ITEMS, NAME_MAX, _Doc, _json_get, _words
from docproc_local.standins.insights.title import _ABBREVIATIONS

_ORG_SUFFIX = (
    r"Pvt\.? Ltd|Private Limited|Inc|Incorporated|LLC|L\.L\.C|Ltd|Limited|Corp|Corporation|Company|"
    r"GmbH|AG|KG|S\.A|S\.A\.S|SAS|SARL|"
    r"S\.à r\.l|B\.V|N\.V|PLC|plc|LLP|L\.P|Pty Ltd|K\.K|S\.p\.A|SpA|S\.r\.l|Srl|S\.L|Co\.|Oy|A/S|"
    r"INC|CORP|CORPORATION|COMPANY|LIMITED|HOLDINGS|Holdings|Group|Bank|University|Hospital"
)
_ORG_SUFFIX_WORD_RE = re.compile(rf"(?:{_ORG_SUFFIX})\.?")
_ORG_SUFFIX_RE = re.compile(rf"(?P<sep>,?[ \t]+)(?P<suffix>{_ORG_SUFFIX})(?P<dot>\.?)(?![\w/])")
_ROLE_RE = re.compile(r"\b(?P<role>Plaintiff|Defendant|Appellant|Appellee|Petitioner|Respondent|Claimant)s?\b")
_CAPTION_RE = re.compile(r"\s+vs?\.\s+")
_BETWEEN_RE = re.compile(
    r"\bbetween[ \t\n]+(?P<a>[^\n;]{2,160}?)[ \t\n]+and[ \t\n]+(?P<b>[^\n;]{2,160}?)"
    r"(?=\s*(?:\(|,\s*(?:a|an|the|with|having|located|whose|each)\b|\.\s|;|\n|$))",
    re.I,
)
_DEFINED_TERM_RE = re.compile(
    r"[^()]{0,200}?\(\s*(?:the\s+|hereinafter(?: referred to as)?\s+)?[\"“”']([A-Z][^\"“”']{1,40})[\"“”']", re.S
)
_DEAR_RE = re.compile(
    r"^[ \t]*(?:Dear|Cher|Chère|Sehr geehrte[rs]?|Estimad[oa]s?|Caro|Cara)[ \t]+([^,\n:!]{2,60})", re.M
)
_SIGNOFF_RE = re.compile(
    r"\b(?:Sincerely|Regards|Best regards|Kind regards|Best wishes|Yours (?:truly|faithfully|sincerely)|Cordialement|"
    r"Mit freundlichen Grüßen)[,.!]?[ \t]*\n+[ \t]*(?:--[ \t]*\n[ \t]*)?([A-Z][^\n]{2,60})"
)
_BILL_TO_RE = re.compile(
    r"\b(?P<label>bill(?:ed)? to|sold to|ship(?:ped)? to|customer name|sold by|seller|vendor|supplier)"
    r"(?: address)?[ \t]*(?::|\n)"
    r"[ \t]*\n?[ \t]*(?P<name>[A-Z][^\n,]{2,80})",
    re.I,
)
_CONNECTORS = _words("of & de du des der la le von van the für")
_GENERIC_NAMES = _words(
    "introduction court state opinion background facts discussion conclusion analysis section article page see id "
    "supra warehouse address office attn attention "
    "sir madam sirs madams customer customers colleague colleagues all friend friends team member members valued "
    "the a an to or and this that hiring manager recipient user users client applicant whom it may concern mr "
    "mrs ms dr shipping billing address details information name date total"
)
_LEADING_NOISE = _words(
    "this that these by between and of to from with for at dear in on among an a agreement contract as is "
    "whereas which said such each see cf also the"
)
_KEEP_DOT = _words("inc ltd corp co jr sr bros no")
_MAX_NAME_WORDS = 6


def _is_name_word(word: str) -> bool:
    return word[:1].isupper() or word == "&"


def _name_before(text: str, end: int) -> str:
    """The run of capitalised words (and connectors) that ends at ``end``, on the same line."""
    window = re.split(r"[\n;:()\"“”\[\]]", text[max(0, end - 150) : end])[-1]
    words: list[str] = []
    for word in reversed(window.split()):
        before_suffix = len(words) == 1 and _ORG_SUFFIX_WORD_RE.fullmatch(words[0])  # "Megacorp Holdings, LLC"
        if (word.endswith(",") and not before_suffix) or len(words) >= _MAX_NAME_WORDS:
            break
        bare = word.rstrip(".").lower()
        if words and word.endswith(".") and len(bare) > 3 and bare not in _ABBREVIATIONS:  # end of a sentence
            break
        if _is_name_word(word) or (words and word.lower() in _CONNECTORS):
            words.append(word)
            continue
        break
    while words and words[-1].lower() in _CONNECTORS:
        words.pop()
    return " ".join(reversed(words))


def _name_after(text: str, start: int) -> str:
    """The run of capitalised words (and connectors) that starts at ``start``, up to a comma or line end."""
    window = re.split(r"[\n;:()\"“”\[\]]", text[start : start + 150])[0]
    words: list[str] = []
    for word in window.split():
        if not (_is_name_word(word) or (words and word.lower() in _CONNECTORS)) or len(words) >= _MAX_NAME_WORDS:
            break
        words.append(word.rstrip(","))
        if word.endswith(","):
            break
    while words and words[-1].lower() in _CONNECTORS:
        words.pop()
    return " ".join(words)


def _clean_name(name: str) -> str | None:
    name = re.sub(r"\s+", " ", name).strip(" \t,;:\"'\u201c\u201d\u2018\u2019()[]")
    last = name.rsplit(" ", 1)[-1]
    if name.endswith(".") and last[:-1].lower() not in _KEEP_DOT and "." not in last[:-1]:
        name = name[:-1]
    name = re.split(r"\s*\(|,\s*\d|\s+(?:with a|having|located|whose|a [a-z]+ corporation)\b", name, maxsplit=1)[0]
    words = name.split()
    while words and words[0].lower().strip(",.") in _LEADING_NOISE:
        words.pop(0)
    for i, word in enumerate(words[1:], start=1):  # a name ends at its first lower-case word that is no connector
        if word[:1].islower() and word.lower() not in _CONNECTORS:
            words = words[:i]
            break
    name = " ".join(words).strip(" ,;:")
    if not 2 <= len(name) <= NAME_MAX or not name[:1].isupper() or sum(ch.isalpha() for ch in name) < 2:
        return None
    if all(word.lower().strip(".,") in _GENERIC_NAMES for word in words):
        return None
    return name


def _party_key(name: str) -> str:
    key = re.sub(rf"[,.]?\s*\b(?:{_ORG_SUFFIX})\b\.?$", "", name)
    return re.sub(r"\W", "", key.lower())


def _defined_role(doc: _Doc, end: int, name: str) -> str | None:
    match = _DEFINED_TERM_RE.match(doc.scan, end)
    if not match:
        return None
    return _role_term(match.group(1), name)


def _role_term(term: str, name: str) -> str:
    """The role a defined term gives a party: ``("Consultant")`` -> consultant; a short name of it -> party."""
    term = term.strip()
    return "party" if term.lower() in name.lower() else term.lower()


def _address_header(value: str) -> list[str]:
    names = []
    for part in value.split(",")[:5]:
        part = part.strip()
        match = re.match(r"^\"?([^\"<]+?)\"?\s*<[^>]+>$", part)
        names.append(match.group(1) if match else part)
    return names


def _parties(doc: _Doc) -> list[dict[str, str | None]]:
    found: list[tuple[str | None, str | None]] = []  # (name, role), best sources first
    text = doc.scan
    legal = text[:20_000]
    if doc.json is not None:
        found.append((_json_get(doc.json, "basics", "name"), "candidate"))
        found.append((_json_get(doc.json, "company"), "employer"))
        found.append((_json_get(doc.json, "hiringOrganization", "name"), "employer"))
    for header, role in (("from", "sender"), ("to", "recipient"), ("cc", "recipient")):
        found.extend((name, role) for name in _address_header(doc.email_headers.get(header, "")))
    for match in _ROLE_RE.finditer(legal):
        role = match.group("role").lower()
        before = re.sub(r"[\s,(]*(?:the\s*)?$", "", legal[max(0, match.start() - 160) : match.start()])
        found.append((_name_before(before, len(before)), role))
        after = re.match(r"[,:]?[ \t]+", legal[match.end() : match.end() + 3])
        if after:
            found.append((_name_after(legal, match.end() + after.end()), role))
    for match in list(_CAPTION_RE.finditer(doc.head))[:2]:
        found.append((_name_before(doc.head, match.start()), "plaintiff"))
        found.append((_name_after(doc.head, match.end()), "defendant"))
    for match in itertools.islice(_BETWEEN_RE.finditer(legal), 3):
        for group in ("a", "b"):
            name = _clean_name(match.group(group))
            if name:
                inside = _DEFINED_TERM_RE.search(match.group(group))  # by and between X ("Client") and ...
                role = _role_term(inside.group(1), name) if inside else _defined_role(doc, match.end(group), name)
                found.append((name, role or "party"))
    for match in _DEAR_RE.finditer(doc.head):
        found.append((re.sub(r"^(?:Mr|Mrs|Ms|Dr|Prof)\.?\s+", "", match.group(1)), "recipient"))
    found.extend((match.group(1), "sender") for match in _SIGNOFF_RE.finditer(legal))
    for match in _BILL_TO_RE.finditer(doc.head):
        label = match.group("label").lower()
        name = re.sub(r"^(?:attn|attention|c/o)\s*[:.]?\s*", "", match.group("name"), flags=re.I).split(":")[0]
        found.append((name, "seller" if label in ("sold by", "seller", "vendor", "supplier") else "customer"))
    organisations = 0
    for match in _ORG_SUFFIX_RE.finditer(text):
        name = _name_before(text, match.start())
        if not name or organisations >= 3 * MAX_ITEMS:
            continue
        organisations += 1
        full = f"{name}{',' if match.group('sep').startswith(',') else ''} {match.group('suffix')}{match.group('dot')}"
        found.append((full, _defined_role(doc, match.end(), full)))
    out: list[dict[str, str | None]] = []
    index: dict[str, dict[str, str | None]] = {}
    for raw_name, role in found:
        name = _clean_name(raw_name) if raw_name else None
        key = _party_key(name) if name else ""
        if not name or not key:
            continue
        if key in index:
            if index[key]["role"] is None and role:
                index[key]["role"] = role
            continue
        if len(out) < MAX_ITEMS:
            index[key] = {"name": name, "role": role}
            out.append(index[key])
    return out
