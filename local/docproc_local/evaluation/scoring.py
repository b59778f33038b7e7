"""Score records against a golden set: per-document outcomes, then the metrics of the whole run.

Counting rules:

* A scalar field is a list of at most one value, so every field is scored by :func:`matching.match_list`: each
  assigned pair that passes is a TP, every other predicted value a FP, every other expected value a FN.
* When the predicted class is wrong, every expected value counts as a FN (under ``expected_class.field``) and
  every predicted value as a FP (under ``predicted_class.field``).
* A FAILED record, or none within the timeout (status ``UNFINISHED``), is wrong everywhere: no domain, no class,
  every expected value a FN. It is listed with its reason code.
* Calibration: every predicted value (list items one by one) with its ``confidence`` against whether it was
  correct; values without a confidence are counted but left out. Records: the overall ``confidence`` against
  "record right" (class and domain right, and the document's field F1 at least :data:`RECORD_FIELD_F1`); records
  without one are left out. "Fully correct" (class right and every field without FP or FN) is reported as a count.
* Percentiles are nearest-rank (p95 of 20 values is the 19th smallest).
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from docproc.classes import ClassConfig
from docproc_local.evaluation.costs import Prices, document_cost, record_cost
from docproc_local.evaluation.golden import GoldenDocument
from docproc_local.evaluation.matching import FieldSpec, field_spec, match_list

BINS = 10
NONE = "(none)"  # the predicted label of a FAILED or unfinished document
_ENVELOPE_KEYS = {"value", "confidence", "modelConfidence", "evidence", "flags"}


@dataclass(frozen=True)
class FieldOutcome:
    field: str  # "class.field"
    tp: int
    fp: int
    fn: int
    expected: Any = None  # the plain expected value (None: not in the document)
    predicted: Any = None  # the plain predicted value(s) (None: not predicted)
    mismatches: tuple[str, ...] = ()
    predictions: tuple[tuple[float | None, bool], ...] = ()  # (confidence, correct) per predicted value

    @property
    def correct(self) -> bool:
        return self.fp == 0 and self.fn == 0


RECORD_FIELD_F1 = 0.8  # a record is "right" for record calibration when its field F1 reaches this


@dataclass
class DocumentOutcome:
    name: str
    expected_class: str
    expected_domain: str
    status: str  # COMPLETED, FAILED, UNFINISHED
    predicted_class: str | None = None
    predicted_domain: str | None = None
    key: str = ""
    document_id: str = ""
    reason_code: str = ""
    error_message: str = ""
    confidence: float | None = None
    fields: list[FieldOutcome] = field(default_factory=list)
    model_id: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None  # the record's own cost.totalUsd
    latency_ms: float | None = None
    needs_review: bool | None = None

    @property
    def class_correct(self) -> bool:
        return self.status == "COMPLETED" and self.predicted_class == self.expected_class

    @property
    def domain_correct(self) -> bool:
        return self.status == "COMPLETED" and self.predicted_domain == self.expected_domain

    @property
    def fully_correct(self) -> bool:
        return self.class_correct and all(f.correct for f in self.fields)

    @property
    def field_f1(self) -> float:
        """F1 over this document's fields (1.0 when nothing was expected and nothing predicted)."""
        tp, fp, fn = (sum(getattr(f, n) for f in self.fields) for n in ("tp", "fp", "fn"))
        return 1.0 if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)

    @property
    def record_correct(self) -> bool:
        return self.class_correct and self.domain_correct and self.field_f1 >= RECORD_FIELD_F1


# --- one document --------------------------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def unwrap(raw: Any) -> list[tuple[Any, float | None]]:
    """(value, confidence) per predicted value of a record field (an envelope or a list of envelopes)."""
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for item in items:
        if isinstance(item, Mapping) and "value" in item and set(item) <= _ENVELOPE_KEYS:
            out.append((item["value"], _number(item.get("confidence"))))
        else:
            out.append((item, None))
    return out


def _spec(config: ClassConfig, class_name: str, name: str, override: str | None = None) -> FieldSpec:
    if class_name in config and name in config.get(class_name).field_names:
        return field_spec(name, config.get(class_name).schema["properties"][name], override)
    return FieldSpec(kind=override or "fuzzy")


def _plain(values: list[Any], is_list: bool) -> Any:
    if not values:
        return None
    return values if is_list or len(values) > 1 else values[0]


