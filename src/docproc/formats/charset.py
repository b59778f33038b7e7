"""Text decoding: which charset a text file is in, and undoing double-encoded UTF-8.

A BOM (UTF-8/16/32) wins; then strict UTF-8 (also accepted with a few bad bytes when the rest is clearly UTF-8);
then UTF-16 without BOM when the NUL pattern says so; then charset-normalizer. A charset declared by an HTML
``<meta>`` or the ``Content-Type`` is only a tie-breaker among encodings that decode the bytes plausibly, because
such declarations lie. UTF-8 text that was double-encoded (``â€"`` for an en dash) is repaired when the C1
control characters that give it away are present. charset-normalizer does the statistics; the rules around it
(windows-1252 over look-alike Latin code pages, lying declarations) are ours because the library has no notion
of them.
"""

from __future__ import annotations

import codecs
import re
from typing import Any

from docproc.formats.base import words

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CHARSET_NAMES = {
    **{f"cp{n}": f"windows-{n}" for n in range(1250, 1259)},
    "cp932": "shift_jis (cp932)",
    "cp936": "gbk",
    "cp949": "euc-kr (cp949)",
    "cp950": "big5 (cp950)",
    "utf-8-sig": "utf-8",
}
_CONTROL_BYTES = frozenset(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D, 0x1B}


def _charset_label(codec: str) -> str:
    name = codecs.lookup(codec).name
    return _CHARSET_NAMES.get(name, name)


