"""Clinical notes: note type, patient (name, age, sex), date of service, provider, chief complaint, diagnoses,
medications and allergies.

Lists are read from their sections (``Assessment`` / ``Impression`` / ``Diagnoses`` / ``Beurteilung`` ...,
``Medications`` / ``Medikation`` / ``Médicaments`` ..., ``Allergies``), one item per bullet, numbered line or
comma-separated entry; scalar fields from their labels or the usual phrasings ("54-year-old woman", "NKDA").
"""

from __future__ import annotations

import re

from docproc_local.standins.fields import values
from docproc_local.standins.fields.context import Context, Filled
from docproc_local.standins.fields.source import Hit, Line, Source, clean

FIELDS = frozenset(
    [
        "note_type",
        "patient_name",
        "patient_age",
        "patient_sex",
        "date_of_service",
        "provider",
        "chief_complaint",
        "diagnoses",
        "medications",
        "allergies",
    ]
)

_NOTE_TYPE_RE = re.compile(
    r"\b(?P<t>discharge summary|admission note|admission history and physical|history and physical|progress note|"
    r"consultation (?:note|report)|consult note|operative (?:note|report)|clinic note|office visit|emergency "
    r"department note|ed note|radiology report|pathology report|referral letter|"
    r"entlassungsbrief|entlassungsbericht|arztbrief|befundbericht|aufnahmebefund|konsiliarbericht|"
    r"compte[- ]rendu (?:d'hospitalisation|de consultation|opératoire)|lettre de sortie|"
    r"informe de alta|nota de evolución|informe de consulta|lettera di dimissione|referto|"
    r"ontslagbrief|verwijsbrief|carta de alta|nota de alta)\b",
    re.I,
)
_PATIENT_LABEL = values.label_pattern(
    r"patient(?: name)?|name|patientin|patient\(in\)|nom(?: du patient)?|paciente|nombre|paziente|nome|patiënt|naam"
)
_AGE_LABEL_RE = re.compile(r"\b(?:age|alter|âge|edad|età|leeftijd|idade)\s*[:.]?\s*(?P<v>\d{1,3})\b", re.I)
_AGE_PHRASE_RE = re.compile(
    r"\b(?P<v>\d{1,3})[- ](?:year|yr)s?[- ]old\b|\b(?P<v2>\d{1,3})\s?(?:y/?o|yo|j\.|jährige[rn]?|jahre alt|"
    r"jahre(?!n)|ans|años|anni|jaar|anos)\b",
    re.I,
)
_SEX_LABEL_RE = re.compile(r"\b(?:sex|gender|geschlecht|sexe|sexo|sesso|geslacht)\s*[:.]?\s*(?P<v>[A-Za-zéä]+)", re.I)
_SEX_WORDS = {
    "female": "female",
    "f": "female",
    "woman": "female",
    "w": "female",
    "weiblich": "female",
    "féminin": "female",
    "femme": "female",
    "femenino": "female",
    "mujer": "female",
    "femminile": "female",
    "donna": "female",
    "vrouw": "female",
    "v": "female",
    "feminino": "female",
    "girl": "female",
    "lady": "female",
    "male": "male",
    "m": "male",
    "man": "male",
    "männlich": "male",
    "masculin": "male",
    "homme": "male",
    "masculino": "male",
    "hombre": "male",
    "maschile": "male",
    "uomo": "male",
    "boy": "male",
    "gentleman": "male",
    "other": "other",
    "divers": "other",
    "diverse": "other",
}
_SEX_PHRASE_RE = re.compile(
    r"\b\d{1,3}[- ](?:year|yr)s?[- ]old\s+(?P<v>female|male|woman|man|girl|boy|lady|gentleman)\b|"
    r"\b\d{1,3}[- ]?(?:jährige[rn]?)\s+(?P<v2>patientin|patient)\b",
    re.I,
)
_DATE_LABEL = re.compile(
    r"date of (?:service|visit|admission|encounter|consultation|exam(?:ination)?|report)|(?:visit|admission|"
    r"service|encounter|exam|consultation) date|admitted|\bdos\b|untersuchungsdatum|aufnahmedatum|aufnahme am|"
    r"datum der untersuchung|date de (?:consultation|l'examen|(?:l')?admission|la visite)|fecha de (?:consulta|"
    r"ingreso|la visita|atención)|data (?:della visita|del ricovero|di ricovero)|datum (?:van )?(?:opname|"
    r"consult|bezoek)|data da (?:consulta|admissão)|\bdate\b|\bdatum\b|\bfecha\b|\bdata\b",
    re.I,
)
_NOT_SERVICE = re.compile(
    r"birth|dob|geburt|naissance|nacimiento|nascita|geboorte|nascimento|discharge|entlassung", re.I
)
_PROVIDER_LABEL = values.label_pattern(
    r"provider|attending(?: physician)?|physician|clinician|doctor|signed by|electronically signed by|dictated by|"
    r"author|consultant|treating physician|behandelnde[rn]? ärzt(?:in)?|arzt|ärztin|médecin(?: traitant)?|"
    r"médico(?: tratante)?|medico|behandelend arts|arts|facility|hospital|klinik|clinic"
)
_DOCTOR_RE = re.compile(
    r"\b(?:Dr\.?|Dra\.?|Prof\.?(?:\s+Dr\.?)?)\s+(?:med\.\s+)?[A-ZÄÖÜ][\w'\-]+(?:\s+[A-ZÄÖÜ][\w'\-]+)?"
    r"(?:,\s*(?:MD|DO|NP|PA|FACP|MBBS))?"
)
_COMPLAINT_LABEL = values.label_pattern(
    r"chief complaint|cc|reason for (?:visit|consultation|referral|admission)|presenting complaint|"
    r"hauptbeschwerde|aufnahmegrund|vorstellungsgrund|anlass|motif(?: de (?:consultation|l'hospitalisation))?|"
    r"motivo de (?:consulta|ingreso)|motivo (?:della visita|del ricovero)|reden van (?:komst|verwijzing)|klacht|"
    r"queixa principal|motivo da consulta"
)
_SECTION = {
    "diagnoses": r"(?:final |discharge |admission |working |primary |secondary )?diagnos[ie]s|assessment(?: and plan| "
    r"& plan|/plan)?|impression|a/p|problem list|diagnose[n]?|entlassungsdiagnosen?|beurteilung|"
    r"diagnostics?|diagnostic(?:s)? (?:principal|de sortie)|conclusion|diagnóstico(?:s)?|"
    r"impresión diagnóstica|diagnosi|conclusione|conclusie|diagnose\(n\)|hipótese diagnóstica",
    "medications": r"(?:current |home |discharge |active )?medications?|meds|medication list|medikation|"
    r"medikamente|aktuelle medikation|entlassmedikation|médicaments|traitement(?: actuel| de sortie)?|"
    r"ordonnance|medicamentos|medicación(?: actual)?|tratamiento|farmaci|terapia(?: domiciliare| in "
    r"atto)?|medicatie|medicação|prescriptions?",
    "allergies": r"allerg(?:ies|y|ien|ie|ias|ieën)|drug allergies|unverträglichkeiten",
}
_SECTION_RE = {
    key: re.compile(rf"^[ \t#*]*(?:{p})[ \t*]*(?:[:\uff1a][ \t]*(?P<inline>\S.*)?)?$", re.I)
    for key, p in _SECTION.items()
}
_ANY_HEADING_RE = re.compile(
    r"^[ \t#*]*[A-Z][A-Za-zÀ-ÿ/&() \-]{1,40}:[ \t]*(?:\S.*)?$|^[ \t#*]*[A-Z][A-Z/&() \-]{2,40}$"
)
_NKDA_RE = re.compile(
    r"\b(?:NKDA|NKA|no known (?:drug )?allergies|keine bekannten allergien|keine allergien|"
    r"pas d'allergie(?: connue)?|sin alergias(?: conocidas)?|nessuna allergia(?: nota)?|"
    r"geen (?:bekende )?allergieën|sem alergias(?: conhecidas)?)\b",
    re.I,
)
_ITEM_SPLIT = re.compile(r"\s*(?:;|,(?![^(]*\))|\s•\s)\s*")


