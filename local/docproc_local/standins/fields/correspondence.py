"""Letters, memos and e-mails (sender, recipients, date, subject, purpose) and reports, papers and manuals (title,
authors, organisation, publication date, number, topics).

E-mails are read from their headers (``From:`` / ``To:`` / ``Cc:`` / ``Subject:`` / ``Date:``, also as the
pipeline writes them, and "Von:" / "De :" / "Objet :" ...); letters from their layout: the salutation names the
recipient, the name under the sign-off is the sender, a line holding only a date near the top is the letter's date.
"""

from __future__ import annotations

import re

from docproc_local.standins.fields import values
from docproc_local.standins.fields.context import Context, Filled
from docproc_local.standins.fields.source import Hit, Source, clean
from docproc_local.standins.insights.dates import _is_date_line
from docproc_local.standins.insights.parties import _DEAR_RE, _SIGNOFF_RE

LETTER_FIELDS = frozenset(["sender", "recipients", "date", "subject", "purpose"])
REPORT_FIELDS = frozenset(["report_title", "authors", "organisation", "publication_date", "report_number", "topics"])

_FROM = values.label_pattern(r"from|von|de|van|da|sender|absender|expéditeur|remitente|mittente|afzender")
_TO = values.label_pattern(r"to|an|à|a|aan|para|recipients?|empfänger|destinataires?|destinatarios?|destinatari")
_CC = values.label_pattern(r"cc|kopie|copie")
_SUBJECT = values.label_pattern(r"subject|betreff|objet|asunto|oggetto|onderwerp|assunto|re|concerning|regarding")
_DATE = re.compile(r"^(?:date|sent|datum|gesendet|envoyé|fecha|enviado|data|inviato|verzonden)\b", re.I)
_SALUTATION_RE = re.compile(
    r"^[ \t]*(?:Dear|Hello|Hi|Sehr geehrte[rs]?|Liebe[rs]?|Hallo|Cher|Chère|Bonjour|"
    r"Estimad[oa]s?|Querid[oa]|Hola|Gentile|Egregi[oa]|Car[oa]|Geachte|Beste|Prezad[oa]|Caro)[ \t]+"
    r"(?P<v>[^,\n:!]{2,60})",
    re.M,
)
_SIGNOFF_EXTRA_RE = re.compile(
    r"\b(?:Mit freundlichen Grüßen|Viele Grüße|Beste Grüße|Cordialement|Bien à vous|Atentamente|Saludos|"
    r"Cordiali saluti|Distinti saluti|Met vriendelijke groet(?:en)?|Atenciosamente|Cumprimentos|Thanks|Thank you|"
    r"Best|Cheers)[,.!]?[ \t]*\n+[ \t]*(?P<v>[A-ZÄÖÜÉ][^\n]{2,60})"
)
_ADDRESS_NAME_RE = re.compile(r'^\s*"?(?P<n>[^"<>,]+?)"?\s*<(?P<e>[^>]+)>\s*$')
_AUTHORS_LABEL = values.label_pattern(
    r"authors?|by|written by|prepared by|verfasser|autor(?:en|es)?|auteurs?|"
    r"autori|auteurs|editors?|contributors?"
)
_ORG_WORDS = re.compile(
    r"\b(?:university|universit\w+|institute|institut\w*|laboratory|lab|agency|department|ministry|ministère|"
    r"ministerium|foundation|stiftung|fondation|association|society|council|committee|commission|bureau|office|"
    r"center|centre|inc|ltd|llc|gmbh|corporation|corp|company|organi[sz]ation|group|bank|ietf|w3c|iso|who|oecd|"
    r"bundes\w+)\b",
    re.I,
)
_NUMBER_RE = re.compile(
    r"\b(?P<v>RFC\s?\d{3,5}|(?:report|technical report|tr|document|doc|docket|publication|bulletin)\s*(?:no\.?|number|"
    r"#|nr\.?)\s*:?\s*[A-Z0-9][\w./\-]{1,30}|(?:version|v)\s?\d+(?:\.\d+){1,3}|ISBN[:\s]*[\d\-X]{10,17})\b",
    re.I,
)
_PUBLISHED = re.compile(
    r"published|publication date|date|released?|issued|veröffentlicht|publié|publicado|"
    r"pubblicato|gepubliceerd|stand|version date|last updated|updated",
    re.I,
)
_PERSON_RE = re.compile(r"^[A-ZÄÖÜÉ][\w'\-]+(?:\s+(?:[A-Z]\.|[A-ZÄÖÜÉ][\w'\-]+|van|von|de|der|da|di|la)){1,3}$")


