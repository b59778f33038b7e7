"""Long documents: page-aware chunks for extraction, their merge, and a representative sample for classification.

A text longer than the model input limit is not cut. :func:`plan` splits it into chunks of at most
``max_chars`` characters, at page breaks (form feeds) where it can, else at paragraph, line or word boundaries.
The state machine extracts every chunk (a Map state with bounded concurrency); each chunk result is written to
S3 and only its reference travels through the state. :func:`combine` merges the chunk results into one:

- the class is the first chunk's (a document's class shows at its start: title, parties, letterhead; later
  chunks of a report or a contract often look like forms or tables), unless the first chunk found nothing
  better than ``other`` - then the class most chunks chose; fields come from the chunks of that class;
- a single-valued field takes the value with the highest confidence (ties: the earliest chunk);
- list fields are concatenated in document order, duplicates (same normalised value) kept once with the higher
  confidence, and cut at the schema's ``maxItems``;
- title and summary come from the first chunk, language and domain hint from the most chunks, key phrases are
  the union (first ten); token usage is summed.

Evidence pages stay right because each chunk's evidence is checked against its own text with the page number of
its first character.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from docproc import classes, evidence, extraction
from docproc.models import (
    DocumentRef,
    Extraction,
    ExtractionResult,
    Fields,
    FieldValue,
    PreparedDocument,
    TokenUsage,
    WireModel,
    dump,
)
from docproc.storage import chunk_key, read_text, write_object

PAGE_BREAK = "\f"
MAX_CHUNKS = 40
SAMPLE_HEAD_SHARE = 0.5  # of a classification sample: the start of the document, the rest spread over the whole
SAMPLE_WINDOWS = 8

_BOUNDARIES = ("\n\n", "\n", ". ", " ")


class ChunkRef(WireModel):
    """One slice of the document text: ``text[start:end]``, whose first character is on page ``first_page``."""

    index: int
    start: int
    end: int
    first_page: int


class ChunkPlan(WireModel):
    chunks: list[ChunkRef]
    total_chars: int
    dropped_chars: int = 0  # beyond MAX_CHUNKS chunks (the record says the input was cut)


def plan(text: str, max_chars: int, max_chunks: int = MAX_CHUNKS) -> ChunkPlan:
    """Chunks of at most ``max_chars`` covering ``text`` in order, cut at page breaks where possible."""
    chunks: list[ChunkRef] = []
    start = 0
    while start < len(text) and len(chunks) < max_chunks:
        end = _cut(text, start, max_chars)
        chunks.append(ChunkRef(index=len(chunks), start=start, end=end, first_page=page_at(text, start)))
        start = end
    return ChunkPlan(chunks=chunks, total_chars=len(text), dropped_chars=max(0, len(text) - start))


def _cut(text: str, start: int, max_chars: int) -> int:
    limit = start + max_chars
    if limit >= len(text):
        return len(text)
    window = text[start:limit]
    floor = max_chars // 2  # never make a chunk smaller than half the limit to find a nicer boundary
    page = window.rfind(PAGE_BREAK)
    if page >= floor:
        return start + page  # the next chunk starts with the form feed: its first page is the new one
    for boundary in _BOUNDARIES:
        at = window.rfind(boundary)
        if at >= floor:
            return start + at + len(boundary)
    return limit


def page_at(text: str, offset: int) -> int:
    return 1 + text.count(PAGE_BREAK, 0, offset)


def sample(text: str, max_chars: int, windows: int = SAMPLE_WINDOWS) -> str:
    """A representative sample of a long text: its start plus evenly spaced windows over the rest."""
    if len(text) <= max_chars:
        return text
    head = int(max_chars * SAMPLE_HEAD_SHARE)
    size = (max_chars - head) // windows - 1
    rest = len(text) - head
    parts = [text[:head]]
    for k in range(windows):
        at = head + (rest * (2 * k + 1)) // (2 * windows) - size // 2
        parts.append(text[at : at + size])
    return "\n".join(parts)


# --- merging chunk results -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChunkResult:
    ref: ChunkRef
    result: ExtractionResult


def combine(
    results: list[ChunkResult], plan_: ChunkPlan, config: classes.ClassConfig, *, duration_ms: int
) -> ExtractionResult:
    """One extraction result from the results of every chunk (see the module docstring for the rules)."""
    if not results:
        raise ValueError("no chunk results to combine")
    ordered = sorted(results, key=lambda r: r.ref.index)
    document_class = ordered[0].result.document_class
    if document_class == classes.FALLBACK_CLASS:
        votes = Counter(r.result.document_class for r in ordered if r.result.document_class != classes.FALLBACK_CLASS)
        if votes:
            best = max(votes.values())
            document_class = next(c for c in votes if votes[c] == best)  # Counter keeps first-seen order
    chosen = [r for r in ordered if r.result.document_class == document_class]
    schema = config.get(document_class).schema if document_class in config else {"properties": {}}
    fields = _merge_fields([r.result.fields or {} for r in chosen], schema)
    first = ordered[0].result
    insights = Extraction(
        title=first.extraction.title,
        summary=first.extraction.summary,
        language=_most(r.result.extraction.language for r in ordered),
        domain_hint=_most(r.result.extraction.domain_hint for r in ordered),
        key_phrases=list(dict.fromkeys(p for r in ordered for p in r.result.extraction.key_phrases))[:10],
    )
    usage = TokenUsage(
        input_tokens=sum(r.result.usage.input_tokens for r in ordered),
        output_tokens=sum(r.result.usage.output_tokens for r in ordered),
        total_tokens=sum(r.result.usage.total_tokens for r in ordered),
    )
    return ExtractionResult(
        document_class=document_class,
        config_version=first.config_version,
        extraction=insights,
        fields=fields,
        unverified_fields=evidence.unverified(fields),
        model_id=first.model_id,
        usage=usage,
        duration_ms=duration_ms,
        chunks_duration_ms=sum(r.result.duration_ms for r in ordered),
        input_chars=sum(r.result.input_chars for r in ordered),
        input_truncated=plan_.dropped_chars > 0,
        repaired=any(r.result.repaired for r in ordered),
        chunks=len(ordered),
    )


def _most(values: Any) -> Any:
    counts = Counter(values)
    best = max(counts.values())
    return next(v for v in counts if counts[v] == best)  # Counter keeps first-seen order


def _key(value: Any) -> str:
    return evidence.normalise(json.dumps(value, sort_keys=True, ensure_ascii=False))


def _merge_fields(per_chunk: list[Fields], schema: dict[str, Any]) -> Fields:
    merged: dict[str, FieldValue | list[FieldValue]] = {}
    properties = schema.get("properties", {})
    for fields in per_chunk:
        for name, item in fields.items():
            if isinstance(item, list):
                bucket = merged.setdefault(name, [])
                assert isinstance(bucket, list)
                seen = {_key(v.value): i for i, v in enumerate(bucket)}
                for value in item:
                    at = seen.get(_key(value.value))
                    if at is None:
                        seen[_key(value.value)] = len(bucket)
                        bucket.append(value)
                    elif value.confidence > bucket[at].confidence:
                        bucket[at] = value
            else:
                current = merged.get(name)
                if not isinstance(current, FieldValue) or item.confidence > current.confidence:
                    merged[name] = item
    for name, item in merged.items():
        limit = properties.get(name, {}).get("maxItems")
        if isinstance(item, list) and isinstance(limit, int):
            merged[name] = item[:limit]
    return merged


# --- the extract branch's three steps ------------------------------------------------------------------------------


class ChunkedBranch(WireModel):
    """What the extract function answers for a text over the limit: the Map state extracts every chunk."""

    status: Literal["CHUNKED"] = "CHUNKED"
    plan: ChunkPlan
    chunks: list[ChunkRef]
    max_concurrency: int


class ChunkTask(WireModel):
    document: DocumentRef
    prepared: PreparedDocument
    chunk: ChunkRef


class ChunkOutput(WireModel):
    index: int
    result_uri: str
    document_class: str


class CombineTask(WireModel):
    document: DocumentRef
    prepared: PreparedDocument
    plan: ChunkPlan
    chunk_results: list[ChunkOutput]


def extract_chunk(
    task: ChunkTask, text: str, *, bedrock: Any, model_id: str, s3: Any, bucket: str, **options: Any
) -> ChunkOutput:
    """Extract one chunk and write its result to S3 (only the reference goes back into the state). ``options``: more
    keywords of :func:`docproc.extraction.extract` (an experiment variant's settings, the guardrail)."""
    ref = task.chunk
    result = extraction.extract(
        text[ref.start : ref.end],
        bedrock=bedrock,
        model_id=model_id,
        max_input_chars=ref.end - ref.start,
        first_page=ref.first_page,
        **options,
    )
    body = json.dumps(dump(result), ensure_ascii=False).encode("utf-8")
    uri = write_object(s3, bucket, chunk_key(task.document.document_id, ref.index), body, "application/json")
    return ChunkOutput(index=ref.index, result_uri=uri, document_class=result.document_class)


def combine_chunks(task: CombineTask, *, s3: Any, started: float) -> ExtractionResult:
    config = classes.load()
    results = []
    for output in task.chunk_results:
        raw = read_text(s3, output.result_uri)
        ref = next(c for c in task.plan.chunks if c.index == output.index)
        results.append(ChunkResult(ref=ref, result=ExtractionResult.model_validate_json(raw)))
    elapsed = int((time.perf_counter() - started) * 1000)
    return combine(results, task.plan, config, duration_ms=elapsed)
