"""Step 3: merge both branches into one insight record, the full result JSON in S3 and the event detail."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from pydantic import Field

from docproc import cache, classes, cost, errors, evidence, ids, pii
from docproc.contract import DocumentNeedsReview, DocumentProcessed
from docproc.models import (
    Agreement,
    CacheInfo,
    ClassificationBranch,
    ClassificationResult,
    Cost,
    DocumentRef,
    DocumentStatus,
    ExperimentRef,
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
    error_message,
    utcnow,
)
from docproc.records import to_item
from docproc.storage import result_key, write_object


class CachedAnalysis(WireModel):
    """How the analysis arrived: from both branches (``hit: false``) or from the content cache (``LookUpCache``)."""

    hit: bool = False
    source_document_id: str | None = None
    expires: str | None = None


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
    cached: CachedAnalysis = Field(default_factory=CachedAnalysis)


class MergeOutput(WireModel):
    item: dict[str, Any]
    event: dict[str, Any]
    result_uri: str
    needs_review: bool = False
    review_event: dict[str, Any] | None = None
    # the content-cache item to write through (the handler puts it; never part of the state payload)
    cache_item: dict[str, Any] | None = Field(default=None, exclude=True)


DEFAULT_REVIEW_THRESHOLD = 0.6


def missing_part(part: str, error: StepError) -> MissingPart:
    reason, _ = errors.reason_for_error_name(error.Error)
    return MissingPart(part=part, reason_code=reason, message=error_message(error))  # type: ignore[arg-type]


def agreement(extraction: ExtractionResult | None, classification: ClassificationResult | None) -> Agreement:
    """Whether the branches agree: the classifier's domain against the model's domain hint and its class's domains."""
    extracted = extraction.extraction.domain_hint.value if extraction else None
    classified = classification.domain if classification else None
    class_domains: list[str] = []
    if extraction:
        try:
            config = classes.load()
            if extraction.document_class in config:
                class_domains = list(config.get(extraction.document_class).domains)
        except classes.ClassConfigError:
            class_domains = []
    return Agreement(
        agrees=None if extracted is None or classified is None else extracted == classified,
        classified_domain=classified,
        extracted_domain=extracted,
        document_class=extraction.document_class if extraction else None,
        class_domains=class_domains,
        class_agrees=None if classified is None or not class_domains else classified in class_domains,
    )


def agreement_score(agreed: Agreement) -> float | None:
    """1 when both checks agree, 0 when both disagree, the mean otherwise; None without both branches."""
    checks = [c for c in (agreed.agrees, agreed.class_agrees) if c is not None]
    if agreed.agrees is None or not checks:
        return None
    return sum(1.0 for c in checks if c) / len(checks)


def fields_score(extraction: ExtractionResult) -> float:
    """Mean field confidence after the evidence check; 0.5 (no information) when the class yielded no field."""
    values = evidence.field_confidences(extraction.fields or {})
    return sum(values) / len(values) if values else 0.5


def overall_confidence(
    extraction: ExtractionResult | None,
    classification: ClassificationResult | None,
    agreed: Agreement,
    *,
    classification_only: bool = False,
) -> float:
    """How much to trust the record, in [0, 1] (README, "Confidence and review").

    Both branches: ``0.4 * p + 0.4 * f + 0.2 * a`` with ``p`` the classifier's calibrated probability of its
    domain, ``f`` the mean field confidence after the evidence check and ``a`` the agreement score.
    Classification only: ``0.6 * p``. Extraction only: ``0.6 * f``. A cut input costs 5 %. A classification-only
    route (nothing is missing: no extraction was asked for): ``p``.
    """
    if classification_only and classification and not extraction:
        score = classification.confidence
    elif classification and extraction:
        a = agreement_score(agreed)
        score = 0.4 * classification.confidence + 0.4 * fields_score(extraction) + 0.2 * (1.0 if a is None else a)
    elif classification:
        score = 0.6 * classification.confidence
    elif extraction:
        score = 0.6 * fields_score(extraction)
    else:
        score = 0.0
    if (extraction and extraction.input_truncated) or (classification and classification.input_truncated):
        score *= 0.95
    return round(max(0.0, min(1.0, score)), 4)


