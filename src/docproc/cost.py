"""What one document cost: the price table (``config/prices.yaml``) and :func:`estimate`, a pure function of the
record (what the document used) and the prices.

Estimation rules (README, "Cost"); every count is for the path this document took:

* **bedrock**: ``usage`` (all chunks of a long document summed) x the model's input/output price; prompt-cache
  reads/writes at their prices where the usage reports them (at the input price when the model has none). A model
  missing from the table costs 0 and is named in ``cost.unpriced``.
* **sagemaker** (serverless endpoint): ``classification.durationMs`` (the measured call, an upper bound of the
  billed compute time) x the price per second of ``classifier_memory_mb``, plus the bytes sent (the text sample,
  one byte per character plus the JSON wrapper) and an assumed 512-byte answer at the per-GB data prices.
* **textract**: pages Textract read (``ocr.pagesProcessed``, else the pages used, ``ocr.pages``) x the page price.
* **stepFunctions** (Standard): state transitions = states entered on the path through
  ``statemachine/document_pipeline.asl.json`` (:data:`BASE_PATH`, 16 states for a one-chunk document without OCR;
  +2 with the content cache on (LookUpCache, CacheHit?); a cache hit :data:`CACHE_HIT_PATH`, 13; +1 with a review
  event; a long document +1 + one per chunk; OCR +3, + 3 per status check of an asynchronous job; +1 for a failed
  branch's Catch; -2 on a classification-only route). Retries inside a state (``Retry``) are not counted.
* **cache hit**: no bedrock or sagemaker part, no extract or classify invocation, one cache read; a miss that is
  written through adds the cache write.
* **lambda**: GB-seconds of each invocation on the path (memory from template.yaml's defaults, :data:`LAMBDA_MEMORY_MB`)
  from the record's timings (prepare, extract or the chunks plus combining, classify, merge up to the estimate), and
  :data:`ASSUMED_MS` where the record has no timing (ingest, OCR steps, a chunk plan), plus the request price.
  Billed duration is the handler's measured time (init and Powertools overhead are not in it).
* **other**: one pass's EventBridge events (Document Processed, Document Needs Review; each 64 KB a unit, sized like
  the record), DynamoDB write units (QUEUED put, lease put and delete, MarkProcessing, PersistResult sized by the
  item, and the keys-only StatusIndex's writes) and one strongly consistent lease scan, SQS requests (intake send,
  receive, delete - counted once each per document although batches share them - and one send per event to the
  example subscriber queue), S3 requests (source GET, text PUT and GETs, chunk PUTs/GETs, OCR text rewrite, result
  PUT; the tables JSON of a document with tables is not counted).
* **attempts > 1**: each earlier attempt ended in a requeue; what is known to repeat is multiplied by
  ``attempt - 1``: intake (SQS, ingest Lambda, DynamoDB, lease), MarkProcessing and Prepare (same duration as this
  attempt), the analysis states and the requeue path (:data:`REQUEUED_PASS`), Triage. Model calls of failed attempts
  are not counted: a throttled or failed call is not billed (one that answered before a later failure would be).

Not included: storage (GB-month), CloudWatch Logs and metrics, X-Ray, KMS, data transfer, free tiers.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from docproc.models import Cost, CostBreakdown, InsightRecord, dump

PRICES_PATH = Path(__file__).with_name("config") / "prices.yaml"
_INFERENCE_PROFILE_RE = re.compile(r"^(?:us|eu|apac|us-gov|global|jp|au|ca)\.")
GB = 1024**3
EVENT_CHUNK_BYTES = 64 * 1024


class PriceTableError(ValueError):
    """The price table is missing a key or has a bad value; the message names the file and the key."""


# --- the price table -----------------------------------------------------------------------------------------------


class _Priced(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    source: str = Field(pattern=r"^https://", description="The pricing page the prices come from")
    as_of: date = Field(description="When the prices were last confirmed against the page")


class ModelPrice(_Priced):
    input_per_million_usd: float = Field(ge=0)
    output_per_million_usd: float = Field(ge=0)
    cache_read_per_million_usd: float | None = Field(default=None, ge=0)
    cache_write_per_million_usd: float | None = Field(default=None, ge=0)


class SageMakerServerless(_Priced):
    per_second_usd_by_memory_mb: dict[int, float] = Field(min_length=1)
    data_in_per_gb_usd: float = Field(ge=0)
    data_out_per_gb_usd: float = Field(ge=0)


class StepFunctions(_Priced):
    standard_per_million_transitions_usd: float = Field(ge=0)
    express_per_million_requests_usd: float = Field(ge=0)
    express_per_gb_second_usd: float = Field(ge=0)


class LambdaArchitecture(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    per_gb_second_usd: float = Field(ge=0)
    per_million_requests_usd: float = Field(ge=0)


class LambdaPrices(_Priced):
    x86_64: LambdaArchitecture
    arm64: LambdaArchitecture


class Textract(_Priced):
    detect_document_text_per_thousand_pages_usd: float = Field(ge=0)


class EventBridge(_Priced):
    per_million_events_usd: float = Field(ge=0)


class DynamoDB(_Priced):
    per_million_write_request_units_usd: float = Field(ge=0)
    per_million_read_request_units_usd: float = Field(ge=0)


class SQS(_Priced):
    per_million_requests_usd: float = Field(ge=0)


class S3(_Priced):
    put_per_thousand_requests_usd: float = Field(ge=0)
    get_per_thousand_requests_usd: float = Field(ge=0)


class Services(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    sagemaker_serverless: SageMakerServerless
    step_functions: StepFunctions
    lambda_: LambdaPrices = Field(alias="lambda")
    textract: Textract
    eventbridge: EventBridge
    dynamodb: DynamoDB
    sqs: SQS
    s3: S3


class PriceTable(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    version: str = Field(min_length=1)
    currency: Literal["USD"] = "USD"  # the prices are *_usd; the key only documents it
    region: str = "us-east-1"
    models: dict[str, ModelPrice]
    services: Services
    source: str = Field(default="", exclude=True)  # the file it was loaded from

    def price(self, model_id: str) -> ModelPrice | None:
        """A model's price: as written, then without an ARN prefix and without an inference-profile prefix."""
        candidates = [model_id, model_id.rsplit("/", 1)[-1]]
        candidates.append(_INFERENCE_PROFILE_RE.sub("", candidates[-1]))
        for candidate in candidates:
            if candidate in self.models:
                return self.models[candidate]
        return None

    def cost(self, model_id: str | None, input_tokens: int, output_tokens: int) -> float | None:
        """USD for the tokens alone; 0 without tokens; None when the model is not in the table."""
        if not input_tokens and not output_tokens:
            return 0.0
        price = self.price(model_id) if model_id else None
        if price is None:
            return None
        return (input_tokens * price.input_per_million_usd + output_tokens * price.output_per_million_usd) / 1e6

    def serverless_per_second(self, memory_mb: int) -> float:
        table = self.services.sagemaker_serverless.per_second_usd_by_memory_mb
        if memory_mb in table:
            return table[memory_mb]
        above = [m for m in sorted(table) if m >= memory_mb]  # billed as the next size up
        return table[above[0] if above else max(table)]


