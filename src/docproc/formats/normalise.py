"""Normalised text: NFC, ``\\n`` line ends, no control characters, no trailing blanks, blank-line runs collapsed."""

from __future__ import annotations

import re
import unicodedata

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
SURROGATES = re.compile("[\ud800-\udfff]")


def normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_CONTROL_MAP)
    text = SURROGATES.sub("\ufffd", text)
    text = unicodedata.normalize("NFC", text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()
