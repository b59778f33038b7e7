"""docproc's domain classifier behind the SageMaker scikit-learn container's inference contract.

This file is ``code/inference.py`` inside ``model.tar.gz``. The container (image ``sagemaker-scikit-learn``,
scikit-learn 1.4.2) imports it because the model sets ``SAGEMAKER_PROGRAM=inference.py`` and
``SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code``, calls :func:`model_fn` once with ``/opt/ml/model`` and then, per
request, :func:`input_fn` -> :func:`predict_fn` -> :func:`output_fn`. docproc's local SageMaker stand-in loads the
very same file from the very same archive, so there is one implementation of serving.

Requests (what docproc's classify function sends, see ``ClassifierRequestFormat``):

* ``hf``: ``application/json`` ``{"inputs": "<text>"}`` (or a list of texts);
* ``json``: ``application/json`` ``{"text": "<text>"}`` (or a list); a bare JSON string or list of strings too;
* ``text``: ``text/plain`` with the raw UTF-8 text.

Answer: ``application/json``, the Hugging Face text-classification shape with every label, best first:
``[{"label": "legal", "score": 0.91}, {"label": "general", "score": 0.04}, ...]`` (a list of those for a list of
texts). Scores are calibrated probabilities that sum to 1.

Bad requests never crash the worker: :func:`input_fn` returns a :class:`Rejection` instead of raising (the container
turns any exception in user code into a 500), and :func:`output_fn` answers it with its 4xx status and
``{"error": ..., "message": ...}``: 400 for an empty text, a body that is not UTF-8, bad JSON or a wrong shape,
413 for too many texts, 415 for an unknown content type, 406 for an ``Accept`` other than JSON.

Only the standard library, joblib and scikit-learn are used: this file must import inside the container as it is.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib

MODEL_FILE = "model.joblib"
METADATA_FILE = "model.json"
MODEL_FORMAT = "docproc-domain-classifier/2"
#: A long text is classified as at most ``MAX_WINDOWS`` windows of ``WINDOW_CHARS`` (the first at its start, the
#: others evenly spaced to its end) whose probabilities are averaged: each part of the document gets a vote, so a
#: first page of boilerplate or one licence notice does not decide, and the cost per request stays bounded.
WINDOW_CHARS = 2_500
MAX_WINDOWS = 8
#: What training reads of one (short) corpus document: the same bound as a whole request.
MAX_CLASSIFIED_CHARS = WINDOW_CHARS * MAX_WINDOWS
MAX_TEXTS_PER_REQUEST = 64

JSON_TYPES = ("application/json", "text/json", "application/x-json")
TEXT_TYPES = ("text/plain", "text/x-text", "application/x-text")

try:  # inside the SageMaker container: answer with the framework's own (Flask) response class
    from sagemaker_containers.beta.framework import worker as _framework_worker
except ImportError:  # anywhere else (docproc's local stand-in, tests)
    _framework_worker = None

_DIGITS = re.compile(r"\d")
_SPACE = re.compile(r"\s+")


# --- text preparation: shared by training and serving, so both see the same features ---------------------------


def windows(text: str, width: int = WINDOW_CHARS, most: int = MAX_WINDOWS) -> list[str]:
    """``text`` itself if it fits in one and a half windows, else up to ``most`` windows of ``width`` characters:
    the first at the start, the last at the end, the others evenly spaced between (never overlapping more than
    needed to cover a text shorter than ``most`` windows)."""
    if len(text) <= width * 3 // 2:
        return [text]
    count = min(most, -(-len(text) // width))
    stride = (len(text) - width) / (count - 1)
    return [text[round(i * stride) : round(i * stride) + width] for i in range(count)]


def sample_text(text: str, max_chars: int = MAX_CLASSIFIED_CHARS) -> str:
    """All of ``text`` if short, else its head (three quarters of the budget) plus eight evenly spaced windows
    (what training reads of an over-long corpus document)."""
    if len(text) <= max_chars:
        return text
    head = max_chars * 3 // 4
    parts = 8
    width = (max_chars - head) // parts
    stride = (len(text) - head - width) // parts
    pieces = [text[:head]]
    pieces.extend(text[head + (i + 1) * stride : head + (i + 1) * stride + width] for i in range(parts))
    return "\n".join(pieces)


def prepare_text(text: str) -> str:
    """What the model reads: a bounded sample, NFKC-normalised, digits mapped to 0 (amounts and dates count by
    their shape, not their value), whitespace collapsed."""
    text = unicodedata.normalize("NFKC", sample_text(text))
    return _SPACE.sub(" ", _DIGITS.sub("0", text)).strip()


def predict_probabilities(pipeline: Any, texts: list[str]) -> Any:
    """One row of label probabilities (in ``pipeline.classes_`` order) per text: the mean over its windows."""
    import numpy as np  # scikit-learn's own dependency: always there when the model loads

    parts = [windows(text) for text in texts]
    flat = [prepare_text(window) for part in parts for window in part]
    probabilities = pipeline.predict_proba(flat)
    rows, start = [], 0
    for part in parts:
        rows.append(probabilities[start : start + len(part)].mean(axis=0))
        start += len(part)
    return np.vstack(rows)


# --- the contract -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Classifier:
    """What :func:`model_fn` returns: the fitted pipeline and the metadata written beside it."""

    pipeline: Any
    labels: tuple[str, ...]
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Texts:
    """A valid request: the texts to classify and whether the caller sent a list."""

    texts: list[str]
    batched: bool


@dataclass(frozen=True)
class Rejection:
    """A request the model cannot serve; :func:`output_fn` answers it with ``status``."""

    status: int
    error: str
    message: str


class Response:
    """Stand-in for the container's Flask response outside the container: same constructor and accessors."""

    def __init__(self, response: bytes = b"", status: int = 200, mimetype: str = "application/json") -> None:
        self.response = response
        self.status_code = status
        self.mimetype = mimetype

    def get_data(self) -> bytes:
        return self.response


