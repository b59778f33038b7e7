"""A local Amazon Textract (``DetectDocumentText``, ``StartDocumentTextDetection``, ``GetDocumentTextDetection``).

Served by :class:`~docproc_local.standins.server.StandinServer` on the JSON 1.1 protocol (``POST /`` with
``X-Amz-Target: Textract.<Operation>``), so a plain ``boto3.client("textract")`` reaches it through
``AWS_ENDPOINT_URL_TEXTRACT``. The OCR is real: Tesseract 5 (see :mod:`.ocr.tesseract` for the languages), PDF
pages rendered by pypdfium2 at 300 dpi, images and TIFF frames by Pillow (see :mod:`.ocr.documents`). Answers
have Textract's shape: one PAGE block per page, LINE and WORD blocks with uuid ids, confidences 0-100, ``PRINTED``
text type, geometry (bounding box and polygon, 0-1 of the page) and CHILD relationships.

Limits, from the Textract Developer Guide's "Set Quotas in Amazon Textract" (fixed limits) and "Default Quotas":
synchronous calls take JPEG, PNG, PDF and TIFF up to 10 MB, PDF and TIFF of one page only (more pages:
``UnsupportedDocumentException``); asynchronous jobs take PDF and TIFF up to 500 MB and 3,000 pages (JPEG and PNG
10 MB); images at most 10,000 px a side; PDF pages at most 40 inches a side; no password-protected PDFs.
``Document.Bytes`` is at most 10,485,760 bytes (botocore's model). ``GetDocumentTextDetection`` returns at most
1,000 blocks a call (``MaxResults`` default and maximum). At most ``max_concurrent_jobs`` (100, the default quota
of concurrent text-detection jobs) run at once, then ``LimitExceededException``; a ``ClientRequestToken`` reused
for the same document within :data:`IDEMPOTENCY_SECONDS` returns the same ``JobId`` (for another document,
``IdempotentParameterMismatchException``). Results are kept for 7 days, as the service keeps them.
(A search also turned up a page of limits for a "Textract Insights" product that AWS does not offer; not used.)

Local settings: ``DOCPROC_LOCAL_TEXTRACT_FAULTS`` (``throttle_rate=0.1,error_rate=0.05,latency_ms=20,seed=7``:
``ThrottlingException`` / ``InternalServerError`` answers, as the other stand-ins), ``DOCPROC_LOCAL_TEXTRACT_TPS``
(requests per second per operation before ``ProvisionedThroughputExceededException``; unlimited by default),
``DOCPROC_LOCAL_TEXTRACT_LANGS`` (Tesseract languages, default ``eng+deu+fra+spa``), ``DOCPROC_LOCAL_TEXTRACT_DPI``.

Benchmark: ``python -m docproc_local.standins.textract --bench FILE`` prints pages per second and the first lines.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import logging
import os
import random
import secrets
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docproc_local.standins.errors import TEXTRACT_ERRORS, ServiceError, textract_error
from docproc_local.standins.faults import FaultConfig
from docproc_local.standins.ocr import documents, requests
from docproc_local.standins.ocr.blocks import page_blocks
from docproc_local.standins.ocr.tesseract import Tesseract, default_languages

__all__ = ["TextractService", "main"]

logger = logging.getLogger(__name__)

MODEL_VERSION = "1.0"
MAX_RESULTS = 1000
IDEMPOTENCY_SECONDS = 7 * 24 * 3600
RESULT_RETENTION_SECONDS = 7 * 24 * 3600
MAX_KEPT_JOBS = 1000
DEFAULT_MAX_CONCURRENT_JOBS = 100
ENV_FAULTS = "DOCPROC_LOCAL_TEXTRACT_FAULTS"
ENV_TPS = "DOCPROC_LOCAL_TEXTRACT_TPS"
ENV_DPI = "DOCPROC_LOCAL_TEXTRACT_DPI"
OPERATIONS = ("DetectDocumentText", "StartDocumentTextDetection", "GetDocumentTextDetection")
S3_ERROR_MESSAGE = "Unable to get object metadata from S3. Check object key, region and/or access permissions."
_FAULT_MESSAGES = {
    "ThrottlingException": "Amazon Textract is temporarily unable to process the request. Try your call again.",
    "ProvisionedThroughputExceededException": "Provisioned rate exceeded",
    "InternalServerError": "Amazon Textract experienced a service issue. Try your call again.",
}

S3ClientFactory = Callable[[], Any]


@dataclass
class Job:
    id: str
    document: tuple[str, str, str | None]  # bucket, key, version
    token: str | None
    tag: str | None
    created: float
    status: str = "IN_PROGRESS"
    pages: int = 0
    blocks: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    message: str | None = None


@dataclass(frozen=True)
class OcrResult:
    pages: int
    blocks: list[dict[str, Any]]
    failed: dict[str, list[int]]  # error code -> page numbers that could not be read
    messages: list[str]


class _RateLimiter:
    """Requests per second per operation (a token bucket with a one-second burst, at least one request), as
    Textract's TPS quotas."""

    def __init__(self, tps: float | None) -> None:
        self.tps = tps
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, operation: str) -> bool:
        if not self.tps:
            return True
        now = time.monotonic()
        with self._lock:
            burst = max(1.0, self.tps)
            tokens, last = self._buckets.get(operation, (burst, now))
            tokens = min(burst, tokens + (now - last) * self.tps)
            if tokens < 1.0:
                self._buckets[operation] = (tokens, now)
                return False
            self._buckets[operation] = (tokens - 1.0, now)
            return True


