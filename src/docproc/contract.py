"""The event contract: the ``detail`` of the events docproc publishes on its EventBridge bus (source ``docproc``).

``schemas/*.json`` are generated from these models (``python -m docproc.contract schemas``) and a test
checks the committed files against them. Bump an event's schema version (and its file name's ``vN``) on any
change that is not purely additive. Events carry insights and references, never the document text (the evidence
quotes of extracted fields are short excerpts).

Versions: ``Document Processed`` 2.0 (typed class fields replaced 1.0's generic ``fields`` and ``documentType``),
``Document Processing Failed`` 1.0, ``Document Needs Review`` 1.0.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from docproc.models import (
    Agreement,
    CacheInfo,
    Cost,
    ExperimentRef,
    Fields,
    MissingPart,
    OcrSummary,
    Route,
    SourceObject,
    TokenUsage,
    WireModel,
)

EVENT_SOURCE = "docproc"
PROCESSED = "Document Processed"
FAILED = "Document Processing Failed"
NEEDS_REVIEW = "Document Needs Review"
PROCESSED_VERSION: Literal["2.0"] = "2.0"
FAILED_VERSION: Literal["1.0"] = "1.0"
NEEDS_REVIEW_VERSION: Literal["1.0"] = "1.0"


class PiiApplied(WireModel):
    """What the stack's EventPiiPolicy did to this event (docproc.pii); the record keeps the full values."""

    policy: Literal["keep", "mask", "drop"]
    redacted: dict[str, int] = Field(
        default_factory=dict, description="Findings masked or dropped, per kind: email, phone, ssn, card, name ..."
    )
    dropped_fields: list[str] = Field(default_factory=list, description="drop: fields left out (or items of them)")


class DocumentProcessed(WireModel):
    """Detail of a ``Document Processed`` event."""

    schema_version: Literal["2.0"] = PROCESSED_VERSION
    event_id: str = Field(description="Stable per document, generation and status: de-duplicate on it")
    document_id: str
    generation: int = Field(ge=1, description="Increases with each deliberate re-processing")
    status: Literal["COMPLETED"] = "COMPLETED"
    source: SourceObject
    format: str
    media_type: str
    domain: str | None = Field(description="Classified domain; null when classification is missing")
    domain_confidence: float | None = None
    document_class: str | None = Field(description="From extraction; null when extraction is missing")
    config_version: str | None = Field(description="Version of the document-class configuration used")
    title: str | None = None
    summary: str | None = None
    language: str | None = None
    fields: Fields | None = Field(
        description="The class's fields: {value, confidence, evidence{page, quote, found}, flags}, lists per item"
    )
    agreement: Agreement
    confidence: float = Field(ge=0, le=1)
    needs_review: bool = Field(description="True when confidence is below the stack's review threshold")
    review_reasons: list[str] = Field(default_factory=list)
    partial: bool = Field(description="True when one branch failed; `missing` says which and why")
    missing: list[MissingPart] = Field(default_factory=list)
    usage: TokenUsage | None = None
    model_ids: dict[str, str] = Field(default_factory=dict)
    result_uri: str = Field(description="s3:// URI of the full result JSON")
    text_uri: str = Field(description="s3:// URI of the extracted text")
    ocr: OcrSummary | None = Field(default=None, description="Pages read by OCR and their mean confidence")
    cost: Cost | None = Field(default=None, description="Estimated USD: total, breakdown and price-table version")
    route: Route | None = Field(default=None, description="The routing rule the document matched (routes.yaml)")
    cache: CacheInfo | None = Field(default=None, description="Content cache: hit (models skipped) or miss")
    experiment: ExperimentRef | None = Field(default=None, description="The A/B experiment variant, when assigned")
    pii: PiiApplied | None = Field(default=None, description="The PII policy applied to title, summary and fields")
    completed_at: datetime


class FailedSource(WireModel):
    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None
    size: int | None = None


class DocumentProcessingFailed(WireModel):
    """Detail of a ``Document Processing Failed`` event."""

    schema_version: Literal["1.0"] = FAILED_VERSION
    event_id: str
    document_id: str
    generation: int = Field(ge=1)
    status: Literal["FAILED"] = "FAILED"
    source: FailedSource
    reason_code: str = Field(description="See docproc.errors.ReasonCode")
    error_type: str = Field(description="The error class or Step Functions error name")
    message: str
    attempts: int = Field(ge=1)
    dead_lettered: bool = Field(description="True when retries ran out and a reprocess request is in the DLQ")
    failed_at: datetime


class DocumentNeedsReview(WireModel):
    """Detail of a ``Document Needs Review`` event (published after ``Document Processed`` for the same record)."""

    schema_version: Literal["1.0"] = NEEDS_REVIEW_VERSION
    event_id: str = Field(description="Stable per document and generation: de-duplicate on it")
    document_id: str
    generation: int = Field(ge=1)
    source: SourceObject
    document_class: str | None
    config_version: str | None
    domain: str | None
    confidence: float = Field(ge=0, le=1)
    review_threshold: float = Field(ge=0, le=1)
    review_reasons: list[str] = Field(description="low_confidence, partial, unverified_fields, branches_disagree, ...")
    unverified_fields: list[str] = Field(default_factory=list, description="Fields whose evidence was not found")
    result_uri: str
    completed_at: datetime


SCHEMA_FILES: dict[str, type[WireModel]] = {
    "document-processed.v2.json": DocumentProcessed,
    "document-processing-failed.v1.json": DocumentProcessingFailed,
    "document-needs-review.v1.json": DocumentNeedsReview,
}
DETAIL_TYPES: dict[type[WireModel], str] = {
    DocumentProcessed: PROCESSED,
    DocumentProcessingFailed: FAILED,
    DocumentNeedsReview: NEEDS_REVIEW,
}


def json_schema(model: type[WireModel]) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True, mode="serialization")
    detail_type = DETAIL_TYPES[model]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://docproc.dev/schemas/{next(k for k, v in SCHEMA_FILES.items() if v is model)}",
        "x-event-source": EVENT_SOURCE,
        "x-detail-type": detail_type,
        **schema,
    }


def render(model: type[WireModel]) -> str:
    return json.dumps(json_schema(model), indent=2, sort_keys=True) + "\n"


def write_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in SCHEMA_FILES.items():
        path = folder / name
        path.write_text(render(model), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # python -m docproc.contract schemas
    for path in write_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "schemas")):
        print(path)
