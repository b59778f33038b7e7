"""The classifier's training corpus, documents split by ``---`` lines:

* ``classifier/corpus/<language>/<label>.txt``: text written for the project;
* ``classifier/corpus/real/<part>/<language>/<label>.txt``: real documents taken from redistributable packages,
  one ``<part>`` per group of sources (each with its ``fetch.sh`` and ``SOURCES.md``).

See ``classifier/corpus/README.md`` for where every part comes from and its licence.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
CLASSIFIER_DIR = REPO / "classifier"
CORPUS_DIR = CLASSIFIER_DIR / "corpus"
#: ``boilerplate/<language>.txt``: page furniture and notices that appear in documents of every domain (headers,
#: footers, confidentiality and privacy notices, licence headers, cookie banners), for :func:`augment.furnish`.
BOILERPLATE_DIR = CORPUS_DIR / "boilerplate"
#: ``real/<part>/<language>/<label>.txt``: real documents from packages (see ``classifier/corpus/README.md``).
REAL_DIR = CORPUS_DIR / "real"
LABELS: tuple[str, ...] = ("legal", "medical", "financial", "technical", "hr", "general")
DOC_SEPARATOR = "---"

_LANGUAGE = re.compile(r"^[a-z]{2}$")
_PART = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class CorpusError(ValueError):
    """The corpus is missing, empty, or has a file or folder the classifier does not know."""


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    language: str
    source: str  # "<language>/<label>.txt#<n>"


def split_documents(text: str) -> list[str]:
    """The documents of one corpus file: the parts between lines holding only ``---``."""
    parts: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.strip() == DOC_SEPARATOR:
            parts.append("\n".join(current).strip())
            current = []
        else:
            current.append(line)
    parts.append("\n".join(current).strip())
    return [part for part in parts if part]


def load_corpus(root: Path = CORPUS_DIR) -> list[Example]:
    """Every example of the corpus, in a stable order: the written part (language, label, position), then each
    part of ``real/`` (part, language, label, position)."""
    if not root.is_dir():
        raise CorpusError(f"no corpus folder at {root}")
    skip = {BOILERPLATE_DIR.name, REAL_DIR.name}
    examples: list[Example] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name not in skip):
        examples += _language_folder(folder, root)
    real = root / REAL_DIR.name
    if real.is_dir():
        for part in sorted(p for p in real.iterdir() if p.is_dir()):
            if not _PART.match(part.name):
                raise CorpusError(f"{part}: a part of real/ is named in lower-case letters, digits and '-'")
            for folder in sorted(p for p in part.iterdir() if p.is_dir()):
                examples += _language_folder(folder, root)
    missing = set(LABELS) - {example.label for example in examples}
    if missing:
        raise CorpusError(f"{root}: no documents for {', '.join(sorted(missing))}")
    return examples


def _language_folder(folder: Path, root: Path) -> list[Example]:
    if not _LANGUAGE.match(folder.name):
        raise CorpusError(f"{folder}: corpus folders are ISO 639-1 language codes (en, de, ...)")
    examples = []
    for path in sorted(folder.glob("*.txt")):
        if path.stem not in LABELS:
            raise CorpusError(f"{path}: {path.stem!r} is not a label; the labels are {', '.join(LABELS)}")
        try:
            content = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise CorpusError(f"{path}: not UTF-8 ({error})") from error
        where = path.relative_to(root).as_posix()
        for n, doc in enumerate(split_documents(content)):
            examples.append(Example(doc, path.stem, folder.name, f"{where}#{n}"))
    return examples


def load_boilerplate(root: Path = BOILERPLATE_DIR) -> dict[str, list[str]]:
    """language -> its boilerplate snippets (``---``-separated like the corpus); empty if there is no folder."""
    if not root.is_dir():
        return {}
    snippets = {}
    for path in sorted(root.glob("*.txt")):
        if not _LANGUAGE.match(path.stem):
            raise CorpusError(f"{path}: boilerplate files are named by ISO 639-1 language code (en.txt, de.txt, ...)")
        snippets[path.stem] = split_documents(path.read_text(encoding="utf-8"))
    return snippets


def corpus_hash(root: Path = CORPUS_DIR) -> str:
    """A hash of every corpus file's name and content (the artifact records it)."""
    digest = hashlib.sha256()
    for path in sorted([*root.glob("*/*.txt"), *root.glob(f"{REAL_DIR.name}/*/*/*.txt")]):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
