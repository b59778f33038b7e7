"""Text preparation for the local extractor: limits, HTML, JSON, e-mail and CSV handling, the prepared document."""

import csv
import email
import email.policy
import html
import io
import itertools
import json
import re
from collections import Counter
from collections.abc import Iterator
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


_HEADER_RE = re.compile(r"^(from|to|cc|subject|date|sent|reply-to|message-id|mime-version|content-type):[ \t]*(.*)$")


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
