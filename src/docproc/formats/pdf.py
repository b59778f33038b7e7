"""PDF: text per page with pypdf, pages separated by :data:`PAGE_BREAK`, each page's text layer scored.

pypdf (BSD-3-Clause) reads the text; what is ours: decrypting with the empty user password and naming the
algorithm, telling image-only pages from blank ones, re-decoding GBK/Big5/Shift_JIS bytes that a WinAnsi font
without ``ToUnicode`` turned into Latin-1 soup, joining letter-spaced lines, and the quality score of
:mod:`docproc.formats.quality` (pages below it are ``pages_garbled``; pages with images and no text are
``pages_without_text``: both are what OCR should read). Tables come from :mod:`.pdf_tables` (pdfplumber), only on
pages whose text or drawing suggests one; the page text stays pypdf's.

Page counts: for a document that declares more pages than ``max_pages`` (``/Root/Pages/Count``), the page tree is
walked lazily and stops after ``max_pages`` leaves, so a 20,000-page PDF costs what its first pages cost (pypdf's
own ``reader.pages`` loads every page object first: about 2 s for 20,000 pages). Smaller documents use
``reader.pages``, which copes better with damaged trees.

A missing ``cryptography`` package surfaces as pypdf's ``DependencyError`` for AES PDFs: that is a deployment
fault, not a document one, so it is not caught.
"""

from __future__ import annotations

import codecs
import io
import re
import struct
import zlib
from collections.abc import Iterator

import charset_normalizer
import pypdf
from pypdf import PageObject, PasswordType
from pypdf.errors import DependencyError, LimitReachedError, PdfReadError, PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

from docproc.errors import CorruptDocument, DocumentTooComplex, EmptyDocument, EncryptedDocument
from docproc.formats.base import PAGE_MARK, Raw, Sniffed, words
from docproc.formats.limits import Limits, Sink
from docproc.formats.pdf_tables import Hint, find_tables, page_hint
from docproc.formats.quality import page_list, score_text

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
_INHERITED = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")
_MAX_TREE_DEPTH = 64


def extract_pdf(sniffed: Sniffed, limits: Limits) -> Raw:
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
    n_pages, pages = _pages(reader, limits.max_pages)
    if n_pages == 0:
        raise EmptyDocument("PDF has zero pages")

    sink = Sink(limits.max_chars)
    to_read = min(n_pages, limits.max_pages)
    failed: list[int] = []
    read = 0
    page_breaks = 0  # form feeds emitted: page n's text is preceded by n - 1 of them (PAGE_BREAK)
    image_pages: list[int] = []
    garbled: dict[int, tuple[str, ...]] = {}
    spaced_pages: list[int] = []
    recoded_pages: list[int] = []
    unmapped_fonts: set[str] = set()
    table_hints: dict[int, Hint] = {}
    for index in range(to_read):
        number = index + 1
        try:
            page = next(pages, None)
            if page is None:
                if not index:
                    raise CorruptDocument(f"PDF page tree declares {n_pages} pages but holds none that can be found")
                warnings.append(f"page tree ends after page {index} of the {n_pages} it declares")
                break
            text = page.extract_text() or ""
        except _PDF_FAILURES as exc:
            failed.append(number)
            warnings.append(f"page {number} unreadable, skipped ({type(exc).__name__}: {str(exc)[:120]})")
            continue
        read += 1
        letters = sum(1 for ch in text if ch.isalpha())
        if letters < 10 and _pdf_page_has_images(page):
            image_pages.append(number)  # a scan, perhaps with a stamped page number: OCR should read it
        if not text.strip():
            continue
        unmapped_fonts.update(_pdf_unmapped_cid_fonts(page))
        recoded = _repair_single_byte_cjk(text)
        if recoded is not None:
            text = recoded
            recoded_pages.append(number)
        text, spaced = _join_letter_spacing(text)
        if spaced:
            spaced_pages.append(number)
        quality = score_text(text)
        if quality.garbled:
            garbled[number] = quality.reasons
        elif _pdf_page_is_ocr_layer(page):
            garbled[number] = ("an invisible OCR layer over a scan",)  # re-read: the layer is only as good as its OCR
        else:
            hint = page_hint(page, text)
            if hint is not None:
                table_hints[number] = hint
        text, page_breaks = PAGE_MARK * (number - 1 - page_breaks) + text.replace(PAGE_MARK, " "), number - 1
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
            f"re-decoded CJK text from a single-byte font without ToUnicode on pages {page_list(recoded_pages)}"
        )
    if spaced_pages:
        warnings.append(f"joined letter-spaced text on pages {page_list(spaced_pages)}")
    if unmapped_fonts:
        warnings.append(
            f"CID fonts without ToUnicode map ({', '.join(sorted(unmapped_fonts)[:5])}): text may be garbled"
        )
    if image_pages:
        warnings.append(f"pages with images but no text layer (need OCR): {page_list(image_pages)}")
    if garbled:
        reasons = sorted({reason for found in garbled.values() for reason in found})
        warnings.append(
            f"text layer looks garbled ({', '.join(reasons)}) on pages {page_list(sorted(garbled))} (need OCR)"
        )

    found = find_tables(data, table_hints)
    warnings.extend(found.warnings)
    if image_pages:
        empty_reason = f"PDF has {n_pages} page(s) with images but no text layer (scanned?); it needs OCR"
    else:
        empty_reason = f"PDF has {n_pages} page(s) but no extractable text"
    return Raw(
        sink.text("\n\n"),
        pages=n_pages,
        truncated=sink.truncated,
        warnings=warnings,
        empty_reason=empty_reason,
        pages_without_text=image_pages,
        pages_garbled=sorted(garbled),
        tables=found.tables,
    )