def _note_type(source: Source) -> Hit | None:
    match = _NOTE_TYPE_RE.search(source.text[:3000])
    if match is None:
        return None
    raw = match.group("t")
    value = raw[:1].upper() + raw[1:].lower() if raw.isupper() or raw.islower() else raw
    return Hit(value, 0.85 if source.line_at(match.start()).number < 6 else 0.7, match.start(), match.end())


def _section_items(source: Source, key: str, limit: int) -> list[Hit]:
    out: list[Hit] = []
    pattern = _SECTION_RE[key]
    for line in source.lines[:1500]:
        match = pattern.match(line.text)
        if not match:
            continue
        if match.group("inline"):
            out.extend(_split_items(source, line, line.start + match.start("inline"), limit))
        for below in source.lines[line.number + 1 : line.number + 40]:
            text = below.stripped
            if not text:
                if out:
                    break
                continue
            if _ANY_HEADING_RE.match(below.text) and not re.match(r"^[ \t]*(?:[-*•]|\d+[.)])", below.text):
                break
            out.extend(_split_items(source, below, below.start, limit))
            if len(out) >= limit:
                break
        if out:
            return out[:limit]
    return out


def _split_items(source: Source, line: Line, start: int, limit: int) -> list[Hit]:
    text = source.text[start : line.end]
    body = re.sub(r"^[ \t]*(?:[-*•·]|\d+[.)]|#\d+:?)[ \t]*", "", text)
    offset = start + (len(text) - len(body))
    parts = [body] if re.match(r"^[ \t]*(?:[-*•·]|\d+[.)])", text) else _ITEM_SPLIT.split(body)
    out: list[Hit] = []
    for part in parts:
        item = clean(re.split(r"\s+[-\u2013\u2014]\s+(?=[a-z])|:\s+(?=(?:start|continue|plan|begin)\b)", part)[0], 150)
        if not item or len(item) < 2 or not re.search(r"[^\W\d_]{2,}", item):
            continue
        index = source.text.find(item, offset, line.end)
        index = index if index >= 0 else line.start
        out.append(Hit(item, 0.8, index, index + len(item)))
        if len(out) >= limit:
            break
    return out


