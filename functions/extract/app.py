"""Extract: Bedrock Converse with one tool per document class; validated, evidence-checked fields and token usage.

Three kinds of input: a document (extract it, or answer CHUNKED with a plan when its text is over the model input
limit), one chunk of a long document (extract it, result to S3), and the chunk results (combine them).
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from docproc import aws, chunks, classes, errors, experiments, observability
from docproc.errors import DocprocError, ModelThrottled
from docproc.extraction import Guardrail, extract
from docproc.models import BranchInput, ExperimentAssignment, ExtractionBranch, PreparedDocument, dump
from docproc.settings import Settings
from docproc.storage import read_text

logger = Logger()
tracer = Tracer(patch_modules=("botocore",))  # only what this function calls: patch_all imports http, sqlite3, ...
metrics = Metrics()


def model_for(prepared: PreparedDocument, settings: Settings) -> str:
    """The model the document's route chose (config/routes.yaml), else the stack's BedrockModelId."""
    route = prepared.route
    return route.model_id if route is not None and route.model_id else settings.bedrock_model_id


@logger.inject_lambda_context(correlation_id_path="document.documentId")
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = Settings.from_env().require("bedrock_model_id")
    if "chunk" in event:
        return _extract_chunk(chunks.ChunkTask.model_validate(event), settings)
    if "chunkResults" in event:
        return _combine(chunks.CombineTask.model_validate(event))
    request = BranchInput.model_validate(event)
    text = read_text(aws.client("s3"), request.prepared.text.uri)
    if len(text) > settings.max_model_input_chars:
        plan = chunks.plan(text, settings.max_model_input_chars)
        logger.info("chunked", chars=len(text), chunks=len(plan.chunks), dropped_chars=plan.dropped_chars)
        metrics.add_metric(name="DocumentsChunked", unit=MetricUnit.Count, value=1)
        answer = chunks.ChunkedBranch(plan=plan, chunks=plan.chunks, max_concurrency=settings.max_chunk_concurrency)
        return dump(answer)
    try:
        result = extract(
            text,
            bedrock=aws.client("bedrock-runtime"),
            model_id=experiments.model_id(request.prepared.experiment, model_for(request.prepared, settings)),
            max_input_chars=settings.max_model_input_chars,
            **model_options(request.prepared.experiment, settings),
        )
    except DocprocError as exc:
        logger.warning("extraction failed", reason_code=exc.reason_code, error_type=type(exc).__name__, error=str(exc))
        if isinstance(exc, ModelThrottled):
            observability.model_throttled("bedrock")
        raise
    logger.info(
        "extracted",
        document_class=result.document_class,
        config_version=result.config_version,
        fields=len(result.fields or {}),
        unverified_fields=result.unverified_fields,
        model_id=result.model_id,
        experiment=request.prepared.experiment.name if request.prepared.experiment else None,
        variant=request.prepared.experiment.variant if request.prepared.experiment else None,
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


def model_options(assignment: ExperimentAssignment | None, settings: Settings) -> dict[str, Any]:
    """Experiments (issue 12): the variant's temperature, class configuration and prompt; plus the guardrail."""
    try:
        config = experiments.class_config(assignment)
        prompt = experiments.system_prompt(assignment, config.system_prompt)
    except (classes.ClassConfigError, experiments.ExperimentConfigError) as exc:
        raise errors.ConfigurationInvalid(str(exc)) from exc
    return {
        "config": config,
        "temperature": experiments.temperature(assignment),
        "system_prompt": prompt,
        "guardrail": Guardrail.from_settings(settings.guardrail_id, settings.guardrail_version),
    }


def _extract_chunk(task: chunks.ChunkTask, settings: Settings) -> dict[str, Any]:
    s3 = aws.client("s3")
    text = read_text(s3, task.prepared.text.uri)
    try:
        output = chunks.extract_chunk(
            task,
            text,
            bedrock=aws.client("bedrock-runtime"),
            model_id=experiments.model_id(task.prepared.experiment, model_for(task.prepared, settings)),
            s3=s3,
            bucket=settings.require("artifacts_bucket").artifacts_bucket,
            **model_options(task.prepared.experiment, settings),
        )
    except DocprocError as exc:
        logger.warning("chunk extraction failed", chunk=task.chunk.index, reason_code=exc.reason_code, error=str(exc))
        if isinstance(exc, ModelThrottled):
            observability.model_throttled("bedrock")
        raise
    logger.info("extracted chunk", chunk=task.chunk.index, document_class=output.document_class)
    return dump(output)


def _combine(task: chunks.CombineTask) -> dict[str, Any]:
    result = chunks.combine_chunks(task, s3=aws.client("s3"), started=time.perf_counter())
    logger.info(
        "combined chunks",
        chunks=result.chunks,
        document_class=result.document_class,
        fields=len(result.fields or {}),
        input_tokens=result.usage.input_tokens,
        input_truncated=result.input_truncated,
    )
    metrics.add_metric(name="InputTokens", unit=MetricUnit.Count, value=result.usage.input_tokens)
    metrics.add_metric(name="OutputTokens", unit=MetricUnit.Count, value=result.usage.output_tokens)
    return dump(ExtractionBranch(status="SUCCEEDED", result=result))
