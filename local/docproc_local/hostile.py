"""Hostile documents, generated on demand (never committed): what a careless or malicious uploader can send.

Each :class:`Case` builds its bytes when asked and says how the pipeline must end: the terminal status, the reason
code of a FAILED record (a specific one: never ``RETRIES_EXHAUSTED`` or ``INTERNAL_ERROR``), always on attempt 1.
Used by ``tests/hostile/`` (each case through the local pipeline) and ``docproc bench --hostile`` (the table).
Generation is kept cheap (well under a second each, except the bombs' compression): the point is the shape, not
the size on disk; decompression bombs are small files that *declare* or *inflate to* huge sizes.
"""

from __future__ import annotations

import base64
import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

DEPTH = 100_000  # nesting far past Python's recursion limit (1,000) and any parser's


@dataclass(frozen=True)
class Case:
    name: str  # the object key it is uploaded as (its extension is part of the attack)
    make: Callable[[], bytes]
    status: str  # COMPLETED or FAILED
    reason: str | None = None  # the reason code of a FAILED record
    what: str = ""


# --- nesting -------------------------------------------------------------------------------------------------------


def deep_json() -> bytes:
    return b'{"a":' * DEPTH + b"1" + b"}" * DEPTH


def deep_json_array() -> bytes:
    return b"[" * DEPTH + b"]" * DEPTH


def deep_xml() -> bytes:
    return b'<?xml version="1.0"?>\n' + b"<a>" * DEPTH + b"text" + b"</a>" * DEPTH


def deep_html() -> bytes:
    return b"<!doctype html><html><body>" + b"<div>" * DEPTH + b"deep" + b"</div>" * DEPTH + b"</body></html>"


def deep_rtf() -> bytes:
    return b"{\\rtf1\\ansi " + b"{\\b " * DEPTH + b"deep" + b"}" * DEPTH + b"}"


def billion_laughs_xml() -> bytes:
    lines = [b'<?xml version="1.0"?>', b"<!DOCTYPE lolz [", b' <!ENTITY lol0 "lol">']
    lines += [b' <!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10) for i in range(1, 10)]
    lines += [b"]>", b"<lolz>&lol9;</lolz>"]
    return b"\n".join(lines)


# --- office containers ---------------------------------------------------------------------------------------------

_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_XLSX_CONTENT_TYPES = _CONTENT_TYPES.replace(b"/word/document.xml", b"/xl/workbook.xml").replace(
    b"wordprocessingml.document.main", b"spreadsheetml.sheet.main"
)
_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/officeDocument" Target="%s"/></Relationships>'
)
_W = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _bomb_member(archive: zipfile.ZipFile, name: str, head: bytes, megabytes: int) -> None:
    """A member that inflates to ``megabytes`` MB (a ~1000:1 ratio), streamed so generating it stays small."""
    block = b" " * (1 << 20)
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with archive.open(info, "w", force_zip64=True) as member:
        member.write(head)
        for _ in range(megabytes):
            member.write(block)


def docx_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS % b"word/document.xml")
        _bomb_member(archive, "word/document.xml", b"<w:document " + _W + b"><w:body>", 600)
    return buffer.getvalue()


def xlsx_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _XLSX_CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS % b"xl/workbook.xml")
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        _bomb_member(archive, "xl/worksheets/sheet1.xml", b"<worksheet><sheetData>", 600)
    return buffer.getvalue()