def review_reasons(
    confidence: float, threshold: float, extraction: ExtractionResult | None, agreed: Agreement, partial: bool
) -> list[str]:
    """Why a record may need a person: empty when the confidence reaches the threshold."""
    if confidence >= threshold:
        return []
    reasons = ["low_confidence"]
    if partial:
        reasons.append("partial")
    if extraction and extraction.unverified_fields:
        reasons.append("unverified_fields")
    if agreed.agrees is False or agreed.class_agrees is False:
        reasons.append("branches_disagree")
    if extraction and not extraction.fields:
        reasons.append("no_fields")
    return reasons


def merge(
    data: MergeInput,
    *,
    s3: Any,
    artifacts_bucket: str,
    review_threshold: float = DEFAULT_REVIEW_THRESHOLD,
    now: datetime | None = None,
    prices: cost.PriceTable | None = None,
    deployment: cost.Deployment | None = None,
    cache_ttl_days: int = 0,
    pii_policy: pii.Policy = pii.DEFAULT_POLICY,
) -> MergeOutput:
    started = time.perf_counter()
    now = now or utcnow()
    extraction = data.extraction.result if data.extraction.status == "SUCCEEDED" else None
    classification = data.classification.result if data.classification.status == "SUCCEEDED" else None
    skipped = data.extraction.status == "SKIPPED"  # a classification-only route
    missing = []
    if extraction is None and not skipped:
        missing.append(missing_part("extraction", data.extraction.error or StepError(Error="Unknown")))
    if classification is None:
        missing.append(missing_part("classification", data.classification.error or StepError(Error="Unknown")))
    if extraction is None and classification is None:
        raise_branch_error(data.extraction.error or data.classification.error or StepError(Error="Unknown"))

    agreed = agreement(extraction, classification)
    model_ids = {}
    if extraction:
        model_ids["extraction"] = extraction.model_id
    if classification:
        model_ids["classification"] = classification.endpoint_name
    confidence = overall_confidence(extraction, classification, agreed, classification_only=skipped)
    reasons = review_reasons(confidence, review_threshold, extraction, agreed, bool(missing))
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
        extraction=extraction.model_copy(update={"fields": None}) if extraction else None,
        document_class=extraction.document_class if extraction else None,
        config_version=extraction.config_version if extraction else None,
        fields=extraction.fields if extraction else None,
        agreement=agreed,
        confidence=confidence,
        needs_review=bool(reasons),
        review_reasons=reasons,
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
        ocr=data.prepared.ocr,
        route=data.prepared.route,
        experiment=data.prepared.experiment,
        pii_policy=pii_policy,
        queued_at=data.queued_at,
        completed_at=now,
        updated_at=now,
    )
    cache_item = None
    key = data.prepared.cache_key
    if key and data.cached.hit:
        record = _as_cache_hit(record, data, prices, deployment, started)
    else:
        if key:
            record.cache = CacheInfo(status="miss", key=key)
        record.cost = estimate_cost(record, prices, deployment, started)
        if key and record.cost is not None:
            cache_item = cache.cache_item(
                key,
                document_id=record.document_id,
                extraction=data.extraction,
                classification=data.classification,
                model_usd=record.cost.breakdown.bedrock + record.cost.breakdown.sagemaker,
                ttl_days=cache_ttl_days,
            )
            record.cache = CacheInfo(status="miss", key=key, written=cache_item is not None)
    result_uri = write_object(
        s3,
        artifacts_bucket,
        result_key(record.document_id),
        json.dumps(dump(record), indent=2, ensure_ascii=False).encode("utf-8"),
        "application/json",
    )
    record.result_uri = result_uri
    return MergeOutput(
        item=to_item(record),
        event=pii.apply_to_event(dump_event(processed_event(record)), pii_policy),
        result_uri=result_uri,
        needs_review=record.needs_review,
        review_event=dump_event(review_event(record, review_threshold)) if record.needs_review else None,
        cache_item=cache_item,
    )


