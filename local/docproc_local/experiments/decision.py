"""Compare each variant with the control and decide: keep running, roll out, or roll back.

The control is the variant named ``control``, else the first variant in experiments.yaml. For each other variant,
every measure is tested against the control (:mod:`.stats`: Welch's t-test for latency, tokens, cost per document
and per-document field F1; the two-proportion z-test for the schema-valid, repair, agreement and needs-review
rates), and the p-values of one comparison are Holm-corrected together. "Significant" is an adjusted p below
``alpha`` (0.05). The rule, in order:

1. **keep running** while either side has fewer than ``min_documents`` (30) completed documents.
2. **roll back** when the variant is significantly worse on a quality measure (schema-valid rate, agreement with the
   classifier, needs-review rate, field F1).
3. **roll back** when it is significantly worse on an efficiency measure (cost per document, latency, tokens, repair
   rate) and significantly better on none: it costs more and buys nothing.
4. **roll out** when it is significantly better on at least one measure (and, by 2, worse on no quality measure)
   and every quality rate has the documents the power analysis asks for to detect a drop of ``mde`` (no significant
   harm is only evidence of no harm with enough documents); **keep running** while they lack them. The reason names
   what it costs, e.g. cheaper but slower.
5. **roll back** when nothing differs significantly although each rate had the documents the power analysis asks
   for to detect a difference of ``mde`` (0.05 absolute) from the control's rate at ``alpha`` 0.05 and power 0.8:
   the change makes no difference worth having, keep the control.
6. **keep running** otherwise, saying how many documents per variant that needs.

With more than two variants the report's decision is: roll out the variant with the most significant improvements
among those whose decision is roll out; else keep running if any variant says so; else roll back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from docproc_local.experiments import stats
from docproc_local.experiments.metrics import HIGHER_IS_BETTER, QUALITY, RATES, VariantData

KEEP_RUNNING, ROLL_OUT, ROLL_BACK = "keep_running", "roll_out", "roll_back"
MIN_DOCUMENTS = 30
MDE = 0.05
LABELS = {
    "latencyMs": "latency",
    "totalTokens": "tokens per document",
    "costUsd": "cost per document",
    "fieldF1": "field F1",
    "schemaValid": "schema-valid rate",
    "repair": "repair rate",
    "agreement": "agreement with the classifier",
    "needsReview": "needs-review rate",
}


@dataclass
class Test:
    metric: str
    kind: str  # "welch" or "two_proportions"
    control: float | None
    variant: float | None
    statistic: float | None
    p_value: float | None
    p_adjusted: float | None = None
    significant: bool = False
    better: bool | None = None  # the variant better than the control (None: no significant difference)

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "test": self.kind,
            "control": self.control,
            "variant": self.variant,
            "difference": None if self.control is None or self.variant is None else self.variant - self.control,
            "statistic": self.statistic,
            "pValue": self.p_value,
            "pAdjusted": self.p_adjusted,
            "significant": self.significant,
            "better": self.better,
        }


@dataclass
class Comparison:
    variant: str
    control: str
    tests: list[Test] = field(default_factory=list)
    sample_sizes: list[dict[str, Any]] = field(default_factory=list)
    decision: str = KEEP_RUNNING
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "control": self.control,
            "tests": [t.to_json() for t in self.tests],
            "sampleSize": self.sample_sizes,
            "decision": self.decision,
            "reason": self.reason,
        }


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _continuous(data: VariantData) -> dict[str, list[float]]:
    out = {"latencyMs": data.latency_ms, "totalTokens": data.total_tokens, "costUsd": data.cost_usd}
    if data.field_f1_per_document:
        out["fieldF1"] = data.field_f1_per_document
    return out


def compare(
    control: VariantData,
    variant: VariantData,
    *,
    alpha: float = stats.ALPHA,
    power: float = stats.POWER,
    min_documents: int = MIN_DOCUMENTS,
    mde: float = MDE,
) -> Comparison:
    comparison = Comparison(variant=variant.name, control=control.name)
    a_values, b_values = _continuous(control), _continuous(variant)
    for metric, a in a_values.items():
        b = b_values.get(metric, [])
        result = stats.welch(a, b)
        comparison.tests.append(Test(metric, "welch", _mean(a), _mean(b), result.statistic, result.p_value))
    for metric in RATES:
        ra, rb = control.rates[metric], variant.rates[metric]
        result = stats.two_proportions(ra.successes, ra.n, rb.successes, rb.n)
        comparison.tests.append(Test(metric, "two_proportions", ra.value, rb.value, result.statistic, result.p_value))
        base = ra.value
        comparison.sample_sizes.append(_sample_size(metric, base, rb.value, min(ra.n, rb.n), alpha, power, mde))
    for test, adjusted in zip(comparison.tests, stats.holm([t.p_value for t in comparison.tests]), strict=True):
        test.p_adjusted = adjusted
        test.significant = adjusted is not None and adjusted < alpha
        if test.significant and test.control is not None and test.variant is not None:
            test.better = (test.variant > test.control) == HIGHER_IS_BETTER[test.metric]
    comparison.decision, comparison.reason = decide(comparison, control, variant, min_documents, alpha, mde)
    return comparison


def _sample_size(
    metric: str, p1: float | None, p2: float | None, have: int, alpha: float, power: float, mde: float
) -> dict[str, Any]:
    """Documents per variant needed to detect ``mde`` from the control's rate, and the observed difference."""
    if p1 is None:
        return {"metric": metric, "have": have, "requiredForMde": None, "requiredForObserved": None, "enough": False}
    target = p1 + mde if p1 + mde <= 1 else p1 - mde
    for_mde = stats.sample_size_two_proportions(p1, target, alpha, power)
    observed = stats.sample_size_two_proportions(p1, p2, alpha, power) if p2 is not None else None
    return {
        "metric": metric,
        "have": have,
        "requiredForMde": for_mde,
        "requiredForObserved": observed,
        "enough": for_mde is not None and have >= for_mde,
    }


