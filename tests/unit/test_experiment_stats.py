"""The experiment report's statistics against scipy on known data, and the decision rules."""

from __future__ import annotations

import math

import pytest
from scipy import stats as scipy_stats

from docproc_local.experiments import decision, stats
from docproc_local.experiments.metrics import Rate, VariantData

A = [12.1, 11.8, 13.4, 12.9, 12.2, 11.5, 12.8, 13.1, 12.4, 12.0]
B = [10.2, 11.1, 9.8, 10.9, 10.4, 12.5, 9.7, 10.1, 11.6, 10.3, 10.0, 9.9]


def test_welch_matches_scipy_and_the_textbook_formula() -> None:
    result = stats.welch(A, B)
    expected = scipy_stats.ttest_ind(B, A, equal_var=False)
    assert result.statistic == pytest.approx(expected.statistic)
    assert result.p_value == pytest.approx(expected.pvalue)
    # Welch's t and Welch-Satterthwaite degrees of freedom by hand
    ma, mb = sum(A) / len(A), sum(B) / len(B)
    va = sum((x - ma) ** 2 for x in A) / (len(A) - 1)
    vb = sum((x - mb) ** 2 for x in B) / (len(B) - 1)
    t = (mb - ma) / math.sqrt(va / len(A) + vb / len(B))
    df = (va / len(A) + vb / len(B)) ** 2 / ((va / len(A)) ** 2 / (len(A) - 1) + (vb / len(B)) ** 2 / (len(B) - 1))
    assert result.statistic == pytest.approx(t)
    assert result.p_value == pytest.approx(2 * scipy_stats.t.sf(abs(t), df))
    assert result.p_value < 0.001


def test_welch_edge_cases() -> None:
    assert stats.welch([1.0], [2.0, 3.0]).p_value is None
    assert stats.welch([2.0, 2.0], [2.0, 2.0]).p_value == 1.0
    assert stats.welch([1.0, 1.0], [2.0, 2.0]).p_value is None


def test_two_proportion_z_test_matches_the_chi_square_test() -> None:
    # 45/100 against 60/100: z^2 equals Pearson's chi-square without continuity correction, same p-value
    result = stats.two_proportions(45, 100, 60, 100)
    chi2, p, _, _ = scipy_stats.chi2_contingency([[45, 55], [60, 40]], correction=False)
    assert result.statistic == pytest.approx(math.sqrt(chi2))
    assert result.p_value == pytest.approx(p)
    assert result.p_value == pytest.approx(0.0337, abs=1e-4)
    assert stats.two_proportions(0, 10, 0, 12).p_value == 1.0
    assert stats.two_proportions(0, 0, 1, 2).p_value is None


def test_holm_correction() -> None:
    # the textbook example: 0.01, 0.04, 0.03, 0.005 -> 0.03, 0.06, 0.06, 0.02
    assert stats.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert stats.holm([None, 0.2]) == [None, 0.2]


def test_sample_size_for_two_proportions() -> None:
    # 50 % vs 60 %, alpha 0.05 two-sided, power 0.8: 388 per group (Fleiss, without continuity correction)
    assert stats.sample_size_two_proportions(0.5, 0.6) == 388
    assert stats.sample_size_two_proportions(0.2, 0.25) == 1094
    assert stats.sample_size_two_proportions(0.3, 0.3) is None
    # the size really gives the power: simulate-free check with the normal approximation
    n = stats.sample_size_two_proportions(0.1, 0.2)
    assert n is not None
    se0 = math.sqrt(2 * 0.15 * 0.85 / n)
    se1 = math.sqrt((0.1 * 0.9 + 0.2 * 0.8) / n)
    achieved = scipy_stats.norm.cdf((0.1 - scipy_stats.norm.ppf(0.975) * se0) / se1)
    assert achieved >= 0.8


def test_percentile_and_intervals() -> None:
    values = [float(v) for v in range(1, 21)]
    assert stats.percentile(values, 95) == 19.0
    assert stats.percentile(values, 50) == 10.0
    low, high = stats.wilson(5, 10) or (0, 0)
    assert low == pytest.approx(0.2366, abs=1e-4)
    assert high == pytest.approx(0.7634, abs=1e-4)


# --- decision rules ------------------------------------------------------------------------------------------------


def variant(
    name: str, n: int, *, cost: float = 0.004, review: float = 0.2, agree: float = 0.8, seed: int = 0
) -> VariantData:
    data = VariantData(name, documents=n, completed=n)
    # deterministic spread around the mean (no randomness in the tests)
    data.cost_usd = [cost * (1 + 0.1 * ((i * 7 + seed) % 11 - 5) / 5) for i in range(n)]
    data.latency_ms = [3000.0 + 100 * ((i * 3 + seed) % 9) for i in range(n)]
    data.input_tokens = [12000.0 + (i % 5) for i in range(n)]
    data.output_tokens = [300.0 + (i % 7) for i in range(n)]
    data.rates = {
        "schemaValid": Rate(n, n),
        "repair": Rate(0, n),
        "agreement": Rate(round(agree * n), n),
        "needsReview": Rate(round(review * n), n),
    }
    return data


def test_too_few_documents_keeps_running() -> None:
    result = decision.compare(variant("control", 20), variant("candidate", 20, cost=0.001))
    assert result.decision == decision.KEEP_RUNNING
    assert "at least 30 each" in result.reason


def test_significantly_cheaper_keeps_running_until_the_quality_rates_have_their_documents() -> None:
    early = decision.compare(variant("control", 120), variant("candidate", 120, cost=0.001, seed=3))
    assert early.decision == decision.KEEP_RUNNING, early.reason
    assert "cannot yet rule out a 5% drop of" in early.reason
    assert "needs-review rate" in early.reason


def test_significantly_cheaper_and_no_worse_with_enough_documents_rolls_out() -> None:
    result = decision.compare(variant("control", 1200), variant("candidate", 1200, cost=0.001, seed=3))
    assert result.decision == decision.ROLL_OUT, result.reason
    cost = next(t for t in result.tests if t.metric == "costUsd")
    assert cost.significant
    assert cost.better
    assert "cost per document" in result.reason


def test_significantly_worse_quality_rolls_back_even_when_cheaper() -> None:
    result = decision.compare(variant("control", 200), variant("candidate", 200, cost=0.001, review=0.45))
    assert result.decision == decision.ROLL_BACK
    assert "needs-review rate" in result.reason


def test_dearer_with_no_quality_gain_rolls_back() -> None:
    result = decision.compare(variant("control", 150), variant("candidate", 150, cost=0.008, seed=2))
    assert result.decision == decision.ROLL_BACK
    assert "better on nothing" in result.reason


def test_no_difference_keeps_running_until_the_sample_is_large_enough() -> None:
    small = decision.compare(variant("control", 60), variant("candidate", 60))
    assert small.decision == decision.KEEP_RUNNING
    assert "per variant detect a 5% change" in small.reason
    large = decision.compare(variant("control", 1200), variant("candidate", 1200))
    assert large.decision == decision.ROLL_BACK
    assert "no difference worth having" in large.reason


def test_overall_decision_picks_the_rollout() -> None:
    control = variant("control", 1200)
    good = decision.compare(control, variant("cheap", 1200, cost=0.001, seed=1))
    waiting = decision.compare(control, variant("same", 40))
    assert decision.overall([waiting, good]) == {"action": "roll_out", "variant": "cheap", "reason": good.reason}
    assert decision.overall([waiting])["action"] == "keep_running"
