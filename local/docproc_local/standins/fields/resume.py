"""Résumés and CVs: name, contact details, headline, skills, employers (title, dates) and education.

A JSON Resume (``basics.name``, ``skills[].keywords``, ``work[].name``, raw or flattened to ``path: value`` lines by
the pipeline) is read by its paths. A text CV is read by its sections: the heading lines "Experience" /
"Berufserfahrung" / "Expérience professionnelle" ..., "Skills" / "Kenntnisse" / "Compétences" ..., "Education" /
"Ausbildung" / "Formation" ...; inside Experience every line with a date range starts an employer.
"""

from __future__ import annotations

import re

from docproc_local.standins.fields import values
from docproc_local.standins.fields.context import Context, Filled
from docproc_local.standins.fields.source import Hit, Line, Source, clean
from docproc_local.standins.insights.dates import _MONTHS
from docproc_local.standins.insights.identifiers import _EMAIL_RE, _PHONE_LABELLED_RE, _PHONE_RE, _phone

FIELDS = frozenset(["name", "email", "phone", "location", "headline", "skills", "employers", "education"])

_HEADING = {
    "experience": r"(?:work |professional |relevant )?experience|employment(?: history)?|work history|career|"
    r"berufserfahrung|berufliche erfahrung|beruflicher werdegang|werdegang|expériences?(?: professionnelles?)?|"
    r"parcours professionnel|experiencia(?: laboral| profesional)?|esperienz[ae](?: lavorativ[ae]| "
    r"professional[ei])?|werkervaring|ervaring|experiência(?: profissional)?",
    "skills": r"(?:technical |core |key )?skills|competencies|technologies|kenntnisse|fähigkeiten|"
    r"(?:edv-|it-)?kenntnisse|compétences(?: techniques)?|habilidades|competencias|conocimientos|"
    r"competenze|vaardigheden|competências|skills & tools|tools",
    "education": r"education|academic background|qualifications|ausbildung|studium|bildungsweg|formation|"
    r"études|educación|formación(?: académica)?|istruzione|formazione|opleiding(?:en)?|formação",
    "other": r"summary|profile|profil|about(?: me)?|projects|projekte|projets|proyectos|progetti|languages|sprachen|"
    r"langues|idiomas|lingue|talen|certifications?|zertifikate|awards|publications|interests|hobbys|"
    r"references|referenzen|contact|kontakt|personal (?:details|information)|persönliche daten|volunteering",
}
_HEADING_RE = {key: re.compile(rf"^[ \t#*=\-]*(?:{pattern})[ \t:*=\-]*$", re.I) for key, pattern in _HEADING.items()}
_MONTH_WORD = r"(?:[A-Za-zäéû]{3,9}\.?\s+)"
_DATE_PART = rf"(?:{_MONTH_WORD}?(?:19|20)\d{{2}}|\d{{1,2}}[/.](?:19|20)\d{{2}}|(?:19|20)\d{{2}}-\d{{2}})"
_PRESENT = (
    r"present|current|now|today|heute|aktuell|dato|aujourd'hui|présent|actualidad|presente|actual|oggi|heden|nu|atual"
)
RANGE_RE = re.compile(
    rf"(?P<start>{_DATE_PART})\s*(?:[-\u2013\u2014]|to|bis|à|a|al|au|tot|até)\s*(?P<end>{_DATE_PART}|{_PRESENT})", re.I
)
_TITLE_WORDS = re.compile(
    r"\b(?:engineer|developer|manager|director|analyst|consultant|designer|scientist|architect|lead|head|officer|"
    r"specialist|intern|assistant|associate|administrator|coordinator|technician|accountant|nurse|teacher|"
    r"researcher|founder|co-founder|owner|president|vp|cto|ceo|cfo|programmer|editor|writer|advisor|"
    r"entwickler\w*|ingenieur\w*|leiter\w*|berater\w*|werkstudent\w*|praktikant\w*|ingénieur\w*|développeur\w*|"
    r"chef|responsable|desarrollador\w*|ingeniero\w*|jefe|sviluppatore|ingegnere|ontwikkelaar|adviseur|"
    r"desenvolvedor\w*|engenheiro\w*|gerente|gestor)\b",
    re.I,
)
_DEGREE_RE = re.compile(
    r"\b(?:ph\.?\s?d\.?|doctor(?:ate)?|m\.?\s?sc\.?|b\.?\s?sc\.?|m\.?b\.?a\.?|b\.?a\.?|m\.?a\.?|b\.?s\.?|m\.?s\.?|"
    r"b\.?eng\.?|m\.?eng\.?|bachelor(?:'s)?(?: of [\w ]{3,40})?|master(?:'s)?(?: of [\w ]{3,40})?|diplom[\w\-]*|"
    r"licence|licenciatura|laurea(?: magistrale| triennale)?|grado|máster|mestrado|doutorado|abitur|"
    r"baccalauréat|staatsexamen|associate degree)\b",
    re.I,
)
_INSTITUTION_RE = re.compile(
    r"\b(?:university|universit(?:ät|é|à|y|eit|ade|idad)|college|school|institute|institut[eo]?|hochschule|"
    r"fachhochschule|école|escuela|scuola|politecnico|polytechnic|academy|akademie|tu|eth|epfl|mit)\b",
    re.I,
)
_LOCATION_LABEL = values.label_pattern(
    r"location|address|adresse|anschrift|wohnort|based in|ubicación|"
    r"dirección|indirizzo|residenza|adres|woonplaats|morada|endereço|city"
)
_NAME_LABEL = values.label_pattern(r"name|full name|vorname und name|nom|nombre|nome|naam")
_SPLIT_RE = re.compile(r"\s*(?:,|;|•|·|\||/(?!\w{1,3}\b)|\s-\s|\s\u2013\s)\s*")