def _names(tests: Sequence[Test]) -> str:
    return ", ".join(f"{LABELS[t.metric]} (p={t.p_adjusted:.3g})" for t in tests if t.p_adjusted is not None)


def decide(
    comparison: Comparison, control: VariantData, variant: VariantData, min_documents: int, alpha: float, mde: float
) -> tuple[str, str]:
    """The rule of the module docstring; returns (decision, reason)."""
    smallest = min(control.completed, variant.completed)
    if smallest < min_documents:
        return KEEP_RUNNING, (
            f"too few documents: {control.name} has {control.completed}, {variant.name} {variant.completed} "
            f"completed; at least {min_documents} each before deciding"
        )
    worse = [t for t in comparison.tests if t.significant and t.better is False]
    better = [t for t in comparison.tests if t.significant and t.better]
    worse_quality = [t for t in worse if t.metric in QUALITY]
    if worse_quality:
        return ROLL_BACK, f"{variant.name} is significantly worse on {_names(worse_quality)}"
    if worse and not better:
        return ROLL_BACK, f"{variant.name} is significantly worse on {_names(worse)} and better on nothing"
    if better:
        costs = f"; it is worse on {_names(worse)}" if worse else ""
        guard = [s for s in comparison.sample_sizes if s["metric"] in QUALITY and s["requiredForMde"] is not None]
        short = [s for s in guard if not s["enough"]]
        if short:  # no significant harm is not yet evidence of no harm: the quality rates need their documents
            needed = max(s["requiredForMde"] for s in short)
            names = ", ".join(LABELS[s["metric"]] for s in short)
            return KEEP_RUNNING, (
                f"{variant.name} is significantly better on {_names(better)}{costs}, but {smallest} documents per "
                f"variant cannot yet rule out a {mde:.0%} drop of {names}: about {needed} per variant can"
            )
        return (
            ROLL_OUT,
            f"{variant.name} is significantly better on {_names(better)}, worse on no quality measure with enough "
            f"documents to detect a {mde:.0%} drop of each{costs}",
        )
    sized = [s for s in comparison.sample_sizes if s["requiredForMde"] is not None]
    if sized and all(s["enough"] for s in sized):
        return ROLL_BACK, (
            f"no significant difference at alpha {alpha} with {smallest} documents per variant, enough to detect a "
            f"{mde:.0%} change of every rate at power 0.8: the change makes no difference worth having"
        )
    needed = max((s["requiredForMde"] for s in sized), default=None)
    more = f"; about {needed} per variant detect a {mde:.0%} change of every rate" if needed else ""
    return KEEP_RUNNING, f"no significant difference yet with {smallest} documents per variant{more}"


def overall(comparisons: Sequence[Comparison]) -> dict[str, Any]:
    """The report's decision over every variant-vs-control comparison."""
    rollouts = [c for c in comparisons if c.decision == ROLL_OUT]
    if rollouts:
        best = max(rollouts, key=lambda c: sum(1 for t in c.tests if t.significant and t.better))
        return {"action": ROLL_OUT, "variant": best.variant, "reason": best.reason}
    waiting = [c for c in comparisons if c.decision == KEEP_RUNNING]
    if waiting or not comparisons:
        reason = waiting[0].reason if waiting else "the experiment has fewer than two variants with records"
        return {"action": KEEP_RUNNING, "variant": None, "reason": reason}
    return {"action": ROLL_BACK, "variant": comparisons[0].control, "reason": comparisons[0].reason}


def control_of(variants: Mapping[str, VariantData], configured: Sequence[str]) -> str | None:
    names = [n for n in configured if n in variants] or list(variants)
    if not names:
        return None
    return "control" if "control" in names else names[0]
