"""Bounded bad input: zip bombs in office containers and PDFs with huge page trees end quickly, with their reason."""

from __future__ import annotations

import io
import zipfile

import pytest

from docproc.errors import CorruptDocument, DocumentTooLarge, ReasonCode
from docproc.formats import DocumentFormat, extract_text, office

from helpers import pdf_from_objects

# The members that make a zip sniff as each office format (content-first: names and mimetype, not the extension).
_IDENTITY = {
    DocumentFormat.DOCX: {"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document/>"},
    DocumentFormat.XLSX: {"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"},
    DocumentFormat.PPTX: {"[Content_Types].xml": "<Types/>", "ppt/presentation.xml": "<p:presentation/>"},
    DocumentFormat.ODT: {"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<office/>"},
}


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """A zip with one 80 MiB member of zeros that compresses to about 80 KB (about 1000:1)."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
        zf.open("media/image1.png", "w") as member,
    ):
        chunk = b"\0" * (1 << 20)
        for _ in range(80):
            member.write(chunk)
    return buffer.getvalue()


def _with_identity(bomb: bytes, fmt: DocumentFormat) -> bytes:
    buffer = io.BytesIO(bomb)
    with zipfile.ZipFile(buffer, "a") as zf:
        for name, content in _IDENTITY[fmt].items():
            zf.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.timeout(60)  # a hang guard, not a speed test: the refusal comes from the central directory
@pytest.mark.parametrize("fmt", list(_IDENTITY))
def test_zip_bomb_in_an_office_container_is_too_large(bomb: bytes, fmt: DocumentFormat) -> None:
    data = _with_identity(bomb, fmt)

    with pytest.raises(DocumentTooLarge, match="zip bomb") as caught:
        extract_text(data, f"upload.{fmt}")

    assert caught.value.reason_code is ReasonCode.DOCUMENT_TOO_LARGE
    assert caught.value.retryable is False


def test_container_declaring_more_than_the_total_limit_is_too_large(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office, "MAX_CONTAINER_BYTES", 10_000)
    members = {**_IDENTITY[DocumentFormat.DOCX], **{f"word/media/image{i}.bin": b"x" * 3_000 for i in range(5)}}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)

    with pytest.raises(DocumentTooLarge, match="declares 15"):
        extract_text(buffer.getvalue(), "report.docx")


def _pdf_with_pages(count: int, *, declared: int | None = None, cyclic: bool = False) -> bytes:
    """A PDF of ``count`` pages that all draw one shared content stream (the page tree is what is large)."""
    pages_node = 2
    first_page = 5
    kids = b" ".join(b"%d 0 R" % (first_page + i) for i in range(count))
    if cyclic:
        kids = b"%d 0 R %s" % (pages_node, kids)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count if declared is None else declared),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length 48 >>\nstream\nBT /F1 12 Tf 72 720 Td (Hello from a page) Tj ET\nendstream",
    ]
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 3 0 R >> >> >>"
    )
    objects += [page] * count
    return pdf_from_objects(objects)


@pytest.mark.timeout(60)  # a hang guard; the page tree is walked lazily (docproc bench --formats for speed)
def test_a_20000_page_pdf_ends_quickly_at_max_pages() -> None:
    data = _pdf_with_pages(20_000)

    result = extract_text(data, "huge.pdf", max_pages=50)

    assert result.pages == 20_000  # counted from the page tree's /Count, not by loading every page
    assert result.truncated is True
    assert "stopped after 50 of 20000 pages (max_pages=50)" in result.warnings
    assert result.text.count("\f") == 49


def test_a_cyclic_page_tree_declaring_a_million_pages_ends() -> None:
    data = _pdf_with_pages(3, declared=1_000_000, cyclic=True)

    result = extract_text(data, "cyclic.pdf", max_pages=10)

    assert result.pages == 1_000_000
    assert result.text.count("Hello from a page") == 3
    assert "page tree ends after page 3 of the 1000000 it declares" in result.warnings


def test_a_page_tree_declaring_pages_it_does_not_hold_is_corrupt() -> None:
    data = _pdf_with_pages(0, declared=500_000)

    with pytest.raises(CorruptDocument, match="declares 500000 pages"):
        extract_text(data, "liar.pdf", max_pages=10)
