"""Evaluate the local domain classifier on a folder of real documents (evaluation only, never training data).

    python -m docproc_local.classifier.evaluate [REALDOCS_DIR]

``REALDOCS_DIR`` defaults to ``../shared/realdocs`` next to the project. Text is extracted with small, simple
readers (txt, md, csv, json, html, eml, pdf via pypdf, docx via python-docx, and the XML text of pptx, xlsx and
odt); anything else (images, rtf) or anything that fails to parse is reported as unreadable and left out of the
accuracy, as are files this script gives no expected label. Prints one line per file and the accuracy.

The expected labels below are a human judgement of each document's domain from its description in the corpus
MANIFEST; they were fixed before the classifier was run on these files, and nothing here feeds back into training.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import logging
import re
import sys
import time
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from docproc_local.classifier.model import DomainClassifier, default_classifier

MAX_PDF_PAGES = 40
MAX_TEXT_CHARS = 200_000

# file name -> expected domain; None = no defensible single domain (hostile or contentless files)
EXPECTED: dict[str, str | None] = {
    # legal
    "scotus-slip-opinion-2012.pdf": "legal",
    "ndrb-discharge-review-decision.docx": "legal",
    "court-opinion-scanned-imageonly.pdf": "legal",
    "cuad-aduro-consulting-agreement.txt": "legal",
    "cuad-suntron-maintenance-agreement.pdf": "legal",
    "pdfminer-dmca-summary.pdf": "legal",
    "kanpo-official-gazette-ja.pdf": "legal",
    "cc-by-sa-4.0-legalcode.txt": "legal",
    "govdocs-federal-register-bad-page.pdf": "legal",
    "nc-supreme-court-leading-crlf.pdf": "legal",
    "missouri-appeals-eof-before-header.pdf": "legal",
    # medical
    "icu-admission-note-ehr.pdf": "medical",
    "holter-ecg-report.pdf": "medical",
    "understanding-breast-cancer-booklet.pdf": "medical",
    "mtsamples-subset.csv": "medical",
    "mtsamples-discharge-summary-urology.txt": "medical",
    "mtsamples-gastric-bypass-consult.txt": "medical",
    "assurance-maladie-cerfa-form-fr.pdf": "medical",  # health-insurance care form (French)
    "medline-pubmed-records.txt": "medical",
    # financial
    "invoice2data-aws.pdf": "financial",
    "invoice2data-flipkart.pdf": "financial",
    "invoice2data-oyo-scan.png": "financial",
    "irs-f1040nr-2007.pdf": "financial",
    "mitsubishi-equity-statement-2021.pdf": "financial",
    "buckle-8k-ex99-earnings-release.html": "financial",
    "apple-balance-sheet-2023.csv": "financial",
    "vodafone-financial-kpis.xlsx": "financial",
    "discover-card-newsletter-2002.eml": "financial",  # credit-card customer newsletter
    "govdocs-subcontract-budget-chart.pptx": "financial",
    "nestle-half-year-segment-analysis.xlsx": "financial",
    "lux-salary-certificate-160F-2019.pdf": "financial",  # tax certificate of salary; arguably hr
    "irs-irm-400-pages.pdf": "financial",  # tax administration manual; arguably legal
    # technical
    "rfc6455.txt": "technical",
    "tracemonkey-pldi09-paper.pdf": "technical",
    "sec-edgar-ownership-xml-techspec.pdf": "technical",
    "pdfminer-six-README.md": "technical",
    "koha-user-manual-fr.odt": "technical",
    "geotopo-lecture-notes-de.pdf": "technical",  # maths lecture notes (German); arguably general
    "router-interface-config-guide-p93.pdf": "technical",
    "unstructured-copy-protected.pdf": "technical",
    "pdfminer-zen-of-python-corrupted.pdf": "technical",
    # hr
    "awesome-cv-resume.pdf": "hr",
    "awesome-cv-coverletter.pdf": "hr",
    "awesome-cv-resume-page1.png": "hr",
    "basecamp-benefits-and-perks.md": "hr",
    "basecamp-titles-for-programmers.md": "hr",
    "jsonresume-sample-resume.json": "hr",
    "jsonresume-sample-job.json": "hr",
    "company-family-day-announcement.eml": "hr",
    "superjob-resume-views-ru.html": "hr",
    # general
    "cnn-thanksgiving-weather-article.html": "general",
    "bbc-chinese-article-zh.html": "general",
    "wikipedia-iwan-roberts.txt": "general",
    "ideology-as-ritual-essay.pdf": "general",
    "western-union-scam-letter.eml": "general",  # advance-fee scam; arguably financial
    "hebrew-email-cp1255.eml": "general",
    "sorge-news-article-ja.rtf": "general",
    "chardet-dutch-novel-cp1252.txt": "general",
    "chardet-shift-jis-catechism.txt": "general",
    "dailybeast-single-line.html": "general",
    "nasa-gsfc-science-directorate.pptx": "general",  # organisation slide of a science directorate
    "pdfjs-erdgas-flyer-broken-xref.pdf": "general",  # consumer flyer (German)
    "scanned-letter-bad-ocr-layer.pdf": "general",
    "xiaobiaosong-gbk-no-tounicode-zh.pdf": "general",
    "pypdf-crazyones-encrypted-aes256.pdf": "general",
    "tika-arabic-misleading-charset.html": None,
    # no content to classify
    "empty-zero-bytes.pdf": None,
    "qpdf-zero-pages.pdf": None,
    "tika-truncated.docx": None,
    "tika-plaintext-named.odt": None,
}


class UnreadableDocument(Exception):
    """This script cannot get text out of the file (unsupported format, corrupt, encrypted, no text)."""


# --- tiny extractors ----------------------------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """UTF-8 (BOM tolerated) if valid, else windows-1252 with replacement: good enough to classify."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


