"""How much a PDF page's text layer looks like text: a score from 0 (garbage) to 1 (words), from the text alone.

A text layer can be there and still be useless: an OCR layer from a poor scan, a font without a usable
``ToUnicode`` map (``(cid:12)`` codes, private-use glyphs, Latin-1 soup), UTF-8 read as windows-1252
(``Ã¼ber``), or glyph-per-token letter spacing. Such pages are worth sending to OCR. The score looks at:

* **characters**: the share of U+FFFD replacement characters, private-use code points, control characters and
  unassigned code points, and of characters inside ``(cid:NN)`` codes; each costs twice its share;
* **tokens** (whitespace-separated; punctuation stripped; numbers, URLs and e-mail addresses are neutral): a token
  counts as a word when it is written in one script (Han with kana, hangul or Latin counts as one) and, for
  alphabets with vowels (Latin, Cyrillic, Greek), when it has a vowel (up to three letters need none: "Mr",
  "kg"), no run of more than six consonants, a vowel share between 0.1 and 0.9, at most one lower-to-upper case
  flip (``McDonald``, not ``xKqZvB``), no mojibake pair (``Ã¤``, ``Ð¿``), no symbol between letters
  (``H^uid``), and at most 30 letters unless hyphenated. Abjads (Arabic, Hebrew) need one script and at most 16
  letters; scripts written without spaces (CJK, Thai) only one script. The word part of the score is the share
  of letters that sit in word-like tokens;
* **letter spacing**: when more than half of ten or more alphabetic tokens are single letters (``N a m e``),
  those letters do not count as words (pdf.py joins clearly letter-spaced lines before scoring; what is left is
  suspect).

``score = word share x (1 - 2 x bad character share)``, clipped to [0, 1]. A page is garbled below
:data:`GARBLED_BELOW`. Pages with fewer than :data:`MIN_LETTERS` letters (bad characters included) are not
judged (a page number, a signature line). The threshold was set on texts written for the tests
(tests/unit/test_formats_quality.py), not on the corpus: ordinary pages in English, German, French, Russian,
Greek, Japanese, Chinese, Arabic and Hebrew, a table of figures and an invoice full of codes score 0.89 or more;
cid codes, Cyrillic and Chinese UTF-8 read as a Latin code page, random consonant strings, random letters,
private-use glyphs, replacement characters, letter-spaced text and words glued together score 0.15 or less.
0.5 sits in the middle of that gap. What it cannot see: OCR misreads that still look like words
("Aaalggfitted", "eneloalcg") need a dictionary or a language model, and German mojibake (only the umlaut
words break) lowers the score without making the page garbled.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass

#: Pages scoring below this are reported in ``pages_garbled``.
GARBLED_BELOW = 0.5
#: Pages with fewer letters than this are not scored (too little text to judge).
MIN_LETTERS = 40

_CID = re.compile(r"\(cid:\d+\)|\bcid:\d+\b")
_STRIP = "\"'`.,;:!?()[]{}<>«»„“”‘’‚‹›*•·–—-_/\\|&%#@$€£¥+=~^°§¶"  # noqa: RUF001
_NEUTRAL = re.compile(r"^(?:[\d.,:;/%+\-–()$€£¥]+|https?://\S+|www\.\S+|\S+@\S+\.\S+)$")  # noqa: RUF001
# UTF-8 read as windows-1252/Latin-1: a lead byte letter followed by a continuation-byte character.
_MOJIBAKE = re.compile(
    "[\u00c2-\u00f4]"
    "[\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]"
)
# A symbol between two letters ("s*r;tiiR", "H^uid", "3s«»teership"): OCR noise or a broken font mapping.
_SYMBOL_IN_WORD = re.compile(r"(?<=[^\W\d_])[^\w\s'’‘\-.,/&:@·•()\u00ad\u2010-\u2014](?=[^\W\d_])")  # noqa: RUF001
_VOWELS = frozenset("aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüýÿāăąēĕėęěĩīĭįıōŏőœũūŭůűųŷǎǐǒǔаеёиоуыэюяіїєўαεηιουωάέήίόύώϊϋΐΰ")  # noqa: RUF001
_MAX_CONSONANT_RUN = 6
_MAX_WORD_LETTERS = {"latin": 30, "cyrillic": 30, "greek": 30, "arabic": 16, "hebrew": 16}
_MAX_TOKEN = 60  # any script but the ones written without spaces


@dataclass(frozen=True)
class PageQuality:
    score: float  # 0..1
    letters: int  # letters and bad characters seen: the evidence (below MIN_LETTERS a page is not judged)
    reasons: tuple[str, ...]  # what pulled the score down, for warnings and debugging

    @property
    def garbled(self) -> bool:
        return self.letters >= MIN_LETTERS and self.score < GARBLED_BELOW


def score_text(text: str) -> PageQuality:
    """Score one page's text; see the module docstring."""
    visible = [ch for ch in text if not ch.isspace()]
    if not visible:
        return PageQuality(0.0, 0, ("no text",))
    cid_chars = sum(len(match) for match in _CID.findall(text))
    bad_chars = sum(1 for ch in visible if _bad_char(ch)) + cid_chars
    bad_share = min(bad_chars / len(visible), 1.0)
    cleaned = _CID.sub(" ", text)

    good = bad = 0
    singles = alphabetic_tokens = 0
    reasons: dict[str, int] = {}
    judged: list[tuple[int, bool]] = []
    for raw in cleaned.split():
        token = raw.strip(_STRIP)
        if not token or _NEUTRAL.match(token):
            continue
        letters = sum(1 for ch in token if ch.isalpha())
        if not letters:
            continue
        verdict = _token_verdict(token)
        if verdict is not None:
            reasons[verdict] = reasons.get(verdict, 0) + 1
        judged.append((letters, verdict is None))
        if _script(token) in ("latin", "cyrillic", "greek"):
            alphabetic_tokens += 1
            singles += letters == 1
    letter_spaced = alphabetic_tokens >= 10 and singles > 0.5 * alphabetic_tokens
    if letter_spaced:
        reasons["letter-spaced"] = singles
    for letters, ok in judged:
        if ok and not (letter_spaced and letters == 1):
            good += letters
        else:
            bad += letters
    total = good + bad
    word_share = good / total if total else 0.0
    if bad_share:
        reasons["bad characters"] = bad_chars
    score = max(0.0, min(1.0, word_share * (1 - 2 * bad_share)))
    ranked = sorted(reasons.items(), key=lambda item: -item[1])
    return PageQuality(round(score, 3), total + bad_chars, tuple(name for name, _ in ranked[:3]))