def score_field(
    qualified: str, spec: FieldSpec, expected: Any, predicted: list[tuple[Any, float | None]]
) -> FieldOutcome:
    """Compare one field of one document (class known to be right)."""
    expected_items = [] if expected is None else (list(expected) if isinstance(expected, list) else [expected])
    values = [v for v, _ in predicted]
    result = match_list(spec, expected_items, values)
    if spec.is_list:  # each item explained with its value
        mismatches = [c.detail for _, _, c in result.pairs if c.detail]
        mismatches += [f"missing {_short(expected_items[i])}" for i in result.unmatched_expected]
        mismatches += [f"unexpected {_short(values[i])}" for i in result.unmatched_predicted]
    else:  # the values themselves sit next to the reason in the report
        mismatches = [c.why for _, _, c in result.pairs if not c.passed]
        mismatches += ["missing"] * len(result.unmatched_expected)
        mismatches += ["not in the document"] * len(result.unmatched_predicted)
    tp = result.true_positives
    return FieldOutcome(
        field=qualified,
        tp=tp,
        fp=len(values) - tp,
        fn=len(expected_items) - tp,
        expected=expected,
        predicted=_plain(values, spec.is_list),
        mismatches=tuple(mismatches),
        predictions=tuple((conf, result.predicted_correct(i)) for i, (_, conf) in enumerate(predicted)),
    )


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:79] + "…"


def score_document(
    golden: GoldenDocument, record: Mapping[str, Any] | None, config: ClassConfig, key: str = ""
) -> DocumentOutcome:
    """The outcome of one golden document given its final record (None: no terminal record in time)."""
    outcome = DocumentOutcome(
        name=golden.name, expected_class=golden.class_name, expected_domain=golden.domain, status="UNFINISHED", key=key
    )
    if record is None:
        outcome.reason_code = "TIMEOUT"
        outcome.error_message = "no COMPLETED or FAILED record before the timeout"
    else:
        _read_record(outcome, record)
    completed = outcome.status == "COMPLETED"
    predicted_fields: Mapping[str, Any] = (record or {}).get("fields") or {} if completed else {}
    if not isinstance(predicted_fields, Mapping):
        predicted_fields = {}
    if outcome.class_correct:
        cls = config.get(golden.class_name)
        names = [*cls.field_names, *sorted(set(golden.fields) - set(cls.field_names))]
        names += sorted(set(predicted_fields) - set(names))
        for name in names:
            if name not in golden.fields and name not in predicted_fields:
                continue
            spec = _spec(config, golden.class_name, name, golden.match.get(name))
            outcome.fields.append(
                score_field(
                    f"{golden.class_name}.{name}", spec, golden.fields.get(name), unwrap(predicted_fields.get(name))
                )
            )
        return outcome
    why = f"class {outcome.predicted_class} instead of {golden.class_name}" if completed else outcome.status.lower()
    for name, value in golden.fields.items():
        count = len(value) if isinstance(value, list) else 1
        outcome.fields.append(
            FieldOutcome(f"{golden.class_name}.{name}", 0, 0, count, expected=value, mismatches=(f"missing ({why})",))
        )
    predicted_class = outcome.predicted_class or NONE
    for name, raw in predicted_fields.items():
        values = unwrap(raw)
        outcome.fields.append(
            FieldOutcome(
                f"{predicted_class}.{name}",
                0,
                len(values),
                0,
                predicted=_plain([v for v, _ in values], isinstance(raw, list)),
                mismatches=(f"unexpected ({why})",),
                predictions=tuple((conf, False) for _, conf in values),
            )
        )
    return outcome


def _read_record(outcome: DocumentOutcome, record: Mapping[str, Any]) -> None:
    outcome.status = str(record.get("status") or "UNFINISHED")
    outcome.document_id = str(record.get("documentId") or "")
    usage = record.get("usage") or (record.get("extraction") or {}).get("usage") or {}
    outcome.input_tokens = int(usage.get("inputTokens") or 0)
    outcome.output_tokens = int(usage.get("outputTokens") or 0)
    outcome.cost_usd = record_cost(record)
    outcome.model_id = (record.get("extraction") or {}).get("modelId")
    outcome.latency_ms = _number((record.get("timings") or {}).get("totalMs"))
    if outcome.status == "COMPLETED":
        outcome.predicted_class = record.get("documentClass")
        outcome.predicted_domain = (record.get("classification") or {}).get("domain")
        outcome.confidence = _number(record.get("confidence"))
        outcome.needs_review = record.get("needsReview")
        return
    error = record.get("error") or {}
    if outcome.status == "FAILED":
        outcome.reason_code = str(error.get("reasonCode") or record.get("reasonCode") or "UNKNOWN")
        outcome.error_message = str(error.get("message") or "")
    else:  # QUEUED / PROCESSING at the deadline
        outcome.reason_code = "TIMEOUT"
        outcome.error_message = f"still {outcome.status} at the deadline"
        outcome.status = "UNFINISHED"


# --- metrics -------------------------------------------------------------------------------------------------------


def prf(tp: int, fp: int, fn: int) -> dict[str, Any]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn, "support": tp + fn}