def load_price_table(path: Path = PRICES_PATH) -> PriceTable:
    """The validated table; a missing file, bad YAML or a bad key raises :class:`PriceTableError` naming it."""
    import yaml  # on first use: importing the merge handler does not parse YAML

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PriceTableError(f"{path}: cannot read the price table ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise PriceTableError(f"{path}: not valid YAML: {exc}") from exc
    try:
        table = PriceTable.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(root)"
        raise PriceTableError(f"{path}: {where}: {first['msg']}") from None
    return table.model_copy(update={"source": str(path)})


@cache
def _cached_table(path: str, mtime_ns: int) -> PriceTable:
    return load_price_table(Path(path))


def default_prices(path: Path = PRICES_PATH) -> PriceTable:
    """The table deployed with the package, parsed once per file version."""
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise PriceTableError(f"{path}: cannot read the price table ({exc.strerror})") from exc
    return _cached_table(str(path), mtime)


# --- what the stack is, where the record does not say ---------------------------------------------------------------

#: Lambda memory (MB) per function: template.yaml's defaults (Globals 512, Prepare 1024); a unit test checks them.
LAMBDA_MEMORY_MB = {
    "ingest": 512,
    "prepare": 1024,
    "ocr": 512,
    "extract": 512,
    "classify": 512,
    "merge": 512,
    "triage": 512,
}
#: Assumed duration (ms) of invocations whose time the record does not hold.
ASSUMED_MS = {"ingest": 200, "ocr": 1000, "chunk_plan": 300, "triage": 200}
CLASSIFIER_RESPONSE_BYTES = 512
CLASSIFIER_REQUEST_OVERHEAD_BYTES = 32


class Deployment(BaseModel):
    """Sizes of the stack that priced resources have (env ``CLASSIFIER_MEMORY_MB`` in the merge function)."""

    classifier_memory_mb: int = Field(default=2048, ge=1024, le=6144)
    architecture: Literal["x86_64", "arm64"] = "arm64"  # template.yaml Globals: Architectures
    lambda_memory_mb: dict[str, int] = Field(default_factory=lambda: dict(LAMBDA_MEMORY_MB))


# --- state transitions ---------------------------------------------------------------------------------------------

#: States entered by a one-chunk document without OCR or review (a unit test walks the definition to check it).
BASE_PATH = (
    "MarkProcessing",
    "Prepare",
    "NeedsOcr?",
    "CacheOn?",
    "Analyse",
    "ExtractionWanted?",
    "Extract",
    "Chunked?",
    "ExtractionDone",
    "Classify",
    "Merge",
    "PersistResult",
    "NotifyProcessed",
    "NeedsReview?",
    "ReleaseLease",
    "Done",
)
REVIEW_STATES = ("NotifyNeedsReview",)
CACHE_LOOKUP_STATES = ("LookUpCache", "CacheHit?")  # the content cache on; a miss goes on to Analyse
#: A content-cache hit: both model branches skipped.
CACHE_HIT_PATH = (
    "MarkProcessing",
    "Prepare",
    "NeedsOcr?",
    "CacheOn?",
    "LookUpCache",
    "CacheHit?",
    "UseCachedResult",
    "Merge",
    "PersistResult",
    "NotifyProcessed",
    "NeedsReview?",
    "ReleaseLease",
    "Done",
)
CHUNKED_STATES = ("ExtractChunks", "CombineChunks")  # + ExtractChunk per chunk
OCR_STATES = ("StartOcr", "OcrDone?", "UseOcrText")
OCR_POLL_STATES = ("WaitForOcr", "CheckOcr", "OcrDone?")
#: An earlier attempt that ended in a requeue: intake of the analysis, then triage and the requeue path.
REQUEUED_PASS = (
    "MarkProcessing",
    "Prepare",
    "NeedsOcr?",
    "CacheOn?",
    "Analyse",
    "ExtractionWanted?",
    "Extract",
    "Classify",
    "Triage",
    "RequeueOrFail",
    "MarkRequeued",
    "Requeue",
    "ReleaseLease",
    "Done",
)


def state_transitions(record: InsightRecord) -> int:
    """Transitions of the attempt that completed (see the module docstring for the rule)."""
    ocr = 0 if record.ocr is None else len(OCR_STATES) + len(OCR_POLL_STATES) * (record.ocr.polls or 0)
    review = len(REVIEW_STATES) if record.needs_review else 0
    if cache_hit(record):
        return len(CACHE_HIT_PATH) + review + ocr
    count = len(BASE_PATH) + review + ocr
    if record.cache is not None:
        count += len(CACHE_LOOKUP_STATES)
    extraction = record.extraction
    if extraction is None and record.route is not None and record.route.classification_only:
        count -= 2  # ExtractionWanted? -> ExtractionSkipped instead of -> Extract -> Chunked? -> ExtractionDone
    elif extraction is None:
        count -= 1  # Extract -> ExtractionFailed instead of Extract -> Chunked? -> ExtractionDone
    elif extraction.chunks > 1:
        count += len(CHUNKED_STATES) - 1 + extraction.chunks  # ExtractChunks, N x ExtractChunk, CombineChunks
    if record.classification is None:
        count += 1  # ClassificationFailed
    return count


def cache_hit(record: InsightRecord) -> bool:
    return record.cache is not None and record.cache.status == "hit"


# --- the estimate --------------------------------------------------------------------------------------------------


def _round(value: float) -> float:
    return round(value, 12)


def _record_bytes(record: InsightRecord) -> int:
    return len(json.dumps(dump(record.model_copy(update={"cost": None})), ensure_ascii=False).encode("utf-8"))


def _bedrock(record: InsightRecord, prices: PriceTable) -> tuple[float, list[str]]:
    extraction = record.extraction
    usage = record.usage or (extraction.usage if extraction else None)
    if extraction is None or usage is None or cache_hit(record):
        return 0.0, []
    price = prices.price(extraction.model_id)
    if price is None:
        return 0.0, [extraction.model_id]
    cache_read = usage.cache_read_input_tokens or 0
    cache_write = usage.cache_write_input_tokens or 0
    usd = (
        usage.input_tokens * price.input_per_million_usd
        + usage.output_tokens * price.output_per_million_usd
        + cache_read * (price.cache_read_per_million_usd or price.input_per_million_usd)
        + cache_write * (price.cache_write_per_million_usd or price.input_per_million_usd)
    ) / 1e6
    return usd, []


def _sagemaker(record: InsightRecord, prices: PriceTable, deployment: Deployment) -> float:
    classification = record.classification
    if classification is None or cache_hit(record):
        return 0.0
    table = prices.services.sagemaker_serverless
    compute = classification.duration_ms / 1000 * prices.serverless_per_second(deployment.classifier_memory_mb)
    sent = (classification.input_chars + CLASSIFIER_REQUEST_OVERHEAD_BYTES) / GB * table.data_in_per_gb_usd
    received = CLASSIFIER_RESPONSE_BYTES / GB * table.data_out_per_gb_usd
    return compute + sent + received


def _ocr_pages(record: InsightRecord) -> int:
    if record.ocr is None:
        return 0
    return record.ocr.pages_processed if record.ocr.pages_processed is not None else len(record.ocr.pages)


def _invocations(record: InsightRecord) -> list[tuple[str, int]]:
    """(function, billed ms) of every Lambda invocation of the completed attempt."""
    timings = record.timings
    calls = [("ingest", ASSUMED_MS["ingest"]), ("prepare", (timings.prepare_ms if timings else None) or 0)]
    if record.ocr is not None:
        calls += [("ocr", ASSUMED_MS["ocr"])] * (1 + (record.ocr.polls or 0))
    extraction = record.extraction
    extract_ms = (timings.extract_ms if timings else None) or 0
    if cache_hit(record):
        return [*calls, ("merge", (timings.merge_ms if timings else None) or 0)]
    if extraction is None and record.route is not None and record.route.classification_only:
        pass  # no extract invocation
    elif extraction is not None and extraction.chunks > 1:
        calls.append(("extract", ASSUMED_MS["chunk_plan"]))
        per_chunk = (extraction.chunks_duration_ms or 0) // extraction.chunks
        calls += [("extract", per_chunk)] * extraction.chunks
        calls.append(("extract", extract_ms))  # combining the chunks
    else:
        calls.append(("extract", extract_ms))
    calls.append(("classify", (timings.classify_ms if timings else None) or 0))
    calls.append(("merge", (timings.merge_ms if timings else None) or 0))
    return calls


def _gb_seconds(calls: list[tuple[str, int]], deployment: Deployment) -> float:
    """Memory x billed duration (per millisecond, at least 1 ms per invocation)."""
    return sum(deployment.lambda_memory_mb[f] / 1024 * max(1, ms) / 1000 for f, ms in calls)


def _requests(record: InsightRecord, record_bytes: int) -> dict[str, float]:
    """Counts for "other" in the completed attempt."""
    events = 1 + (1 if record.needs_review else 0)
    event_units = events * max(1, math.ceil(record_bytes / EVENT_CHUNK_BYTES))
    item_units = max(1, math.ceil(record_bytes / 1024))
    # QUEUED put, lease put, MarkProcessing, PersistResult, lease delete; StatusIndex: put 1, key changes 2 + 2
    writes = 1 + 1 + 1 + item_units + 1 + 5
    reads = 1.0  # the lease scan (strongly consistent, a small table)
    puts, gets = 2, 3  # text and result PUTs; source GET, text GETs by extract and by classify
    extraction = record.extraction
    if record.cache is not None:
        reads += 0.5 * max(1, math.ceil(record_bytes / 4096))  # LookUpCache: eventually consistent, sized
    if cache_hit(record):
        gets = 1  # only the source
    elif record.cache is not None and record.cache.written:
        writes += max(1, math.ceil(record_bytes / 1024))  # the write-through, about the record's size
    if extraction is not None and extraction.chunks > 1 and not cache_hit(record):
        puts += extraction.chunks  # chunk results
        gets += 2 * extraction.chunks  # the text per chunk, the chunk results when combining
    if record.ocr is not None:
        puts += 1  # the text rewritten with the OCR'd pages
        gets += 2  # the source (DetectDocumentText bytes, or Textract's own read) and the text
    return {
        "events": event_units,
        "writes": writes,
        "reads": reads,
        "sqs": 3 + event_units,  # intake send, receive, delete; the example subscriber queue's sends
        "puts": puts,
        "gets": gets,
    }


def _requeued_pass_usd(record: InsightRecord, prices: PriceTable, deployment: Deployment) -> tuple[float, float, float]:
    """(stepFunctions, lambda, other) USD of one earlier attempt that ended in a requeue."""
    s = prices.services
    arch = s.lambda_.x86_64 if deployment.architecture == "x86_64" else s.lambda_.arm64
    prepare_ms = (record.timings.prepare_ms if record.timings else None) or 0
    calls = [("ingest", ASSUMED_MS["ingest"]), ("prepare", prepare_ms), ("triage", ASSUMED_MS["triage"])]
    gb_s = _gb_seconds(calls, deployment)
    lam = gb_s * arch.per_gb_second_usd + len(calls) * arch.per_million_requests_usd / 1e6
    sfn = len(REQUEUED_PASS) * s.step_functions.standard_per_million_transitions_usd / 1e6
    # DynamoDB: lease put + delete, MarkProcessing, MarkRequeued, StatusIndex 2 + 2; SQS: the requeue send, receive,
    # delete; S3: source GET, text PUT
    other = (
        8 * s.dynamodb.per_million_write_request_units_usd / 1e6
        + 1 * s.dynamodb.per_million_read_request_units_usd / 1e6
        + 3 * s.sqs.per_million_requests_usd / 1e6
        + 1 * s.s3.put_per_thousand_requests_usd / 1e3
        + 1 * s.s3.get_per_thousand_requests_usd / 1e3
    )
    return sfn, lam, other


def estimate(record: InsightRecord, prices: PriceTable, deployment: Deployment | None = None) -> Cost:
    """The cost of this document (one COMPLETED record) at the table's prices. Pure: no clock, no I/O."""
    deployment = deployment or Deployment()
    s = prices.services
    bedrock, unpriced = _bedrock(record, prices)
    sagemaker = _sagemaker(record, prices, deployment)
    textract = _ocr_pages(record) * s.textract.detect_document_text_per_thousand_pages_usd / 1e3
    transitions = state_transitions(record)
    step_functions = transitions * s.step_functions.standard_per_million_transitions_usd / 1e6
    arch = s.lambda_.x86_64 if deployment.architecture == "x86_64" else s.lambda_.arm64
    calls = _invocations(record)
    gb_seconds = _gb_seconds(calls, deployment)
    lambda_ = gb_seconds * arch.per_gb_second_usd + len(calls) * arch.per_million_requests_usd / 1e6
    n = _requests(record, _record_bytes(record))
    other = (
        n["events"] * s.eventbridge.per_million_events_usd / 1e6
        + n["writes"] * s.dynamodb.per_million_write_request_units_usd / 1e6
        + n["reads"] * s.dynamodb.per_million_read_request_units_usd / 1e6
        + n["sqs"] * s.sqs.per_million_requests_usd / 1e6
        + n["puts"] * s.s3.put_per_thousand_requests_usd / 1e3
        + n["gets"] * s.s3.get_per_thousand_requests_usd / 1e3
    )
    earlier = max(0, record.attempt - 1)
    if earlier:
        sfn_pass, lambda_pass, other_pass = _requeued_pass_usd(record, prices, deployment)
        step_functions += earlier * sfn_pass
        lambda_ += earlier * lambda_pass
        other += earlier * other_pass
        transitions += earlier * len(REQUEUED_PASS)
    breakdown = CostBreakdown(
        bedrock=_round(bedrock),
        sagemaker=_round(sagemaker),
        textract=_round(textract),
        step_functions=_round(step_functions),
        lambda_=_round(lambda_),
        other=_round(other),
    )
    parts = (breakdown.bedrock, breakdown.sagemaker, breakdown.textract, breakdown.step_functions)
    return Cost(
        total_usd=_round(sum(parts) + breakdown.lambda_ + breakdown.other),
        breakdown=breakdown,
        prices_version=prices.version,
        state_transitions=transitions,
        lambda_gb_seconds=round(gb_seconds, 6),
        unpriced=unpriced or None,
    )


def express_usd(total_ms: int, prices: PriceTable, *, attempts: int = 1, memory_mb: int = 64) -> float:
    """What one document would cost as an Express workflow: a request per attempt plus ``memory_mb`` (billed in 64 MB
    steps) for the measured duration (``timings.totalMs``, rounded up to 100 ms). For comparison only."""
    sfn = prices.services.step_functions
    seconds = math.ceil(max(0, total_ms) / 100) / 10
    gb = math.ceil(memory_mb / 64) * 64 / 1024
    return max(1, attempts) * sfn.express_per_million_requests_usd / 1e6 + gb * seconds * sfn.express_per_gb_second_usd
