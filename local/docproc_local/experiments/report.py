"""``report.json`` (its layout is documented in the README, "Experiments") and the terminal tables (rich)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

from docproc_local.experiments import charts, decision, metrics, stats

REPORT_VERSION = "1"
ACTIONS = {decision.KEEP_RUNNING: "KEEP RUNNING", decision.ROLL_OUT: "ROLL OUT", decision.ROLL_BACK: "ROLL BACK"}


def build(
    name: str,
    records: Sequence[Mapping[str, Any]],
    *,
    variant_names: Sequence[str],
    source: str,
    experiment: Mapping[str, Any] | None = None,
    golden: Path | None = None,
    out: Path | None = None,
    alpha: float = stats.ALPHA,
    power: float = stats.POWER,
    min_documents: int = decision.MIN_DOCUMENTS,
    mde: float = decision.MDE,
) -> dict[str, Any]:
    """The whole report as JSON-able data; with ``out``, the charts are written there and named in it."""
    variants = metrics.collect(records, variant_names)
    if golden is not None:
        metrics.add_field_f1(variants, records, golden)
    control = decision.control_of(variants, variant_names)
    comparisons = [
        decision.compare(variants[control], data, alpha=alpha, power=power, min_documents=min_documents, mde=mde)
        for variant, data in variants.items()
        if control is not None and variant != control
    ]
    document: dict[str, Any] = {
        "reportVersion": REPORT_VERSION,
        "experiment": name,
        "generatedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "source": source,
        "configuration": dict(experiment or {}),
        "golden": str(golden) if golden else None,
        "settings": {"alpha": alpha, "power": power, "minDocuments": min_documents, "mde": mde},
        "control": control,
        "documents": len(records),
        "variants": {variant: data.to_json() for variant, data in variants.items()},
        "comparisons": [c.to_json() for c in comparisons],
        "decision": decision.overall(comparisons),
        "charts": {},
    }
    if out is not None:
        document["charts"] = charts.write(name, variants, out)
    return document


def write(document: Mapping[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.json"
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}g}" if abs(value) < 1000 else f"{value:,.0f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _usd(value: float | None) -> str:
    from docproc_local.cost_cli import usd

    return usd(value)


def _p(value: float | None) -> str:
    return "-" if value is None else f"{value:.2e}" if value < 0.001 else f"{value:.3f}"


def print_report(document: Mapping[str, Any], file: TextIO | None = None) -> None:
    stream = file or sys.stdout
    console = Console(file=stream, width=None if stream.isatty() else 120, soft_wrap=False)
    variants = document["variants"]
    table = Table(
        title=f"experiment {document['experiment']}: {document['documents']} documents ({document['source']})"
    )
    table.add_column("measure")
    for variant in variants:
        table.add_column(variant + (" (control)" if variant == document["control"] else ""), justify="right")
    rows: list[tuple[str, Any]] = [
        ("documents (completed / failed)", lambda v: f"{v['documents']} ({v['completed']} / {v['failed']})"),
        ("model", lambda v: ", ".join(v["modelIds"]) or "-"),
        ("latency p50 / p95 (s)", lambda v: f"{_s(v['latencyMs']['p50'])} / {_s(v['latencyMs']['p95'])}"),
        (
            "tokens in / out (mean)",
            lambda v: f"{_num(v['inputTokens']['mean'], 5)} / {_num(v['outputTokens']['mean'], 4)}",
        ),
        ("cost per document", lambda v: _usd(v["costPerDocumentUsd"]["mean"])),
    ]
    rows += [
        (
            decision.LABELS[m],
            lambda v, m=m: f"{_pct(v['rates'][m]['value'])} ({v['rates'][m]['successes']}/{v['rates'][m]['n']})",
        )
        for m in metrics.RATES
    ]
    if document.get("golden"):
        rows.append(
            ("field F1 (golden)", lambda v: f"{_num((v['fieldF1'] or {}).get('f1'))} ({v['goldenDocuments']} docs)")
        )
    for label, cell in rows:
        table.add_row(label, *(cell(v) for v in variants.values()))
    console.print(table)
    for comparison in document["comparisons"]:
        tests = Table(
            title=f"{comparison['variant']} vs {comparison['control']} (Holm-adjusted, alpha "
            f"{document['settings']['alpha']})"
        )
        for column in ("measure", "test", "control", "variant", "p", "p adjusted", "significant"):
            tests.add_column(column, justify="left" if column in ("measure", "test") else "right")
        for test in comparison["tests"]:
            verdict = "-" if not test["significant"] else "better" if test["better"] else "worse"
            tests.add_row(
                decision.LABELS[test["metric"]],
                "Welch t" if test["test"] == "welch" else "2-prop z",
                _num(test["control"], 4),
                _num(test["variant"], 4),
                _p(test["pValue"]),
                _p(test["pAdjusted"]),
                verdict,
            )
        console.print(tests)
        sizes = ", ".join(
            f"{decision.LABELS[s['metric']]} {s['requiredForMde'] or '-'}" for s in comparison["sampleSize"]
        )
        console.print(
            f"documents per variant to detect a {document['settings']['mde']:.0%} change (power "
            f"{document['settings']['power']}): {sizes}"
        )
        console.print(
            f"{comparison['variant']}: [bold]{ACTIONS[comparison['decision']]}[/bold] - {comparison['reason']}"
        )
    final = document["decision"]
    target = f" {final['variant']}" if final.get("variant") else ""
    console.print(f"decision: [bold]{ACTIONS[final['action']]}{target}[/bold] - {final['reason']}")


def _s(ms: float | None) -> str:
    return "-" if ms is None else f"{ms / 1000:.2f}"
