"""Format detection and text extraction: the real-documents corpus, then small synthetic documents per format."""

from __future__ import annotations

import csv
import io
import struct
import time
import zipfile
from pathlib import Path

import docx
import pypdf
import pytest

from docproc.errors import (
    CorruptDocument,
    DocumentTooLarge,
    EmptyDocument,
    EncryptedDocument,
    NoTextContent,
    UnsupportedDocumentType,
)
from docproc.formats import DocumentFormat, ExtractedText, NeedsOcr, detect_format, extract_text

from helpers import pdf_from_objects

REALDOCS = Path(__file__).resolve().parents[3] / "shared" / "realdocs"
needs_corpus = pytest.mark.skipif(
    not REALDOCS.is_dir(), reason=f"real documents not found at {REALDOCS} (clone ../shared beside the repo)"
)

F = DocumentFormat

# What each corpus file must give: a format and text it must contain, or an error and words of its message.
EXPECTED: dict[str, tuple[DocumentFormat | type[Exception], tuple[str, ...]]] = {
    "apple-balance-sheet-2023.csv": (F.CSV, ("Cash and cash equivalents | 29965 | 23646",)),
    "assurance-maladie-cerfa-form-fr.pdf": (F.PDF, ("Assurance Maladie",)),
    "awesome-cv-coverletter.pdf": (F.PDF, ("Site Reliability Engineer",)),
    "awesome-cv-resume-page1.png": (NeedsOcr, ("PNG image", "2480 x 3508", "needs OCR")),
    "awesome-cv-resume.pdf": (F.PDF, ("Byungjin Park",)),
    "basecamp-benefits-and-perks.md": (F.MARKDOWN, ("Benefits & Perks", "Health Insurance")),
    "basecamp-titles-for-programmers.md": (F.MARKDOWN, ("Titles for Programmers",)),
    "bbc-chinese-article-zh.html": (F.HTML, ("梁振英",)),
    "buckle-8k-ex99-earnings-release.html": (F.HTML, ("The Buckle, Inc.",)),
    "cc-by-sa-4.0-legalcode.txt": (F.TXT, ("Attribution-ShareAlike 4.0 International",)),
    "chardet-dutch-novel-cp1252.txt": (F.TXT, ("Stipan Arkadiewitsch", "…")),
    "chardet-shift-jis-catechism.txt": (F.TXT, ("ルター",)),
    "cnn-thanksgiving-weather-article.html": (F.HTML, ("smooth sailing for Thanksgiving",)),
    "company-family-day-announcement.eml": (F.EML, ("Subject: Family Day", "petting zoo")),
    "court-opinion-scanned-imageonly.pdf": (NeedsOcr, ("no text layer", "OCR")),
    "cuad-aduro-consulting-agreement.txt": (F.TXT, ("CONSULTING AGREEMENT", "Aduro Biotech")),
    "cuad-suntron-maintenance-agreement.pdf": (F.PDF, ("MAINTENANCE AGREEMENT",)),
    "dailybeast-single-line.html": (F.HTML, ("Justice League Vigil for Slain NYPD Officers",)),
    "discover-card-newsletter-2002.eml": (F.EML, ("Subject: Discover(R) Card News Online - January 2002",)),
    "empty-zero-bytes.pdf": (EmptyDocument, ("0 bytes",)),
    "geotopo-lecture-notes-de.pdf": (F.PDF, ("Topologie",)),
    "govdocs-federal-register-bad-page.pdf": (F.PDF, ("Drug Enforcement Administration",)),
    "govdocs-subcontract-budget-chart.pptx": (F.PPTX, ("Thin Film Partnership Subcontract Budgets",)),
    "hebrew-email-cp1255.eml": (F.EML, ("Subject: RE: שלום",)),
    "holter-ecg-report.pdf": (F.PDF, ("Heart rate",)),
    "icu-admission-note-ehr.pdf": (F.PDF, ("On arrival to MICU",)),
    "ideology-as-ritual-essay.pdf": (F.PDF, ("Ideology as ritual", "Václav Havel")),
    "invoice2data-aws.pdf": (F.PDF, ("Amazon Web Services",)),
    "invoice2data-flipkart.pdf": (F.PDF, ("Flipkart",)),
    "invoice2data-oyo-scan.png": (NeedsOcr, ("PNG image",)),
    "irs-f1040nr-2007.pdf": (F.PDF, ("Nonresident Alien Income Tax Return",)),
    "irs-irm-400-pages.pdf": (F.PDF, ("IRM",)),
    "jsonresume-sample-job.json": (F.JSON, ("title: Web Developer", "company: Microsoft")),
    "jsonresume-sample-resume.json": (F.JSON, ("basics.name: Richard Hendriks",)),
    "kanpo-official-gazette-ja.pdf": (F.PDF, ()),  # CID fonts without ToUnicode: see its own test
    "koha-user-manual-fr.odt": (F.ODT, ("Manuel d\u2019utilisation de Koha",)),
    "lux-salary-certificate-160F-2019.pdf": (F.PDF, ("modèle 160",)),
    "medline-pubmed-records.txt": (F.TXT, ("PMID- 16403221",)),
    "missouri-appeals-eof-before-header.pdf": (F.PDF, ("In the Missouri Court of Appeals",)),
    "mitsubishi-equity-statement-2021.pdf": (F.PDF, ("Consolidated Statement of Changes in Equity",)),
    "mtsamples-discharge-summary-urology.txt": (F.TXT, ("DISCHARGE DIAGNOSES",)),
    "mtsamples-gastric-bypass-consult.txt": (F.TXT, ("HISTORY OF PRESENT ILLNESS",)),
    "mtsamples-subset.csv": (F.CSV, ("description | medical_specialty | sample_name | transcription | keywords",)),
    "nasa-gsfc-science-directorate.pptx": (F.PPTX, ("Sciences and Exploration Directorate",)),
    "nc-supreme-court-leading-crlf.pdf": (F.PDF, ("IN THE SUPREME COURT OF NORTH CAROLINA",)),
    "ndrb-discharge-review-decision.docx": (F.DOCX, ("Naval Discharge Review Board",)),
    "nestle-half-year-segment-analysis.xlsx": (F.XLSX, ("Zone NA | 12553", "Nespresso")),
    "pdfjs-erdgas-flyer-broken-xref.pdf": (F.PDF, ("Erdgas \u2013 zuverlässig, sicher, günstig!",)),
    "pdfminer-dmca-summary.pdf": (F.PDF, ("THE DIGITAL MILLENNIUM COPYRIGHT ACT OF 1998",)),
    "pdfminer-six-README.md": (F.MARKDOWN, ("Pdfminer.six is a community maintained fork",)),
    "pdfminer-zen-of-python-corrupted.pdf": (F.PDF, ("Beautiful is better than ugly.",)),
    "pypdf-crazyones-encrypted-aes256.pdf": (EncryptedDocument, ("AES-256", "user password")),
    "qpdf-zero-pages.pdf": (EmptyDocument, ("zero pages",)),
    "rfc6455.txt": (F.TXT, ("The WebSocket Protocol",)),
    "router-interface-config-guide-p93.pdf": (F.PDF, ("Interface Configuration Guide",)),
    "scanned-letter-bad-ocr-layer.pdf": (F.PDF, ("Foundation",)),
    "scotus-slip-opinion-2012.pdf": (F.PDF, ("Supreme Court",)),
    "sec-edgar-ownership-xml-techspec.pdf": (F.PDF, ("Ownership", "XML Technical")),
    "sorge-news-article-ja.rtf": (F.RTF, ("ゾルゲと尾崎、淡々と最期",)),
    "superjob-resume-views-ru.html": (F.HTML, ("резюме",)),
    "tika-arabic-misleading-charset.html": (F.HTML, ("اللغة العربية",)),
    "tika-plaintext-named.odt": (F.TXT, ("This is not a zip file!",)),
    "tika-truncated.docx": (CorruptDocument, ("DOCX", "central directory")),
    "tracemonkey-pldi09-paper.pdf": (F.PDF, ("Trace-based Just-in-Time Type Specialization",)),
    "understanding-breast-cancer-booklet.pdf": (F.PDF, ("Breast Cancer",)),
    "unstructured-copy-protected.pdf": (F.PDF, ("LayoutParser",)),
    "vodafone-financial-kpis.xlsx": (F.XLSX, ("Quarterly revenue",)),
    "western-union-scam-letter.eml": (F.EML, ("Subject: Western Union Swift Money Transfer",)),
    "wikipedia-iwan-roberts.txt": (F.TXT, ("Iwan Roberts", "Norwich City")),
    "xiaobiaosong-gbk-no-tounicode-zh.pdf": (F.PDF, ("关于红军作战的原则",)),
}
# Files that take a second or more each (long PDFs, or pages pypdf is slow on).
SLOW = {
    "geotopo-lecture-notes-de.pdf",
    "sec-edgar-ownership-xml-techspec.pdf",
    "holter-ecg-report.pdf",
    "understanding-breast-cancer-booklet.pdf",
    "tracemonkey-pldi09-paper.pdf",
    "irs-irm-400-pages.pdf",
}


