"""The PII policy for events: what is found (with check digits), masked or dropped, and what is left alone."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from docproc import pii


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("write to jane.doe+invoices@example.co.uk today", "email"),
        ("call (912) 555-4321 now", "phone"),
        ("call 800-273-8255", "phone"),
        ("Tel: +44 20 7946 0958", "phone"),
        ("ring 020 7946 0958", "phone"),
        ("Tel.: +49 (0)30 1234567", "phone"),
        ("SSN 123-45-6789 on file", "ssn"),
        ("NI number AB 12 34 56 C", "ni_number"),
        ("card 4242 4242 4242 4242 exp 12/30", "card"),
        ("Amex 3782-822463-10005", "card"),
        ("IBAN GB82 WEST 1234 5698 7654 32", "iban"),
        ("IBAN DE89370400440532013000", "iban"),
    ],
)
def test_finds(text: str, kind: str) -> None:
    found = pii.find(text)
    assert [f.kind for f in found] == [kind], found
    masked, counts = pii.mask(text)
    assert pii.PLACEHOLDERS[kind] in masked
    assert counts == {kind: 1}


@pytest.mark.parametrize(
    "text",
    [
        "card 4242 4242 4242 4241",  # fails the Luhn check
        "ISBN 978-1-910906-00-2",  # 13 digits, no card issuer prefix
        "IBAN GB83 WEST 1234 5698 7654 32",  # wrong check digits
        "SSN 666-45-6789 and 000-12-3456",  # areas never issued
        "invoice date 2023-09-30, total 1,234.50 EUR, order 20190401134318",
        "NI number BG 12 34 56 C",  # a prefix HMRC never issues
        "version 1.2.3, build 2026.12.1",
    ],
)
def test_leaves_alone(text: str) -> None:
    assert pii.find(text) == []


def test_luhn() -> None:
    assert pii.luhn_valid("4242424242424242")
    assert pii.luhn_valid("79927398713")
    assert not pii.luhn_valid("79927398710")
    assert not pii.luhn_valid("4242-4242")


def test_iban_check() -> None:
    assert pii.iban_valid("GB82 WEST 1234 5698 7654 32")
    assert not pii.iban_valid("GB82 WEST 1234 5698 7654 33")


DETAIL: dict[str, Any] = {
    "documentId": "d",
    "documentClass": "clinical_note",
    "title": "Admission note: Jane Roe",
    "summary": "Jane Roe, 54, admitted; contact jroe@example.org or (912) 555-4321.",
    "fields": {
        "patient_name": {"value": "Jane Roe", "confidence": 0.9, "evidence": {"page": 1, "quote": "Patient: Jane Roe"}},
        "provider": {
            "value": "Dr. Alan Smithee",
            "confidence": 0.8,
            "evidence": {"page": 1, "quote": "Dr. Alan Smithee"},
        },
        "chief_complaint": {
            "value": "chest pain",
            "confidence": 0.9,
            "evidence": {"page": 1, "quote": "CC: chest pain"},
        },
        "medications": [
            {"value": "aspirin", "confidence": 0.9, "evidence": {"page": 1, "quote": "aspirin 81 mg"}},
            {"value": "card 4242424242424242", "confidence": 0.5, "evidence": {"page": 1, "quote": "x"}},
        ],
    },
}


def test_mask_replaces_findings_and_names_everywhere() -> None:
    masked = pii.apply_to_event(copy.deepcopy(DETAIL), "mask")
    text = repr(masked)
    for secret in ("Jane", "Roe", "Smithee", "jroe@example.org", "555-4321", "4242424242424242"):
        assert secret not in text, secret
    assert masked["title"] == "Admission note: [NAME]"
    assert masked["fields"]["patient_name"]["value"] == "[NAME]"
    assert masked["fields"]["chief_complaint"]["value"] == "chest pain"
    assert masked["pii"]["policy"] == "mask"
    assert masked["pii"]["redacted"]["email"] == 1
    assert masked["pii"]["redacted"]["card"] == 1
    assert masked["pii"]["droppedFields"] == []
    assert DETAIL["fields"]["patient_name"]["value"] == "Jane Roe"  # the input (the record) is untouched


def test_drop_removes_fields_and_nulls_texts_with_findings() -> None:
    dropped = pii.apply_to_event(copy.deepcopy(DETAIL), "drop")
    assert dropped["title"] is None
    assert dropped["summary"] is None
    assert set(dropped["fields"]) == {"chief_complaint", "medications"}
    assert [m["value"] for m in dropped["fields"]["medications"]] == ["aspirin"]
    assert sorted(dropped["pii"]["droppedFields"]) == ["medications", "patient_name", "provider"]


def test_keep_changes_nothing_but_says_so() -> None:
    kept = pii.apply_to_event(copy.deepcopy(DETAIL), "keep")
    assert kept["fields"] == DETAIL["fields"]
    assert kept["pii"] == {"policy": "keep", "redacted": {}, "droppedFields": []}


def test_names_are_only_taken_from_clinical_notes() -> None:
    letter = {**copy.deepcopy(DETAIL), "documentClass": "letter"}
    masked = pii.apply_to_event(letter, "mask")
    assert masked["title"] == "Admission note: Jane Roe"
    with pytest.raises(ValueError, match="EventPiiPolicy must be one of"):
        pii.apply_to_event(letter, "hide")  # type: ignore[arg-type]
