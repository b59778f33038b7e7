"""Step 1: fetch the object, detect its type from content, extract its text and store it next to the results."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from botocore.exceptions import ClientError

from docproc import documents, errors
from docproc.aws import storage_error
from docproc.models import DocumentRef, PreparedDocument, SourceObject, TextRef
from docproc.storage import text_key, write_object


def prepare_document(
    document: DocumentRef,
    *,
    s3: Any,
    artifacts_bucket: str,
    max_document_bytes: int,
    max_pdf_pages: int = 300,
) -> PreparedDocument:
    started = time.perf_counter()
    request: dict[str, Any] = {"Bucket": document.bucket, "Key": document.key}
    if document.version_id and document.version_id != "null":
        request["VersionId"] = document.version_id
    try:
        response = s3.get_object(**request)
    except ClientError as exc:
        raise storage_error(exc, f"reading s3://{document.bucket}/{document.key}") from exc

    size = int(response["ContentLength"])
    if size > max_document_bytes:
        response["Body"].close()
        raise errors.DocumentTooLarge(f"{size} bytes is over the {max_document_bytes}-byte limit (MaxDocumentBytes)")
    data = response["Body"].read()
    declared_type = response.get("ContentType")

    extracted = documents.extract_text(
        data, key=document.key, declared_content_type=declared_type, max_pages=max_pdf_pages
    )
    text = extracted.text
    if not text.strip():
        raise errors.NoTextContent(f"{extracted.format} file parsed but holds no text")

    encoded = text.encode("utf-8")
    uri = write_object(s3, artifacts_bucket, text_key(document.document_id), encoded, "text/plain; charset=utf-8")
    warnings = list(extracted.warnings)
    if extracted.truncated:
        warnings.append("text truncated at the page or character limit")
    return PreparedDocument(
        source=SourceObject(
            bucket=document.bucket,
            key=document.key,
            version_id=response.get("VersionId") or document.version_id,
            etag=(response.get("ETag") or document.etag or "").strip('"') or None,
            size=size,
            content_type=declared_type,
            last_modified=response.get("LastModified"),
        ),
        format=str(extracted.format),
        media_type=extracted.media_type,
        text=TextRef(uri=uri, chars=len(text), pages=extracted.pages, sha256=hashlib.sha256(encoded).hexdigest()),
        warnings=warnings,
        duration_ms=int((time.perf_counter() - started) * 1000),
    )