class TextractService:
    """The three text-detection operations over real OCR; thread-safe. ``handle`` answers one HTTP request.

    ``s3`` makes the S3 client that reads ``S3Object`` documents (default: ``boto3.client("s3")`` from the
    environment; :class:`~docproc_local.runtime.LocalRuntime` points it at the local S3). ``workers`` OCR jobs run
    at once in the background, ``ocr_slots`` pages are read at once in all (synchronous calls included).
    """

    def __init__(
        self,
        *,
        s3: S3ClientFactory | None = None,
        languages: str | None = None,
        dpi: int | None = None,
        workers: int = 1,
        ocr_slots: int = 2,
        max_concurrent_jobs: int = DEFAULT_MAX_CONCURRENT_JOBS,
        tps: float | None = None,
        faults: FaultConfig | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        self._s3_factory = s3
        self._s3: Any = None
        self._languages = languages or default_languages(dict(env))
        self.dpi = dpi or int(env.get(ENV_DPI) or documents.DEFAULT_DPI)
        self.workers = workers
        self.max_concurrent_jobs = max_concurrent_jobs
        self._engine: Tesseract | None = None
        self._slots = threading.BoundedSemaphore(ocr_slots)
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._tokens: dict[str, str] = {}
        self._executor: ThreadPoolExecutor | None = None
        self._limiter = _RateLimiter(tps if tps is not None else float(env.get(ENV_TPS) or 0) or None)
        self._counters: Counter[str] = Counter()
        self._codes: Counter[str] = Counter()
        self.set_faults(faults if faults is not None else FaultConfig.parse(env.get(ENV_FAULTS) or ""))

    # --- settings, counters, lifecycle -------------------------------------------------------------------------------

    def set_s3(self, factory: S3ClientFactory) -> None:
        with self._lock:
            self._s3_factory, self._s3 = factory, None

    def set_faults(self, config: FaultConfig) -> None:
        unknown = [code for code in config.error_codes if code not in TEXTRACT_ERRORS]
        if unknown:
            raise ValueError(f"textract has no error code {', '.join(unknown)}")
        with self._lock:
            self._fault_config, self._rng = config, random.Random(config.seed)

    def faults(self) -> FaultConfig:
        return self._fault_config

    def stats(self) -> dict[str, Any]:
        with self._lock:
            names = ("requests", "ok", "throttled", "errors", "malformed", "rejected", "pages", "jobs", "latency_ms")
            counters: dict[str, Any] = {name: self._counters.get(name, 0) for name in names}
            counters["ocr_seconds"] = round(self._counters.get("ocr_ms", 0) / 1000, 3)
            counters["faults"] = counters["throttled"] + counters["errors"] + counters["malformed"]
            counters["codes"] = dict(self._codes)
            return counters

    def reset_stats(self) -> None:
        with self._lock:
            self._counters.clear()
            self._codes.clear()

    def _count(self, *names: str, code: str | None = None, amount: int = 1) -> None:
        with self._lock:
            for name in names:
                self._counters[name] += amount
            if code:
                self._codes[code] += 1

    def close(self) -> None:
        """Stop the background workers (jobs not started are dropped; a page being read finishes)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def engine(self) -> Tesseract:
        if self._engine is None:
            self._engine = Tesseract(self._languages)
        return self._engine

    # --- the wire ----------------------------------------------------------------------------------------------------

    def handle(self, target: str, body: bytes) -> bytes:
        """The JSON answer to ``X-Amz-Target: target`` with ``body``, or a :class:`ServiceError` raised."""
        operation = target.removeprefix("Textract.")
        self._count("requests")
        if operation not in OPERATIONS:
            known = requests.operation(operation) is not None
            code = "InvalidParameterException" if known else "UnknownOperationException"
            raise self._rejected(textract_error(code, f"The local Textract does not implement {operation}."))
        try:
            payload = json.loads(body or b"{}")
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):  # nested past the parser: refused too
            raise self._rejected(textract_error("SerializationException", "The request body is not JSON.")) from None
        try:
            request = requests.parse(operation, payload)
        except ServiceError as error:
            raise self._rejected(error) from None
        malformed = self._inject_faults(operation)
        if operation == "DetectDocumentText":
            answer = self.detect_document_text(request)
        elif operation == "StartDocumentTextDetection":
            answer = self.start_document_text_detection(request)
        else:
            answer = self.get_document_text_detection(request)
        encoded = json.dumps(answer, ensure_ascii=False).encode()
        if malformed:
            self._count("malformed")
            return encoded[: max(1, len(encoded) // 2)]
        self._count("ok")
        return encoded

    def _rejected(self, error: ServiceError) -> ServiceError:
        self._count("rejected", code=error.code)
        return error

    def _inject_faults(self, operation: str) -> bool:
        """Raise the injected error of this request, if any; True when its answer is to be cut short."""
        if not self._limiter.allow(operation):
            self._count("throttled", code="ProvisionedThroughputExceededException")
            raise textract_error(
                "ProvisionedThroughputExceededException", _FAULT_MESSAGES["ProvisionedThroughputExceededException"]
            )
        with self._lock:
            config, draw = self._fault_config, self._rng.random()
            code_draw = self._rng.random()
        if config.latency_ms:
            time.sleep(config.latency_ms / 1000)
            self._count("latency_ms", amount=config.latency_ms)
        if draw < config.throttle_rate:
            self._count("throttled", code="ThrottlingException")
            raise textract_error("ThrottlingException", _FAULT_MESSAGES["ThrottlingException"])
        if draw < config.throttle_rate + config.error_rate:
            codes = config.error_codes or ("InternalServerError",)
            code = codes[int(code_draw * len(codes))]
            self._count("errors", code=code)
            raise textract_error(code, _FAULT_MESSAGES.get(code, "Injected fault."))
        return draw < config.throttle_rate + config.error_rate + config.malformed_rate

    # --- operations --------------------------------------------------------------------------------------------------

    def detect_document_text(self, request: dict[str, Any]) -> dict[str, Any]:
        data = self._document_bytes(request["Document"])
        result = self.ocr(data, asynchronous=False)
        if result.failed:
            code = next(iter(result.failed))
            raise textract_error(code, result.messages[0])
        return {
            "DocumentMetadata": {"Pages": result.pages},
            "Blocks": result.blocks,
            "DetectDocumentTextModelVersion": MODEL_VERSION,
        }

    def start_document_text_detection(self, request: dict[str, Any]) -> dict[str, Any]:
        location = request["DocumentLocation"].get("S3Object")
        if not location or not location.get("Bucket") or not location.get("Name"):
            raise textract_error("InvalidParameterException", "Request has invalid parameters: DocumentLocation")
        document = (location["Bucket"], location["Name"], location.get("Version"))
        token = request.get("ClientRequestToken")
        now = time.time()
        with self._lock:
            self._expire(now)
            if token and token in self._tokens:
                job = self._jobs[self._tokens[token]]
                if job.document != document:
                    raise textract_error(
                        "IdempotentParameterMismatchException",
                        "The ClientRequestToken was already used with other parameters.",
                    )
                return {"JobId": job.id}
            running = sum(1 for job in self._jobs.values() if job.status == "IN_PROGRESS")
            if running >= self.max_concurrent_jobs:
                raise textract_error(
                    "LimitExceededException",
                    f"{running} text detection jobs are in progress, the limit is {self.max_concurrent_jobs}.",
                )
        data = self._read_s3(document, asynchronous=True)
        job = Job(secrets.token_hex(32), document, token, request.get("JobTag"), now)
        with self._lock:
            if token and token in self._tokens:  # the same token raced in: the first job wins
                return {"JobId": self._tokens[token]}
            self._jobs[job.id] = job
            if token:
                self._tokens[token] = job.id
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="textract-job")
            executor = self._executor
        self._count("jobs")
        executor.submit(self._run_job, job, data)
        return {"JobId": job.id}

    def get_document_text_detection(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            job = self._jobs.get(request["JobId"])
        if job is None:
            raise textract_error("InvalidJobIdException", "An invalid job identifier was passed.")
        answer: dict[str, Any] = {"JobStatus": job.status, "DetectDocumentTextModelVersion": MODEL_VERSION}
        if job.status == "IN_PROGRESS":
            return answer
        if job.message:
            answer["StatusMessage"] = job.message
        if job.status == "FAILED":
            return answer
        start = self._offset(request.get("NextToken"), job)
        size = min(request.get("MaxResults") or MAX_RESULTS, MAX_RESULTS)
        answer["DocumentMetadata"] = {"Pages": job.pages}
        answer["Blocks"] = job.blocks[start : start + size]
        if start + size < len(job.blocks):
            answer["NextToken"] = base64.urlsafe_b64encode(f"{job.id}:{start + size}".encode()).decode()
        if job.warnings:
            answer["Warnings"] = job.warnings
        return answer

    # --- helpers -----------------------------------------------------------------------------------------------------

    @staticmethod
    def _offset(token: str | None, job: Job) -> int:
        if not token:
            return 0
        try:
            job_id, _, offset = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
            value = int(offset)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            value, job_id = -1, ""
        if job_id != job.id or not 0 <= value <= len(job.blocks):
            raise textract_error("InvalidParameterException", "Request has invalid parameters: NextToken")
        return value

    def _expire(self, now: float) -> None:
        """Forget jobs past their retention (and the oldest finished ones past MAX_KEPT_JOBS). Under the lock."""
        done = [job for job in self._jobs.values() if job.status != "IN_PROGRESS"]
        old = {job.id for job in done if now - job.created > RESULT_RETENTION_SECONDS}
        done.sort(key=lambda job: job.created)
        old.update(job.id for job in done[: max(0, len(self._jobs) - MAX_KEPT_JOBS)])
        for job_id in old:
            job = self._jobs.pop(job_id)
            if job.token and self._tokens.get(job.token) == job_id:
                del self._tokens[job.token]
        for token, job_id in list(self._tokens.items()):
            if now - self._jobs[job_id].created > IDEMPOTENCY_SECONDS:
                del self._tokens[token]

    def _document_bytes(self, document: dict[str, Any]) -> bytes:
        has_bytes, has_s3 = "Bytes" in document, "S3Object" in document
        if has_bytes == has_s3:
            raise textract_error(
                "InvalidParameterException", "Request has invalid parameters: give one of Document.Bytes or S3Object"
            )
        if has_bytes:
            return document["Bytes"]
        location = document["S3Object"]
        if not location.get("Bucket") or not location.get("Name"):
            raise textract_error("InvalidParameterException", "Request has invalid parameters: Document.S3Object")
        return self._read_s3((location["Bucket"], location["Name"], location.get("Version")), asynchronous=False)

    def _s3_client(self) -> Any:
        with self._lock:
            if self._s3 is None:
                if self._s3_factory is None:
                    import boto3

                    self._s3_factory = lambda: boto3.client("s3")
                self._s3 = self._s3_factory()
            return self._s3

    def _read_s3(self, document: tuple[str, str, str | None], *, asynchronous: bool) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        bucket, key, version = document
        args: dict[str, Any] = {"Bucket": bucket, "Key": key} | ({"VersionId": version} if version else {})
        limit = documents.ASYNC_MAX_BYTES if asynchronous else documents.SYNC_MAX_BYTES
        try:
            client = self._s3_client()
            size = int(client.head_object(**args)["ContentLength"])
            if size > limit:
                raise textract_error("DocumentTooLargeException", f"The document is {size} bytes, over {limit}.")
            data: bytes = client.get_object(**args)["Body"].read()
        except (ClientError, BotoCoreError) as error:
            logger.info("textract could not read s3://%s/%s: %s", bucket, key, error)
            raise textract_error("InvalidS3ObjectException", S3_ERROR_MESSAGE) from None
        kind = documents.sniff(data)
        if kind is None:
            raise textract_error("UnsupportedDocumentException", documents.UNSUPPORTED_MESSAGE)
        documents.check_size(len(data), kind, asynchronous=asynchronous)
        return data

    def ocr(self, data: bytes, *, asynchronous: bool) -> OcrResult:
        """Every page of ``data`` read; the errors of pages that could not be read are kept by code."""
        document = documents.Document(data, asynchronous=asynchronous, dpi=self.dpi)
        blocks: list[dict[str, Any]] = []
        failed: dict[str, list[int]] = {}
        messages: list[str] = []
        try:
            for number in range(1, document.page_count + 1):
                try:
                    with self._slots:
                        started = time.perf_counter()
                        page = document.page(number)
                        text = self.engine().recognise(page.image, page.dpi)
                        self._count("ocr_ms", amount=int((time.perf_counter() - started) * 1000))
                    blocks.extend(page_blocks(text, number))
                    self._count("pages")
                except ServiceError as error:
                    failed.setdefault(error.code, []).append(number)
                    messages.append(f"page {number}: {error.message}")
        finally:
            document.close()
        return OcrResult(document.page_count, blocks, failed, messages)

    def _run_job(self, job: Job, data: bytes) -> None:
        try:
            result = self.ocr(data, asynchronous=True)
        except ServiceError as error:
            self._finish(job, "FAILED", message=error.message)
            return
        except Exception as error:  # a bug or a broken engine must fail the job, not leave it IN_PROGRESS forever
            logger.exception("textract job %s failed", job.id)
            self._finish(job, "FAILED", message=f"Internal error: {error}")
            return
        failed_pages = sum(len(pages) for pages in result.failed.values())
        if failed_pages == 0:
            self._finish(job, "SUCCEEDED", result=result)
        elif failed_pages == result.pages:
            self._finish(job, "FAILED", result=result, message="; ".join(result.messages))
        else:
            self._finish(job, "PARTIAL_SUCCESS", result=result, message="; ".join(result.messages))

    def _finish(self, job: Job, status: str, *, result: OcrResult | None = None, message: str | None = None) -> None:
        with self._lock:
            if result is not None:
                job.pages, job.blocks = result.pages, result.blocks
                job.warnings = [{"ErrorCode": code, "Pages": pages} for code, pages in result.failed.items()]
            job.message = message
            job.status = status
        logger.info("textract job %s %s (%d pages)", job.id, status, job.pages)


# --- benchmark -------------------------------------------------------------------------------------------------------


def bench(path: Path, *, dpi: int | None = None, languages: str | None = None, lines: int = 5) -> dict[str, Any]:
    """OCR every page of ``path`` once (as an asynchronous job would) and time it."""
    service = TextractService(dpi=dpi, languages=languages, ocr_slots=1)
    data = path.read_bytes()
    started = time.perf_counter()
    result = service.ocr(data, asynchronous=True)
    seconds = time.perf_counter() - started
    first = [block["Text"] for block in result.blocks if block["BlockType"] == "LINE"][:lines]
    words = [block for block in result.blocks if block["BlockType"] == "WORD"]
    return {
        "file": str(path),
        "pages": result.pages,
        "seconds": round(seconds, 2),
        "pages_per_second": round(result.pages / seconds, 3) if seconds else None,
        "words": len(words),
        "mean_word_confidence": round(sum(w["Confidence"] for w in words) / len(words), 1) if words else None,
        "languages": service.engine().languages,
        "dpi": service.dpi,
        "failed_pages": result.failed,
        "first_lines": first,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m docproc_local.standins.textract", description="The local Textract's OCR, on files."
    )
    parser.add_argument("--bench", nargs="+", type=Path, metavar="FILE", required=True, help="PDF, PNG, JPEG or TIFF")
    parser.add_argument("--dpi", type=int, help=f"PDF rendering (default {documents.DEFAULT_DPI})")
    parser.add_argument("--langs", help="Tesseract languages (default eng+deu+fra+spa)")
    parser.add_argument("--lines", type=int, default=5, help="first lines to print")
    args = parser.parse_args(argv)
    for path in args.bench:
        try:
            report = bench(path, dpi=args.dpi, languages=args.langs, lines=args.lines)
        except ServiceError as error:
            print(json.dumps({"file": str(path), "error": error.code, "message": error.message}))
            continue
        print(json.dumps(report, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    raise SystemExit(main())
