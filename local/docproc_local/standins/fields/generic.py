"""Forms, the ``other`` class, and the labelled-value filler for classes and fields without specialised code.

:func:`fill_field` fills any field from its name and description: it looks for a line labelled with the field's
name ("purchase_order" -> "Purchase order:"), or with the description's leading words, and converts the value to
the field's type (a date with ``format: date``, a number, a list of strings split at commas, an enum member
written in the text). A value found this way gets 0.6 next to the field's own name, 0.45 next to description words.
"""

from __future__ import annotations

import re
from typing import Any

from docproc_local.standins.fields import values
from docproc_local.standins.fields.context import Context, Filled
from docproc_local.standins.fields.source import Hit, Source, clean
from docproc_local.standins.insights.parties import _ORG_SUFFIX_RE, _clean_name, _name_before

FORM_FIELDS = frozenset(["form_title", "form_number", "issuing_authority", "form_year", "person_name", "filled_fields"])
OTHER_FIELDS = frozenset(["dates", "organisations", "people"])

_FORM_NUMBER_RE = re.compile(
    r"\b(?:form|formulaire|formular|formulario|modulo|modelo|formulier)\s+(?:no\.?\s*|nr\.?\s*|n°\s*)?"
    r"(?P<v>[A-Z]{0,4}[-\s]?\d[\w\-/.]{0,14}[A-Za-z0-9])|\bcerfa\s*(?:n°\s*)?(?P<c>\d{5}\*\d{2})|"
    r"^\s*(?P<s>[A-Z]{1,4}-?\d{2,6}[A-Z]?(?:-[A-Z]{1,3})?)\s*$",
    re.I | re.M,
)
_AUTHORITY_RE = re.compile(
    r"^[ \t]*(?P<v>(?:[A-Z][\w'\u2019\-]*[ \t]+){0,6}(?:Department|Internal Revenue Service|Ministry|Ministère|"
    r"Ministerium|"
    r"Bundesministerium|Bundesamt|Finanzamt|Agency|Agencia(?: Tributaria)?|Agenzia(?: delle Entrate)?|"
    r"Belastingdienst|Autoridade Tributária|Administration|Office|Bureau|Service|Council|Authority|Behörde|"
    r"Amt|Commission|Direction générale|Caisse|Revenue Agency|HM Revenue (?:&|and) Customs|Social Security"
    r")(?:[ \t]+(?:of|for|des|de|du|der|für|the|and|&)?[ \t]*[A-Z][\w'\u2019\-]*){0,6})",
    re.M,
)
_YEAR_LABEL_RE = re.compile(
    r"\b(?:tax year|for (?:the )?(?:tax |calendar |fiscal )?year|year|steuerjahr|veranlagungszeitraum|"
    r"kalenderjahr|année(?: fiscale)?|revenus de|ejercicio(?: fiscal)?|anno(?: d'imposta)?|belastingjaar|"
    r"ano(?: fiscal)?)\s*:?\s*(?P<v>(?:19|20)\d{2})\b",
    re.I,
)
_PERSON_LABEL = values.label_pattern(
    r"(?:full |applicant(?:'s)? |your )?name|name of applicant|applicant|taxpayer|first name and (?:middle )?initial|"
    r"name, vorname|vor- und nachname|nom(?: et prénom)?|nom de naissance|nombre(?: y apellidos| completo)?|"
    r"nome(?: e cognome)?|naam|nome completo|insured|policyholder|versicherte[rn]?"
)
_FIELD_LINE_RE = re.compile(
    r"^[ \t\-*•]*(?P<label>[^\W\d_][^:\n]{1,50}?)[ \t]*[:\uff1a][ \t]*(?P<value>[^\n]{1,120}?)[ \t]*$", re.M
)
_CHECKED_RE = re.compile(r"(?:\[[xX✓✔]\]|☒|☑|■)\s*(?P<label>[^\[\]☐☒☑□■\n]{2,60})")
_BLANK_RE = re.compile(r"^[_.\s]*$|^_{3,}|^\.{3,}")
_PEOPLE_RE = re.compile(
    r"\b(?:Mr|Mrs|Ms|Miss|Dr|Prof|Herr|Frau|M|Mme|Mlle|Sr|Sra|Sig|Sig\.ra|Dhr|Mevr)\.?\s+"
    r"(?P<n>[A-ZÄÖÜÉ][\w'\-]+(?:\s+[A-ZÄÖÜÉ][\w'\-]+){0,2})"
)


