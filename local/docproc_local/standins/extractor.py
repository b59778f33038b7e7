"""A deterministic extractor that does real work on text: the local stand-in for the Bedrock model's tool answer.

:func:`extract_insights` returns a dict that is valid against ``Extraction.model_json_schema(by_alias=True)``
(camelCase keys). Everything is computed from the text with regular expressions, word statistics and small
lexicons; nothing is random and nothing leaves the process.

Work is bounded so that a 200k-character text costs about as much as a 60k one: entities, key phrases and the
domain are computed on a prefix (:data:`~docproc_local.standins.insights.text.SCAN_CHARS`), the summary on a
shorter one, the language on a sample.
"""

from __future__ import annotations

from typing import Any

from docproc_local.standins.insights.amounts import _amounts
from docproc_local.standins.insights.dates import _date_spans, _dates
from docproc_local.standins.insights.doctype import _FALLBACK_TYPE, _document_type, _domain_hint
from docproc_local.standins.insights.identifiers import _emails, _identifiers
from docproc_local.standins.insights.language import detect_language
from docproc_local.standins.insights.parties import _parties
from docproc_local.standins.insights.phrases import _key_phrases, _stopwords_for
from docproc_local.standins.insights.text import TITLE_MAX, _clip, _Doc
from docproc_local.standins.insights.title import _summary, _title


def extract_insights(text: str) -> dict[str, Any]:
    """Everything the extraction tool returns, computed from ``text`` (camelCase keys, schema-valid)."""
    doc = _Doc(text or "")
    language = detect_language(doc.scan)
    date_spans = _date_spans(doc, language)
    stopwords = _stopwords_for(language)
    title = _title(doc)
    document_type, type_domain = _document_type(doc, title)
    if doc.table and document_type != _FALLBACK_TYPE:
        title = _clip(f"{document_type.capitalize()}: {title}", TITLE_MAX)
    identifiers = _identifiers(doc, document_type)
    if document_type == "invoice" and "invoice" not in title.lower():
        number = next((item["value"] for item in identifiers if item["kind"] == "invoice number"), None)
        title = f"Invoice {number}" if number else "Invoice"
    return {
        "documentType": document_type,
        "title": title,
        "summary": _summary(doc, stopwords),
        "language": language,
        "domainHint": _domain_hint(doc, document_type, type_domain),
        "dates": _dates(date_spans),
        "amounts": _amounts(doc, language, date_spans),
        "parties": _parties(doc),
        "identifiers": identifiers,
        "emails": _emails(doc),
        "keyPhrases": _key_phrases(doc, language, stopwords),
    }
