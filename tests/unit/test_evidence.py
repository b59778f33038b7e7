"""The evidence check: quotes looked up in the document, pages corrected, values checked against their quote."""

# ruff: noqa: RUF001

from __future__ import annotations

import pytest

from docproc.evidence import DocumentText, check_field, check_fields, normalise, unverified, value_in_quote

TEXT = (
    "ACME GmbH\nRechnung Nr. RE-2024-0815\nRechnungsdatum: 01.03.2024\n"
    "\fPosition | Menge | Betrag\nWartung | 1 | 1.000,00 €\n"
    "Gesamtbetrag: 1.190,00 EUR\n\f„Zahlbar bis“ 31.03.2024 – ohne Abzug"
)


def field(value: object, quote: str, page: int | None = None, confidence: float = 0.9) -> dict[str, object]:
    evidence: dict[str, object] = {"quote": quote}
    if page is not None:
        evidence["page"] = page
    return {"value": value, "confidence": confidence, "evidence": evidence}


def test_normalisation_folds_case_quotes_dashes_and_whitespace() -> None:
    assert normalise("  „Zahlbar   bis“\n31.03.2024 –  OHNE ") == '"zahlbar bis" 31.03.2024 - ohne'
    assert normalise("ｆｕｌｌ　width") == "full width"


def test_pages_are_counted_by_form_feeds() -> None:
    document = DocumentText.of(TEXT)

    assert len(document.pages) == 3
    assert document.locate(normalise("Rechnung Nr. RE-2024-0815")) == 1
    assert document.locate(normalise("Gesamtbetrag: 1.190,00 EUR")) == 2
    assert document.locate(normalise('"Zahlbar bis" 31.03.2024 - ohne Abzug')) == 3
    assert document.locate(normalise("Rechnung Nr. ... 01.03.2024")) == 1  # ellipsis: parts on one page
    assert document.locate(normalise("Gesamtbetrag: 2.000,00 EUR")) is None


def test_a_found_quote_keeps_the_confidence() -> None:
    checked = check_field(field(1190.0, "Gesamtbetrag:  1.190,00 EUR", page=2), DocumentText.of(TEXT))

    assert checked.flags == []
    assert checked.confidence == pytest.approx(0.9)
    assert checked.evidence is not None
    assert (checked.evidence.page, checked.evidence.found) == (2, True)


def test_a_quote_on_another_page_is_moved_there() -> None:
    checked = check_field(field("2024-03-31", "Zahlbar bis“ 31.03.2024", page=1), DocumentText.of(TEXT))

    assert checked.flags == ["page_corrected"]
    assert checked.evidence is not None
    assert checked.evidence.page == 3
    assert checked.confidence == pytest.approx(0.81)


def test_a_quote_that_is_not_in_the_text_is_a_likely_hallucination() -> None:
    checked = check_field(field("2024-04-15", "Fällig am 15.04.2024", page=1), DocumentText.of(TEXT))

    assert checked.flags == ["quote_not_found"]
    assert checked.confidence == pytest.approx(0.27)
    assert checked.model_confidence == pytest.approx(0.9)
    assert checked.evidence is not None
    assert checked.evidence.found is False


def test_a_value_missing_from_its_quote_is_flagged() -> None:
    checked = check_field(field(2500.0, "Gesamtbetrag: 1.190,00 EUR"), DocumentText.of(TEXT))

    assert checked.flags == ["value_not_in_quote"]
    assert checked.confidence == pytest.approx(0.63)


@pytest.mark.parametrize(
    ("value", "quote", "expected"),
    [
        (1190.0, "gesamtbetrag: 1.190,00 eur", True),
        (1190.0, "total: $1,190.00", True),
        (352583000000.0, "total assets 352,583 (in millions)", True),
        (1000.0, "wartung | 1 | 1.000,00 €", True),
        (11.19, "total: $11.19", True),
        (11.5, "total: $11.19", False),
        ("EUR", "1.000,00 €", True),
        ("USD", "total: $11.19", True),
        ("EUR", "invoice 42", False),
        ("2024-03-01", "rechnungsdatum: 01.03.2024", True),
        ("2023-03-01", "rechnungsdatum: 01.03.2024", False),
        ("ACME GmbH", "acme gmbh, musterstraße 1", True),
        ("Globex Corporation", "acme gmbh, musterstraße 1", False),
        ({"name": "Acme", "role": "Supplier"}, "acme (the supplier)", True),
        (True, "anything", True),
    ],
)
def test_value_in_quote(value: object, quote: str, expected: bool) -> None:
    assert value_in_quote(value, quote) is expected


def test_check_fields_handles_lists_and_reports_unverified_fields() -> None:
    fields = check_fields(
        {
            "invoice_number": field("RE-2024-0815", "Rechnung Nr. RE-2024-0815"),
            "line_items": [
                field({"description": "Wartung", "amount": 1000.0}, "Wartung | 1 | 1.000,00 €"),
                field({"description": "Anfahrt", "amount": 50.0}, "Anfahrt | 1 | 50,00 €"),
            ],
        },
        TEXT,
    )

    items = fields["line_items"]
    assert isinstance(items, list)
    assert [item.evidence.found for item in items if item.evidence] == [True, False]
    assert unverified(fields) == ["line_items"]
