"""Extract: Bedrock Converse with one tool per document class; validated, evidence-checked fields and token usage."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from docproc import aws
from docproc.errors import DocprocError
from docproc.extraction import extract
from docproc.models import BranchInput, ExtractionBranch, dump
from docproc.settings import Settings
from docproc.storage import read_text

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(correlation_id_path="document.documentId")
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = Settings.from_env().require("bedrock_model_id")
    request = BranchInput.model_validate(event)
    text = read_text(aws.client("s3"), request.prepared.text.uri)
    try:
        result = extract(
            text,
            bedrock=aws.client("bedrock-runtime"),
            model_id=settings.bedrock_model_id,
            max_input_chars=settings.max_model_input_chars,
        )
    except DocprocError as exc:
        logger.warning("extraction failed", reason_code=exc.reason_code, error_type=type(exc).__name__, error=str(exc))
        raise
    logger.info(
        "extracted",
        document_class=result.document_class,
        config_version=result.config_version,
        fields=len(result.fields or {}),
        unverified_fields=result.unverified_fields,
        model_id=result.model_id,
        input_tokens=result.usage.input_tokens,
        output_tokens=result.usage.output_tokens,
        repaired=result.repaired,
        input_truncated=result.input_truncated,
        duration_ms=result.duration_ms,
    )
    metrics.add_metric(name="InputTokens", unit=MetricUnit.Count, value=result.usage.input_tokens)
    metrics.add_metric(name="OutputTokens", unit=MetricUnit.Count, value=result.usage.output_tokens)
    if result.unverified_fields:
        metrics.add_metric(name="UnverifiedFields", unit=MetricUnit.Count, value=len(result.unverified_fields))
    if result.repaired:
        metrics.add_metric(name="ExtractionRepaired", unit=MetricUnit.Count, value=1)
    return dump(ExtractionBranch(status="SUCCEEDED", result=result))
