"""Language detection and domain lexicons of the local extractor."""

import re
from collections import Counter

from docproc_local.standins.insights.text import _WORD_RE, LANGUAGE_CHARS, SCAN_CHARS

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
