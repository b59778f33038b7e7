"""Training-time augmentation: deterministic OCR-like noise (scanned documents reach the classifier as OCR text).

Used by :mod:`train` (noisy copies of training documents, ``Hyper.noisy_copies``) and by :mod:`cv` (the ``shifted``
protocol). Pure standard library, seeded: the same corpus always gives the same model.
"""

from __future__ import annotations

import random
import unicodedata

_SWAPS = {"l": "1", "1": "l", "O": "0", "0": "O", "rn": "m", "m": "rn", "e": "c", "S": "5", "B": "8", "i": "í"}


def ocr_noise(text: str, seed: int, rate: float = 0.04) -> str:
    """Deterministic scanning noise: confused glyphs, broken and joined words, lost diacritics, stray marks."""
    rng = random.Random(seed)
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        roll = rng.random()
        if roll < rate * 0.35 and text[i : i + 2] in _SWAPS:
            out.append(_SWAPS[text[i : i + 2]])
            i += 2
            continue
        if roll < rate * 0.6 and ch in _SWAPS:
            out.append(_SWAPS[ch])
        elif roll < rate * 0.75 and ch == " ":
            pass  # two words run together
        elif roll < rate * 0.9 and ch.isalpha():
            out.append(ch + " ")  # a word broken in two
        elif roll < rate and ch.isalpha():
            out.append(unicodedata.normalize("NFKD", ch)[0])  # a lost accent
        elif roll > 1 - rate * 0.1:
            out.append(ch + rng.choice("',.~|"))
        else:
            out.append(ch)
        i += 1
    return "".join(out)