def _pages(reader: pypdf.PdfReader, max_pages: int) -> tuple[int, Iterator[PageObject]]:
    """``(page count, the pages in order)``: lazily from the page tree when the document declares many pages."""
    declared = _declared_page_count(reader)
    if declared is not None and declared > max_pages:
        return declared, _walk_page_tree(reader, max_pages)
    try:
        count = len(reader.pages)
    except (LimitReachedError, RecursionError) as exc:
        raise DocumentTooComplex(f"PDF page tree is nested past the reader's limits: {exc}") from exc
    except _PDF_FAILURES as exc:
        raise CorruptDocument(f"PDF page tree could not be read: {type(exc).__name__}: {exc}") from exc
    return count, (reader.pages[index] for index in range(count))


def _declared_page_count(reader: pypdf.PdfReader) -> int | None:
    try:
        count = reader.trailer["/Root"].get_object()["/Pages"].get_object().get("/Count")
        value = int(count.get_object()) if count is not None else None
    except _PDF_FAILURES:
        return None
    return value if value is not None and 0 <= value <= 10_000_000 else None


def _walk_page_tree(reader: pypdf.PdfReader, limit: int) -> Iterator[PageObject]:
    """The first ``limit`` leaves of the page tree, with inherited attributes copied in, without loading the rest.

    Iterative (no recursion limit), refuses trees deeper than :data:`_MAX_TREE_DEPTH`, skips repeated nodes
    (cycles), and visits at most ``10 * limit + 1000`` nodes, so a hostile tree cannot make it spin.
    """
    root = reader.trailer["/Root"].get_object()["/Pages"]
    stack: list[tuple[Iterator[object], dict[str, object]]] = [(iter([root]), {})]
    seen: set[tuple[int, int]] = set()
    yielded = visited = 0
    while stack and yielded < limit and visited < 10 * limit + 1000:
        kids, inherit = stack[-1]
        kid = next(kids, None)
        if kid is None:
            stack.pop()
            continue
        visited += 1
        reference = kid if isinstance(kid, IndirectObject) else None
        if reference is not None:
            if (reference.idnum, reference.generation) in seen:
                continue
            seen.add((reference.idnum, reference.generation))
        node = kid.get_object() if hasattr(kid, "get_object") else kid
        if not isinstance(node, DictionaryObject) or not node:
            continue
        if node.get("/Type") == "/Pages" or ("/Kids" in node and node.get("/Type") != "/Page"):
            if len(stack) > _MAX_TREE_DEPTH:
                raise PdfReadError(f"page tree deeper than {_MAX_TREE_DEPTH} levels")
            children = node.get("/Kids")
            children = children.get_object() if children is not None else ArrayObject()
            if not isinstance(children, ArrayObject):
                raise PdfReadError(f"/Kids is a {type(children).__name__}, not an array")
            stack.append((iter(children), {**inherit, **{key: node[key] for key in _INHERITED if key in node}}))
            continue
        page = PageObject(reader, reference)
        if reference is None:
            page.update(node)
        for key, value in inherit.items():
            if key not in page:
                page[NameObject(key)] = value
        yielded += 1
        yield page


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


_INVISIBLE_TEXT = re.compile(rb"(?<![\w.])3\s+Tr\b")
OCR_LAYER_SCAN_BYTES = 1 << 20  # of a page's content stream: scanners write short ones


def _pdf_page_is_ocr_layer(page: PageObject) -> bool:
    """A scanned page with its own OCR: the text is drawn invisible (render mode 3) over a page image."""
    if not _pdf_page_has_images(page):
        return False
    try:
        contents = page.get_contents()
        data = contents.get_data()[:OCR_LAYER_SCAN_BYTES] if contents is not None else b""
    except _PDF_FAILURES:
        return False
    return bool(_INVISIBLE_TEXT.search(data))


def _pdf_page_has_images(page: PageObject) -> bool:
    """Image XObjects on the page, or in a form XObject it draws (scanners often wrap the scan in one)."""
    try:
        xobjects = page["/Resources"].get_object().get("/XObject")
        if xobjects is None:
            return False
        for obj in xobjects.get_object().values():
            obj = obj.get_object()
            if obj.get("/Subtype") == "/Image":
                return True
            if obj.get("/Subtype") == "/Form":
                inner = obj.get("/Resources", DictionaryObject()).get_object().get("/XObject")
                inner_objects = inner.get_object().values() if inner is not None else []
                if any(child.get_object().get("/Subtype") == "/Image" for child in inner_objects):
                    return True
        return False
    except _PDF_FAILURES:
        return False


def _pdf_unmapped_cid_fonts(page: PageObject) -> list[str]:
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
_CJK_CODECS = words("big5 big5hkscs cp932 cp949 cp950 euc_jp euc_kr gb18030 gb2312 gbk shift_jis")


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