def decode_text(
    data: bytes, declared: str | None, *, declared_by: str = "Content-Type"
) -> tuple[str, str, list[str]] | None:
    """``(text, codec, warnings)``, or None when the bytes are not text in any encoding we trust."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            text = data.decode(codec, errors="replace")
            warnings: list[str] = [] if codec == "utf-8-sig" else [f"charset {codec}"]
            if "\ufffd" in text:
                warnings.append(f"invalid {codec} sequences replaced")
            return text, codec, warnings
    try:
        return _repair_text(data.decode("utf-8"), "utf-8", [])
    except UnicodeDecodeError:
        pass
    lenient = data.decode("utf-8", errors="replace")
    bad = lenient.count("\ufffd")
    multibyte = sum(1 for ch in lenient if ord(ch) > 0x7F) - bad
    if bad and multibyte >= 20 * bad:
        return _repair_text(lenient, "utf-8", [f"utf-8 with {bad} invalid byte sequences replaced"])

    sample = data[:8192]
    if sample.count(b"\x00") > len(sample) // 8:
        utf16 = _decode_utf16_without_bom(data)
        return (utf16[0], utf16[1], [f"charset {utf16[1]} (no BOM)"]) if utf16 else None
    controls = sum(1 for byte in sample if byte in _CONTROL_BYTES)
    if controls > max(2, len(sample) // 20):
        return None

    import charset_normalizer  # on first use: the prepare function also reads PDFs and images without it

    results = charset_normalizer.from_bytes(data)
    best = results.best()
    if best is None:
        return None
    chosen = best
    warnings = []
    if declared:
        try:
            declared_codec = codecs.lookup(declared).name
        except LookupError:
            declared_codec = ""
        same = [m for m in results if codecs.lookup(m.encoding).name == declared_codec]
        if same and same[0].chaos <= best.chaos + 0.05:
            chosen = same[0]
        elif declared_codec != codecs.lookup(chosen.encoding).name:
            warnings.append(f"{declared_by} declares charset {declared}, but the content is not {declared}")
    codec = chosen.encoding
    text = str(chosen)
    if chosen is best and codec != "cp1252":
        western = _windows_1252_instead(data, chosen)
        if western is not None:
            text, codec = western, "cp1252"
    warnings.insert(0, f"charset {_charset_label(codec)}")
    return _repair_text(text, codec, warnings)


# Single-byte Latin code pages that charset-normalizer cannot tell apart on short or accent-poor text.
_LATIN_CODEPAGES = words(
    "cp1250 cp1254 cp1257 iso8859-1 iso8859-2 iso8859-3 iso8859-4 iso8859-9 iso8859-10 iso8859-13 iso8859-14 "
    "iso8859-15 iso8859-16 cp437 cp775 cp850 cp852 cp858 mac-roman mac-latin2 mac-iceland mac-turkish hp-roman8"
)
_NON_WESTERN_LATIN_LANGUAGES = words(
    "Polish Czech Slovak Hungarian Romanian Croatian Slovene Serbian Lithuanian Latvian Estonian Turkish"
)
# A symbol that is neither letter, digit nor apostrophe/dash, between two letters: "T‰m‰" is a wrong code page.
_ODD_SYMBOL_IN_WORD = re.compile(r"(?<=[^\W\d_])[^\x00-\x7f\w\u2010-\u2019\u00b4\u00b7](?=[^\W\d_])")


def _windows_1252_instead(data: bytes, match: Any) -> str | None:
    """The windows-1252 reading of ``data`` when it is at least as plausible as charset-normalizer's pick.

    windows-1252 is by far the most common legacy encoding of Western text, and charset-normalizer often picks a
    look-alike Latin code page (windows-1257 for French, mac-iceland for Finnish). Prefer windows-1252 when it
    leaves fewer odd symbols inside words, or as many and the detected language is not one that the other Latin
    code pages exist for.
    """
    if codecs.lookup(match.encoding).name not in _LATIN_CODEPAGES:
        return None
    try:
        western = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    ours = len(_ODD_SYMBOL_IN_WORD.findall(western[:65536]))
    theirs = len(_ODD_SYMBOL_IN_WORD.findall(str(match)[:65536]))
    if ours != theirs:
        return western if ours < theirs else None
    language = match.language if match.language != "Unknown" else ""
    return None if language in _NON_WESTERN_LATIN_LANGUAGES else western


def _decode_utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    sample = data[:8192]
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    codec = "utf-16-le" if odd > 2 * even else "utf-16-be" if even > 2 * odd else None
    if codec is None:
        return None
    try:
        return data[: len(data) // 2 * 2].decode(codec), codec
    except UnicodeDecodeError:
        return None


_MOJIBAKE = re.compile(
    "[\u00c2-\u00df][\u0080-\u00bf]|[\u00e0-\u00ef][\u0080-\u00bf]{2}|[\u00f0-\u00f4][\u0080-\u00bf]{3}"
)
_C1_CONTROLS = re.compile("[\u0080-\u009f]")


def _repair_text(text: str, codec: str, warnings: list[str]) -> tuple[str, str, list[str]]:
    repaired, count = repair_mojibake(text)
    if count:
        warnings.append(f"repaired {count} double-encoded (mojibake) UTF-8 sequences")
    return repaired, codec, warnings


def repair_mojibake(text: str) -> tuple[str, int]:
    """Undo UTF-8 that was decoded as Latin-1 and encoded again (``â\\x80\\x93`` -> an en dash).

    Only when C1 control characters are present: they never occur in real text, and they are what such
    double encoding leaves behind, so legitimate ``Ã©`` in a non-mojibake text is left alone.
    """
    if not _C1_CONTROLS.search(text):
        return text, 0
    count = 0

    def fix(match: re.Match[str]) -> str:
        nonlocal count
        try:
            fixed = match.group().encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            return match.group()
        count += 1
        return fixed

    return _MOJIBAKE.sub(fix, text), count


def decode_with_charset(payload: bytes, charset: str | None) -> tuple[str, list[str]]:
    """Decode a payload whose charset was declared (e-mail part); auto-detect when the label is wrong."""
    if charset:
        label = charset.strip().lower()
        # As browsers do (WHATWG): Latin-1 and ASCII labels mean windows-1252; try UTF-8 first for ASCII.
        candidates = (
            ["utf-8", "cp1252"]
            if label in {"us-ascii", "ascii", "ansi_x3.4-1968"}
            else ["cp1252"]
            if label in {"iso-8859-1", "iso_8859-1", "latin1", "latin-1"}
            else [label]
        )
        for codec in candidates:
            try:
                return repair_mojibake(payload.decode(codec))[0], []
            except (LookupError, UnicodeDecodeError):
                continue
    decoded = decode_text(payload, None)
    if decoded is None:
        return payload.decode("utf-8", errors="replace"), [f"part with undecodable charset {charset!r}"]
    return decoded[0], [w for w in decoded[2] if not w.startswith("charset")]
