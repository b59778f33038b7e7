"""Step 3: merge both branches into one insight record, the full result JSON in S3 and the event detail."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from docproc import errors, ids
from docproc.contract import DocumentProcessed, KeyFields
from docproc.models import (
    Agreement,
    ClassificationBranch,
    ClassificationResult,
    DocumentRef,
    DocumentStatus,
    ExtractionBranch,
    ExtractionResult,
    InsightRecord,
    MissingPart,
    PreparedDocument,
    StepError,
    Timings,
    WireModel,
    dump,
    dump_event,
    utcnow,
)
from docproc.records import to_item
from docproc.storage import result_key, write_object


class MergeInput(WireModel):
    document: DocumentRef
    generation: int
    attempt: int
    queued_at: datetime
    execution_name: str
    started_at: datetime | None = None
    prepared: PreparedDocument
    extraction: ExtractionBranch
    classification: ClassificationBranch


class MergeOutput(WireModel):
    item: dict[str, Any]
    event: dict[str, Any]
    result_uri: str


def error_message(error: StepError) -> str:
    """The human part of a Catch's ``Cause`` (Lambda puts a JSON object with ``errorMessage`` there)."""
    cause = error.Cause or ""
    try:
        parsed = json.loads(cause)
    except ValueError:
        return cause[:500] or error.Error
    if isinstance(parsed, dict):
        return str(parsed.get("errorMessage") or parsed)[:500]
    return cause[:500]


def missing_part(part: str, error: StepError) -> MissingPart:
    reason, _ = errors.reason_for_error_name(error.Error)
    return MissingPart(part=part, reason_code=reason, message=error_message(error))  # type: ignore[arg-type]


def agreement(extraction: ExtractionResult | None, classification: ClassificationResult | None) -> Agreement:
    extracted = extraction.extraction.domain_hint.value if extraction else None
    classified = classification.domain if classification else None
    return Agreement(
        agrees=None if extracted is None or classified is None else extracted == classified,
        classified_domain=classified,
        extracted_domain=extracted,
        document_type=extraction.extraction.document_type if extraction else None,
    )


def overall_confidence(
    extraction: ExtractionResult | None, classification: ClassificationResult | None, agreed: bool | None
) -> float:
    """How much to trust the record, in [0, 1].

    Both branches: agreement halves the classifier's doubt, disagreement scales its confidence by 0.6.
    Classification only: 0.8 x its confidence. Extraction only: 0.5. Cut input costs 5%.
    """
    if classification and extraction:
        c = classification.confidence
        score = 1 - (1 - c) * 0.5 if agreed else c * 0.6
    elif classification:
        score = classification.confidence * 0.8
    else:
        score = 0.5
    if (extraction and extraction.input_truncated) or (classification and classification.input_truncated):
        score *= 0.95
    return round(max(0.0, min(1.0, score)), 4)


def merge(data: MergeInput, *, s3: Any, artifacts_bucket: str, now: datetime | None = None) -> MergeOutput:
    now = now or utcnow()
    extraction = data.extraction.result if data.extraction.status == "SUCCEEDED" else None
    classification = data.classification.result if data.classification.status == "SUCCEEDED" else None
    missing = []
    if extraction is None:
        missing.append(missing_part("extraction", data.extraction.error or StepError(Error="Unknown")))
    if classification is None:
        missing.append(missing_part("classification", data.classification.error or StepError(Error="Unknown")))
    if extraction is None and classification is None:
        raise_branch_error(data.extraction.error or StepError(Error="Unknown"))

    agreed = agreement(extraction, classification)
    model_ids = {}
    if extraction:
        model_ids["extraction"] = extraction.model_id
    if classification:
        model_ids["classification"] = classification.endpoint_name
    record = InsightRecord(
        document_id=data.document.document_id,
        status=DocumentStatus.COMPLETED,
        generation=data.generation,
        attempt=data.attempt,
        execution_name=data.execution_name,
        source=data.prepared.source,
        format=data.prepared.format,
        media_type=data.prepared.media_type,
        classification=classification,
        extraction=extraction,
        agreement=agreed,
        confidence=overall_confidence(extraction, classification, agreed.agrees),
        partial=bool(missing),
        missing=missing,
        model_ids=model_ids,
        usage=extraction.usage if extraction else None,
        timings=Timings(
            prepare_ms=data.prepared.duration_ms,
            extract_ms=extraction.duration_ms if extraction else None,
            classify_ms=classification.duration_ms if classification else None,
            total_ms=int((now - data.queued_at).total_seconds() * 1000),
        ),
        text_uri=data.prepared.text.uri,
        queued_at=data.queued_at,
        completed_at=now,
        updated_at=now,
    )
    result_uri = write_object(
        s3,
        artifacts_bucket,
        result_key(record.document_id),
        json.dumps(dump(record), indent=2, ensure_ascii=False).encode("utf-8"),
        "application/json",
    )
    record.result_uri = result_uri
    return MergeOutput(item=to_item(record), event=dump_event(processed_event(record)), result_uri=result_uri)


def processed_event(record: InsightRecord) -> DocumentProcessed:
    extraction = record.extraction.extraction if record.extraction else None
    assert record.agreement is not None
    assert record.result_uri
    assert record.text_uri
    assert record.completed_at
    return DocumentProcessed(
        event_id=ids.event_id(record.document_id, record.generation, record.status),
        document_id=record.document_id,
        generation=record.generation,
        source=record.source,  # type: ignore[arg-type]
        format=record.format or "",
        media_type=record.media_type or "",
        domain=record.classification.domain if record.classification else None,
        domain_confidence=record.classification.confidence if record.classification else None,
        document_type=extraction.document_type if extraction else None,
        title=extraction.title if extraction else None,
        summary=extraction.summary if extraction else None,
        language=extraction.language if extraction else None,
        fields=KeyFields(
            dates=extraction.dates,
            amounts=extraction.amounts,
            parties=extraction.parties,
            identifiers=extraction.identifiers,
            emails=extraction.emails,
            key_phrases=extraction.key_phrases,
        )
        if extraction
        else None,
        agreement=record.agreement,
        confidence=record.confidence or 0.0,
        partial=record.partial,
        missing=record.missing,
        usage=record.usage,
        model_ids=record.model_ids,
        result_uri=record.result_uri,
        text_uri=record.text_uri,
        completed_at=record.completed_at,
    )


def raise_branch_error(error: StepError) -> None:
    """Both branches failed permanently: the document fails with the extraction branch's error."""
    cls = errors.error_class(error.Error)
    message = f"both branches failed; extraction: {error_message(error)}"
    if cls is not None and issubclass(cls, errors.PermanentError):
        raise cls(message)
    raise errors.ModelOutputInvalid(f"{message} ({error.Error})")
