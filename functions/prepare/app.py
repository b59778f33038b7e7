"""Prepare: fetch the object, detect its type, extract its text to S3; pass the reference on."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from docproc import aws, planning
from docproc.errors import DocprocError
from docproc.models import PrepareInput, dump
from docproc.prepare import prepare_document
from docproc.settings import Settings

logger = Logger()
tracer = Tracer(patch_modules=("botocore",))  # only what this function calls: patch_all imports http, sqlite3, ...
metrics = Metrics()


@logger.inject_lambda_context(correlation_id_path="document.documentId")
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = Settings.from_env().require("artifacts_bucket")
    request = PrepareInput.model_validate(event)
    try:
        prepared = prepare_document(
            request.document,
            s3=aws.client("s3"),
            artifacts_bucket=settings.artifacts_bucket,
            max_document_bytes=settings.max_document_bytes,
            max_pdf_pages=settings.max_pdf_pages,
            max_ocr_pages=settings.max_ocr_pages,
            ocr=settings.ocr_enabled,
            active_experiment=settings.active_experiment,
        )
        if prepared.ocr_request is None:  # a scan is routed on its OCR'd text, by the OCR step
            prepared = planning.plan(prepared, settings)
    except DocprocError as exc:
        logger.warning("prepare failed", reason_code=exc.reason_code, error_type=type(exc).__name__, error=str(exc))
        raise
    logger.info(
        "prepared",
        format=prepared.format,
        bytes=prepared.source.size,
        chars=prepared.text.chars,
        pages=prepared.text.pages,
        warnings=prepared.warnings,
        ocr_pages=prepared.ocr_request.pages or "all" if prepared.ocr_request else None,
        duration_ms=prepared.duration_ms,
        language=prepared.text.language,
        route=prepared.route.name if prepared.route else None,
        cache_key=prepared.cache_key,
        experiment=prepared.experiment.name if prepared.experiment else None,
        variant=prepared.experiment.variant if prepared.experiment else None,
    )
    metrics.add_metric(name="DocumentBytes", unit=MetricUnit.Bytes, value=prepared.source.size)
    metrics.add_metric(name="TextCharacters", unit=MetricUnit.Count, value=prepared.text.chars)
    return dump(prepared)
