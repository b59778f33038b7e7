"""The content cache and cost-aware routing on the local stack built from template.yaml.

Every sample uploaded a second time under other keys is a cache hit: no request reaches the Bedrock or SageMaker
stand-ins, the record reuses the first copy's fields and says what it saved. Short documents take the small model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from docproc.cost import CACHE_HIT_PATH
from docproc_local.client import StackClient
from docproc_local.runtime import LocalRuntime

from stack_helpers import REPO, collect_events, events_for, validate_event

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

SAMPLES = sorted((REPO / "samples").iterdir())


def model_requests(runtime: LocalRuntime) -> dict[str, int]:
    stats = runtime.standins.stats()
    return {service: int(stats[service].get("requests", 0)) for service in ("bedrock", "sagemaker")}


def upload_all(stack: StackClient, prefix: str) -> dict[str, Path]:
    return {stack.upload_file(path, key=f"{prefix}/{path.name}").document_id: path for path in SAMPLES}


def test_second_copies_are_cache_hits_with_no_model_call(runtime: LocalRuntime, stack: StackClient) -> None:
    # GIVEN every sample processed once: each a miss whose complete result was written through
    first = upload_all(stack, "cache-first")
    first_records = stack.wait_for(first, timeout=300)
    assert {r["status"] for r in first_records.values()} == {"COMPLETED"}
    for record in first_records.values():
        assert record["cache"]["status"] == "miss"
        assert record["cache"]["written"] is True
    by_name = {first[doc_id].name: record for doc_id, record in first_records.items()}
    before = model_requests(runtime)

    # WHEN the same files are uploaded again under other keys
    second = upload_all(stack, "cache-second/copies")
    records = stack.wait_for(second, timeout=300)

    # THEN no request reached either model stand-in
    assert model_requests(runtime) == before
    for doc_id, path in second.items():
        record, original = records[doc_id], by_name[path.name]
        assert record["status"] == "COMPLETED", path.name
        # AND each record is a hit on its first copy, with the first copy's answer
        assert record["cache"]["status"] == "hit", path.name
        assert record["cache"]["key"] == original["cache"]["key"]
        assert record["cache"]["sourceDocumentId"] == original["documentId"]
        assert record["fields"] == original["fields"], path.name
        assert record["classification"]["domain"] == original["classification"]["domain"]
        assert record["documentClass"] == original["documentClass"]
        # AND its cost has no model part, and says what the skipped branches would have cost
        cost = record["cost"]
        assert cost["breakdown"]["bedrock"] == cost["breakdown"]["sagemaker"] == 0
        assert cost["stateTransitions"] == len(CACHE_HIT_PATH) + (1 if record["needsReview"] else 0)
        assert record["cache"]["savedUsd"] > 0
        assert cost["totalUsd"] + record["cache"]["savedUsd"] == pytest.approx(original["cost"]["totalUsd"], rel=0.2)
        assert "usage" not in record

    # AND the events say so too
    events = collect_events(stack, lambda seen: {e["detail"]["documentId"] for e in seen} >= set(second))
    for doc_id in second:
        (event,) = events_for(events, doc_id)
        validate_event(event)
        assert event["detail"]["cache"]["status"] == "hit"


def test_short_documents_take_the_small_model_and_long_ones_the_default(stack: StackClient) -> None:
    # GIVEN a short letter and a long report (default rules: up to 12,000 characters and 3 pages is "small")
    short = "Dear Ms Jones,\n\nThank you for your letter of 3 March about the lease.\n\nYours sincerely,\nA. Smith\n"
    long = "\n\n".join(
        f"Section {i}. The quarterly results of the technical review are described here." * 4 for i in range(60)
    )
    uploads = {
        stack.upload_bytes(short.encode(), key="routing/short-letter.txt").document_id: "small-documents",
        stack.upload_bytes(long.encode(), key="routing/long-report.txt").document_id: "default",
    }

    # WHEN they are processed
    records = stack.wait_for(uploads, timeout=300)

    # THEN each record names the route it took and the model that read it
    small = stack.outputs.get("SmallBedrockModelId") or "amazon.nova-lite-v1:0"
    for doc_id, route in uploads.items():
        record: dict[str, Any] = records[doc_id]
        assert record["status"] == "COMPLETED"
        assert record["route"]["name"] == route
        expected_model = small if route == "small-documents" else record["route"]["modelId"]
        assert record["route"]["modelId"] == expected_model
        assert record["modelIds"]["extraction"] == record["route"]["modelId"]
    assert records[next(iter(uploads))]["route"]["modelId"] != records[list(uploads)[1]]["route"]["modelId"]