def _patient_name(source: Source) -> Hit | None:
    for match in _PATIENT_LABEL.finditer(source.text[:8000]):
        value, start, _ = values.after_label(source, match, below=False, limit=60)
        value = re.split(r"\s{2,}|\t|,\s*(?:\d|age|dob|mrn|sex)|\s+(?:DOB|MRN|Age|Sex)\b", value)[0].strip()
        words = value.split()
        if 2 <= len(words) <= 5 and not any(ch.isdigit() for ch in value) and value[:1].isupper():
            return Hit(value, 0.85, match.start(), start + len(value))
    return None


def fill(ctx: Context) -> Filled:
    source = ctx.source
    out: Filled = {}
    note = _note_type(source)
    if note is not None:
        out["note_type"] = note
    name = _patient_name(source)
    if name is not None:
        out["patient_name"] = name
    age = _AGE_LABEL_RE.search(source.text[:8000])
    confidence = 0.9
    if age is None:
        age, confidence = _AGE_PHRASE_RE.search(source.text[:8000]), 0.8
    if age is not None:
        number = int(age.group("v") or age.groupdict().get("v2") or 0)
        if 0 < number < 120:
            out["patient_age"] = Hit(number, confidence, age.start(), age.end())
    sex = _sex(source)
    if sex is not None:
        out["patient_sex"] = sex
    when = values.labelled_date(source, ctx.language, _DATE_LABEL, exclude=_NOT_SERVICE)
    if when is None:
        first = next(
            (
                d
                for d in values.dates(source, ctx.language)
                if d.full and not _NOT_SERVICE.search(values.label_before(source, d.start))
            ),
            None,
        )
        when = Hit(first.iso, 0.45, first.start, first.end) if first else None
    if when is not None:
        out["date_of_service"] = when
    provider = _provider(source)
    if provider is not None:
        out["provider"] = provider
    complaint = values.labelled_text(source, _COMPLAINT_LABEL, confidence=0.85, limit=150)
    if complaint is not None:
        out["chief_complaint"] = complaint
    for key, limit in (("diagnoses", 20), ("medications", 30), ("allergies", 10)):
        items = _section_items(source, key, limit)
        if key == "allergies" and not items:
            nkda = _NKDA_RE.search(source.text)
            if nkda:
                items = [Hit(nkda.group(0), 0.85, nkda.start(), nkda.end())]
        if items:
            out[key] = items
    return out


def _sex(source: Source) -> Hit | None:
    head = source.text[:8000]
    match = _SEX_LABEL_RE.search(head)
    if match is not None:
        value = _SEX_WORDS.get(match.group("v").lower())
        if value:
            return Hit(value, 0.9, match.start(), match.end())
    label = re.search(r"^[ \t]*(?P<v>Patientin|Patient)\b[ \t]*:", head, re.M)
    if label is not None and label.group("v") == "Patientin":
        return Hit("female", 0.7, label.start("v"), label.end())
    match = _SEX_PHRASE_RE.search(head)
    if match is not None:
        word = (match.group("v") or match.group("v2") or "").lower()
        value = _SEX_WORDS.get(word) or ("female" if word == "patientin" else "male" if word == "patient" else None)
        if value:
            return Hit(value, 0.8, match.start(), match.end())
    return None


def _provider(source: Source) -> Hit | None:
    for match in _PROVIDER_LABEL.finditer(source.text):
        value, start, _ = values.after_label(source, match, below=False, limit=80)
        value = re.split(r"\s{2,}|\t|\s+(?:Date|Datum|on)\b", value)[0].strip()
        if value and value[:1].isupper() and not any(ch.isdigit() for ch in value) and len(value.split()) <= 8:
            return Hit(value, 0.85, match.start(), start + len(value))
    doctor = _DOCTOR_RE.search(source.text)
    if doctor is not None:
        return Hit(doctor.group(0), 0.6, doctor.start(), doctor.end())
    return None