def fill_form(ctx: Context) -> Filled:
    source = ctx.source
    out: Filled = {}
    title = _form_title(source)
    if title is not None:
        out["form_title"] = title
    number = _FORM_NUMBER_RE.search(source.text[:6000])
    if number is not None:
        group = next(g for g in ("v", "c", "s") if number.group(g))
        out["form_number"] = Hit(
            clean(number.group(group)), 0.85 if group != "s" else 0.55, number.start(group), number.end(group)
        )
    authority = _AUTHORITY_RE.search(source.text[:4000])
    if authority is not None:
        out["issuing_authority"] = Hit(clean(authority.group("v")), 0.7, authority.start("v"), authority.end("v"))
    year = _YEAR_LABEL_RE.search(source.text[:6000])
    if year is not None:
        out["form_year"] = Hit(year.group("v"), 0.8, year.start(), year.end())
    elif number is not None:
        near = re.search(r"(?<!rev\. )(?<!rev )\b((?:19|20)\d{2})\b", source.line_at(number.start()).text, re.I)
        if near:
            out["form_year"] = Hit(near.group(1), 0.6, number.start(), source.line_at(number.start()).end)
    person = values.labelled_text(source, _PERSON_LABEL, confidence=0.8, below=False, limit=80)
    if person is not None and not _BLANK_RE.match(str(person.value)):
        out["person_name"] = person
    filled = filled_fields(source)
    if filled:
        out["filled_fields"] = filled
    return out


def _form_title(source: Source) -> Hit | None:
    for line in source.lines[:12]:
        text = clean(line.text)
        if len(text) < 4 or not re.search(r"[^\W\d_]{3,}", text) or ":" in text or _BLANK_RE.match(text):
            continue
        if re.search(
            r"\b(?:form|formulaire|formular|antrag|application|declaration|déclaration|erklärung|"
            r"return|certificate|request|demande|solicitud|domanda|aanvraag|registration)\b",
            text,
            re.I,
        ):
            return values.line_of(source, line, text, 0.75)
    for line in source.lines[:5]:
        text = clean(line.text)
        if len(text) >= 4 and re.search(r"[^\W\d_]{3,}", text) and ":" not in text:
            return values.line_of(source, line, text, 0.5)
    return None


def filled_fields(source: Source, limit: int = 40) -> list[Hit]:
    out: list[Hit] = []
    for match in _FIELD_LINE_RE.finditer(source.text):
        label, value = clean(match.group("label"), 60), clean(match.group("value"), 120)
        if not label or not value or _BLANK_RE.match(match.group("value")) or re.match(r"https?$", label, re.I):
            continue
        value = re.sub(r"[_.]{3,}$", "", value).strip()
        if value:
            out.append(Hit({"label": label, "value": value}, 0.8, match.start(), match.end()))
        if len(out) >= limit:
            return out
    for match in _CHECKED_RE.finditer(source.text):
        out.append(Hit({"label": clean(match.group("label"), 60), "value": "checked"}, 0.7, match.start(), match.end()))
        if len(out) >= limit:
            break
    return out


