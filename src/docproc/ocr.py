"""OCR with Amazon Textract: images and PDF pages that have no usable text layer.

Single-page images go through ``DetectDocumentText`` (synchronous, up to 10 MB). Multi-page documents (PDF,
multi-page TIFF) go through ``StartDocumentTextDetection`` on the source object in S3; the state machine waits
for the job with a Wait state and a short status check (no Lambda sleeps), then :func:`read_job` reads every
result page. Text is rebuilt from the LINE blocks of each page in the order Textract gives them (its reading
order); a page's OCR confidence is the mean confidence of its words.

:func:`merge_text` puts OCR'd pages into the document's text: pages are separated by form feeds, and only the
pages that needed OCR (no text layer, or a garbled one) are replaced.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError
from pydantic import Field

from docproc import errors, language
from docproc.aws import storage_error
from docproc.models import DocumentRef, OcrSummary, PreparedDocument, WireModel
from docproc.storage import parse_s3_uri, read_text, write_object

PAGE_BREAK = "\f"
SYNC_MAX_BYTES = 10 * 1024 * 1024  # DetectDocumentText: documents up to 10 MB
MAX_POLLS = 180  # with the state machine's waits: about 15 minutes, the pipeline's own timeout

_THROTTLED = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "LimitExceededException"})
_UNAVAILABLE = frozenset({"InternalServerError", "ServiceUnavailable", "ServiceUnavailableException"})
_BAD_DOCUMENT = frozenset(
    {"UnsupportedDocumentException", "BadDocumentException", "DocumentTooLargeException", "InvalidS3ObjectException"}
)


class OcrPage(WireModel):
    number: int
    text: str
    confidence: float | None = Field(default=None, description="Mean word confidence, 0-1")
    words: int = 0


class OcrJob(WireModel):
    job_id: str
    status: str = "IN_PROGRESS"
    polls: int = 0


def _error(exc: Exception, what: str) -> errors.DocprocError:
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", "")
        if code in _THROTTLED:
            return errors.ModelThrottled(f"{what}: {code}")
        if code in _UNAVAILABLE:
            return errors.ModelUnavailable(f"{what}: {code}")
        if code in _BAD_DOCUMENT:
            return errors.OcrFailed(f"{what}: Textract cannot read this document ({code}: {message})")
        return errors.ModelRequestInvalid(f"{what}: {code}: {message}")
    if isinstance(exc, ParamValidationError):  # the same request would be refused every time
        return errors.ModelRequestInvalid(f"{what}: {exc}")
    return errors.ModelUnavailable(f"{what}: {type(exc).__name__}: {exc}")


def pages_from_blocks(blocks: Iterable[dict[str, Any]]) -> list[OcrPage]:
    """Per-page text (LINE blocks in Textract's order) and mean word confidence."""
    lines: dict[int, list[str]] = defaultdict(list)
    confidences: dict[int, list[float]] = defaultdict(list)
    seen_pages: set[int] = set()
    for block in blocks:
        page = int(block.get("Page") or 1)
        kind = block.get("BlockType")
        if kind == "PAGE":
            seen_pages.add(page)
        elif kind == "LINE" and block.get("Text"):
            lines[page].append(str(block["Text"]))
        elif kind == "WORD" and block.get("Confidence") is not None:
            confidences[page].append(float(block["Confidence"]) / 100)
    numbers = sorted(seen_pages | set(lines))
    return [
        OcrPage(
            number=n,
            text="\n".join(lines.get(n, [])),
            confidence=round(sum(confidences[n]) / len(confidences[n]), 4) if confidences.get(n) else None,
            words=len(confidences.get(n, [])),
        )
        for n in numbers
    ]


def detect(textract: Any, data: bytes) -> list[OcrPage]:
    """OCR a single-page image synchronously."""
    if len(data) > SYNC_MAX_BYTES:
        raise errors.DocumentTooLarge(f"{len(data)} bytes is over Textract's 10 MB limit for images")
    try:
        response = textract.detect_document_text(Document={"Bytes": data})
    except (ClientError, BotoCoreError) as exc:
        raise _error(exc, "textract detect_document_text") from exc
    return pages_from_blocks(response.get("Blocks", []))


def start(textract: Any, *, bucket: str, key: str, version_id: str | None, token: str) -> OcrJob:
    location: dict[str, Any] = {"Bucket": bucket, "Name": key}
    if version_id and version_id != "null":
        location["Version"] = version_id
    try:
        response = textract.start_document_text_detection(
            DocumentLocation={"S3Object": location},
            ClientRequestToken=re.sub(r"[^A-Za-z0-9_-]", "-", token)[:64],
            JobTag="docproc",
        )
    except (ClientError, BotoCoreError) as exc:
        raise _error(exc, "textract start_document_text_detection") from exc
    return OcrJob(job_id=response["JobId"])


def status(textract: Any, job: OcrJob) -> OcrJob:
    """The job's status after one more poll; a failed job or one that never ends is an error."""
    try:
        response = textract.get_document_text_detection(JobId=job.job_id, MaxResults=1)
    except (ClientError, BotoCoreError) as exc:
        raise _error(exc, "textract get_document_text_detection") from exc
    state = str(response.get("JobStatus", "IN_PROGRESS"))
    if state == "FAILED":
        raise errors.OcrFailed(f"Textract job {job.job_id} failed: {response.get('StatusMessage') or 'no message'}")
    polls = job.polls + 1
    if state == "IN_PROGRESS" and polls >= MAX_POLLS:
        raise errors.ModelTimeout(f"Textract job {job.job_id} still running after {polls} status checks")
    return OcrJob(job_id=job.job_id, status=state, polls=polls)


def read_job(textract: Any, job: OcrJob) -> list[OcrPage]:
    """Every result page of a finished job."""
    blocks: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"JobId": job.job_id, "MaxResults": 1000}
        if token:
            kwargs["NextToken"] = token
        try:
            response = textract.get_document_text_detection(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise _error(exc, "textract get_document_text_detection") from exc
        blocks.extend(response.get("Blocks", []))
        token = response.get("NextToken")
        if not token:
            return pages_from_blocks(blocks)


def merge_text(text: str, pages: list[OcrPage], replace: list[int] | None) -> tuple[str, list[OcrPage]]:
    """The text with OCR'd pages in place of the pages that needed it (``replace``; None or empty: all pages).

    Returns the merged text and the OCR pages actually used.
    """
    existing = text.split(PAGE_BREAK) if text else []
    by_number = {p.number: p for p in pages}
    count = max([len(existing), *by_number]) if (existing or by_number) else 0
    wanted = set(replace) if replace else set(range(1, count + 1))
    used: list[OcrPage] = []
    out: list[str] = []
    for number in range(1, count + 1):
        current = existing[number - 1] if number <= len(existing) else ""
        page = by_number.get(number)
        if number in wanted and page is not None and page.text.strip():
            out.append(page.text)
            used.append(page)
        else:
            out.append(current)
    return PAGE_BREAK.join(out), used


def summary(
    mode: Literal["sync", "async"], used: list[OcrPage], reason: str, *, processed: int | None = None, polls: int = 0
) -> OcrSummary:
    confident = [(p.confidence, p.words) for p in used if p.confidence is not None and p.words]
    words = sum(w for _, w in confident)
    mean = round(sum(c * w for c, w in confident) / words, 4) if words else None
    return OcrSummary(
        mode=mode,
        pages=[p.number for p in used],
        mean_confidence=mean,
        page_confidence={str(p.number): p.confidence for p in used if p.confidence is not None},
        reason=reason,
        pages_processed=processed,
        polls=polls if mode == "async" else None,
    )


# --- the OCR steps of the state machine ----------------------------------------------------------------------------


class OcrStepInput(WireModel):
    document: DocumentRef
    prepared: PreparedDocument
    job: OcrJob | None = None


class OcrStepOutput(WireModel):
    """IN_PROGRESS with the job to check again after a wait, or DONE with the prepared document to analyse."""

    status: Literal["IN_PROGRESS", "DONE"]
    job: OcrJob | None = None
    prepared: PreparedDocument | None = None


def start_step(step: OcrStepInput, *, textract: Any, s3: Any, token: str) -> OcrStepOutput:
    """A single small image is read at once; anything else starts an asynchronous job on the source object."""
    request = step.prepared.ocr_request
    if request is None:
        raise ValueError("the prepared document asks for no OCR")
    source = step.prepared.source
    if request.sync:
        data = _read_source(s3, source.bucket, source.key, source.version_id)
        return OcrStepOutput(status="DONE", prepared=assemble(step.prepared, detect(textract, data), "sync", s3=s3))
    job = start(textract, bucket=source.bucket, key=source.key, version_id=source.version_id, token=token)
    return OcrStepOutput(status="IN_PROGRESS", job=job)


def check_step(step: OcrStepInput, *, textract: Any, s3: Any) -> OcrStepOutput:
    if step.job is None:
        raise ValueError("no OCR job to check")
    job = status(textract, step.job)
    if job.status == "IN_PROGRESS":
        return OcrStepOutput(status="IN_PROGRESS", job=job)
    pages = read_job(textract, job)
    return OcrStepOutput(status="DONE", prepared=assemble(step.prepared, pages, "async", s3=s3, polls=job.polls))


def assemble(
    prepared: PreparedDocument, pages: list[OcrPage], mode: Literal["sync", "async"], *, s3: Any, polls: int = 0
) -> PreparedDocument:
    """The prepared document with its OCR'd pages merged into the text object (rewritten in place)."""
    request = prepared.ocr_request
    assert request is not None
    text = read_text(s3, prepared.text.uri)
    merged, used = merge_text(text, pages, request.pages)
    if not merged.strip():
        raise errors.NoTextContent(f"OCR found no text on {len(pages)} page(s) ({request.reason})")
    encoded = merged.encode("utf-8")
    bucket, key = parse_s3_uri(prepared.text.uri)
    write_object(s3, bucket, key, encoded, "text/plain; charset=utf-8")
    text_ref = prepared.text.model_copy(
        update={
            "chars": len(merged),
            "sha256": hashlib.sha256(encoded).hexdigest(),
            "pages": max(prepared.text.pages or 0, len(pages)) or None,
            "language": language.detect(merged),
        }
    )
    ocr_summary = summary(mode, used, request.reason, processed=len(pages), polls=polls)
    warnings = [*prepared.warnings]
    if len(used) < len(request.pages or pages):
        missing = sorted(set(request.pages or [p.number for p in pages]) - {p.number for p in used})
        warnings.append(f"OCR found no text on page(s) {', '.join(map(str, missing[:20]))}")
    return prepared.model_copy(update={"text": text_ref, "ocr": ocr_summary, "warnings": warnings})


def _read_source(s3: Any, bucket: str, key: str, version_id: str | None) -> bytes:
    request: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version_id and version_id != "null":
        request["VersionId"] = version_id
    try:
        return s3.get_object(**request)["Body"].read()
    except ClientError as exc:
        raise storage_error(exc, f"reading s3://{bucket}/{key}") from exc