def _names(value: str) -> list[str]:
    out = []
    for part in re.split(r"[;,]\s*(?![^<]*>)", value):
        match = _ADDRESS_NAME_RE.match(part)
        name = f"{match.group('n').strip()} <{match.group('e')}>" if match else clean(part)
        if name:
            out.append(name)
    return out


def _header_hits(source: Source, pattern: re.Pattern[str]) -> list[Hit]:
    for match in pattern.finditer(source.text[:5000]):
        line = source.line_at(match.start())
        rest = source.text[match.end() : line.end]
        if line.number > 40 or not re.match(r"[ \t]*[:\uff1a]", rest):
            continue
        raw = rest.split(":", 1)[1] if ":" in rest else rest.split("\uff1a", 1)[1]
        hits = []
        for name in _names(raw)[:20]:
            position = source.find(name.split(" <")[0], line.start)
            position = position if position >= 0 else line.start
            end = source.find(">", position)
            end = end + 1 if "<" in name and 0 <= end <= line.end else min(line.end, position + len(name))
            hits.append(Hit(name, 0.9, position, end))
        if hits:
            return hits
    return []


_TITLE_LINE_RE = re.compile(
    r"^[ \t]*(?:Herrn?|Frau|Mr\.?|Mrs\.?|Ms\.?|Monsieur|Madame|M\.|Mme|Señora?|Sr\.|Sra\.|Sig\.(?:ra)?|Dhr\.|Mevr\.)"
    r"[ \t]*$",
    re.M,
)


def _addressee(source: Source) -> Hit | None:
    """The name under a line holding only a form of address ("Herrn" / "Frau" / "Mr."), in the address block."""
    for match in _TITLE_LINE_RE.finditer(source.text[:3000]):
        nxt = next(source.next_lines(source.line_at(match.start()), 1), None)
        if nxt is not None and 2 <= len(nxt.stripped.split()) <= 5 and not re.search(r"\d", nxt.text):
            return values.line_of(source, nxt, clean(nxt.text), 0.75)
    return None


def fill_letter(ctx: Context) -> Filled:
    source = ctx.source
    out: Filled = {}
    sender = _header_hits(source, _FROM)
    if sender:
        out["sender"] = sender[0]
    else:
        sign = _SIGNOFF_RE.search(source.text) or _SIGNOFF_EXTRA_RE.search(source.text)
        if sign is not None:
            name = clean(sign.group(1) if sign.re is _SIGNOFF_RE else sign.group("v"), 80)
            start = source.find(name, sign.start())
            out["sender"] = Hit(
                name, 0.7, start if start >= 0 else sign.start(), (start if start >= 0 else sign.start()) + len(name)
            )
    recipients = _header_hits(source, _TO) + _header_hits(source, _CC)
    addressee = _addressee(source) if not recipients else None
    if addressee is not None:
        recipients = [addressee]
    if not recipients:
        dear = _SALUTATION_RE.search(source.text[:8000]) or _DEAR_RE.search(source.text[:8000])
        if dear is not None:
            name = clean(dear.group(1) if dear.re is _DEAR_RE else dear.group("v"), 60)
            generic = re.fullmatch(
                r"(?:sir|madam|sir or madam|sirs|all|team|colleagues|customer|friends?|"
                r"damen und herren|madame, monsieur|monsieur|madame|señor(?:es)?|signori)",
                name,
                re.I,
            )
            if name and not generic:
                start = source.find(name, dear.start())
                recipients = [Hit(name, 0.7, start, start + len(name))]
    if recipients:
        out["recipients"] = recipients
    date = _letter_date(ctx)
    if date is not None:
        out["date"] = date
    for match in _SUBJECT.finditer(source.text[:5000]):
        text, _, end = values.after_label(source, match, below=False, limit=200)
        if text and source.line_at(match.start()).number <= 40:
            out["subject"] = Hit(text, 0.9, match.start(), end)
            break
    purpose = _purpose(source)
    if purpose is not None:
        out["purpose"] = purpose
    return out


def _letter_date(ctx: Context) -> Hit | None:
    source = ctx.source
    for line in source.lines[:40]:
        if _DATE.match(line.stripped):
            hit = values.date_after(source, ctx.language, line.start, limit=len(line.text))
            if hit is not None and hit.start < line.end:
                return Hit(hit.iso, 0.9, line.start, hit.end)
    for line in source.lines[:30]:
        text = line.stripped
        if text and (_is_date_line(text) or (re.match(r"^[A-ZÄÖÜ][\w\s.-]{1,30},\s", text) and len(text) < 50)):
            hit = values.date_after(source, ctx.language, line.start, limit=len(line.text))
            if hit is not None and hit.start < line.end:
                return Hit(hit.iso, 0.75, hit.start, hit.end)
    return None


