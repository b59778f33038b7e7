"""Settings read from the Lambda environment (set by template.yaml). Built per invocation: cheap and test-friendly."""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import BaseModel, Field


class Settings(BaseModel):
    results_table: str = Field("", alias="RESULTS_TABLE")
    lease_table: str = Field("", alias="LEASE_TABLE")
    cache_table: str = Field("", alias="CACHE_TABLE")
    artifacts_bucket: str = Field("", alias="ARTIFACTS_BUCKET")
    state_machine_arn: str = Field("", alias="STATE_MACHINE_ARN")
    intake_queue_url: str = Field("", alias="INTAKE_QUEUE_URL")
    dead_letter_queue_url: str = Field("", alias="DEAD_LETTER_QUEUE_URL")
    event_bus_name: str = Field("", alias="EVENT_BUS_NAME")
    input_prefix: str = Field("", alias="INPUT_PREFIX")
    max_in_flight: int = Field(20, alias="MAX_IN_FLIGHT", ge=1)
    lease_seconds: int = Field(960, alias="LEASE_SECONDS", ge=60)
    max_document_bytes: int = Field(50 * 1024 * 1024, alias="MAX_DOCUMENT_BYTES", ge=1)
    max_pdf_pages: int = Field(3000, alias="MAX_PDF_PAGES", ge=1)  # Textract reads 3,000 pages
    max_ocr_pages: int = Field(500, alias="MAX_OCR_PAGES", ge=1, le=3000)
    ocr_enabled: bool = Field(True, alias="OCR_ENABLED")
    max_model_input_chars: int = Field(60_000, alias="MAX_MODEL_INPUT_CHARS", ge=1_000)
    max_chunk_concurrency: int = Field(4, alias="MAX_CHUNK_CONCURRENCY", ge=1, le=40)
    bedrock_model_id: str = Field("", alias="BEDROCK_MODEL_ID")
    small_bedrock_model_id: str = Field("", alias="SMALL_BEDROCK_MODEL_ID")  # the routes' `model: small`
    cache_ttl_days: int = Field(0, alias="CACHE_TTL_DAYS", ge=0, le=3650)  # 0: the content cache is off
    classifier_model_data_uri: str = Field("", alias="CLASSIFIER_MODEL_DATA_URI")
    classifier_endpoint_name: str = Field("", alias="CLASSIFIER_ENDPOINT_NAME")
    classifier_request_format: str = Field("hf", alias="CLASSIFIER_REQUEST_FORMAT")
    classifier_response_format: str = Field("auto", alias="CLASSIFIER_RESPONSE_FORMAT")
    review_threshold: float = Field(0.6, alias="REVIEW_THRESHOLD", ge=0, le=1)
    classifier_memory_mb: int = Field(2048, alias="CLASSIFIER_MEMORY_MB", ge=1024, le=6144)
    max_attempts: int = Field(3, alias="MAX_ATTEMPTS", ge=1)
    requeue_base_delay_seconds: int = Field(30, alias="REQUEUE_BASE_DELAY_SECONDS", ge=0, le=900)
    active_experiment: str = Field("", alias="ACTIVE_EXPERIMENT")  # experiments (issue 12)
    guardrail_id: str = Field("", alias="GUARDRAIL_ID")  # Bedrock guardrail for Converse (empty: none)
    guardrail_version: str = Field("", alias="GUARDRAIL_VERSION")
    event_pii_policy: Literal["keep", "mask", "drop"] = Field("mask", alias="EVENT_PII_POLICY")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env: dict[str, Any] = dict(os.environ if environ is None else environ)
        return cls.model_validate({k: v for k, v in env.items() if k in _ALIASES})

    def require(self, *names: str) -> Settings:
        missing = [n for n in names if not getattr(self, n)]
        if missing:
            aliases = [self.model_fields[n].alias for n in missing]
            raise RuntimeError(f"missing environment variables: {', '.join(str(a) for a in aliases)}")
        return self


_ALIASES = {f.alias for f in Settings.model_fields.values()}