def fill_other(ctx: Context) -> Filled:
    source = ctx.source
    out: Filled = {}
    dated: list[Hit] = []
    seen: set[str] = set()
    for hit in values.dates(source, ctx.language):
        if hit.full and hit.iso not in seen:
            seen.add(hit.iso)
            dated.append(Hit(hit.iso, 0.75, hit.start, hit.end))
            if len(dated) >= 20:
                break
    if dated:
        out["dates"] = dated
    organisations: list[Hit] = []
    names: set[str] = set()
    for match in _ORG_SUFFIX_RE.finditer(source.text):
        before = _name_before(source.text, match.start())
        name = (
            _clean_name(f"{before}{match.group('sep')}{match.group('suffix')}{match.group('dot')}") if before else None
        )
        if name and name.lower() not in names:
            names.add(name.lower())
            start = source.find(name, max(0, match.start() - len(name) - 5))
            organisations.append(Hit(name, 0.6, start if start >= 0 else match.start(), match.end()))
            if len(organisations) >= 20:
                break
    if organisations:
        out["organisations"] = organisations
    people: list[Hit] = []
    for match in _PEOPLE_RE.finditer(source.text):
        name = match.group("n")
        if name.lower() not in names:
            names.add(name.lower())
            people.append(Hit(name, 0.6, match.start("n"), match.end("n")))
            if len(people) >= 20:
                break
    if people:
        out["people"] = people
    return out


# --- any field, from its name and description ----------------------------------------------------------------------


def _labels_for(name: str, schema: dict[str, Any]) -> list[tuple[str, float]]:
    words = name.replace("_", " ").strip()
    labels = [(re.escape(words).replace(r"\ ", r"[ \t_\-]*"), 0.6)]
    if words.endswith("s"):
        labels.append((re.escape(words[:-1]).replace(r"\ ", r"[ \t_\-]*"), 0.55))
    description = str(schema.get("description") or "")
    lead = re.match(r"^([^\W\d_]+(?:\s+[^\W\d_]+){0,2})", description)
    if lead and len(lead.group(1)) >= 4 and lead.group(1).lower() not in ("the", "a", "an"):
        labels.append((re.escape(lead.group(1)).replace(r"\ ", r"[ \t]+"), 0.45))
    return labels


def _convert(value: str, schema: dict[str, Any], ctx: Context, start: int) -> Any:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if schema.get("enum"):
        lower = value.lower()
        return next((option for option in schema["enum"] if str(option).lower() in lower), None)
    if kind == "string" and schema.get("format") == "date":
        hit = values.date_after(ctx.source, ctx.language, start, limit=max(len(value), 1))
        return hit.iso if hit is not None else None
    if kind in ("number", "integer"):
        found = values.amounts(ctx.source, start, start + len(value), ctx.language)
        if not found:
            return None
        number = found[0].value
        return int(number) if kind == "integer" else found[0].number
    if kind == "boolean":
        lower = value.lower()
        yes = re.match(r"(?:yes|true|ja|oui|sí|si|sim|x|checked)\b", lower)
        no = re.match(r"(?:no|false|nein|non|não|nee)\b", lower)
        return True if yes else False if no else None
    if kind == "string":
        return value
    return None


def fill_field(ctx: Context, name: str) -> Hit | list[Hit] | None:
    """A value for any field, from a line labelled with its name or description (None when there is none)."""
    schema = ctx.value_schemas[name]
    is_list = name in ctx.lists
    if is_list and schema.get("type") not in ("string", "number", "integer", None):
        return None
    for label, confidence in _labels_for(name, schema):
        pattern = values.label_pattern(label)
        for match in pattern.finditer(ctx.source.text):
            text, start, end = values.after_label(ctx.source, match, below=not is_list, limit=200)
            if not text:
                continue
            if is_list:
                items = []
                for part in re.split(r"\s*[,;]\s*", text):
                    position = ctx.source.find(part, start)
                    converted = _convert(part, schema, ctx, position) if part and position >= 0 else None
                    if converted not in (None, ""):
                        items.append(Hit(converted, confidence, position, position + len(part)))
                if items:
                    return items
                continue
            converted = _convert(text, schema, ctx, start)
            if converted not in (None, ""):
                return Hit(converted, confidence, match.start(), end)
    return None
