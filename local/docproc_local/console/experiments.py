"""The experiments panel: the reports ``docproc experiment report NAME`` writes to ``.docproc/experiments/<NAME>/``
(``report.json`` and PNG charts). The report's layout belongs to that command; this module shows its
``summary`` table (a list of rows, or an object of rows by variant) and its decision if it has them, and every
other top-level scalar as a key/value list, so a report of a newer layout still shows something useful.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EXPERIMENTS = Path(".docproc") / "experiments"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass
class Experiment:
    name: str
    folder: Path
    report: dict[str, Any] | None
    error: str = ""
    charts: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    decision: Any = None
    tests: list[dict[str, Any]] = field(default_factory=list)


def safe_name(name: str) -> bool:
    return bool(_NAME_RE.match(name)) and ".." not in name


def list_experiments(root: Path = EXPERIMENTS) -> list[Experiment]:
    if not root.is_dir():
        return []
    return [load(p) for p in sorted(root.iterdir()) if p.is_dir() and safe_name(p.name)]


def load(folder: Path) -> Experiment:
    charts = sorted(p.name for p in folder.glob("*.png") if p.is_file() and safe_name(p.name))
    path = folder / "report.json"
    experiment = Experiment(name=folder.name, folder=folder, report=None, charts=charts)
    if not path.is_file():
        experiment.error = "no report.json yet"
        return experiment
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        experiment.error = f"report.json cannot be read ({type(exc).__name__})"
        return experiment
    if not isinstance(report, dict):
        experiment.error = "report.json is not a JSON object"
        return experiment
    experiment.report = report
    if isinstance(report.get("variants"), Mapping) and "summary" not in report:
        experiment.rows = _variant_rows(report["variants"])  # `docproc experiment report`'s layout (reportVersion 1)
        experiment.tests = _test_rows(report.get("comparisons"))
    else:
        experiment.rows = _rows(report.get("summary", report.get("variants")))
    experiment.columns = list(dict.fromkeys(k for row in experiment.rows for k in row))
    decision = report.get("decision")
    if isinstance(decision, Mapping) and "action" in decision:
        action = str(decision.get("action", "")).replace("_", " ")
        variant = f" {decision['variant']}" if decision.get("variant") else ""
        decision = f"{action}{variant}: {decision.get('reason', '')}"
    experiment.decision = decision
    experiment.facts = {
        k: v for k, v in report.items() if isinstance(v, str | int | float | bool) and k not in ("summary", "decision")
    }
    return experiment


def _stat(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, Mapping) else None


def _rate(value: Any) -> str:
    if not isinstance(value, Mapping) or value.get("value") is None:
        return ""
    return f"{100 * float(value['value']):.1f}% ({value.get('successes')}/{value.get('n')})"


def _variant_rows(variants: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for name, data in variants.items():
        if not isinstance(data, Mapping):
            continue
        rates = data.get("rates") if isinstance(data.get("rates"), Mapping) else {}
        latency = data.get("latencyMs")
        p50, p95 = _stat(latency, "p50"), _stat(latency, "p95")
        cost = _stat(data.get("costPerDocumentUsd"), "mean")
        rows.append(
            {
                "variant": name,
                "documents": data.get("documents"),
                "model": ", ".join(data.get("modelIds") or []),
                "latency p50 / p95 (s)": "" if p50 is None or p95 is None else f"{p50 / 1000:.2f} / {p95 / 1000:.2f}",
                "tokens (mean)": _stat(data.get("totalTokens"), "mean"),
                "cost per document": "" if cost is None else f"${cost:.6f}",
                "schema-valid": _rate(rates.get("schemaValid")),
                "repair": _rate(rates.get("repair")),
                "agreement": _rate(rates.get("agreement")),
                "needs review": _rate(rates.get("needsReview")),
            }
        )
    return rows


def _test_rows(comparisons: Any) -> list[dict[str, Any]]:
    rows = []
    for comparison in comparisons if isinstance(comparisons, list) else []:
        for test in comparison.get("tests", []) if isinstance(comparison, Mapping) else []:
            if not isinstance(test, Mapping):
                continue
            verdict = "" if not test.get("significant") else ("better" if test.get("better") else "worse")
            rows.append(
                {
                    "variant": comparison.get("variant"),
                    "measure": test.get("metric"),
                    "test": test.get("test"),
                    "p": test.get("pValue"),
                    "p adjusted": test.get("pAdjusted"),
                    "significant": verdict,
                }
            )
    return rows


def _rows(summary: Any) -> list[dict[str, Any]]:
    if isinstance(summary, list):
        return [_flat(r) for r in summary if isinstance(r, Mapping)]
    if isinstance(summary, Mapping):
        return [{"variant": name, **_flat(row)} for name, row in summary.items() if isinstance(row, Mapping)]
    return []


def _flat(row: Mapping[str, Any]) -> dict[str, Any]:
    """Nested measures as ``a.b`` columns, lists as their JSON."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, Mapping):
            for inner, inner_value in _flat(value).items():
                out[f"{key}.{inner}"] = inner_value
        elif isinstance(value, list):
            out[key] = json.dumps(value)
        else:
            out[key] = value
    return out