def model_fn(model_dir: str) -> Classifier:
    """Load the pipeline saved by ``docproc classifier train`` from ``model_dir`` (the archive's root)."""
    metadata = json.loads((Path(model_dir) / METADATA_FILE).read_text(encoding="utf-8"))
    if metadata.get("format") != MODEL_FORMAT:
        raise ValueError(f"{METADATA_FILE} has format {metadata.get('format')!r}; this code serves {MODEL_FORMAT!r}")
    pipeline = joblib.load(Path(model_dir) / MODEL_FILE)
    labels = tuple(str(label) for label in pipeline.classes_)
    if list(labels) != list(metadata.get("labels", labels)):
        raise ValueError(f"the model's labels {labels} differ from {METADATA_FILE}'s {metadata.get('labels')}")
    return Classifier(pipeline=pipeline, labels=labels, metadata=metadata)


def input_fn(request_body: Any, request_content_type: str | None) -> Texts | Rejection:
    """Decode a request into texts, or a :class:`Rejection` saying exactly what is wrong with it."""
    media_type = (request_content_type or "application/json").split(";")[0].strip().lower()
    if media_type not in JSON_TYPES + TEXT_TYPES:
        return Rejection(
            415,
            "UnsupportedContentType",
            f"content type {media_type!r} is not supported; send application/json "
            '({"inputs": text} or {"text": text}) or text/plain',
        )
    if isinstance(request_body, bytes | bytearray):
        try:
            body = bytes(request_body).decode("utf-8")
        except UnicodeDecodeError as error:
            return Rejection(400, "InvalidEncoding", f"the request body is not UTF-8 (byte {error.start})")
    elif isinstance(request_body, str):
        body = request_body
    else:
        return Rejection(400, "InvalidBody", f"unexpected request body of type {type(request_body).__name__}")
    body = body.removeprefix("\ufeff")
    if media_type in TEXT_TYPES:
        return _checked([body], batched=False)
    try:
        payload = json.loads(body)
    except ValueError as error:
        return Rejection(400, "InvalidJSON", f"the request body is not valid JSON: {error}")
    except RecursionError:  # the same body fails the same way: a client error, not the container's
        return Rejection(400, "InvalidJSON", "the request body is JSON nested too deeply to parse")
    if isinstance(payload, dict):
        key = next((k for k in ("inputs", "text") if k in payload), None)
        if key is None:
            return Rejection(400, "InvalidRequest", 'expected {"inputs": text} or {"text": text}')
        payload = payload[key]
    if isinstance(payload, str):
        return _checked([payload], batched=False)
    if isinstance(payload, list) and payload and all(isinstance(item, str) for item in payload):
        return _checked(payload, batched=True)
    return Rejection(400, "InvalidRequest", "the text must be a string or a non-empty list of strings")


@dataclass(frozen=True)
class Prediction:
    """Every label with its probability, best first, per text; ``batched`` as in the request."""

    results: list[list[dict[str, Any]]]
    batched: bool


def predict_fn(data: Texts | Rejection, model: Classifier) -> Prediction | Rejection:
    """Calibrated probabilities of every label for each text, best first."""
    if isinstance(data, Rejection):
        return data
    probabilities = predict_probabilities(model.pipeline, data.texts)
    results = []
    for row in probabilities:
        ranked = sorted(zip(model.labels, row, strict=True), key=lambda pair: (-pair[1], pair[0]))
        results.append([{"label": label, "score": round(float(score), 6)} for label, score in ranked])
    return Prediction(results=results, batched=data.batched)


def output_fn(prediction: Prediction | Rejection, accept: str | None) -> Any:
    """Serialise for the client: JSON, or the rejection's status and message."""
    media_type = (accept or "application/json").split(";")[0].strip().lower()
    if isinstance(prediction, Rejection):
        return _response(prediction.status, {"error": prediction.error, "message": prediction.message})
    if media_type not in (*JSON_TYPES, "*/*", ""):
        return _response(406, {"error": "NotAcceptable", "message": f"cannot answer in {media_type!r}; accept JSON"})
    return _response(200, prediction.results if prediction.batched else prediction.results[0])


def _checked(texts: list[str], *, batched: bool) -> Texts | Rejection:
    if len(texts) > MAX_TEXTS_PER_REQUEST:
        return Rejection(413, "TooManyTexts", f"{len(texts)} texts in one request; at most {MAX_TEXTS_PER_REQUEST}")
    for index, text in enumerate(texts):
        if not text.strip():
            where = f"text {index}" if batched else "the text"
            return Rejection(400, "EmptyText", f"{where} is empty: there is nothing to classify")
    return Texts(texts=texts, batched=batched)


def _response(status: int, payload: Any) -> Any:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    if _framework_worker is not None:
        return _framework_worker.Response(response=body, status=status, mimetype="application/json")
    return Response(response=body, status=status, mimetype="application/json")
