"""Per-variant measures of an experiment, from its records.

Per document (COMPLETED records unless said otherwise):

* latency: ``timings.totalMs`` (queued to completed); tokens: ``usage`` input + output; cost: ``cost.totalUsd``;
* schema-valid: the extraction branch ended with output valid against the class schema (within the one repair
  round), out of the documents whose extraction answered or failed with ``MODEL_OUTPUT_INVALID``;
* repair: the extraction needed the repair round (``extraction.repaired``), out of the extracted documents;
* agreement: the classifier's domain equals the model's domain hint (``agreement.agrees``), out of the documents
  with both branches;
* needs-review: ``needsReview``, out of the COMPLETED documents;
* field F1 (``--golden DIR``): records whose source key ends in a golden document's name, scored by
  :mod:`docproc_local.evaluation.scoring` exactly as ``docproc evaluate`` scores them (micro F1 over all fields).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docproc_local.experiments import stats

RATES = ("schemaValid", "repair", "agreement", "needsReview")
HIGHER_IS_BETTER = {
    "schemaValid": True,
    "repair": False,
    "agreement": True,
    "needsReview": False,
    "latencyMs": False,
    "totalTokens": False,
    "costUsd": False,
    "fieldF1": True,
}
QUALITY = ("schemaValid", "agreement", "needsReview", "fieldF1")  # a significant loss here rolls back


@dataclass
class Rate:
    successes: int = 0
    n: int = 0

    @property
    def value(self) -> float | None:
        return self.successes / self.n if self.n else None

    def add(self, success: bool) -> None:
        self.n += 1
        self.successes += int(success)


@dataclass
class VariantData:
    name: str
    documents: int = 0
    completed: int = 0
    failed: int = 0
    partial: int = 0
    latency_ms: list[float] = field(default_factory=list)
    input_tokens: list[float] = field(default_factory=list)
    output_tokens: list[float] = field(default_factory=list)
    cost_usd: list[float] = field(default_factory=list)
    rates: dict[str, Rate] = field(default_factory=lambda: {name: Rate() for name in RATES})
    field_f1: dict[str, Any] | None = None  # scoring.prf of the golden-matched documents
    field_f1_per_document: list[float] = field(default_factory=list)  # for the t-test
    golden_documents: int = 0
    model_ids: set[str] = field(default_factory=set)

    @property
    def total_tokens(self) -> list[float]:
        return [a + b for a, b in zip(self.input_tokens, self.output_tokens, strict=True)]

    def to_json(self) -> dict[str, Any]:
        def summary(values: Sequence[float]) -> dict[str, Any]:
            return {
                "n": len(values),
                "mean": sum(values) / len(values) if values else None,
                "p50": stats.percentile(values, 50),
                "p95": stats.percentile(values, 95),
            }

        return {
            "documents": self.documents,
            "completed": self.completed,
            "failed": self.failed,
            "partial": self.partial,
            "modelIds": sorted(self.model_ids),
            "latencyMs": summary(self.latency_ms),
            "inputTokens": summary(self.input_tokens),
            "outputTokens": summary(self.output_tokens),
            "totalTokens": summary(self.total_tokens),
            "costPerDocumentUsd": summary(self.cost_usd),
            "rates": {k: {"value": r.value, "successes": r.successes, "n": r.n} for k, r in self.rates.items()},
            "fieldF1": self.field_f1,
            "goldenDocuments": self.golden_documents,
        }


def collect(records: Sequence[Mapping[str, Any]], variant_names: Sequence[str]) -> dict[str, VariantData]:
    """Per-variant data, in ``variant_names`` order (variants seen in records but not configured come after)."""
    out = {name: VariantData(name) for name in variant_names}
    for record in records:
        name = str((record.get("experiment") or {}).get("variant"))
        data = out.setdefault(name, VariantData(name))
        _add(data, record)
    return out


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _add(data: VariantData, record: Mapping[str, Any]) -> None:
    data.documents += 1
    if record.get("status") == "FAILED":
        data.failed += 1
        return
    data.completed += 1
    data.partial += int(bool(record.get("partial")))
    extraction = record.get("extraction") or {}
    if extraction.get("modelId"):
        data.model_ids.add(str(extraction["modelId"]))
    if (total := _number((record.get("timings") or {}).get("totalMs"))) is not None:
        data.latency_ms.append(total)
    usage = record.get("usage") or extraction.get("usage")
    if usage:
        data.input_tokens.append(float(usage.get("inputTokens") or 0))
        data.output_tokens.append(float(usage.get("outputTokens") or 0))
    if isinstance(record.get("cost"), Mapping) and (usd := _number(record["cost"].get("totalUsd"))) is not None:
        data.cost_usd.append(usd)
    invalid = any(
        m.get("part") == "extraction" and m.get("reasonCode") == "MODEL_OUTPUT_INVALID"
        for m in record.get("missing") or []
    )
    if extraction or invalid:
        data.rates["schemaValid"].add(bool(extraction) and not invalid)
    if extraction:
        data.rates["repair"].add(bool(extraction.get("repaired")))
    agrees = (record.get("agreement") or {}).get("agrees")
    if agrees is not None:
        data.rates["agreement"].add(bool(agrees))
    data.rates["needsReview"].add(bool(record.get("needsReview")))


def add_field_f1(
    variants: Mapping[str, VariantData], records: Sequence[Mapping[str, Any]], golden_dir: Path
) -> dict[str, int]:
    """Score the records of golden documents per variant (reusing docproc evaluate's scoring); returns the number of
    records matched to a golden document per variant."""
    from docproc import classes
    from docproc_local.evaluation import golden, scoring

    config = classes.load()
    documents = {doc.name: doc for doc in golden.load(golden_dir, config)}
    outcomes: dict[str, list[Any]] = {name: [] for name in variants}
    for record in records:
        key = str((record.get("source") or {}).get("key") or "")
        doc = documents.get(key.rsplit("/", 1)[-1])
        if doc is None:
            continue
        name = str((record.get("experiment") or {}).get("variant"))
        outcomes.setdefault(name, []).append(scoring.score_document(doc, record, config, key=key))
    for name, variant_outcomes in outcomes.items():
        if name in variants and variant_outcomes:
            variants[name].field_f1 = scoring.field_metrics(variant_outcomes, config)["overall"]
            variants[name].golden_documents = len(variant_outcomes)
            for outcome in variant_outcomes:
                tp, fp, fn = (sum(getattr(f, k) for f in outcome.fields) for k in ("tp", "fp", "fn"))
                if tp + fp + fn:
                    variants[name].field_f1_per_document.append(scoring.prf(tp, fp, fn)["f1"])
    return {name: len(o) for name, o in outcomes.items()}