def lying_zip_bomb() -> bytes:
    """A DOCX whose document.xml declares 1 KB uncompressed but inflates to 300 MB (its headers lie)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS % b"word/document.xml")
        _bomb_member(archive, "word/document.xml", b"<w:document " + _W + b"><w:body>", 300)
    data = bytearray(buffer.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as probe:
        member = probe.getinfo("word/document.xml")
    # the declared uncompressed size: in the local header (offset 22), the central directory entry (offset 24) and,
    # where they say 0xFFFFFFFF, in their zip64 extra fields
    central = data.rfind(b"PK\x01\x02")  # document.xml was written last: its entry ends the directory
    for field in (member.header_offset + 22, central + 24):
        if struct.unpack_from("<I", data, field)[0] != 0xFFFFFFFF:
            struct.pack_into("<I", data, field, 1024)
    real = struct.pack("<Q", member.file_size)
    at = data.find(real)
    while at >= 0:
        data[at : at + 8] = struct.pack("<Q", 1024)
        at = data.find(real, at + 8)
    return bytes(data)


def docx_with_body(body: bytes, *, doctype: bytes = b"") -> bytes:
    document = b'<?xml version="1.0" encoding="UTF-8"?>' + doctype + b"<w:document " + _W + b"><w:body>"
    return _zip(
        {
            "[Content_Types].xml": _CONTENT_TYPES,
            "_rels/.rels": _RELS % b"word/document.xml",
            "word/document.xml": document + body + b"</w:body></w:document>",
        }
    )


def docx_billion_laughs() -> bytes:
    entities = b"".join(b'<!ENTITY l%d "%s">' % (i, b"&l%d;" % (i - 1) * 10) for i in range(1, 10))
    doctype = b'<!DOCTYPE w:document [<!ENTITY l0 "lol">' + entities + b"]>"
    return docx_with_body(b"<w:p><w:r><w:t>&l9;</w:t></w:r></w:p>", doctype=doctype)


def docx_deep_nesting() -> bytes:
    return docx_with_body(b"<w:sdt><w:sdtContent>" * 50_000 + b"</w:sdtContent></w:sdt>" * 50_000)


def docx_of_junk() -> bytes:
    rng = random.Random(11)
    return _zip({f"junk{i}.bin": rng.randbytes(2048) for i in range(20)})


def docx_with_junk_parts() -> bytes:
    rng = random.Random(12)
    return _zip(
        {
            "[Content_Types].xml": _CONTENT_TYPES,
            "_rels/.rels": _RELS % b"word/document.xml",
            "word/document.xml": rng.randbytes(64 * 1024),
        }
    )


def gzip_bomb() -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip wrapper
    block = b"\0" * (1 << 20)
    return b"".join([*(compressor.compress(block) for _ in range(200)), compressor.flush()])


# --- text, binary, misnamed ----------------------------------------------------------------------------------------


def long_line() -> bytes:
    return b"word " * (4 << 20)  # 20 MB on one line


def binary_garbage() -> bytes:
    return b"\x13\x37" + random.Random(7).randbytes(2 << 20)


def html_named_pdf() -> bytes:
    return b"<!doctype html><html><head><title>Quarterly memo</title></head><body><p>" + b"The memo. " * 50 + b"</p>"


# --- PDFs ----------------------------------------------------------------------------------------------------------


def _pdf(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def pdf_page_bomb(pages: int = 20_000) -> bytes:
    """20,000 pages that each draw one shared image and no text: all of them would need OCR."""
    first = 4
    kids = b" ".join(b"%d 0 R" % (first + i) for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Count %d /Kids [%s] >>" % (pages, kids),
        b"<< /Length 28 >>\nstream\nq 100 0 0 100 0 0 cm /Im0 Do Q\nendstream",
    ]
    image = first + pages
    resources = b"<< /XObject << /Im0 %d 0 R >> >>" % image
    objects += [
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R /Resources %s >>" % resources
    ] * pages
    objects.append(
        b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray /BitsPerComponent 8 "
        b"/Length 1 >>\nstream\n\x80\nendstream"
    )
    return _pdf(objects)


def pdf_deep_page_tree(depth: int = 5_000) -> bytes:
    """A page tree nested ``depth`` levels deep (one page at the bottom): recursive walkers overflow."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(depth):
        parent = b"/Parent %d 0 R " % (level + 1) if level else b""
        objects.append(b"<< /Type /Pages %s/Count 1 /Kids [%d 0 R] >>" % (parent, level + 3))
    content = depth + 3
    objects.append(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R >>" % (depth + 1, content))
    objects.append(b"<< /Length 44 >>\nstream\nBT /F1 12 Tf 72 720 Td (deep page) Tj ET\nendstream")
    return _pdf(objects)


def pdf_that_is_html() -> bytes:
    return html_named_pdf()


# --- e-mail --------------------------------------------------------------------------------------------------------


def deep_email_chain(depth: int = 2_000) -> bytes:
    message = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: innermost\r\n\r\nThe innermost text.\r\n"
    for level in range(depth):
        message = (
            b"From: a@example.com\r\nTo: b@example.com\r\nSubject: Fwd %d\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: message/rfc822\r\n\r\n" % level + message
        )
    return message


def huge_attachment(megabytes: int = 30) -> bytes:
    boundary = b"BOUNDARY42"
    attachment = base64.encodebytes(random.Random(3).randbytes(megabytes << 20))
    return (
        b"From: a@example.com\r\nTo: b@example.com\r\nSubject: the big file\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n'
        b"--" + boundary + b"\r\nContent-Type: text/plain\r\n\r\nPlease find the archive attached.\r\n"
        b"--" + boundary + b"\r\nContent-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="big.bin"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + attachment + b"--" + boundary + b"--\r\n"
    )


# --- images --------------------------------------------------------------------------------------------------------


def _png(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of ``width`` x ``height`` white pixels (zlib makes a 100-megapixel one ~100 KB)."""
    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def image_100_megapixels() -> bytes:
    return _png(10_000, 10_000)


def image_over_the_side_limit() -> bytes:
    return _png(12_000, 9_000)


def tiff_1000_frames(frames: int = 1_000) -> bytes:
    """A little-endian TIFF chain of ``frames`` 1x1 frames (header-checked before anything decodes it)."""
    out = bytearray(b"II*\x00" + struct.pack("<I", 8))
    for index in range(frames):
        ifd_at = len(out)
        entries = [
            (256, 3, 1, 1),  # width
            (257, 3, 1, 1),  # height
            (258, 3, 1, 8),  # bits per sample
            (259, 3, 1, 1),  # no compression
            (262, 3, 1, 1),  # black is zero
            (273, 4, 1, 0),  # strip offset (patched below)
            (277, 3, 1, 1),
            (278, 3, 1, 1),
            (279, 4, 1, 1),  # strip byte count
        ]
        size = 2 + 12 * len(entries) + 4
        strip_at = ifd_at + size
        out += struct.pack("<H", len(entries))
        for tag, kind, count, value in entries:
            out += struct.pack("<HHI", tag, kind, count)
            out += struct.pack("<I", strip_at if tag == 273 else value) if kind == 4 else struct.pack("<HH", value, 0)
        next_at = strip_at + 2 if index < frames - 1 else 0
        out += struct.pack("<I", next_at) + b"\x80\x00"
    return bytes(out)


CASES: tuple[Case, ...] = (
    Case("deep-nesting.json", deep_json, "FAILED", "DOCUMENT_TOO_COMPLEX", "JSON objects nested 100,000 deep"),
    Case("deep-array.json", deep_json_array, "FAILED", "DOCUMENT_TOO_COMPLEX", "JSON arrays nested 100,000 deep"),
    Case("deep-nesting.xml", deep_xml, "COMPLETED", None, "XML elements nested 100,000 deep (read as text)"),
    Case("deep-nesting.html", deep_html, "COMPLETED", None, "HTML <div>s nested 100,000 deep"),
    Case("deep-groups.rtf", deep_rtf, "COMPLETED", None, "RTF groups nested 100,000 deep"),
    Case("billion-laughs.xml", billion_laughs_xml, "COMPLETED", None, "XML entity expansion, read as text"),
    Case("billion-laughs.docx", docx_billion_laughs, "FAILED", "DOCUMENT_TOO_COMPLEX", "entity expansion in DOCX"),
    Case("deep-nesting.docx", docx_deep_nesting, "FAILED", "DOCUMENT_TOO_COMPLEX", "DOCX elements 50,000 deep"),
    Case("zip-bomb.docx", docx_bomb, "FAILED", "DOCUMENT_TOO_LARGE", "document.xml inflating to 600 MB"),
    Case("zip-bomb.xlsx", xlsx_bomb, "FAILED", "DOCUMENT_TOO_LARGE", "a sheet inflating to 600 MB"),
    Case("lying-zip-bomb.docx", lying_zip_bomb, "FAILED", "DOCUMENT_TOO_LARGE", "declares 1 KB, inflates to 300 MB"),
    Case("gzip-bomb.txt", gzip_bomb, "FAILED", "UNSUPPORTED_TYPE", "gzip inflating to 200 MB, named .txt"),
    Case("long-line.txt", long_line, "COMPLETED", None, "20 MB on one line"),
    Case("garbage.bin", binary_garbage, "FAILED", "UNSUPPORTED_TYPE", "2 MB of random bytes"),
    Case("junk-zip.docx", docx_of_junk, "FAILED", "UNSUPPORTED_TYPE", "a .docx that is a zip of junk"),
    Case("junk-parts.docx", docx_with_junk_parts, "FAILED", "CORRUPT_DOCUMENT", "DOCX whose document.xml is junk"),
    Case("html-named.pdf", pdf_that_is_html, "COMPLETED", None, "a .pdf that is HTML"),
    Case("page-bomb.pdf", pdf_page_bomb, "FAILED", "DOCUMENT_TOO_LARGE", "20,000 image-only pages"),
    Case("deep-page-tree.pdf", pdf_deep_page_tree, "FAILED", "DOCUMENT_TOO_COMPLEX", "page tree 5,000 levels deep"),
    Case("deep-chain.eml", deep_email_chain, "FAILED", "DOCUMENT_TOO_COMPLEX", "2,000 nested message/rfc822"),
    Case("huge-attachment.eml", huge_attachment, "COMPLETED", None, "a 30 MB base64 attachment"),
    Case("frames-1000.tiff", tiff_1000_frames, "FAILED", "DOCUMENT_TOO_LARGE", "1,000-frame TIFF"),
    Case("100-megapixels.png", image_100_megapixels, "FAILED", "NO_TEXT_CONTENT", "blank 10,000 x 10,000 PNG (OCR)"),
    Case("over-side-limit.png", image_over_the_side_limit, "FAILED", "DOCUMENT_TOO_LARGE", "12,000 x 9,000 PNG"),
)
