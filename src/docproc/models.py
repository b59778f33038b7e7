"""Pydantic models for every step's input and output.

On the wire (execution input, state payloads, DynamoDB, events) fields are camelCase; in Python they are
snake_case. Dump with :func:`dump` so aliases and JSON types are always used.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class WireModel(BaseModel):
    # defer_build: a model's validator is built on its first use, not when the module is imported (cold start)
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", defer_build=True)


def dump(model: BaseModel) -> dict[str, Any]:
    """The JSON form used on the wire: camelCase keys, ISO timestamps, no ``None`` noise."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def dump_event(model: BaseModel) -> dict[str, Any]:
    """An event ``detail``: like :func:`dump`, but explicit nulls stay (the schema requires those keys)."""
    return model.model_dump(mode="json", by_alias=True)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Domain(StrEnum):
    LEGAL = "legal"
    MEDICAL = "medical"
    FINANCIAL = "financial"
    TECHNICAL = "technical"
    HR = "hr"
    GENERAL = "general"


class DocumentStatus(StrEnum):
    QUEUED = "QUEUED"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


TERMINAL_STATUSES = frozenset({DocumentStatus.COMPLETED, DocumentStatus.FAILED})


# --- identity and execution input -----------------------------------------------------------------------------------


class DocumentRef(WireModel):
    """Which object version a document is. ``document_id`` is derived from bucket, key and version (or etag)."""

    document_id: str
    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None
    size: int | None = None
    event_time: datetime | None = None


class LeaseRef(WireModel):
    """The in-flight slot an execution holds (back-pressure); released at the end of every path."""

    slot: str
    expires_at: int


class PipelineInput(WireModel):
    """The state machine's execution input, written by the ingest function."""

    document: DocumentRef
    generation: int = 1
    attempt: int = 1
    queued_at: datetime
    lease: LeaseRef


# --- prepare -------------------------------------------------------------------------------------------------------


class SourceObject(WireModel):
    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None
    size: int
    content_type: str | None = None
    last_modified: datetime | None = None


class TextRef(WireModel):
    uri: str
    chars: int
    pages: int | None = None
    sha256: str
    tables_uri: str | None = None  # text/<documentId>.tables.json: {"tables": [{"page", "source", "rows"}]}
    table_count: int = 0
    language: str | None = None  # a cheap guess before any model runs (docproc.language); routing reads it


class OcrRequest(WireModel):
    """What prepare asks for when a document needs OCR: which pages and why."""

    pages: list[int] = Field(default_factory=list, description="1-based pages to OCR; empty: every page")
    reason: str
    sync: bool = Field(default=False, description="A single image small enough for DetectDocumentText")


class OcrSummary(WireModel):
    """What the record says about OCR."""

    engine: str = "textract"
    mode: Literal["sync", "async"]
    pages: list[int] = Field(description="Pages whose text came from OCR")
    mean_confidence: float | None = Field(description="Mean word confidence of those pages, 0-1")
    page_confidence: dict[str, float] = Field(default_factory=dict)
    reason: str
    pages_processed: int | None = Field(default=None, description="Pages Textract read (and bills), used or not")
    polls: int | None = Field(default=None, description="Status checks of an asynchronous job")


class Route(WireModel):
    """The routing rule a document matched (``config/routes.yaml``) and what it decided."""

    name: str
    model_id: str | None = Field(default=None, description="Bedrock model of the extraction; null: classification only")
    classification_only: bool = False
    rules_version: str | None = None


class CacheInfo(WireModel):
    """The content cache's part in this record: ``hit`` (both model branches skipped) or ``miss`` (written through)."""

    status: Literal["hit", "miss"]
    key: str
    source_document_id: str | None = Field(default=None, description="On a hit: the document whose result was reused")
    saved_usd: float | None = Field(default=None, ge=0, description="On a hit: what the skipped model branches cost")
    written: bool | None = Field(default=None, description="On a miss: whether this result was offered to the cache")


class ExperimentAssignment(WireModel):
    """The experiment variant a document was assigned to (docproc.experiments); its settings drive extraction."""

    name: str
    variant: str
    model_id: str
    prompt_version: str = "default"
    temperature: float = 0.0
    class_config_version: str | None = None
    config_version: str = Field(description="Version of experiments.yaml the assignment was made with")


class ExperimentRef(WireModel):
    """What an event says about the experiment: its name and the document's variant."""

    name: str
    variant: str


class PreparedDocument(WireModel):
    source: SourceObject
    format: str
    media_type: str
    text: TextRef
    warnings: list[str] = Field(default_factory=list)
    duration_ms: int
    ocr_request: OcrRequest | None = None  # set by prepare: the OCR steps run before the analysis
    ocr: OcrSummary | None = None  # set by the OCR steps
    route: Route | None = None  # set once the text is final (prepare, or the OCR steps): docproc.routing
    cache_key: str | None = None  # set with the route when the content cache is on: docproc.cache
    planned_at: str | None = None  # when route and key were set, "YYYY-MM-DDTHH:MM:SSZ": LookUpCache's "now"
    experiment: ExperimentAssignment | None = None  # set by prepare when an experiment is active (issue 12)


class PrepareInput(WireModel):
    document: DocumentRef


# --- extraction (Bedrock) ------------------------------------------------------------------------------------------


class Evidence(WireModel):
    page: int | None = Field(default=None, description="1-based page the quote was found on (PDF pages)")
    quote: str = Field(description="Verbatim text from the document that contains the value")
    found: bool | None = Field(default=None, description="Whether the quote was found in the document text")


