"""Turn the bytes of a Textract input document into page images, checking Textract's limits before decoding.

Formats are sniffed from the first bytes (as the service does: the object key's extension does not matter):
JPEG, PNG, TIFF (Pillow, every frame a page) and PDF (pypdfium2, rendered at ``dpi``). Everything that could make
decoding slow or huge is checked from the headers first: the file size, the number of TIFF frames / PDF pages,
the pixel size of every image or frame (at most 10,000 px a side) and the size of every PDF page (at most
40 inches a side). Pillow's decompression-bomb guard stays on as a second line.

PDFium is not thread-safe, so every pypdfium2 call runs under one process-wide lock (rendering a page takes
about 0.3 s; the OCR after it runs outside the lock).
"""

from __future__ import annotations

import io
import threading
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageSequence, UnidentifiedImageError

from docproc_local.standins.errors import ServiceError, textract_error

#: Textract's fixed limits (Developer Guide, "Set Quotas in Amazon Textract").
SYNC_MAX_BYTES = 10 * 1024 * 1024
ASYNC_MAX_BYTES = 500 * 1024 * 1024  # PDF and TIFF; JPEG and PNG stay at 10 MB in asynchronous operations too
ASYNC_MAX_PAGES = 3000
MAX_IMAGE_SIDE_PX = 10_000
MAX_PDF_SIDE_POINTS = 40 * 72  # 40 inches
DEFAULT_DPI = 300

UNSUPPORTED_MESSAGE = "Request has unsupported document format"
INVALID_IMAGE_MESSAGE = "Request has invalid image format"

_PDFIUM_LOCK = threading.Lock()

FORMATS = ("JPEG", "PNG", "TIFF", "PDF")


