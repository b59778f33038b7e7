"""Step 1: fetch the object, detect its type from content, extract its text and store it next to the results."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from botocore.exceptions import ClientError

from docproc import errors, experiments, formats, language
from docproc.aws import storage_error
from docproc.models import DocumentRef, ExperimentAssignment, OcrRequest, PreparedDocument, SourceObject, TextRef
from docproc.storage import text_key, write_object


def tables_key(document_id: str) -> str:
    """The tables of a document, as JSON next to its text (only written when it has tables)."""
    return f"text/{document_id}.tables.json"


def prepare_document(
    document: DocumentRef,
    *,
    s3: Any,
    artifacts_bucket: str,
    max_document_bytes: int,
    max_pdf_pages: int = 3000,
    max_ocr_pages: int = 500,
    ocr: bool = True,
    active_experiment: str | None = None,
) -> PreparedDocument:
    """Text to S3 and a :class:`PreparedDocument`; with ``ocr``, pages without a usable text layer are asked of
    the OCR steps (``ocr_request``) instead of failing the document. ``active_experiment``: the ActiveExperiment
    parameter (None: the environment's)."""
    started = time.perf_counter()
    assignment = experiment_for(document, active_experiment)  # experiments (issue 12): before any model is called
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

    try:
        extracted = formats.extract_text(
            data, key=document.key, declared_content_type=declared_type, max_pages=max_pdf_pages
        )
    except formats.NeedsOcr as needs:
        if not ocr:
            raise
        extracted = formats.ExtractedText(
            text="",
            format=needs.format,
            media_type=needs.media_type,
            pages=needs.pages,
            truncated=False,
            warnings=(str(needs),),
            pages_without_text=needs.ocr_pages,
        )
    text = extracted.text
    ocr_request = _ocr_request(extracted, size, max_ocr_pages) if ocr else None
    if not text.strip() and ocr_request is None:
        raise errors.NoTextContent(f"{extracted.format} file parsed but holds no text")

    encoded = text.encode("utf-8")
    uri = write_object(s3, artifacts_bucket, text_key(document.document_id), encoded, "text/plain; charset=utf-8")
    tables_uri = None
    if extracted.tables:
        tables = json.dumps({"tables": [table.to_json() for table in extracted.tables]}, ensure_ascii=False)
        tables_uri = write_object(
            s3, artifacts_bucket, tables_key(document.document_id), tables.encode("utf-8"), "application/json"
        )
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
        text=TextRef(
            uri=uri,
            chars=len(text),
            pages=extracted.pages,
            sha256=hashlib.sha256(encoded).hexdigest(),
            tables_uri=tables_uri,
            table_count=len(extracted.tables),
            language=language.detect(text),
        ),
        warnings=warnings,
        duration_ms=int((time.perf_counter() - started) * 1000),
        ocr_request=ocr_request,
        experiment=assignment,
    )


def experiment_for(document: DocumentRef, active_experiment: str | None = None) -> ExperimentAssignment | None:
    """Experiments (issue 12): the document's variant, by its id and S3 event time; a broken experiments.yaml or an
    unknown ActiveExperiment is permanent (``CONFIG_INVALID``)."""
    try:
        return experiments.assign(document.document_id, when=document.event_time, activated=active_experiment)
    except experiments.ExperimentConfigError as exc:
        raise errors.ConfigurationInvalid(str(exc)) from exc


def _ocr_request(extracted: formats.ExtractedText, size: int, max_ocr_pages: int) -> OcrRequest | None:
    """Which pages OCR should read: pages without text (images, scans) and pages whose text layer is garbled."""
    without, garbled = list(extracted.pages_without_text), list(extracted.pages_garbled)
    pages = sorted(set(without) | set(garbled))
    if not pages:
        return None
    if len(pages) > max_ocr_pages:
        raise errors.DocumentTooLarge(f"{len(pages)} pages need OCR; MaxOcrPages is {max_ocr_pages}")
    reasons = []
    if without:
        reasons.append(f"no text layer on {_pages(without)}")
    if garbled:
        reasons.append(f"garbled text layer on {_pages(garbled)}")
    single_image = extracted.format in formats.IMAGE_FORMATS and extracted.pages == 1
    whole = extracted.format in formats.IMAGE_FORMATS or not extracted.text.strip()
    return OcrRequest(
        pages=[] if whole else pages,
        reason="; ".join(reasons),
        sync=single_image and extracted.format is not formats.DocumentFormat.TIFF and size <= 10 * 1024 * 1024,
    )


def _pages(numbers: list[int]) -> str:
    shown = ", ".join(map(str, numbers[:10])) + (f" and {len(numbers) - 10} more" if len(numbers) > 10 else "")
    return f"page{'s' if len(numbers) > 1 else ''} {shown}"
