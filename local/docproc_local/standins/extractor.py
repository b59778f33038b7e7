"""A deterministic extractor that does real work on text: the local stand-in for the Bedrock model's tool answer.

:func:`extract_insights` returns a dict that is valid against ``Extraction.model_json_schema(by_alias=True)``
(camelCase keys). Everything is computed from the text with regular expressions, word statistics and small
lexicons; nothing is random and nothing leaves the process.

Work is bounded so that a 200k-character text costs about as much as a 60k one: entities, key phrases and the
domain are computed on a prefix (:data:`SCAN_CHARS`), the summary on a shorter one, the language on a sample.
"""

from __future__ import annotations

import csv
import email
import email.policy
import html
import io
import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

DOMAINS: tuple[str, ...] = ("legal", "medical", "financial", "technical", "hr", "general")

MAX_ITEMS = 20  # cap of every list in the output
MAX_KEY_PHRASES = 10
MAX_URLS = 6
SCAN_CHARS = 60_000  # prefix scanned for entities, key phrases and the domain
SUMMARY_CHARS = 25_000  # prefix the summary sentences are taken from
LANGUAGE_CHARS = 8_000  # sample the language is detected on
HEAD_CHARS = 6_000  # prefix the document-type cues are looked for in
MARKUP_CHARS = 400_000  # longest text that HTML is stripped from (the rest is dropped)
SUMMARY_MAX = 400
TITLE_MAX = 200
NAME_MAX = 120
VALUE_MAX = 200
TEXT_MAX = 80


def _words(spec: str) -> frozenset[str]:
    return frozenset(spec.split())


_WORD_RE = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")
_SPACE_RE = re.compile(r"\s+")


