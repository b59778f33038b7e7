"""Where an experiment's records come from: the last ``docproc run --experiment NAME`` (its records.jsonl), a JSON
Lines file of ``docproc run --jsonl``, a running ``docproc local up``, or a deployed stack's ResultsTable."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

OUT_ROOT = Path(".docproc") / "experiments"


def folder(name: str) -> Path:
    """``.docproc/experiments/<NAME>/``: records.jsonl, report.json and the charts."""
    return OUT_ROOT / name


def from_jsonl(path: Path) -> list[dict[str, Any]]:
    """The full result JSON of each line (it has every part), else the table record."""
    from docproc_local.cost_cli import records_from_jsonl

    return records_from_jsonl(path)


def from_stack(client: Any, name: str) -> list[dict[str, Any]]:
    """Every item of the stack's ResultsTable in experiment ``name`` (a scan, filtered on the experiment name)."""
    from docproc.records import from_item

    pages = (
        client.client("dynamodb")
        .get_paginator("scan")
        .paginate(
            TableName=client.outputs["ResultsTableName"],
            FilterExpression="experiment.#n = :name",
            ExpressionAttributeNames={"#n": "name"},
            ExpressionAttributeValues={":name": {"S": name}},
        )
    )
    return [from_item(item) for page in pages for item in page.get("Items", [])]


def of_experiment(records: Iterable[Mapping[str, Any]], name: str) -> list[Mapping[str, Any]]:
    """The terminal records assigned to experiment ``name`` (latest generation per document)."""
    latest: dict[str, Mapping[str, Any]] = {}
    for record in records:
        experiment = record.get("experiment") or {}
        if experiment.get("name") != name or record.get("status") not in ("COMPLETED", "FAILED"):
            continue
        key = str(record.get("documentId"))
        if key not in latest or int(record.get("generation") or 1) >= int(latest[key].get("generation") or 1):
            latest[key] = record
    return list(latest.values())
