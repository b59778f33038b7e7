"""Branch B: domain classification with a SageMaker endpoint (``InvokeEndpoint``).

Request formats: ``hf`` -> ``{"inputs": text}`` (HuggingFace text-classification containers), ``json`` ->
``{"text": text}``, ``text`` -> the raw text as ``text/plain``. Response formats: ``hf`` ->
``[{"label", "score"}]`` (also nested one level, as some containers return), ``plain`` ->
``{"label": ..., "scores": {label: score}}`` (or ``scores`` as a list of ``{"label","score"}``); ``auto``
accepts either.
"""

from __future__ import annotations

import json
import time
from typing import Any

from docproc import errors
from docproc.aws import MODEL_CALL_ERRORS, model_error
from docproc.chunks import sample
from docproc.models import ClassificationResult

REQUEST_FORMATS = ("hf", "json", "text")
RESPONSE_FORMATS = ("auto", "hf", "plain")


def build_request(text: str, request_format: str) -> tuple[bytes, str]:
    if request_format == "hf":
        return json.dumps({"inputs": text}).encode(), "application/json"
    if request_format == "json":
        return json.dumps({"text": text}).encode(), "application/json"
    if request_format == "text":
        return text.encode("utf-8"), "text/plain; charset=utf-8"
    raise ValueError(f"unknown classifier request format {request_format!r}; expected one of {REQUEST_FORMATS}")


def parse_scores(payload: Any, response_format: str) -> dict[str, float]:
    """Label -> score from either supported response shape; raises ModelOutputInvalid on anything else."""
    if response_format not in RESPONSE_FORMATS:
        raise ValueError(f"unknown classifier response format {response_format!r}; expected one of {RESPONSE_FORMATS}")
    scores: dict[str, float] | None = None
    if response_format in ("auto", "hf") and isinstance(payload, list):
        items = payload[0] if payload and isinstance(payload[0], list) else payload
        scores = _label_score_list(items)
    elif response_format in ("auto", "plain") and isinstance(payload, dict):
        raw = payload.get("scores")
        if isinstance(raw, dict):
            scores = {str(k): _num(v) for k, v in raw.items()}
        elif isinstance(raw, list):
            scores = _label_score_list(raw)
        elif "label" in payload:
            scores = {str(payload["label"]): _num(payload.get("score", 1.0))}
    if not scores:
        raise errors.ModelOutputInvalid(f"classifier response is not in the {response_format!r} format")
    return {label.strip().lower(): score for label, score in scores.items()}


def classify(
    text: str,
    *,
    sagemaker: Any,
    endpoint_name: str,
    request_format: str,
    response_format: str,
    max_input_chars: int,
) -> ClassificationResult:
    started = time.perf_counter()
    document_text = sample(text, max_input_chars)  # a long text: its start plus windows over the whole
    body, content_type = build_request(document_text, request_format)
    try:
        response = sagemaker.invoke_endpoint(
            EndpointName=endpoint_name, ContentType=content_type, Accept="application/json", Body=body
        )
        raw = response["Body"].read()
    except MODEL_CALL_ERRORS as exc:
        raise model_error(exc, f"sagemaker invoke_endpoint {endpoint_name}") from exc
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # the model answers this text the same way every time
        raise errors.ModelOutputInvalid(f"classifier returned non-JSON ({len(raw)} bytes)") from exc
    scores = parse_scores(payload, response_format)
    domain = max(scores, key=lambda label: (scores[label], label == "general"))  # a tie says nothing: general
    return ClassificationResult(
        domain=domain,
        confidence=round(scores[domain], 4),
        scores={k: round(v, 4) for k, v in sorted(scores.items(), key=lambda kv: -kv[1])},
        endpoint_name=endpoint_name,
        duration_ms=int((time.perf_counter() - started) * 1000),
        input_chars=len(document_text),
        input_sampled=len(text) > max_input_chars,
    )


def _label_score_list(items: Any) -> dict[str, float] | None:
    if not isinstance(items, list) or not all(isinstance(i, dict) and "label" in i for i in items):
        return None
    return {str(i["label"]): _num(i.get("score")) for i in items}


def _num(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise errors.ModelOutputInvalid(f"classifier score {value!r} is not a number") from exc
    if not 0.0 <= number <= 1.0:
        raise errors.ModelOutputInvalid(f"classifier score {number} is outside [0, 1]")
    return number