def _corpus(name: str) -> bytes:
    return (REALDOCS / name).read_bytes()


def _extract(name: str, **limits: int) -> ExtractedText:
    return extract_text(_corpus(name), name, **limits)


# --- the corpus ----------------------------------------------------------------------------------------------------


@needs_corpus
def test_every_corpus_file_has_an_expectation() -> None:
    with (REALDOCS / "MANIFEST.tsv").open(encoding="utf-8", newline="") as manifest:
        listed = {row["file"] for row in csv.DictReader(manifest, delimiter="\t")}
    on_disk = {path.name for path in REALDOCS.iterdir()} - {"MANIFEST.tsv", "README.md"}

    assert listed == on_disk
    assert set(EXPECTED) == listed, "add the new corpus files to EXPECTED"


@needs_corpus
@pytest.mark.parametrize(
    "name",
    [pytest.param(name, marks=pytest.mark.slow) if name in SLOW else name for name in sorted(EXPECTED)],
)
def test_corpus_file_extracts_or_fails_cleanly(name: str) -> None:
    expected, snippets = EXPECTED[name]

    if isinstance(expected, DocumentFormat):
        result = _extract(name)
        assert result.format is expected
        assert len(result.text) > 20
        assert "\x00" not in result.text
        assert "\r" not in result.text
        assert "\n\n\n" not in result.text
        for snippet in snippets:
            assert snippet in result.text
    else:
        with pytest.raises(expected) as caught:
            _extract(name)
        for snippet in snippets:
            assert snippet in str(caught.value)