def sniff(data: bytes) -> str | None:
    """``"JPEG"``, ``"PNG"``, ``"TIFF"``, ``"PDF"``, or None for anything Textract does not read."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if b"%PDF-" in data[:1024]:  # PDF readers accept leading junk before the header; so does Textract
        return "PDF"
    return None


def max_bytes(kind: str, *, asynchronous: bool) -> int:
    return ASYNC_MAX_BYTES if asynchronous and kind in ("PDF", "TIFF") else SYNC_MAX_BYTES


def check_size(data_size: int, kind: str, *, asynchronous: bool) -> None:
    limit = max_bytes(kind, asynchronous=asynchronous)
    if data_size > limit:
        raise textract_error(
            "DocumentTooLargeException",
            f"The document is {data_size} bytes; the limit for {kind} in "
            f"{'asynchronous' if asynchronous else 'synchronous'} operations is {limit} bytes.",
        )


@dataclass(frozen=True)
class PageImage:
    number: int  # 1-based
    image: Image.Image  # mode "L" or "RGB"
    dpi: int


class Document:
    """An opened document: ``page_count`` known and limits checked; :meth:`page` decodes one page at a time."""

    def __init__(self, data: bytes, *, asynchronous: bool, dpi: int = DEFAULT_DPI) -> None:
        kind = sniff(data)
        if kind is None:
            raise textract_error("UnsupportedDocumentException", UNSUPPORTED_MESSAGE)
        check_size(len(data), kind, asynchronous=asynchronous)
        self.kind = kind
        self.dpi = dpi
        self._data = data
        self._pdf: Any = None
        if kind == "PDF":
            self.page_count = self._open_pdf()
        else:
            self.page_count = self._open_image()
        if self.page_count < 1:
            raise textract_error("BadDocumentException", "The document has no pages.")
        if not asynchronous and self.page_count > 1:
            raise textract_error(
                "UnsupportedDocumentException",
                f"{UNSUPPORTED_MESSAGE}: synchronous operations accept one page, this {kind} has {self.page_count}",
            )
        if self.page_count > ASYNC_MAX_PAGES:
            raise textract_error(
                "UnsupportedDocumentException",
                f"{UNSUPPORTED_MESSAGE}: {self.page_count} pages, more than the limit of {ASYNC_MAX_PAGES}",
            )

    # --- opening (headers only) -------------------------------------------------------------------------------------

    def _open_image(self) -> int:
        try:
            with warnings.catch_warnings():
                # the side limit below is the rule; Pillow's guard still raises above 2 x MAX_IMAGE_PIXELS
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image = Image.open(io.BytesIO(self._data))  # lazy: reads the header, not the pixels
                _check_pixels(image.size)
                if self.kind != "TIFF":
                    return 1
                # walks the IFD chain (headers only) and stops counting past the limit; the size of every further
                # frame is checked before it is decoded, so that one bad frame fails its page, not the job
                count = 0
                for _frame in ImageSequence.Iterator(image):
                    count += 1
                    if count > ASYNC_MAX_PAGES:
                        break
                return count
        except ServiceError:
            raise
        except Image.DecompressionBombError as error:
            raise textract_error("UnsupportedDocumentException", f"{UNSUPPORTED_MESSAGE}: {error}") from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
            raise textract_error("BadDocumentException", f"{INVALID_IMAGE_MESSAGE}: {error}") from None

    def _open_pdf(self) -> int:
        import pypdfium2 as pdfium

        with _PDFIUM_LOCK:
            try:
                self._pdf = pdfium.PdfDocument(self._data)
            except pdfium.PdfiumError as error:
                text = str(error).lower()
                if "password" in text:
                    raise textract_error(
                        "UnsupportedDocumentException", f"{UNSUPPORTED_MESSAGE}: the PDF is password protected"
                    ) from None
                raise textract_error("BadDocumentException", f"Unable to read the PDF: {error}") from None
            count = len(self._pdf)
            for index in range(min(count, ASYNC_MAX_PAGES + 1)):
                width, height = self._pdf.get_page_size(index)  # from the page tree, without loading the page
                if max(width, height) > MAX_PDF_SIDE_POINTS:
                    raise textract_error(
                        "UnsupportedDocumentException",
                        f"{UNSUPPORTED_MESSAGE}: page {index + 1} is {width / 72:.1f} x {height / 72:.1f} inches, "
                        "more than 40 inches a side",
                    )
            return count

    # --- decoding ----------------------------------------------------------------------------------------------------

    def page(self, number: int) -> PageImage:
        if self.kind == "PDF":
            return self._render_pdf_page(number)
        return self._decode_frame(number)

    def _decode_frame(self, number: int) -> PageImage:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # sides checked: at most 100 MP
                image = Image.open(io.BytesIO(self._data))
            image.seek(number - 1)
            _check_pixels(image.size)
            dpi = _image_dpi(image)
            image.load()
            return PageImage(number, _normalise_mode(image), dpi)
        except ServiceError:
            raise
        except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as error:
            raise textract_error("BadDocumentException", f"{INVALID_IMAGE_MESSAGE}: {error}") from None

    def _render_pdf_page(self, number: int) -> PageImage:
        import pypdfium2 as pdfium

        assert self._pdf is not None
        with _PDFIUM_LOCK:
            try:
                page = self._pdf[number - 1]
                width, height = page.get_size()
                # at most 10,000 px a side, like the images Textract accepts
                scale = min(self.dpi / 72, MAX_IMAGE_SIDE_PX / max(width, height, 1.0))
                bitmap = page.render(scale=scale, grayscale=True)
                image = bitmap.to_pil()
                page.close()
            except pdfium.PdfiumError as error:
                raise textract_error("BadDocumentException", f"Unable to render page {number}: {error}") from None
        return PageImage(number, image, round(scale * 72))

    def close(self) -> None:
        if self._pdf is not None:
            with _PDFIUM_LOCK:
                self._pdf.close()
            self._pdf = None


def _check_pixels(size: tuple[int, int]) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise textract_error("BadDocumentException", f"{INVALID_IMAGE_MESSAGE}: the image is {width} x {height} px")
    if max(width, height) > MAX_IMAGE_SIDE_PX:
        raise textract_error(
            "UnsupportedDocumentException",
            f"{UNSUPPORTED_MESSAGE}: the image is {width} x {height} px, more than {MAX_IMAGE_SIDE_PX} px a side",
        )


def _image_dpi(image: Image.Image) -> int:
    dpi = image.info.get("dpi")
    try:
        value = round(float(dpi[0])) if dpi else 0
    except (TypeError, ValueError, IndexError):
        value = 0
    return value if 70 <= value <= 2400 else 0  # 0: unknown, Tesseract estimates it from the text height


def _normalise_mode(image: Image.Image) -> Image.Image:
    if image.mode in ("L", "RGB"):
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode in ("1", "I;16", "I;16B", "I;16L", "I", "F"):
        return image.convert("L")
    return image.convert("RGB")
