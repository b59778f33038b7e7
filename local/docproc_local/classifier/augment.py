"""Training-time augmentation, deterministic and label-preserving.

* :func:`ocr_noise`: OCR-like noise (scanned documents reach the classifier as OCR text);
* :func:`furnish`: a document wrapped in the page furniture and notices real files carry whatever their domain
  (page headers and footers, confidentiality and privacy notices, disclaimers, licence headers, cookie banners:
  ``classifier/corpus/boilerplate``). Seen under every label, such text stops deciding the label: a licence header
  does not make a README legal, a privacy footer does not make an invoice legal.

Used by :mod:`train` (``Hyper.noisy_copies``, ``Hyper.furnished_copies``) and by :mod:`cv` (the ``shifted`` and
``long`` protocols). Pure standard library, seeded: the same corpus always gives the same model.
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


def furnish(text: str, snippets: list[str], seed: int, most: int = 3) -> str:
    """``text`` with one to ``most`` of ``snippets`` put before it, after it or at a line break inside it, plus
    a page number or two; ``text`` itself if there are no snippets."""
    if not snippets:
        return text
    rng = random.Random(seed)
    lines = text.split("\n")
    chosen = rng.sample(snippets, k=min(len(snippets), rng.randint(1, most)))
    for snippet in chosen:
        where = rng.random()
        if where < 0.4:
            lines.insert(0, snippet)
        elif where < 0.8 or len(lines) < 3:
            lines.append(snippet)
        else:
            lines.insert(rng.randint(1, len(lines) - 1), snippet)
    if rng.random() < 0.5:
        pages = rng.randint(2, 9)
        lines.insert(rng.randint(1, len(lines)), f"{rng.randint(1, pages)} / {pages}")
    return "\n".join(lines)
