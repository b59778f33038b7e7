"""Merge: both branches into one record (DynamoDB item), the result JSON in S3, and the event detail."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from jsonschema import Draft202012Validator

from docproc import classes, errors
from docproc.cost import load_price_table
from docproc.merge import MergeInput, MergeOutput, agreement, error_message, merge, overall_confidence
from docproc.models import ClassificationResult, ExtractionResult, StepError
from docproc.records import from_item

from helpers import (
    DOCUMENT_ID,
    classification_result,
    create_results_table,
    extraction_result,
    failed_branch,
    lambda_error_cause,
    load_schema,
    merge_input,
    valid_extraction,
)

ARTIFACTS = "docproc-artifacts"
NOW = datetime(2026, 1, 15, 10, 21, 38, tzinfo=UTC)


@pytest.fixture
def s3(aws: None) -> Any:
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=ARTIFACTS)
    return client


@pytest.fixture(scope="module")
def processed_schema() -> Draft202012Validator:
    return Draft202012Validator(
        load_schema("document-processed.v2.json"), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def run(s3: Any, event: dict[str, Any]) -> MergeOutput:
    return merge(MergeInput.model_validate(event), s3=s3, artifacts_bucket=ARTIFACTS, now=NOW)


def test_both_branches_agree_gives_a_completed_record(s3: Any, processed_schema: Draft202012Validator) -> None:
    # GIVEN extraction says "financial" and the classifier says "financial" with 0.8
    out = run(s3, merge_input())

    # THEN the record is COMPLETED, complete and confident
    record = from_item(out.item)
    assert record["documentId"] == DOCUMENT_ID
    assert record["status"] == "COMPLETED"
    assert (record["generation"], record["attempt"]) == (1, 1)
    assert record["executionName"] == f"{DOCUMENT_ID}-g1-a1"  # PersistResult's condition needs it
    assert record["partial"] is False
    assert "missing" not in record
    assert record["agreement"] == {
        "agrees": True,
        "classifiedDomain": "financial",
        "extractedDomain": "financial",
        "documentClass": "invoice",
        "classDomains": ["financial"],
        "classAgrees": True,
    }
    # 0.4 x 0.8 (classifier) + 0.4 x 0.88 (mean field confidence) + 0.2 x 1 (agreement)
    assert record["confidence"] == pytest.approx(0.872)
    assert record["needsReview"] is False
    assert record["domain"] == "financial"  # flat attributes users filter on
    assert record["documentClass"] == "invoice"
    assert record["configVersion"] == classes.load().version
    assert record["title"] == "Amazon Web Services invoice"
    assert record["fields"]["total"]["value"] == pytest.approx(11.19)
    assert record["fields"]["total"]["evidence"] == {"page": 1, "quote": "Total: $11.19", "found": True}
    assert "fields" not in record["extraction"]  # stored once, at the top
    assert record["classification"]["scores"] == {"financial": 0.8, "general": 0.2}
    assert record["modelIds"] == {
        "extraction": "anthropic.claude-3-haiku-20240307-v1:0",
        "classification": "docproc-domain-classifier",
    }
    assert record["usage"] == {"inputTokens": 812, "outputTokens": 97, "totalTokens": 909}
    timings = record["timings"]
    assert timings.pop("mergeMs") >= 0  # merge's own time, measured
    assert timings == {"prepareMs": 412, "extractMs": 2310, "classifyMs": 95, "totalMs": 30_000}
    assert record["source"]["versionId"] == "IYV3p45BT0ac8hjHg1houSdS1a.Mc8cE"
    assert record["textUri"] == f"s3://{ARTIFACTS}/text/{DOCUMENT_ID}.txt"
    assert record["resultUri"] == f"s3://{ARTIFACTS}/results/{DOCUMENT_ID}.json"
    assert out.result_uri == record["resultUri"]

    # AND the event is valid against the published contract and carries the insights
    processed_schema.validate(out.event)
    assert out.event["eventId"] == f"{DOCUMENT_ID}:1:COMPLETED"
    assert out.event["domain"] == "financial"
    assert out.event["domainConfidence"] == pytest.approx(0.8)
    assert out.event["schemaVersion"] == "2.0"
    assert out.event["documentClass"] == "invoice"
    assert out.event["configVersion"] == classes.load().version
    assert out.event["language"] == "en"
    assert out.event["fields"]["invoice_number"]["value"] == "123456789"
    assert out.event["fields"]["invoice_number"]["confidence"] == pytest.approx(0.95)
    assert out.event["needsReview"] is False
    assert out.needs_review is False
    assert out.review_event is None
    assert out.event["resultUri"] == record["resultUri"]
    assert out.event["partial"] is False


def test_record_result_json_and_event_carry_the_same_cost(s3: Any, processed_schema: Draft202012Validator) -> None:
    out = run(s3, merge_input())

    record = from_item(out.item)
    result = json.loads(s3.get_object(Bucket=ARTIFACTS, Key=f"results/{DOCUMENT_ID}.json")["Body"].read())
    cost = record["cost"]
    assert cost["pricesVersion"] == load_price_table().version
    assert set(cost["breakdown"]) == {"bedrock", "sagemaker", "textract", "stepFunctions", "lambda", "other"}
    # Claude 3 Haiku: 812 x $0.25/M + 97 x $1.25/M
    assert cost["breakdown"]["bedrock"] == pytest.approx((812 * 0.25 + 97 * 1.25) / 1e6)
    assert cost["totalUsd"] == pytest.approx(sum(cost["breakdown"].values()))
    assert cost["stateTransitions"] == 16
    assert result["cost"] == cost
    assert {k: v for k, v in out.event["cost"].items() if v is not None} == cost
    processed_schema.validate(out.event)


def test_result_json_is_written_to_s3(s3: Any) -> None:
    out = run(s3, merge_input())

    obj = s3.get_object(Bucket=ARTIFACTS, Key=f"results/{DOCUMENT_ID}.json")
    assert obj["ContentType"] == "application/json"
    result = json.loads(obj["Body"].read())
    assert result["documentId"] == DOCUMENT_ID
    assert result["status"] == "COMPLETED"
    assert result["documentClass"] == "invoice"
    assert result["fields"]["issuer"]["value"] == "Amazon Web Services, Inc."
    assert result["classification"]["domain"] == "financial"
    assert result["confidence"] == from_item(out.item)["confidence"]


def test_disagreement_lowers_confidence(s3: Any) -> None:
    # GIVEN the classifier says "legal" (0.8) while extraction says "financial"
    out = run(s3, merge_input(classification={"status": "SUCCEEDED", "result": classification_result("legal")}))

    record = from_item(out.item)
    assert record["agreement"]["agrees"] is False
    assert record["agreement"]["classifiedDomain"] == "legal"
    assert record["agreement"]["extractedDomain"] == "financial"
    assert record["agreement"]["classAgrees"] is False  # an invoice is financial
    assert record["confidence"] == pytest.approx(0.672)  # 0.32 + 0.352 + 0.2 x 0
    assert record["confidence"] < from_item(run(s3, merge_input()).item)["confidence"]
    assert record["partial"] is False


# --- overall_confidence, as its docstring documents it -------------------------------------------------------------


def _extraction(truncated: bool = False) -> ExtractionResult:
    return ExtractionResult.model_validate(extraction_result(inputTruncated=truncated))


def _classification(confidence: float, truncated: bool = False) -> ClassificationResult:
    return ClassificationResult.model_validate(classification_result(confidence=confidence, inputTruncated=truncated))


def _agreement(extraction: ExtractionResult | None, classification: ClassificationResult | None) -> Any:
    return agreement(extraction, classification)


@pytest.mark.parametrize(
    ("extraction", "classification", "classified", "expected"),
    [
        pytest.param(True, 0.6, "financial", 0.24 + 0.352 + 0.2, id="both-agree"),
        pytest.param(True, 1.0, "financial", 0.4 + 0.352 + 0.2, id="certain-classifier"),
        pytest.param(True, 0.6, "legal", 0.24 + 0.352, id="both-disagree"),
        pytest.param(False, 0.9, "financial", 0.54, id="classification-only"),
        pytest.param(True, None, None, 0.528, id="extraction-only"),
    ],
)
def test_overall_confidence_rules(
    extraction: bool, classification: float | None, classified: str | None, expected: float
) -> None:
    extracted = _extraction() if extraction else None
    classified_result = (
        ClassificationResult.model_validate(classification_result(classified, confidence=classification))
        if classification is not None and classified
        else None
    )

    score = overall_confidence(extracted, classified_result, _agreement(extracted, classified_result))

    assert score == pytest.approx(expected)


def test_no_fields_count_as_half() -> None:
    empty = ExtractionResult.model_validate(extraction_result(fields={}))

    assert overall_confidence(empty, None, _agreement(empty, None)) == pytest.approx(0.3)


def test_cut_input_costs_five_percent() -> None:
    def score(extraction: ExtractionResult, classification: ClassificationResult) -> float:
        return overall_confidence(extraction, classification, _agreement(extraction, classification))

    full = score(_extraction(), _classification(0.6))

    assert score(_extraction(truncated=True), _classification(0.6)) == pytest.approx(full * 0.95)
    assert score(_extraction(), _classification(0.6, truncated=True)) == pytest.approx(full * 0.95)


def test_below_the_threshold_the_record_needs_review_with_reasons(
    s3: Any, processed_schema: Draft202012Validator
) -> None:
    # GIVEN an unsure classifier that disagrees with the extraction
    event = merge_input(classification={"status": "SUCCEEDED", "result": classification_result("legal", 0.4)})

    out = merge(MergeInput.model_validate(event), s3=s3, artifacts_bucket=ARTIFACTS, review_threshold=0.7, now=NOW)

    record = from_item(out.item)
    assert record["confidence"] == pytest.approx(0.16 + 0.352)
    assert record["needsReview"] is True
    assert record["reviewReasons"] == ["low_confidence", "branches_disagree"]
    assert out.needs_review is True
    processed_schema.validate(out.event)
    assert out.event["needsReview"] is True
    review = Draft202012Validator(
        load_schema("document-needs-review.v1.json"), format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    assert out.review_event is not None
    review.validate(out.review_event)
    assert out.review_event["eventId"] == f"{DOCUMENT_ID}:1:NEEDS_REVIEW"
    assert out.review_event["reviewThreshold"] == 0.7
    assert out.review_event["documentClass"] == "invoice"


def test_an_unverified_field_is_a_review_reason(s3: Any) -> None:
    result = extraction_result()
    result["fields"]["due_date"] = {
        "value": "2017-11-02",
        "confidence": 0.27,
        "modelConfidence": 0.9,
        "evidence": {"quote": "due November 2", "found": False},
        "flags": ["quote_not_found"],
    }
    result["unverifiedFields"] = ["due_date"]
    event = merge_input(extraction={"status": "SUCCEEDED", "result": result})

    out = merge(MergeInput.model_validate(event), s3=s3, artifacts_bucket=ARTIFACTS, review_threshold=0.95, now=NOW)

    assert from_item(out.item)["reviewReasons"] == ["low_confidence", "unverified_fields"]
    assert out.review_event is not None
    assert out.review_event["unverifiedFields"] == ["due_date"]


# --- partial results and failures ----------------------------------------------------------------------------------


def test_permanent_extraction_failure_gives_a_partial_record(s3: Any) -> None:
    # GIVEN extraction failed permanently (after its Catch) and classification succeeded
    event = merge_input(extraction=failed_branch("ModelOutputInvalid", "tool input failed schema validation"))

    out = run(s3, event)

    record = from_item(out.item)
    assert record["status"] == "COMPLETED"
    assert record["partial"] is True
    assert record["missing"] == [
        {"part": "extraction", "reasonCode": "MODEL_OUTPUT_INVALID", "message": "tool input failed schema validation"}
    ]
    assert "extraction" not in record
    assert record["domain"] == "financial"
    assert record["confidence"] == pytest.approx(0.48)  # classification only: 0.6 x 0.8
    assert record["needsReview"] is True
    assert record["reviewReasons"] == ["low_confidence", "partial"]
    assert record["modelIds"] == {"classification": "docproc-domain-classifier"}
    assert out.event["partial"] is True
    assert out.event["missing"][0]["part"] == "extraction"


def test_permanent_classification_failure_gives_a_partial_record(s3: Any) -> None:
    out = run(s3, merge_input(classification=failed_branch("ModelRequestInvalid", "ValidationError (400)")))

    record = from_item(out.item)
    assert record["partial"] is True
    assert record["missing"][0]["part"] == "classification"
    assert record["missing"][0]["reasonCode"] == "MODEL_REQUEST_INVALID"
    assert record["confidence"] == pytest.approx(0.528)  # extraction only: 0.6 x 0.88
    assert record["documentClass"] == "invoice"
    assert "domain" not in record


@pytest.mark.parametrize("failed", ["extraction", "classification"])
def test_partial_result_event_is_valid_against_the_contract(
    s3: Any, processed_schema: Draft202012Validator, failed: str
) -> None:
    # GIVEN one branch failed permanently
    event = merge_input(**{failed: failed_branch("ModelOutputInvalid")})

    out = run(s3, event)

    # THEN subscribers still get an event that matches the published schema (null, not absent)
    processed_schema.validate(out.event)


def test_both_branches_failed_raises_the_extraction_error(s3: Any) -> None:
    event = merge_input(
        extraction=failed_branch("NoTextContent", "pdf file parsed but holds no text"),
        classification=failed_branch("ModelOutputInvalid", "classifier returned non-JSON"),
    )

    with pytest.raises(errors.NoTextContent, match="pdf file parsed but holds no text") as raised:
        run(s3, event)

    assert type(raised.value).__name__ == "NoTextContent"  # the state machine's Catch matches on the name
    assert s3.list_objects_v2(Bucket=ARTIFACTS).get("KeyCount", 0) == 0  # no result JSON for a failed document


def test_extraction_output_with_different_domain_hint_is_kept_verbatim(s3: Any) -> None:
    event = merge_input(
        extraction={
            "status": "SUCCEEDED",
            "result": extraction_result(extraction=valid_extraction(domain_hint="legal")),
        }
    )

    record = from_item(run(s3, event).item)

    assert record["agreement"]["extractedDomain"] == "legal"
    assert record["agreement"]["agrees"] is False


@pytest.mark.parametrize(
    ("cause", "expected"),
    [
        (lambda_error_cause("CorruptDocument", "zip without central directory"), "zip without central directory"),
        ("plain text cause", "plain text cause"),
        (None, "CorruptDocument"),
        ("", "CorruptDocument"),
    ],
)
def test_error_message_takes_the_human_part_of_the_cause(cause: str | None, expected: str) -> None:
    assert error_message(StepError(Error="CorruptDocument", Cause=cause)) == expected


def test_merged_item_can_be_persisted_as_is_and_found_by_status(s3: Any) -> None:
    # GIVEN the results table that template.yaml declares (PersistResult puts the item unchanged)
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    table = create_results_table(dynamodb)
    item = run(s3, merge_input()).item

    dynamodb.put_item(TableName=table, Item=item)

    # THEN users can list completed documents through the status index
    found = dynamodb.query(
        TableName=table,
        IndexName="StatusIndex",
        KeyConditionExpression="#s = :completed",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":completed": {"S": "COMPLETED"}},
    )["Items"]
    assert [i["documentId"]["S"] for i in found] == [DOCUMENT_ID]
