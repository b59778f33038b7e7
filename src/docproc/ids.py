"""Deterministic identities: one document per object version, one execution name per (generation, attempt)."""

from __future__ import annotations

import hashlib

EXECUTION_NAME_MAX = 80


def document_id(bucket: str, key: str, version_id: str | None, etag: str | None) -> str:
    """128-bit hex id of an object version: duplicate S3 events for the same version give the same id.

    A versioned bucket (the template turns versioning on) identifies the version by ``version_id``; without
    one, the ``etag`` (content hash for single-part uploads) stands in, so re-uploading identical bytes is a
    duplicate while changed content is a new document.
    """
    basis = version_id if version_id and version_id != "null" else (etag or "").strip('"')
    if not basis:
        raise ValueError(f"cannot identify s3://{bucket}/{key}: neither a version id nor an etag")
    return hashlib.sha256(f"{bucket}\0{key}\0{basis}".encode()).hexdigest()[:32]


def execution_name(doc_id: str, generation: int, attempt: int) -> str:
    """Step Functions execution name; StartExecution with the same name collapses duplicates."""
    name = f"{doc_id}-g{generation}-a{attempt}"
    assert len(name) <= EXECUTION_NAME_MAX
    return name


def event_id(doc_id: str, generation: int, status: str) -> str:
    """Stable id of a result event: subscribers de-duplicate on it (a retried PutEvents repeats it)."""
    return f"{doc_id}:{generation}:{status}"
