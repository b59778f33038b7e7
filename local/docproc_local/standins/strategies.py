"""How the Bedrock stand-in behaves for a given model id: the extraction strategy it answers with.

Experiments compare models, so locally two model ids must behave differently in ways a report can measure - and for
reasons, not noise. Every model id gets :data:`FULL` (the extractor as it is), except the ids in
:data:`LITE_MODELS` (Amazon Nova Micro by default; ``DOCPROC_LOCAL_LITE_MODELS`` = comma-separated id prefixes
overrides the list), which get :data:`LITE`, a smaller model's habits:

* it reads only the first :attr:`Strategy.read_chars` characters of the document (a short effective context):
  fields stated further down are missed, and there is less text to work through, so it answers faster;
* it uses fewer cues: a value found only by a heuristic (confidence below :attr:`Strategy.min_confidence`, e.g. the
  first date taken as the document's date) is left out, so it states fewer fields;
* it does not track pages: every quote says page 1, so on multi-page PDFs the pipeline's evidence check moves
  quotes to their page (``page_corrected``, confidence x 0.9);
* it writes less: a one-sentence summary and at most :attr:`Strategy.key_phrases` key phrases, so fewer output
  tokens;
* on the first round it writes amounts as formatted text (``"1,234.50"``) where the schema asks for numbers - unless
  the tool is ``strict`` - so documents with amounts fail validation once and need the pipeline's repair round
  (a second call: more tokens, more time); told the error in a ``toolResult``, it answers with numbers.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LITE_MODELS_ENV = "DOCPROC_LOCAL_LITE_MODELS"
LITE_MODELS: tuple[str, ...] = ("amazon.nova-micro",)
_PROFILE_RE = re.compile(r"^(?:us|eu|apac|us-gov|global|jp|au|ca)\.")
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Strategy:
    name: str
    read_chars: int | None = None  # None: the whole text (the extractor's own limits apply)
    min_confidence: float = 0.0
    track_pages: bool = True
    summary_sentences: int | None = None  # None: the extractor's summary
    key_phrases: int = 10
    numbers_as_text_first: bool = False

    def reading(self, text: str) -> str:
        """The part of the document this model takes in."""
        return text if self.read_chars is None else text[: self.read_chars]

    def shape(self, tool_input: dict[str, Any]) -> dict[str, Any]:
        """The tool input as this model writes it (fields, pages, summary, key phrases)."""
        if self is FULL:
            return tool_input
        out = dict(tool_input)
        out["fields"] = {
            name: kept
            for name, raw in (tool_input.get("fields") or {}).items()
            if (kept := self._keep(raw)) not in (None, [])
        }
        if self.summary_sentences is not None and isinstance(out.get("summary"), str):
            sentences = _SENTENCE_RE.split(out["summary"].strip())
            out["summary"] = " ".join(sentences[: self.summary_sentences])
        out["key_phrases"] = list(out.get("key_phrases") or [])[: self.key_phrases]
        return out

    def _keep(self, raw: Any) -> Any:
        if isinstance(raw, list):
            return [item for item in (self._keep(i) for i in raw) if item is not None]
        if not isinstance(raw, Mapping) or float(raw.get("confidence") or 0) < self.min_confidence:
            return None
        envelope = dict(raw)
        if not self.track_pages and isinstance(envelope.get("evidence"), Mapping):
            envelope["evidence"] = {**envelope["evidence"], "page": 1}
        return envelope

    def first_round(self, tool_input: dict[str, Any], *, strict: bool, repairing: bool) -> dict[str, Any]:
        """What it sends on a first attempt: amounts as text (a schema error) unless strict or being repaired."""
        if not self.numbers_as_text_first or strict or repairing:
            return tool_input
        return {**tool_input, "fields": _numbers_as_text(tool_input.get("fields") or {})}


FULL = Strategy("full")
LITE = Strategy(
    "lite",
    read_chars=4_000,
    min_confidence=0.6,
    track_pages=False,
    summary_sentences=1,
    key_phrases=5,
    numbers_as_text_first=True,
)


def lite_models(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    env = os.environ if environ is None else environ
    listed = env.get(LITE_MODELS_ENV)
    if listed is None:
        return LITE_MODELS
    return tuple(p.strip() for p in listed.split(",") if p.strip())


def for_model(model_id: str, environ: Mapping[str, str] | None = None) -> Strategy:
    """The strategy for a model id (ARN and inference-profile prefixes ignored)."""
    base = _PROFILE_RE.sub("", model_id.rsplit("/", 1)[-1])
    return LITE if any(base.startswith(prefix) for prefix in lite_models(environ)) else FULL


def _numbers_as_text(fields: Mapping[str, Any]) -> dict[str, Any]:
    def envelope(raw: Any) -> Any:
        if isinstance(raw, list):
            return [envelope(item) for item in raw]
        if isinstance(raw, Mapping) and "value" in raw:
            return {**raw, "value": _as_text(raw["value"])}
        return raw

    return {name: envelope(raw) for name, raw in fields.items()}


def _as_text(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, Mapping):
        return {k: _as_text(v) for k, v in value.items()}
    return value
