"""Images (PNG, JPEG, TIFF): no text layer, so every page goes to OCR; the headers are checked first.

Only the headers are read (no decoding, no Pillow in the layer): the pixel size of PNG and JPEG, and for TIFF the
number of frames (walking the IFD chain, bounded) and the size of the first. Textract's own limits apply to what
passes: at most 10,000 pixels a side. A larger image, or more frames than ``max_pages``, fails at once with
:class:`DocumentTooLarge` (never retried); a header that cannot be read is :class:`CorruptDocument`.
"""

from __future__ import annotations

import struct

from docproc.errors import CorruptDocument, DocumentTooLarge
from docproc.formats.base import Raw, Sniffed
from docproc.formats.limits import Limits

MAX_SIDE = 10_000  # pixels, Textract's limit
_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


def _check_size(kind: str, width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise CorruptDocument(f"{kind} header gives a size of {width} x {height} pixels")
    if max(width, height) > MAX_SIDE:
        raise DocumentTooLarge(
            f"{kind} of {width} x {height} pixels ({width * height / 1e6:.0f} megapixels) is over the OCR limit of "
            f"{MAX_SIDE:,} pixels a side"
        )


def png_size(data: bytes) -> tuple[int, int]:
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise CorruptDocument("PNG without an IHDR header")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def jpeg_size(data: bytes) -> tuple[int, int]:
    at = 2
    while at + 9 < len(data):
        if data[at] != 0xFF:
            at += 1
            continue
        marker = data[at + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            at += 1 if marker == 0xFF else 2
            continue
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width, height
        if length < 2:
            break
        at += 2 + length
    raise CorruptDocument("JPEG without a frame header (SOF)")


def tiff_frames(data: bytes, max_frames: int) -> tuple[int, int, int]:
    """(frames, width, height of the first frame), counting at most ``max_frames + 1`` frames."""
    if len(data) < 8:
        raise CorruptDocument("TIFF shorter than its header")
    order = "<" if data[:2] == b"II" else ">"
    (offset,) = struct.unpack(order + "I", data[4:8])
    frames, width, height, seen = 0, 0, 0, set()
    while offset and frames <= max_frames:
        if offset in seen or offset + 2 > len(data):
            if frames:
                break
            raise CorruptDocument("TIFF image file directory points outside the file")
        seen.add(offset)
        (count,) = struct.unpack(order + "H", data[offset : offset + 2])
        entries = data[offset + 2 : offset + 2 + 12 * count]
        if len(entries) < 12 * count:
            raise CorruptDocument("TIFF image file directory is cut short")
        if frames == 0:
            for k in range(count):
                tag, kind = struct.unpack(order + "HH", entries[12 * k : 12 * k + 4])
                value = entries[12 * k + 8 : 12 * k + 12]
                number = struct.unpack(order + ("H" if kind == 3 else "I"), value[: 2 if kind == 3 else 4])[0]
                if tag == 256:
                    width = number
                elif tag == 257:
                    height = number
        frames += 1
        end = offset + 2 + 12 * count
        offset = struct.unpack(order + "I", data[end : end + 4])[0] if end + 4 <= len(data) else 0
    return frames, width, height


def extract_image(sniffed: Sniffed, limits: Limits) -> Raw:
    data, fmt = sniffed.data, sniffed.format.value
    frames = 1
    if fmt == "png":
        width, height = png_size(data)
    elif fmt == "jpeg":
        width, height = jpeg_size(data)
    else:
        frames, width, height = tiff_frames(data, limits.max_pages)
        if frames > limits.max_pages:
            raise DocumentTooLarge(f"TIFF with more than {limits.max_pages} frames (the page limit)")
    _check_size(fmt.upper(), width, height)
    return Raw(
        text="",
        pages=frames,
        empty_reason=f"{fmt.upper()} image ({width} x {height} pixels, {frames} page(s)): needs OCR",
        pages_without_text=list(range(1, frames + 1)),
    )
