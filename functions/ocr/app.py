"""OCR: Textract for images and PDF pages without a usable text layer (start, then check until done)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from docproc import aws, observability, ocr, planning
from docproc.errors import DocprocError, ModelThrottled
from docproc.models import dump
from docproc.settings import Settings

logger = Logger()
tracer = Tracer(patch_modules=("botocore",))  # only what this function calls: patch_all imports http, sqlite3, ...
metrics = Metrics()


@logger.inject_lambda_context(correlation_id_path="document.documentId")
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    action = event.get("action")
    step = ocr.OcrStepInput.model_validate(event)
    textract, s3 = aws.client("textract"), aws.client("s3")
    try:
        if action == "start":
            token = f"{step.document.document_id}-{event.get('executionName', '')}"[-64:]
            output = ocr.start_step(step, textract=textract, s3=s3, token=token)
        elif action == "check":
            output = ocr.check_step(step, textract=textract, s3=s3)
        else:
            raise ValueError(f"unknown OCR action {action!r}: expected start or check")
        if output.prepared is not None:  # the text is final: route it on what OCR read
            output.prepared = planning.plan(output.prepared, Settings.from_env())
    except DocprocError as exc:
        logger.warning("ocr failed", reason_code=exc.reason_code, error_type=type(exc).__name__, error=str(exc))
        if isinstance(exc, ModelThrottled):
            observability.model_throttled("textract")
        raise
    if output.prepared is not None and output.prepared.ocr is not None:
        summary = output.prepared.ocr
        logger.info("ocr done", mode=summary.mode, pages=len(summary.pages), mean_confidence=summary.mean_confidence)
        metrics.add_metric(name="OcrPages", unit=MetricUnit.Count, value=len(summary.pages))
    else:
        logger.info("ocr running", job_id=output.job.job_id if output.job else None)
    return dump(output)
