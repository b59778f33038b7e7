"""The shapes passed between sniffing, the extractors and :func:`docproc.formats.extract_text`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from docproc.formats.limits import Limits
from docproc.formats.registry import DocumentFormat
from docproc.formats.tables import Table

PAGE_BREAK = "\f"  # separates PDF pages in the extracted text: page = 1 + form feeds before an offset
PAGE_MARK = "\ue000"  # stands for PAGE_BREAK until normalisation (which turns form feeds into newlines) is done


@dataclass(frozen=True)
class ExtractedText:
    text: str  # normalised text (NFC, \n line ends, runs of blank lines collapsed, no NULs)
    format: DocumentFormat
    media_type: str
    pages: int | None  # pages / sheets / slides where meaningful (the document's count, not the count read)
    truncated: bool  # True when max_pages / max_chars cut the text
    warnings: tuple[str, ...]
    tables: tuple[Table, ...] = ()  # rows also in ``text`` as "a | b | c" lines (PDF: cells in pypdf's page text)
    pages_without_text: tuple[int, ...] = ()  # PDF pages with images and no text layer (candidates for OCR)
    pages_garbled: tuple[int, ...] = ()  # PDF pages whose text layer scores below quality.GARBLED_BELOW


@dataclass
class Sniffed:
    format: DocumentFormat
    media_type: str
    data: bytes
    text: str | None = None  # decoded text, for text formats
    charset: str | None = None  # the codec that produced ``text``
    ext: str = ""
    pdf_offset: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass
class Raw:
    text: str
    pages: int | None = None
    truncated: bool = False
    warnings: list[str] = field(default_factory=list)
    empty_reason: str | None = None  # NoTextContent message when ``text`` turns out empty
    tables: list[Table] = field(default_factory=list)
    pages_without_text: list[int] = field(default_factory=list)
    pages_garbled: list[int] = field(default_factory=list)


Extractor = Callable[[Sniffed, Limits], Raw]


def words(text: str) -> frozenset[str]:
    return frozenset(text.split())
