"""The format registry: each :class:`DocumentFormat`, its media type, the names and declared types that hint at it,
the zip members that identify it, and the module that extracts it.

Sniffing (:mod:`docproc.formats.sniff`) consults the hint tables only to break ties between text formats; the
container markers identify office packages from their member names. Extractor modules are imported on first use,
so a Lambda that only ever sees text never imports pypdf or openpyxl.
"""

from __future__ import annotations

import importlib
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from docproc.formats.base import Extractor


class DocumentFormat(StrEnum):
    TXT = "txt"
    MARKDOWN = "md"
    HTML = "html"
    CSV = "csv"
    JSON = "json"
    PDF = "pdf"
    DOCX = "docx"
    XLSX = "xlsx"
    PPTX = "pptx"
    ODT = "odt"
    EML = "eml"
    RTF = "rtf"
    PNG = "png"
    JPEG = "jpeg"
    TIFF = "tiff"


IMAGE_FORMATS = frozenset({DocumentFormat.PNG, DocumentFormat.JPEG, DocumentFormat.TIFF})  # text only from OCR


MEDIA_TYPES: dict[DocumentFormat, str] = {
    DocumentFormat.TXT: "text/plain",
    DocumentFormat.MARKDOWN: "text/markdown",
    DocumentFormat.HTML: "text/html",
    DocumentFormat.CSV: "text/csv",
    DocumentFormat.JSON: "application/json",
    DocumentFormat.PDF: "application/pdf",
    DocumentFormat.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    DocumentFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    DocumentFormat.PPTX: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    DocumentFormat.ODT: "application/vnd.oasis.opendocument.text",
    DocumentFormat.EML: "message/rfc822",
    DocumentFormat.RTF: "application/rtf",
    DocumentFormat.PNG: "image/png",
    DocumentFormat.JPEG: "image/jpeg",
    DocumentFormat.TIFF: "image/tiff",
}

#: ``format -> (module in docproc.formats, function)``: the extractor of each format, imported on first use.
EXTRACTORS: dict[DocumentFormat, tuple[str, str]] = {
    DocumentFormat.TXT: ("plain", "extract_txt"),
    DocumentFormat.MARKDOWN: ("plain", "extract_markdown"),
    DocumentFormat.JSON: ("plain", "extract_json"),
    DocumentFormat.HTML: ("web", "extract_html"),
    DocumentFormat.CSV: ("sheets", "extract_csv"),
    DocumentFormat.XLSX: ("sheets", "extract_xlsx"),
    DocumentFormat.PDF: ("pdf", "extract_pdf"),
    DocumentFormat.DOCX: ("word", "extract_docx"),
    DocumentFormat.ODT: ("word", "extract_odt"),
    DocumentFormat.PPTX: ("slides", "extract_pptx"),
    DocumentFormat.EML: ("mail", "extract_eml"),
    DocumentFormat.RTF: ("rtf", "extract_rtf"),
    DocumentFormat.PNG: ("images", "extract_image"),
    DocumentFormat.JPEG: ("images", "extract_image"),
    DocumentFormat.TIFF: ("images", "extract_image"),
}

#: Object-key extensions: tie-breakers between text formats only, never over what the bytes say.
EXTENSION_FORMATS: dict[str, DocumentFormat] = {
    "txt": DocumentFormat.TXT,
    "text": DocumentFormat.TXT,
    "log": DocumentFormat.TXT,
    "md": DocumentFormat.MARKDOWN,
    "markdown": DocumentFormat.MARKDOWN,
    "html": DocumentFormat.HTML,
    "htm": DocumentFormat.HTML,
    "xhtml": DocumentFormat.HTML,
    "csv": DocumentFormat.CSV,
    "tsv": DocumentFormat.CSV,
    "json": DocumentFormat.JSON,
    "jsonl": DocumentFormat.JSON,
    "ndjson": DocumentFormat.JSON,
    "pdf": DocumentFormat.PDF,
    "docx": DocumentFormat.DOCX,
    "xlsx": DocumentFormat.XLSX,
    "pptx": DocumentFormat.PPTX,
    "odt": DocumentFormat.ODT,
    "eml": DocumentFormat.EML,
    "rtf": DocumentFormat.RTF,
}

#: Declared ``Content-Type`` values: tie-breakers like the extensions.
DECLARED_FORMATS: dict[str, DocumentFormat] = {
    **{media_type: fmt for fmt, media_type in MEDIA_TYPES.items()},
    "text/x-markdown": DocumentFormat.MARKDOWN,
    "application/xhtml+xml": DocumentFormat.HTML,
    "text/tab-separated-values": DocumentFormat.CSV,
    "application/x-ndjson": DocumentFormat.JSON,
    "text/rtf": DocumentFormat.RTF,
}

#: Zip containers: an OOXML package is recognised by its part folders or by markers in ``[Content_Types].xml``.
OOXML_PREFIXES: tuple[tuple[str, DocumentFormat], ...] = (
    ("word/", DocumentFormat.DOCX),
    ("xl/", DocumentFormat.XLSX),
    ("ppt/", DocumentFormat.PPTX),
)
OOXML_CONTENT_TYPES: tuple[tuple[str, DocumentFormat], ...] = (
    ("wordprocessingml", DocumentFormat.DOCX),
    ("ms-word", DocumentFormat.DOCX),
    ("spreadsheetml", DocumentFormat.XLSX),
    ("ms-excel", DocumentFormat.XLSX),
    ("presentationml", DocumentFormat.PPTX),
    ("ms-powerpoint", DocumentFormat.PPTX),
)
#: OpenDocument packages name their type in a ``mimetype`` member; every text-like one is read as ODT.
ODF_MIMETYPE_PREFIX = b"application/vnd.oasis.opendocument."
OFFICE_FORMATS = frozenset({DocumentFormat.DOCX, DocumentFormat.XLSX, DocumentFormat.PPTX, DocumentFormat.ODT})


def extractor_for(fmt: DocumentFormat) -> Extractor:
    module, function = EXTRACTORS[fmt]
    extractor: Extractor = getattr(importlib.import_module(f"docproc.formats.{module}"), function)
    return extractor