def _as_cache_hit(
    record: InsightRecord,
    data: MergeInput,
    prices: cost.PriceTable | None,
    deployment: cost.Deployment | None,
    started: float,
) -> InsightRecord:
    """The record of a cache hit: no tokens or model time of its own; ``savedUsd`` is what the skipped branches
    would have cost (the same estimate as a miss, at the cached result's usage and durations, minus this one)."""
    key = data.prepared.cache_key or ""
    as_miss = record.model_copy(update={"cache": CacheInfo(status="miss", key=key, written=True)})
    full = estimate_cost(as_miss, prices, deployment, started)
    timings = record.timings.model_copy(update={"extract_ms": None, "classify_ms": None}) if record.timings else None
    hit = record.model_copy(
        update={
            "usage": None,
            "timings": timings,
            "cache": CacheInfo(status="hit", key=key, source_document_id=data.cached.source_document_id),
        }
    )
    hit.cost = estimate_cost(hit, prices, deployment, started)
    assert hit.cache is not None
    hit.cache.saved_usd = round(max(0.0, full.total_usd - hit.cost.total_usd), 12)
    return hit


def estimate_cost(
    record: InsightRecord, prices: cost.PriceTable | None, deployment: cost.Deployment | None, started: float
) -> Cost:
    """The record's cost; merge's own time so far goes into ``timings.mergeMs`` first. A broken price table fails the
    document permanently (``CONFIG_INVALID``), like a broken class configuration."""
    if record.timings is not None:
        record.timings.merge_ms = int((time.perf_counter() - started) * 1000)
    try:
        table = prices or cost.default_prices()
    except cost.PriceTableError as exc:
        raise errors.ConfigurationInvalid(str(exc)) from exc
    return cost.estimate(record, table, deployment)


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
        document_class=record.document_class,
        config_version=record.config_version,
        title=extraction.title if extraction else None,
        summary=extraction.summary if extraction else None,
        language=extraction.language if extraction else None,
        fields=record.fields,
        agreement=record.agreement,
        confidence=record.confidence or 0.0,
        needs_review=record.needs_review,
        review_reasons=record.review_reasons,
        partial=record.partial,
        missing=record.missing,
        usage=record.usage,
        model_ids=record.model_ids,
        result_uri=record.result_uri,
        text_uri=record.text_uri,
        ocr=record.ocr,
        cost=record.cost,
        route=record.route,
        cache=record.cache,
        experiment=ExperimentRef(name=record.experiment.name, variant=record.experiment.variant)
        if record.experiment
        else None,
        completed_at=record.completed_at,
    )


def review_event(record: InsightRecord, threshold: float) -> DocumentNeedsReview:
    assert record.result_uri
    assert record.completed_at
    return DocumentNeedsReview(
        event_id=ids.event_id(record.document_id, record.generation, "NEEDS_REVIEW"),
        document_id=record.document_id,
        generation=record.generation,
        source=record.source,  # type: ignore[arg-type]
        document_class=record.document_class,
        config_version=record.config_version,
        domain=record.classification.domain if record.classification else None,
        confidence=record.confidence or 0.0,
        review_threshold=threshold,
        review_reasons=record.review_reasons,
        unverified_fields=record.extraction.unverified_fields if record.extraction else [],
        result_uri=record.result_uri,
        completed_at=record.completed_at,
    )


def raise_branch_error(error: StepError) -> None:
    """Both branches failed permanently: the document fails with the extraction branch's error."""
    cls = errors.error_class(error.Error)
    message = f"both branches failed; extraction: {error_message(error)}"
    if cls is not None and issubclass(cls, errors.PermanentError):
        raise cls(message)
    raise errors.ModelOutputInvalid(f"{message} ({error.Error})")