def label_metrics(pairs: Sequence[tuple[str, str | None]]) -> dict[str, Any]:
    """Per-label precision/recall/F1 over the labels present on the expected side, their macro-F1, accuracy and
    the confusion matrix (rows: expected labels; columns: those, then other predicted labels, then "(none)")."""
    expected_labels = sorted({e for e, _ in pairs})
    predicted = [p if p is not None else NONE for _, p in pairs]
    others = sorted({p for p in predicted if p not in expected_labels and p != NONE})
    columns = [*expected_labels, *others, *([NONE] if NONE in predicted else [])]
    per_label = {}
    for label in expected_labels:
        tp = sum(1 for (e, _), p in zip(pairs, predicted, strict=True) if e == label and p == label)
        fp = sum(1 for (e, _), p in zip(pairs, predicted, strict=True) if e != label and p == label)
        fn = sum(1 for (e, _), p in zip(pairs, predicted, strict=True) if e == label and p != label)
        per_label[label] = prf(tp, fp, fn)
    matrix = [
        [sum(1 for (e, _), p in zip(pairs, predicted, strict=True) if e == row and p == col) for col in columns]
        for row in expected_labels
    ]
    correct = sum(1 for (e, _), p in zip(pairs, predicted, strict=True) if e == p)
    return {
        "accuracy": correct / len(pairs) if pairs else 0.0,
        "macro_f1": sum(m["f1"] for m in per_label.values()) / len(per_label) if per_label else 0.0,
        "per_label": per_label,
        "confusion": {"rows": expected_labels, "columns": columns, "matrix": matrix},
    }


def field_metrics(outcomes: Sequence[DocumentOutcome], config: ClassConfig) -> dict[str, Any]:
    """Per ``class.field`` and overall (micro) precision/recall/F1; fields in class-configuration order."""
    totals: dict[str, list[int]] = {}
    for outcome in outcomes:
        for f in outcome.fields:
            counts = totals.setdefault(f.field, [0, 0, 0])
            counts[0] += f.tp
            counts[1] += f.fp
            counts[2] += f.fn
    order = {f"{c.name}.{n}": (i, j) for i, c in enumerate(config.classes) for j, n in enumerate(c.field_names)}
    keys = sorted(totals, key=lambda k: (order.get(k, (len(order), 0)), k))
    tp, fp, fn = (sum(totals[k][i] for k in keys) for i in range(3))
    return {"overall": prf(tp, fp, fn), "per_field": {k: prf(*totals[k]) for k in keys}}


def selected_f1(per_field: Mapping[str, Mapping[str, Any]], selector: str) -> dict[str, Any] | None:
    """Micro P/R/F1 over the fields a gate names: ``total`` (that field in every class) or ``invoice.total``."""
    keys = [k for k in per_field if k == selector or ("." not in selector and k.split(".", 1)[1] == selector)]
    if not keys:
        return None
    return prf(*(sum(per_field[k][m] for k in keys) for m in ("tp", "fp", "fn")))


def calibration(points: Sequence[tuple[float, bool]], bins: int = BINS) -> dict[str, Any]:
    """Expected calibration error over equal-width bins ((low, high], the first also holding 0) and every bin's
    count, mean confidence and accuracy (None for an empty bin)."""
    points = [(min(1.0, max(0.0, c)), ok) for c, ok in points]
    table, ece = [], 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [(c, ok) for c, ok in points if low < c <= high or (b == 0 and c <= 0.0)]
        row: dict[str, Any] = {"bin": f"{low:.1f}-{high:.1f}", "low": low, "high": high, "count": len(members)}
        row["confidence"] = sum(c for c, _ in members) / len(members) if members else None
        row["accuracy"] = sum(1 for _, ok in members if ok) / len(members) if members else None
        if members:
            ece += len(members) / len(points) * abs(row["accuracy"] - row["confidence"])
        table.append(row)
    return {"ece": ece if points else None, "values": len(points), "bins": table}


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def cost_metrics(outcomes: Sequence[DocumentOutcome], prices: Prices | None, prices_path: str) -> dict[str, Any]:
    per_document = [document_cost(o.cost_usd, prices, o.model_id, o.input_tokens, o.output_tokens) for o in outcomes]
    unpriced = sorted(
        {
            o.model_id or "(unknown model)"
            for o, c in zip(outcomes, per_document, strict=True)
            if c is None and prices is not None
        }
    )
    known = [c for c in per_document if c is not None]
    complete = bool(outcomes) and len(known) == len(outcomes)
    if prices is None:
        note = f"no price table at {prices_path}"
    elif unpriced:
        note = f"model(s) not in {prices.source or prices_path}: {', '.join(unpriced)}"
    else:
        note = ""
    return {
        "priced": complete,
        "note": note,
        "price_table": prices.source if prices else None,
        "price_table_version": prices.version if prices else None,
        "input_tokens": sum(o.input_tokens for o in outcomes),
        "output_tokens": sum(o.output_tokens for o in outcomes),
        "total_usd": sum(known) if complete else None,
        "per_document_usd": sum(known) / len(outcomes) if complete else None,
        "median_usd": statistics.median(known) if complete else None,
        "p95_usd": percentile(known, 95) if complete else None,
        "documents": per_document,
    }


