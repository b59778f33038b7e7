"""Textract ``Block`` objects from what Tesseract read: one PAGE, its LINEs, their WORDs, with ids and geometry."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from docproc_local.standins.ocr.tesseract import Line, PageText, Word


def _geometry(polygon: Sequence[tuple[float, float]]) -> dict[str, Any]:
    xs = [x for x, _ in polygon]
    ys = [y for _, y in polygon]
    left, top = min(xs), min(ys)
    return {
        "BoundingBox": {"Width": max(xs) - left, "Height": max(ys) - top, "Left": left, "Top": top},
        "Polygon": [{"X": x, "Y": y} for x, y in polygon],
    }


def _line_polygon(line: Line) -> tuple[tuple[float, float], ...]:
    """The corners of the line in reading order: the first word's left edge to the last word's right edge."""
    first, last = line.words[0].polygon, line.words[-1].polygon
    points = [point for word in line.words for point in word.polygon]
    if first[0][0] <= last[1][0] and first[0][1] <= last[3][1]:  # upright: the axis-aligned box of all the words
        xs, ys = [x for x, _ in points], [y for _, y in points]
        return ((min(xs), min(ys)), (max(xs), min(ys)), (max(xs), max(ys)), (min(xs), max(ys)))
    return (first[0], last[1], last[2], first[3])  # a turned page: keep the reading-order corners


def _word_block(word: Word, page: int) -> dict[str, Any]:
    return {
        "BlockType": "WORD",
        "Confidence": round(word.confidence, 4),
        "Text": word.text,
        "TextType": "PRINTED",
        "Geometry": _geometry(word.polygon),
        "Id": str(uuid.uuid4()),
        "Page": page,
    }


def page_blocks(text: PageText, page: int) -> list[dict[str, Any]]:
    """The blocks of one page: PAGE (CHILD -> its LINEs), the LINEs (CHILD -> their WORDs) in reading order, WORDs."""
    lines: list[dict[str, Any]] = []
    words: list[dict[str, Any]] = []
    for line in text.lines:
        if not line.words:
            continue
        line_words = [_word_block(word, page) for word in line.words]
        words.extend(line_words)
        lines.append(
            {
                "BlockType": "LINE",
                "Confidence": round(line.confidence, 4),
                "Text": line.text,
                "Geometry": _geometry(_line_polygon(line)),
                "Id": str(uuid.uuid4()),
                "Relationships": [{"Type": "CHILD", "Ids": [block["Id"] for block in line_words]}],
                "Page": page,
            }
        )
    page_block: dict[str, Any] = {
        "BlockType": "PAGE",
        "Geometry": _geometry(((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))),
        "Id": str(uuid.uuid4()),
        "Page": page,
    }
    if lines:
        page_block["Relationships"] = [{"Type": "CHILD", "Ids": [block["Id"] for block in lines]}]
    return [page_block, *lines, *words]
