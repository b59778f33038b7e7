"""Contracts: type, parties with their defined roles, agreement / effective / expiration dates, term, governing law,
renewal, termination notice and value.

Parties come from the opening clause ("by and between X and Y", "by and among", "zwischen X und Y", "entre X et Y",
...) with the role each one's defined term gives it (``("Client")``, "hereinafter referred to as", "nachfolgend ...
genannt", "ci-après dénommée"). Dates get their role from the words before them ("dated as of", "effective as of",
"made and entered into on", "until", "expires on"). Clauses (term, renewal, notice) are quoted as written.
"""

from __future__ import annotations

import re

from docproc_local.standins.fields import values
from docproc_local.standins.fields.context import Context, Filled
from docproc_local.standins.fields.source import Hit, Source, clean
from docproc_local.standins.insights.parties import _clean_name

FIELDS = frozenset(
    [
        "contract_type",
        "parties",
        "agreement_date",
        "effective_date",
        "expiration_date",
        "term",
        "governing_law",
        "renewal",
        "termination_notice",
        "total_value",
        "currency",
    ]
)

_TYPE_RE = re.compile(
    r"^[ \t#*]*(?P<t>(?:[A-Z][\w'\-]*[ \t]+){0,6}?(?:AGREEMENT|Agreement|CONTRACT|Contract|LEASE|Lease|NDA|"
    r"[\w\-]*(?:VERTRAG|[Vv]ertrag|[Vv]ereinbarung)|CONTRAT|[Cc]ontrat|CONTRATO|[Cc]ontrato|CONTRATTO|[Cc]ontratto|"
    r"OVEREENKOMST|[Oo]vereenkomst)(?:[ \t]+(?:de|di|du|van|for|of|zur|über)[ \t]+[\w' \-]{2,40})?)[ \t*]*$",
    re.M,
)
_PARTY_INTRO = re.compile(
    r"\b(?:by and between|by and among|between|among|zwischen|entre|tra|fra|tussen)\b[ \t\n:]*", re.I
)
_AND_RE = re.compile(r"(?:^|[\s,;])(?:and|und|et|y|e|en)[ \t\n:]+", re.I)
_ROLE_RE = re.compile(
    r"""(?:hereinafter(?:\s+(?:referred\s+to\s+as|called))?|nachfolgend|im\s+folgenden|ci-après(?:\s+dénommée?s?)?|"""
    r"""en\s+adelante(?:,)?(?:\s+(?:el|la))?|di\s+seguito(?:\s+(?:il|la|denominat[oa]))?|hierna(?:\s+te\s+noemen)?|"""
    r"""doravante(?:\s+denominad[oa])?|the|each\s+a|el|la|il|le|die|der|de)?\s*[„"“”'«\u2018]\s*"""
    r"""(?P<role>[A-ZÄÖÜÉ][\w\- ]{1,40}?)\s*[“”"'»\u2019]""",
    re.I,
)
_AGREEMENT_DATE = re.compile(
    r"(?:dated(?: as of)?|made(?: and entered into)?(?: as of| on| this)?|entered into(?: as of| on| this)?|"
    r"executed(?: as of| on)?|signed(?: on)?|as of|this|date of (?:this )?agreement|agreement date|"
    r"geschlossen am|vom|abgeschlossen am|fait le|conclu le|en date du|celebrado el|suscrito el|stipulato il|"
    r"in data|gesloten op|celebrado em|datum|date)\W{0,3}$",
    re.I,
)
_EFFECTIVE = re.compile(
    r"(?:effective(?: as of| from| on)?|effective date|commenc\w+(?: on)?|with effect from|starting(?: on)?|"
    r"mit wirkung (?:vom|zum|ab)|tritt am|in kraft (?:ab|am)|prend effet (?:le|au)|entrée en vigueur|à compter du|"
    r"entrará en vigor el|a partir del?|con efectos (?:desde|a partir)|con decorrenza dal|efficace dal|"
    r"ingaande|met ingang van|com efeitos a partir de|a partir de)\W{0,3}$",
    re.I,
)
_EXPIRATION = re.compile(
    r"(?:until|through|expir\w+(?: on)?|terminat\w+ on|ends? on|end date|expiration date|bis (?:zum|einschließlich)?|"
    r"endet am|jusqu'au|expire le|hasta el|vence el|fino al|scade il|tot en met|tot|eindigt op|até)\W{0,3}$",
    re.I,
)
_TERM_RE = re.compile(
    r"(?:for a (?:period|term) of|(?:initial )?term of|period of|für (?:die dauer von|einen zeitraum von)|laufzeit von|"
    r"pour une (?:durée|période) de|por un (?:plazo|período|periodo) de|per (?:la durata di|un periodo di)|"
    r"voor (?:een periode|de duur) van|pelo prazo de|por um período de)\s+"
    r"(?P<v>(?:[\w\-]+\s+){0,2}\(?\d*\)?\s*(?:calendar\s+|consecutive\s+)?(?:years?|months?|days?|weeks?|jahre?n?|"
    r"monate?n?|tage?n?|ans?|années?|mois|jours?|años?|meses|mes|días?|anni|anno|mesi|mese|giorni|jaar|jaren|"
    r"maanden|maand|dagen|anos?|dias?))\b",
    re.I,
)
_LAW_RE = re.compile(
    r"(?:governed by|construed in accordance with|subject to)(?: and construed in accordance with)?(?:,? and "
    r"interpreted under)?,?\s+the\s+(?:substantive\s+)?laws?\s+of\s+(?P<v>(?:the\s+)?(?:State|Commonwealth|"
    r"Province|Republic|Kingdom|Federal Republic)?(?:\s+of)?\s*[A-Z][\w.\-]*(?:(?:\s+|,\s+)(?:and\s+)?"
    r"[A-Z][\w.\-]*){0,4})",
)
_LAW_ADJECTIVE_RE = re.compile(
    r"(?:unterliegt|unterliegen|gilt)\s+(?:ausschließlich\s+)?(?:dem\s+)?(?P<de>\w+?)(?:em|en|es)?\s+recht|"
    r"(?:régi|régie|soumis)e?s?\s+(?:par|au)\s+(?:le\s+)?droit\s+(?P<fr>\w+)|"
    r"(?:se\s+regirá|regido|sometido)\s+(?:por\s+)?(?:la\s+)?(?:legislación|ley(?:es)?)\s+(?P<es>\w+)|"
    r"(?:regolato|disciplinato)\s+dalla\s+legge\s+(?P<it>\w+)|"
    r"(?:beheerst\s+door|onderworpen\s+aan)\s+(?:het\s+)?(?P<nl>\w+)\s+recht|"
    r"(?:regido|regulado)\s+pela\s+(?:lei|legislação)\s+(?P<pt>\w+)|"
    r"(?:laws?\s+of|law\s+of)\s+(?P<en>England(?:\s+and\s+Wales)?|Scotland|Ireland)",
    re.I,
)
_COUNTRY = {
    "deutsch": "Germany",
    "österreichisch": "Austria",
    "schweizerisch": "Switzerland",
    "français": "France",
    "française": "France",
    "francais": "France",
    "belge": "Belgium",
    "suisse": "Switzerland",
    "española": "Spain",
    "español": "Spain",
    "italiana": "Italy",
    "nederlands": "Netherlands",
    "nederlandse": "Netherlands",
    "belgisch": "Belgium",
    "portuguesa": "Portugal",
    "brasileira": "Brazil",
    "luxembourgeois": "Luxembourg",
}
_RENEWAL_RE = re.compile(
    r"automatically renew|renew automatically|auto-?renew|shall renew|will renew|successive (?:renewal )?(?:periods?|"
    r"terms?)|verlängert sich (?:automatisch|stillschweigend|jeweils)|stillschweigend|tacite reconduction|"
    r"renouvel\w+ (?:automatiquement|tacitement)|prorroga\w* (?:automática|tácita)|renova\w* automática|"
    r"tacitamente rinnovat|rinnova\w* automaticamente|stilzwijgend verlengd|automatisch verlengd|"
    r"renovad[oa] automaticamente|shall not (?:be )?renew|no renewal|will not renew",
    re.I,
)
_NOTICE_RE = re.compile(
    r"(?P<v>(?:at least\s+)?(?:[a-z]+\s+)?\(?\d+\)?\s*(?:calendar\s+|business\s+)?(?:days?|weeks?|months?)['\u2019]?\s*"
    r"(?:prior\s+|advance\s+)?(?:written\s+)?notice)|"
    r"(?P<v2>(?:kündigungsfrist|frist)\s+von\s+[\w()]+\s+(?:wochen|monaten|tagen)(?:\s+zum\s+\w+)?|"
    r"préavis\s+(?:écrit\s+)?de\s+[\w()]+\s+(?:jours|mois|semaines)|preaviso\s+(?:por\s+escrito\s+)?de\s+[\w()]+"
    r"\s+(?:días|meses|semanas)|preavviso\s+(?:scritto\s+)?di\s+[\w()]+\s+(?:giorni|mesi|settimane)|"
    r"opzegtermijn\s+van\s+[\w()]+\s+(?:dagen|maanden|weken)|aviso\s+prévio\s+de\s+[\w()]+\s+(?:dias|meses))",
    re.I,
)
_VALUE_RE = re.compile(
    r"(?:total (?:contract )?(?:value|price|fee|consideration|amount)|contract (?:value|price)|(?:aggregate|total) "
    r"fees?|fee of|price of|sum of|gesamtvergütung|vergütung (?:von|in höhe von)|pauschal|prix (?:total|de)|"
    r"montant (?:total|de)|precio (?:total|de)|importe (?:total|de)|corrispettivo (?:totale|di)|totale di|"
    r"totaalprijs|vergoeding van|valor total|preço de)",
    re.I,
)


