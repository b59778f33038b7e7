"""A cheap language guess from the extracted text, available before any model runs (routing rules use it).

Scripts first (CJK, kana, Hangul, Arabic, Hebrew, Cyrillic, Greek, Thai, Devanagari); Latin text by the share of
each language's commonest function words. It reads at most :data:`SAMPLE_CHARS` characters spread over the text,
runs in about a millisecond and answers an ISO 639-1 code, or ``None`` when the text is too short or unclear.
It is a routing hint, not the model's ``language`` (which the extraction reports).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

SAMPLE_CHARS = 6000
MIN_LETTERS = 40
MIN_IDEOGRAPHS = 12  # a Chinese or Japanese character carries about a word
MIN_WORD_HITS = 3


def _words(line: str) -> list[str]:
    return line.split()


# Ten to twenty of the most frequent words of each language that are rare in the others.
_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(_words("the and of to is in that for with this are be was on not by from have which")),
    "de": frozenset(_words("der die das und ist nicht mit den sich des auf für ein eine dem zu wird werden")),
    "fr": frozenset(_words("le la les et des est une dans pour qui pas sur du au avec ce sont par aux")),
    "es": frozenset(_words("el los las y del que en es por con para una se al como más su lo")),
    "it": frozenset(_words("il di che e la per non del della sono una con gli nel alla dei è")),
    "nl": frozenset(_words("de het een en van is dat niet op te zijn voor met als aan er wordt")),
    "pt": frozenset(_words("o os as e do da que em não para com uma dos das é ao pelo")),
}
_WORD_RE = re.compile(r"[^\W\d_]+", re.UNICODE)


def _sample(text: str) -> str:
    if len(text) <= SAMPLE_CHARS:
        return text
    third = SAMPLE_CHARS // 3
    middle = len(text) // 2
    return text[:third] + " " + text[middle - third // 2 : middle + third // 2] + " " + text[-third:]


def _script(ch: str) -> str | None:
    code = ord(ch)
    if 0x3040 <= code <= 0x30FF:
        return "kana"
    if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF:
        return "han"
    if 0xAC00 <= code <= 0xD7AF:
        return "ko"
    if 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F:
        return "ar"
    if 0x0590 <= code <= 0x05FF:
        return "he"
    if 0x0400 <= code <= 0x04FF:
        return "cyrillic"
    if 0x0370 <= code <= 0x03FF:
        return "el"
    if 0x0E00 <= code <= 0x0E7F:
        return "th"
    if 0x0900 <= code <= 0x097F:
        return "hi"
    if ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN"):
        return "latin"
    return None


def detect(text: str) -> str | None:
    """ISO 639-1 code of the text's main language, or ``None``."""
    sample = _sample(text)
    scripts = Counter(s for s in map(_script, sample) if s is not None)
    letters = sum(scripts.values())
    if not letters:
        return None
    script, _ = scripts.most_common(1)[0]
    if letters < (MIN_IDEOGRAPHS if script in {"han", "kana", "ko"} else MIN_LETTERS):
        return None
    if script == "han" and scripts.get("kana", 0) >= 0.05 * letters:
        return "ja"
    if script == "kana":
        return "ja"
    if script == "han":
        return "zh"
    if script == "cyrillic":
        return "uk" if sum(sample.count(c) for c in "іїєґ") >= 3 else "ru"
    if script != "latin":
        return script
    words = Counter(w.lower() for w in _WORD_RE.findall(sample))
    scores = {lang: sum(words[w] for w in vocabulary) for lang, vocabulary in _FUNCTION_WORDS.items()}
    best = max(scores, key=lambda lang: scores[lang])
    ranked = sorted(scores.values(), reverse=True)
    if ranked[0] < MIN_WORD_HITS or ranked[0] < 1.3 * ranked[1]:
        return None
    return best
