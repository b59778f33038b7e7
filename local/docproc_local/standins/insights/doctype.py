"""Document-type cues of the local extractor, and the domain hint they give."""

import re

from docproc_local.standins.insights.language import _GENERAL_FLOOR, _domain_raw_scores
from docproc_local.standins.insights.text import _Doc

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
