"""Key phrases and stop words of the local extractor."""

import re
from collections import Counter

from docproc_local.standins.insights.identifiers import _EMAIL_RE, _URL_RE
from docproc_local.standins.insights.language import _STOPWORDS
from docproc_local.standins.insights.text import _WORD_RE, MAX_KEY_PHRASES, TEXT_MAX, _clip, _Doc, _words
from docproc_local.standins.insights.title import _FUNCTION_CHARS

_EXTRA_STOPWORDS = _words(
    "also may might must would could should will shall one two three first second new per via page pages "
    "http https www com org html amp nbsp etc use used using within without upon however therefore thus "
    "whether including include includes made make makes well like just get got said says see many much "
    "more most other others some such than then there here where when what who whom whose why how any "
    "each every both either neither yes only very can cannot into onto over under after before above below "
    "between during about against through while being having does did done doing his her him she he its "
    "our ours ourselves you your yours they them their theirs was were been has had have not nor but "
    "all are for the and that this with from which"
)
_PHRASE_BREAK_RE = re.compile(r"[.,;:!?()\[\]{}\"“”«»|/\\\n\t*#=<>]+|\s[-\u2013\u2014]\s")


def _stopwords_for(language: str) -> frozenset[str]:
    return _STOPWORDS.get(language, frozenset()) | _STOPWORDS["en"] | _EXTRA_STOPWORDS


def _key_phrases(doc: _Doc, language: str, stopwords: frozenset[str]) -> list[str]:
    counts: Counter[tuple[str, ...]] = Counter()
    surface: dict[tuple[str, ...], str] = {}
    first_seen: dict[tuple[str, ...], int] = {}
    if language in ("zh", "ja"):
        for run in re.findall(r"[\u30a0-\u30ff]{2,}|[\u3400-\u4dbf\u4e00-\u9fff]{2,}", doc.scan):
            grams = [run] if len(run) <= 4 else [run[i : i + 2] for i in range(len(run) - 1)]
            for gram in grams:
                if not any(ch in _FUNCTION_CHARS for ch in gram):
                    key = (gram,)
                    counts[key] += 1
                    surface.setdefault(key, gram)
                    first_seen.setdefault(key, len(first_seen))
    else:
        text = _URL_RE.sub(" , ", _EMAIL_RE.sub(" , ", doc.scan))
        for fragment in _PHRASE_BREAK_RE.split(text):
            run: list[str] = []
            for word in [*_WORD_RE.findall(fragment), ""]:
                lower = word.lower()
                if word and len(lower) > 2 and lower not in stopwords:
                    run.append(word)
                    continue
                for n in (1, 2, 3):
                    for i in range(len(run) - n + 1):
                        words = run[i : i + n]
                        key = tuple(w.lower() for w in words)
                        counts[key] += 1
                        if key not in surface:
                            surface[key] = " ".join(words)
                            first_seen[key] = len(first_seen)
                run = []
    min_count = 2 if sum(counts.values()) > 60 else 1
    scored = sorted(
        ((count * (1 + 0.6 * (len(key) - 1)), key) for key, count in counts.items() if count >= min_count),
        key=lambda item: (-item[0], first_seen[item[1]]),
    )
    chosen: list[tuple[str, ...]] = []
    for _, key in scored:
        words = set(key)
        if any(words <= set(other) for other in chosen):
            continue
        # a longer phrase replaces a shorter one it contains when it is about as frequent
        contained = [other for other in chosen if set(other) < words]
        if contained:
            if all(counts[key] >= 0.5 * counts[other] for other in contained):
                chosen = [other for other in chosen if other not in contained]
            else:
                continue
        chosen.append(key)
        if len(chosen) >= MAX_KEY_PHRASES:
            break
    out = []
    for key in chosen:
        phrase = surface[key]
        if phrase.isupper() and len(phrase) > 5:
            phrase = phrase.lower()
        out.append(_clip(phrase, TEXT_MAX))
    return out
