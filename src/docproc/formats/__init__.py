"""Detect a document's type from its content and extract its text, tables and per-page text quality.

The pipeline's "prepare" step calls :func:`extract_text`. Detection is content-first (:mod:`.sniff`); each format
family has its module (:mod:`.pdf`, :mod:`.word` for DOCX/ODT, :mod:`.sheets` for XLSX/CSV, :mod:`.slides`,
:mod:`.web`, :mod:`.mail`, :mod:`.rtf`, :mod:`.plain`), found through :mod:`.registry`. Every module says in its
docstring which library it uses or why its code is hand-written.

Error policy (every error is a :mod:`docproc.errors` class whose message says what was found; none is retried):

* :class:`EmptyDocument`: zero bytes or only whitespace; a PDF with zero pages.
* :class:`UnsupportedDocumentType`: images, audio/video, executables, non-office archives, legacy binary
  Office files (``.doc``/``.xls``/``.ppt``), unrecognised binary content.
* :class:`EncryptedDocument`: a PDF that the empty user password does not open (RC4/AES PDFs with an empty
  user password are decrypted and extracted, with a warning); password-protected Office/ODF files.
* :class:`CorruptDocument`: content that is recognisably PDF/DOCX/XLSX/PPTX/ODT but cannot be parsed (zip
  without central directory, PDF from which no page can be read, broken XML).
* :class:`DocumentTooLarge`: an office container whose parts declare more than :mod:`.limits` allows (zip bombs);
  a parser that runs out of memory.
* :class:`DocumentTooComplex`: input nested or self-expanding past a parser's limits (JSON or XML thousands of
  levels deep, entity expansion, a PDF page tree past pypdf's depth limit, e-mails forwarded inside each other
  thousands of times): any ``RecursionError`` of a parser ends here.
* :class:`NoTextContent`: parsed fine but holds no text (scanned PDF without text layer, slides of pictures).

PDF pages are separated by :data:`PAGE_BREAK` (a form feed) in the text: page = 1 + form feeds before an offset.
Pages with images and no text layer are listed in ``pages_without_text``, pages whose text layer scores below
:data:`.quality.GARBLED_BELOW` in ``pages_garbled`` (with warnings): they are what OCR should read. Tables (XLSX
sheets, CSV, DOCX/ODT/PPTX/HTML tables, PDF tables from :mod:`.pdf_tables`) are in ``tables``; their rows are also
``a | b | c`` lines in the text, except PDF tables, whose cells stay in the page text as pypdf reads it.

Not done: OCR, legacy ``.doc``/``.xls``/``.ppt``, DOCX headers/footers/text boxes/footnotes, spreadsheet number
formats, charts and embedded OLE objects, PDF tables on scanned (OCR'd) pages.
"""

from __future__ import annotations

from docproc.errors import DocumentTooComplex, DocumentTooLarge, NoTextContent
from docproc.formats.base import PAGE_BREAK, PAGE_MARK, ExtractedText
from docproc.formats.limits import Limits, cut
from docproc.formats.normalise import normalise
from docproc.formats.registry import IMAGE_FORMATS, MEDIA_TYPES, DocumentFormat, extractor_for
from docproc.formats.sniff import sniff
from docproc.formats.tables import Table

__all__ = [
    "IMAGE_FORMATS",
    "MEDIA_TYPES",
    "PAGE_BREAK",
    "DocumentFormat",
    "ExtractedText",
    "NeedsOcr",
    "Table",
    "detect_format",
    "extract_text",
]


class NeedsOcr(NoTextContent):
    """No text layer at all (an image, a scanned PDF): only OCR can read it. Without OCR it is NO_TEXT_CONTENT."""

    def __init__(
        self, message: str, *, format: DocumentFormat, media_type: str, pages: int | None, ocr_pages: tuple[int, ...]
    ) -> None:
        super().__init__(message)
        self.format = format
        self.media_type = media_type
        self.pages = pages
        self.ocr_pages = ocr_pages


def detect_format(data: bytes, key: str = "", declared_content_type: str | None = None) -> tuple[DocumentFormat, str]:
    """Content first (magic bytes, zip member names, markup sniffing), extension and declared type only as tie-breakers.

    Returns ``(format, media type)``. Raises :class:`EmptyDocument`, :class:`UnsupportedDocumentType` or
    :class:`EncryptedDocument` for content that has no :class:`DocumentFormat` to return.
    """
    sniffed = sniff(data, key, declared_content_type)
    return sniffed.format, sniffed.media_type


def extract_text(
    data: bytes,
    key: str = "",
    declared_content_type: str | None = None,
    *,
    max_pages: int = 200,
    max_chars: int = 2_000_000,
) -> ExtractedText:
    """Detect the format of ``data`` and return its normalised text; see the module docstring for the errors."""
    if max_pages < 1 or max_chars < 1:
        raise ValueError(f"max_pages and max_chars must be positive, got {max_pages} and {max_chars}")
    try:
        sniffed = sniff(data, key, declared_content_type)
        raw = extractor_for(sniffed.format)(sniffed, Limits(max_pages=max_pages, max_chars=max_chars))
    except RecursionError as exc:  # a parser walking nested input recursively (e-mail parts, markup, PDF objects)
        raise DocumentTooComplex(f"document nested past the parser's recursion limit ({len(data)} bytes)") from exc
    except MemoryError as exc:  # the same document at the same memory size fails the same way
        raise DocumentTooLarge(f"parsing the document ran out of memory ({len(data)} bytes)") from exc
    warnings = [*sniffed.warnings, *raw.warnings]
    text = normalise(raw.text)
    if sniffed.format is DocumentFormat.PDF:
        text = text.replace(PAGE_MARK, PAGE_BREAK)
    if not text and raw.pages_without_text:
        raise NeedsOcr(
            raw.empty_reason or f"{sniffed.format.name} has no text layer",
            format=sniffed.format,
            media_type=sniffed.media_type,
            pages=raw.pages,
            ocr_pages=tuple(raw.pages_without_text),
        )
    if not text:
        raise NoTextContent(raw.empty_reason or f"{sniffed.format.name} document parsed but contains no text")
    truncated = raw.truncated
    if len(text) > max_chars:
        text = cut(text, max_chars)
        truncated = True
        warnings.append(f"text cut at max_chars={max_chars}")
    return ExtractedText(
        text=text,
        format=sniffed.format,
        media_type=sniffed.media_type,
        pages=raw.pages,
        truncated=truncated,
        warnings=tuple(dict.fromkeys(warnings)),
        tables=tuple(raw.tables),
        pages_without_text=tuple(raw.pages_without_text),
        pages_garbled=tuple(raw.pages_garbled),
    )
