"""Title, sentences and summary of the local extractor."""

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from docproc_local.standins.insights.dates import _is_date_line
from docproc_local.standins.insights.text import (
    _HEADER_RE,
    _SPACE_RE,
    _WORD_RE,
    SUMMARY_CHARS,
    SUMMARY_MAX,
    TITLE_MAX,
    _clip,
    _Doc,
    _json_get,
    _words,
)

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
