"""The statistics of an experiment report, on scipy.

* continuous measures (latency, tokens, cost per document): Welch's t-test, ``scipy.stats.ttest_ind`` with
  ``equal_var=False`` (two-sided): the variants' variances differ (a cheaper model is not just shifted);
* rates (schema-valid, repair, agreement, needs-review): the two-proportion z-test with the pooled proportion,
  two-sided, p from ``scipy.stats.norm`` (statsmodels' ``proportions_ztest`` computes the same; it is not a
  dependency);
* many metrics are tested at once, so decisions use Holm's step-down correction of the p-values (family-wise error
  at ``alpha``);
* sample size: per variant, for a two-sided two-proportion test at ``alpha`` and ``power`` (the normal
  approximation, ``n = (z_a * sqrt(2 p q) + z_b * sqrt(p1 q1 + p2 q2))^2 / (p1 - p2)^2`` with ``p`` the mean of
  ``p1`` and ``p2``), rounded up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

ALPHA = 0.05
POWER = 0.8


@dataclass(frozen=True)
class TestResult:
    statistic: float | None
    p_value: float | None  # None: not computable (too few values, no variance)
    df: float | None = None


def welch(a: Sequence[float], b: Sequence[float]) -> TestResult:
    """Welch's t-test of ``b`` against ``a`` (two-sided); None p-value with fewer than 2 values a side."""
    if len(a) < 2 or len(b) < 2:
        return TestResult(None, None)
    if _constant(a) and _constant(b):
        if a[0] == b[0]:
            return TestResult(0.0, 1.0)
        return TestResult(None, None)  # two constants that differ: no variance to test against
    result = stats.ttest_ind(b, a, equal_var=False)
    df = getattr(result, "df", None)
    return TestResult(float(result.statistic), float(result.pvalue), float(df) if df is not None else None)


def _constant(values: Sequence[float]) -> bool:
    return all(v == values[0] for v in values)


def two_proportions(successes_a: int, n_a: int, successes_b: int, n_b: int) -> TestResult:
    """Two-sided z-test of ``b``'s proportion against ``a``'s, pooled standard error."""
    if n_a == 0 or n_b == 0:
        return TestResult(None, None)
    p_a, p_b = successes_a / n_a, successes_b / n_b
    pooled = (successes_a + successes_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        return TestResult(0.0, 1.0)  # both 0 % or both 100 %
    z = (p_b - p_a) / se
    return TestResult(z, float(2 * stats.norm.sf(abs(z))))


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm-Bonferroni adjusted p-values (None stays None and does not count towards the family)."""
    indexed = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    m = len(indexed)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(indexed):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


def sample_size_two_proportions(p1: float, p2: float, alpha: float = ALPHA, power: float = POWER) -> int | None:
    """Documents per variant to detect ``p1`` vs ``p2``; None when they are equal (no finite size does)."""
    if p1 == p2:
        return None
    z_a = stats.norm.ppf(1 - alpha / 2)
    z_b = stats.norm.ppf(power)
    p = (p1 + p2) / 2
    numerator = z_a * math.sqrt(2 * p * (1 - p)) + z_b * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return math.ceil(numerator**2 / (p1 - p2) ** 2)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (as docproc evaluate reports them): p95 of 20 values is the 19th smallest."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float] | None:
    """The t-interval of the mean (for the charts' error bars)."""
    if len(values) < 2:
        return None
    mean = sum(values) / len(values)
    sem = stats.sem(values)
    if sem == 0 or math.isnan(sem):
        return (mean, mean)
    low, high = stats.t.interval(confidence, len(values) - 1, loc=mean, scale=sem)
    return float(low), float(high)


def wilson(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (for the charts' error bars)."""
    if n == 0:
        return None
    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)