def latency_metrics(outcomes: Sequence[DocumentOutcome]) -> dict[str, Any]:
    seconds = [o.latency_ms / 1000 for o in outcomes if o.latency_ms is not None]
    return {
        "documents": len(seconds),
        "median_s": statistics.median(seconds) if seconds else None,
        "p95_s": percentile(seconds, 95),
        "max_s": max(seconds) if seconds else None,
    }


def summarise(
    outcomes: Sequence[DocumentOutcome], config: ClassConfig, prices: Prices | None, prices_path: str = ""
) -> dict[str, Any]:
    """Every number of the report (JSON-able)."""
    domains = label_metrics(
        [(o.expected_domain, o.predicted_domain if o.status == "COMPLETED" else None) for o in outcomes]
    )
    classes = label_metrics(
        [(o.expected_class, o.predicted_class if o.status == "COMPLETED" else None) for o in outcomes]
    )
    fields = field_metrics(outcomes, config)
    values = [p for o in outcomes for f in o.fields for p in f.predictions]
    field_points = [(c, ok) for c, ok in values if c is not None]
    record_points = [(o.confidence, o.record_correct) for o in outcomes if o.confidence is not None]
    field_calibration = calibration(field_points) | {"without_confidence": len(values) - len(field_points)}
    record_calibration = calibration(record_points) | {"without_confidence": len(outcomes) - len(record_points)}
    costs = cost_metrics(outcomes, prices, prices_path)
    latency = latency_metrics(outcomes)
    statuses = [o.status for o in outcomes]
    return {
        "summary": {
            "documents": len(outcomes),
            "completed": statuses.count("COMPLETED"),
            "failed": statuses.count("FAILED"),
            "unfinished": statuses.count("UNFINISHED"),
            "fully_correct": sum(1 for o in outcomes if o.fully_correct),
            "records_right": sum(1 for o in outcomes if o.record_correct),
            "domain_macro_f1": domains["macro_f1"],
            "domain_accuracy": domains["accuracy"],
            "class_accuracy": classes["accuracy"],
            "class_macro_f1": classes["macro_f1"],
            "field_precision": fields["overall"]["precision"],
            "field_recall": fields["overall"]["recall"],
            "field_f1": fields["overall"]["f1"],
            "field_ece": field_calibration["ece"],
            "record_ece": record_calibration["ece"],
            "cost_per_document_usd": costs["per_document_usd"],
            "latency_median_s": latency["median_s"],
            "latency_p95_s": latency["p95_s"],
        },
        "domain": domains,
        "class": classes,
        "fields": fields,
        "calibration": {"fields": field_calibration, "records": record_calibration},
        "cost": costs,
        "latency": latency,
        "failed": [
            {"file": o.name, "status": o.status, "reasonCode": o.reason_code, "message": o.error_message}
            for o in outcomes
            if o.status != "COMPLETED"
        ],
        "documents": [_document_json(o, c) for o, c in zip(outcomes, costs["documents"], strict=True)],
    }


def _document_json(o: DocumentOutcome, cost: float | None) -> dict[str, Any]:
    return {
        "file": o.name,
        "key": o.key,
        "documentId": o.document_id,
        "status": o.status,
        "reasonCode": o.reason_code or None,
        "expectedClass": o.expected_class,
        "predictedClass": o.predicted_class,
        "expectedDomain": o.expected_domain,
        "predictedDomain": o.predicted_domain,
        "classCorrect": o.class_correct,
        "domainCorrect": o.domain_correct,
        "fullyCorrect": o.fully_correct,
        "recordRight": o.record_correct,
        "fieldF1": round(o.field_f1, 4),
        "confidence": o.confidence,
        "needsReview": o.needs_review,
        "modelId": o.model_id,
        "inputTokens": o.input_tokens,
        "outputTokens": o.output_tokens,
        "costUsd": cost,
        "latencyS": o.latency_ms / 1000 if o.latency_ms is not None else None,
        "fields": [
            {
                "field": f.field,
                "tp": f.tp,
                "fp": f.fp,
                "fn": f.fn,
                "expected": f.expected,
                "predicted": f.predicted,
                "mismatches": list(f.mismatches),
            }
            for f in o.fields
        ],
    }
