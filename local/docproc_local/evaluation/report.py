"""The evaluation report: ``report.json`` (every number), ``report.md`` (for people and pull requests) and
``reliability.svg``, written to one output folder."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from docproc_local.evaluation.gates import Gate
from docproc_local.evaluation.svg import reliability_svg

REPORT_VERSION = 1
FILES = ("report.md", "report.json", "reliability.svg")


def build(
    result: Mapping[str, Any],
    gates: Sequence[Gate],
    *,
    golden: str,
    target: str,
    config_version: str,
    started_at: str,
    duration_s: float,
) -> dict[str, Any]:
    return {
        "report": "docproc evaluate",
        "reportVersion": REPORT_VERSION,
        "golden": golden,
        "target": target,
        "configVersion": config_version,
        "startedAt": started_at,
        "durationS": round(duration_s, 3),
        "passed": all(g.passed for g in gates),
        "gates": [g.as_json() for g in gates],
        **result,
    }


def write(report: Mapping[str, Any], out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / name for name in FILES}
    paths["report.json"].write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n", "utf-8")
    paths["report.md"].write_text(markdown(report), "utf-8")
    calibration = report["calibration"]
    paths["reliability.svg"].write_text(
        reliability_svg(calibration["fields"], calibration["records"], f"Reliability - {Path(report['golden']).name}"),
        "utf-8",
    )
    return paths


# --- formatting helpers (shared with the terminal tables) ----------------------------------------------------------


def num(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def usd(value: float | None) -> str:
    return "n/a" if value is None else f"${value:.5f}"


def seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}s"


def gate_value(gate: Mapping[str, Any], value: float | None) -> str:
    if value is None:
        return "n/a"
    if "cost" in gate["option"]:
        return usd(value)
    if "latency" in gate["option"]:
        return seconds(value)
    return num(value)


def brief(value: Any, limit: int = 60) -> str:
    if value is None:
        return "-"
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        return f"{len(value)} item(s)"  # the reasons name the items
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], align: str = "") -> list[str]:
    align = align or "l" + "r" * (len(header) - 1)
    marks = {"l": "---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(marks[a] for a in align) + " |"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def summary_rows(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    s = report["summary"]
    fields = report["fields"]["overall"]
    return [
        (
            "documents",
            f"{s['documents']} ({s['completed']} completed, {s['failed']} failed, {s['unfinished']} unfinished)",
        ),
        ("fully correct", f"{s['fully_correct']} of {s['documents']}"),
        ("records right (class, domain, field F1 >= 0.8)", f"{s['records_right']} of {s['documents']}"),
        ("domain macro-F1", num(s["domain_macro_f1"])),
        ("class accuracy", num(s["class_accuracy"])),
        (
            "field precision / recall / F1",
            f"{num(s['field_precision'])} / {num(s['field_recall'])} / {num(s['field_f1'])}"
            f"  (TP {fields['tp']}, FP {fields['fp']}, FN {fields['fn']})",
        ),
        ("calibration error (ECE) fields / records", f"{num(s['field_ece'])} / {num(s['record_ece'])}"),
        (
            "cost per document",
            usd(s["cost_per_document_usd"]) + (f" ({report['cost']['note']})" if report["cost"]["note"] else ""),
        ),
        ("latency median / p95", f"{seconds(s['latency_median_s'])} / {seconds(s['latency_p95_s'])}"),
    ]


def document_rows(report: Mapping[str, Any]) -> list[list[str]]:
    rows = []
    for d in report["documents"]:
        fields = d["fields"]
        ok = sum(1 for f in fields if not f["fp"] and not f["fn"])
        klass = d["expectedClass"] if d["classCorrect"] else f"{d['expectedClass']} -> {d['predictedClass'] or '-'}"
        domain = (
            d["expectedDomain"] if d["domainCorrect"] else f"{d['expectedDomain']} -> {d['predictedDomain'] or '-'}"
        )
        status = d["status"] + (f" {d['reasonCode']}" if d["reasonCode"] else "")
        rows.append(
            [
                d["file"],
                status,
                klass,
                domain,
                f"{ok}/{len(fields)}",
                num(d["confidence"], 2),
                "yes" if d["fullyCorrect"] else "no",
                seconds(d["latencyS"]),
                usd(d["costUsd"]),
            ]
        )
    return rows


DOCUMENT_HEADER = ("document", "status", "class", "domain", "fields ok", "conf.", "all right", "latency", "cost")
FIELD_HEADER = ("field", "support", "TP", "FP", "FN", "precision", "recall", "F1")


def field_rows(report: Mapping[str, Any]) -> list[list[str]]:
    rows = [
        [
            k,
            str(m["support"]),
            str(m["tp"]),
            str(m["fp"]),
            str(m["fn"]),
            num(m["precision"]),
            num(m["recall"]),
            num(m["f1"]),
        ]
        for k, m in report["fields"]["per_field"].items()
    ]
    o = report["fields"]["overall"]
    rows.append(
        [
            "overall (micro)",
            str(o["support"]),
            str(o["tp"]),
            str(o["fp"]),
            str(o["fn"]),
            num(o["precision"]),
            num(o["recall"]),
            num(o["f1"]),
        ]
    )
    return rows


def mismatch_lines(document: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """(field, expected, got, why) for every field of a document that is not fully right."""
    out = []
    for f in document["fields"]:
        if f["fp"] or f["fn"]:
            out.append((f["field"], brief(f["expected"]), brief(f["predicted"]), "; ".join(f["mismatches"])))
    return out


# --- Markdown ------------------------------------------------------------------------------------------------------


def markdown(report: Mapping[str, Any]) -> str:
    lines = [
        f"# docproc evaluate: {Path(report['golden']).name}",
        "",
        f"Golden set `{report['golden']}` on {report['target']}, document classes {report['configVersion']}, "
        f"started {report['startedAt']}, {report['durationS']:.1f} s.",
        "",
        "## Summary",
        "",
        *_table(("metric", "value"), summary_rows(report), "ll"),
        "## Gates",
        "",
    ]
    if report["gates"]:
        rows = [
            (
                g["option"],
                f"{'>=' if g['bound'] == 'min' else '<='} {gate_value(g, g['threshold'])}",
                gate_value(g, g["measured"]),
                "PASS" if g["passed"] else "**FAIL**",
                g["note"],
            )
            for g in report["gates"]
        ]
        lines += _table(("gate", "threshold", "measured", "result", "note"), rows, "lrrcl")
        lines += [f"Overall: **{'PASS' if report['passed'] else 'FAIL'}**", ""]
    else:
        lines += ["No gates were given (`--min-*` / `--max-*`).", ""]
    lines += _labels_section("Domains", "domain", report["domain"], "macro-F1")
    lines += _labels_section("Classes", "class", report["class"], "accuracy")
    lines += ["## Fields", "", *_table(FIELD_HEADER, field_rows(report), "lrrrrrrr")]
    lines += _calibration_section(report["calibration"])
    lines += _cost_section(report)
    if report["failed"]:
        lines += ["## Failed or unfinished documents", ""]
        lines += _table(
            ("document", "status", "reason", "message"),
            [(f["file"], f["status"], f["reasonCode"], brief(f["message"], 100)) for f in report["failed"]],
            "llll",
        )
    lines += ["## Documents", "", *_table(DOCUMENT_HEADER, document_rows(report), "lllllrlrr")]
    for document in report["documents"]:
        mismatches = mismatch_lines(document)
        if mismatches:
            lines += [f"### {document['file']}", ""]
            lines += _table(("field", "expected", "got", "why"), mismatches, "llll")
    return "\n".join(lines).rstrip() + "\n"


def _labels_section(title: str, what: str, metrics: Mapping[str, Any], headline: str) -> list[str]:
    count = len(metrics["per_label"])
    macro = f"macro-F1 {num(metrics['macro_f1'])} over the {count} {what}(s) in the golden set"
    accuracy = f"accuracy {num(metrics['accuracy'])}"
    text = f"{macro}; {accuracy}" if headline == "macro-F1" else f"{accuracy}; {macro}"
    rows = [
        (label, num(m["precision"]), num(m["recall"]), num(m["f1"]), m["support"])
        for label, m in metrics["per_label"].items()
    ]
    confusion = metrics["confusion"]
    matrix = [
        (row, *(c or "." for c in counts)) for row, counts in zip(confusion["rows"], confusion["matrix"], strict=True)
    ]
    return [
        f"## {title}",
        "",
        text + ".",
        "",
        *_table((what, "precision", "recall", "F1", "support"), rows),
        f"Confusion matrix (rows: expected {what}, columns: predicted):",
        "",
        *_table(("expected \\ predicted", *confusion["columns"]), matrix),
    ]


def _calibration_section(calibration: Mapping[str, Any]) -> list[str]:
    lines = ["## Calibration", "", "![reliability](reliability.svg)", ""]
    for name, title in (
        ("fields", "Field values (confidence vs correct)"),
        ("records", "Records (overall confidence vs record right: class, domain and field F1 >= 0.8)"),
    ):
        c = calibration[name]
        lines += [
            f"{title}: ECE {num(c['ece'])} over {c['values']} value(s)"
            + (f", {c['without_confidence']} without a confidence" if c["without_confidence"] else ""),
            "",
        ]
        rows = [(b["bin"], b["count"], num(b["confidence"]), num(b["accuracy"])) for b in c["bins"] if b["count"]]
        if rows:
            lines += _table(("confidence bin", "count", "mean confidence", "accuracy"), rows)
    return lines


def _cost_section(report: Mapping[str, Any]) -> list[str]:
    cost, latency = report["cost"], report["latency"]
    rows = [
        ("input / output tokens", f"{cost['input_tokens']} / {cost['output_tokens']}"),
        ("total cost", usd(cost["total_usd"])),
        (
            "cost per document (mean / median / p95)",
            f"{usd(cost['per_document_usd'])} / {usd(cost['median_usd'])} / {usd(cost['p95_usd'])}",
        ),
        (
            "price table",
            f"{cost['price_table']} (version {cost['price_table_version']})" if cost["price_table"] else "none",
        ),
        (
            "latency median / p95 / max",
            f"{seconds(latency['median_s'])} / {seconds(latency['p95_s'])} / "
            f"{seconds(latency['max_s'])} over {latency['documents']} document(s)",
        ),
    ]
    lines = ["## Cost and latency", "", *_table(("", "value"), rows, "ll")]
    if cost["note"]:
        lines += [f"Cost is n/a: {cost['note']}.", ""]
    return lines