class FieldValue(WireModel):
    """One extracted value with its confidence (after the evidence check) and the evidence for it."""

    value: Any
    confidence: float = Field(ge=0, le=1)
    model_confidence: float | None = Field(default=None, ge=0, le=1, description="What the model stated")
    evidence: Evidence | None = None
    flags: list[str] = Field(default_factory=list, description="quote_not_found, page_corrected, value_not_in_quote")


Fields = dict[str, FieldValue | list[FieldValue]]


class Extraction(WireModel):
    """The generic insights of a tool answer (every class's tool has them besides its ``fields``)."""

    title: str = Field(max_length=300)
    summary: str = Field(max_length=2000)
    language: str = Field(min_length=2, max_length=8)
    domain_hint: Domain
    key_phrases: list[str] = Field(default_factory=list, max_length=25)


class TokenUsage(WireModel):
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cache_read_input_tokens: int | None = Field(default=None, description="Prompt-cache reads, where the model has it")
    cache_write_input_tokens: int | None = Field(default=None, description="Prompt-cache writes")


class ExtractionResult(WireModel):
    document_class: str
    config_version: str
    extraction: Extraction
    fields: Fields | None = None  # None in the record, where the fields sit at the top level
    unverified_fields: list[str] = Field(default_factory=list)
    model_id: str
    usage: TokenUsage
    duration_ms: int
    input_chars: int
    input_truncated: bool = False
    repaired: bool = False
    chunks: int = Field(default=1, ge=1, description="How many chunks the text was extracted in (long documents)")
    chunks_duration_ms: int | None = Field(
        default=None, description="Long documents: the chunk extractions' summed time"
    )


# --- classification (SageMaker) ------------------------------------------------------------------------------------


class ClassificationResult(WireModel):
    domain: str
    confidence: float
    scores: dict[str, float]
    endpoint_name: str
    duration_ms: int
    input_chars: int
    input_truncated: bool = False
    input_sampled: bool = Field(default=False, description="A long text: classified on a sample of the whole")


# --- branch outcomes and merge -------------------------------------------------------------------------------------


class StepError(BaseModel):
    """What a ``Catch`` puts at its ``ResultPath``: ``{"Error": ..., "Cause": ...}``."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    Error: str
    Cause: str | None = None


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


class BranchInput(WireModel):
    document: DocumentRef
    prepared: PreparedDocument


class ExtractionBranch(WireModel):
    status: Literal["SUCCEEDED", "FAILED", "SKIPPED"]  # SKIPPED: the route is classification only
    result: ExtractionResult | None = None
    error: StepError | None = None


class ClassificationBranch(WireModel):
    status: Literal["SUCCEEDED", "FAILED"]
    result: ClassificationResult | None = None
    error: StepError | None = None


class MissingPart(WireModel):
    part: Literal["extraction", "classification"]
    reason_code: str
    message: str


class Agreement(WireModel):
    """Whether the two branches agree on the kind of document."""

    agrees: bool | None
    classified_domain: str | None = None
    extracted_domain: str | None = None
    document_class: str | None = None
    class_domains: list[str] = Field(default_factory=list)
    class_agrees: bool | None = None


class Timings(WireModel):
    prepare_ms: int | None = None
    extract_ms: int | None = None
    classify_ms: int | None = None
    merge_ms: int | None = None
    total_ms: int | None = None


class CostBreakdown(WireModel):
    """USD per part of the bill (docproc.cost: how each is estimated)."""

    bedrock: float = 0.0
    sagemaker: float = 0.0
    textract: float = 0.0
    step_functions: float = 0.0
    lambda_: float = Field(default=0.0, alias="lambda")
    other: float = Field(default=0.0, description="EventBridge events, DynamoDB writes, SQS messages, S3 requests")


class Cost(WireModel):
    """What processing this document cost (an estimate from what it used, at list prices)."""

    total_usd: float = Field(ge=0, description="The sum of the breakdown")
    breakdown: CostBreakdown
    prices_version: str = Field(description="Version of the price table (prices.yaml) used")
    state_transitions: int = Field(default=0, description="Step Functions state transitions counted from the path")
    lambda_gb_seconds: float = Field(default=0.0, description="GB-seconds of the attempt that completed")
    unpriced: list[str] | None = Field(default=None, description="Models not in the price table (counted as 0)")


class ErrorInfo(WireModel):
    reason_code: str
    error_type: str
    message: str
    stage: str | None = None


class InsightRecord(WireModel):
    """One record per document: the DynamoDB item (minus typing) and the result JSON in S3."""

    document_id: str
    status: DocumentStatus
    generation: int
    attempt: int
    execution_name: str | None = None
    source: SourceObject | DocumentRef
    format: str | None = None
    media_type: str | None = None
    classification: ClassificationResult | None = None
    extraction: ExtractionResult | None = None
    document_class: str | None = None
    config_version: str | None = None
    fields: Fields | None = None
    agreement: Agreement | None = None
    confidence: float | None = None
    needs_review: bool = False
    review_reasons: list[str] = Field(default_factory=list)
    partial: bool = False
    missing: list[MissingPart] = Field(default_factory=list)
    model_ids: dict[str, str] = Field(default_factory=dict)
    usage: TokenUsage | None = None
    timings: Timings | None = None
    ocr: OcrSummary | None = None
    route: Route | None = None
    cache: CacheInfo | None = None
    cost: Cost | None = None
    experiment: ExperimentAssignment | None = None
    pii_policy: str | None = Field(default=None, description="EventPiiPolicy applied to this record's event")
    text_uri: str | None = None
    result_uri: str | None = None
    error: ErrorInfo | None = None
    queued_at: datetime | None = None
    completed_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)
