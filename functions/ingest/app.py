"""Ingest: SQS intake batch -> at most one Step Functions execution per document attempt."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from docproc import aws, observability
from docproc.errors import ReasonCode
from docproc.intake import Ingestor, InvalidIntakeMessage, Outcome, parse_intake_message
from docproc.leases import LeasePool
from docproc.settings import Settings

logger = Logger()
tracer = Tracer(patch_modules=("botocore",))  # only what this function calls: patch_all imports http, sqlite3, ...
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


def _ingestor() -> tuple[Ingestor, LeasePool]:
    settings = Settings.from_env().require(
        "results_table",
        "lease_table",
        "state_machine_arn",
        "intake_queue_url",
        "dead_letter_queue_url",
        "event_bus_name",
    )
    dynamodb = aws.client("dynamodb")
    leases = LeasePool(
        dynamodb=dynamodb,
        table=settings.lease_table,
        size=settings.max_in_flight,
        lease_seconds=settings.lease_seconds,
    )
    ingestor = Ingestor(
        dynamodb=dynamodb,
        sfn=aws.client("stepfunctions"),
        sqs=aws.client("sqs"),
        results_table=settings.results_table,
        state_machine_arn=settings.state_machine_arn,
        intake_queue_url=settings.intake_queue_url,
        events=aws.client("events"),
        event_bus_name=settings.event_bus_name,
        dead_letter_queue_url=settings.dead_letter_queue_url,
        leases=leases,
        input_prefix=settings.input_prefix,
        max_attempts=settings.max_attempts,
    )
    return ingestor, leases


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    ingestor, leases = _ingestor()

    def record_handler(record: SQSRecord) -> None:
        try:
            messages = parse_intake_message(record.body)
        except InvalidIntakeMessage as exc:
            logger.exception("poison intake message", message_id=record.message_id, error=str(exc))
            metrics.add_metric(name="PoisonMessages", unit=MetricUnit.Count, value=1)
            raise
        for message in messages:
            outcome = ingestor.ingest(message, record.body)
            logger.info(
                "ingested",
                document_id=message.document.document_id,
                kind=message.kind,
                generation=message.generation,
                attempt=message.attempt,
                outcome=outcome.value,
            )
            metrics.add_metric(name=f"Ingest{outcome.value.title()}", unit=MetricUnit.Count, value=1)
            if outcome is Outcome.STARTED and message.attempt == 1:
                metrics.add_metric(name="DocumentsReceived", unit=MetricUnit.Count, value=1)
            elif outcome is Outcome.FAILED:  # its execution died and no attempts were left
                metrics.add_metric(name="DocumentsFailed", unit=MetricUnit.Count, value=1)
                observability.document_failed(ReasonCode.RETRIES_EXHAUSTED)

    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    # The gauge behind the lease-saturation alarm: leases held after this batch (MaxInFlightDocuments = saturated).
    metrics.add_metric(name="InFlightDocuments", unit=MetricUnit.Count, value=leases.in_use())
    return response
