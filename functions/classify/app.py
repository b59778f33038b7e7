"""Classify: SageMaker InvokeEndpoint -> domain, confidence and all scores."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from docproc import aws, observability
from docproc.classification import classify
from docproc.errors import DocprocError, ModelThrottled
from docproc.models import BranchInput, ClassificationBranch, dump
from docproc.settings import Settings
from docproc.storage import read_text

logger = Logger()
tracer = Tracer(patch_modules=("botocore",))  # only what this function calls: patch_all imports http, sqlite3, ...
metrics = Metrics()


@logger.inject_lambda_context(correlation_id_path="document.documentId")
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = Settings.from_env().require("classifier_endpoint_name")
    request = BranchInput.model_validate(event)
    text = read_text(aws.client("s3"), request.prepared.text.uri)
    try:
        result = classify(
            text,
            sagemaker=aws.client("sagemaker-runtime"),
            endpoint_name=settings.classifier_endpoint_name,
            request_format=settings.classifier_request_format,
            response_format=settings.classifier_response_format,
            max_input_chars=settings.max_model_input_chars,
        )
    except DocprocError as exc:
        logger.warning(
            "classification failed", reason_code=exc.reason_code, error_type=type(exc).__name__, error=str(exc)
        )
        if isinstance(exc, ModelThrottled):
            observability.model_throttled("sagemaker")
        raise
    logger.info("classified", domain=result.domain, confidence=result.confidence, duration_ms=result.duration_ms)
    metrics.add_metric(name="Classified", unit=MetricUnit.Count, value=1)
    return dump(ClassificationBranch(status="SUCCEEDED", result=result))