def _bad_char(ch: str) -> bool:
    if ch == "\ufffd":
        return True
    category = unicodedata.category(ch)
    return category in ("Co", "Cn", "Cs") or (category == "Cc" and ch not in "\t\n\r\f")


def _token_verdict(token: str) -> str | None:
    """None when the token looks like a word, else the reason it does not."""
    if _MOJIBAKE.search(token):
        return "mojibake"
    script = _script(token)
    if script == "mixed":
        return "mixed scripts"
    if script in ("latin", "cyrillic", "greek") and _SYMBOL_IN_WORD.search(token):
        return "symbols inside words"
    letters = [ch for ch in token if ch.isalpha()]
    if script in ("han", "thai", "other"):
        return None
    if len(token) > _MAX_TOKEN:
        return "very long tokens"
    if len(letters) > _MAX_WORD_LETTERS.get(script, 40) and not any(ch in token for ch in "-/"):
        return "very long tokens"
    if script not in ("latin", "cyrillic", "greek") or len(letters) < 2:
        return None
    lowered = [ch.lower() for ch in letters]
    vowels = sum(1 for ch in lowered if ch in _VOWELS)
    if not vowels:
        return None if len(letters) <= 3 else "no vowels"  # "CFO", "Mr", "kg" are fine
    if len(letters) >= 6 and not 0.1 <= vowels / len(letters) <= 0.9:
        return "odd vowel mix"
    run = longest = 0
    for ch in lowered:
        run = 0 if ch in _VOWELS else run + 1
        longest = max(longest, run)
    if longest > _MAX_CONSONANT_RUN:
        return "consonant runs"
    flips = sum(1 for a, b in itertools.pairwise(letters) if a.islower() and b.isupper())
    if flips > 1:
        return "case flips"
    return None


_SCRIPT_PREFIXES = (
    ("LATIN", "latin"),
    ("CYRILLIC", "cyrillic"),
    ("GREEK", "greek"),
    ("ARABIC", "arabic"),
    ("HEBREW", "hebrew"),
    ("CJK", "han"),
    ("HIRAGANA", "han"),
    ("KATAKANA", "han"),
    ("HANGUL", "han"),
    ("HALFWIDTH KATAKANA", "han"),
    ("IDEOGRAPHIC", "han"),
    ("FULLWIDTH LATIN", "han"),
    ("THAI", "thai"),
)


def _script(token: str) -> str:
    """The one script a token's letters are written in, ``mixed`` for several, ``other`` for unlisted ones."""
    found = {_char_script(ch) for ch in token if ch.isalpha()}
    found.discard("other")  # scripts not listed (Devanagari, iteration marks, ...) neither count nor clash
    if "han" in found:
        found.discard("latin")  # "PDFファイル", "Google社": CJK text runs Latin words in without spaces
    if len(found) > 1:
        return "mixed"
    return found.pop() if found else "other"


def _char_script(ch: str) -> str:
    if ch.isascii():
        return "latin"
    name = unicodedata.name(ch, "")
    for prefix, script in _SCRIPT_PREFIXES:
        if name.startswith(prefix):
            return script
    return "other"


def page_list(pages: list[int]) -> str:
    shown = ", ".join(str(page) for page in pages[:10])
    return shown + (f" and {len(pages) - 10} more" if len(pages) > 10 else "")
