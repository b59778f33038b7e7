"""Quality gates: each ``--min-*`` / ``--max-*`` given is checked against the measured value.

A gate whose value cannot be measured (no price for the model, no latencies, no field of that name in the golden
set or the predictions, no confidences) fails, with the reason in its note: a gate that cannot be checked must
not pass silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from docproc.classes import ClassConfig
from docproc_local.evaluation.scoring import selected_f1


@dataclass(frozen=True)
class Thresholds:
    min_domain_macro_f1: float | None = None
    min_class_accuracy: float | None = None
    min_field_f1: float | None = None
    min_field_f1_for: Sequence[tuple[str, float]] = field(default_factory=tuple)
    max_ece: float | None = None
    max_cost_per_doc: float | None = None
    max_p95_latency_s: float | None = None


@dataclass(frozen=True)
class Gate:
    option: str  # the command-line option, e.g. "--min-field-f1-for invoice.total"
    metric: str  # what is measured
    bound: str  # "min" or "max"
    threshold: float
    measured: float | None
    passed: bool
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def parse_field_gate(text: str, config: ClassConfig) -> tuple[str, float]:
    """``FIELD=X`` or ``CLASS.FIELD=X`` -> (selector, X); ValueError for an unknown class or field."""
    selector, sep, value = text.partition("=")
    selector = selector.strip()
    if not sep or not selector:
        raise ValueError(f"--min-field-f1-for {text!r}: expected FIELD=X or CLASS.FIELD=X")
    threshold = unit_interval(value)
    if "." in selector:
        class_name, _, name = selector.partition(".")
        if class_name not in config:
            raise ValueError(f"--min-field-f1-for {text!r}: no document class {class_name!r}")
        if name not in config.get(class_name).field_names:
            raise ValueError(f"--min-field-f1-for {text!r}: class {class_name} has no field {name!r}")
    elif not any(selector in c.field_names for c in config.classes):
        raise ValueError(f"--min-field-f1-for {text!r}: no document class has a field {selector!r}")
    return selector, threshold


def unit_interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not 0 <= value <= 1:
        raise ValueError(f"{text!r} is not between 0 and 1")
    return value


def _gate(option: str, metric: str, bound: str, threshold: float, measured: float | None, missing: str) -> Gate:
    if measured is None:
        return Gate(option, metric, bound, threshold, None, False, f"not measured: {missing}")
    passed = measured >= threshold if bound == "min" else measured <= threshold
    return Gate(option, metric, bound, threshold, measured, passed)


def check(result: Mapping[str, Any], thresholds: Thresholds) -> list[Gate]:
    """The gates asked for, in the order of the command's options."""
    s = result["summary"]
    t = thresholds
    gates = []
    if t.min_domain_macro_f1 is not None:
        gates.append(
            _gate(
                "--min-domain-macro-f1",
                "domain macro-F1",
                "min",
                t.min_domain_macro_f1,
                s["domain_macro_f1"] if s["documents"] else None,
                "no documents",
            )
        )
    if t.min_class_accuracy is not None:
        gates.append(
            _gate(
                "--min-class-accuracy",
                "class accuracy",
                "min",
                t.min_class_accuracy,
                s["class_accuracy"] if s["documents"] else None,
                "no documents",
            )
        )
    if t.min_field_f1 is not None:
        overall = result["fields"]["overall"]
        measured = overall["f1"] if overall["tp"] + overall["fp"] + overall["fn"] else None
        gates.append(
            _gate(
                "--min-field-f1",
                "field micro-F1",
                "min",
                t.min_field_f1,
                measured,
                "no expected or predicted field values",
            )
        )
    for selector, threshold in t.min_field_f1_for:
        selected = selected_f1(result["fields"]["per_field"], selector)
        gates.append(
            _gate(
                f"--min-field-f1-for {selector}",
                f"F1 of {selector}",
                "min",
                threshold,
                selected["f1"] if selected else None,
                f"no expected or predicted values of {selector} in this golden set",
            )
        )
    if t.max_ece is not None:
        gates.append(
            _gate(
                "--max-ece",
                "field calibration error (ECE)",
                "max",
                t.max_ece,
                s["field_ece"],
                "no predicted values with a confidence",
            )
        )
    if t.max_cost_per_doc is not None:
        gates.append(
            _gate(
                "--max-cost-per-doc",
                "cost per document (USD)",
                "max",
                t.max_cost_per_doc,
                s["cost_per_document_usd"],
                f"cost is n/a ({result['cost']['note']})",
            )
        )
    if t.max_p95_latency_s is not None:
        gates.append(
            _gate(
                "--max-p95-latency-s",
                "p95 latency (s)",
                "max",
                t.max_p95_latency_s,
                s["latency_p95_s"],
                "no record has timings.totalMs",
            )
        )
    return gates
