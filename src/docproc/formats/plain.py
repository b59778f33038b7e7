"""Plain text, markdown and JSON. Decoding (charset detection) is :mod:`docproc.formats.charset`'s; here the
decoded text is bounded, markdown markup is stripped lightly (headings, emphasis, links to their text, fences and
rules dropped; a full markdown renderer would only have to be turned back into text), and JSON is flattened to
``path: value`` lines (iteratively, so nesting depth costs nothing). A ``.json`` file that is not valid JSON is
plain text with a warning: a truncated export still carries its text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from docproc.formats.base import Raw, Sniffed
from docproc.formats.limits import Limits, Sink, bounded
from docproc.formats.sniff import json_lines
from docproc.formats.web import html_to_text


def extract_txt(sniffed: Sniffed, limits: Limits) -> Raw:
    text, truncated = bounded(sniffed.text or "", limits)
    warnings: list[str] = []
    if any(w.startswith("XML markup stripped") for w in sniffed.warnings):
        text, warnings, _ = html_to_text(text, xml=True)
    return Raw(text, truncated=truncated, warnings=warnings, empty_reason="text file has no visible text")


_MD_INLINE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)"), r"\1"),  # images -> alt text
    (re.compile(r"\[([^\]\n]+)\]\([^)\n]*\)"), r"\1"),  # links -> link text
    (re.compile(r"\[([^\]\n]+)\]\[[^\]\n]*\]"), r"\1"),  # reference links
    (re.compile(r"<(https?://[^>\s]+)>"), r"\1"),  # autolinks
    (re.compile(r"</?[A-Za-z][^>\n]{0,500}>"), ""),  # inline HTML tags
    (re.compile(r"(\*\*|__)(?=\S)([^\n]+?)(?<=\S)\1"), r"\2"),  # bold
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), r"\1"),  # *italic*
    (re.compile(r"(?<!\w)_(?=\S)([^_\n]+?)(?<=\S)_(?!\w)"), r"\1"),  # _italic_
    (re.compile(r"~~(?=\S)([^\n]+?)(?<=\S)~~"), r"\1"),  # strikethrough
    (re.compile(r"`([^`\n]+)`"), r"\1"),  # code spans
)
_MD_RULE = re.compile(r"^\s{0,3}([-*_=])(\s*\1){2,}\s*$")
_MD_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def extract_markdown(sniffed: Sniffed, limits: Limits) -> Raw:
    source, truncated = bounded(sniffed.text or "", limits)
    lines = []
    in_fence = False
    for line in source.split("\n"):
        if re.match(r"^\s*(```|~~~)", line):
            in_fence = not in_fence
            continue
        if in_fence:
            lines.append(line)
            continue
        if _MD_RULE.match(line) or _MD_TABLE_RULE.match(line):
            continue
        line = re.sub(r"^\s{0,3}#{1,6}\s+", "", line)
        line = re.sub(r"\s+#+\s*$", "", line)
        line = re.sub(r"^\s*(>\s?)+", "", line)
        if len(line) <= 10_000:  # the inline patterns are cheap per line, but not on one giant line
            for pattern, replacement in _MD_INLINE:
                line = pattern.sub(replacement, line)
        lines.append(line)
    return Raw("\n".join(lines), truncated=truncated, empty_reason="markdown file has no text")


def extract_json(sniffed: Sniffed, limits: Limits) -> Raw:
    text = sniffed.text or ""
    warnings: list[str] = []
    try:
        value: Any = json.loads(text)
    except json.JSONDecodeError:
        value = json_lines(text)
        warnings.append(f"JSON Lines: {len(value or [])} records")
    sink = Sink(limits.max_chars)
    for line in _flatten_json(value):
        if not sink.add(line):
            break
    return Raw(
        sink.text(), truncated=sink.truncated, warnings=warnings, empty_reason="JSON holds no strings or numbers"
    )


def _flatten_json(value: Any) -> Iterator[str]:
    """``path: value`` lines for every string, number and boolean, in document order (iterative: no depth limit)."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            stack.extend((f"{path}.{key}" if path else str(key), child) for key, child in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((f"{path}[{index}]", child) for index, child in reversed(list(enumerate(node))))
        elif isinstance(node, bool):
            yield f"{path}: {'true' if node else 'false'}"
        elif isinstance(node, int | float):
            yield f"{path}: {node}"
        elif isinstance(node, str) and node.strip():
            yield f"{path}: {' '.join(node.split())}" if path else " ".join(node.split())