# clauses wrap across lines: a space in these patterns stands for any run of whitespace
_RENEWAL_RE, _NOTICE_RE, _TERM_RE, _VALUE_RE = (
    re.compile(pattern.pattern.replace(" ", r"\s+"), pattern.flags)
    for pattern in (_RENEWAL_RE, _NOTICE_RE, _TERM_RE, _VALUE_RE)
)


def _contract_type(source: Source) -> Hit | None:
    for match in _TYPE_RE.finditer(source.text[:3000]):
        raw = match.group("t").strip()
        if len(raw) > 80 or raw.lower() in ("agreement", "contract"):
            if raw.lower() in ("agreement", "contract"):
                return Hit(raw.title(), 0.6, match.start("t"), match.end("t"))
            continue
        value = raw.title() if raw.isupper() else raw
        return Hit(value, 0.85, match.start("t"), match.end("t"))
    return None


def _role_after(source: Source, position: int, name: str) -> str | None:
    window = source.text[position : position + 260]
    cut = re.search(r"\n[ \t]*\n|;|\b(?:and|und|et|y|en)\s+[A-Z]", window)
    match = _ROLE_RE.search(window[: cut.start()] if cut else window)
    if not match:
        return None
    role = match.group("role").strip()
    if role.lower() in name.lower() or len(role.split()) > 4:
        return "Party" if role.lower() in name.lower() else None
    return role


