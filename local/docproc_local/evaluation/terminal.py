"""The report as rich tables on the terminal (120 columns when piped, like ``docproc classifier evaluate``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TextIO

from docproc_local.evaluation.report import (
    DOCUMENT_HEADER,
    FIELD_HEADER,
    document_rows,
    field_rows,
    gate_value,
    mismatch_lines,
    num,
    summary_rows,
)

TERMINAL_HIDDEN = ("all right", "cost")


def print_report(report: Mapping[str, Any], file: TextIO | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=file, highlight=False)
    if not console.is_terminal:
        console = Console(file=file, highlight=False, width=120)  # piped: no 80-column cut

    def table(title: str, *columns: str, left: int = 1, align: str = "") -> Table:
        """``left`` leading columns left-justified, the rest right-justified; or ``align``: "l"/"r"/"c" each."""
        t = Table(title=title)
        align = align or "l" * left + "r" * (len(columns) - left)
        justify = {"l": "left", "r": "right", "c": "center"}
        for i, (column, a) in enumerate(zip(columns, align, strict=True)):
            t.add_column(column, justify=justify[a], no_wrap=i == 0)  # type: ignore[arg-type]
        return t

    shown = [i for i, name in enumerate(DOCUMENT_HEADER) if name not in TERMINAL_HIDDEN]  # 120 columns when piped
    documents = table("documents (cost per document in report.md)", *(DOCUMENT_HEADER[i] for i in shown), left=5)
    for row in document_rows(report):
        row[1] = "ok" if row[1] == "COMPLETED" else row[1]
        documents.add_row(*(row[i] for i in shown))
    console.print(documents)
    mismatches = table("mismatches (expected vs got)", "document", "field", "expected", "got", "why", left=5)
    for d in report["documents"]:
        for field, expected, got, why in mismatch_lines(d):
            short = field.removeprefix(d["expectedClass"] + ".")  # the class is in the documents table
            mismatches.add_row(d["file"], short, expected, got, why)
    if mismatches.row_count:
        console.print(mismatches)
    for key, what in (("domain", "domain"), ("class", "class")):
        metrics = report[key]
        per_label = table(f"per {what}", what, "precision", "recall", "F1", "support")
        for label, m in metrics["per_label"].items():
            per_label.add_row(label, num(m["precision"]), num(m["recall"]), num(m["f1"]), str(m["support"]))
        console.print(per_label)
        confusion = metrics["confusion"]
        matrix = table(f"{what} confusion (rows: expected, columns: predicted)", "", *confusion["columns"])
        for row, counts in zip(confusion["rows"], confusion["matrix"], strict=True):
            matrix.add_row(row, *(str(c) if c else "." for c in counts))
        console.print(matrix)
    fields = table("fields", *FIELD_HEADER)
    for row in field_rows(report):
        fields.add_row(*row)
    console.print(fields)
    for name in ("fields", "records"):
        c = report["calibration"][name]
        if not c["values"]:
            console.print(f"calibration of {name}: no values with a confidence")
            continue
        reliability = table(
            f"calibration of {name}: ECE {num(c['ece'])}", "confidence bin", "count", "mean confidence", "accuracy"
        )
        for b in c["bins"]:
            if b["count"]:
                reliability.add_row(b["bin"], str(b["count"]), num(b["confidence"]), num(b["accuracy"]))
        console.print(reliability)
    if report["failed"]:
        failed = table("failed or unfinished", "document", "status", "reason", "message", left=4)
        for f in report["failed"]:
            failed.add_row(f["file"], f["status"], f["reasonCode"], f["message"])
        console.print(failed)
    summary = table("summary", "metric", "value", left=2)
    for metric, value in summary_rows(report):
        summary.add_row(metric, value)
    console.print(summary)
    if report["gates"]:
        gates = table("gates", "gate", "threshold", "measured", "result", "note", align="lrrcl")
        for g in report["gates"]:
            bound = ">=" if g["bound"] == "min" else "<="
            result = "[green]PASS[/green]" if g["passed"] else "[bold red]FAIL[/bold red]"
            gates.add_row(
                g["option"], f"{bound} {gate_value(g, g['threshold'])}", gate_value(g, g["measured"]), result, g["note"]
            )
        console.print(gates)
        console.print("gates: " + ("[green]PASS[/green]" if report["passed"] else "[bold red]FAIL[/bold red]"))
