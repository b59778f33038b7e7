"""End to end on the local stack built from template.yaml: real documents in, records, results and events out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from docproc import chunks, classes
from docproc.cost import BASE_PATH, CACHE_LOOKUP_STATES, load_price_table
from docproc.evidence import normalise
from docproc_local.client import StackClient

from helpers import SAMPLE_DOMAINS
from stack_helpers import REPO, collect_events, events_for, validate_event

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

SAMPLES = REPO / "samples"


def test_every_sample_completes_with_record_result_and_event(stack: StackClient) -> None:
    # GIVEN the bundled samples, one of each domain, in seven formats
    assert sorted(p.name for p in SAMPLES.iterdir()) == sorted(SAMPLE_DOMAINS)

    # WHEN they are uploaded through the S3 API
    uploads = {stack.upload_file(path, key=f"samples/{path.name}").document_id: path for path in SAMPLES.iterdir()}
    records = stack.wait_for(uploads, timeout=300)

    # THEN each has a COMPLETED record with the right domain, a result JSON in S3 and one valid event
    assert {doc_id: r["status"] for doc_id, r in records.items()} == dict.fromkeys(uploads, "COMPLETED")
    for doc_id, path in uploads.items():
        record = records[doc_id]
        assert record["classification"]["domain"] == SAMPLE_DOMAINS[path.name], path.name
        assert record["source"]["key"] == f"samples/{path.name}"
        assert record["source"]["size"] == path.stat().st_size
        extraction = record["extraction"]["extraction"]
        assert extraction["title"]
        assert extraction["summary"]
        assert record["extraction"]["usage"]["inputTokens"] > 0
        assert record["agreement"]["classifiedDomain"] == record["domain"]
        assert 0 < record["confidence"] <= 1
        result = stack.result_json(record)
        assert result is not None
        assert result["documentId"] == doc_id
        assert result["classification"]["scores"] == record["classification"]["scores"]
        # AND a positive cost whose breakdown sums to the total, the same in the record and the result JSON
        assert_cost(record["cost"], path.name)
        assert result["cost"] == record["cost"]
        # AND a document class with typed fields whose evidence is in the text (or flagged as not found)
        assert record["documentClass"] in classes.load().names
        assert record["configVersion"] == classes.load().version
        text = normalise(stack.client("s3").get_object(**_s3_location(record["textUri"]))["Body"].read().decode())
        for name, value in (result.get("fields") or {}).items():
            for item in value if isinstance(value, list) else [value]:
                assert 0 <= item["confidence"] <= 1, (path.name, name)
                found = normalise(item["evidence"]["quote"]) in text
                assert item["evidence"]["found"] is found or "..." in item["evidence"]["quote"], (path.name, name)

    events = collect_events(
        stack,
        lambda seen: (
            {e["detail"]["documentId"] for e in seen} >= set(uploads)
            and all(events_for(seen, d, reviews=True) for d, r in records.items() if r["needsReview"])
        ),
    )
    for doc_id, record in records.items():
        reviews = events_for(events, doc_id, reviews=True)
        assert len(reviews) == (1 if record["needsReview"] else 0), uploads[doc_id].name
        for review in reviews:
            validate_event(review)
            assert review["detail"]["confidence"] == record["confidence"]
            assert review["detail"]["reviewReasons"] == record["reviewReasons"]
    for doc_id, path in uploads.items():
        (event,) = events_for(events, doc_id)
        validate_event(event)
        assert event["detail-type"] == "Document Processed"
        assert event["detail"]["domain"] == SAMPLE_DOMAINS[path.name]
        assert event["detail"]["resultUri"] == records[doc_id]["resultUri"]
        assert event["detail"]["documentClass"] == records[doc_id]["documentClass"]
        assert event["detail"]["needsReview"] == records[doc_id]["needsReview"]
        assert_cost(event["detail"]["cost"], path.name)
        assert event["detail"]["cost"]["totalUsd"] == records[doc_id]["cost"]["totalUsd"]
        text = (
            stack.client("s3")
            .get_object(Bucket=stack.outputs["ArtifactsBucketName"], Key=f"text/{doc_id}.txt")["Body"]
            .read()
            .decode()
        )
        assert len(text) > 200
        assert text[:200] not in json.dumps(event), "events carry references, never the document text"


def assert_cost(cost: dict[str, Any], name: str) -> None:
    assert cost["totalUsd"] > 0, name
    assert set(cost["breakdown"]) == {"bedrock", "sagemaker", "textract", "stepFunctions", "lambda", "other"}, name
    assert sum(cost["breakdown"].values()) == pytest.approx(cost["totalUsd"], abs=1e-9), name
    assert cost["breakdown"]["bedrock"] > 0, name  # the default model is in the price table
    assert cost["stateTransitions"] >= len(BASE_PATH), name
    assert cost["pricesVersion"] == load_price_table().version, name


def _s3_location(uri: str) -> dict[str, str]:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return {"Bucket": bucket, "Key": key}


BROKEN = {
    "tika-truncated.docx": "CORRUPT_DOCUMENT",
    "empty-zero-bytes.pdf": "EMPTY_DOCUMENT",
    "pypdf-crazyones-encrypted-aes256.pdf": "ENCRYPTED_DOCUMENT",
}


def test_unsupported_and_corrupt_files_fail_at_once_with_their_reason(stack: StackClient, realdocs: Path) -> None:
    uploads = {stack.upload_file(realdocs / name, key=f"broken/{name}").document_id: name for name in BROKEN}

    records = stack.wait_for(uploads, timeout=180)

    for doc_id, name in uploads.items():
        record = records[doc_id]
        assert record["status"] == "FAILED", name
        assert record["reasonCode"] == BROKEN[name], name
        assert record["error"]["message"], name
        assert record["attempt"] == 1, "permanent errors are not retried"
    events = collect_events(stack, lambda seen: {e["detail"]["documentId"] for e in seen} >= set(uploads))
    for doc_id, name in uploads.items():
        (event,) = events_for(events, doc_id)
        validate_event(event)
        assert event["detail-type"] == "Document Processing Failed"
        assert event["detail"]["reasonCode"] == BROKEN[name]
        assert event["detail"]["deadLettered"] is False
    assert stack.queue_depth("DeadLetterQueueUrl") == 0


def test_a_400_page_manual_is_read_whole_in_chunks(stack: StackClient, realdocs: Path) -> None:
    # GIVEN a 400-page PDF whose text is several times the model input limit (MaxModelInputChars = 60,000)
    upload = stack.upload_file(realdocs / "irs-irm-400-pages.pdf", key="long/irs-irm-400-pages.pdf")

    (record,) = stack.wait_for([upload.document_id], timeout=600).values()

    # THEN every page's text was extracted, in page-aware chunks that together cover all of it
    assert record["status"] == "COMPLETED", record.get("error")
    text = stack.client("s3").get_object(**_s3_location(record["textUri"]))["Body"].read().decode()
    assert text.count("\f") == 398  # pages 1-399 (page 400 has no text): every page was read
    plan = chunks.plan(text, 60_000)
    assert plan.dropped_chars == 0
    extraction = record["extraction"]
    assert extraction["chunks"] == len(plan.chunks) >= 5
    assert extraction["inputChars"] == len(text)
    assert extraction["inputTruncated"] is False
    assert record["classification"]["inputSampled"] is True
    # AND its cost counts every chunk: tokens summed, one ExtractChunk transition per chunk
    assert_cost(record["cost"], "irs-irm-400-pages.pdf")
    review = 1 if record["needsReview"] else 0
    lookup = len(CACHE_LOOKUP_STATES) if record.get("cache") else 0  # the content cache's lookup (a miss)
    assert record["cost"]["stateTransitions"] == len(BASE_PATH) + lookup + review + 1 + len(plan.chunks)
    assert extraction["chunksDurationMs"] > 0
    # AND the chunk results were passed as S3 references, one object per chunk
    listed = stack.client("s3").list_objects_v2(
        Bucket=stack.outputs["ArtifactsBucketName"], Prefix=f"chunks/{upload.document_id}/"
    )
    assert listed["KeyCount"] == len(plan.chunks)
    # AND evidence pages are pages of the whole document, not of a chunk
    result = stack.result_json(record)
    assert result is not None
    found_pages = [
        item["evidence"]["page"]
        for value in result["fields"].values()
        for item in (value if isinstance(value, list) else [value])
        if item["evidence"].get("found")
    ]
    assert found_pages
    assert all(1 <= page <= 400 for page in found_pages)
    for value in result["fields"].values():
        for item in value if isinstance(value, list) else [value]:
            if item["evidence"].get("found"):
                page_text = text.split("\f")[item["evidence"]["page"] - 1]
                assert normalise(item["evidence"]["quote"]) in normalise(page_text)


SCANS = {  # file: (words OCR must find, expected domain)
    "invoice2data-oyo-scan.png": (("PAYMENT RECEIPT", "Guest Name"), "financial"),
    "court-opinion-scanned-imageonly.pdf": (("Syllabus", "OCTOBER TERM"), "legal"),
}


def test_scans_and_images_are_read_by_ocr(stack: StackClient, realdocs: Path) -> None:
    # GIVEN a scanned PNG (read synchronously) and an image-only 2-page PDF (a Textract job the state machine waits for)
    uploads = {stack.upload_file(realdocs / name, key=f"scans/{name}").document_id: name for name in SCANS}

    records = stack.wait_for(uploads, timeout=600)

    for doc_id, name in uploads.items():
        record = records[doc_id]
        words, domain = SCANS[name]
        assert record["status"] == "COMPLETED", (name, record.get("error"))
        text = stack.client("s3").get_object(**_s3_location(record["textUri"]))["Body"].read().decode()
        assert all(word in text for word in words), (name, text[:300])
        assert record["classification"]["domain"] == domain, name
        ocr = record["ocr"]
        assert ocr["engine"] == "textract"
        assert ocr["mode"] == ("sync" if name.endswith(".png") else "async")
        assert ocr["pages"] == ([1] if name.endswith(".png") else [1, 2])
        assert 0.5 < ocr["meanConfidence"] <= 1
