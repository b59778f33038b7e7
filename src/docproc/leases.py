"""Back-pressure: at most ``size`` documents inside the state machine at once.

A fixed pool of numbered slots in a DynamoDB table. An execution holds one slot (``holder`` = execution
name) until its last state deletes it. A slot whose ``expiresAt`` has passed is free again, so an execution
that dies (timeout, abort) cannot leak capacity and stall the queue; the lease outlives the state machine's
``TimeoutSeconds``. ``expiresAt`` is also the table's TTL attribute.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from docproc.models import LeaseRef


class LeasePool:
    def __init__(
        self,
        *,
        dynamodb: Any,
        table: str,
        size: int,
        lease_seconds: int,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self._ddb = dynamodb
        self._table = table
        self._size = size
        self._lease_seconds = lease_seconds
        self._clock = clock
        self._rng = rng or random.Random()

    def acquire(self, holder: str) -> tuple[LeaseRef, bool] | None:
        """A slot for ``holder``: ``(lease, reused)``; ``reused`` when ``holder`` already had one. None = full."""
        now = int(self._clock())
        taken: dict[str, dict[str, Any]] = {}
        for item in self._scan():
            taken[item["slot"]["S"]] = item
        for slot, item in taken.items():
            if item.get("holder", {}).get("S") == holder:
                lease = self._claim(slot, holder, now, expect_holder=holder)
                if lease:
                    return lease, True
        free = [
            str(i)
            for i in range(self._size)
            if str(i) not in taken or int(taken[str(i)].get("expiresAt", {}).get("N", "0")) <= now
        ]
        self._rng.shuffle(free)
        for slot in free:
            lease = self._claim(slot, holder, now)
            if lease:
                return lease, False
        return None

    def release(self, lease: LeaseRef, holder: str) -> bool:
        try:
            self._ddb.delete_item(
                TableName=self._table,
                Key={"slot": {"S": lease.slot}},
                ConditionExpression="holder = :me",
                ExpressionAttributeValues={":me": {"S": holder}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def in_use(self) -> int:
        now = int(self._clock())
        return sum(1 for item in self._scan() if int(item.get("expiresAt", {}).get("N", "0")) > now)

    def _scan(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": self._table, "ConsistentRead": True}
        while True:
            page = self._ddb.scan(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _claim(self, slot: str, holder: str, now: int, expect_holder: str | None = None) -> LeaseRef | None:
        expires = now + self._lease_seconds
        condition = (
            "holder = :me" if expect_holder else "attribute_not_exists(slot) OR expiresAt <= :now OR holder = :me"
        )
        values: dict[str, Any] = {":me": {"S": holder}}
        if not expect_holder:
            values[":now"] = {"N": str(now)}
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item={"slot": {"S": slot}, "holder": {"S": holder}, "expiresAt": {"N": str(expires)}},
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        return LeaseRef(slot=slot, expires_at=expires)
