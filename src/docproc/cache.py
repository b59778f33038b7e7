"""The content cache: the same text, read under the same configuration and models, is analysed once.

The key (:func:`key_for`) is a SHA-256 over everything the two model branches' answer depends on:

* the extracted text (its SHA-256, after OCR for scans);
* the document-class configuration (the bytes of the deployed file, not only its ``version``, so an edited file
  never reuses an answer given under the old one);
* the route's Bedrock model (or classification only), :data:`docproc.extraction.PROMPT_VERSION` (the prompt and
  tool-building code) and the model input limit (which decides the chunking of a long document);
* an experiment variant's model, prompt version, temperature and class-configuration version;
* the classifier: endpoint name, model artifact URI and request format;
* :data:`KEY_VERSION`, bumped when the cached item's shape changes.

A hit is read by the state machine itself (DynamoDB ``getItem`` in ``LookUpCache``) and skips both branches; merge
builds the record from the cached branch results and says ``cache: {status: hit, sourceDocumentId, savedUsd}``. On
a miss, merge offers the result (:func:`cache_item`) and the ``WriteCache`` state writes it with a TTL. Only
complete results are cached: both branches succeeded (or classification succeeded on a classification-only route),
neither input was cut, and the item fits well within DynamoDB's 400 KB.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from docproc import classes
from docproc.models import ClassificationBranch, ExtractionBranch, PreparedDocument, WireModel, dump
from docproc.records import to_plain_item

KEY_VERSION = "1"
MAX_ITEM_BYTES = 350 * 1024
SECONDS_PER_DAY = 86_400


class CacheSettings(WireModel):
    """What the key depends on besides the text: read from the environment of prepare and OCR (template.yaml)."""

    ttl_days: int = 0  # 0: the cache is off
    max_model_input_chars: int
    prompt_version: str
    classifier_endpoint: str = ""
    classifier_model_data_uri: str = ""
    classifier_request_format: str = "hf"

    @property
    def enabled(self) -> bool:
        return self.ttl_days > 0


@cache
def _file_digest(path: str, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def config_fingerprint() -> str:
    """SHA-256 of the deployed document-class configuration file."""
    path = classes.config_path()
    try:
        return _file_digest(str(path), path.stat().st_mtime_ns)
    except OSError as exc:
        message = f"{path}: cannot read the document-class configuration ({exc.strerror})"
        raise classes.ClassConfigError(message) from exc


def key_parts(prepared: PreparedDocument, settings: CacheSettings) -> dict[str, Any]:
    route = prepared.route
    return {
        "v": KEY_VERSION,
        "text": prepared.text.sha256,
        "classes": config_fingerprint(),
        "model": None if route is None or route.classification_only else route.model_id,
        "classificationOnly": bool(route and route.classification_only),
        "prompt": settings.prompt_version,
        "maxChars": settings.max_model_input_chars,
        # an experiment variant overrides the route's model and sets prompt, temperature and class configuration
        "variant": None
        if prepared.experiment is None
        else [
            prepared.experiment.model_id,
            prepared.experiment.prompt_version,
            prepared.experiment.temperature,
            prepared.experiment.class_config_version,
        ],
        "classifier": [
            settings.classifier_endpoint,
            settings.classifier_model_data_uri,
            settings.classifier_request_format,
        ],
    }


def key_for(prepared: PreparedDocument, settings: CacheSettings) -> str:
    canonical = json.dumps(key_parts(prepared, settings), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def cacheable(extraction: ExtractionBranch, classification: ClassificationBranch) -> bool:
    if classification.status != "SUCCEEDED" or classification.result is None:
        return False
    if classification.result.input_truncated:
        return False
    if extraction.status == "SKIPPED":
        return True
    return extraction.status == "SUCCEEDED" and extraction.result is not None


def cache_item(
    key: str,
    *,
    document_id: str,
    extraction: ExtractionBranch,
    classification: ClassificationBranch,
    model_usd: float,
    ttl_days: int,
    now: float | None = None,
) -> dict[str, Any] | None:
    """The DynamoDB item (typed attribute values) for ``WriteCache``, or ``None`` when the result is not cached."""
    if not cacheable(extraction, classification):
        return None
    branches = {
        "extraction": json.dumps(dump(extraction), ensure_ascii=False, separators=(",", ":")),
        "classification": json.dumps(dump(classification), ensure_ascii=False, separators=(",", ":")),
    }
    if sum(len(v.encode("utf-8")) for v in branches.values()) > MAX_ITEM_BYTES:
        return None
    created = int(now if now is not None else time.time())
    expires = created + ttl_days * SECONDS_PER_DAY
    return to_plain_item(
        {
            "cacheKey": key,
            **branches,
            "documentId": document_id,
            "modelUsd": model_usd,
            "createdAt": created,
            "expiresAt": expires,  # the table's TTL attribute (DynamoDB deletes expired items within days)
            "expires": datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),  # LookUpCache compares it
        }
    )
