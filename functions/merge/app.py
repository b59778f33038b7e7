"""Merge: one insight record per document (DynamoDB item + result JSON in S3) and the event detail."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from docproc import aws
from docproc.merge import MergeInput, merge
from docproc.models import dump
from docproc.settings import Settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(correlation_id_path="document.documentId")
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = Settings.from_env().require("artifacts_bucket")
    request = MergeInput.model_validate(event)
    output = merge(
        request,
        s3=aws.client("s3"),
        artifacts_bucket=settings.artifacts_bucket,
        review_threshold=settings.review_threshold,
    )
    detail = output.event
    logger.info(
        "merged",
        domain=detail.get("domain"),
        document_class=detail.get("documentClass"),
        config_version=detail.get("configVersion"),
        confidence=detail.get("confidence"),
        needs_review=output.needs_review,
        partial=detail.get("partial"),
        agrees=detail.get("agreement", {}).get("agrees"),
    )
    metrics.add_metric(name="DocumentsCompleted", unit=MetricUnit.Count, value=1)
    if detail.get("partial"):
        metrics.add_metric(name="DocumentsPartial", unit=MetricUnit.Count, value=1)
    if output.needs_review:
        metrics.add_metric(name="DocumentsNeedingReview", unit=MetricUnit.Count, value=1)
    return dump(output)
