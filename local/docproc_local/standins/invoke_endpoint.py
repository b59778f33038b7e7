"""The SageMaker Runtime ``InvokeEndpoint`` stand-in: a text-classification endpoint around an injected scorer.

Requests: ``{"inputs": "text"}`` (Hugging Face text-classification, also a list of texts), ``{"text": "..."}``, a
JSON string, or a raw ``text/plain`` body. Answers, per endpoint:

* ``hf``: ``[{"label": "legal", "score": 0.91}, ...]``, every label, highest score first (``parameters.top_k``
  keeps the first k);
* ``plain``: ``{"label": "legal", "scores": {"legal": 0.91, ...}}``.

What the container would reject (bad JSON, unsupported content type, a scorer that fails) comes back as
``ModelError`` (424) with ``OriginalStatusCode``, like the service reports errors of the model container.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from docproc_local.standins.errors import ServiceError, sagemaker_error

Classify = Callable[[str], Mapping[str, float]]
RESPONSE_FORMATS = ("hf", "plain")
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
ACCOUNT_ID = "000000000000"

_ENDPOINT_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_JSON_TYPES = ("application/json", "application/x-json", "text/json")
_TEXT_TYPES = ("text/plain", "application/x-text", "text/x-text")


@dataclass(frozen=True)
class Invocation:
    endpoint_name: str
    texts: list[str]
    batched: bool  # the request sent a list of texts
    top_k: int | None
    content_type: str


def _model_error(message: str, original_status: int) -> ServiceError:
    return sagemaker_error(
        "ModelError",
        f'Received client error ({original_status}) from primary with message "{message}". See '
        f"https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logEventViewer:group="
        f"/aws/sagemaker/Endpoints/local in account {ACCOUNT_ID} for more information.",
        OriginalStatusCode=original_status,
        OriginalMessage=message,
        LogStreamArn=f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:/aws/sagemaker/Endpoints/local",
    )


def parse_invocation(
    endpoint_name: str, body: bytes, content_type: str | None, *, endpoints: frozenset[str] | None = None
) -> Invocation:
    if not _ENDPOINT_NAME_RE.match(endpoint_name):
        raise sagemaker_error(
            "ValidationError",
            f"1 validation error detected: Value '{endpoint_name}' at 'endpointName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9])*",
        )
    if endpoints is not None and endpoint_name not in endpoints:
        raise sagemaker_error("ValidationError", f"Endpoint {endpoint_name} of account {ACCOUNT_ID} not found.")
    if len(body) > MAX_PAYLOAD_BYTES:
        raise sagemaker_error("ValidationError", f"Request payload is larger than {MAX_PAYLOAD_BYTES} bytes.")
    media_type = (content_type or "").split(";")[0].strip().lower()
    try:
        raw = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _model_error("The request body is not UTF-8 text.", 400) from error
    looks_json = raw.lstrip()[:1] in ("{", "[", '"')
    if media_type in _TEXT_TYPES or (
        media_type in ("", "application/octet-stream", "binary/octet-stream") and not looks_json
    ):
        return Invocation(endpoint_name, [raw], False, None, media_type or "text/plain")
    if media_type not in (*_JSON_TYPES, "", "application/octet-stream", "binary/octet-stream"):
        raise _model_error(f"Content type {media_type} is not supported by this model.", 415)
    try:
        payload = json.loads(raw)
    except ValueError as error:
        raise _model_error("The request body is not valid JSON.", 400) from error
    top_k = None
    if isinstance(payload, dict):
        parameters = payload.get("parameters")
        if isinstance(parameters, dict) and isinstance(parameters.get("top_k"), int) and parameters["top_k"] > 0:
            top_k = parameters["top_k"]
        payload = payload.get("inputs", payload.get("text", payload.get("instances")))
    if isinstance(payload, str):
        return Invocation(endpoint_name, [payload], False, top_k, media_type or "application/json")
    if isinstance(payload, list) and payload and all(isinstance(item, str) for item in payload):
        return Invocation(endpoint_name, payload, True, top_k, media_type or "application/json")
    raise _model_error('Expected {"inputs": "<text>"}, {"text": "<text>"} or a list of texts.', 400)


def _scores(classify: Classify, text: str) -> dict[str, float]:
    try:
        raw = classify(text)
    except Exception as error:  # any failure of the model code is the container's 5xx
        raise _model_error(f"The model failed: {type(error).__name__}: {error}", 500) from error
    try:
        scores = {str(label): float(score) for label, score in dict(raw).items()}
    except (TypeError, ValueError) as error:
        raise _model_error("The model returned something other than a score per label.", 500) from error
    if not scores or not all(math.isfinite(score) for score in scores.values()):
        raise _model_error("The model returned no usable scores.", 500)
    return scores


def respond(invocation: Invocation, classify: Classify, response_format: str) -> bytes:
    """The response body for ``invocation`` in ``response_format`` (``hf`` or ``plain``)."""
    results: list[Any] = []
    for text in invocation.texts:
        scores = _scores(classify, text)
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        if response_format == "hf":
            ranked = ranked[: invocation.top_k] if invocation.top_k else ranked
            results.append([{"label": label, "score": round(score, 6)} for label, score in ranked])
        else:
            results.append({"label": ranked[0][0], "scores": {label: round(score, 6) for label, score in ranked}})
    return json.dumps(results if invocation.batched else results[0]).encode()
