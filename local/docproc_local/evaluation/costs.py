"""The price table and the cost of one evaluated document.

The table is :mod:`docproc.cost`'s (``src/docproc/config/prices.yaml``): ``models.<id>.input_per_million_usd`` /
``output_per_million_usd`` and the services' prices. A document's cost is its record's ``cost.totalUsd`` - the
estimate the pipeline made (:func:`docproc.cost.estimate`) - so evaluate reports what the records say; records
written before costs existed are priced by their tokens alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from docproc.cost import PRICES_PATH, PriceTable, load_price_table

Prices = PriceTable  # the name evaluate has always used

__all__ = ["PRICES_PATH", "Prices", "document_cost", "load_prices", "record_cost"]


def load_prices(path: Path = PRICES_PATH) -> Prices | None:
    """The price table, or None when the file does not exist; a bad file raises ValueError naming the path and key."""
    if not path.is_file():
        return None
    return load_price_table(path)


def record_cost(record: Mapping[str, Any] | None) -> float | None:
    """``cost.totalUsd`` of a record or result JSON, None when it has none."""
    cost = (record or {}).get("cost")
    if isinstance(cost, Mapping) and isinstance(cost.get("totalUsd"), int | float):
        return float(cost["totalUsd"])
    return None


def document_cost(
    record_usd: float | None, prices: Prices | None, model_id: str | None, input_tokens: int, output_tokens: int
) -> float | None:
    """The record's own cost; else (an older record) its tokens at the table's prices; None when neither is known."""
    if record_usd is not None:
        return record_usd
    return None if prices is None else prices.cost(model_id, input_tokens, output_tokens)
