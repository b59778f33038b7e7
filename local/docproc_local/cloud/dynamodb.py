"""moto's DynamoDB, fast enough for lists of thousands of records (the console's document list, ``docproc cost``).

One documented patch, recorded in a :class:`Patches` so ``LocalCloud.stop()`` undoes it.
"""

from __future__ import annotations

from typing import Any

from .patching import Patches


def sort_items_once(patches: Patches) -> None:
    """Sort a table's items by cast key values computed once per item, not once per comparison.

    moto's ``Table.all_items`` sorts every item of the table by its keys on each Query and Scan, with ``DynamoType``
    keys whose every comparison casts both values again (``cast_value``): about 0.2 s per request at 5,000 items,
    so one page of the console's list (four ``StatusIndex`` queries) took seconds. ``DynamoType.__lt__`` compares
    ``cast_value``s, so sorting by the cast values gives the same order.
    """
    from moto.dynamodb.models.table import Table

    def all_items(self: Any) -> list[Any]:
        items: list[Any] = []
        for hash_set in self.items.values():
            if self.range_key_attr:
                items.extend(hash_set.values())
            else:
                items.append(hash_set)
        return sorted(
            items,
            key=lambda x: (x.hash_key.cast_value, x.range_key.cast_value) if x.range_key else x.hash_key.cast_value,
        )

    patches.setattr(Table, "all_items", all_items)