def _purpose(source: Source) -> Hit | None:
    body_start = 0
    salutation = _SALUTATION_RE.search(source.text[:8000])
    if salutation is not None:
        body_start = source.line_at(salutation.start()).end
    else:
        blank = source.text.find("\n\n", 0, 5000)
        body_start = blank if blank >= 0 else 0
    text = source.text[body_start : body_start + 2000]
    position = 0
    for piece in re.split(r"(?<=[.!?])\s+|\n", text):
        start = text.find(piece, position)
        position = start + len(piece)
        sentence = clean(piece, 200)
        if (
            len(sentence) >= 25
            and len(sentence.split()) >= 5
            and sentence[-1:] in ".!?"
            and not _HEADERISH.match(piece)
        ):
            begin = body_start + start + (len(piece) - len(piece.lstrip()))
            return Hit(sentence, 0.5, begin, begin + len(sentence))
    return None


_HEADERISH = values.label_pattern(r"from|to|subject|date|cc")


def fill_report(ctx: Context) -> Filled:
    source = ctx.source
    out: Filled = {}
    title = str(ctx.insights.get("title") or "")
    title_hit = _find_title(source, title)
    if title_hit is not None:
        out["report_title"] = title_hit
    authors = _authors(source, title_hit)
    if authors:
        out["authors"] = authors
    organisation = _organisation(source, title_hit)
    if organisation is not None:
        out["organisation"] = organisation
    published = values.labelled_date(source, ctx.language, _PUBLISHED)
    if published is None:
        first = next((d for d in values.dates(source, ctx.language) if d.full and d.start < 3000), None)
        published = Hit(first.iso, 0.45, first.start, first.end) if first else None
    if published is not None:
        out["publication_date"] = published
    number = _NUMBER_RE.search(source.text[:6000])
    if number is not None:
        out["report_number"] = Hit(clean(number.group("v")), 0.75, number.start(), number.end())
    topics = []
    for phrase in ctx.insights.get("keyPhrases", [])[:6]:
        hit = source.hit_for(phrase, phrase, 0.45)
        if hit is not None:
            topics.append(hit)
    if topics:
        out["topics"] = topics
    return out


def _find_title(source: Source, title: str) -> Hit | None:
    for candidate in (title, title.rstrip("…").strip()):
        if candidate and len(candidate) >= 3:
            index = source.find(candidate)
            if index >= 0:
                return Hit(source.text[index : index + len(candidate)].strip(), 0.75, index, index + len(candidate))
    for line in source.lines[:15]:
        text = clean(line.text)
        if len(text) >= 4 and re.search(r"[^\W\d_]{3,}", text):
            return values.line_of(source, line, text, 0.5)
    return None


def _authors(source: Source, title: Hit | None) -> list[Hit]:
    match = _AUTHORS_LABEL.search(source.text[:6000])
    lines = []
    if match is not None:
        value, start, _ = values.after_label(source, match, below=True, limit=300)
        lines.append((value, start, 0.8))
    elif title is not None:
        title_line = source.line_at(title.start)
        for line in source.next_lines(title_line, 2):
            lines.append((line.stripped, line.start, 0.55))
    out: list[Hit] = []
    for text, start, confidence in lines:
        parts = [
            clean(re.sub(r"[\d*†‡]+$", "", p)) for p in re.split(r",\s*|\s+and\s+|\s+und\s+|\s+et\s+|;\s*|&", text)
        ]
        people = [p for p in parts if _PERSON_RE.match(p) and not _ORG_WORDS.search(p)]
        if people and len(people) >= len([p for p in parts if p]) / 2:
            for person in people[:20]:
                position = source.find(person, start)
                out.append(Hit(person, confidence, position, position + len(person)))
            return out
    return out


def _organisation(source: Source, title: Hit | None) -> Hit | None:
    title_line = source.line_at(title.start).number if title is not None else -1
    for line in source.lines[:25]:
        text = clean(line.text)
        if line.number == title_line:
            continue
        plain = not re.search(r"\d{4,}|@|https?:", text) and re.match(r"^[A-Z]", text) and text.count(" ") <= 10
        if 3 <= len(text) <= 90 and _ORG_WORDS.search(text) and plain:
            return values.line_of(source, line, text, 0.5)
    return None
