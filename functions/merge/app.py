"""Merge: one insight record per document (DynamoDB item + result JSON in S3), the event detail and its metrics."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer, single_metric
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from docproc import aws, classes, observability
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


def write_through(table: str, item: dict[str, Any]) -> None:
    """Offer a complete result to the content cache. Best effort: the document never fails over its cache entry."""
    try:
        aws.client("dynamodb").put_item(TableName=table, Item=item)
    except (ClientError, BotoCoreError) as exc:
        logger.warning("cache write failed", error_type=type(exc).__name__, error=str(exc))
        metrics.add_metric(name="CacheWriteErrors", unit=MetricUnit.Count, value=1)


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
        deployment=Deployment(
            classifier_memory_mb=settings.classifier_memory_mb, architecture="arm64"
        ),  # template.yaml
        cache_ttl_days=settings.cache_ttl_days,
        pii_policy=settings.event_pii_policy,
    )
    if output.cache_item is not None and settings.cache_table:
        write_through(settings.cache_table, output.cache_item)
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
        route=(detail.get("route") or {}).get("name"),
        cache=(detail.get("cache") or {}).get("status"),
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
    cache = detail.get("cache") or {}
    if cache.get("status") == "hit":
        metrics.add_metric(name="CacheHits", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="CacheSavedCost", unit=MetricUnit.NoUnit, value=cache.get("savedUsd") or 0.0)  # USD
    elif cache.get("status") == "miss":
        metrics.add_metric(name="CacheMisses", unit=MetricUnit.Count, value=1)
    experiment_metrics(detail, total_ms, output.needs_review)
    observability.document_completed(total_ms)
    return dump(output)


def experiment_metrics(detail: dict[str, Any], total_ms: Any, needs_review: bool) -> None:
    """Experiments (issue 12): the same metrics in a dimension set of their own, ``experiment`` + ``variant``."""
    experiment = detail.get("experiment")
    if not experiment:
        return
    dimensions = {"experiment": experiment["name"], "variant": experiment["variant"]}
    cost = detail.get("cost") or {}
    values: list[tuple[str, str, float]] = [("DocumentsCompleted", MetricUnit.Count, 1)]
    if cost:
        values.append(("EstimatedCost", MetricUnit.NoUnit, cost["totalUsd"]))
    if total_ms is not None:
        values.append(("ProcessingTime", MetricUnit.Milliseconds, total_ms))
    usage = detail.get("usage") or {}
    if usage:
        values.append(("InputTokens", MetricUnit.Count, usage.get("inputTokens", 0)))
        values.append(("OutputTokens", MetricUnit.Count, usage.get("outputTokens", 0)))
    values.append(("DocumentsNeedingReview", MetricUnit.Count, 1 if needs_review else 0))
    for name, unit, value in values:
        with single_metric(name=name, unit=unit, value=value, default_dimensions=dimensions) as metric:
            metric.add_metadata(key="documentId", value=detail.get("documentId", ""))
