"""The report's PNG charts (matplotlib, Agg backend: no display needed), one file per chart:

* ``latency.png``: latency per document, a box plot per variant (whiskers 5-95 %);
* ``cost.png``: cost and tokens per document, the mean per variant with its 95 % t-interval;
* ``rates.png``: the rates per variant with 95 % Wilson intervals.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after choosing the backend

from docproc_local.experiments import stats
from docproc_local.experiments.decision import LABELS
from docproc_local.experiments.metrics import RATES, VariantData

COLOURS = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3")


def write(name: str, variants: Mapping[str, VariantData], out: Path) -> dict[str, str]:
    """Write the charts into ``out``; returns chart -> file name (relative to ``out``)."""
    out.mkdir(parents=True, exist_ok=True)
    written = {"latency": _latency(name, variants, out / "latency.png")}
    written["cost"] = _cost(name, variants, out / "cost.png")
    written["rates"] = _rates(name, variants, out / "rates.png")
    return written


def _save(figure: plt.Figure, path: Path) -> str:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path.name


def _latency(name: str, variants: Mapping[str, VariantData], path: Path) -> str:
    figure, axis = plt.subplots(figsize=(6, 4))
    data = [[v / 1000 for v in d.latency_ms] or [0.0] for d in variants.values()]
    axis.boxplot(data, tick_labels=list(variants), whis=(5, 95), showfliers=False)
    axis.set_ylabel("seconds, queued to completed")
    axis.set_title(f"{name}: latency per document")
    return _save(figure, path)


def _cost(name: str, variants: Mapping[str, VariantData], path: Path) -> str:
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 4))
    for axis, attribute, label, scale in (
        (left, "cost_usd", "USD per 1,000 documents", 1000.0),
        (right, "total_tokens", "tokens per document", 1.0),
    ):
        means, errors = [], [[], []]
        for data in variants.values():
            values = [v * scale for v in getattr(data, attribute)]
            mean = sum(values) / len(values) if values else 0.0
            ci = stats.mean_ci(values) or (mean, mean)
            means.append(mean)
            errors[0].append(max(0.0, mean - ci[0]))  # rounding can put the mean a hair outside its interval
            errors[1].append(max(0.0, ci[1] - mean))
        axis.bar(list(variants), means, yerr=errors, capsize=6, color=COLOURS[: len(means)])
        axis.set_ylabel(label)
        axis.set_title(f"mean {label} (95 % CI)")
    figure.suptitle(f"{name}: cost and tokens")
    return _save(figure, path)


def _rates(name: str, variants: Mapping[str, VariantData], path: Path) -> str:
    figure, axis = plt.subplots(figsize=(8, 4))
    width = 0.8 / max(1, len(variants))
    for index, (variant, data) in enumerate(variants.items()):
        values, low, high = [], [], []
        for metric in RATES:
            rate = data.rates[metric]
            value = rate.value or 0.0
            interval = stats.wilson(rate.successes, rate.n) or (value, value)
            values.append(value)
            low.append(max(0.0, value - interval[0]))
            high.append(max(0.0, interval[1] - value))
        positions = [i + (index - (len(variants) - 1) / 2) * width for i in range(len(RATES))]
        axis.bar(positions, values, width, yerr=[low, high], capsize=4, label=variant, color=COLOURS[index % 5])
    axis.set_xticks(range(len(RATES)), [LABELS[m] for m in RATES], rotation=10)
    axis.set_ylim(0, 1.05)
    axis.set_ylabel("share of documents")
    axis.set_title(f"{name}: rates (95 % Wilson intervals)")
    axis.legend()
    return _save(figure, path)
