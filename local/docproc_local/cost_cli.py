"""``docproc cost``: what the processed documents cost, from the ``cost`` their records carry.

    docproc cost                      the running ``docproc local up`` stack (its state file)
    docproc cost --stack-name NAME    a deployed stack (scans its ResultsTable)
    docproc cost --jsonl FILE         the lines ``docproc run --jsonl FILE`` wrote

Prints documents, total, per 1,000 documents, and the same by model, domain, class and bill component, plus what
the Step Functions part would be as an Express workflow (from the measured durations; a comparison only), as rich
tables (120 columns when piped), or ``--json``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO

COMPONENTS = ("bedrock", "sagemaker", "textract", "stepFunctions", "lambda", "other")


def usd(value: float | None, digits: int = 4) -> str:
    """USD to ``digits`` significant digits, never in exponent notation: $0.003712, $1.234, $1235."""
    if value is None:
        return "n/a"
    if value == 0:
        return "$0"
    rounded = float(f"{value:.{digits - 1}e}")  # 0.00099996 -> 0.001000, not 0.0010000
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(rounded))))
    return f"${rounded:.{decimals}f}"


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("cost", help="what the processed documents cost (total, per 1,000, by model and more)")
    parser.add_argument("--jsonl", type=Path, help="records from `docproc run --jsonl FILE` instead of a stack")
    parser.add_argument("--stack-name", help="a deployed stack in AWS (default: the running `docproc local up`)")
    parser.add_argument("--region", help="AWS region of --stack-name")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=cmd_cost)


# --- reading records -----------------------------------------------------------------------------------------------


def records_from_jsonl(path: Path) -> list[dict[str, Any]]:
    """The result JSON of each line (it has everything), else the record."""
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"{path}:{number}: not a JSON line ({exc})") from None
        record = entry.get("result") or entry.get("record") if isinstance(entry, dict) else None
        if isinstance(record, dict):
            out.append(record)
    return out


def records_from_stack(client: Any) -> list[dict[str, Any]]:
    """Every COMPLETED item of the stack's ResultsTable (a scan: its cost is the table's size in read units)."""
    from docproc.records import from_item

    paginator = client.client("dynamodb").get_paginator("scan")
    pages = paginator.paginate(
        TableName=client.outputs["ResultsTableName"],
        FilterExpression="#s = :completed",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":completed": {"S": "COMPLETED"}},
    )
    return [from_item(item) for page in pages for item in page.get("Items", [])]


# --- the summary ---------------------------------------------------------------------------------------------------


def _group(rows: Iterable[tuple[str, float]]) -> dict[str, dict[str, float]]:
    groups: dict[str, list[float]] = defaultdict(list)
    for key, value in rows:
        groups[key].append(value)
    return {
        key: {"documents": len(values), "totalUsd": sum(values), "per1000Usd": 1000 * sum(values) / len(values)}
        for key, values in sorted(groups.items(), key=lambda kv: -sum(kv[1]))
    }


def _model(record: Mapping[str, Any]) -> str:
    extraction = record.get("extraction") or {}
    return str(extraction.get("modelId") or (record.get("modelIds") or {}).get("extraction") or "(no extraction)")


def _route(record: Mapping[str, Any]) -> str:
    return str((record.get("route") or {}).get("name") or "(no route)")


def _cache(record: Mapping[str, Any]) -> str:
    return str((record.get("cache") or {}).get("status") or "off")


def _domain(record: Mapping[str, Any]) -> str:
    return str((record.get("classification") or {}).get("domain") or "(none)")


def summarise(records: Iterable[Mapping[str, Any]], prices: Any = None) -> dict[str, Any]:
    """Totals of the COMPLETED records that carry a cost; ``prices`` (a docproc.cost.PriceTable) adds the Express
    comparison of the Step Functions part."""
    completed = [r for r in records if r.get("status", "COMPLETED") == "COMPLETED"]
    priced = [r for r in completed if isinstance(r.get("cost"), Mapping)]
    totals = [float(r["cost"]["totalUsd"]) for r in priced]
    n = len(priced)
    total = sum(totals)
    components = {c: sum(float(r["cost"]["breakdown"].get(c, 0.0)) for r in priced) for c in COMPONENTS}
    summary: dict[str, Any] = {
        "documents": n,
        "withoutCost": len(completed) - n,
        "totalUsd": total,
        "per1000Usd": 1000 * total / n if n else None,
        "pricesVersions": sorted({str(r["cost"].get("pricesVersion")) for r in priced}),
        "byComponent": {
            c: {"totalUsd": v, "per1000Usd": 1000 * v / n if n else None, "share": v / total if total else None}
            for c, v in components.items()
        },
        "byModel": _group((_model(r), t) for r, t in zip(priced, totals, strict=True)),
        "byRoute": _group((_route(r), t) for r, t in zip(priced, totals, strict=True)),
        "byCache": _group((_cache(r), t) for r, t in zip(priced, totals, strict=True)),
        "cacheSavedUsd": sum(float((r.get("cache") or {}).get("savedUsd") or 0.0) for r in priced),
        "byDomain": _group((_domain(r), t) for r, t in zip(priced, totals, strict=True)),
        "byClass": _group((str(r.get("documentClass") or "(none)"), t) for r, t in zip(priced, totals, strict=True)),
        "stateTransitions": sum(int(r["cost"].get("stateTransitions") or 0) for r in priced),
    }
    if prices is not None and n:
        summary["stepFunctions"] = _express_comparison(priced, components["stepFunctions"], prices)
    return summary


def _express_comparison(priced: list[Mapping[str, Any]], standard_usd: float, prices: Any) -> dict[str, Any]:
    from docproc.cost import express_usd

    express = sum(
        express_usd(int((r.get("timings") or {}).get("totalMs") or 0), prices, attempts=int(r.get("attempt") or 1))
        for r in priced
    )
    n = len(priced)
    return {
        "standardPer1000Usd": 1000 * standard_usd / n,
        "expressPer1000Usd": 1000 * express / n,
        "note": "Express: one request + 64 MB x the measured duration (timings.totalMs); not built, a comparison",
    }


# --- printing ------------------------------------------------------------------------------------------------------


def print_summary(summary: Mapping[str, Any], file: TextIO | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=file, highlight=False)
    if not console.is_terminal:
        console = Console(file=file, highlight=False, width=120)  # piped: no 80-column cut
    n = summary["documents"]
    head = Table(title="cost (estimated at list prices)")
    for column in ("documents", "total", "per 1,000 documents", "per document", "prices"):
        head.add_column(column, justify="left" if column == "prices" else "right")
    per_doc = summary["totalUsd"] / n if n else None
    head.add_row(str(n), usd(summary["totalUsd"]), usd(summary["per1000Usd"]), usd(per_doc),
                 ", ".join(summary["pricesVersions"]) or "-")  # fmt: skip
    console.print(head)
    groups = (
        ("byModel", "by model"),
        ("byRoute", "by route"),
        ("byCache", "by cache"),
        ("byDomain", "by domain"),
        ("byClass", "by class"),
    )
    for key, title in groups:
        table = Table(title=title)
        for column in (title.removeprefix("by "), "documents", "total", "per 1,000"):
            table.add_column(column, justify="left" if column == title.removeprefix("by ") else "right")
        for name, group in summary[key].items():
            table.add_row(name, str(group["documents"]), usd(group["totalUsd"]), usd(group["per1000Usd"]))
        console.print(table)
    parts = Table(title="by component")
    for column in ("component", "total", "per 1,000", "share"):
        parts.add_column(column, justify="left" if column == "component" else "right")
    for name, part in summary["byComponent"].items():
        share = f"{100 * part['share']:.1f} %" if part["share"] is not None else "-"
        parts.add_row(name, usd(part["totalUsd"]), usd(part["per1000Usd"]), share)
    console.print(parts)
    sfn = summary.get("stepFunctions")
    if sfn:
        console.print(
            f"Step Functions per 1,000 documents: Standard {usd(sfn['standardPer1000Usd'])} "
            f"({summary['stateTransitions']} transitions); as Express {usd(sfn['expressPer1000Usd'])} "
            "(1 request + 64 MB x measured time)"
        )
    if summary.get("cacheSavedUsd"):
        console.print(f"content cache: {usd(summary['cacheSavedUsd'])} saved by hits (the model branches they skipped)")
    if summary["withoutCost"]:
        console.print(f"{summary['withoutCost']} completed record(s) carry no cost (written before costs existed)")


def cmd_cost(args: argparse.Namespace) -> int:
    from docproc.cost import default_prices

    if args.jsonl:
        records = records_from_jsonl(args.jsonl)
    elif args.stack_name:
        from docproc_local.client import StackClient

        records = records_from_stack(StackClient.for_cloudformation_stack(args.stack_name, args.region))
    else:
        from docproc_local.runtime import client_from_state

        records = records_from_stack(client_from_state())
    summary = summarise(records, default_prices())
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print_summary(summary, sys.stdout)
    return 0
