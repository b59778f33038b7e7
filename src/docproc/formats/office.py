"""Office containers (OOXML and OpenDocument zips): opening them safely and reading their parts.

:func:`open_zip` refuses encrypted members and checks every member's declared uncompressed size, and the sum of
them, against :mod:`docproc.formats.limits` before any library inflates a byte (a zip bomb is
:class:`DocumentTooLarge`); :mod:`zipfile` enforces the declared sizes while inflating. Damaged parts (bad CRC,
truncated deflate, malformed XML) become :class:`CorruptDocument` through :func:`damage_is_corruption`, XML past the
parsers' depth or entity-expansion limits :class:`DocumentTooComplex` (:func:`unreadable`).
"""

from __future__ import annotations

import functools
import io
import posixpath
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from typing import IO
from xml.etree import ElementTree as ET

from docproc.errors import CorruptDocument, DocprocError, DocumentTooComplex, DocumentTooLarge, EncryptedDocument
from docproc.formats.base import Extractor, Raw, Sniffed
from docproc.formats.limits import (
    MAX_COMPRESSION_RATIO,
    MAX_CONTAINER_BYTES,
    MAX_CONTAINER_MEMBERS,
    MAX_RATIO_FROM_BYTES,
    MAX_UNVERIFIED_INFLATE,
    MAX_XML_MEMBER_BYTES,
    Limits,
    is_resource_limit,
)
from docproc.formats.registry import DocumentFormat


def open_zip(data: bytes, fmt: DocumentFormat) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise CorruptDocument(
            f"{fmt.name} is truncated or damaged: {exc} (zip has no usable central directory)"
        ) from exc
    try:
        _check_container(zf, fmt)
        _check_declared_sizes(data, zf, fmt)
    except (EncryptedDocument, DocumentTooLarge, CorruptDocument):
        zf.close()
        raise
    return zf


def _check_declared_sizes(data: bytes, zf: zipfile.ZipFile, fmt: DocumentFormat) -> None:
    """Members whose compressed bytes could inflate past MAX_UNVERIFIED_INFLATE are inflated once here, in bounded
    steps, to check that they stop at their declared size: :mod:`zipfile` caps what it *returns* at that size, but
    inflates a whole read before cutting it, so a part that declares 1 KB and holds 1 GB would exhaust memory."""
    for info in zf.infolist():
        if info.compress_type != zipfile.ZIP_DEFLATED or info.compress_size * 1032 <= MAX_UNVERIFIED_INFLATE:
            continue  # 1032:1 is deflate's largest ratio
        header = info.header_offset
        if data[header : header + 4] != b"PK\x03\x04":
            raise CorruptDocument(f"{fmt.name} part {info.filename} has no local header where the directory says")
        name_length, extra_length = struct.unpack_from("<HH", data, header + 26)
        start = header + 30 + name_length + extra_length
        inflater = zlib.decompressobj(-15)
        produced, budget = 0, info.file_size + 1
        pending = data[start : start + info.compress_size]
        try:
            while pending and produced < budget:
                produced += len(inflater.decompress(pending, min(1 << 20, budget - produced)))
                pending = inflater.unconsumed_tail
        except zlib.error as exc:
            raise CorruptDocument(f"{fmt.name} part {info.filename} is damaged: {exc}") from exc
        if produced > info.file_size:
            raise DocumentTooLarge(
                f"{fmt.name} part {info.filename} declares {info.file_size} bytes but inflates to more: a zip bomb"
            )


def _check_container(zf: zipfile.ZipFile, fmt: DocumentFormat) -> None:
    infos = zf.infolist()
    encrypted = [info.filename for info in infos if info.flag_bits & 0x1]
    if encrypted:
        raise EncryptedDocument(f"{fmt.name} is password-protected (zip-encrypted parts: {', '.join(encrypted[:3])})")
    if len(infos) > MAX_CONTAINER_MEMBERS:
        raise DocumentTooLarge(f"{fmt.name} holds {len(infos)} parts (limit {MAX_CONTAINER_MEMBERS})")
    for info in infos:
        if info.file_size > MAX_RATIO_FROM_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(
            info.compress_size, 1
        ):
            raise DocumentTooLarge(
                f"{fmt.name} part {info.filename} inflates {info.compress_size} bytes to {info.file_size} "
                f"(more than {MAX_COMPRESSION_RATIO} times): a zip bomb"
            )
    total = sum(info.file_size for info in infos)
    if total > MAX_CONTAINER_BYTES:
        biggest = max(infos, key=lambda info: info.file_size)
        raise DocumentTooLarge(
            f"{fmt.name} declares {total} bytes uncompressed (limit {MAX_CONTAINER_BYTES}; largest part "
            f"{biggest.filename}, {biggest.file_size} bytes): a zip bomb or an oversized package"
        )


