"""Triage: the failure path's decision - requeue with a delay, or FAILED with a reason code."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from docproc import observability
from docproc.models import dump
from docproc.settings import Settings
from docproc.triage import TriageInput, triage

logger = Logger()
tracer = Tracer(patch_modules=())  # makes no AWS calls: nothing to patch
metrics = Metrics()


@logger.inject_lambda_context(correlation_id_path="document.documentId")
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = Settings.from_env()
    request = TriageInput.model_validate(event)
    decision = triage(
        request, max_attempts=settings.max_attempts, base_delay_seconds=settings.requeue_base_delay_seconds
    )
    logger.warning(
        "triaged",
        action=decision.action,
        reason_code=decision.reason_code,
        error_type=request.error.Error,
        attempt=request.attempt,
        dead_letter=decision.dead_letter,
    )
    metric = "DocumentsRequeued" if decision.action == "REQUEUE" else "DocumentsFailed"
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    if decision.action == "FAIL":
        observability.document_failed(decision.reason_code)
    return dump(decision)
