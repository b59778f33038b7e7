"""Content-first format detection: what the bytes are, whatever the object key or the declared type say.

Magic numbers first (``%PDF-`` anywhere in the first KiB, zip, OLE, RTF, images, media, executables, archives),
then the member names of a zip (or, for a zip whose central directory is missing, its local headers and
``[Content_Types].xml``), then markup sniffing of decoded text (e-mail headers, HTML, JSON, markdown, CSV). The
extension and the declared ``Content-Type`` only break ties between text formats (prose or CSV? markdown or plain
text?), so a plain-text file named ``.odt`` is text and a PDF named ``.txt`` is a PDF.

Raises :class:`EmptyDocument` for empty input, :class:`UnsupportedDocumentType` for content docproc cannot process
(images, media, executables, archives, legacy Office binaries, unknown binary), :class:`EncryptedDocument` for
password-protected Office files and :class:`DocumentTooComplex` for JSON nested past the parser's limit.
Hand-written: libraries that sniff types (python-magic, filetype) either need libmagic in the layer or stop at "it
is a zip", and none tells a CSV from prose.
"""

from __future__ import annotations

import csv
import io
import json
import posixpath
import re
import struct
import sys
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable
from typing import Any

from docproc.errors import (
    CorruptDocument,
    DocumentTooComplex,
    EmptyDocument,
    EncryptedDocument,
    UnsupportedDocumentType,
)
from docproc.formats.base import Sniffed, words
from docproc.formats.charset import decode_text
from docproc.formats.office import read_small
from docproc.formats.registry import (
    DECLARED_FORMATS,
    EXTENSION_FORMATS,
    MEDIA_TYPES,
    ODF_MIMETYPE_PREFIX,
    OFFICE_FORMATS,
    OOXML_CONTENT_TYPES,
    OOXML_PREFIXES,
    DocumentFormat,
)

# Images read by OCR (every page goes to Textract).
_IMAGE_MAGICS: tuple[tuple[bytes, DocumentFormat], ...] = (
    (b"\x89PNG\r\n\x1a\n", DocumentFormat.PNG),
    (b"\xff\xd8\xff", DocumentFormat.JPEG),
    (b"II*\x00", DocumentFormat.TIFF),
    (b"MM\x00*", DocumentFormat.TIFF),
)

# (offset, magic, description, kind) for content docproc refuses; checked after PDF/zip/OLE/RTF.
_REFUSED_SIGNATURES: tuple[tuple[int, bytes, str, str], ...] = (
    (0, b"GIF87a", "GIF image", "image"),
    (0, b"GIF89a", "GIF image", "image"),
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

REFUSAL_TEMPLATES = {
    "image": "{}: not an image format OCR reads (PNG, JPEG and TIFF are)",
    "media": "{}: audio and video are not supported",
    "executable": "{}: executables are not documents",
    "archive": "{}: archives are not supported; upload the documents inside it",
    "binary": "{} is not a supported document type",
}

_BLANK_BYTES = b" \t\r\n\f\v\x00"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")


def sniff(data: bytes, key: str, declared_content_type: str | None) -> Sniffed:
    if not data[:4096].strip(_BLANK_BYTES) and not data.strip(_BLANK_BYTES):
        raise EmptyDocument(
            "document is empty (0 bytes)" if not data else f"document holds only whitespace ({len(data)} bytes)"
        )
    ext = extension(key)
    declared_type, declared_charset = _parse_content_type(declared_content_type)
    hint = DECLARED_FORMATS.get(declared_type) or EXTENSION_FORMATS.get(ext)

    pdf_at = _pdf_header_offset(data)
    if pdf_at is not None:
        return Sniffed(DocumentFormat.PDF, MEDIA_TYPES[DocumentFormat.PDF], data, ext=ext, pdf_offset=pdf_at)
    for magic, image in _IMAGE_MAGICS:
        if data.startswith(magic):
            return Sniffed(image, MEDIA_TYPES[image], data, ext=ext)
    if data.startswith(_ZIP_MAGICS):
        fmt, media_type = _sniff_zip(data, hint)
        return Sniffed(fmt, media_type, data, ext=ext)
    if data.startswith(_OLE_MAGIC):
        _refuse_ole(data)
    if data[:1024].lstrip()[:5] == b"{\\rtf":
        return Sniffed(DocumentFormat.RTF, MEDIA_TYPES[DocumentFormat.RTF], data, ext=ext)
    _refuse_known_binary(data)

    markup_charset = _meta_charset(data) if data[:1024].lstrip()[:1] == b"<" else None
    decoded = decode_text(
        data, declared_charset or markup_charset, declared_by="HTML <meta>" if markup_charset else "Content-Type"
    )
    if decoded is None:
        raise UnsupportedDocumentType(f"unrecognised binary content (starts with {data[:8].hex(' ')})")
    text, charset, warnings = decoded
    if not text.strip():
        raise EmptyDocument(f"document holds only whitespace ({len(data)} bytes, charset {charset})")
    fmt, text_warnings = _sniff_text(text, ext, hint)
    return Sniffed(fmt, MEDIA_TYPES[fmt], data, text=text, charset=charset, ext=ext, warnings=warnings + text_warnings)


def extension(key: str) -> str:
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
            raise UnsupportedDocumentType(REFUSAL_TEMPLATES[kind].format(description))
    if data[:4] == b"RIFF" and len(data) >= 12:
        form = data[8:12]
        if form == b"WEBP":
            raise UnsupportedDocumentType(REFUSAL_TEMPLATES["image"].format("WebP image"))
        raise UnsupportedDocumentType(REFUSAL_TEMPLATES["media"].format(f"RIFF {form.decode('latin-1').strip()} file"))
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"avif", b"heim", b"heis"):
            raise UnsupportedDocumentType(
                REFUSAL_TEMPLATES["image"].format(f"HEIF/AVIF image ({brand.decode('latin-1')})")
            )
        raise UnsupportedDocumentType(REFUSAL_TEMPLATES["media"].format("MP4/QuickTime video"))
    if data[:2] == b"BM" and len(data) > 26 and data[6:10] == b"\x00\x00\x00\x00":
        raise UnsupportedDocumentType(REFUSAL_TEMPLATES["image"].format("BMP image"))
    if data[:2] == b"MZ" and b"\x00" in data[:512]:
        raise UnsupportedDocumentType(REFUSAL_TEMPLATES["executable"].format("Windows executable"))
    if data[:3] == b"BZh" and data[4:10] == b"1AY&SY":
        raise UnsupportedDocumentType(REFUSAL_TEMPLATES["archive"].format("bzip2 archive"))


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


