"""Bounds on the work one document may cause: pages, characters, and what an office container may inflate to.

``max_pages`` limits the PDF pages read (the reported page count is still the document's); ``max_chars`` limits the
returned text and stops extraction early once reached; text formats are only parsed up to
``max_chars * TEXT_WORK_FACTOR`` characters. Office containers are checked before any library opens them: every
member's *declared* uncompressed size (which :mod:`zipfile` enforces while inflating) and their sum must stay under
the limits below, so a zip bomb is :class:`~docproc.errors.DocumentTooLarge` before a byte is inflated; parts
large enough to matter are also inflated once in bounded steps to check that their headers do not lie.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from xml.etree import ElementTree as ET

#: Largest uncompressed size one office XML member may declare.
MAX_XML_MEMBER_BYTES = 256 * 1024 * 1024
#: Largest uncompressed size all members of an office container may declare together (python-docx reads them all).
MAX_CONTAINER_BYTES = 512 * 1024 * 1024
#: A member larger than MAX_RATIO_FROM_BYTES that inflates more than MAX_COMPRESSION_RATIO times is a zip bomb.
MAX_COMPRESSION_RATIO = 200
MAX_RATIO_FROM_BYTES = 64 * 1024 * 1024
#: Office parts whose compressed size could inflate past this are checked (inflated once, in bounded steps) against
#: their declared size, so a part whose header lies about its size cannot exhaust memory.
MAX_UNVERIFIED_INFLATE = 64 * 1024 * 1024
#: Most members an office container may have.
MAX_CONTAINER_MEMBERS = 20_000
#: Text formats are parsed up to ``max_chars * TEXT_WORK_FACTOR`` characters (markup is mostly not text).
TEXT_WORK_FACTOR = 8


@dataclass(frozen=True)
class Limits:
    max_pages: int
    max_chars: int


class Sink:
    """Collects text blocks and says when ``max_chars`` is reached, so extractors can stop early."""

    def __init__(self, max_chars: int) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.max_chars = max_chars
        self.truncated = False

    @property
    def full(self) -> bool:
        return self.size > self.max_chars

    def add(self, block: str) -> bool:
        """Append a block; False once the sink is full (and the caller should stop)."""
        if self.full:
            self.truncated = True
            return False
        if block:
            self.parts.append(block)
            self.size += len(block) + 1
        return not self.full

    def text(self, sep: str = "\n") -> str:
        return sep.join(self.parts)


#: expat's error code for entity amplification (billion laughs), refused since expat 2.4.
_EXPAT_AMPLIFICATION = 43
#: libxml2's XML_ERR_RESOURCE_LIMIT: lxml's "Maximum entity amplification factor exceeded", "Excessive depth".
_LIBXML2_RESOURCE_LIMIT = 114


def is_resource_limit(exc: BaseException) -> bool:
    """Whether a parser failed because the input went past one of its resource limits (nesting depth, entity
    expansion) rather than because it is malformed: decided on the error's class and code, never its message."""
    if isinstance(exc, RecursionError):
        return True
    if isinstance(exc, ET.ParseError):
        return getattr(exc, "code", None) == _EXPAT_AMPLIFICATION
    lxml = sys.modules.get("lxml.etree")  # only imported when python-docx is
    syntax_error = getattr(lxml, "XMLSyntaxError", None)
    return syntax_error is not None and isinstance(exc, syntax_error) and exc.code == _LIBXML2_RESOURCE_LIMIT


def bounded(text: str, limits: Limits) -> tuple[str, bool]:
    """The part of a decoded text format worth parsing, and whether anything was left off."""
    limit = limits.max_chars * TEXT_WORK_FACTOR
    return (text[:limit], True) if len(text) > limit else (text, False)


def cut(text: str, max_chars: int) -> str:
    """``text`` cut to at most ``max_chars``, at a line or word boundary near the end when there is one."""
    head = text[:max_chars]
    boundary = max(head.rfind("\n", max_chars - 2000), head.rfind(" ", max_chars - 200))
    return (head[:boundary] if boundary > 0 else head).rstrip()