@needs_corpus
def test_scotus_opinion_is_read_in_full() -> None:
    result = _extract("scotus-slip-opinion-2012.pdf")

    assert result.pages == 30
    assert result.truncated is False
    assert "Supreme Court" in result.text
    assert result.media_type == "application/pdf"


@needs_corpus
def test_aws_invoice_names_the_seller() -> None:
    assert "Amazon Web Services" in _extract("invoice2data-aws.pdf").text


@needs_corpus
def test_shift_jis_text_decodes_to_japanese() -> None:
    result = _extract("chardet-shift-jis-catechism.txt")

    assert "ルター" in result.text  # Luther
    assert sum(1 for ch in result.text if "\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff") > 5000
    assert "\ufffd" not in result.text
    assert any("shift_jis" in warning for warning in result.warnings)


@needs_corpus
def test_windows_1252_dutch_text_keeps_its_punctuation() -> None:
    result = _extract("chardet-dutch-novel-cp1252.txt")

    # The file's only non-ASCII byte is 0x85, which windows-1252 maps to a horizontal ellipsis.
    assert "ontvlambaar temperament" in result.text
    assert "…" in result.text
    assert "\ufffd" not in result.text
    assert "charset windows-1252" in result.warnings


@needs_corpus
def test_mojibake_wikipedia_text_is_repaired() -> None:
    result = _extract("wikipedia-iwan-roberts.txt")

    assert "Iwan Roberts" in result.text
    assert "â€" not in result.text
    assert "\u2013" in result.text  # the en dash the mojibake stood for
    assert any("mojibake" in warning for warning in result.warnings)


@needs_corpus
def test_arabic_html_with_lying_meta_charset_decodes_as_windows_1256() -> None:
    result = _extract("tika-arabic-misleading-charset.html")

    assert "اللغة العربية" in result.text
    assert "charset windows-1256" in result.warnings


@needs_corpus
def test_plain_text_named_odt_is_detected_as_text() -> None:
    assert detect_format(_corpus("tika-plaintext-named.odt"), "tika-plaintext-named.odt") == (F.TXT, "text/plain")


@needs_corpus
def test_png_is_an_image_for_ocr() -> None:
    assert detect_format(_corpus("invoice2data-oyo-scan.png"), "invoice2data-oyo-scan.png") == (F.PNG, "image/png")
    with pytest.raises(NeedsOcr) as raised:
        extract_text(_corpus("invoice2data-oyo-scan.png"), "scan.png")
    assert (raised.value.format, raised.value.pages, raised.value.ocr_pages) == (F.PNG, 1, (1,))
    assert isinstance(raised.value, NoTextContent)  # without OCR it is NO_TEXT_CONTENT


@needs_corpus
def test_zero_byte_pdf_is_empty() -> None:
    with pytest.raises(EmptyDocument):
        _extract("empty-zero-bytes.pdf")


@needs_corpus
def test_pdf_with_zero_pages_is_empty() -> None:
    with pytest.raises(EmptyDocument, match="zero pages"):
        _extract("qpdf-zero-pages.pdf")


@needs_corpus
def test_aes256_pdf_needing_a_user_password_is_encrypted() -> None:
    with pytest.raises(EncryptedDocument, match="AES-256"):
        _extract("pypdf-crazyones-encrypted-aes256.pdf")


@needs_corpus
@pytest.mark.parametrize(
    ("name", "algorithm", "snippet"),
    [
        ("pdfminer-dmca-summary.pdf", "RC4-40", "DIGITAL MILLENNIUM COPYRIGHT ACT"),
        ("unstructured-copy-protected.pdf", "AES-128", "LayoutParser"),
    ],
)
def test_pdfs_with_empty_user_password_are_decrypted(name: str, algorithm: str, snippet: str) -> None:
    result = _extract(name)

    assert snippet in result.text
    assert f"decrypted with empty user password ({algorithm})" in result.warnings


@needs_corpus
def test_cid_fonts_without_tounicode_are_flagged() -> None:
    result = _extract("kanpo-official-gazette-ja.pdf")

    assert result.text
    assert "decrypted with empty user password (RC4-40)" in result.warnings
    assert any("Ryumin-Light" in warning and "garbled" in warning for warning in result.warnings)


@needs_corpus
def test_gbk_text_behind_a_winansi_font_is_re_decoded() -> None:
    result = _extract("xiaobiaosong-gbk-no-tounicode-zh.pdf")

    assert "关于红军作战的原则" in result.text
    assert "Ä¿" not in result.text