def _clip(value: str, limit: int) -> str:
    value = _SPACE_RE.sub(" ", value).strip()
    if len(value) <= limit:
        return value
    cut = value[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-") + "…"


# --- text preparation ----------------------------------------------------------------------------------------------

_TAG_BLOCK_RE = re.compile(r"<(script|style|noscript|svg|head)\b.*?</\1\s*>", re.I | re.S)
_TAG_RE = re.compile(r"<[^>]{0,2000}>")
_BLOCK_TAG_RE = re.compile(r"<(?:br|/p|/div|/h\d|/li|/tr|/title|p|div|h\d|li|tr)\b[^>]*>", re.I)
_HTML_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_HTML_H1_RE = re.compile(r"<h1[^>]*>(.*?)</h1>", re.I | re.S)


_HTML_TAG_RE = re.compile(r"<(?:html|head|body|div|p|span|table|td|tr|br|a|meta|style|script|h[1-6]|ul|li)\b", re.I)


def _looks_like_html(text: str) -> bool:
    head = text[:5000]
    if "<html" in head.lower() or "<!doctype html" in head.lower():
        return True
    tags = len(_HTML_TAG_RE.findall(head))
    return tags >= 10 or (tags >= 2 and head.lstrip().startswith("<"))


def _strip_html(text: str) -> str:
    text = _TAG_BLOCK_RE.sub(" ", text[:MARKUP_CHARS])
    text = _BLOCK_TAG_RE.sub("\n", text)
    text = _TAG_RE.sub(" ", text)
    text = html.unescape(text)
    return re.sub(r"[ \t\r\f\v]+", " ", re.sub(r"\n\s*\n+", "\n\n", text))


def _parse_json(text: str) -> Any:
    stripped = text.strip()
    if not stripped or stripped[0] not in "[{" or len(stripped) > MARKUP_CHARS:
        return None
    try:
        return json.loads(stripped)
    except ValueError:
        return None


def _json_strings(data: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted key, value) for every string or number in a JSON document, in document order."""
    if isinstance(data, dict):
        for key, value in data.items():
            if str(key).startswith("$"):
                continue
            yield from _json_strings(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(data, list):
        for item in data[:200]:
            yield from _json_strings(item, prefix)
    elif isinstance(data, str | int | float) and not isinstance(data, bool):
        yield prefix, str(data)


def _json_text(data: Any) -> str:
    """The values of a JSON document as text: long strings become paragraphs, short ones lines."""
    return "\n".join(f"\n{value}\n" if len(value) > 80 else value for _, value in _json_strings(data))


def _json_keys(data: Any, depth: int = 0) -> set[str]:
    keys: set[str] = set()
    if depth < 6 and isinstance(data, dict):
        for key, value in data.items():
            keys.add(str(key).lower())
            keys |= _json_keys(value, depth + 1)
    elif depth < 6 and isinstance(data, list):
        for item in data[:50]:
            keys |= _json_keys(item, depth + 1)
    return keys


def _json_get(data: Any, *path: str) -> str | None:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data.strip() if isinstance(data, str) and data.strip() else None


_MIME_HTML_PART_RE = re.compile(r"(?ims)^content-type:\s*text/html.*?(?=^--\S+\s*$|\Z)")
_MIME_LINE_RE = re.compile(r"(?im)^(?:--\S+|content-[\w-]+:.*|mime-version:.*|\s+boundary=.*)$")


def _table(text: str) -> list[list[str]] | None:
    """The first rows of a delimited table (CSV, TSV), if the text is one."""
    if text.count("\n") < 4:
        return None
    for delimiter in (",", "\t", ";", "|"):
        try:
            rows = [row for row in itertools.islice(csv.reader(io.StringIO(text), delimiter=delimiter), 51) if row]
        except csv.Error:
            continue
        rows = rows[:-1]  # the text is a prefix: its last row may be cut
        if len(rows) < 4:
            continue
        width, count = Counter(len(row) for row in rows).most_common(1)[0]
        if width >= 2 and count >= 0.8 * len(rows):
            return [[_clip(cell, TEXT_MAX) for cell in row] for row in rows]
    return None


_UNICODE_SPACE_RE = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\f\v]")
_DROP_CHARS_RE = re.compile("[\x00\u200b\u200c\u200d\u2060\ufeff\u00ad]")


class _Doc:
    """The text of one document, cleaned once, with the slices each extractor works on."""

    def __init__(self, raw: str) -> None:
        raw = raw[:MARKUP_CHARS].replace("\r\n", "\n").replace("\r", "\n")
        raw = _DROP_CHARS_RE.sub("", _UNICODE_SPACE_RE.sub(" ", raw))
        self.json = _parse_json(raw)
        self.json_keys = _json_keys(self.json) if self.json is not None else set()
        self.html_title: str | None = None
        self.email_headers = _email_headers(raw)
        if self.json is not None:
            text = _json_text(self.json)
        elif self.email_headers:
            self.email_headers, body = _parse_email(raw, self.email_headers)
            header_lines = "\n".join(f"{name.capitalize()}: {value}" for name, value in self.email_headers.items())
            text = f"{header_lines}\n\n{body}"
        elif _looks_like_html(raw):
            match = _HTML_TITLE_RE.search(raw[:MARKUP_CHARS]) or _HTML_H1_RE.search(raw[:MARKUP_CHARS])
            if match:
                self.html_title = _clip(html.unescape(_TAG_RE.sub(" ", match.group(1))), TITLE_MAX)
            text = _strip_html(raw)
        else:
            text = raw
        self.text = text
        self.scan = text[:SCAN_CHARS]
        self.scan_lower = self.scan.lower()
        self.head = self.scan[:HEAD_CHARS]
        self.head_lower = self.head.lower()
        self.table = _table(self.head) if self.json is None and not self.email_headers else None


# --- language ------------------------------------------------------------------------------------------------------

_SCRIPTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("kana", re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")),
    ("han", re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")),
    ("hangul", re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")),
    ("cyrillic", re.compile(r"[\u0400-\u04ff]")),
    ("arabic", re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")),
    ("hebrew", re.compile(r"[\u0590-\u05ff\ufb1d-\ufb4f]")),
    ("greek", re.compile(r"[\u0370-\u03ff]")),
    ("thai", re.compile(r"[\u0e00-\u0e7f]")),
    ("devanagari", re.compile(r"[\u0900-\u097f]")),
    ("latin", re.compile(r"[A-Za-z\u00c0-\u024f]")),
)
_SCRIPT_LANGUAGE = {
    "hangul": "ko",
    "arabic": "ar",
    "hebrew": "he",
    "greek": "el",
    "thai": "th",
    "devanagari": "hi",
}

_STOPWORDS: dict[str, frozenset[str]] = {
    lang: frozenset(words.split())
    for lang, words in {
        "en": "the and of to in is that for with this on are be by as was it not or from at which have an will "
        "shall we you they has their been were would there our your these those its can may any all such",
        "fr": "le la les des et est une un du dans pour que qui sur pas par au aux avec ce cette sont ou il elle "
        "nous vous ses leur été être à plus mais comme ne se sa son tout lui été très aussi",
        "de": "der die das und ist nicht ein eine zu den dem des mit für auf sich im von auch es wird werden sind "
        "bei oder aus wir sie ich nach wie einer eines dass über zum zur noch nur kann durch wurde",
        "es": "el la los las de y que en un una por con para es del se no al lo como más pero sus su está son "
        "este esta también fue ha hay entre cuando muy sin sobre ser le",
        "nl": "de het een en van is dat op te in voor met zijn niet aan er ook als bij door worden wordt maar om "
        "naar dan hij zij wij uit deze dit nog heeft hebben over zich",
        "it": "il lo la gli le di e che è per non un una del della dei delle con sono nel nella si al alla anche "
        "come più ma questo questa da ha essere stato degli alle",
        "pt": "o a os as de e que em um uma para com não por do da dos das no na se ao mais como mas foi são "
        "está seu sua pelo pela também ser quando muito nos às",
        "sv": "och att det som en är på för med av den till inte har om ett de jag var kan men så vi från eller "
        "också sig skall",
        "pl": "i w z na się nie do to że jest o jak a po co tak od przez dla jego są czy oraz być ze ale",
    }.items()
}
_STOPWORD_WEIGHT: dict[str, dict[str, float]] = {}
for _lang, _lang_words in _STOPWORDS.items():
    for _word in _lang_words:
        _STOPWORD_WEIGHT.setdefault(_word, {})[_lang] = 0.0
for _word, _langs in _STOPWORD_WEIGHT.items():
    for _lang in _langs:
        _langs[_lang] = 1.0 / len(_langs)


def detect_language(text: str) -> str:
    """ISO 639-1 code of the main language, from the script profile and, for Latin script, stopwords."""
    sample = text[:LANGUAGE_CHARS]
    counts = {name: len(pattern.findall(sample)) for name, pattern in _SCRIPTS}
    cjk = counts["kana"] + counts["han"]
    weighted = {name: count * (2 if name in ("kana", "han", "hangul") else 1) for name, count in counts.items()}
    weighted["han"] += weighted.pop("kana")
    script = max(weighted, key=lambda name: weighted[name])
    if weighted[script] == 0:
        return "en"
    if script == "han":
        return "ja" if counts["kana"] >= 0.05 * cjk else "zh"
    if script == "cyrillic":
        ukrainian = len(re.findall(r"[іїєґІЇЄҐ]", sample))
        return "uk" if ukrainian > 0.01 * counts["cyrillic"] else "ru"
    if script == "arabic":
        persian = len(re.findall(r"[پچژگ]", sample))
        return "fa" if persian > 0.01 * counts["arabic"] else "ar"
    if script != "latin":
        return _SCRIPT_LANGUAGE[script]
    scores: Counter[str] = Counter()
    for token in _WORD_RE.findall(sample.lower())[:3000]:
        if len(token) < 2:
            continue
        for lang, weight in _STOPWORD_WEIGHT.get(token, {}).items():
            scores[lang] += weight
    if not scores:
        return "en"
    best = max(scores, key=lambda lang: (scores[lang], lang == "en"))  # ties go to English
    return best if scores[best] >= 1.0 else "en"


# --- domain --------------------------------------------------------------------------------------------------------


def _lexicon(spec: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in spec.split():
        word, _, weight = item.partition(":")
        out[word] = float(weight or 1)
    return out


_DOMAIN_LEXICON: dict[str, dict[str, float]] = {
    "legal": _lexicon(
        "agreement:2 contract:2 court:3 plaintiff:4 plaintiffs:4 defendant:4 defendants:4 appellant:4 appellee:4 "
        "petitioner:3 respondent:2 statute:3 statutory:3 jurisdiction:3 hereby:2 whereas:3 herein:2 thereof:2 "
        "hereto:3 liability:2 indemnify:3 indemnification:3 arbitration:3 attorney:3 counsel:2 judgment:3 judge:2 "
        "law:1 laws:1 legal:1 licensor:3 licensee:3 clause:2 breach:2 termination:1 governing:1 parties:2 "
        "covenant:2 tribunal:3 litigation:3 lawsuit:3 affirmed:2 constitution:2 constitutional:2 copyright:2 "
        "infringement:2 warranties:1 confidential:1 enforceable:3 remedies:2 pursuant:2 certiorari:4 "
        "contrat:3 avocat:3 juge:3 demandeur:3 vertrag:3 gericht:3 richter:3 kläger:3 beklagte:3 anwalt:3 "
        "contrato:3 abogado:3 tribunale:3 договор:3 суд:3"
    ),
    "medical": _lexicon(
        "patient:3 patients:3 diagnosis:3 diagnoses:3 clinical:2 treatment:2 hospital:2 physician:3 surgery:3 "
        "surgical:3 symptoms:3 symptom:3 medication:3 medications:3 dose:2 mg:2 admission:1 blood:2 disease:2 "
        "cancer:3 tumor:3 therapy:2 chronic:2 acute:2 pain:2 examination:2 laboratory:1 prescribed:3 nurse:2 "
        "cardiac:3 pulmonary:3 abdominal:3 infection:2 allergies:3 mri:2 ecg:3 ekg:3 biopsy:3 oncology:3 "
        "medical:2 health:1 bmi:2 obesity:2 mmhg:3 pathology:3 radiology:3 renal:3 kidney:2 anesthesia:3 "
        "postoperative:3 diabetes:3 hypertension:3 heart:1 clinic:2 doctor:2 médecin:3 arzt:3 krankenhaus:3 "
        "maladie:3 santé:2 enfermedad:3 paciente:3 médico:3 diagnostic:3 diagnose:3 traitement:2 behandlung:2 "
        "patiente:3 patienten:3 пациент:3 患者:3"
    ),
    "financial": _lexicon(
        "invoice:3 revenue:3 revenues:3 income:2 earnings:3 profit:2 assets:3 liabilities:3 equity:2 balance:1 "
        "cash:2 tax:1 fiscal:3 quarterly:2 dividend:3 dividends:3 shareholders:2 stockholders:2 shares:1 eps:3 "
        "diluted:3 ebitda:3 payment:2 amount:1 subtotal:3 billing:2 bank:2 accounts:1 interest:1 loan:2 "
        "credit:1 debit:2 financial:2 finance:2 investment:2 investors:2 securities:2 sales:1 margin:2 "
        "expenses:1 budget:2 price:1 vat:2 gst:2 receivable:3 payable:3 inventories:2 liquidity:2 "
        "facture:3 rechnung:3 factura:3 montant:2 betrag:2 umsatz:3 bilan:3 bilanz:3 ingresos:3 banque:2 "
        "счет:2 收入:3 利润:3"
    ),
    "technical": _lexicon(
        "software:3 api:3 server:2 client:1 protocol:3 http:2 install:3 installation:2 configuration:3 "
        "configure:3 config:3 code:2 python:3 java:2 javascript:3 function:2 library:2 package:2 database:2 "
        "network:2 interface:2 algorithm:3 algorithms:3 data:1 system:1 version:2 bug:2 github:3 pip:3 "
        "command:2 parser:3 frame:1 frames:1 header:1 headers:1 implementation:2 specification:2 router:3 "
        "ethernet:3 tcp:3 websocket:4 browser:2 compiler:3 runtime:2 linux:3 documentation:2 repository:3 "
        "developer:2 developers:2 programming:3 hardware:2 cpu:3 cache:2 encryption:2 json:3 xml:3 html:2 "
        "css:2 sql:3 pdf:1 compile:3 source:1 vlan:3 logiciel:3 serveur:3 fichier:2 réseau:2 daten:1 "
        "netzwerk:2 programm:2 datei:2"
    ),
    "hr": _lexicon(
        "employee:3 employees:3 employer:2 employment:3 salary:3 salaries:2 wage:2 wages:2 benefits:2 "
        "hiring:3 hire:2 hired:2 recruit:3 recruiting:3 recruitment:3 candidate:3 candidates:3 resume:3 "
        "résumé:3 cv:2 interview:2 job:2 jobs:1 career:2 vacation:3 pto:3 leave:1 payroll:3 onboarding:3 "
        "promotion:2 staff:2 personnel:3 workplace:2 skills:2 qualifications:2 experience:1 responsibilities:2 "
        "titles:1 perks:3 holidays:1 parental:3 maternity:3 retirement:2 hr:3 compensation:1 severance:3 "
        "overtime:2 salaire:3 gehalt:3 mitarbeiter:3 employé:3 emploi:2 lohn:3 salario:3 empleado:3 "
        "резюме:3 вакансия:3 вакансии:3 зарплата:3 работодатель:3 работы:1 опыт:1"
    ),
}
_CJK_DOMAIN_TERMS: dict[str, tuple[str, ...]] = {
    "legal": ("法院", "判决", "判決", "合同", "契約", "裁判", "法律", "条例", "官報"),
    "medical": ("患者", "病院", "医院", "診断", "诊断", "治疗", "治療", "症状"),
    "financial": ("金額", "請求書", "发票", "收入", "利益", "利润", "会計", "财务", "株式"),
    "technical": ("技術", "技术", "软件", "ソフトウェア", "システム", "系统", "网络"),
    "hr": ("給与", "招聘", "採用", "员工", "従業員", "工资"),
}
#: Score (per 100 content tokens) below which no domain is confident enough and the answer is ``general``.
_GENERAL_FLOOR = 2.5


def _domain_raw_scores(text: str) -> dict[str, float]:
    tokens = _WORD_RE.findall(text[:SCAN_CHARS].lower())
    counts = Counter(tokens)
    total = max(len(tokens), 1)
    scores: dict[str, float] = {}
    for domain, lexicon in _DOMAIN_LEXICON.items():
        score = sum(weight * min(counts[word], 25) for word, weight in lexicon.items() if word in counts)
        score += 3 * sum(text[:SCAN_CHARS].count(term) for term in _CJK_DOMAIN_TERMS[domain])
        scores[domain] = 100.0 * score / total if tokens else 0.0
    return scores


# --- document type -------------------------------------------------------------------------------------------------

_TYPE_CUES: tuple[tuple[str, str | None, tuple[tuple[float, str], ...]], ...] = (
    # (document type, the domain it implies, ((weight, regex on the lower-cased head), ...))
    (
        "invoice",
        "financial",
        (
            (3, r"\binvoice\b"),
            (3, r"\btax invoice\b"),
            (3, r"\bbill(?:ed)? to\b"),
            (3, r"\bamount due\b|\bbalance due\b|\btotal due\b"),
            (4, r"\binvoice\s*(?:no|number|num|#|date|id)\b"),
            (3, r"\bfacture\b|\brechnung\b|\bfactura\b|請求書|发票|發票"),
            (2, r"\bsub-?total\b"),
            (1, r"\bqty\b|\bquantity\b|\bunit price\b"),
        ),
    ),
    (
        "receipt",
        "financial",
        (
            (3, r"\breceipt\b|\bquittung\b|\breçu\b"),
            (3, r"\bthank you for your (?:purchase|order)\b"),
        ),
    ),
    (
        "balance sheet",
        "financial",
        (
            (5, r"\bbalance sheets?\b|\bbilan\b|\bbilanz\b"),
            (4, r"\btotal assets\b"),
            (3, r"\btotal (?:current )?liabilities\b"),
            (2, r"\b(?:stockholders|shareholders)['\u2019]? equity\b"),
            (2, r"\b(?:non-)?current assets\b"),
        ),
    ),
    (
        "earnings release",
        "financial",
        (
            (3, r"\b(?:reports?|announces?|reported)\b[^.\n]{0,60}\b(?:results|earnings|sales)\b"),
            (2, r"\bnet income\b"),
            (3, r"\bper diluted share\b"),
            (2, r"\bearnings per share\b"),
            (1, r"\b(?:fourth|third|second|first)[ -]quarter\b|\bfiscal (?:year|quarter)\b"),
            (2, r"\bpress release\b"),
            (2, r"\bexhibit 99\b"),
        ),
    ),
    (
        "financial statement",
        "financial",
        (
            (4, r"\bstatements? of (?:cash flows|income|operations|changes in (?:equity|net assets))\b"),
            (4, r"\bincome statement\b|\bequity statement\b|\bcash flow statement\b"),
            (3, r"\bsegment (?:analysis|information|reporting)\b|\bkey performance indicators\b|\bkpis?\b"),
            (1, r"\b(?:half|full)[- ]year\b|\bmillions? of\b|\bin millions\b"),
        ),
    ),
    (
        "contract",
        "legal",
        (
            (1, r"\bagreement\b|\bcontract\b|\bcontrat\b|\bvertrag\b|\bcontrato\b"),
            (2, r"\bwhereas\b"),
            (4, r"\bin witness whereof\b"),
            (3, r"\bthe parties (?:hereto )?(?:agree|acknowledge)\b|\bagree to all terms\b"),
            (4, r"\b(?:is|are) (?:made and )?entered into\b|\bby and between\b"),
            (2, r"\beffective date\b"),
            (2, r"\bhereinafter\b|\bindemnif"),
            (3, r"\bterm(?:ination)? of (?:this )?agreement\b|\bgoverning law\b"),
        ),
    ),
    (
        "license",
        "legal",
        (
            (1, r"\blicen[cs]e\b"),
            (4, r"\blicensor\b"),
            (3, r"\blicensee\b"),
            (5, r"\bcreative commons\b|\bgnu general public license\b|\bpermission is hereby granted\b"),
        ),
    ),
    (
        "court opinion",
        "legal",
        (
            (2, r"\bplaintiffs?\b|\bdefendants?\b"),
            (3, r"\bappellants?\b|\bappellees?\b"),
            (1, r"\bpetitioners?\b|\brespondents?\b"),
            (3, r"\bsupreme court\b|\bcourt of appeals?\b|\bdistrict court\b"),
            (5, r"\bopinion of the court\b|\bcertiorari\b"),
            (2, r"\b(?:affirmed|reversed|remanded)\b"),
            (2, r"\bv\.\s"),
            (1, r"\bsyllabus\b|\bjustice\b"),
            (1, r"\b(?:decision|order) of the\b|\bboard\b.{0,40}\bdecision\b"),
        ),
    ),
    (
        "discharge summary",
        "medical",
        (
            (6, r"\bdischarge summary\b"),
            (4, r"\bdischarge diagnos[ie]s\b"),
            (3, r"\bdate of discharge\b|\bdischarge date\b"),
            (4, r"\bhospital course\b"),
            (3, r"\badmitting diagnos[ie]s\b|\badmission diagnos[ie]s\b"),
            (3, r"\bdischarge (?:instructions|medications|condition|disposition)\b"),
        ),
    ),
    (
        "clinical note",
        "medical",
        (
            (4, r"\bchief complaint\b"),
            (4, r"\bhistory of present illness\b"),
            (3, r"\bphysical exam(?:ination)?\b"),
            (2, r"\bassessment and plan\b|\bassessment/plan\b|\bimpression\b"),
            (3, r"\bpast (?:medical|surgical) history\b"),
            (3, r"\breview of systems\b"),
            (2, r"\bconsultation\b|\bconsult\b|\badmission note\b|\bprogress note\b"),
            (2, r"\bvital signs\b|\ballergies\b"),
        ),
    ),
    (
        "medical report",
        "medical",
        (
            (3, r"\becg\b|\bekg\b|\bholter\b"),
            (5, r"\b(?:pathology|radiology|laboratory|lab) report\b"),
            (2, r"\bheart rate\b|\bblood pressure\b"),
            (1, r"\bpatient\b"),
        ),
    ),
    (
        "research abstract",
        None,
        (
            (3, r"\babstract\b"),
            (4, r"(?m)^ab  - "),
            (3, r"\bbackground:|\bmethods:|\bresults:|\bconclusions?:"),
            (4, r"\bpmid\b"),
        ),
    ),
    (
        "research paper",
        None,
        (
            (2, r"\babstract\b"),
            (2, r"\bintroduction\b"),
            (1, r"\breferences\b"),
            (2, r"\bet al\."),
            (3, r"\brelated work\b"),
            (3, r"\bwe (?:propose|present|show|describe)\b"),
            (2, r"\bproceedings\b|\bconference\b"),
        ),
    ),
    (
        "resume",
        "hr",
        (
            (3, r"\bresume\b|\brésumé\b|\bcurriculum vitae\b|\bcv\b|\bрезюме\b"),  # noqa: RUF001 - Russian words
            (4, r"\bwork experience\b|\bprofessional experience\b|\bemployment history\b|\bопыт работы\b"),  # noqa: RUF001 - Russian words
            (2, r"\beducation\b|\bобразование\b"),  # noqa: RUF001 - Russian words
            (1, r"\bskills\b|\bнавыки\b"),  # noqa: RUF001 - Russian words
            (
                2,
                r"(?m)^(?:(?:work ?)?experience|work history|education|skills|certificates|"
                r"honors ?(?:& ?awards)?|awards|projects|languages)\s*$",
            ),
            (4, r"(?m)^basics\.|\bbasics\b|^name: .*\n(?:label|email):"),
        ),
    ),
    (
        "job posting",
        "hr",
        (
            (4, r"\bjob description\b|\bjob posting\b|\bjob offer\b"),
            (2, r"\bresponsibilities\b"),
            (2, r"\bqualifications\b|\brequirements\b"),
            (4, r"\bwe are looking for\b|\bwe['\u2019]re looking for\b|\bwe are hiring\b|\bjoin our team\b"),
            (2, r"\bfull[- ]time\b|\bpart[- ]time\b"),
            (1, r"\bsalary\b|\bremote\b"),
        ),
    ),
    (
        "policy",
        "hr",
        (
            (2, r"\bpolicy\b|\bpolicies\b|\bhandbook\b|\bguidelines\b"),
            (3, r"\bbenefits\b|\bperks\b"),
            (1, r"\bemployees?\b"),
            (2, r"\bpaid time off\b|\bvacation\b|\bparental leave\b|\bsabbatical\b|\bcareer (?:path|level)s?\b"),
        ),
    ),
    (
        "form",
        None,
        (
            (1, r"\bform\b|\bformulaire\b|\bformular\b"),
            (3, r"\bcheck (?:the )?(?:appropriate )?box\b|☐|□|\[ \]"),
            (2, r"_{6,}"),
            (5, r"\bcerfa\b|\bomb no\b|\bfor official use\b"),
            (2, r"\bplease (?:print|complete|fill)\b|\bsignature\b"),
            (2, r"\bform \d|\bcertificate\b|\bcertificat\b|\bbescheinigung\b"),
        ),
    ),
    (
        "readme",
        "technical",
        (
            (3, r"\breadme\b"),
            (2, r"\binstallation\b|\bgetting started\b|\bquick ?start\b"),
            (5, r"\bpip install\b|\bnpm install\b|\bbrew install\b|\bapt(?:-get)? install\b|\bcargo add\b"),
            (2, r"\busage\b|\bcontributing\b"),
            (2, r"```|\bgithub\b|\bbadge\b"),
        ),
    ),
    (
        "specification",
        "technical",
        (
            (6, r"\brequest for comments\b|\bstatus of this memo\b"),
            (3, r"\bspecification\b|\btechnical specification\b"),
            (1, r"\b(?:must|shall|should) not\b"),
            (3, r"\binternet[- ]draft\b|\brfc ?\d{3,4}\b|\bieee\b"),
            (2, r"\bconformance\b|\bnormative\b|\bschema\b"),
        ),
    ),
    (
        "manual",
        "technical",
        (
            (5, r"\buser(?:'s)? (?:manual|guide)\b|\bmanuel\b|\bhandbuch\b|\bmode d'emploi\b"),
            (5, r"\b(?:configuration|installation|administrator|reference) guide\b"),
            (1, r"\bchapter\b|\bchapitre\b|\bkapitel\b"),
            (1, r"\bclick\b|\bcliquez\b|\bstep \d\b"),
            (1, r"\bconfigure\b|\binterface\b|\bcommand\b"),
        ),
    ),
    (
        "news article",
        None,
        (
            (1, r"\bsaid\b|\baccording to\b|\breported\b"),
            (5, r"\((?:reuters|ap|afp|cnn)\)|\breuters\b|\bassociated press\b"),
            (2, r"\bcnn\b|\bbbc\b|\bnews\b|\bnewsroom\b|新闻|ニュース|記者|报道|報道"),
            (1, r"\bupdated\b|\bpublished\b"),
        ),
    ),
    (
        "email",
        None,
        (
            (3, r"(?m)^from: "),
            (2, r"(?m)^to: "),
            (3, r"(?m)^subject: "),
            (1, r"(?m)^(?:cc|sent|date): "),
            (3, r"(?m)^message-id: |\bmime-version\b"),
        ),
    ),
    (
        "letter",
        None,
        (
            (4, r"(?m)^\s*dear\b"),
            (3, r"\bsincerely\b|\byours (?:faithfully|truly|sincerely)\b|\b(?:kind|best) regards\b"),
            (4, r"\bcover letter\b|\bmadame, monsieur\b|\bsehr geehrte\b|\bestimad[oa]\b"),
        ),
    ),
    (
        "encyclopedia article",
        None,
        (
            (4, r"\bwikipedia\b"),
            (3, r"\(born\b"),
            (3, r"(?m)^toggle the table of contents"),
            (1, r"\[\d+\]"),
        ),
    ),
    (
        "lecture notes",
        None,
        (
            (4, r"\blecture\b|\bvorlesung\b|\bcours\b"),
            (1, r"\bexercises?\b|\bübung\b"),
        ),
    ),
    (
        "newsletter",
        None,
        (
            (4, r"\bnewsletter\b"),
            (3, r"\bunsubscribe\b"),
        ),
    ),
    (
        "report",
        None,
        (
            (2, r"\breport\b|\brapport\b|\bbericht\b"),
            (4, r"\bexecutive summary\b"),
            (2, r"\bfindings\b|\brecommendations\b"),
        ),
    ),
)
_COMPILED_CUES = tuple(
    (name, domain, tuple((weight, re.compile(pattern)) for weight, pattern in cues))
    for name, domain, cues in _TYPE_CUES
)
_TYPE_MIN_SCORE = 5.0
_FALLBACK_TYPE = "document"


def _document_type(doc: _Doc, title: str) -> tuple[str, str | None]:
    if "basics" in doc.json_keys:  # JSON Resume
        return "resume", "hr"
    if doc.json_keys & {"responsibilities", "qualifications", "hiringorganization"}:
        return "job posting", "hr"
    title_lower = title.lower()
    best, best_domain, best_score = _FALLBACK_TYPE, None, 0.0
    for name, domain, cues in _COMPILED_CUES:
        score = 0.0
        for weight, pattern in cues:
            score += weight * min(len(pattern.findall(doc.head_lower)), 3)
            if pattern.search(title_lower):
                score += 2 * weight
        if score > best_score:
            best, best_domain, best_score = name, domain, score
    if best_score < _TYPE_MIN_SCORE:
        return _FALLBACK_TYPE, None
    if best == "contract" and "agreement" in (title_lower or doc.head_lower[:2000]):
        best = "agreement"
    return best, best_domain


#: Document types that settle the domain: a resume is an HR document whatever the candidate does.
_DECISIVE_TYPES = frozenset(
    {
        "invoice",
        "receipt",
        "balance sheet",
        "earnings release",
        "financial statement",
        "court opinion",
        "discharge summary",
        "clinical note",
        "resume",
        "job posting",
    }
)


def _domain_hint(doc: _Doc, document_type: str, type_domain: str | None) -> str:
    if type_domain is not None and document_type in _DECISIVE_TYPES:
        return type_domain
    scores = _domain_raw_scores(doc.scan)
    if type_domain is not None:
        # the document type is strong evidence: it loses only to a domain with three times its lexicon score
        scores[type_domain] = max(3 * scores[type_domain], scores[type_domain] + _GENERAL_FLOOR)
    domain = max(scores, key=lambda name: scores[name])
    return domain if scores[domain] >= _GENERAL_FLOOR else "general"


# --- title ---------------------------------------------------------------------------------------------------------

_HEADER_RE = re.compile(r"^(from|to|cc|subject|date|sent|reply-to|message-id|mime-version|content-type):[ \t]*(.*)$")
_MD_HEADING_RE = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.M)
_SETEXT_RE = re.compile(r"^([^\n]{2,150})\n(?:=+|-{3,})[ \t]*$", re.M)
# Flattened JSON (``basics.name: Richard Hendriks``), as the pipeline's text extraction writes it.
_FLAT_JSON_TITLE_RE = re.compile(
    r"^(?:[\w-]+(?:\[\d+\])?\.){0,2}(?:title|name|headline|subject)\s*:\s*(\S[^\n]{1,150})$", re.M | re.I
)
_SKIP_LINE_RE = re.compile(
    r"^(?:exhibit\b|page\b|confidential\b|draft\b|copy\b|table of contents|toggle\b|skip to\b|menu\b|"
    r"https?://|www\.|--|\[!\[|!\[|\W+$|[\d\W]+$)",
    re.I,
)


_GENERIC_TITLES = frozenset(["document", "untitled", "untitled document", "home", "index", "page", "new document"])
_FILENAME_RE = re.compile(r"^\S+\.(?:html?|pdf|docx?|txt|aspx?|php)$", re.I)
_MEDLINE_TITLE_RE = re.compile(r"^TI  - (.+(?:\n {6}.+)*)", re.M)
_CENTERED_RE = re.compile(r"^( {6,})(\S.{2,70}?)[ \t]*$", re.M)


def _email_headers(text: str) -> dict[str, str]:
    """The RFC 822 header block at the top of a text, if there is one (lower-case names, raw values)."""
    headers: dict[str, str] = {}
    for line in text[:5000].split("\n")[:80]:
        if not line.strip():
            break
        match = _HEADER_RE.match(line.strip().lower())
        if match:
            headers.setdefault(match.group(1), line.split(":", 1)[1].strip())
    return headers if "subject" in headers and ({"from", "to", "date"} & headers.keys()) else {}


def _parse_email(raw: str, headers: dict[str, str]) -> tuple[dict[str, str], str]:
    """Decoded main headers and the plain-text body of a raw RFC 822 message."""
    message = email.message_from_string(raw[:MARKUP_CHARS], policy=email.policy.default)
    try:
        decoded = {name: str(message[name]) for name in ("from", "to", "cc", "subject", "date") if message[name]}
        part = message.get_body(preferencelist=("plain", "html"))
        body = part.get_content() if part is not None else ""
        if part is not None and part.get_content_type() == "text/html":
            body = _strip_html(body)
    except (LookupError, ValueError, TypeError, AttributeError, IndexError, KeyError):
        # the email package raises these on malformed messages: fall back to the raw text minus MIME noise
        _, _, body = raw.partition("\n\n")
        return headers, _MIME_LINE_RE.sub("", _MIME_HTML_PART_RE.sub("", body[:MARKUP_CHARS]))
    return decoded, body


def _markdown_inline(text: str) -> str:
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return text.replace("**", "").replace("__", "").replace("`", "").strip(" *_>#:-")


def _json_title(data: Any) -> str | None:
    name = _json_get(data, "basics", "name")
    if name:
        label = _json_get(data, "basics", "label")
        return f"{name} — {label}" if label else name
    for key in ("title", "name", "subject", "headline", "label"):
        value = _json_get(data, key)
        if value and len(value) <= TITLE_MAX:
            return value
    return None


def _title(doc: _Doc) -> str:
    candidates: list[str | None] = []
    if doc.json is not None:
        candidates.append(_json_title(doc.json))
    candidates.append(doc.email_headers.get("subject"))
    head = doc.text[:20_000]
    medline = _MEDLINE_TITLE_RE.search(head)
    if medline:
        candidates.append(medline.group(1))
    if "request for comments" in doc.head_lower or "internet-draft" in doc.head_lower:
        centered = [
            m.group(2)
            for m in _CENTERED_RE.finditer(doc.head[:4000])
            if "   " not in m.group(2) and abs(len(m.group(1)) - (72 - len(m.group(2))) / 2) <= 6
        ]
        candidates.extend(centered[:1])
    headings = [(len(m.group(1)), m.group(2)) for m in _MD_HEADING_RE.finditer(head)]
    if headings:
        candidates.append(min(headings, key=lambda item: item[0])[1])
    setext = _SETEXT_RE.search(head)
    if setext and setext.start() < 300:  # a setext heading deep in the text is a section, not the title
        candidates.append(setext.group(1))
    flat_json = _FLAT_JSON_TITLE_RE.search("\n".join(head.split("\n")[:40]))
    if flat_json:
        candidates.append(flat_json.group(1))
    if doc.html_title and doc.html_title.lower() not in _GENERIC_TITLES and not _FILENAME_RE.match(doc.html_title):
        candidates.append(doc.html_title)
    for candidate in candidates:
        if candidate and _WORD_RE.search(candidate):
            return _clip(_markdown_inline(candidate), TITLE_MAX) or "Untitled document"
    if doc.table:
        return _clip(", ".join(cell for cell in doc.table[0] if cell), TITLE_MAX)
    body = head
    if doc.email_headers:
        body = head.split("\n\n", 1)[-1]
    for line in body.split("\n")[:80]:
        line = _markdown_inline(_SPACE_RE.sub(" ", line).strip())
        if len(_WORD_RE.findall(line)) == 0 or sum(ch.isalpha() for ch in line) < 3 or _SKIP_LINE_RE.match(line):
            continue
        if _HEADER_RE.match(line.lower()) or _FILENAME_RE.match(line) or _is_date_line(line):
            continue
        if line.endswith((",", ":", ";")) or line.startswith("$schema"):  # a fragment or label, not a title
            continue
        if len(line) > 100:
            sentence = re.split(r"(?<=[.!?。])\s", line, maxsplit=1)[0]
            return _clip(sentence, 100)
        return _clip(line, TITLE_MAX)
    return "Untitled document"


# --- sentences and summary -----------------------------------------------------------------------------------------

_ABBREVIATIONS = _words(
    "mr mrs ms dr prof sr jr st inc ltd co corp no nos vs v e.g i.e etc fig al jan feb mar apr jun jul aug sep "
    "sept oct nov dec u.s u.k approx dept est gen gov rev sec art para cf ca p pp vol ed eds"
)
_SENTENCE_END_RE = re.compile(
    r"(?<=[.!?؟।])[\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[]?[^\W_a-z])"  # . ! ? then space, then no lower case
    r"|(?<=[\u3002\uff01\uff1f])"  # ideographic full stop, fullwidth ! and ?
)
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")
_FUNCTION_CHARS = frozenset(
    "的了是在和有我他她这那不也就都而及与之其或为以于上下中个们你吗呢吧"  # Chinese function characters
    "の、。にはをがでとてたしもなるれ"  # Japanese particles and kana endings
)


def _segments(text: str) -> Iterator[str]:
    """Paragraphs with their line breaks undone, and short title-like lines on their own."""
    for paragraph in re.split(r"\n[ \t]*\n", text):
        lines = [line.strip() for line in paragraph.split("\n") if line.strip()]
        buffer: list[str] = []
        for i, line in enumerate(lines):
            is_heading = len(line) < 60 and not re.search(r"[.!?:;,。]$", line)
            next_upper = i + 1 < len(lines) and lines[i + 1][:1].isupper()
            if (is_heading and next_upper and not buffer) or line.startswith(("* ", "- ", "• ")):
                if buffer:
                    yield " ".join(buffer)
                    buffer = []
                yield line.lstrip("*-• ")
            else:
                buffer.append(line)
        if buffer:
            yield " ".join(buffer)


def _split_sentences(segment: str) -> list[str]:
    pieces = [piece.strip() for piece in _SENTENCE_END_RE.split(segment) if piece and piece.strip()]
    merged: list[str] = []
    for piece in pieces:
        if merged:
            last_word = merged[-1].rsplit(" ", 1)[-1].rstrip(".").lower()
            if last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
                merged[-1] = f"{merged[-1]} {piece}"
                continue
        merged.append(piece)
    return merged


def _content_tokens(sentence: str, stopwords: frozenset[str]) -> list[str]:
    if _CJK_RE.search(sentence):
        chars = [ch for ch in sentence if _CJK_RE.match(ch) and ch not in _FUNCTION_CHARS]
        return [a + b for a, b in itertools.pairwise(chars)]
    return [t for t in (w.lower() for w in _WORD_RE.findall(sentence)) if len(t) > 2 and t not in stopwords]


def _is_prose(sentence: str) -> bool:
    if _CJK_RE.search(sentence):
        return 12 <= len(sentence) <= 300
    words = sentence.split()
    if not 6 <= len(words) <= 80 or _HEADER_RE.match(sentence.lower()):
        return False
    letters = sum(ch.isalpha() for ch in sentence)
    return letters >= 0.6 * len(sentence.replace(" ", "")) and sentence.count("|") < 3 and "=" not in sentence


def _table_summary(table: list[list[str]]) -> str:
    columns = ", ".join(cell for cell in table[0] if cell)
    first = "; ".join(row[0] for row in table[1:6] if row and row[0])
    return _clip(f"A table with {len(table[0])} columns ({columns}). First rows: {first}.", SUMMARY_MAX)


_CITATION_RE = re.compile(r"\[(?:\d+|citation needed|note \d+)\]")


def _drop_running_lines(text: str) -> str:
    """``text`` without its running headers and footers (lines that repeat three times or more) and citations."""
    counts = Counter(line.strip() for line in text.split("\n") if len(line.strip()) > 8)
    running = {line for line, count in counts.items() if count >= 3}
    if running:
        text = "\n".join(line for line in text.split("\n") if line.strip() not in running)
    return _CITATION_RE.sub("", text)


def _summary(doc: _Doc, stopwords: frozenset[str]) -> str:
    if doc.table:
        return _table_summary(doc.table)
    body = doc.text[:SUMMARY_CHARS]
    if doc.json is not None:
        for path in (("basics", "summary"), ("summary",), ("description",), ("abstract",)):
            value = _json_get(doc.json, *path)
            if value:
                body = value
                break
    elif doc.email_headers:
        body = body.split("\n\n", 1)[-1]
    body = _drop_running_lines(body)
    sentences: list[str] = []
    for segment in _segments(body):
        sentences.extend(s for s in _split_sentences(segment) if _is_prose(s))
        if len(sentences) >= 400:
            break
    if not sentences:
        lines = [line.strip() for line in body.split("\n") if sum(ch.isalpha() for ch in line) >= 3]
        return _clip(" ".join(lines[:6]), 300)
    tokens = [_content_tokens(s, stopwords) for s in sentences]
    freq = Counter(t for sentence_tokens in tokens for t in set(sentence_tokens))
    top = max(freq.values(), default=1)
    scored = []
    for index, sentence_tokens in enumerate(tokens):
        weight = sum(freq[t] / top for t in set(sentence_tokens)) / math.sqrt(1 + len(sentence_tokens))
        weight *= 1.25 if index < 3 else 1.0
        scored.append((weight, index))
    chosen = sorted(index for _, index in sorted(scored, key=lambda item: (-item[0], item[1]))[:3])
    while len(chosen) > 1 and len(" ".join(sentences[i] for i in chosen)) > SUMMARY_MAX:
        chosen.pop()
    return _clip(" ".join(sentences[i] for i in chosen), SUMMARY_MAX)


# --- dates ---------------------------------------------------------------------------------------------------------

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


# --- amounts -------------------------------------------------------------------------------------------------------

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


# --- emails, identifiers -------------------------------------------------------------------------------------------

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


# --- parties -------------------------------------------------------------------------------------------------------

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


# --- key phrases ---------------------------------------------------------------------------------------------------

_EXTRA_STOPWORDS = _words(
    "also may might must would could should will shall one two three first second new per via page pages "
    "http https www com org html amp nbsp etc use used using within without upon however therefore thus "
    "whether including include includes made make makes well like just get got said says see many much "
    "more most other others some such than then there here where when what who whom whose why how any "
    "each every both either neither yes only very can cannot into onto over under after before above below "
    "between during about against through while being having does did done doing his her him she he its "
    "our ours ourselves you your yours they them their theirs was were been has had have not nor but "
    "all are for the and that this with from which"
)
_PHRASE_BREAK_RE = re.compile(r"[.,;:!?()\[\]{}\"“”«»|/\\\n\t*#=<>]+|\s[-\u2013\u2014]\s")


def _stopwords_for(language: str) -> frozenset[str]:
    return _STOPWORDS.get(language, frozenset()) | _STOPWORDS["en"] | _EXTRA_STOPWORDS


def _key_phrases(doc: _Doc, language: str, stopwords: frozenset[str]) -> list[str]:
    counts: Counter[tuple[str, ...]] = Counter()
    surface: dict[tuple[str, ...], str] = {}
    first_seen: dict[tuple[str, ...], int] = {}
    if language in ("zh", "ja"):
        for run in re.findall(r"[\u30a0-\u30ff]{2,}|[\u3400-\u4dbf\u4e00-\u9fff]{2,}", doc.scan):
            grams = [run] if len(run) <= 4 else [run[i : i + 2] for i in range(len(run) - 1)]
            for gram in grams:
                if not any(ch in _FUNCTION_CHARS for ch in gram):
                    key = (gram,)
                    counts[key] += 1
                    surface.setdefault(key, gram)
                    first_seen.setdefault(key, len(first_seen))
    else:
        text = _URL_RE.sub(" , ", _EMAIL_RE.sub(" , ", doc.scan))
        for fragment in _PHRASE_BREAK_RE.split(text):
            run: list[str] = []
            for word in [*_WORD_RE.findall(fragment), ""]:
                lower = word.lower()
                if word and len(lower) > 2 and lower not in stopwords:
                    run.append(word)
                    continue
                for n in (1, 2, 3):
                    for i in range(len(run) - n + 1):
                        words = run[i : i + n]
                        key = tuple(w.lower() for w in words)
                        counts[key] += 1
                        if key not in surface:
                            surface[key] = " ".join(words)
                            first_seen[key] = len(first_seen)
                run = []
    min_count = 2 if sum(counts.values()) > 60 else 1
    scored = sorted(
        ((count * (1 + 0.6 * (len(key) - 1)), key) for key, count in counts.items() if count >= min_count),
        key=lambda item: (-item[0], first_seen[item[1]]),
    )
    chosen: list[tuple[str, ...]] = []
    for _, key in scored:
        words = set(key)
        if any(words <= set(other) for other in chosen):
            continue
        # a longer phrase replaces a shorter one it contains when it is about as frequent
        contained = [other for other in chosen if set(other) < words]
        if contained:
            if all(counts[key] >= 0.5 * counts[other] for other in contained):
                chosen = [other for other in chosen if other not in contained]
            else:
                continue
        chosen.append(key)
        if len(chosen) >= MAX_KEY_PHRASES:
            break
    out = []
    for key in chosen:
        phrase = surface[key]
        if phrase.isupper() and len(phrase) > 5:
            phrase = phrase.lower()
        out.append(_clip(phrase, TEXT_MAX))
    return out


# --- entry point ---------------------------------------------------------------------------------------------------


def extract_insights(text: str) -> dict[str, Any]:
    """Everything the extraction tool returns, computed from ``text`` (camelCase keys, schema-valid)."""
    doc = _Doc(text or "")
    language = detect_language(doc.scan)
    date_spans = _date_spans(doc, language)
    stopwords = _stopwords_for(language)
    title = _title(doc)
    document_type, type_domain = _document_type(doc, title)
    if doc.table and document_type != _FALLBACK_TYPE:
        title = _clip(f"{document_type.capitalize()}: {title}", TITLE_MAX)
    identifiers = _identifiers(doc, document_type)
    if document_type == "invoice" and "invoice" not in title.lower():
        number = next((item["value"] for item in identifiers if item["kind"] == "invoice number"), None)
        title = f"Invoice {number}" if number else "Invoice"
    return {
        "documentType": document_type,
        "title": title,
        "summary": _summary(doc, stopwords),
        "language": language,
        "domainHint": _domain_hint(doc, document_type, type_domain),
        "dates": _dates(date_spans),
        "amounts": _amounts(doc, language, date_spans),
        "parties": _parties(doc),
        "identifiers": identifiers,
        "emails": _emails(doc),
        "keyPhrases": _key_phrases(doc, language, stopwords),
    }
