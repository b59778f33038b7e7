"""Deterministic identities: one document per object version, one execution name per (generation, attempt)."""

from __future__ import annotations

import re

import pytest

from docproc import ids

BUCKET = "docproc-input"
KEY = "incoming/invoice.pdf"


def test_same_object_version_always_gets_the_same_id() -> None:
    first = ids.document_id(BUCKET, KEY, "v1", "etag-a")
    again = ids.document_id(BUCKET, KEY, "v1", "etag-a")

    assert first == again
    assert re.fullmatch(r"[0-9a-f]{32}", first)


@pytest.mark.parametrize(
    ("other_bucket", "other_key", "other_version"),
    [
        ("another-bucket", KEY, "v1"),
        (BUCKET, "incoming/other.pdf", "v1"),
        (BUCKET, KEY, "v2"),
    ],
)
def test_a_different_bucket_key_or_version_is_a_different_document(
    other_bucket: str, other_key: str, other_version: str
) -> None:
    assert ids.document_id(BUCKET, KEY, "v1", "e") != ids.document_id(other_bucket, other_key, other_version, "e")


def test_version_id_wins_over_etag() -> None:
    # GIVEN a versioned bucket: the version identifies the object, whatever the etag says
    assert ids.document_id(BUCKET, KEY, "v1", "etag-a") == ids.document_id(BUCKET, KEY, "v1", "etag-b")


@pytest.mark.parametrize("version_id", [None, "", "null"])
def test_without_a_version_the_etag_identifies_the_content(version_id: str | None) -> None:
    # GIVEN an unversioned bucket ("null" is what S3 reports there)
    same_bytes = ids.document_id(BUCKET, KEY, version_id, '"etag-a"')

    # THEN quotes around the etag do not matter, identical content is a duplicate, changed content is new
    assert same_bytes == ids.document_id(BUCKET, KEY, version_id, "etag-a")
    assert same_bytes != ids.document_id(BUCKET, KEY, version_id, "etag-b")


def test_null_version_is_the_same_document_as_no_version() -> None:
    assert ids.document_id(BUCKET, KEY, "null", "e") == ids.document_id(BUCKET, KEY, None, "e")


@pytest.mark.parametrize("etag", [None, "", '""'])
def test_an_object_without_version_or_etag_cannot_be_identified(etag: str | None) -> None:
    with pytest.raises(ValueError, match="neither a version id nor an etag"):
        ids.document_id(BUCKET, KEY, None, etag)


def test_execution_name_names_document_generation_and_attempt() -> None:
    doc_id = ids.document_id(BUCKET, KEY, "v1", None)

    assert ids.execution_name(doc_id, 2, 3) == f"{doc_id}-g2-a3"


@pytest.mark.parametrize(("generation", "attempt"), [(1, 1), (2, 3), (10**6, 10**6)])
def test_execution_names_are_valid_step_functions_names(generation: int, attempt: int) -> None:
    name = ids.execution_name(ids.document_id(BUCKET, KEY, "v1", None), generation, attempt)

    # Step Functions: at most 80 characters, letters, digits, '-' and '_'
    assert len(name) <= ids.EXECUTION_NAME_MAX == 80
    assert re.fullmatch(r"[0-9a-f]{32}-g\d+-a\d+", name)


def test_each_generation_and_attempt_has_its_own_execution_name() -> None:
    doc_id = ids.document_id(BUCKET, KEY, "v1", None)
    names = {ids.execution_name(doc_id, g, a) for g in (1, 2, 11) for a in (1, 2, 11)}

    assert len(names) == 9


def test_event_id_is_stable_per_document_generation_and_status() -> None:
    assert ids.event_id("doc", 2, "COMPLETED") == ids.event_id("doc", 2, "COMPLETED")
    assert ids.event_id("doc", 2, "COMPLETED") != ids.event_id("doc", 3, "COMPLETED")
    assert ids.event_id("doc", 2, "COMPLETED") != ids.event_id("doc", 2, "FAILED")