@needs_corpus
def test_truncated_docx_is_corrupt() -> None:
    data = _corpus("tika-truncated.docx")

    assert detect_format(data, "tika-truncated.docx")[0] is F.DOCX
    with pytest.raises(CorruptDocument, match="central directory"):
        extract_text(data, "tika-truncated.docx")


@needs_corpus
def test_scanned_pdf_without_text_layer_has_no_text() -> None:
    with pytest.raises(NoTextContent, match="OCR"):
        _extract("court-opinion-scanned-imageonly.pdf")


@needs_corpus
@pytest.mark.parametrize("name", ["nc-supreme-court-leading-crlf.pdf", "missouri-appeals-eof-before-header.pdf"])
def test_junk_before_pdf_header_is_skipped(name: str) -> None:
    data = _corpus(name)

    assert not data.startswith(b"%PDF-")
    assert detect_format(data, "") == (F.PDF, "application/pdf")
    assert any("before the %PDF- header" in warning for warning in _extract(name).warnings)


@needs_corpus
def test_unreadable_pdf_pages_are_skipped_with_a_warning() -> None:
    result = _extract("govdocs-federal-register-bad-page.pdf")

    assert result.pages == 19
    assert any(warning.startswith("page 2 unreadable, skipped") for warning in result.warnings)


@needs_corpus
def test_400_page_pdf_stops_at_max_pages() -> None:
    started = time.perf_counter()
    result = _extract("irs-irm-400-pages.pdf", max_pages=50)
    elapsed = time.perf_counter() - started

    assert result.truncated is True
    assert result.pages == 400
    assert "stopped after 50 of 400 pages (max_pages=50)" in result.warnings
    assert elapsed < 30  # about 0.3 s on a laptop core; the bound catches reading all 400 pages by mistake


@needs_corpus
def test_max_chars_cuts_a_long_pdf_early() -> None:
    result = _extract("irs-irm-400-pages.pdf", max_chars=5_000)

    assert result.truncated is True
    assert len(result.text) <= 5_000
    assert any("max_chars=5000" in warning for warning in result.warnings)


@needs_corpus
def test_single_line_html_of_222000_characters() -> None:
    data = _corpus("dailybeast-single-line.html")
    assert len(data.split(b"\n", 1)[0]) > 200_000

    started = time.perf_counter()
    result = extract_text(data, "page.html")

    assert time.perf_counter() - started < 10
    assert "Justice League Vigil" in result.text
    assert "function(" not in result.text  # scripts dropped


@needs_corpus
def test_spreadsheet_and_slides_report_their_counts() -> None:
    assert _extract("nestle-half-year-segment-analysis.xlsx").pages == 5
    assert _extract("nasa-gsfc-science-directorate.pptx").pages == 1


# --- synthetic documents: text formats --------------------------------------------------------------------------


def test_utf8_text() -> None:
    result = extract_text("Grüße aus Köln\n".encode(), "note.txt")

    assert result == ExtractedText("Grüße aus Köln", F.TXT, "text/plain", None, False, ())


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-32"])
def test_text_with_byte_order_mark(encoding: str) -> None:
    result = extract_text("Grüße aus Köln, 東京".encode(encoding))

    assert result.text == "Grüße aus Köln, 東京"
    assert result.format is F.TXT


def test_windows_1252_text() -> None:
    text = "Le café coûte 5 € \u2013 déjà payé. Ça va très bien, merci beaucoup à vous, chère amie. " * 3

    result = extract_text(text.encode("cp1252"), "note.txt")

    assert "Le café coûte 5 € \u2013 déjà payé." in result.text
    assert "charset windows-1252" in result.warnings


def test_double_encoded_utf8_is_repaired() -> None:
    original = "Score \u2013 2\u20131 in the final"
    mojibake = original.encode().decode("latin-1").encode()

    result = extract_text(mojibake, "score.txt")

    assert result.text == original


def test_text_is_normalised() -> None:
    raw = "cafe\u0301\r\nline two\x00\r\n\r\n\r\n\r\nline three   \r\n\f\n".encode()

    assert extract_text(raw).text == "café\nline two\n\nline three"


def test_markdown_markup_is_stripped_lightly() -> None:
    source = (
        b"# Title\n\nSome **bold** and *italic* text with a [link](https://example.com).\n\n"
        b"```\ncode here\n```\n- item\n"
    )

    result = extract_text(source, "README.md")

    assert result.format is F.MARKDOWN
    assert result.text == "Title\n\nSome bold and italic text with a link.\n\ncode here\n- item"


def test_html_keeps_title_and_visible_text_only() -> None:
    page = (
        b"<!DOCTYPE html><html><head><title>Quarterly Report</title><style>body{color:red}</style>"
        b'<script>var hidden = "secret";</script></head><body><nav><a href="/">Home</a></nav>'
        b"<h1>Results</h1><p>Revenue grew&nbsp;5&amp;6%.</p>"
        b"<table><tr><th>Year</th><th>Revenue</th></tr><tr><td>2023</td><td>10</td></tr></table></body></html>"
    )

    result = extract_text(page, "report.html")

    assert result.format is F.HTML
    assert result.text == "Quarterly Report\n\nResults\nRevenue grew 5&6%.\nYear | Revenue\n2023 | 10"