def _sniff_zip(data: bytes, hint: DocumentFormat | None) -> tuple[DocumentFormat, str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
            mimetype = read_small(zf, "mimetype") if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError):
        # No central directory (truncated upload): identify the container from its local headers so that the
        # extractor reports it as a corrupt DOCX/XLSX/..., not as an unknown archive.
        local = _zip_local_members(data)
        fmt = _ooxml_format(local.keys(), local.get("[Content_Types].xml", b""))
        mimetype = local.get("mimetype", b"")
        if fmt is None and mimetype.startswith(ODF_MIMETYPE_PREFIX):
            fmt = DocumentFormat.ODT
        if fmt is None and hint in OFFICE_FORMATS:
            fmt = hint
        if fmt is None:
            raise CorruptDocument("truncated or damaged zip archive (no central directory) of unknown type") from None
        return fmt, MEDIA_TYPES[fmt]

    if mimetype.startswith(ODF_MIMETYPE_PREFIX):
        return DocumentFormat.ODT, mimetype.decode("ascii", "replace").strip()
    if mimetype.startswith(b"application/epub+zip"):
        raise UnsupportedDocumentType("EPUB e-book is not supported")
    fmt = _ooxml_format(names, b"")
    if fmt is not None:
        return fmt, MEDIA_TYPES[fmt]
    if any(name.startswith("visio/") for name in names):
        raise UnsupportedDocumentType("Visio drawing (.vsdx) is not supported")
    if "META-INF/MANIFEST.MF" in names:
        raise UnsupportedDocumentType(REFUSAL_TEMPLATES["executable"].format("Java archive (.jar)"))
    raise UnsupportedDocumentType(
        REFUSAL_TEMPLATES["archive"].format(f"zip archive of {len(names)} files that is not an office document")
    )


def _ooxml_format(names: Iterable[str], content_types: bytes) -> DocumentFormat | None:
    names = list(names)
    if "[Content_Types].xml" not in names:
        return None
    for marker, fmt in OOXML_CONTENT_TYPES:
        if marker.encode() in content_types:
            return fmt
    for prefix, fmt in OOXML_PREFIXES:
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


# --- text sniffing ----------------------------------------------------------------------------------------------

_EMAIL_HEADER = re.compile(r"^([!-9;-~]+):")
_EMAIL_KEY_HEADERS = words(
    "cc content-type date delivered-to from message-id mime-version received reply-to return-path sender "
    "subject to x-mailer"
)
_HTML_TAGS = words(
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
        if json_error == _TOO_DEEP:
            raise DocumentTooComplex(
                f"JSON nested deeper than the parser's limit (about {sys.getrecursionlimit()} levels); "
                "read as text it would only be brackets"
            )
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
    width, consistency, rows = csv_shape(head, best_delimiter(head, ext))
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


_TOO_DEEP = "nested too deeply"


def _json_error(text: str) -> str | None:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and json_lines(text) is not None:
            return None
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    except RecursionError:
        return _TOO_DEEP
    return None if isinstance(value, dict | list) else "top-level value is not an object or array"


def json_lines(text: str) -> list[Any] | None:
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


_CSV_DELIMITERS = (",", ";", "\t", "|")


def best_delimiter(sample: str, ext: str = "") -> str:
    if ext == "tsv":
        return "\t"
    best, best_score = ",", (0.0, 0)
    for delimiter in _CSV_DELIMITERS:
        width, consistency, rows = csv_shape(sample, delimiter)
        score = (consistency if width >= 2 and rows >= 2 else 0.0, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def csv_shape(sample: str, delimiter: str) -> tuple[int, float, int]:
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
