"""Detect a document's type from its content and extract its text (the pipeline's "prepare" step).

Detection looks at the bytes first: magic numbers (``%PDF-`` anywhere in the first KiB, zip, OLE, RTF,
images, media, executables, archives), the member names of a zip (or, for a zip whose central directory is
missing, its local headers and ``[Content_Types].xml``), then markup sniffing of decoded text (e-mail
headers, HTML, JSON, markdown, CSV). The object key's extension and the declared ``Content-Type`` only break
ties between text formats (is this prose or CSV? markdown or plain text?); they never override what the bytes
say, so a plain-text file named ``.odt`` is text and a PDF named ``.txt`` is a PDF.

Text decoding: a BOM (UTF-8/16/32) wins; then strict UTF-8 (also accepted with a few bad bytes when the rest
is clearly UTF-8); then UTF-16 without BOM when the NUL pattern says so; then charset-normalizer. A charset
declared by an HTML ``<meta>`` or the ``Content-Type`` is only a tie-breaker among encodings that decode the
bytes plausibly, because such declarations lie. UTF-8 text that was double-encoded (``â€"`` for an en dash) is
repaired when the C1 control characters that give it away are present.

Error policy (every error is a :mod:`docproc.errors` class whose message says what was found):

* :class:`EmptyDocument`: zero bytes or only whitespace; a PDF with zero pages.
* :class:`UnsupportedDocumentType`: images, audio/video, executables, non-office archives, legacy binary
  Office files (``.doc``/``.xls``/``.ppt``), unrecognised binary content.
* :class:`EncryptedDocument`: a PDF that the empty user password does not open (RC4/AES PDFs with an empty
  user password are decrypted and extracted, with a warning); password-protected Office/ODF files.
* :class:`CorruptDocument`: content that is recognisably PDF/DOCX/XLSX/PPTX/ODT but cannot be parsed (zip
  without central directory, PDF from which no page can be read, broken XML).
* :class:`NoTextContent`: parsed fine but holds no text (scanned PDF without text layer, slides of pictures).
* A ``.json`` file that is not valid JSON is *not* corrupt: JSON is a text format, so when the bytes decode
  as text the file is extracted as plain text with a warning (a truncated export still carries its text).
  Bytes that do not decode as text are unrecognised binary (``UnsupportedDocumentType``).

Bounds: ``max_pages`` limits the PDF pages read (``pages`` still reports the document's page count and
``truncated`` is set); ``max_chars`` limits the returned text and stops extraction early once reached; text
formats are only parsed up to a multiple of ``max_chars``. Office XML members are streamed and must declare
an uncompressed size below :data:`MAX_XML_MEMBER_BYTES` (a zip bomb is :class:`DocumentTooLarge`).

Not done: OCR, legacy ``.doc``/``.xls``/``.ppt``, DOCX headers/footers/text boxes/footnotes, spreadsheet
date formatting (dates appear as serial numbers), charts and embedded OLE objects, and CID fonts without a
``ToUnicode`` map (text from such fonts may be garbled; a warning says so). A missing ``cryptography``
package surfaces as pypdf's ``DependencyError`` for AES PDFs: that is a deployment fault, not a document one.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import email
import functools
import io
import json
import posixpath
import re
import struct
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email import policy as email_policy
from email.errors import MessageError
from email.header import decode_header, make_header
from email.message import Message
from enum import StrEnum
from html.parser import HTMLParser
from typing import IO, Any
from xml.etree import ElementTree as ET

import charset_normalizer
import docx
import pypdf
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.paragraph import Paragraph
from pypdf import PasswordType
from pypdf.errors import DependencyError, PyPdfError

from docproc.errors import (
    CorruptDocument,
    DocumentTooLarge,
    EmptyDocument,
    EncryptedDocument,
    NoTextContent,
    UnsupportedDocumentType,
)

__all__ = ["MEDIA_TYPES", "DocumentFormat", "ExtractedText", "detect_format", "extract_text"]


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
}

#: Largest uncompressed size an office XML member may declare (guards against zip bombs).
MAX_XML_MEMBER_BYTES = 256 * 1024 * 1024

#: Text formats are parsed up to ``max_chars * _TEXT_WORK_FACTOR`` characters (markup is mostly not text).
_TEXT_WORK_FACTOR = 8


@dataclass(frozen=True)
class ExtractedText:
    text: str  # normalised text (NFC, \n line ends, runs of blank lines collapsed, no NULs)
    format: DocumentFormat
    media_type: str
    pages: int | None  # pages / sheets / slides where meaningful (the document's count, not the count read)
    truncated: bool  # True when max_pages / max_chars cut the text
    warnings: tuple[str, ...]


def detect_format(data: bytes, key: str = "", declared_content_type: str | None = None) -> tuple[DocumentFormat, str]:
    """Content first (magic bytes, zip member names, markup sniffing), extension and declared type only as tie-breakers.

    Returns ``(format, media type)``. Raises :class:`EmptyDocument` for empty input,
    :class:`UnsupportedDocumentType` for content docproc cannot process (images, media, executables, archives,
    legacy Office binaries, unknown binary) and :class:`EncryptedDocument` for password-protected Office files,
    since none of those have a :class:`DocumentFormat` to return.
    """
    sniffed = _sniff(data, key, declared_content_type)
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
    sniffed = _sniff(data, key, declared_content_type)
    extractor = _EXTRACTORS[sniffed.format]
    raw = extractor(sniffed, _Limits(max_pages=max_pages, max_chars=max_chars))
    warnings = [*sniffed.warnings, *raw.warnings]
    text = _normalise(raw.text)
    if sniffed.format is DocumentFormat.PDF:
        text = text.replace(_PAGE_MARK, PAGE_BREAK)
    if not text:
        raise NoTextContent(raw.empty_reason or f"{sniffed.format.name} document parsed but contains no text")
    truncated = raw.truncated
    if len(text) > max_chars:
        text = _cut(text, max_chars)
        truncated = True
        warnings.append(f"text cut at max_chars={max_chars}")
    return ExtractedText(
        text=text,
        format=sniffed.format,
        media_type=sniffed.media_type,
        pages=raw.pages,
        truncated=truncated,
        warnings=tuple(dict.fromkeys(warnings)),
    )


# --- internal data -----------------------------------------------------------------------------------------------


@dataclass
class _Sniffed:
    format: DocumentFormat
    media_type: str
    data: bytes
    text: str | None = None  # decoded text, for text formats
    charset: str | None = None  # the codec that produced ``text``
    ext: str = ""
    pdf_offset: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Limits:
    max_pages: int
    max_chars: int


@dataclass
class _Raw:
    text: str
    pages: int | None = None
    truncated: bool = False
    warnings: list[str] = field(default_factory=list)
    empty_reason: str | None = None  # NoTextContent message when ``text`` turns out empty


_Extractor = Callable[[_Sniffed, _Limits], _Raw]


class _Sink:
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


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --- sniffing ------------------------------------------------------------------------------------------------------

_EXTENSION_FORMATS: dict[str, DocumentFormat] = {
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

_DECLARED_FORMATS: dict[str, DocumentFormat] = {
    **{media_type: fmt for fmt, media_type in MEDIA_TYPES.items()},
    "text/x-markdown": DocumentFormat.MARKDOWN,
    "application/xhtml+xml": DocumentFormat.HTML,
    "text/tab-separated-values": DocumentFormat.CSV,
    "application/x-ndjson": DocumentFormat.JSON,
    "text/rtf": DocumentFormat.RTF,
}

# (offset, magic, description, kind) for content docproc refuses; checked after PDF/zip/OLE/RTF.
_REFUSED_SIGNATURES: tuple[tuple[int, bytes, str, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "PNG image", "image"),
    (0, b"\xff\xd8\xff", "JPEG image", "image"),
    (0, b"GIF87a", "GIF image", "image"),
    (0, b"GIF89a", "GIF image", "image"),
    (0, b"II*\x00", "TIFF image", "image"),
    (0, b"MM\x00*", "TIFF image", "image"),
    (0, b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000 image", "image"),
    (0, b"ID3", "MP3 audio", "media"),
    (0, b"fLaC", "FLAC audio", "media"),
    (0, b"OggS", "Ogg audio/video", "media"),
    (0, b"\x1aE\xdf\xa3", "Matroska/WebM video", "media"),
    (0, b"\x7fELF", "ELF executable", "executable"),
    (0, b"\xca\xfe\xba\xbe", "Java class or Mach-O universal binary", "executable"),
    (0, b"\xfe\xed\xfa\xce", "Mach-O executable", "executable"),
    (0, b"\xfe\xed\xfa\xcf", "Mach-O executable", "executable"),
    (0, b"\xce\xfa\xed\xfe", "Mach-O executable", "executable"),
    (0, b"\xcf\xfa\xed\xfe", "Mach-O executable", "executable"),
    (0, b"\x00asm", "WebAssembly module", "executable"),
    (0, b"\x1f\x8b", "gzip archive", "archive"),
    (0, b"\xfd7zXZ\x00", "xz archive", "archive"),
    (0, b"7z\xbc\xaf\x27\x1c", "7-Zip archive", "archive"),
    (0, b"Rar!\x1a\x07", "RAR archive", "archive"),
    (0, b"\x28\xb5\x2f\xfd", "Zstandard archive", "archive"),
    (0, b"MSCF", "Microsoft Cabinet archive", "archive"),
    (257, b"ustar", "tar archive", "archive"),
    (0, b"SQLite format 3\x00", "SQLite database", "binary"),
    (0, b"%!PS", "PostScript document", "binary"),
)

_REFUSAL_TEMPLATES = {
    "image": "{}: images need OCR, which docproc does not do",
    "media": "{}: audio and video are not supported",
    "executable": "{}: executables are not documents",
    "archive": "{}: archives are not supported; upload the documents inside it",
    "binary": "{} is not a supported document type",
}

_BLANK_BYTES = b" \t\r\n\f\v\x00"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")


def _sniff(data: bytes, key: str, declared_content_type: str | None) -> _Sniffed:
    if not data[:4096].strip(_BLANK_BYTES) and not data.strip(_BLANK_BYTES):
        raise EmptyDocument(
            "document is empty (0 bytes)" if not data else f"document holds only whitespace ({len(data)} bytes)"
        )
    ext = _extension(key)
    declared_type, declared_charset = _parse_content_type(declared_content_type)
    hint = _DECLARED_FORMATS.get(declared_type) or _EXTENSION_FORMATS.get(ext)

    pdf_at = _pdf_header_offset(data)
    if pdf_at is not None:
        return _Sniffed(DocumentFormat.PDF, MEDIA_TYPES[DocumentFormat.PDF], data, ext=ext, pdf_offset=pdf_at)
    if data.startswith(_ZIP_MAGICS):
        fmt, media_type = _sniff_zip(data, hint)
        return _Sniffed(fmt, media_type, data, ext=ext)
    if data.startswith(_OLE_MAGIC):
        _refuse_ole(data)
    if data[:1024].lstrip()[:5] == b"{\\rtf":
        return _Sniffed(DocumentFormat.RTF, MEDIA_TYPES[DocumentFormat.RTF], data, ext=ext)
    _refuse_known_binary(data)

    markup_charset = _meta_charset(data) if data[:1024].lstrip()[:1] == b"<" else None
    decoded = _decode_text(
        data, declared_charset or markup_charset, declared_by="HTML <meta>" if markup_charset else "Content-Type"
    )
    if decoded is None:
        raise UnsupportedDocumentType(f"unrecognised binary content (starts with {data[:8].hex(' ')})")
    text, charset, warnings = decoded
    if not text.strip():
        raise EmptyDocument(f"document holds only whitespace ({len(data)} bytes, charset {charset})")
    fmt, text_warnings = _sniff_text(text, ext, hint)
    return _Sniffed(fmt, MEDIA_TYPES[fmt], data, text=text, charset=charset, ext=ext, warnings=warnings + text_warnings)


def _extension(key: str) -> str:
    name = posixpath.basename(key.strip())
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _parse_content_type(value: str | None) -> tuple[str, str | None]:
    if not value:
        return "", None
    media_type, _, params = value.partition(";")
    match = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", params, re.IGNORECASE)
    return media_type.strip().lower(), match.group(1) if match else None


def _pdf_header_offset(data: bytes) -> int | None:
    at = data.find(b"%PDF-", 0, 1024)
    if at < 0:
        return None
    # Junk before the header (a CRLF, a stray %%EOF) is common; text that merely mentions "%PDF-" is not a PDF.
    if at == 0 or b" obj" in data[at : at + 65536] or b"startxref" in data[-4096:]:
        return at
    return None


def _refuse_known_binary(data: bytes) -> None:
    for offset, magic, description, kind in _REFUSED_SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            raise UnsupportedDocumentType(_REFUSAL_TEMPLATES[kind].format(description))
    if data[:4] == b"RIFF" and len(data) >= 12:
        form = data[8:12]
        if form == b"WEBP":
            raise UnsupportedDocumentType(_REFUSAL_TEMPLATES["image"].format("WebP image"))
        raise UnsupportedDocumentType(_REFUSAL_TEMPLATES["media"].format(f"RIFF {form.decode('latin-1').strip()} file"))
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"avif", b"heim", b"heis"):
            raise UnsupportedDocumentType(
                _REFUSAL_TEMPLATES["image"].format(f"HEIF/AVIF image ({brand.decode('latin-1')})")
            )
        raise UnsupportedDocumentType(_REFUSAL_TEMPLATES["media"].format("MP4/QuickTime video"))
    if data[:2] == b"BM" and len(data) > 26 and data[6:10] == b"\x00\x00\x00\x00":
        raise UnsupportedDocumentType(_REFUSAL_TEMPLATES["image"].format("BMP image"))
    if data[:2] == b"MZ" and b"\x00" in data[:512]:
        raise UnsupportedDocumentType(_REFUSAL_TEMPLATES["executable"].format("Windows executable"))
    if data[:3] == b"BZh" and data[4:10] == b"1AY&SY":
        raise UnsupportedDocumentType(_REFUSAL_TEMPLATES["archive"].format("bzip2 archive"))


def _refuse_ole(data: bytes) -> None:
    """OLE compound files: password-protected OOXML lives in one, as do legacy binary Office files."""
    if "EncryptedPackage".encode("utf-16-le") in data:
        raise EncryptedDocument(
            "password-protected Office document (OLE container with an EncryptedPackage stream); "
            "docproc cannot open it without the password"
        )
    for stream, kind in (
        ("WordDocument", "Word 97-2003 (.doc)"),
        ("Workbook", "Excel 97-2003 (.xls)"),
        ("Book", "Excel 5 (.xls)"),
        ("PowerPoint Document", "PowerPoint 97-2003 (.ppt)"),
        ("__substg1.0_", "Outlook message (.msg)"),
    ):
        if stream.encode("utf-16-le") in data:
            raise UnsupportedDocumentType(f"legacy {kind} binary format is not supported; save it as a current format")
    raise UnsupportedDocumentType("OLE compound file of unknown type is not a supported document")


# --- zip containers -------------------------------------------------------------------------------------------------

_OOXML_PREFIXES = (("word/", DocumentFormat.DOCX), ("xl/", DocumentFormat.XLSX), ("ppt/", DocumentFormat.PPTX))
_OOXML_CONTENT_TYPES = (
    ("wordprocessingml", DocumentFormat.DOCX),
    ("ms-word", DocumentFormat.DOCX),
    ("spreadsheetml", DocumentFormat.XLSX),
    ("ms-excel", DocumentFormat.XLSX),
    ("presentationml", DocumentFormat.PPTX),
    ("ms-powerpoint", DocumentFormat.PPTX),
)


def _sniff_zip(data: bytes, hint: DocumentFormat | None) -> tuple[DocumentFormat, str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
            mimetype = _read_small(zf, "mimetype") if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError):
        # No central directory (truncated upload): identify the container from its local headers so that the
        # extractor reports it as a corrupt DOCX/XLSX/..., not as an unknown archive.
        local = _zip_local_members(data)
        fmt = _ooxml_format(local.keys(), local.get("[Content_Types].xml", b""))
        mimetype = local.get("mimetype", b"")
        if fmt is None and mimetype.startswith(b"application/vnd.oasis.opendocument."):
            fmt = DocumentFormat.ODT
        if fmt is None and hint in (DocumentFormat.DOCX, DocumentFormat.XLSX, DocumentFormat.PPTX, DocumentFormat.ODT):
            fmt = hint
        if fmt is None:
            raise CorruptDocument("truncated or damaged zip archive (no central directory) of unknown type") from None
        return fmt, MEDIA_TYPES[fmt]

    if mimetype.startswith(b"application/vnd.oasis.opendocument."):
        return DocumentFormat.ODT, mimetype.decode("ascii", "replace").strip()
    if mimetype.startswith(b"application/epub+zip"):
        raise UnsupportedDocumentType("EPUB e-book is not supported")
    fmt = _ooxml_format(names, b"")
    if fmt is not None:
        return fmt, MEDIA_TYPES[fmt]
    if any(name.startswith("visio/") for name in names):
        raise UnsupportedDocumentType("Visio drawing (.vsdx) is not supported")
    if "META-INF/MANIFEST.MF" in names:
        raise UnsupportedDocumentType(_REFUSAL_TEMPLATES["executable"].format("Java archive (.jar)"))
    raise UnsupportedDocumentType(
        _REFUSAL_TEMPLATES["archive"].format(f"zip archive of {len(names)} files that is not an office document")
    )


def _ooxml_format(names: Iterable[str], content_types: bytes) -> DocumentFormat | None:
    names = list(names)
    if "[Content_Types].xml" not in names:
        return None
    for marker, fmt in _OOXML_CONTENT_TYPES:
        if marker.encode() in content_types:
            return fmt
    for prefix, fmt in _OOXML_PREFIXES:
        if any(name.startswith(prefix) for name in names):
            return fmt
    return None


def _zip_local_members(data: bytes, limit: int = 2000) -> dict[str, bytes]:
    """Names (and, for small stored/deflated ones, contents) of the local file headers of a broken zip."""
    members: dict[str, bytes] = {}
    pos = 0
    while len(members) < limit:
        pos = data.find(b"PK\x03\x04", pos)
        if pos < 0 or pos + 30 > len(data):
            break
        method, csize, name_len, extra_len = (
            struct.unpack_from("<H", data, pos + 8)[0],
            *struct.unpack_from("<I", data, pos + 18),
            *struct.unpack_from("<HH", data, pos + 26),
        )
        name = data[pos + 30 : pos + 30 + name_len].decode("utf-8", "replace")
        start = pos + 30 + name_len + extra_len
        chunk = data[start : start + min(csize, 1 << 20)] if csize else data[start : start + 65536]
        content = b""
        if method == 0:
            content = chunk[:65536]
        elif method == 8:
            try:
                content = zlib.decompressobj(-15).decompress(chunk, 65536)
            except zlib.error:
                content = b""
        members[name] = content
        pos += 4
    return members


def _open_zip(data: bytes, fmt: DocumentFormat) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise CorruptDocument(
            f"{fmt.name} is truncated or damaged: {exc} (zip has no usable central directory)"
        ) from exc
    encrypted = [info.filename for info in zf.infolist() if info.flag_bits & 0x1]
    if encrypted:
        zf.close()
        raise EncryptedDocument(f"{fmt.name} is password-protected (zip-encrypted parts: {', '.join(encrypted[:3])})")
    return zf


# Member data that fails to inflate, fails its CRC, ends early or is not well-formed XML (SyntaxError covers
# ElementTree's ParseError and lxml's XMLSyntaxError, which python-docx raises); zipfile raises ValueError
# ("negative seek value") when the central directory points outside the file.
_DAMAGED_MEMBER_ERRORS = (zipfile.BadZipFile, EOFError, zlib.error, SyntaxError, ValueError)


def _damage_is_corruption(fmt: DocumentFormat) -> Callable[[_Extractor], _Extractor]:
    """Report damaged parts of an office container as :class:`CorruptDocument` instead of a library error."""

    def decorate(extractor: _Extractor) -> _Extractor:
        @functools.wraps(extractor)
        def extract(sniffed: _Sniffed, limits: _Limits) -> _Raw:
            try:
                return extractor(sniffed, limits)
            except _DAMAGED_MEMBER_ERRORS as exc:
                raise CorruptDocument(f"{fmt.name} is damaged: {type(exc).__name__}: {exc}") from exc

        return extract

    return decorate


def _read_small(zf: zipfile.ZipFile, name: str, limit: int = 1 << 20) -> bytes:
    with zf.open(name) as member:
        return member.read(limit)


def _open_member(zf: zipfile.ZipFile, name: str, fmt: DocumentFormat) -> io.BufferedIOBase:
    try:
        info = zf.getinfo(name)
    except KeyError as exc:
        raise CorruptDocument(f"{fmt.name} lacks its {name} part") from exc
    if info.file_size > MAX_XML_MEMBER_BYTES:
        raise DocumentTooLarge(
            f"{fmt.name} part {name} declares {info.file_size} bytes uncompressed (limit {MAX_XML_MEMBER_BYTES})"
        )
    return zf.open(info)  # type: ignore[return-value]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _iterparse(
    source: IO[bytes] | io.BufferedIOBase, events: tuple[str, ...] = ("end",)
) -> Iterator[tuple[str, ET.Element]]:
    # Office XML carries no DTDs; the bundled expat (>= 2.4) also refuses entity amplification attacks.
    return ET.iterparse(source, events=events)  # type: ignore[arg-type]  # noqa: S314


def _relationships(zf: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """``{rId: (type, absolute target)}`` of an OOXML part (``""`` for the package)."""
    folder, base = posixpath.split(part)
    rels_name = posixpath.join(folder, "_rels", f"{base}.rels")
    if rels_name not in zf.namelist():
        return {}
    rels: dict[str, tuple[str, str]] = {}
    with zf.open(rels_name) as member:
        for _, elem in _iterparse(member):
            if _local(elem.tag) == "Relationship" and elem.get("TargetMode") != "External":
                target = elem.get("Target", "")
                target = (
                    target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
                )
                rels[elem.get("Id", "")] = (elem.get("Type", ""), target)
    return rels


def _ooxml_main_part(zf: zipfile.ZipFile, default: str) -> str:
    for rel_type, target in _relationships(zf, "").values():
        if rel_type.endswith("/officeDocument") and target in zf.namelist():
            return target
    return default


# --- text decoding ----------------------------------------------------------------------------------------------

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CHARSET_NAMES = {
    **{f"cp{n}": f"windows-{n}" for n in range(1250, 1259)},
    "cp932": "shift_jis (cp932)",
    "cp936": "gbk",
    "cp949": "euc-kr (cp949)",
    "cp950": "big5 (cp950)",
    "utf-8-sig": "utf-8",
}
_CONTROL_BYTES = frozenset(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D, 0x1B}


def _charset_label(codec: str) -> str:
    name = codecs.lookup(codec).name
    return _CHARSET_NAMES.get(name, name)


def _decode_text(
    data: bytes, declared: str | None, *, declared_by: str = "Content-Type"
) -> tuple[str, str, list[str]] | None:
    """``(text, codec, warnings)``, or None when the bytes are not text in any encoding we trust."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            text = data.decode(codec, errors="replace")
            warnings: list[str] = [] if codec == "utf-8-sig" else [f"charset {codec}"]
            if "\ufffd" in text:
                warnings.append(f"invalid {codec} sequences replaced")
            return text, codec, warnings
    try:
        return _repair_text(data.decode("utf-8"), "utf-8", [])
    except UnicodeDecodeError:
        pass
    lenient = data.decode("utf-8", errors="replace")
    bad = lenient.count("\ufffd")
    multibyte = sum(1 for ch in lenient if ord(ch) > 0x7F) - bad
    if bad and multibyte >= 20 * bad:
        return _repair_text(lenient, "utf-8", [f"utf-8 with {bad} invalid byte sequences replaced"])

    sample = data[:8192]
    if sample.count(b"\x00") > len(sample) // 8:
        utf16 = _decode_utf16_without_bom(data)
        return (utf16[0], utf16[1], [f"charset {utf16[1]} (no BOM)"]) if utf16 else None
    controls = sum(1 for byte in sample if byte in _CONTROL_BYTES)
    if controls > max(2, len(sample) // 20):
        return None

    results = charset_normalizer.from_bytes(data)
    best = results.best()
    if best is None:
        return None
    chosen = best
    warnings = []
    if declared:
        try:
            declared_codec = codecs.lookup(declared).name
        except LookupError:
            declared_codec = ""
        same = [m for m in results if codecs.lookup(m.encoding).name == declared_codec]
        if same and same[0].chaos <= best.chaos + 0.05:
            chosen = same[0]
        elif declared_codec != codecs.lookup(chosen.encoding).name:
            warnings.append(f"{declared_by} declares charset {declared}, but the content is not {declared}")
    codec = chosen.encoding
    text = str(chosen)
    if chosen is best and codec != "cp1252":
        western = _windows_1252_instead(data, chosen)
        if western is not None:
            text, codec = western, "cp1252"
    warnings.insert(0, f"charset {_charset_label(codec)}")
    return _repair_text(text, codec, warnings)


# Single-byte Latin code pages that charset-normalizer cannot tell apart on short or accent-poor text.
_LATIN_CODEPAGES = _words(
    "cp1250 cp1254 cp1257 iso8859-1 iso8859-2 iso8859-3 iso8859-4 iso8859-9 iso8859-10 iso8859-13 iso8859-14 "
    "iso8859-15 iso8859-16 cp437 cp775 cp850 cp852 cp858 mac-roman mac-latin2 mac-iceland mac-turkish hp-roman8"
)
_NON_WESTERN_LATIN_LANGUAGES = _words(
    "Polish Czech Slovak Hungarian Romanian Croatian Slovene Serbian Lithuanian Latvian Estonian Turkish"
)
# A symbol that is neither letter, digit nor apostrophe/dash, between two letters: "T‰m‰" is a wrong code page.
_ODD_SYMBOL_IN_WORD = re.compile(r"(?<=[^\W\d_])[^\x00-\x7f\w\u2010-\u2019\u00b4\u00b7](?=[^\W\d_])")


def _windows_1252_instead(data: bytes, match: Any) -> str | None:
    """The windows-1252 reading of ``data`` when it is at least as plausible as charset-normalizer's pick.

    windows-1252 is by far the most common legacy encoding of Western text, and charset-normalizer often picks a
    look-alike Latin code page (windows-1257 for French, mac-iceland for Finnish). Prefer windows-1252 when it
    leaves fewer odd symbols inside words, or as many and the detected language is not one that the other Latin
    code pages exist for.
    """
    if codecs.lookup(match.encoding).name not in _LATIN_CODEPAGES:
        return None
    try:
        western = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    ours = len(_ODD_SYMBOL_IN_WORD.findall(western[:65536]))
    theirs = len(_ODD_SYMBOL_IN_WORD.findall(str(match)[:65536]))
    if ours != theirs:
        return western if ours < theirs else None
    language = match.language if match.language != "Unknown" else ""
    return None if language in _NON_WESTERN_LATIN_LANGUAGES else western


def _decode_utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    sample = data[:8192]
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    codec = "utf-16-le" if odd > 2 * even else "utf-16-be" if even > 2 * odd else None
    if codec is None:
        return None
    try:
        return data[: len(data) // 2 * 2].decode(codec), codec
    except UnicodeDecodeError:
        return None


_MOJIBAKE = re.compile(
    "[\u00c2-\u00df][\u0080-\u00bf]|[\u00e0-\u00ef][\u0080-\u00bf]{2}|[\u00f0-\u00f4][\u0080-\u00bf]{3}"
)
_C1_CONTROLS = re.compile("[\u0080-\u009f]")


def _repair_text(text: str, codec: str, warnings: list[str]) -> tuple[str, str, list[str]]:
    repaired, count = _repair_mojibake(text)
    if count:
        warnings.append(f"repaired {count} double-encoded (mojibake) UTF-8 sequences")
    return repaired, codec, warnings


def _repair_mojibake(text: str) -> tuple[str, int]:
    """Undo UTF-8 that was decoded as Latin-1 and encoded again (``â\\x80\\x93`` -> an en dash).

    Only when C1 control characters are present: they never occur in real text, and they are what such
    double encoding leaves behind, so legitimate ``Ã©`` in a non-mojibake text is left alone.
    """
    if not _C1_CONTROLS.search(text):
        return text, 0
    count = 0

    def fix(match: re.Match[str]) -> str:
        nonlocal count
        try:
            fixed = match.group().encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            return match.group()
        count += 1
        return fixed

    return _MOJIBAKE.sub(fix, text), count


def _decode_with_charset(payload: bytes, charset: str | None) -> tuple[str, list[str]]:
    """Decode a payload whose charset was declared (e-mail part); auto-detect when the label is wrong."""
    if charset:
        label = charset.strip().lower()
        # As browsers do (WHATWG): Latin-1 and ASCII labels mean windows-1252; try UTF-8 first for ASCII.
        candidates = (
            ["utf-8", "cp1252"]
            if label in {"us-ascii", "ascii", "ansi_x3.4-1968"}
            else ["cp1252"]
            if label in {"iso-8859-1", "iso_8859-1", "latin1", "latin-1"}
            else [label]
        )
        for codec in candidates:
            try:
                return _repair_mojibake(payload.decode(codec))[0], []
            except (LookupError, UnicodeDecodeError):
                continue
    decoded = _decode_text(payload, None)
    if decoded is None:
        return payload.decode("utf-8", errors="replace"), [f"part with undecodable charset {charset!r}"]
    return decoded[0], [w for w in decoded[2] if not w.startswith("charset")]


# --- text sniffing ----------------------------------------------------------------------------------------------

_EMAIL_HEADER = re.compile(r"^([!-9;-~]+):")
_EMAIL_KEY_HEADERS = _words(
    "cc content-type date delivered-to from message-id mime-version received reply-to return-path sender "
    "subject to x-mailer"
)
_HTML_TAGS = _words(
    "html head body title meta link div span p a br table tr td th ul ol li h1 h2 h3 h4 h5 h6 img script "
    "style form input b i strong em font center section article nav header footer iframe hr pre"
)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)


def _meta_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii") if match else None


def _sniff_text(text: str, ext: str, hint: DocumentFormat | None) -> tuple[DocumentFormat, list[str]]:
    head = text[:65536].lstrip("\ufeff \t\r\n")
    if _looks_like_email(head):
        return DocumentFormat.EML, []
    if _looks_like_html(head, hint):
        return DocumentFormat.HTML, []
    json_error = None
    if head[:1] in ("{", "["):
        json_error = _json_error(text)
        if json_error is None:
            return DocumentFormat.JSON, []
    if hint is DocumentFormat.JSON:
        reason = json_error or "content does not start with { or ["
        return DocumentFormat.TXT, [f"not valid JSON ({reason}); extracted as plain text"]
    if hint is DocumentFormat.CSV:
        return DocumentFormat.CSV, []
    if hint is DocumentFormat.MARKDOWN:
        return DocumentFormat.MARKDOWN, []
    if hint is DocumentFormat.TXT:
        return DocumentFormat.TXT, []
    if head.startswith("<?xml") or (head.startswith("<") and _looks_like_xml(head)):
        return DocumentFormat.TXT, ["XML markup stripped; extracted as plain text"]
    if _looks_like_markdown(head):
        return DocumentFormat.MARKDOWN, []
    width, consistency, rows = _csv_shape(head, _best_delimiter(head, ext))
    if rows >= 3 and consistency >= 0.9 and width >= 3:
        return DocumentFormat.CSV, []
    return DocumentFormat.TXT, []


def _looks_like_email(head: str) -> bool:
    lines = head[:16384].split("\n")
    if lines and lines[0].startswith("From "):  # mbox separator line
        lines = lines[1:]
    names: list[str] = []
    for line in lines[:200]:
        line = line.rstrip("\r")
        if not line:
            break
        if line[:1] in (" ", "\t") and names:
            continue
        match = _EMAIL_HEADER.match(line)
        if not match:
            return False
        names.append(match.group(1).lower())
    return len(names) >= 3 and len(_EMAIL_KEY_HEADERS.intersection(names)) >= 2


def _looks_like_html(head: str, hint: DocumentFormat | None) -> bool:
    lowered = head[:8192].lower()
    start = re.sub(r"^(\s*<!--.*?-->)+", "", lowered, flags=re.S).lstrip()
    if start.startswith(("<!doctype html", "<html", "<head", "<body")):
        return True
    if start.startswith("<?xml") and re.search(r"<html[\s>]", start):
        return True
    tags = set(re.findall(r"</?([a-z][a-z0-9]*)[\s/>]", lowered)) & _HTML_TAGS
    if start.startswith("<") and len(tags) >= 3:
        return True
    return hint is DocumentFormat.HTML and bool(tags)


def _looks_like_xml(head: str) -> bool:
    return bool(re.match(r"<([A-Za-z_][\w.:-]*)[^>]*>", head)) and head.rstrip().endswith(">")


def _json_error(text: str) -> str | None:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and _json_lines(text) is not None:
            return None
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    except RecursionError:
        return "nested too deeply"
    return None if isinstance(value, dict | list) else "top-level value is not an object or array"


def _json_lines(text: str) -> list[Any] | None:
    records = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except (json.JSONDecodeError, RecursionError):
            return None
    return records if len(records) > 1 else None


_MD_FEATURES = (
    re.compile(r"^#{1,6}\s+\S", re.M),
    re.compile(r"^\s*(```|~~~)", re.M),
    re.compile(r"!?\[[^\]\n]+\]\([^)\s]+[^)]*\)"),
    re.compile(r"(\*\*|__)\S[^\n]*?\S\1"),
    re.compile(r"^\s{0,3}[-*+]\s+\S", re.M),
    re.compile(r"^\s*\|?\s*:?-{3,}:?\s*\|", re.M),
    re.compile(r"^>\s", re.M),
)


def _looks_like_markdown(head: str) -> bool:
    kinds = sum(1 for pattern in _MD_FEATURES if pattern.search(head[:32768]))
    return (bool(_MD_FEATURES[0].search(head[:32768])) and kinds >= 2) or kinds >= 3


# --- normalisation --------------------------------------------------------------------------------------------------

_CONTROL_MAP = {
    **{code: None for code in range(0x20) if code not in (0x09, 0x0A)},
    **dict.fromkeys(range(127, 160)),
    0x0C: "\n",
    0x0B: "\n",
    0x1C: "\n",
    0x1D: "\n",
    0x1E: "\n",
    0x85: "\n",
    0x00A0: " ",
    **dict.fromkeys(range(0x2000, 0x200B), " "),
    0x202F: " ",
    0x205F: " ",
    0x2028: "\n",
    0x2029: "\n\n",
    0xFEFF: None,
    0xFFFE: None,
}
_SURROGATES = re.compile("[\ud800-\udfff]")


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_CONTROL_MAP)
    text = _SURROGATES.sub("\ufffd", text)
    text = unicodedata.normalize("NFC", text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def _cut(text: str, max_chars: int) -> str:
    cut = text[:max_chars]
    boundary = max(cut.rfind("\n", max_chars - 2000), cut.rfind(" ", max_chars - 200))
    return (cut[:boundary] if boundary > 0 else cut).rstrip()


# --- PDF -------------------------------------------------------------------------------------------------------------

# pypdf on hostile input raises far more than PyPdfError; these are what its parsers are known to leak.
_PDF_FAILURES: tuple[type[BaseException], ...] = (
    PyPdfError,
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    IndexError,
    AssertionError,
    RecursionError,
    NotImplementedError,
    ZeroDivisionError,
    OverflowError,
    UnicodeError,
    struct.error,
    zlib.error,
)


PAGE_BREAK = "\f"  # separates PDF pages in the extracted text: page = 1 + form feeds before an offset
_PAGE_MARK = "\ue000"  # stands for PAGE_BREAK until normalisation (which turns form feeds into newlines) is done


def _extract_pdf(sniffed: _Sniffed, limits: _Limits) -> _Raw:
    warnings: list[str] = []
    data = sniffed.data
    if sniffed.pdf_offset:
        warnings.append(f"skipped {sniffed.pdf_offset} bytes of junk before the %PDF- header")
        data = data[sniffed.pdf_offset :]
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
    except _PDF_FAILURES as exc:
        raise CorruptDocument(f"PDF could not be parsed: {type(exc).__name__}: {exc}") from exc
    if reader.is_encrypted:
        warnings.append(_pdf_decrypt(reader))
    try:
        n_pages = len(reader.pages)
    except _PDF_FAILURES as exc:
        raise CorruptDocument(f"PDF page tree could not be read: {type(exc).__name__}: {exc}") from exc
    if n_pages == 0:
        raise EmptyDocument("PDF has zero pages")

    sink = _Sink(limits.max_chars)
    to_read = min(n_pages, limits.max_pages)
    failed: list[int] = []
    read = 0
    page_breaks = 0  # form feeds emitted: page n's text is preceded by n - 1 of them (PAGE_BREAK)
    image_pages = 0
    spaced_pages: list[int] = []
    recoded_pages: list[int] = []
    unmapped_fonts: set[str] = set()
    for index in range(to_read):
        number = index + 1
        try:
            page = reader.pages[index]
            text = page.extract_text() or ""
        except _PDF_FAILURES as exc:
            failed.append(number)
            warnings.append(f"page {number} unreadable, skipped ({type(exc).__name__}: {str(exc)[:120]})")
            continue
        read += 1
        if not text.strip():
            image_pages += _pdf_page_has_images(page)
            continue
        unmapped_fonts.update(_pdf_unmapped_cid_fonts(page))
        recoded = _repair_single_byte_cjk(text)
        if recoded is not None:
            text = recoded
            recoded_pages.append(number)
        text, spaced = _join_letter_spacing(text)
        if spaced:
            spaced_pages.append(number)
        text, page_breaks = _PAGE_MARK * (number - 1 - page_breaks) + text.replace(_PAGE_MARK, " "), number - 1
        if not sink.add(text):
            break
    if sink.full and read + len(failed) < n_pages:
        sink.truncated = True
        warnings.append(f"stopped after page {read + len(failed)} of {n_pages}: max_chars={limits.max_chars} reached")
    elif to_read < n_pages:
        sink.truncated = True
        warnings.append(f"stopped after {to_read} of {n_pages} pages (max_pages={limits.max_pages})")
    if failed and not read:
        raise CorruptDocument(
            f"none of the {len(failed)} PDF pages tried could be read (first failure: page {failed[0]})"
        )
    if recoded_pages:
        warnings.append(
            f"re-decoded CJK text from a single-byte font without ToUnicode on pages {_page_list(recoded_pages)}"
        )
    if spaced_pages:
        warnings.append(f"joined letter-spaced text on pages {_page_list(spaced_pages)}")
    if unmapped_fonts:
        warnings.append(
            f"CID fonts without ToUnicode map ({', '.join(sorted(unmapped_fonts)[:5])}): text may be garbled"
        )

    if image_pages:
        empty_reason = (
            f"PDF has {n_pages} page(s) with images but no text layer (scanned?); "
            "it needs OCR, which docproc does not do"
        )
    else:
        empty_reason = f"PDF has {n_pages} page(s) but no extractable text"
    return _Raw(
        sink.text("\n\n"), pages=n_pages, truncated=sink.truncated, warnings=warnings, empty_reason=empty_reason
    )


def _pdf_decrypt(reader: pypdf.PdfReader) -> str:
    algorithm = _pdf_encryption_name(reader)
    try:
        result = reader.decrypt("")
    except DependencyError:
        raise  # AES needs the 'cryptography' package: a deployment fault, not the document's
    except _PDF_FAILURES as exc:
        raise EncryptedDocument(
            f"PDF is encrypted ({algorithm}) with a security handler docproc cannot open: {exc}"
        ) from exc
    if result == PasswordType.NOT_DECRYPTED:
        raise EncryptedDocument(
            f"PDF is encrypted ({algorithm}) and needs a user password; the empty password did not open it"
        )
    return f"decrypted with empty user password ({algorithm})"


def _pdf_encryption_name(reader: pypdf.PdfReader) -> str:
    try:
        encrypt = reader.trailer["/Encrypt"].get_object()
        if encrypt.get("/Filter") != "/Standard":
            return f"security handler {encrypt.get('/Filter')}"
        version = int(encrypt.get("/V", 0))
        if version in (4, 5):
            filters = encrypt["/CF"].get_object()
            method = filters[encrypt.get("/StmF", "/StdCF")].get_object().get("/CFM")
            return {"/AESV2": "AES-128", "/AESV3": "AES-256", "/V2": "RC4-128"}.get(str(method), str(method))
        return f"RC4-{int(encrypt.get('/Length', 40))}"
    except _PDF_FAILURES:
        return "unknown algorithm"


def _pdf_page_has_images(page: pypdf.PageObject) -> bool:
    try:
        xobjects = page["/Resources"].get_object().get("/XObject")
        if xobjects is None:
            return False
        return any(obj.get_object().get("/Subtype") == "/Image" for obj in xobjects.get_object().values())
    except _PDF_FAILURES:
        return False


def _pdf_unmapped_cid_fonts(page: pypdf.PageObject) -> list[str]:
    """CJK CID fonts (Japan1, GB1, CNS1, Korea1) without ToUnicode: pypdf can only guess their characters."""
    try:
        fonts = page["/Resources"].get_object().get("/Font")
        if fonts is None:
            return []
        unmapped = []
        for font in fonts.get_object().values():
            font = font.get_object()
            if font.get("/Subtype") != "/Type0" or "/ToUnicode" in font:
                continue
            descendant = font["/DescendantFonts"].get_object()[0].get_object()
            ordering = descendant.get("/CIDSystemInfo", {}).get_object().get("/Ordering", "Identity")
            if str(ordering) != "Identity":
                unmapped.append(str(font.get("/BaseFont", "?")).lstrip("/"))
        return unmapped
    except _PDF_FAILURES:
        return []


_CJK = re.compile("[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff00-\uffef]")
_CJK_CODECS = _words("big5 big5hkscs cp932 cp949 cp950 euc_jp euc_kr gb18030 gb2312 gbk shift_jis")


def _repair_single_byte_cjk(text: str) -> str | None:
    """GBK/Big5/Shift_JIS bytes shown through a WinAnsi font without ToUnicode come out as Latin-1 soup."""
    visible = [ch for ch in text if not ch.isspace()]
    if len(visible) < 20 or sum(1 for ch in visible if "\u00a0" <= ch <= "\u00ff") < 0.3 * len(visible):
        return None
    raw = bytearray()
    for ch in text:
        if ord(ch) < 0x100:
            raw.append(ord(ch))
        else:
            try:
                raw += ch.encode("cp1252")
            except UnicodeEncodeError:
                return None
    best = charset_normalizer.from_bytes(bytes(raw)).best()
    if best is None or codecs.lookup(best.encoding).name.replace("-", "_") not in _CJK_CODECS:
        return None
    decoded = str(best)
    letters = [ch for ch in decoded if not ch.isspace() and not ch.isascii()]
    if not letters or sum(1 for ch in letters if _CJK.match(ch)) < 0.6 * len(letters):
        return None
    return re.sub(f"(?<={_CJK.pattern}) (?={_CJK.pattern})", "", decoded)


def _join_letter_spacing(text: str) -> tuple[str, bool]:
    """``N a m e :  A L E N A Z I`` -> ``Name: ALENAZI`` when most long lines of a page look like that."""
    lines = text.split("\n")
    long_lines = [line for line in lines if len(line.split()) >= 6]
    if not long_lines:
        return text, False
    spaced = sum(1 for line in long_lines if _is_letter_spaced(line))
    if spaced < 0.5 * len(long_lines):
        return text, False
    return "\n".join(_unspace(line) if _is_letter_spaced(line) else line for line in lines), True


def _is_letter_spaced(line: str) -> bool:
    tokens = line.split()
    singles = [token for token in tokens if len(token) == 1]
    # mostly one-character tokens, and mostly letters or digits (dot leaders ". . . ." are not letter spacing)
    return (
        len(tokens) >= 6
        and len(singles) >= 0.8 * len(tokens)
        and sum(1 for token in singles if token.isalnum()) >= 0.6 * len(singles)
    )


def _unspace(line: str) -> str:
    return " ".join(word.replace(" ", "") for word in re.split(r" {2,}", line.strip()))


def _page_list(pages: list[int]) -> str:
    shown = ", ".join(str(page) for page in pages[:10])
    return shown + (f" and {len(pages) - 10} more" if len(pages) > 10 else "")


# --- DOCX ------------------------------------------------------------------------------------------------------------


@_damage_is_corruption(DocumentFormat.DOCX)
def _extract_docx(sniffed: _Sniffed, limits: _Limits) -> _Raw:
    with _open_zip(sniffed.data, DocumentFormat.DOCX) as zf:
        main = _ooxml_main_part(zf, "word/document.xml")
        _open_member(zf, main, DocumentFormat.DOCX).close()  # size and encryption checks
    try:
        document = docx.Document(io.BytesIO(sniffed.data))
    except ValueError as exc:  # macro-enabled or template content type: read the XML ourselves
        return _extract_docx_xml(sniffed, limits, f"python-docx refused the file ({exc}); read word XML directly")
    except (PackageNotFoundError, KeyError, zipfile.BadZipFile, SyntaxError) as exc:
        raise CorruptDocument(f"DOCX could not be parsed: {type(exc).__name__}: {exc}") from exc
    sink = _Sink(limits.max_chars)
    for block in document.iter_inner_content():
        if not sink.add(_docx_block_text(block)):
            break
    return _Raw(sink.text(), truncated=sink.truncated, empty_reason="DOCX has no text in its body")


def _docx_block_text(block: Paragraph | Table, depth: int = 0) -> str:
    if isinstance(block, Paragraph):
        return block.text
    rows = []
    for row in block.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell repeats for every grid column it spans
                continue
            seen.add(id(cell._tc))
            parts = (
                [_docx_block_text(inner, depth + 1) for inner in cell.iter_inner_content()]
                if depth < 5
                else [cell.text]
            )
            cells.append(" ".join(" ".join(parts).split()))
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            rows.append(" | ".join(cells))
    return "\n".join(rows)


def _extract_docx_xml(sniffed: _Sniffed, limits: _Limits, warning: str) -> _Raw:
    sink = _Sink(limits.max_chars)
    with _open_zip(sniffed.data, DocumentFormat.DOCX) as zf:
        main = _ooxml_main_part(zf, "word/document.xml")
        with _open_member(zf, main, DocumentFormat.DOCX) as member:
            try:
                for _, elem in _iterparse(member):
                    if _local(elem.tag) == "p":
                        parts = []
                        for node in elem.iter():
                            name = _local(node.tag)
                            if name == "t" and node.text:
                                parts.append(node.text)
                            elif name == "tab":
                                parts.append("\t")
                            elif name in ("br", "cr"):
                                parts.append("\n")
                        elem.clear()
                        if not sink.add("".join(parts)):
                            break
            except ET.ParseError as exc:
                raise CorruptDocument(f"DOCX {main} is not well-formed XML: {exc}") from exc
    return _Raw(sink.text(), truncated=sink.truncated, warnings=[warning], empty_reason="DOCX has no text in its body")


# --- XLSX ------------------------------------------------------------------------------------------------------------

_MAX_COLUMNS = 200


@_damage_is_corruption(DocumentFormat.XLSX)
def _extract_xlsx(sniffed: _Sniffed, limits: _Limits) -> _Raw:
    sink = _Sink(limits.max_chars)
    with _open_zip(sniffed.data, DocumentFormat.XLSX) as zf:
        try:
            workbook = _ooxml_main_part(zf, "xl/workbook.xml")
            rels = _relationships(zf, workbook)
            shared = _xlsx_shared_strings(zf, rels, limits.max_chars)
            sheets: list[tuple[str, str]] = []
            with _open_member(zf, workbook, DocumentFormat.XLSX) as member:
                for _, elem in _iterparse(member):
                    if _local(elem.tag) == "sheet":
                        rel_id = next((v for k, v in elem.attrib.items() if _local(k) == "id"), "")
                        target = rels.get(rel_id, ("", ""))[1]
                        sheets.append((elem.get("name", f"Sheet{len(sheets) + 1}"), target))
            for name, target in sheets:
                if target not in zf.namelist():
                    continue
                if not sink.add(f"Sheet: {name}"):
                    break
                with _open_member(zf, target, DocumentFormat.XLSX) as member:
                    for line in _xlsx_rows(member, shared):
                        if not sink.add(line):
                            break
                if sink.full:
                    sink.truncated = True
                    break
        except ET.ParseError as exc:
            raise CorruptDocument(f"XLSX holds malformed XML: {exc}") from exc
    return _Raw(sink.text(), pages=len(sheets), truncated=sink.truncated, empty_reason="XLSX has no cell text")


def _xlsx_shared_strings(zf: zipfile.ZipFile, rels: dict[str, tuple[str, str]], max_chars: int) -> list[str]:
    target = next((t for kind, t in rels.values() if kind.endswith("/sharedStrings")), "xl/sharedStrings.xml")
    if target not in zf.namelist():
        return []
    strings: list[str] = []
    size = 0
    with _open_member(zf, target, DocumentFormat.XLSX) as member:
        for _, elem in _iterparse(member):
            if _local(elem.tag) != "si":
                continue
            parts = []
            for child in elem:
                name = _local(child.tag)
                if name == "t":
                    parts.append(child.text or "")
                elif name == "r":
                    parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
            value = "".join(parts)
            strings.append(value)
            size += len(value)
            elem.clear()
            if size > 4 * max_chars:  # strings beyond this cannot make it into the text anyway
                break
    return strings


def _xlsx_rows(member: io.BufferedIOBase, shared: list[str]) -> Iterator[str]:
    for _, elem in _iterparse(member):
        if _local(elem.tag) != "row":
            continue
        cells: dict[int, str] = {}
        for cell in elem:
            if _local(cell.tag) != "c":
                continue
            value = _xlsx_cell_value(cell, shared)
            if value:
                column = _xlsx_column(cell.get("r", "")) if cell.get("r") else len(cells)
                cells[min(column, _MAX_COLUMNS)] = value
        elem.clear()
        if cells:
            width = max(cells) + 1
            yield " | ".join(cells.get(i, "") for i in range(width))


def _xlsx_cell_value(cell: ET.Element, shared: list[str]) -> str:
    kind = cell.get("t", "n")
    value = None
    inline: list[str] = []
    for child in cell:
        name = _local(child.tag)
        if name == "v":
            value = child.text
        elif name == "is":
            inline.extend(node.text or "" for node in child.iter() if _local(node.tag) == "t")
    if kind == "inlineStr":
        return " ".join("".join(inline).split())
    if value is None:
        return ""
    if kind == "s":
        try:
            return " ".join(shared[int(value)].split())
        except (ValueError, IndexError):
            return ""
    if kind == "b":
        return "TRUE" if value == "1" else "FALSE"
    if kind == "n":
        return _format_number(value)
    return " ".join(value.split())


def _format_number(value: str) -> str:
    try:
        number = float(value)
    except ValueError:
        return value
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return f"{number:.15g}"


def _xlsx_column(ref: str) -> int:
    column = 0
    for ch in ref:
        if not ch.isalpha():
            break
        column = column * 26 + (ord(ch.upper()) - 64)
    return max(column - 1, 0)


# --- PPTX ------------------------------------------------------------------------------------------------------------


@_damage_is_corruption(DocumentFormat.PPTX)
def _extract_pptx(sniffed: _Sniffed, limits: _Limits) -> _Raw:
    sink = _Sink(limits.max_chars)
    with _open_zip(sniffed.data, DocumentFormat.PPTX) as zf:
        try:
            presentation = _ooxml_main_part(zf, "ppt/presentation.xml")
            rels = _relationships(zf, presentation)
            slides = []
            with _open_member(zf, presentation, DocumentFormat.PPTX) as member:
                for _, elem in _iterparse(member):
                    if _local(elem.tag) == "sldId":
                        rel_id = next(
                            (v for k, v in elem.attrib.items() if _local(k) == "id" and k.startswith("{")), ""
                        )
                        target = rels.get(rel_id, ("", ""))[1]
                        if target in zf.namelist():
                            slides.append(target)
            for number, slide in enumerate(slides, 1):
                blocks = _drawingml_blocks(zf, slide)
                notes = [
                    target
                    for kind, target in _relationships(zf, slide).values()
                    if kind.endswith("/notesSlide") and target in zf.namelist()
                ]
                note_blocks = [b for note in notes for b in _drawingml_blocks(zf, note) if not b.isdigit()]
                if note_blocks:
                    blocks += ["Notes:", *note_blocks]
                if blocks and not sink.add("\n".join([f"Slide {number}", *blocks])):
                    break
        except ET.ParseError as exc:
            raise CorruptDocument(f"PPTX holds malformed XML: {exc}") from exc
    return _Raw(
        sink.text("\n\n"),
        pages=len(slides),
        truncated=sink.truncated,
        empty_reason=f"PPTX has {len(slides)} slide(s) but no text (pictures or embedded objects only)",
    )


def _drawingml_blocks(zf: zipfile.ZipFile, part: str) -> list[str]:
    """Paragraphs of a slide or notes part in document order; table rows become ``a | b | c`` lines."""
    with _open_member(zf, part, DocumentFormat.PPTX) as member:
        root = ET.parse(member).getroot()  # noqa: S314 - see _iterparse; slide parts are small
    blocks: list[str] = []
    _drawingml_walk(root, blocks, 0)
    return [block for block in blocks if block.strip()]


def _drawingml_walk(elem: ET.Element, blocks: list[str], depth: int) -> None:
    for child in elem:
        name = _local(child.tag)
        if name == "p":
            blocks.append(_drawingml_paragraph(child))
        elif name == "tr":
            cells = [
                " ".join(" ".join(_drawingml_paragraph(p) for p in tc.iter() if _local(p.tag) == "p").split())
                for tc in child
                if _local(tc.tag) == "tc"
            ]
            blocks.append(" | ".join(cells))
        elif depth < 100:
            _drawingml_walk(child, blocks, depth + 1)


def _drawingml_paragraph(paragraph: ET.Element) -> str:
    parts = []
    for node in paragraph.iter():
        name = _local(node.tag)
        if name == "t" and node.text:
            parts.append(node.text)
        elif name == "br":
            parts.append("\n")
    return "".join(parts)


# --- ODT (and other OpenDocument text containers) ----------------------------------------------------------------

_ODF_SKIP = _words(
    "annotation automatic-styles bookmark-ref font-face-decls forms note-citation scripts sequence-decls "
    "tracked-changes user-field-decls variable-decls"
)


@_damage_is_corruption(DocumentFormat.ODT)
def _extract_odt(sniffed: _Sniffed, limits: _Limits) -> _Raw:
    warnings: list[str] = []
    if sniffed.media_type != MEDIA_TYPES[DocumentFormat.ODT]:
        warnings.append(f"OpenDocument type {sniffed.media_type} extracted as text")
    with _open_zip(sniffed.data, DocumentFormat.ODT) as zf:
        if "META-INF/manifest.xml" in zf.namelist() and b"encryption-data" in _read_small(
            zf, "META-INF/manifest.xml", 1 << 22
        ):
            raise EncryptedDocument("password-protected OpenDocument file (manifest lists encrypted parts)")
        with _open_member(zf, "content.xml", DocumentFormat.ODT) as member:
            try:
                root = ET.parse(member).getroot()  # noqa: S314 - see _iterparse
            except ET.ParseError as exc:
                raise CorruptDocument(f"ODT content.xml is not well-formed XML: {exc}") from exc
    sink = _Sink(limits.max_chars)
    body = next((child for child in root if _local(child.tag) == "body"), root)
    _odf_blocks(body, sink, 0)
    return _Raw(sink.text(), truncated=sink.truncated, warnings=warnings, empty_reason="ODT body has no text")


def _odf_blocks(elem: ET.Element, sink: _Sink, depth: int) -> None:
    for child in elem:
        if sink.full:
            sink.truncated = True
            return
        name = _local(child.tag)
        if name in _ODF_SKIP or depth > 100:
            continue
        if name in ("p", "h"):
            sink.add(_odf_inline(child, 0))
        elif name == "table-row":
            cells = [
                " ".join(" ".join(_odf_inline(p, 0) for p in cell.iter() if _local(p.tag) in ("p", "h")).split())
                for cell in child
                if _local(cell.tag) == "table-cell"
            ]
            while cells and not cells[-1]:
                cells.pop()
            sink.add(" | ".join(cells))
        else:
            _odf_blocks(child, sink, depth + 1)


def _odf_inline(elem: ET.Element, depth: int) -> str:
    parts = [elem.text or ""]
    for child in elem:
        name = _local(child.tag)
        if name == "s":
            parts.append(" " * min(int(child.get(_odf_attr("c"), "1") or 1), 100))
        elif name == "tab":
            parts.append("\t")
        elif name == "line-break":
            parts.append("\n")
        elif name not in _ODF_SKIP and depth < 50:
            parts.append(_odf_inline(child, depth + 1))
        parts.append(child.tail or "")
    return "".join(parts)


def _odf_attr(name: str) -> str:
    return "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}" + name


# --- RTF ------------------------------------------------------------------------------------------------------------

_RTF_TOKEN = re.compile(
    rb"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?|\\'([0-9a-fA-F]{2})|\\(.)|([{}])|[\r\n]+|([^\\{}\r\n]+)", re.S
)
_RTF_DESTINATIONS = _words(
    "aftnsep aftnsepc annotation atnauthor atnid bkmkend bkmkstart blipuid colorschememapping colortbl "
    "datastore docvar falt filetbl fldinst fonttbl footer footerf footerl footerr ftnsep ftnsepc "
    "generator header headerf headerl headerr info latentstyles levelnumbers leveltext listoverridetable "
    "listtable listtext mmathPr nonshppict objdata object panose pgdsctbl pict pntxta pntxtb private "
    "revtbl rsidtbl shpinst stylesheet tc template themedata userprops wgrffmtfilter xe xmlnstbl"
)
_RTF_TEXT_WORDS = {
    "par": "\n",
    "line": "\n",
    "sect": "\n\n",
    "page": "\n\n",
    "tab": "\t",
    "cell": " | ",
    "nestcell": " | ",
    "row": "\n",
    "nestrow": "\n",
    "emdash": "\u2014",
    "endash": "\u2013",
    "bullet": "\u2022",
    "lquote": "\u2018",
    "rquote": "\u2019",
    "ldblquote": "\u201c",
    "rdblquote": "\u201d",
    "emspace": " ",
    "enspace": " ",
    "qmspace": " ",
}
_RTF_SYMBOLS = {
    b"~": "\u00a0",
    b"-": "",
    b"_": "\u2011",
    b"\\": "\\",
    b"{": "{",
    b"}": "}",
    b"\n": "\n",
    b"\r": "\n",
    b"\t": "\t",
}
_RTF_FONT_CHARSETS = {
    77: "mac_roman",
    128: "cp932",
    129: "cp949",
    130: "johab",
    134: "gbk",
    136: "big5",
    161: "cp1253",
    162: "cp1254",
    163: "cp1258",
    177: "cp1255",
    178: "cp1256",
    186: "cp1257",
    204: "cp1251",
    222: "cp874",
    238: "cp1250",
}
_RTF_FONT_DEF = re.compile(rb"\\f(\d+)[^;{}]*?\\fcharset(\d+)")


@dataclass
class _RtfState:
    skip: bool = False
    uc: int = 1
    codec: str = "cp1252"


def _extract_rtf(sniffed: _Sniffed, limits: _Limits) -> _Raw:
    data = sniffed.data
    warnings: list[str] = []
    default_codec = "cp1252"
    header = data[:4096]
    if match := re.search(rb"\\ansicpg(\d+)", header):
        default_codec = _valid_codec(f"cp{int(match.group(1))}", default_codec)
    elif re.search(rb"\\mac\b", header):
        default_codec = "mac_roman"
    elif re.search(rb"\\pca\b", header):
        default_codec = "cp850"
    elif re.search(rb"\\pc\b", header):
        default_codec = "cp437"
    font_codecs: dict[int, str] = {}
    for number, charset in _RTF_FONT_DEF.findall(data[:262144]):
        codec = _RTF_FONT_CHARSETS.get(int(charset))
        if codec:
            font_codecs[int(number)] = _valid_codec(codec, default_codec)

    out: list[str] = []
    pending = bytearray()
    stack: list[_RtfState] = []
    state = _RtfState(codec=default_codec)
    skip_chars = 0  # fallback characters still to drop after a \uN
    group_start = False
    pos = 0
    size = 0
    limit = limits.max_chars * _TEXT_WORK_FACTOR

    def flush() -> None:
        if pending:
            out.append(pending.decode(state.codec, errors="replace"))
            pending.clear()

    while pos < len(data) and size < limit:
        match = _RTF_TOKEN.match(data, pos)
        if match is None:  # a lone backslash at the very end
            break
        pos = match.end()
        word, param, hex_byte, symbol, brace, text = match.groups()
        if hex_byte is not None:
            if skip_chars:
                skip_chars -= 1
            elif not state.skip:
                pending.append(int(hex_byte, 16))
            group_start = False
            continue
        flush()
        if brace == b"{":
            stack.append(state)
            state = _RtfState(skip=state.skip, uc=state.uc, codec=state.codec)
            group_start = True
            skip_chars = 0
            continue
        if brace == b"}":
            state = stack.pop() if stack else state
            group_start = False
            skip_chars = 0
            continue
        if word is not None:
            name = word.decode("ascii")
            if name == "bin" and param:  # raw binary data follows: skip it
                pos += max(int(param), 0)
            elif name in _RTF_DESTINATIONS:
                state.skip = True
            elif name == "uc" and param:
                state.uc = max(int(param), 0)
            elif name == "u" and param:
                if not state.skip:
                    code = int(param)
                    out.append(chr(code + 65536 if code < 0 else code))
                    size += 1
                skip_chars = state.uc
            elif name == "f" and param:
                state.codec = font_codecs.get(int(param), default_codec)
            elif name in _RTF_TEXT_WORDS and not state.skip:
                if name == "row" and out and out[-1] == " | ":
                    out.pop()
                out.append(_RTF_TEXT_WORDS[name])
                size += 1
            group_start = False
            continue
        if symbol is not None:
            if symbol == b"*" and group_start:
                state.skip = True
            elif skip_chars:
                skip_chars -= 1
            elif not state.skip and symbol in _RTF_SYMBOLS:
                out.append(_RTF_SYMBOLS[symbol])
            group_start = False
            continue
        if text is not None:
            group_start = False
            if skip_chars:
                dropped = min(skip_chars, len(text))
                text = text[dropped:]
                skip_chars -= dropped
            if text and not state.skip:
                out.append(text.decode(state.codec, errors="replace"))
                size += len(text)
    flush()
    truncated = pos < len(data) and size >= limit
    if truncated:
        warnings.append(f"RTF parsing stopped after {limit} characters of text")
    result = "".join(out)
    with contextlib.suppress(UnicodeDecodeError):  # \uN pairs outside the BMP arrive as UTF-16 surrogates
        result = result.encode("utf-16", "surrogatepass").decode("utf-16")
    return _Raw(
        result, truncated=truncated, warnings=warnings, empty_reason="RTF has no text outside its control groups"
    )


def _valid_codec(codec: str, fallback: str) -> str:
    try:
        codecs.lookup(codec)
    except LookupError:
        return fallback
    return codec


# --- HTML (and XML) -------------------------------------------------------------------------------------------------

_SKIPPED_ELEMENTS = _words("button canvas head iframe nav noscript object script select style svg template")
_BLOCK_ELEMENTS = _words(
    "address article aside blockquote body caption center dd details dialog div dl dt fieldset figcaption "
    "figure footer form h1 h2 h3 h4 h5 h6 header hr html legend li main ol p pre section summary table "
    "tbody tfoot thead tr ul"
)
_VOID_ELEMENTS = _words("area base br col embed hr img input link meta param source track wbr")


class _MarkupText(HTMLParser):
    """Visible text of HTML: no script/style/nav/head (but the title), blocks on their own lines, cells ``|``."""

    def __init__(self, *, every_element_is_block: bool = False) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self.skipping: Counter[str] = Counter()
        self.in_title = False
        self.pre = 0
        self.cells_in_row = 0
        self.every_element_is_block = every_element_is_block

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.skipping["head"] = 0  # <head> is often never closed
        if tag == "title":
            self.in_title = True
            return
        if tag in _SKIPPED_ELEMENTS and tag not in _VOID_ELEMENTS:
            self.skipping[tag] += 1
            return
        if tag == "br":
            self.parts.append("\n")
        elif tag == "tr":
            self.cells_in_row = 0
            self.parts.append("\n")
        elif tag in ("td", "th"):
            if self.cells_in_row:
                self.parts.append(" | ")
            self.cells_in_row += 1
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag == "pre":
            self.pre += 1
            self.parts.append("\n")
        elif tag in _BLOCK_ELEMENTS or self.every_element_is_block:
            self.parts.append("\n")
        elif tag == "img" and not self.skipping.total():
            alt = dict(attrs).get("alt")
            if alt and alt.strip():
                self.parts.append(f" {alt.strip()} ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        elif tag in _SKIPPED_ELEMENTS:
            self.skipping[tag] = max(self.skipping[tag] - 1, 0)
        elif tag == "pre":
            self.pre = max(self.pre - 1, 0)
            self.parts.append("\n")
        elif tag in _BLOCK_ELEMENTS or self.every_element_is_block:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
            return
        if self.skipping.total():
            return
        self.parts.append(data if self.pre else re.sub(r"\s+", " ", data))

    def text(self) -> str:
        title = " ".join("".join(self.title).split())
        lines = [line.strip() for line in "".join(self.parts).split("\n")]
        lines = [line for line in lines if line.strip(" |-")]  # drop empty cells and empty list items
        body = "\n".join(lines)
        if title and not body.startswith(title):
            body = f"{title}\n\n{body}"
        return body


def _html_to_text(markup: str, *, xml: bool = False) -> tuple[str, list[str]]:
    parser = _MarkupText(every_element_is_block=xml)
    try:
        parser.feed(markup)
        parser.close()
    except (AssertionError, ValueError) as exc:  # html.parser on badly broken declarations
        stripped = re.sub(r"<[^>]{0,2000}>", " ", markup)
        return stripped, [f"HTML parser gave up ({exc}); tags stripped by pattern"]
    return parser.text(), []


def _extract_html(sniffed: _Sniffed, limits: _Limits) -> _Raw:
    markup, truncated = _bounded_text(sniffed, limits)
    text, warnings = _html_to_text(markup)
    return _Raw(text, truncated=truncated, warnings=warnings, empty_reason="HTML page has no visible text")


def _bounded_text(sniffed: _Sniffed, limits: _Limits) -> tuple[str, bool]:
    text = sniffed.text or ""
    limit = limits.max_chars * _TEXT_WORK_FACTOR
    return (text[:limit], True) if len(text) > limit else (text, False)


# --- plain text, markdown, CSV, JSON ---------------------------------------------------------------------------------


def _extract_txt(sniffed: _Sniffed, limits: _Limits) -> _Raw:
    text, truncated = _bounded_text(sniffed, limits)
    warnings: list[str] = []
    if any(w.startswith("XML markup stripped") for w in sniffed.warnings):
        text, warnings = _html_to_text(text, xml=True)
    return _Raw(text, truncated=truncated, warnings=warnings, empty_reason="text file has no visible text")


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


def _extract_markdown(sniffed: _Sniffed, limits: _Limits) -> _Raw:
    source, truncated = _bounded_text(sniffed, limits)
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
    return _Raw("\n".join(lines), truncated=truncated, empty_reason="markdown file has no text")


_CSV_DELIMITERS = (",", ";", "\t", "|")


def _best_delimiter(sample: str, ext: str = "") -> str:
    if ext == "tsv":
        return "\t"
    best, best_score = ",", (0.0, 0)
    for delimiter in _CSV_DELIMITERS:
        width, consistency, rows = _csv_shape(sample, delimiter)
        score = (consistency if width >= 2 and rows >= 2 else 0.0, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_shape(sample: str, delimiter: str) -> tuple[int, float, int]:
    """``(usual row width, share of rows with that width, rows looked at)`` of the start of a CSV text."""
    sample = sample[:32768]
    try:
        rows = []
        for row in csv.reader(io.StringIO(sample.replace("\x00", "")), delimiter=delimiter):
            rows.append(row)
            if len(rows) >= 50:
                break
    except csv.Error:
        return 0, 0.0, 0
    if len(rows) < 50 and len(sample) == 32768 and rows:
        rows.pop()  # the last row may have been cut by the sample
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        return 0, 0.0, 0
    width, count = Counter(len(row) for row in rows).most_common(1)[0]
    return width, count / len(rows), len(rows)


def _extract_csv(sniffed: _Sniffed, limits: _Limits) -> _Raw:
    source, truncated = _bounded_text(sniffed, limits)
    source = source.replace("\x00", "")
    delimiter = _best_delimiter(source[:32768], sniffed.ext)
    sink = _Sink(limits.max_chars)
    warnings: list[str] = []
    try:
        for row in csv.reader(io.StringIO(source), delimiter=delimiter):
            cells = [" ".join(cell.split()) for cell in row]
            while cells and not cells[-1]:
                cells.pop()
            if cells and not sink.add(" | ".join(cells)):
                break
    except csv.Error as exc:
        return _Raw(source, truncated=truncated, warnings=[f"CSV could not be parsed ({exc}); extracted as plain text"])
    if delimiter != ",":
        warnings.append(f"CSV delimiter {delimiter!r}")
    return _Raw(
        sink.text(), truncated=truncated or sink.truncated, warnings=warnings, empty_reason="CSV has no cell text"
    )


def _extract_json(sniffed: _Sniffed, limits: _Limits) -> _Raw:
    text = sniffed.text or ""
    warnings: list[str] = []
    try:
        value: Any = json.loads(text)
    except json.JSONDecodeError:
        value = _json_lines(text)
        warnings.append(f"JSON Lines: {len(value or [])} records")
    sink = _Sink(limits.max_chars)
    for line in _flatten_json(value):
        if not sink.add(line):
            break
    return _Raw(
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


# --- e-mail ------------------------------------------------------------------------------------------------------


def _extract_eml(sniffed: _Sniffed, limits: _Limits) -> _Raw:
    if (sniffed.charset or "").startswith(("utf-16", "utf-32")):
        message = email.message_from_string(sniffed.text or "", policy=email_policy.compat32)
    else:
        message = email.message_from_bytes(sniffed.data, policy=email_policy.compat32)
    warnings: list[str] = []
    blocks = _email_headers(message)
    _email_body(message, blocks, warnings, 0)
    sink = _Sink(limits.max_chars)
    for block in blocks:
        if not sink.add(block):
            break
    return _Raw(sink.text(), truncated=sink.truncated, warnings=warnings, empty_reason="e-mail has no text")


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
    if _SURROGATES.search(decoded):  # raw 8-bit header bytes (surrogate-escaped by the parser)
        raw = decoded.encode("utf-8", "surrogateescape")
        decoded = _decode_with_charset(raw, None)[0]
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
    text, warnings = _decode_with_charset(payload, part.get_content_charset())
    if part.get_content_type() == "text/html":
        text, html_warnings = _html_to_text(text)
        warnings += html_warnings
    return text, warnings


_EXTRACTORS: dict[DocumentFormat, _Extractor] = {
    DocumentFormat.TXT: _extract_txt,
    DocumentFormat.MARKDOWN: _extract_markdown,
    DocumentFormat.HTML: _extract_html,
    DocumentFormat.CSV: _extract_csv,
    DocumentFormat.JSON: _extract_json,
    DocumentFormat.PDF: _extract_pdf,
    DocumentFormat.DOCX: _extract_docx,
    DocumentFormat.XLSX: _extract_xlsx,
    DocumentFormat.PPTX: _extract_pptx,
    DocumentFormat.ODT: _extract_odt,
    DocumentFormat.EML: _extract_eml,
    DocumentFormat.RTF: _extract_rtf,
}