def _sections(source: Source) -> dict[str, list[Line]]:
    """The lines under each known heading, up to the next heading."""
    out: dict[str, list[Line]] = {}
    current: str | None = None
    for line in source.lines[:1500]:
        text = line.stripped
        if text and len(text) <= 60:
            key = next((k for k, pattern in _HEADING_RE.items() if pattern.match(text)), None)
            if key is not None:
                current = key if key not in out else None
                if current:
                    out[current] = []
                continue
        if current and text:
            out[current].append(line)
    return out


def _json_fill(ctx: Context, out: Filled) -> None:
    def first(pattern: str, field: str, confidence: float = 0.9) -> None:
        found = ctx.json_get(pattern)
        if found:
            _, value, start, end = found[0]
            out[field] = Hit(value, confidence, start, end)

    first(r"basics\.name", "name")
    first(r"basics\.email", "email")
    first(r"basics\.phone", "phone")
    first(r"basics\.label", "headline")
    city = ctx.json_get(r"basics\.location\.(?:city|address)")
    if city:
        _, town, start, end = city[0]
        region = ctx.json_get(r"basics\.location\.(?:region|countryCode)")
        text = f"{town}, {region[0][1]}" if region and region[0][2] - end < 200 else town
        out["location"] = Hit(text, 0.8, start, region[0][3] if region and text != town else end)
    skills = [Hit(v, 0.85, s, e) for _, v, s, e in ctx.json_get(r"skills\[\d+\]\.(?:keywords\[\d+\]|name)")]
    if skills:
        out["skills"] = skills[:40]
    employers: list[Hit] = []
    for index in range(20):
        entry = {p.rsplit(".", 1)[-1]: (v, s, e) for p, v, s, e in ctx.json_get(rf"work\[{index}\]\.\w+")}
        if not entry:
            break
        name = entry.get("name") or entry.get("company")
        if name is None:
            continue
        value: dict[str, object] = {"name": name[0]}
        for key, field in (("position", "title"), ("startDate", "start"), ("endDate", "end")):
            if key in entry:
                value[field] = entry[key][0][:7] if field != "title" else entry[key][0]
        if "start" in value and "end" not in value:
            value["end"] = "present"
        employers.append(Hit(value, 0.85, name[1], name[2]))
    if employers:
        out["employers"] = employers
    education: list[Hit] = []
    for index in range(10):
        entry = {p.rsplit(".", 1)[-1]: (v, s, e) for p, v, s, e in ctx.json_get(rf"education\[{index}\]\.\w+")}
        if "institution" not in entry:
            if not entry:
                break
            continue
        school: dict[str, object] = {"institution": entry["institution"][0]}
        degree = " ".join(entry[k][0] for k in ("studyType", "area") if k in entry)
        if degree:
            school["degree"] = degree
        if "endDate" in entry:
            school["year"] = entry["endDate"][0][:4]
        education.append(Hit(school, 0.85, entry["institution"][1], entry["institution"][2]))
    if education:
        out["education"] = education