# Member data that fails to inflate, fails its CRC, ends early or is not well-formed XML (SyntaxError covers
# ElementTree's ParseError and lxml's XMLSyntaxError, which python-docx raises); zipfile raises ValueError
# ("negative seek value") when the central directory points outside the file.
DAMAGED_MEMBER_ERRORS = (zipfile.BadZipFile, EOFError, zlib.error, SyntaxError, ValueError)


def damage_is_corruption(fmt: DocumentFormat) -> Callable[[Extractor], Extractor]:
    """Report damaged parts of an office container as :class:`CorruptDocument` instead of a library error."""

    def decorate(extractor: Extractor) -> Extractor:
        @functools.wraps(extractor)
        def extract(sniffed: Sniffed, limits: Limits) -> Raw:
            try:
                return extractor(sniffed, limits)
            except DAMAGED_MEMBER_ERRORS as exc:
                raise unreadable(f"{fmt.name} is damaged: {type(exc).__name__}: {exc}", exc) from exc

        return extract

    return decorate


def unreadable(message: str, exc: BaseException) -> DocprocError:
    """:class:`DocumentTooComplex` when ``exc`` is a parser's resource limit (XML nested too deep, entity
    expansion), else :class:`CorruptDocument`; both permanent, with ``message``."""
    if is_resource_limit(exc):
        return DocumentTooComplex(f"{message} (nesting or entity expansion past the XML parser's limits)")
    return CorruptDocument(message)


def read_small(zf: zipfile.ZipFile, name: str, limit: int = 1 << 20) -> bytes:
    with zf.open(name) as member:
        return member.read(limit)


def open_member(zf: zipfile.ZipFile, name: str, fmt: DocumentFormat) -> io.BufferedIOBase:
    try:
        info = zf.getinfo(name)
    except KeyError as exc:
        raise CorruptDocument(f"{fmt.name} lacks its {name} part") from exc
    if info.file_size > MAX_XML_MEMBER_BYTES:
        raise DocumentTooLarge(
            f"{fmt.name} part {name} declares {info.file_size} bytes uncompressed (limit {MAX_XML_MEMBER_BYTES})"
        )
    return zf.open(info)  # type: ignore[return-value]


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def iterparse(
    source: IO[bytes] | io.BufferedIOBase, events: tuple[str, ...] = ("end",)
) -> Iterator[tuple[str, ET.Element]]:
    # Office XML carries no DTDs; the bundled expat (>= 2.4) also refuses entity amplification attacks.
    return ET.iterparse(source, events=events)  # type: ignore[arg-type]  # noqa: S314


def relationships(zf: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """``{rId: (type, absolute target)}`` of an OOXML part (``""`` for the package)."""
    folder, base = posixpath.split(part)
    rels_name = posixpath.join(folder, "_rels", f"{base}.rels")
    if rels_name not in zf.namelist():
        return {}
    rels: dict[str, tuple[str, str]] = {}
    with zf.open(rels_name) as member:
        for _, elem in iterparse(member):
            if local(elem.tag) == "Relationship" and elem.get("TargetMode") != "External":
                target = elem.get("Target", "")
                target = (
                    target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
                )
                rels[elem.get("Id", "")] = (elem.get("Type", ""), target)
    return rels


def ooxml_main_part(zf: zipfile.ZipFile, default: str) -> str:
    for rel_type, target in relationships(zf, "").values():
        if rel_type.endswith("/officeDocument") and target in zf.namelist():
            return target
    return default
