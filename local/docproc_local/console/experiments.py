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
    experiment.rows = _rows(report.get("summary", report.get("variants")))
    experiment.columns = list(dict.fromkeys(k for row in experiment.rows for k in row))
    experiment.decision = report.get("decision")
    experiment.facts = {
        k: v for k, v in report.items() if isinstance(v, str | int | float | bool) and k not in ("summary", "decision")
    }
    return experiment


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
