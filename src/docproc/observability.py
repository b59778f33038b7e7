"""Metrics that the template's dashboard and alarms read, published with their own dimensions.

Powertools' ``Metrics`` gives every metric of one invocation the same dimensions (merge's are ``service``, ``domain``
and ``class``). A CloudWatch alarm cannot add up series of different dimensions (``SEARCH`` is not allowed in
alarms), so the series an alarm or a percentile needs are published once more on their own, as one EMF record each
(``single_metric``): with ``service`` only, or ``service`` plus one dimension of bounded values (``reason``, a reason
code; ``model``, one of :data:`MODELS`). Namespace and ``service`` come from ``POWERTOOLS_METRICS_NAMESPACE`` and
``POWERTOOLS_SERVICE_NAME``, as for every other metric.
"""

from __future__ import annotations

from typing import Literal

from aws_lambda_powertools.metrics import MetricUnit, single_metric

Model = Literal["bedrock", "sagemaker", "textract"]
MODELS: tuple[Model, ...] = ("bedrock", "sagemaker", "textract")


def _publish(name: str, unit: MetricUnit, value: float, dimensions: dict[str, str] | None = None) -> None:
    with single_metric(name=name, unit=unit, value=value) as metric:
        for key, dimension in (dimensions or {}).items():
            metric.add_dimension(name=key, value=dimension)


def document_failed(reason_code: str) -> None:
    """``DocumentsFailed`` by ``reason`` (the dashboard's breakdown); the total goes through the handler's Metrics."""
    _publish("DocumentsFailed", MetricUnit.Count, 1, {"reason": reason_code})


def document_completed(processing_ms: float | None) -> None:
    """``DocumentsCompleted`` and ``ProcessingTime`` with ``service`` only: the failure rate and p50/p95 latency."""
    _publish("DocumentsCompleted", MetricUnit.Count, 1)
    if processing_ms is not None:
        _publish("ProcessingTime", MetricUnit.Milliseconds, processing_ms)


def model_throttled(model: Model) -> None:
    """``ModelThrottles`` by ``model``: a throttled call (after the client's own retries) to Bedrock, SageMaker or
    Textract; the state machine retries it."""
    _publish("ModelThrottles", MetricUnit.Count, 1, {"model": model})