def test_html_meta_charset_that_lies_is_overruled() -> None:
    page = (
        b'<html><head><meta charset="utf-8"><title>Menu</title></head><body><p>'
        + "Crème brûlée, café au lait et déjà vu: une façade naïve près de la forêt. ".encode("cp1252") * 4
        + b"</p></body></html>"
    )

    result = extract_text(page, "menu.html")

    assert "Crème brûlée, café au lait et déjà vu" in result.text
    assert any("declares charset utf-8" in warning for warning in result.warnings)


def test_csv_with_sniffed_delimiter() -> None:
    data = b"name;city;amount\nAlice;Paris;10\nBob;Berlin;20\n"

    result = extract_text(data, "people.csv")

    assert result.format is F.CSV
    assert result.text == "name | city | amount\nAlice | Paris | 10\nBob | Berlin | 20"


def test_csv_is_sniffed_without_extension_but_extension_breaks_ties() -> None:
    data = b"id,name,score\n1,Ada,90\n2,Grace,95\n3,Linus,80\n"

    assert detect_format(data, "export")[0] is F.CSV
    assert detect_format(data, "notes.txt")[0] is F.TXT
    assert detect_format(data, "export", "text/plain")[0] is F.TXT


def test_json_is_flattened_to_path_value_lines() -> None:
    data = b'{"basics": {"name": "Ada", "skills": ["math", "poetry"]}, "age": 36, "active": true, "note": null}'

    result = extract_text(data, "resume.json")

    assert result.format is F.JSON
    assert result.text == "basics.name: Ada\nbasics.skills[0]: math\nbasics.skills[1]: poetry\nage: 36\nactive: true"


def test_json_lines_are_flattened_per_record() -> None:
    result = extract_text(b'{"a": "x"}\n{"a": "y"}\n', "rows.jsonl")

    assert result.format is F.JSON
    assert result.text == "[0].a: x\n[1].a: y"


def test_invalid_json_named_json_falls_back_to_text() -> None:
    result = extract_text(b'{"name": "Ada", "role": "engineer",', "broken.json")

    assert result.format is F.TXT
    assert result.text == '{"name": "Ada", "role": "engineer",'
    assert any(warning.startswith("not valid JSON") for warning in result.warnings)


def test_email_with_alternatives_prefers_plain_text() -> None:
    message = (
        b"From: Ada <ada@example.com>\r\nTo: team@example.com\r\nSubject: =?utf-8?q?Caf=C3=A9_opening?=\r\n"
        b"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="b1"\r\n\r\n'
        b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"The caf=C3=A9 opens on Monday.\r\n"
        b"--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>The HTML version</p>\r\n--b1--\r\n"
    )

    result = extract_text(message, "mail.eml")

    assert result.format is F.EML
    assert result.text == (
        "Subject: Café opening\nFrom: Ada <ada@example.com>\nTo: team@example.com\n"
        "Date: Mon, 1 Jan 2024 10:00:00 +0000\nThe café opens on Monday."
    )


def test_email_html_part_and_bogus_transfer_encoding() -> None:
    message = (
        b"From: news@example.com\nTo: you@example.com\nSubject: News\nMIME-Version: 1.0\n"
        b"Content-Type: text/html; charset=windows-1252\nContent-Transfer-Encoding: 8-bit\n\n"
        b"<html><body><p>Caf\xe9 news</p><script>track()</script></body></html>\n"
    )

    result = extract_text(message)

    assert result.format is F.EML
    assert result.text.endswith("Café news")
    assert "track()" not in result.text


def test_rtf_escapes_and_destinations() -> None:
    rtf = (
        rb"{\rtf1\ansi\ansicpg1252{\fonttbl{\f0 Arial;}}{\*\generator Writer;}{\info{\title Secret}}"
        rb"\f0 Caf\'e9 \u8364? price\par Line two\tab end}"
    )

    result = extract_text(rtf, "memo.rtf")

    assert result.format is F.RTF
    assert result.text == "Café € price\nLine two\tend"


def test_rtf_shift_jis_bytes_via_ansicpg() -> None:
    assert extract_text(rb"{\rtf1\ansi\ansicpg932 \'93\'fa\'96\'7b\par}").text == "日本"


# --- synthetic documents: binary formats -------------------------------------------------------------------------


