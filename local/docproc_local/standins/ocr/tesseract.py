"""Tesseract 5 (Debian's ``tesseract-ocr`` packages) as the OCR engine of the local Textract.

Why the binary is called directly instead of through pytesseract: Tesseract parallelises with OpenMP, and on this
project's two-core machines an unthrottled run is about four times *slower* (8.4 s instead of 2 s for a 300 dpi
letter page) because its threads fight; ``OMP_THREAD_LIMIT=1`` must reach the child process, and pytesseract
offers no way to pass an environment without changing ``os.environ`` of the whole process (which would throttle
scikit-learn's OpenMP in the same process). What pytesseract would add is a TSV reader of ten lines, kept here.

Languages: one pass with :data:`DEFAULT_LANGUAGES` (``eng+deu+fra+spa``: Latin-script text in the project's main
languages; on the scanned court opinion at 300 dpi 3.3 s a page, against 2.2 s with ``eng`` alone). When that pass
reads poorly (mean word confidence under :data:`RETRY_BELOW_CONFIDENCE` = 85: clean Latin print reads at 93-96,
Russian read as Latin at about 72), Tesseract's orientation and script detection (``--psm 0``, about 1 s a page)
decides whether to run again turned and/or with the script's languages (:data:`SCRIPT_LANGUAGES`: rus, jpn,
chi_sim, ara, heb); the pass with the higher mean confidence wins. Clean Latin pages pay nothing extra, poor scans
about 1 s.
``DOCPROC_LOCAL_TEXTRACT_LANGS`` replaces the default (e.g. ``eng+ita+nld+por``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from docproc_local.standins.errors import textract_error

DEFAULT_LANGUAGES = "eng+deu+fra+spa"
ENV_LANGUAGES = "DOCPROC_LOCAL_TEXTRACT_LANGS"
RETRY_BELOW_CONFIDENCE = 85.0
#: Tesseract's OSD script names -> the languages to read them with (English for the Latin words mixed in).
SCRIPT_LANGUAGES = {
    "Cyrillic": "rus+eng",
    "Japanese": "jpn+eng",
    "Han": "chi_sim+eng",
    "HanS": "chi_sim+eng",
    "Arabic": "ara+eng",
    "Hebrew": "heb+eng",
}
PAGE_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float  # 0-100
    # in the page's own orientation (as sent), normalised to 0-1: four corners in reading order TL, TR, BR, BL
    polygon: tuple[tuple[float, float], ...]


@dataclass
class Line:
    words: list[Word] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(word.text for word in self.words)

    @property
    def confidence(self) -> float:
        return sum(word.confidence for word in self.words) / len(self.words)


@dataclass
class PageText:
    lines: list[Line]
    languages: str
    rotation: int = 0  # degrees the page was turned (counter-clockwise) to read it

    @property
    def words(self) -> list[Word]:
        return [word for line in self.lines for word in line.words]

    @property
    def mean_confidence(self) -> float:
        words = self.words
        return sum(word.confidence for word in words) / len(words) if words else 0.0


def tesseract_path() -> str:
    path = shutil.which("tesseract")
    if path is None:
        raise RuntimeError(
            "tesseract is not installed: run `make setup` (installs Debian's tesseract-ocr packages) "
            "or `apt-get install tesseract-ocr tesseract-ocr-eng`"
        )
    return path


def default_languages(environ: dict[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return env.get(ENV_LANGUAGES) or DEFAULT_LANGUAGES


class Tesseract:
    """Reads one page image into lines of words (``recognise``); thread-safe (every call is its own process)."""

    def __init__(self, languages: str | None = None, *, timeout: float = PAGE_TIMEOUT_SECONDS) -> None:
        self.languages = languages or default_languages()
        self.timeout = timeout
        self._binary = tesseract_path()
        self._env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def recognise(self, image: Image.Image, dpi: int = 0) -> PageText:
        with tempfile.TemporaryDirectory(prefix="docproc-ocr-") as tmp:
            path = Path(tmp) / "page.pnm"  # uncompressed: writing it costs milliseconds, PNG would cost 0.3 s
            image.save(path)
            best = self._read(path, image.size, dpi, self.languages, rotation=0)
            if best.mean_confidence >= RETRY_BELOW_CONFIDENCE:
                return best
            rotate, script = self._detect(path, dpi)
            languages = SCRIPT_LANGUAGES.get(script or "", self.languages)
            if rotate == 0 and languages == self.languages:
                return best
            size = image.size
            if rotate:
                turned = image.rotate(rotate, expand=True)
                turned.save(path)
                size = turned.size
            other = self._read(path, size, dpi, languages, rotation=rotate)
            return other if other.mean_confidence > best.mean_confidence else best

    def _run(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                [self._binary, *args],
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                env=self._env,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise textract_error(
                "BadDocumentException", f"OCR of the page took longer than {self.timeout:.0f} s"
            ) from None

    def _read(self, path: Path, size: tuple[int, int], dpi: int, languages: str, *, rotation: int) -> PageText:
        args = [str(path), "stdout", "-l", languages, "--psm", "3"]
        args += ["--dpi", str(dpi)] if dpi else []
        done = self._run([*args, "tsv"])
        if done.returncode != 0:
            raise RuntimeError(f"tesseract failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        return PageText(parse_tsv(done.stdout, size, rotation), languages, rotation)

    def _detect(self, path: Path, dpi: int) -> tuple[int, str | None]:
        """(degrees to turn the page counter-clockwise, script name) from OSD; (0, None) when it cannot tell."""
        args = [str(path), "stdout", "--psm", "0"] + (["--dpi", str(dpi)] if dpi else [])
        done = self._run(args)
        if done.returncode != 0:  # "Too few characters", an empty page
            return 0, None
        values = {
            key.strip(): value.strip()
            for key, _, value in (line.partition(":") for line in done.stdout.splitlines())
            if value
        }
        try:
            rotate = int(values.get("Rotate", "0")) % 360
            orientation_confidence = float(values.get("Orientation confidence", "0"))
            script_confidence = float(values.get("Script confidence", "0"))
        except ValueError:
            return 0, None
        # Tesseract's "Rotate" is clockwise; PIL turns counter-clockwise
        rotate = (360 - rotate) % 360 if orientation_confidence >= 2.0 else 0
        script = values.get("Script") if script_confidence >= 1.0 else None
        return rotate, script


def parse_tsv(tsv: str, size: tuple[int, int], rotation: int = 0) -> list[Line]:
    """Tesseract's TSV (level 5 rows are words) -> lines in its reading order, geometry normalised to 0-1.

    ``size`` is the pixel size of the image that was read (turned by ``rotation`` from the page as sent); the
    geometry is mapped back onto the page as sent.
    """
    width, height = size
    lines: dict[tuple[int, int, int, int], Line] = {}
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t", 11)
        if len(cells) < 12 or cells[0] != "5":
            continue
        text = cells[11].strip()
        confidence = float(cells[10])
        if not text or confidence < 0:
            continue
        left, top, w, h = (int(value) for value in cells[6:10])
        corners = ((left, top), (left + w, top), (left + w, top + h), (left, top + h))
        polygon = tuple(_unrotate(x / width, y / height, rotation) for x, y in corners)
        key = (int(cells[1]), int(cells[2]), int(cells[3]), int(cells[4]))
        lines.setdefault(key, Line()).words.append(Word(text, min(100.0, confidence), polygon))
    return list(lines.values())


def _unrotate(u: float, v: float, rotation: int) -> tuple[float, float]:
    """A point of the image turned ``rotation`` degrees counter-clockwise -> the same point of the page as sent.

    ``u, v`` are normalised by the *turned* image's width and height, the result by the page's.
    """
    u, v = min(max(u, 0.0), 1.0), min(max(v, 0.0), 1.0)
    if rotation == 90:
        return 1.0 - v, u
    if rotation == 180:
        return 1.0 - u, 1.0 - v
    if rotation == 270:
        return v, 1.0 - u
    return u, v