def _name(source: Source) -> Hit | None:
    labelled = values.labelled_text(source, _NAME_LABEL, confidence=0.85, below=False, limit=60)
    if labelled is not None and 1 < len(str(labelled.value).split()) <= 5:
        return labelled
    for line in source.lines[:8]:
        text = clean(line.text)
        words = text.split()
        if not 2 <= len(words) <= 4 or any(ch.isdigit() for ch in text) or "@" in text:
            continue
        if any(pattern.match(text) for pattern in _HEADING_RE.values()):
            continue
        if re.match(r"^(?:curriculum vitae|résumé|resume|lebenslauf|cv)\b", text, re.I):
            continue
        if all(w[:1].isupper() for w in words if w.lower() not in ("de", "van", "von", "der", "da", "di", "la")):
            return values.line_of(source, line, text, 0.75)
    return None


def _contact(ctx: Context, out: Filled) -> None:
    source = ctx.source
    if "email" not in out:
        match = _EMAIL_RE.search(source.text)
        if match:
            out["email"] = Hit(match.group(0).rstrip("."), 0.9, match.start(), match.end())
    if "phone" not in out:
        match = _PHONE_LABELLED_RE.search(source.text[:5000])
        raw, span = (match.group("v"), match.span()) if match else (None, None)
        if raw is None:
            match = _PHONE_RE.search(source.text[:5000])
            raw, span = (match.group(1), match.span()) if match else (None, None)
        value = _phone(raw) if raw else None
        if value and span:
            out["phone"] = Hit(value.strip(), 0.85, span[0], span[1])
    if "location" not in out:
        location = values.labelled_text(source, _LOCATION_LABEL, confidence=0.8, below=False, limit=80)
        if location is not None:
            out["location"] = location


def _headline(source: Source, name: Hit | None) -> Hit | None:
    if name is None:
        return None
    line = source.line_at(name.start)
    nxt = next(source.next_lines(line, 1), None)
    if nxt is None:
        return None
    text = clean(nxt.text)
    if not text or "@" in text or re.search(r"\d{3}", text) or len(text) > 90:
        return None
    if any(pattern.match(text) for pattern in _HEADING_RE.values()):
        return None
    return values.line_of(source, nxt, text, 0.6 if _TITLE_WORDS.search(text) else 0.4)


def _skills(source: Source, lines: list[Line]) -> list[Hit]:
    out: list[Hit] = []
    for line in lines[:30]:
        text = re.sub(r"^[ \t\-*•·]+", "", line.text)
        text = re.sub(r"^[^:]{2,40}:\s*", "", text)  # "Languages: Python, Go" -> the list
        for part in _SPLIT_RE.split(text):
            skill = clean(part, 60)
            if 1 <= len(skill) <= 60 and len(skill.split()) <= 5 and re.search(r"[^\W_]", skill):
                start = source.find(skill, line.start)
                if start >= 0:
                    out.append(Hit(skill, 0.8, start, start + len(skill)))
            if len(out) >= 40:
                return out
    return out


def _split_role(text: str) -> tuple[str | None, str | None]:
    """(employer, title) of an experience header line without its dates."""
    text = clean(re.sub(r"[()\[\]]", " ", text))
    for sep in (r"\s+at\s+", r"\s+@\s+", r"\s+bei\s+", r"\s+chez\s+", r"\s+en\s+", r"\s+presso\s+", r"\s+bij\s+"):
        parts = re.split(sep, text, maxsplit=1)
        if len(parts) == 2 and _TITLE_WORDS.search(parts[0]):
            return clean(parts[1]), clean(parts[0])
    parts = [clean(p) for p in re.split(r"\s+[|\u2013\u2014-]\s+|,\s+|\t|\s{3,}", text) if clean(p)]
    if len(parts) >= 2:
        first, second = parts[0], parts[1]
        if _TITLE_WORDS.search(first) and not _TITLE_WORDS.search(second):
            return second, first
        return first, second
    return (parts[0], None) if parts else (None, None)


