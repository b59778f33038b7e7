"""Merge: one insight record per document (DynamoDB item + result JSON in S3), the event detail and its metrics."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from docproc import aws, classes
from docproc.cost import Deployment
from docproc.merge import MergeInput, merge
from docproc.models import Domain, dump
from docproc.records import from_item
from docproc.settings import Settings

logger = Logger()
tracer = Tracer(patch_modules=("botocore",))  # only what this function calls: patch_all imports http, sqlite3, ...
metrics = Metrics()

OTHER = "other"  # dimension value of a domain or class outside the known set (cardinality stays bounded)
NONE = "none"  # dimension value when the branch that names it is missing


def metric_dimensions(detail: dict[str, Any]) -> dict[str, str]:
    """``domain`` from the fixed domain list, ``class`` from the deployed class configuration."""
    domain = detail.get("domain")
    document_class = detail.get("documentClass")
    try:
        known_classes = set(classes.load().names)
    except classes.ClassConfigError:
        known_classes = set()
    return {
        "domain": NONE if domain is None else domain if domain in {d.value for d in Domain} else OTHER,
        "class": NONE if document_class is None else document_class if document_class in known_classes else OTHER,
    }


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
        deployment=Deployment(classifier_memory_mb=settings.classifier_memory_mb),
    )
    detail = output.event
    cost = detail.get("cost") or {}
    logger.info(
        "merged",
        domain=detail.get("domain"),
        document_class=detail.get("documentClass"),
        config_version=detail.get("configVersion"),
        confidence=detail.get("confidence"),
        needs_review=output.needs_review,
        partial=detail.get("partial"),
        agrees=detail.get("agreement", {}).get("agrees"),
        cost_usd=cost.get("totalUsd"),
    )
    for name, value in metric_dimensions(detail).items():
        metrics.add_dimension(name=name, value=value)
    metrics.add_metric(name="DocumentsCompleted", unit=MetricUnit.Count, value=1)
    if cost:
        metrics.add_metric(name="EstimatedCost", unit=MetricUnit.NoUnit, value=cost["totalUsd"])  # USD
    total_ms = (from_item(output.item).get("timings") or {}).get("totalMs")
    if total_ms is not None:
        metrics.add_metric(name="ProcessingTime", unit=MetricUnit.Milliseconds, value=total_ms)
    if detail.get("partial"):
        metrics.add_metric(name="DocumentsPartial", unit=MetricUnit.Count, value=1)
    if output.needs_review:
        metrics.add_metric(name="DocumentsNeedingReview", unit=MetricUnit.Count, value=1)
    return dump(output)
