"""OCR with Textract: blocks to page text, the job's life cycle, errors by kind, and merging OCR'd pages in.

The client is a real ``textract`` client under botocore's Stubber, so every request is checked against the API.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from docproc import errors, ocr


def block(kind: str, page: int, text: str | None = None, confidence: float | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"BlockType": kind, "Page": page, "Id": f"{kind}-{page}-{text}"}
    if text is not None:
        out["Text"] = text
    if confidence is not None:
        out["Confidence"] = confidence
    return out


BLOCKS = [
    block("PAGE", 1),
    block("LINE", 1, "INVOICE No. 42", 99.0),
    block("WORD", 1, "INVOICE", 99.0),
    block("WORD", 1, "No.", 97.0),
    block("WORD", 1, "42", 95.0),
    block("LINE", 1, "Total 10.00", 90.0),
    block("WORD", 1, "Total", 91.0),
    block("WORD", 1, "10.00", 89.0),
    block("PAGE", 2),
    block("PAGE", 3),
    block("LINE", 3, "Page three", 80.0),
    block("WORD", 3, "Page", 80.0),
    block("WORD", 3, "three", 70.0),
]


@pytest.fixture
def textract() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("textract", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    with stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_blocks_become_page_texts_in_reading_order_with_mean_word_confidence() -> None:
    pages = ocr.pages_from_blocks(BLOCKS)

    assert [(p.number, p.text, p.words) for p in pages] == [
        (1, "INVOICE No. 42\nTotal 10.00", 5),
        (2, "", 0),
        (3, "Page three", 2),
    ]
    assert pages[0].confidence == pytest.approx(0.942)
    assert pages[1].confidence is None
    assert pages[2].confidence == pytest.approx(0.75)


def test_an_image_is_read_synchronously(textract: tuple[Any, Stubber]) -> None:
    client, stubber = textract
    stubber.add_response(
        "detect_document_text",
        {"Blocks": BLOCKS[:8], "DocumentMetadata": {"Pages": 1}},
        {"Document": {"Bytes": b"\x89PNG..."}},
    )

    (page,) = ocr.detect(client, b"\x89PNG...")

    assert page.text.startswith("INVOICE No. 42")


def test_an_image_over_10_mb_is_too_large_before_any_call(textract: tuple[Any, Stubber]) -> None:
    client, _ = textract
    with pytest.raises(errors.DocumentTooLarge, match="10 MB"):
        ocr.detect(client, b"\0" * (ocr.SYNC_MAX_BYTES + 1))


def test_a_job_is_started_polled_and_read_across_result_pages(textract: tuple[Any, Stubber]) -> None:
    client, stubber = textract
    stubber.add_response(
        "start_document_text_detection",
        {"JobId": "job-1"},
        {
            "DocumentLocation": {"S3Object": {"Bucket": "input", "Name": "scan.pdf", "Version": "v1"}},
            "ClientRequestToken": "doc-g1-a1",
            "JobTag": "docproc",
        },
    )
    stubber.add_response(
        "get_document_text_detection", {"JobStatus": "IN_PROGRESS"}, {"JobId": "job-1", "MaxResults": 1}
    )
    stubber.add_response("get_document_text_detection", {"JobStatus": "SUCCEEDED"}, {"JobId": "job-1", "MaxResults": 1})
    stubber.add_response(
        "get_document_text_detection",
        {"JobStatus": "SUCCEEDED", "Blocks": BLOCKS[:8], "NextToken": "t2"},
        {"JobId": "job-1", "MaxResults": 1000},
    )
    stubber.add_response(
        "get_document_text_detection",
        {"JobStatus": "SUCCEEDED", "Blocks": BLOCKS[8:]},
        {"JobId": "job-1", "MaxResults": 1000, "NextToken": "t2"},
    )

    job = ocr.start(client, bucket="input", key="scan.pdf", version_id="v1", token="doc-g1-a1")
    job = ocr.status(client, job)
    assert (job.status, job.polls) == ("IN_PROGRESS", 1)
    job = ocr.status(client, job)
    assert (job.status, job.polls) == ("SUCCEEDED", 2)
    pages = ocr.read_job(client, job)

    assert [p.number for p in pages] == [1, 2, 3]


def test_a_failed_job_is_permanent_and_a_job_that_never_ends_is_a_timeout(textract: tuple[Any, Stubber]) -> None:
    client, stubber = textract
    stubber.add_response("get_document_text_detection", {"JobStatus": "FAILED", "StatusMessage": "bad PDF"})
    with pytest.raises(errors.OcrFailed, match="bad PDF"):
        ocr.status(client, ocr.OcrJob(job_id="j"))

    stubber.add_response("get_document_text_detection", {"JobStatus": "IN_PROGRESS"})
    with pytest.raises(errors.ModelTimeout, match="still running"):
        ocr.status(client, ocr.OcrJob(job_id="j", polls=ocr.MAX_POLLS - 1))


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ThrottlingException", errors.ModelThrottled),
        ("ProvisionedThroughputExceededException", errors.ModelThrottled),
        ("InternalServerError", errors.ModelUnavailable),
        ("UnsupportedDocumentException", errors.OcrFailed),
        ("BadDocumentException", errors.OcrFailed),
        ("DocumentTooLargeException", errors.OcrFailed),
        ("AccessDeniedException", errors.ModelRequestInvalid),
    ],
)
def test_service_errors_become_named_errors(textract: tuple[Any, Stubber], code: str, expected: type) -> None:
    client, stubber = textract
    stubber.add_client_error("detect_document_text", service_error_code=code, service_message="no")

    with pytest.raises(expected) as raised:
        ocr.detect(client, b"img")

    assert type(raised.value) is expected
    assert errors.OcrFailed.reason_code == "OCR_FAILED"


def test_a_request_botocore_refuses_is_permanent() -> None:
    # parameter validation happens in the client, before anything is sent
    client = boto3.client("textract", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with pytest.raises(errors.ModelRequestInvalid, match="Bucket"):
        ocr.start(client, bucket="x", key="k", version_id=None, token="t")


def test_only_the_pages_that_needed_ocr_are_replaced() -> None:
    text = "page one text\f\fgarbled (cid:12)(cid:13)\fpage four"
    pages = ocr.pages_from_blocks(
        [*BLOCKS[:8], block("PAGE", 2), block("LINE", 2, "scanned two", 90.0), block("WORD", 2, "scanned", 90.0),
         block("PAGE", 3), block("LINE", 3, "clean three", 80.0), block("WORD", 3, "clean", 80.0)]
    )  # fmt: skip

    merged, used = ocr.merge_text(text, pages, replace=[2, 3])

    assert merged == "page one text\fscanned two\fclean three\fpage four"
    assert [p.number for p in used] == [2, 3]
    summary = ocr.summary("async", used, "pages without text: 2; garbled: 3")
    assert summary.pages == [2, 3]
    assert summary.mean_confidence == pytest.approx(0.85)


def test_an_image_only_document_becomes_its_ocr_text() -> None:
    merged, used = ocr.merge_text("", ocr.pages_from_blocks(BLOCKS), replace=None)

    assert merged == "INVOICE No. 42\nTotal 10.00\f\fPage three"
    assert [p.number for p in used] == [1, 3]