def _parties(source: Source) -> list[Hit]:
    head = source.text[:12_000]
    out: list[Hit] = []
    seen: set[str] = set()
    for intro in _PARTY_INTRO.finditer(head):
        segment_end = min(len(head), intro.end() + 900)
        stop = re.search(
            r"\n[ \t]*\n[ \t]*(?:WHEREAS|RECITALS|BACKGROUND|NOW|1\.|§|Article|Präambel|Préambule)|"
            r"\.[ \t]*\n[ \t]*\n|\.\s+(?:WHEREAS|The parties|NOW)",
            head[intro.end() : segment_end],
        )
        segment_end = intro.end() + stop.start() if stop else segment_end
        starts = [intro.end()]
        for sep in _AND_RE.finditer(head, intro.end(), segment_end):
            starts.append(sep.end())
        for start in starts[:6]:
            raw = re.split(r"[,(\n]|\s-\s|\s\u2013\s", head[start : start + 160])[0]
            name = _clean_name(raw) if raw.strip() else None
            if name is None or len(name) < 3:
                continue
            key = name.lower()
            if key in seen or key in ("the parties", "parties"):
                continue
            role = _role_after(source, start + len(raw), name)
            seen.add(key)
            value = {"name": name, **({"role": role} if role else {})}
            name_start = source.find(name, start)
            end = name_start + len(name) if name_start >= 0 else start + len(raw)
            out.append(Hit(value, 0.85 if role else 0.65, max(name_start, start), end))
        if len(out) >= 2:
            return out[:10]
        out, seen = [], set()
    return out


def _date_with_role(ctx: Context, role: re.Pattern[str], confidence: float) -> Hit | None:
    for hit in values.dates(ctx.source, ctx.language):
        if not hit.full:
            continue
        before = ctx.source.text[max(0, hit.start - 45) : hit.start]
        if role.search(before.replace("\n", " ")):
            return Hit(hit.iso, confidence, hit.start, hit.end)
    return None


def _defined_effective_date(ctx: Context) -> Hit | None:
    """A date defined as the Effective Date: ``1 July 2023 (the "Effective Date")``."""
    for hit in values.dates(ctx.source, ctx.language):
        after = ctx.source.text[hit.end : hit.end + 50]
        if hit.full and re.match(
            r"""\s*\(\s*(?:the|hereinafter)?\s*[„"“']?(?:Effective|Commencement|Start) Date""", after, re.I
        ):
            return Hit(hit.iso, 0.9, hit.start, hit.end + after.index(")") + 1 if ")" in after else hit.end)
    return None