def _pdf(page_texts: list[str], *, image_only: bool = False) -> bytes:
    """A minimal valid PDF with one Helvetica text line per page (or one 1x1 image per page)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % (5 + 2 * i) for i in range(len(page_texts))), len(page_texts)),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray /BitsPerComponent 8 "
        b"/Length 1 >>\nstream\n\x80\nendstream",
    ]
    for i, text in enumerate(page_texts):
        content = (
            b"q 100 0 0 100 72 600 cm /Im1 Do Q" if image_only else b"BT /F1 12 Tf 72 720 Td (%s) Tj ET" % text.encode()
        )
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /Font << /F1 3 0 R >> /XObject << /Im1 4 0 R >> >> >>" % (6 + 2 * i)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
    return pdf_from_objects(objects)


def _encrypted(pdf: bytes, *, user_password: str, algorithm: str) -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm=algorithm)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_pdf_text_and_page_count() -> None:
    result = extract_text(_pdf(["Hello from page one", "And page two"]), "doc.bin")

    assert result == ExtractedText("Hello from page one\n\n\fAnd page two", F.PDF, "application/pdf", 2, False, ())


def test_pdf_max_pages_truncates_but_reports_all_pages() -> None:
    result = extract_text(_pdf([f"Page {n}" for n in range(1, 6)]), max_pages=2)

    assert result.text == "Page 1\n\n\fPage 2"  # pages are separated by form feeds
    assert result.pages == 5
    assert result.truncated is True


def test_pdf_named_txt_is_still_a_pdf() -> None:
    assert detect_format(b"\r\n" + _pdf(["x"]), "notes.txt", "text/plain") == (F.PDF, "application/pdf")


def test_image_only_pdf_has_no_text() -> None:
    with pytest.raises(NoTextContent, match="no text layer"):
        extract_text(_pdf(["", ""], image_only=True))


def test_image_only_pages_among_text_pages_are_listed_for_ocr() -> None:
    text_page = _pdf(["The tenant shall pay the monthly rent on the first business day of each month."])
    scan = _pdf([""], image_only=True)
    writer = pypdf.PdfWriter()
    for source in (text_page, scan, text_page):
        writer.append(pypdf.PdfReader(io.BytesIO(source)))
    buffer = io.BytesIO()
    writer.write(buffer)

    result = extract_text(buffer.getvalue(), "mixed.pdf")

    assert result.pages == 3
    assert result.pages_without_text == (2,)
    assert result.pages_garbled == ()
    assert "pages with images but no text layer (need OCR): 2" in result.warnings
    assert result.text.count("\f") == 2  # the empty page still has its page break


def test_garbled_text_layer_is_listed_but_the_document_still_succeeds() -> None:
    good = "The tenant shall pay the monthly rent on the first business day of each month, as agreed."
    garbage = "Xkqzv Bvtrp Mnplk Qwrtz Zxcvb Hjklm Wrtzp Qpxnv Drftg Bnmkl Trvzx Pqlmn Gzktr Vbnmq"

    result = extract_text(_pdf([good, garbage]), "scan-with-bad-ocr.pdf")

    assert result.pages_garbled == (2,)
    assert any("garbled" in warning and "on pages 2" in warning for warning in result.warnings)
    assert garbage in result.text


@needs_corpus
def test_corpus_pages_for_ocr() -> None:
    assert _extract("kanpo-official-gazette-ja.pdf").pages_garbled == (1,)  # CID fonts without ToUnicode
    assert _extract("awesome-cv-resume.pdf").pages_garbled == (1, 2, 3)  # words glued together
    assert _extract("scotus-slip-opinion-2012.pdf").pages_without_text == (29, 30)  # scanned appendix pages
    clean = _extract("cuad-suntron-maintenance-agreement.pdf")
    assert (clean.pages_garbled, clean.pages_without_text) == ((), ())


def test_rc4_pdf_with_empty_user_password_is_decrypted() -> None:
    data = _encrypted(_pdf(["Decrypted words"]), user_password="", algorithm="RC4-128")

    result = extract_text(data)

    assert result.text == "Decrypted words"
    assert result.warnings == ("decrypted with empty user password (RC4-128)",)


def test_pdf_needing_a_user_password_is_encrypted() -> None:
    data = _encrypted(_pdf(["Hidden words"]), user_password="s3cret", algorithm="AES-256")

    with pytest.raises(EncryptedDocument, match=r"AES-256\) and needs a user password"):
        extract_text(data)


def test_unparseable_pdf_is_corrupt() -> None:
    with pytest.raises(CorruptDocument):
        extract_text(b"%PDF-1.7\n" + b"\x8f garbage that is no PDF structure \x00" * 40)


def _docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("Service agreement")
    table = document.add_table(rows=2, cols=2)
    for row, values in zip(table.rows, [("Party", "Role"), ("Acme", "Supplier")], strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_paragraph("Signed in Berlin")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_paragraphs_and_tables_in_order() -> None:
    result = extract_text(_docx(), "contract.docx")

    assert result.format is F.DOCX
    assert result.text == "Service agreement\nParty | Role\nAcme | Supplier\nSigned in Berlin"


def test_truncated_synthetic_docx_is_corrupt() -> None:
    data = _docx()[:600]

    assert detect_format(data)[0] is F.DOCX
    with pytest.raises(CorruptDocument, match="DOCX"):
        extract_text(data)


def _zip(members: dict[str, str | bytes], *, compress: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content, compress_type=zipfile.ZIP_STORED if name == "mimetype" else compress)
    return buffer.getvalue()


_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_RELS = (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="' + _REL + '/officeDocument" Target="{}"/></Relationships>'
)
_CONTENT_TYPES = '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'


def test_xlsx_shared_inline_numeric_and_boolean_cells() -> None:
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    data = _zip(
        {
            "[Content_Types].xml": _CONTENT_TYPES,
            "_rels/.rels": _PKG_RELS.format("xl/workbook.xml"),
            "xl/workbook.xml": f'<workbook xmlns="{main}" xmlns:r="{_REL}"><sheets>'
            '<sheet name="Summary" sheetId="1" r:id="rId1"/></sheets></workbook>',
            "xl/_rels/workbook.xml.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
            "xl/sharedStrings.xml": f'<sst xmlns="{main}"><si><t>Region</t></si>'
            "<si><r><t>Reve</t></r><r><t>nue</t></r></si></sst>",
            "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{main}"><sheetData>'
            '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
            '<row r="2"><c r="A2" t="inlineStr"><is><t>North</t></is></c><c r="B2"><v>1234.5</v></c>'
            '<c r="D2" t="b"><v>1</v></c></row></sheetData></worksheet>',
        }
    )

    result = extract_text(data, "sales.xlsx")

    assert result.format is F.XLSX
    assert result.pages == 1
    assert result.text == "Sheet: Summary\nRegion | Revenue\nNorth | 1234.5 |  | TRUE"


def test_pptx_slides_tables_and_notes() -> None:
    a = "http://schemas.openxmlformats.org/drawingml/2006/main"
    p = "http://schemas.openxmlformats.org/presentationml/2006/main"
    rels = "http://schemas.openxmlformats.org/package/2006/relationships"
    data = _zip(
        {
            "[Content_Types].xml": _CONTENT_TYPES,
            "_rels/.rels": _PKG_RELS.format("ppt/presentation.xml"),
            "ppt/presentation.xml": f'<p:presentation xmlns:p="{p}" xmlns:r="{_REL}"><p:sldIdLst>'
            '<p:sldId id="256" r:id="rId2"/></p:sldIdLst></p:presentation>',
            "ppt/_rels/presentation.xml.rels": f'<Relationships xmlns="{rels}">'
            f'<Relationship Id="rId2" Type="{_REL}/slide" Target="slides/slide1.xml"/></Relationships>',
            "ppt/slides/slide1.xml": f'<p:sld xmlns:p="{p}" xmlns:a="{a}"><p:cSld><p:spTree>'
            "<p:sp><p:txBody><a:p><a:r><a:t>Quarterly </a:t></a:r><a:r><a:t>results</a:t></a:r></a:p></p:txBody></p:sp>"
            "<a:tbl><a:tr><a:tc><a:txBody><a:p><a:r><a:t>Q1</a:t></a:r></a:p></a:txBody></a:tc>"
            "<a:tc><a:txBody><a:p><a:r><a:t>12%</a:t></a:r></a:p></a:txBody></a:tc></a:tr></a:tbl>"
            "</p:spTree></p:cSld></p:sld>",
            "ppt/slides/_rels/slide1.xml.rels": f'<Relationships xmlns="{rels}">'
            f'<Relationship Id="rId1" Type="{_REL}/notesSlide" Target="../notesSlides/notesSlide1.xml"/>'
            "</Relationships>",
            "ppt/notesSlides/notesSlide1.xml": f'<p:notes xmlns:p="{p}" xmlns:a="{a}"><p:cSld><p:spTree><p:sp>'
            "<p:txBody><a:p><a:r><a:t>Mention the outlook</a:t></a:r></a:p></p:txBody></p:sp></p:spTree>"
            "</p:cSld></p:notes>",
        }
    )

    result = extract_text(data, "deck.pptx")

    assert result.format is F.PPTX
    assert result.pages == 1
    assert result.text == "Slide 1\nQuarterly results\nQ1 | 12%\nNotes:\nMention the outlook"


_ODT_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_ODT_CONTENT = (
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    f'xmlns:text="{_ODT_TEXT}" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0">'
    "<office:body><office:text><text:h>Minutes</text:h>"
    '<text:p>Present:<text:s text:c="2"/><text:span>Ada</text:span> and Grace</text:p>'
    "<table:table><table:table-row><table:table-cell><text:p>Item</text:p></table:table-cell>"
    "<table:table-cell><text:p>Owner</text:p></table:table-cell></table:table-row></table:table>"
    "</office:text></office:body></office:document-content>"
)


def test_odt_headings_paragraphs_and_tables() -> None:
    data = _zip({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": _ODT_CONTENT})

    result = extract_text(data, "minutes.odt")

    assert result.format is F.ODT
    assert result.text == "Minutes\nPresent:  Ada and Grace\nItem | Owner"


def test_odt_with_a_damaged_part_is_corrupt() -> None:
    data = _zip({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": _ODT_CONTENT}, compress=0)
    damaged = data.replace(b"Minutes", b"Minutez")  # same length, so only the CRC-32 check notices

    assert detect_format(damaged)[0] is F.ODT
    with pytest.raises(CorruptDocument, match="CRC"):
        extract_text(damaged, "minutes.odt")


def test_odt_with_malformed_xml_is_corrupt() -> None:
    data = _zip({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": _ODT_CONTENT[:-30]})

    with pytest.raises(CorruptDocument, match="ODT"):
        extract_text(data, "minutes.odt")


def test_password_protected_odt_is_encrypted() -> None:
    manifest = (
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        '<manifest:file-entry manifest:full-path="content.xml"><manifest:encryption-data/></manifest:file-entry>'
        "</manifest:manifest>"
    )
    data = _zip(
        {
            "mimetype": "application/vnd.oasis.opendocument.text",
            "META-INF/manifest.xml": manifest,
            "content.xml": b"\x8f\x02 encrypted bytes",
        }
    )

    with pytest.raises(EncryptedDocument, match="OpenDocument"):
        extract_text(data, "secret.odt")


_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


def test_password_protected_office_file_is_encrypted() -> None:
    with pytest.raises(EncryptedDocument, match="EncryptedPackage"):
        detect_format(_OLE + "EncryptedPackage".encode("utf-16-le"), "budget.xlsx")


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + struct.pack(">II", 12_000, 9_000) + b"\x08\x02\x00\x00\x00",
         DocumentTooLarge, "12000 x 9000 pixels .108 megapixels. is over the OCR limit"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, CorruptDocument, "IHDR"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32, CorruptDocument, "JPEG without a frame header"),
        (b"II*\x00" + b"\x08" * 32, CorruptDocument, "TIFF"),
    ],
)  # fmt: skip
def test_images_are_checked_from_their_headers(data: bytes, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        extract_text(data, "upload.png")


def _tiff(frames: int) -> bytes:
    """A little-endian TIFF whose IFD chain has ``frames`` entries of 100 x 50 pixels (no pixel data needed)."""
    out = bytearray(b"II*\x00" + struct.pack("<I", 8))
    for k in range(frames):
        entries = struct.pack("<HHII", 256, 4, 1, 100) + struct.pack("<HHII", 257, 4, 1, 50)
        nxt = 0 if k == frames - 1 else len(out) + 2 + len(entries) + 4
        out += struct.pack("<H", 2) + entries + struct.pack("<I", nxt)
    return bytes(out)


def test_a_multi_page_tiff_counts_its_frames_and_a_1000_frame_tiff_is_refused_at_once() -> None:
    with pytest.raises(NeedsOcr) as raised:
        extract_text(_tiff(3), "fax.tiff")
    assert (raised.value.format, raised.value.ocr_pages) == (F.TIFF, (1, 2, 3))

    with pytest.raises(DocumentTooLarge, match="more than 200 frames"):
        extract_text(_tiff(1_000), "bomb.tiff", max_pages=200)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GIF89a" + b"\x01\x00" * 16, "GIF image: not an image format OCR reads"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32, "WebP image"),
        (b"\x00\x00\x00\x18ftypisom" + b"\x00" * 32, "MP4/QuickTime video"),
        (b"ID3\x03\x00" + b"\x00" * 32, "MP3 audio"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 32, "ELF executable"),
        (b"MZ\x90\x00" + b"\x00" * 128, "Windows executable"),
        (b"\x1f\x8b\x08\x00" + b"\x00" * 32, "gzip archive"),
        (_OLE + "WordDocument".encode("utf-16-le"), "legacy Word 97-2003"),
        (bytes(range(256)) * 8, "unrecognised binary content"),
    ],
)
def test_unsupported_content_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(UnsupportedDocumentType, match=message):
        extract_text(data, "upload.pdf")


def test_zip_of_text_files_is_an_unsupported_archive() -> None:
    with pytest.raises(UnsupportedDocumentType, match="archives are not supported"):
        detect_format(_zip({"a.txt": "hello", "b.txt": "world"}), "bundle.docx")


@pytest.mark.parametrize("data", [b"", b"  \n\t \r\n", "  \n".encode("utf-16")])
def test_empty_or_whitespace_is_empty(data: bytes) -> None:
    with pytest.raises(EmptyDocument):
        extract_text(data, "empty.txt")


def test_max_chars_truncates_text() -> None:
    result = extract_text(("word " * 10_000).encode(), "long.txt", max_chars=1_000)

    assert result.truncated is True
    assert len(result.text) <= 1_000
    assert result.text.startswith("word word")
    assert "text cut at max_chars=1000" in result.warnings


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        extract_text(b"text", max_pages=0)


@needs_corpus
def test_a_scan_with_its_own_invisible_ocr_layer_is_sent_to_ocr_again() -> None:
    # the letter's OCR layer reads "TOs MESSRS, ABROPT, BOUTOCK": words enough to pass the quality score
    result = _extract("scanned-letter-bad-ocr-layer.pdf")

    assert result.pages_garbled == (1,)
    assert any("invisible OCR layer" in w for w in result.warnings)
    assert _extract("invoice2data-aws.pdf").pages_garbled == ()  # text drawn visibly, no page image
