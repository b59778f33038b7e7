"""Which offered class tool fits a document: weighted cues per bundled class, word overlap for unknown ones.

Each bundled class has cues (regular expressions on the lower-cased head of the text, each counted at most three
times) in the languages the pipeline meets most (en de fr es it nl pt, with a few others where they are cheap).
A cue that also matches the first lines (the title) counts double. A class a user added (a ``record_<name>`` tool
this module has no cues for) is scored by how much of its name, description and field names occur in the text.
The best-scoring offered class wins; below :data:`MIN_SCORE` the document is ``other`` when that is on offer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

HEAD_CHARS = 8_000
TITLE_LINES = 4
MIN_SCORE = 5.0


def _cues(*pairs: tuple[float, str]) -> tuple[tuple[float, re.Pattern[str]], ...]:
    return tuple((weight, re.compile(pattern, re.M)) for weight, pattern in pairs)


CUES: dict[str, tuple[tuple[float, re.Pattern[str]], ...]] = {
    "invoice": _cues(
        (4, r"\binvoice\b|\brechnung\b|\bfacture\b|\bfactura\b|\bfattura\b|\bfactuur\b|\bfatura\b|сч[её]т|請求書|发票"),
        (
            5,
            r"\binvoice\s*(?:no|number|nr|#|date)|rechnungs(?:nummer|nr|datum)|facture n|n° de facture|"
            r"n(?:ú|u)mero de factura|factura n|fattura n|numero fattura|factuurnummer|factuurdatum|fatura n",
        ),
        (4, r"\bbill(?:ed)? to\b|rechnungsempfänger|factur(?:é|e) à|facturar a|\bintestat|\bfactuur aan"),
        (3, r"\b(?:amount|total|balance) due\b|zahlbar bis|\bfällig|échéance|vencimiento|scadenza|vervaldatum"),
        (2, r"\bsubtotal\b|zwischensumme|sous-total|\bnetto\b|\bmwst\b|\bust\b|\btva\b|\biva\b|\bbtw\b|\bvat\b"),
        (2, r"\bpayment terms\b|zahlungsbedingungen|conditions de paiement|\biban\b"),
    ),
    "receipt": _cues(
        (
            5,
            r"\breceipt\b|\bquittung\b|\bkassenbon\b|\bkassenbeleg\b|\breçu\b|\brecibo\b|\bricevuta\b|\bscontrino\b|"
            r"\bkassabon\b|\bbon\b n|\btalão\b|\bbeleg(?:-?nr)?\b|\bkassenzettel\b|\bsales receipt\b",
        ),
        (3, r"\bchange\b|\bwechselgeld\b|\brückgeld\b|\brendu\b|\bcambio\b|\bresto\b|\bwisselgeld\b|\btroco\b"),
        (3, r"\b(?:paid|bezahlt|payé|pagado|pagato|betaald|pago)\b|\bcash\b|\bbar\b|\bespèces\b|\befectivo\b"),
        (2, r"\b(?:visa|mastercard|amex|maestro|girocard|ec-karte|carte bancaire|apple pay|contactless)\b"),
        (
            2,
            r"\bthank you for (?:your (?:purchase|order|visit)|shopping)\b|vielen dank für ihren einkauf|"
            r"merci de votre visite|gracias por su compra",
        ),
        (2, r"\bticket\b|\bcashier\b|\bkassierer|\bcaisse\b|\bterminal\b|\bauth(?:orization)? code\b"),
    ),
    "contract": _cues(
        (
            4,
            r"\bagreement\b|\bvertrag\b|\bvereinbarung\b|\bcontrat\b|\bcontrato\b|\bcontratto\b|\bovereenkomst\b|"
            r"\bcontract\b|\bnda\b|\blease\b|договор",
        ),
        (
            5,
            r"\bwhereas\b|\bnow,? therefore\b|\bin witness whereof\b|\bthe parties\b|\bdie parteien\b|"
            r"\bles parties\b|\blas partes\b|\ble parti\b|\bpartijen\b|\bas partes\b",
        ),
        (
            4,
            r"\bgoverned by\b|\bgoverning law\b|\bunterliegt\b.{0,30}\brecht\b|\brégi par\b|\bse regirá\b|"
            r"\bregolato dal\b|\bbeheerst door\b|\bregido pel",
        ),
        (
            3,
            r"\bby and between\b|\bentered into\b|\bhereinafter\b|\bnachfolgend\b|\bci-après\b|\ben adelante\b|"
            r"\bdi seguito\b|\bhierna\b|\bdoravante\b",
        ),
        (2, r"\bterm(?:ination)?\b|\bkündigung\b|\brésiliation\b|\brescisión\b|\brecesso\b|\bopzegging\b"),
        (2, r"\bindemnif|\bconfidential|\bliability\b|\bhaftung\b|\bresponsabilité\b"),
    ),
    "resume": _cues(
        (
            5,
            r"\bcurriculum vitae\b|\brésumé\b|\bresume\b|\blebenslauf\b|\bcv\b|\bhoja de vida\b|\bbasics\.name\b|"
            r"\"basics\"\s*:",
        ),
        (
            4,
            r"^\W*(?:work |professional )?experience\W*$|^\W*employment(?: history)?\W*$|^\W*berufserfahrung\W*$|"
            r"^\W*expérience(?:s)? professionnelle|^\W*experiencia(?: laboral| profesional)?\W*$|"
            r"^\W*esperienz[ae](?: lavorativ[ae])?\W*$|^\W*werkervaring\W*$|^\W*experiência|\bwork\[\d+\]\.",
        ),
        (
            4,
            r"^\W*education\W*$|^\W*ausbildung\W*$|^\W*formation\W*$|^\W*educación\W*$|^\W*formación\W*$|"
            r"^\W*istruzione\W*$|^\W*opleiding(?:en)?\W*$|^\W*formação\W*$|\beducation\[\d+\]\.",
        ),
        (
            3,
            r"^\W*(?:technical |core )?skills\W*$|^\W*kenntnisse\W*$|^\W*fähigkeiten\W*$|^\W*compétences\W*$|"
            r"^\W*habilidades\W*$|^\W*competenze\W*$|^\W*vaardigheden\W*$|\bskills\[\d+\]\.",
        ),
        (2, r"\blinkedin\b|\bgithub\.com/|\breferences available\b"),
    ),
    "clinical_note": _cues(
        (4, r"\bpatient\b|\bpatientin\b|\bpaciente\b|\bpaziente\b|\bpatiënt\b|пациент|患者"),
        (
            4,
            r"\bdiagnos[ie]s\b|\bdiagnose\b|\bdiagnostic\b|\bdiagnóstico\b|\bdiagnosi\b|\bimpression\b|"
            r"\bassessment(?: and plan)?\b|\bbefund\b|\bbeurteilung\b",
        ),
        (
            5,
            r"\bhpi\b|\bhistory of present illness\b|\bchief complaint\b|\bnkda\b|\breview of systems\b|"
            r"\bdischarge summary\b|\banamnese\b|\bentlassungsbrief\b|\barztbrief\b|\bcompte rendu\b",
        ),
        (
            3,
            r"\bmedications?\b|\bmedikation\b|\bmédicaments?\b|\bmedicamentos?\b|\bfarmaci\b|\bmedicatie\b|"
            r"\ballerg(?:ies|ien|ias|ie)\b",
        ),
        (3, r"\bvitals?\b|\bblood pressure\b|\bbp\s*:?\s*\d{2,3}/\d{2,3}|\bheart rate\b|\bmmhg\b|\bmg\b|\bspo2\b"),
    ),
    "financial_statement": _cues(
        (
            5,
            r"\bbalance sheets?\b|\bstatements? of (?:financial position|operations|income|cash flows)\b|"
            r"\bincome statement\b|\bcash flow statement\b|\bprofit and loss\b|\bbilanz\b|"
            r"\bgewinn- und verlustrechnung\b|\bbilan\b|\bcompte de résultat\b|\bbalance general\b|"
            r"\bestado de resultados\b|\bstato patrimoniale\b|\bconto economico\b|\bjaarrekening\b|\bbalanço\b",
        ),
        (
            4,
            r"\btotal assets\b|\btotal liabilities\b|\btotal (?:stockholders|shareholders)['\u2019]? equity\b|"
            r"\bsumme aktiva\b|\bbilanzsumme\b|\btotal (?:de l')?actif\b|\btotal activo\b|\btotale attivo\b",
        ),
        (
            4,
            r"\bnet income\b|\bnet earnings\b|\bearnings per share\b|\bjahresüberschuss\b|\brésultat net\b|"
            r"\bbeneficio neto\b|\butile netto\b|\bnettowinst\b|\blucro líquido\b",
        ),
        (
            3,
            r"\bearnings release\b|\b(?:first|second|third|fourth) quarter (?:results|\d{4})\b|"
            r"\bfiscal (?:year|\d{4})\b|"
            r"\bquarterly results\b",
        ),
        (
            3,
            r"\(in (?:millions|thousands|billions)|\bin (?:millions|thousands) of\b|\bin mio\b|\bteur\b|"
            r"\ben millions\b|\ben miles\b|\bin migliaia\b",
        ),
        (2, r"\brevenues?\b|\bnet sales\b|\bumsatzerlöse\b|\bchiffre d'affaires\b|\bingresos\b|\bricavi\b|\bomzet\b"),
    ),
    "form": _cues(
        (
            4,
            r"\bform\s+(?:no\.?\s*)?[a-z]?\d[\w-]*\b|\bformulaire\b|\bformular\b|\bformulario\b|\bmodulo\b|"
            r"\bcerfa\b|\bformulier\b|\bform 10\d\d|\bomb no\b",
        ),
        # a box with its label on the same line ("☐ Yes", "[x] married"); a box alone is a bullet or a proof's end
        (3, r"(?:☐|☑|☒|□|■|\[ ?[x ]?\]|\(\s?\))[ \t]*[^\W\d_]"),
        (3, r"_{5,}|\.{8,}"),
        (
            3,
            r"\bplease (?:print|complete|fill)|\bfor official use\b|\bsignature of\b|\bunterschrift\b|"
            r"\bcochez\b|\bankreuzen\b|\bmarque con\b",
        ),
        (2, r"^[^\n:]{2,40}:[ \t]*(?:_{3,}|\.{3,})?[ \t]*$"),
        (2, r"\bapplication\b|\bantrag\b|\bdemande\b|\bsolicitud\b|\bdomanda\b|\baanvraag\b|\bregistration\b"),
    ),
    "letter": _cues(
        (
            5,
            r"^\s*(?:dear|sehr geehrte|liebe[rs]?|cher|chère|madame|monsieur|estimad[oa]s?|querid[oa]|"
            r"gentile|egregi[oa]|caro|cara|geachte|beste|prezad[oa])\b",
        ),
        (
            4,
            r"\bsincerely\b|\bregards\b|\byours (?:faithfully|truly|sincerely)\b|\bmit freundlichen grüßen\b|"
            r"\bcordialement\b|\batentamente\b|\bdistinti saluti\b|\bcordiali saluti\b|\bmet vriendelijke groet|"
            r"\batenciosamente\b|\bsalutations\b",
        ),
        (4, r"^(?:from|von|de|van|da):[ \t]*\S.*$"),
        (3, r"^(?:to|an|à|a|aan|para|cc):[ \t]*\S.*$"),
        (4, r"^(?:subject|betreff|objet|asunto|oggetto|onderwerp|assunto|re):[ \t]*\S"),
        (2, r"\bmemo(?:randum)?\b"),
    ),
    "report": _cues(
        (4, r"^\W*(?:abstract|zusammenfassung|résumé|resumen|sommario|samenvatting|resumo)\W*$|\babstract\b"),
        (3, r"^\W*(?:\d+\.?\s+)?(?:introduction|einleitung|introducción|introduzione|inleiding|introdução)\W*$"),
        (
            3,
            r"^\W*(?:\d+\.?\s+)?(?:conclusions?|methods?|results|discussion|references|bibliography|"
            r"fazit|literatur)\W*$",
        ),
        (
            3,
            r"\breport\b|\bbericht\b|\brapport\b|\binforme\b|\brelazione\b|\brelatório\b|\bwhite paper\b|"
            r"\bexecutive summary\b",
        ),
        (
            3,
            r"\buser(?:'s)? (?:guide|manual)\b|\bhandbook\b|\bhandbuch\b|\bmanuel\b|\breadme\b|\binstallation\b|"
            r"\bgetting started\b|\brequest for comments\b|\btable of contents\b|\binhaltsverzeichnis\b",
        ),
        (2, r"^#{1,3} \S|^\d+(?:\.\d+)+\s+[A-Z]|^chapter \d|^section \d"),
        (2, r"\bet al\.|\bdoi\b|\barxiv\b|\bpublished\b|\bauthors?\b|\bversion \d"),
    ),
}
#: Cues that must be present for a class to win at all (its score is halved without them).
REQUIRED: dict[str, re.Pattern[str]] = {
    "invoice": CUES["invoice"][0][1],
    "receipt": re.compile("|".join(pattern.pattern for _, pattern in CUES["receipt"][:3])),
    "financial_statement": re.compile(
        CUES["financial_statement"][0][1].pattern
        + "|"
        + CUES["financial_statement"][1][1].pattern
        + "|"
        + CUES["financial_statement"][2][1].pattern
        + "|"
        + CUES["financial_statement"][3][1].pattern
    ),
}

_STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "from",
        "that",
        "this",
        "any",
        "other",
        "record",
        "document",
        "class",
        "name",
        "type",
        "date",
        "number",
        "value",
        "field",
        "fields",
        "given",
        "when",
        "what",
        "which",
        "their",
        "about",
        "into",
        "over",
        "only",
        "also",
        "each",
    ]
)
_WORD_RE = re.compile(r"[^\W\d_]{3,}")


@dataclass(frozen=True)
class ToolInfo:
    """What classification needs of a tool: the class it stands for and the words that describe it."""

    tool_name: str
    class_name: str
    description: str
    field_names: tuple[str, ...]


def _count(pattern: re.Pattern[str], text: str) -> int:
    count = 0
    for _ in pattern.finditer(text):
        count += 1
        if count >= 3:
            break
    return count


def score_known(class_name: str, head: str, title: str) -> float:
    score = 0.0
    for weight, pattern in CUES[class_name]:
        score += weight * _count(pattern, head)
        if pattern.search(title):
            score += weight
    required = REQUIRED.get(class_name)
    if required is not None and not required.search(head):
        score /= 2
    return score


def _words(texts: Iterable[str]) -> set[str]:
    words: set[str] = set()
    for text in texts:
        words.update(w for w in _WORD_RE.findall(text.replace("_", " ").lower()) if w not in _STOP)
    return words


def score_unknown(tool: ToolInfo, head: str) -> float:
    """Word overlap between the text and a class the cues do not know: name counts most, then field labels."""
    name_words = _words([tool.class_name])
    phrase = tool.class_name.replace("_", " ").lower()
    score = 6.0 if phrase in head else 2.0 * sum(1 for w in name_words if re.search(rf"\b{re.escape(w)}", head))
    labels = 0
    for field_name in tool.field_names:
        label = field_name.replace("_", " ").lower()
        if re.search(rf"(?m)^[ \t*\-]*{re.escape(label)}\s*[:#]", head):
            labels += 2
        elif label in head:
            labels += 1
    description = _words([tool.description]) - name_words
    found = sum(1 for w in description if w in head)
    return score + min(labels, 10) + min(found * 0.5, 4.0)


def choose(tools: Sequence[ToolInfo], text: str, *, json_resume: bool = False) -> tuple[ToolInfo, float]:
    """The offered tool that fits ``text`` best and a confidence for that choice."""
    head = text[:HEAD_CHARS].lower()
    title = "\n".join([line for line in head.split("\n") if line.strip()][:TITLE_LINES])
    scores: list[tuple[float, int, ToolInfo]] = []
    for order, tool in enumerate(tools):
        if tool.class_name == "other":
            score = MIN_SCORE - 0.01
        elif tool.class_name in CUES:
            score = score_known(tool.class_name, head, title)
            if tool.class_name == "resume" and json_resume:
                score += 20
        else:
            score = score_unknown(tool, head)
        scores.append((score, -order, tool))
    scores.sort(key=lambda item: (item[0], item[1]), reverse=True)
    best_score, _, best = scores[0]
    runner_up = scores[1][0] if len(scores) > 1 else 0.0
    margin = (best_score - runner_up) / max(best_score, 1.0)
    return best, round(min(0.9, 0.4 + 0.5 * margin), 2)