def _sentence_hit(source: Source, match: re.Match[str], confidence: float) -> Hit:
    """The clause a match sits in, as written (up to 200 characters)."""
    text = source.text
    start = max(
        text.rfind(". ", 0, match.start()) + 2, text.rfind("\n\n", 0, match.start()) + 2, match.start() - 150, 0
    )
    end_candidates = [
        i
        for i in (text.find(". ", match.end()), text.find(".\n", match.end()), text.find("\n\n", match.end()))
        if i >= 0
    ]
    end = min([*end_candidates, match.end() + 150, len(text)])
    sentence = clean(re.sub(r"^\d+(?:\.\d+)*\.?\s+", "", text[start : end + 1]), 200)
    return Hit(sentence, confidence, start, end + 1)


def fill(ctx: Context) -> Filled:
    source = ctx.source
    out: Filled = {}
    kind = _contract_type(source)
    if kind is not None:
        out["contract_type"] = kind
    parties = _parties(source)
    if parties:
        out["parties"] = parties
    effective = _defined_effective_date(ctx) or _date_with_role(ctx, _EFFECTIVE, 0.85)
    agreement = _date_with_role(ctx, _AGREEMENT_DATE, 0.85)
    if agreement is not None and effective is not None and agreement.start == effective.start:
        agreement = Hit(agreement.value, 0.8, agreement.start, agreement.end)
    if (
        agreement is None
        and effective is not None
        and re.search(
            r"(?:dated|made|entered into)[^.]{0,40}as of\s*$",
            source.text[max(0, effective.start - 60) : effective.start],
        )
    ):
        agreement = Hit(effective.value, 0.75, effective.start, effective.end)
    if agreement is None:
        agreement = _signature_date(ctx)
    if agreement is not None:
        out["agreement_date"] = agreement
    if effective is not None:
        out["effective_date"] = effective
    expiration = _date_with_role(ctx, _EXPIRATION, 0.75)
    if expiration is not None and (effective is None or expiration.value > str(effective.value)):
        out["expiration_date"] = expiration
    term = _TERM_RE.search(source.text)
    if term is not None:
        out["term"] = Hit(clean(term.group("v")), 0.8, term.start(), term.end())
    law = _governing_law(source)
    if law is not None:
        out["governing_law"] = law
    renewal = _RENEWAL_RE.search(source.text)
    if renewal is not None:
        out["renewal"] = _sentence_hit(source, renewal, 0.7)
    notice = _NOTICE_RE.search(source.text)
    if notice is not None:
        group = "v" if notice.group("v") else "v2"
        out["termination_notice"] = Hit(clean(notice.group(group)), 0.75, notice.start(), notice.end())
    value = _total_value(ctx)
    if value is not None:
        hit, currency = value
        out["total_value"] = hit
        if currency:
            out["currency"] = Hit(currency, 0.8, hit.start, hit.end)
    return out


_SIGNED_AT_RE = re.compile(r"^[ \t]*[A-ZÄÖÜÉ][\w.\- ]{1,30},[ \t]*(?:den|le|el|il|on|am)?[ \t]*$", re.M)


def _signature_date(ctx: Context) -> Hit | None:
    """The date by the signatures: "Stuttgart, den 15.08.2024", "Fait à Paris, le ...", "Madrid, 3 de mayo ..."."""
    for hit in values.dates(ctx.source, ctx.language):
        line = ctx.source.line_at(hit.start)
        before = ctx.source.text[max(line.start, hit.start - 60) : hit.start]
        if hit.full and (_SIGNED_AT_RE.match(before) or re.search(r"(?:fait à|done at|signed at)\s+\w+", before, re.I)):
            return Hit(hit.iso, 0.6, line.start, hit.end)
    return None


def _governing_law(source: Source) -> Hit | None:
    match = _LAW_RE.search(source.text)
    if match is not None:
        value = re.sub(r"\s+", " ", match.group("v")).strip(" ,.")
        value = re.sub(r"^the\s+", "", value)
        value = re.split(r",?\s+(?:without|excluding|and the|applicable|U\.S\.A?)\b", value)[0].strip(" ,.")
        return Hit(value, 0.9, match.start(), match.end())
    match = _LAW_ADJECTIVE_RE.search(source.text)
    if match is not None:
        group = next(name for name in ("de", "fr", "es", "it", "nl", "pt", "en") if match.group(name))
        word = match.group(group)
        if group == "en":
            return Hit(word, 0.9, match.start(), match.end())
        stem = word.lower()
        country = next((c for adjective, c in _COUNTRY.items() if stem.startswith(adjective[:6])), None)
        if country is not None:
            return Hit(country, 0.8, match.start(), match.end())
    return None


def _total_value(ctx: Context) -> tuple[Hit, str | None] | None:
    for match in _VALUE_RE.finditer(ctx.source.text):
        found = values.amounts(ctx.source, match.end(), min(len(ctx.source.text), match.end() + 60), ctx.language)
        money = [a for a in found if a.currency]
        if money:
            amount = money[0]
            return Hit(amount.number, 0.7, match.start(), amount.end), amount.currency
    return None
