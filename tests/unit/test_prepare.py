"""Prepare: read the exact object version, extract its text from real documents, store it, describe the source."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from docproc import errors, ids
from docproc.models import DocumentRef, PreparedDocument
from docproc.prepare import prepare_document

INPUT = "docproc-input"
ARTIFACTS = "docproc-artifacts"
DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def s3(aws: None) -> Any:
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=INPUT)
    client.put_bucket_versioning(Bucket=INPUT, VersioningConfiguration={"Status": "Enabled"})
    client.create_bucket(Bucket=ARTIFACTS)
    return client


def upload(s3: Any, key: str, body: bytes, content_type: str | None = None) -> DocumentRef:
    """Put an object and return the reference the ingest step would have built from its event."""
    extra = {"ContentType": content_type} if content_type else {}
    put = s3.put_object(Bucket=INPUT, Key=key, Body=body, **extra)
    version, etag = put.get("VersionId"), put["ETag"].strip('"')
    return DocumentRef(
        document_id=ids.document_id(INPUT, key, version, etag),
        bucket=INPUT,
        key=key,
        version_id=version,
        etag=etag,
        size=len(body),
    )


def run(s3: Any, document: DocumentRef, max_document_bytes: int = 50 * 1024 * 1024) -> PreparedDocument:
    return prepare_document(document, s3=s3, artifacts_bucket=ARTIFACTS, max_document_bytes=max_document_bytes)


def stored_text(s3: Any, document_id: str) -> bytes:
    return s3.get_object(Bucket=ARTIFACTS, Key=f"text/{document_id}.txt")["Body"].read()


def text_objects(s3: Any) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=ARTIFACTS, Prefix="text/").get("Contents", [])]


def test_pdf_invoice_text_is_stored_and_described(s3: Any, realdocs: Path) -> None:
    # GIVEN a real one-page text PDF in the input bucket
    data = (realdocs / "invoice2data-aws.pdf").read_bytes()
    document = upload(s3, "incoming/invoice2data-aws.pdf", data, "application/pdf")

    # WHEN
    prepared = run(s3, document)

    # THEN the text is in the artifacts bucket under the document id, and the reference describes it exactly
    stored = stored_text(s3, document.document_id)
    text = stored.decode("utf-8")
    assert "Amazon Web Services" in text
    assert "Invoice Number: 42183017" in text
    assert prepared.text.uri == f"s3://{ARTIFACTS}/text/{document.document_id}.txt"
    assert prepared.text.chars == len(text)
    assert prepared.text.chars < len(stored)  # counted in characters, not bytes ("†" is 3 bytes)
    assert prepared.text.sha256 == hashlib.sha256(stored).hexdigest()
    assert prepared.text.pages == 1
    assert prepared.format == "pdf"
    assert prepared.media_type == "application/pdf"

    # AND the source is the exact object version that was read
    assert prepared.source.bucket == INPUT
    assert prepared.source.key == "incoming/invoice2data-aws.pdf"
    assert prepared.source.version_id == document.version_id
    assert prepared.source.etag == document.etag
    assert not prepared.source.etag.startswith('"')
    assert prepared.source.size == len(data)
    assert prepared.source.content_type == "application/pdf"
    assert prepared.source.last_modified is not None
    assert prepared.duration_ms >= 0


def test_docx_text_is_stored(s3: Any, realdocs: Path) -> None:
    data = (realdocs / "ndrb-discharge-review-decision.docx").read_bytes()
    # an unhelpful declared type: detection goes by the bytes
    document = upload(s3, "incoming/decision.docx", data, "application/octet-stream")

    prepared = run(s3, document)

    text = stored_text(s3, document.document_id).decode("utf-8")
    assert "Narrative Reason for Discharge" in text
    assert "MISCONDUCT" in text
    assert prepared.format == "docx"
    assert prepared.media_type == DOCX_MEDIA_TYPE
    assert prepared.text.chars == len(text)
    assert prepared.source.size == len(data)
    assert prepared.source.version_id == document.version_id


def test_spreadsheet_tables_are_stored_as_json_next_to_the_text(s3: Any, realdocs: Path) -> None:
    # GIVEN a real workbook of five sheets
    document = upload(s3, "incoming/segments.xlsx", (realdocs / "nestle-half-year-segment-analysis.xlsx").read_bytes())

    # WHEN
    prepared = run(s3, document)

    # THEN each sheet is a table in text/<documentId>.tables.json, and the reference says where and how many
    key = f"text/{document.document_id}.tables.json"
    assert prepared.text.tables_uri == f"s3://{ARTIFACTS}/{key}"
    assert prepared.text.table_count == 5
    stored = json.loads(s3.get_object(Bucket=ARTIFACTS, Key=key)["Body"].read())
    assert len(stored["tables"]) == 5
    first = stored["tables"][0]
    assert first["page"] == 1
    assert first["source"].startswith("sheet ")
    assert ["Zone NA", "12553", "2713", "2632", "", "-81", "-29", "-44", "", "-337"] in first["rows"]


def test_no_tables_file_for_a_document_without_tables(s3: Any, realdocs: Path) -> None:
    # a contract of running prose (the AWS invoice PDF has tables now that PDFs yield them)
    document = upload(s3, "incoming/contract.txt", (realdocs / "cuad-aduro-consulting-agreement.txt").read_bytes())

    prepared = run(s3, document)

    assert prepared.text.tables_uri is None
    assert prepared.text.table_count == 0
    assert text_objects(s3) == [f"text/{document.document_id}.txt"]


def test_the_version_named_by_the_event_is_read_even_after_an_overwrite(s3: Any) -> None:
    # GIVEN the key was overwritten after the event for version 1 was sent
    first = upload(s3, "incoming/note.txt", b"First version of the note, about the budget meeting.\n")
    upload(s3, "incoming/note.txt", b"Second version, entirely different.\n")

    prepared = run(s3, first)

    assert stored_text(s3, first.document_id).decode().strip() == "First version of the note, about the budget meeting."
    assert prepared.source.version_id == first.version_id


def test_an_unversioned_object_is_read_by_key(s3: Any) -> None:
    s3.create_bucket(Bucket="plain-bucket")
    put = s3.put_object(Bucket="plain-bucket", Key="a.txt", Body=b"Plain text document body.\n")
    document = DocumentRef(
        document_id="d" * 32, bucket="plain-bucket", key="a.txt", version_id="null", etag=put["ETag"].strip('"')
    )

    prepared = run(s3, document)

    assert prepared.format == "txt"
    assert prepared.source.etag == put["ETag"].strip('"')


class _BodySpy:
    def __init__(self, body: Any) -> None:
        self._body = body
        self.read_calls = 0
        self.closed = False

    def read(self, *args: Any) -> bytes:
        self.read_calls += 1
        return self._body.read(*args)

    def close(self) -> None:
        self.closed = True
        self._body.close()


class _SpyS3:
    """The moto S3 client, but every GetObject body is a spy."""

    def __init__(self, s3: Any) -> None:
        self._s3 = s3
        self.bodies: list[_BodySpy] = []

    def get_object(self, **kwargs: Any) -> dict[str, Any]:
        response = self._s3.get_object(**kwargs)
        response["Body"] = _BodySpy(response["Body"])
        self.bodies.append(response["Body"])
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s3, name)


def test_object_over_the_size_limit_fails_without_reading_it(s3: Any) -> None:
    document = upload(s3, "incoming/big.txt", b"x" * 2_048)
    spy = _SpyS3(s3)

    with pytest.raises(errors.DocumentTooLarge, match="2048 bytes"):
        run(spy, document, max_document_bytes=1_024)

    (body,) = spy.bodies
    assert body.read_calls == 0
    assert body.closed is True
    assert text_objects(s3) == []


def test_object_at_the_size_limit_is_processed(s3: Any) -> None:
    document = upload(s3, "incoming/exact.txt", b"y" * 1_023 + b"\n")

    prepared = run(s3, document, max_document_bytes=1_024)

    assert prepared.source.size == 1_024


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"key": "incoming/does-not-exist.pdf", "version_id": None}, id="missing-key"),
        pytest.param({"bucket": "no-such-bucket"}, id="missing-bucket"),
    ],
)
def test_missing_source_is_source_object_not_found(s3: Any, change: dict[str, Any]) -> None:
    document = upload(s3, "incoming/exists.txt", b"some text\n").model_copy(update=change)

    with pytest.raises(errors.SourceObjectNotFound):
        run(s3, document)

    assert text_objects(s3) == []


def test_deleted_object_is_source_object_not_found(s3: Any) -> None:
    # GIVEN the object was deleted (and its version removed) before prepare ran
    document = upload(s3, "incoming/gone.txt", b"short-lived\n")
    s3.delete_object(Bucket=INPUT, Key=document.key, VersionId=document.version_id)

    with pytest.raises(errors.SourceObjectNotFound):
        run(s3, document)


def test_zero_byte_file_is_empty_document(s3: Any, realdocs: Path) -> None:
    document = upload(s3, "incoming/empty.pdf", (realdocs / "empty-zero-bytes.pdf").read_bytes())

    with pytest.raises(errors.EmptyDocument):
        run(s3, document)

    assert text_objects(s3) == []


def test_an_image_asks_for_ocr_instead_of_failing(s3: Any, realdocs: Path) -> None:
    # GIVEN a PNG scan, even uploaded with a misleading content type
    document = upload(s3, "incoming/scan.pdf", (realdocs / "invoice2data-oyo-scan.png").read_bytes(), "application/pdf")

    prepared = run(s3, document)

    # THEN the OCR steps are asked to read it, synchronously (one page, under 10 MB), and its text is empty so far
    assert (prepared.format, prepared.media_type) == ("png", "image/png")
    assert prepared.ocr_request is not None
    assert prepared.ocr_request.sync is True
    assert prepared.ocr_request.pages == []  # every page
    assert "no text layer" in prepared.ocr_request.reason
    assert stored_text(s3, document.document_id) == b""


def test_without_ocr_an_image_has_no_text_content(s3: Any, realdocs: Path) -> None:
    document = upload(s3, "incoming/scan.png", (realdocs / "invoice2data-oyo-scan.png").read_bytes())

    with pytest.raises(errors.NoTextContent) as raised:
        prepare_document(document, s3=s3, artifacts_bucket=ARTIFACTS, max_document_bytes=10**8, ocr=False)

    assert raised.value.reason_code == "NO_TEXT_CONTENT"
    assert text_objects(s3) == []


def test_a_scanned_pdf_asks_for_async_ocr_of_its_pages(s3: Any, realdocs: Path) -> None:
    document = upload(s3, "incoming/opinion.pdf", (realdocs / "court-opinion-scanned-imageonly.pdf").read_bytes())

    prepared = run(s3, document)

    assert prepared.ocr_request is not None
    assert prepared.ocr_request.sync is False
    assert prepared.text.pages == 2


def test_more_pages_to_ocr_than_the_limit_fail_at_once(s3: Any, realdocs: Path) -> None:
    document = upload(s3, "incoming/opinion.pdf", (realdocs / "court-opinion-scanned-imageonly.pdf").read_bytes())

    with pytest.raises(errors.DocumentTooLarge, match="2 pages need OCR; MaxOcrPages is 1"):
        prepare_document(document, s3=s3, artifacts_bucket=ARTIFACTS, max_document_bytes=10**8, max_ocr_pages=1)
