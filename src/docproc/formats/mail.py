"""E-mail (RFC 822 / MIME) with the standard library's :mod:`email`: headers, the preferred alternative of each
part, attached messages; attachments are named, not opened. Header words and part charsets are decoded with the
same rules as text files (:mod:`docproc.formats.charset`), because mail clients mislabel them.
"""

from __future__ import annotations

import email
from email import policy as email_policy
from email.errors import MessageError
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

from docproc.formats.base import Raw, Sniffed
from docproc.formats.charset import decode_with_charset
from docproc.formats.limits import Limits, Sink
from docproc.formats.normalise import SURROGATES
from docproc.formats.web import html_to_text


def extract_eml(sniffed: Sniffed, limits: Limits) -> Raw:
    if (sniffed.charset or "").startswith(("utf-16", "utf-32")):
        message = email.message_from_string(sniffed.text or "", policy=email_policy.compat32)
    else:
        message = email.message_from_bytes(sniffed.data, policy=email_policy.compat32)
    warnings: list[str] = []
    blocks = _email_headers(message)
    _email_body(message, blocks, warnings, 0)
    sink = Sink(limits.max_chars)
    for block in blocks:
        if not sink.add(block):
            break
    return Raw(sink.text(), truncated=sink.truncated, warnings=warnings, empty_reason="e-mail has no text")


def _email_headers(message: Message) -> list[str]:
    lines = []
    for name in ("Subject", "From", "To", "Cc", "Date"):
        value = message.get(name)
        if value is not None:
            decoded = _decode_email_header(value)
            if decoded:
                lines.append(f"{name}: {decoded}")
    return ["\n".join(lines)] if lines else []


def _decode_email_header(value: Any) -> str:
    try:
        decoded = str(make_header(decode_header(str(value))))
    except (MessageError, UnicodeError, LookupError, ValueError):
        decoded = str(value)
    if SURROGATES.search(decoded):  # raw 8-bit header bytes (surrogate-escaped by the parser)
        raw = decoded.encode("utf-8", "surrogateescape")
        decoded = decode_with_charset(raw, None)[0]
    return " ".join(decoded.split())


def _email_body(part: Message, blocks: list[str], warnings: list[str], depth: int) -> None:
    if depth > 20:
        return
    content_type = part.get_content_type()
    if content_type == "message/rfc822":
        for inner in part.get_payload() or []:
            if isinstance(inner, Message):
                blocks.append("--- attached message ---")
                blocks.extend(_email_headers(inner))
                _email_body(inner, blocks, warnings, depth + 1)
        return
    if part.is_multipart():
        children = [child for child in part.get_payload() if isinstance(child, Message)]
        if content_type == "multipart/alternative" and children:
            _email_body(_preferred_alternative(children), blocks, warnings, depth + 1)
        else:
            for child in children:
                _email_body(child, blocks, warnings, depth + 1)
        return
    filename = part.get_filename()
    if part.get_content_disposition() == "attachment" or part.get_content_maintype() != "text":
        blocks.append(f"[attachment: {_decode_email_header(filename) if filename else content_type}]")
        return
    text, part_warnings = _email_part_text(part)
    warnings.extend(part_warnings)
    blocks.append(text)


def _preferred_alternative(children: list[Message]) -> Message:
    """The plain-text alternative when it has text, else the richest (last) one."""
    for child in children:
        if child.get_content_type() == "text/plain" and _email_part_text(child)[0].strip():
            return child
    return children[-1]


def _email_part_text(part: Message) -> tuple[str, list[str]]:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return "", []
    text, warnings = decode_with_charset(payload, part.get_content_charset())
    if part.get_content_type() == "text/html":
        text, html_warnings, _ = html_to_text(text)
        warnings += html_warnings
    return text, warnings