def _employers(source: Source, lines: list[Line]) -> list[Hit]:
    out: list[Hit] = []
    for index, line in enumerate(lines[:200]):
        match = RANGE_RE.search(line.text)
        if not match:
            continue
        rest = (line.text[: match.start()] + " " + line.text[match.end() :]).strip()
        name, title = _split_role(rest) if re.search(r"[^\W\d_]{2,}", rest) else (None, None)
        if name is None and index > 0:  # dates on a line of their own: the entry's header is above
            name, title = _split_role(lines[index - 1].text)
            if title is None and index > 1 and not RANGE_RE.search(lines[index - 2].text):
                title = clean(lines[index - 2].text)
        if name is None and index + 1 < len(lines):
            name, title = _split_role(lines[index + 1].text)
        if not name:
            continue
        value: dict[str, object] = {"name": name}
        if title:
            value["title"] = title
        value["start"] = _year_month(match.group("start"))
        end = match.group("end")
        value["end"] = "present" if re.fullmatch(_PRESENT, end, re.I) else _year_month(end)
        start = source.find(name, max(0, line.start - 300))
        out.append(Hit(value, 0.75 if title else 0.6, min(start if start >= 0 else line.start, line.start), line.end))
        if len(out) >= 20:
            break
    return out


def _year_month(text: str) -> str:
    year = re.search(r"(?:19|20)\d{2}", text)
    month = re.match(r"(\d{1,2})[/.]", text) or re.search(r"-(\d{2})$", text)
    if month is None:
        word = re.match(r"([A-Za-zäéû]{3,9})", text)
        if word:
            number = _MONTHS.get(word.group(1).lower().rstrip("."))
            return f"{year.group(0)}-{number:02d}" if year and number else (year.group(0) if year else text)
    if year and month and 1 <= int(month.group(1)) <= 12:
        return f"{year.group(0)}-{int(month.group(1)):02d}"
    return year.group(0) if year else text


def _education(source: Source, lines: list[Line]) -> list[Hit]:
    out: list[Hit] = []
    for index, line in enumerate(lines[:60]):
        text = line.stripped
        institution = _INSTITUTION_RE.search(text)
        if not institution:
            continue
        parts = [clean(p) for p in re.split(r"\s+[|\u2013\u2014-]\s+|,\s+|\t|\s{3,}", text) if clean(p)]
        name = next((p for p in parts if _INSTITUTION_RE.search(p)), clean(text))
        name = clean(re.sub(r"\(?(?:19|20)\d{2}\)?.*$", "", name)) or name
        value: dict[str, object] = {"institution": name}
        context = " ".join(
            [lines[index - 1].text if index else "", text, lines[index + 1].text if index + 1 < len(lines) else ""]
        )
        degree = next((p for p in parts if _DEGREE_RE.search(p) and p != name), None)
        if degree is None:
            near = _DEGREE_RE.search(context)
            if near:
                holder = next((ln for ln in lines[max(0, index - 1) : index + 2] if near.group(0) in ln.text), line)
                degree = clean(re.sub(r"\(?(?:19|20)\d{2}.*$", "", holder.text)) or near.group(0)
        if degree and degree != name:
            value["degree"] = degree
        years = re.findall(r"(?:19|20)\d{2}", context)
        if years:
            value["year"] = max(years)
        out.append(Hit(value, 0.75, line.start, line.end))
        if len(out) >= 10:
            break
    return out


def fill(ctx: Context) -> Filled:
    source = ctx.source
    out: Filled = {}
    if ctx.json_values:
        _json_fill(ctx, out)
    if "name" not in out:
        name = _name(source)
        if name is not None:
            out["name"] = name
    _contact(ctx, out)
    if "headline" not in out:
        headline = _headline(source, out.get("name"))  # type: ignore[arg-type]
        if headline is not None:
            out["headline"] = headline
    if ctx.json_values and "employers" in out:
        return out
    sections = _sections(source)
    if "skills" not in out and sections.get("skills"):
        skills = _skills(source, sections["skills"])
        if skills:
            out["skills"] = skills
    if "employers" not in out and sections.get("experience"):
        employers = _employers(source, sections["experience"])
        if employers:
            out["employers"] = employers
    if "education" not in out and sections.get("education"):
        education = _education(source, sections["education"])
        if education:
            out["education"] = education
    return out
