"""End to end on the local stack built from template.yaml: real documents in, records, results and events out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from docproc_local.client import StackClient

from helpers import SAMPLE_DOMAINS
from stack_helpers import REPO, collect_events, events_for, validate_event

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

SAMPLES = REPO / "samples"


def test_every_sample_completes_with_record_result_and_event(stack: StackClient) -> None:
    # GIVEN the bundled samples, one of each supported format
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

    events = collect_events(stack, lambda seen: {e["detail"]["documentId"] for e in seen} >= set(uploads))
    for doc_id, path in uploads.items():
        (event,) = events_for(events, doc_id)
        validate_event(event)
        assert event["detail-type"] == "Document Processed"
        assert event["detail"]["domain"] == SAMPLE_DOMAINS[path.name]
        assert event["detail"]["resultUri"] == records[doc_id]["resultUri"]
        text = (
            stack.client("s3")
            .get_object(Bucket=stack.outputs["ArtifactsBucketName"], Key=f"text/{doc_id}.txt")["Body"]
            .read()
            .decode()
        )
        assert len(text) > 200
        assert text[:200] not in json.dumps(event), "events carry references, never the document text"


BROKEN = {
    "tika-truncated.docx": "CORRUPT_DOCUMENT",
    "invoice2data-oyo-scan.png": "UNSUPPORTED_TYPE",
    "empty-zero-bytes.pdf": "EMPTY_DOCUMENT",
    "pypdf-crazyones-encrypted-aes256.pdf": "ENCRYPTED_DOCUMENT",
    "court-opinion-scanned-imageonly.pdf": "NO_TEXT_CONTENT",
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