class _TextOfHtml(HTMLParser):
    _SKIP = frozenset({"script", "style", "noscript", "template", "svg", "head"})
    _BLOCK = frozenset({"p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "section"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Visible text of an HTML page: tags dropped, script/style/head skipped, blocks on their own lines."""
    parser = _TextOfHtml()
    parser.feed(markup)
    parser.close()
    lines = (re.sub(r"[ \t\r\f\v\xa0]+", " ", line).strip() for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)


def flatten_json(value: Any, prefix: str = "") -> Iterator[str]:
    """``path: value`` lines, e.g. ``basics.name: Jane`` and ``work[0].position: Engineer``."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from flatten_json(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from flatten_json(item, f"{prefix}[{i}]")
    elif value is not None and value != "":
        yield f"{prefix}: {value}"


def _xml_text(xml: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", xml)).strip()


def _zip_xml_text(path: Path, members: re.Pattern[str]) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = sorted(n for n in archive.namelist() if members.fullmatch(n))
            return "\n".join(_xml_text(archive.read(n)[: MAX_TEXT_CHARS * 4].decode("utf-8", "replace")) for n in names)
    except zipfile.BadZipFile as exc:
        raise UnreadableDocument(f"not a zip package: {exc}") from exc


def _pdf_text(path: Path) -> str:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError
    except ImportError as exc:
        raise UnreadableDocument("pypdf is not installed") from exc
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableDocument("encrypted with a user password")
        parts: list[str] = []
        size = 0
        for page in reader.pages[:MAX_PDF_PAGES]:
            text = page.extract_text() or ""
            parts.append(text)
            size += len(text)
            if size > MAX_TEXT_CHARS:
                break
        return "\n".join(parts)
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, NotImplementedError) as exc:
        raise UnreadableDocument(f"pdf: {type(exc).__name__}: {exc}") from exc


def _docx_text(path: Path) -> str:
    try:
        import docx
        from docx.opc.exceptions import PackageNotFoundError
    except ImportError as exc:
        raise UnreadableDocument("python-docx is not installed") from exc
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise UnreadableDocument(f"docx: {type(exc).__name__}: {exc}") from exc
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(lines)


def _eml_text(path: Path) -> str:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    subject = str(message.get("subject", ""))
    parts: list[str] = [subject]
    for part in message.walk():
        if part.get_content_maintype() != "text":
            continue
        payload = part.get_payload(decode=True) or b""
        charset = part.get_content_charset() or "utf-8"
        try:
            text = payload.decode(charset, errors="replace")
        except LookupError:
            text = decode(payload)
        parts.append(html_to_text(text) if part.get_content_subtype() == "html" else text)
    return "\n".join(parts)


def extract_text(path: Path) -> str:
    """Text of a document for classification, as the pipeline's extractors would roughly produce it."""
    suffix = path.suffix.lower()
    if suffix in (".txt", ".md", ".csv"):
        text = decode(path.read_bytes())
    elif suffix == ".json":
        try:
            text = "\n".join(flatten_json(json.loads(decode(path.read_bytes()))))
        except json.JSONDecodeError as exc:
            raise UnreadableDocument(f"json: {exc}") from exc
    elif suffix in (".html", ".htm"):
        text = html_to_text(decode(path.read_bytes()))
    elif suffix == ".eml":
        text = _eml_text(path)
    elif suffix == ".pdf":
        text = _pdf_text(path)
    elif suffix == ".docx":
        text = _docx_text(path)
    elif suffix == ".pptx":
        text = _zip_xml_text(path, re.compile(r"ppt/slides/slide\d+\.xml"))
    elif suffix == ".xlsx":
        text = _zip_xml_text(path, re.compile(r"xl/sharedStrings\.xml|xl/worksheets/sheet\d+\.xml"))
    elif suffix == ".odt":
        text = _zip_xml_text(path, re.compile(r"content\.xml"))
    else:
        raise UnreadableDocument(f"no simple reader for {suffix or 'files without an extension'}")
    text = text[:MAX_TEXT_CHARS]
    if not text.strip():
        raise UnreadableDocument("no text")
    return text


# --- the report ---------------------------------------------------------------------------------------------------


def evaluate(directory: Path, classifier: DomainClassifier) -> float | None:
    rows: list[tuple[str, str, str, float, str, float]] = []
    skipped: list[tuple[str, str]] = []
    for path in sorted(p for p in directory.iterdir() if p.is_file() and p.name not in ("MANIFEST.tsv", "README.md")):
        expected = EXPECTED.get(path.name)
        try:
            text = extract_text(path)
        except UnreadableDocument as exc:
            skipped.append((path.name, f"unreadable ({exc})"[:100]))
            continue
        start = time.perf_counter()
        label, confidence = classifier.predict(text)
        elapsed = time.perf_counter() - start
        if expected is None:
            skipped.append((path.name, f"no expected label; predicted {label} {confidence:.2f}"))
            continue
        rows.append((path.name, expected, label, confidence, "ok" if label == expected else "WRONG", elapsed))

    width = max((len(r[0]) for r in rows), default=10)
    print(f"{'file':<{width}}  {'expected':<9}  {'predicted':<9}  conf  result  ms")
    for name, expected, label, confidence, result, elapsed in rows:
        print(f"{name:<{width}}  {expected:<9}  {label:<9}  {confidence:.2f}  {result:<6}  {elapsed * 1000:.0f}")
    print()
    for name, reason in skipped:
        print(f"skipped  {name}: {reason}")
    if not rows:
        print("no readable, labelled documents")
        return None
    correct = sum(1 for r in rows if r[4] == "ok")
    accuracy = correct / len(rows)
    print(f"\naccuracy {correct}/{len(rows)} = {accuracy:.3f} on readable labelled files ({len(skipped)} skipped)")
    return accuracy


def main(argv: list[str] | None = None) -> int:
    default_dir = Path(__file__).resolve().parents[3].parent / "shared" / "realdocs"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("directory", nargs="?", type=Path, default=default_dir, help=f"default: {default_dir}")
    args = parser.parse_args(argv)
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # font and xref repair chatter, not results
    if not args.directory.is_dir():
        parser.error(f"not a directory: {args.directory}")
    start = time.perf_counter()
    classifier = default_classifier()
    print(f"classifier ready in {time.perf_counter() - start:.2f}s ({classifier.n_docs} training documents)\n")
    evaluate(args.directory, classifier)
    return 0


if __name__ == "__main__":
    sys.exit(main())
