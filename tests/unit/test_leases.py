"""Back-pressure: a fixed pool of in-flight slots in the lease table that template.yaml declares."""

from __future__ import annotations

import random
from typing import Any

import boto3
import pytest

from docproc.leases import LeasePool

from helpers import create_lease_table

LEASE_SECONDS = 960


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_767_225_600.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def dynamodb(aws: None) -> Any:
    return boto3.client("dynamodb", region_name="us-east-1")


@pytest.fixture
def table(dynamodb: Any) -> str:
    return create_lease_table(dynamodb)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def pool(dynamodb: Any, table: str, clock: Clock, size: int = 3) -> LeasePool:
    return LeasePool(
        dynamodb=dynamodb, table=table, size=size, lease_seconds=LEASE_SECONDS, clock=clock, rng=random.Random(1)
    )


def holders(dynamodb: Any, table: str) -> dict[str, str]:
    items = dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]
    return {item["slot"]["S"]: item["holder"]["S"] for item in items}


def test_lease_table_comes_from_the_template(dynamodb: Any, table: str) -> None:
    description = dynamodb.describe_table(TableName=table)["Table"]
    ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]

    assert description["KeySchema"] == [{"AttributeName": "slot", "KeyType": "HASH"}]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}


def test_acquire_up_to_the_pool_size_then_none(dynamodb: Any, table: str, clock: Clock) -> None:
    leases = pool(dynamodb, table, clock, size=3)

    acquired = [leases.acquire(f"exec-{i}") for i in range(3)]

    assert all(a is not None for a in acquired)
    slots = {a[0].slot for a in acquired if a}
    assert slots == {"0", "1", "2"}
    assert all(a[1] is False for a in acquired if a)  # none of them reused
    assert all(a[0].expires_at == int(clock.now) + LEASE_SECONDS for a in acquired if a)
    assert leases.acquire("exec-3") is None
    assert leases.in_use() == 3
    assert sorted(holders(dynamodb, table).values()) == ["exec-0", "exec-1", "exec-2"]


def test_release_frees_the_slot_for_the_next_document(dynamodb: Any, table: str, clock: Clock) -> None:
    leases = pool(dynamodb, table, clock, size=1)
    first = leases.acquire("exec-a")
    assert first is not None
    assert leases.acquire("exec-b") is None

    assert leases.release(first[0], "exec-a") is True

    second = leases.acquire("exec-b")
    assert second is not None
    assert second[0].slot == first[0].slot
    assert holders(dynamodb, table) == {first[0].slot: "exec-b"}


def test_same_holder_reuses_its_slot(dynamodb: Any, table: str, clock: Clock) -> None:
    # GIVEN a redelivered message for an execution that already holds a slot
    leases = pool(dynamodb, table, clock, size=2)
    first = leases.acquire("exec-a")
    assert first is not None
    clock.advance(60)

    again = leases.acquire("exec-a")

    # THEN it gets the same slot back (renewed), not a second one
    assert again is not None
    lease, reused = again
    assert reused is True
    assert lease.slot == first[0].slot
    assert lease.expires_at == first[0].expires_at + 60
    assert leases.in_use() == 1


def test_same_holder_reuses_its_slot_even_when_the_pool_is_full(dynamodb: Any, table: str, clock: Clock) -> None:
    leases = pool(dynamodb, table, clock, size=1)
    first = leases.acquire("exec-a")
    assert first is not None

    again = leases.acquire("exec-a")

    assert again is not None
    assert again[1] is True


def test_expired_leases_are_reclaimed(dynamodb: Any, table: str, clock: Clock) -> None:
    # GIVEN a full pool whose holders died without releasing
    leases = pool(dynamodb, table, clock, size=2)
    assert leases.acquire("dead-1") is not None
    assert leases.acquire("dead-2") is not None
    assert leases.acquire("new") is None

    # WHEN the leases run out
    clock.advance(LEASE_SECONDS)

    # THEN their slots are free again
    assert leases.in_use() == 0
    reclaimed = leases.acquire("new")
    assert reclaimed is not None
    assert reclaimed[1] is False
    assert "new" in holders(dynamodb, table).values()
    assert leases.acquire("newer") is not None
    assert leases.acquire("newest") is None


def test_a_lease_is_not_reclaimed_before_it_expires(dynamodb: Any, table: str, clock: Clock) -> None:
    leases = pool(dynamodb, table, clock, size=1)
    assert leases.acquire("alive") is not None

    clock.advance(LEASE_SECONDS - 1)

    assert leases.acquire("new") is None
    assert holders(dynamodb, table) == {"0": "alive"}


def test_release_by_a_non_holder_does_nothing(dynamodb: Any, table: str, clock: Clock) -> None:
    # GIVEN exec-a's slot was reclaimed by exec-b after exec-a's lease expired
    leases = pool(dynamodb, table, clock, size=1)
    stale = leases.acquire("exec-a")
    assert stale is not None
    clock.advance(LEASE_SECONDS + 1)
    current = leases.acquire("exec-b")
    assert current is not None
    assert current[0].slot == stale[0].slot

    # WHEN the late exec-a releases "its" slot
    released = leases.release(stale[0], "exec-a")

    # THEN exec-b keeps it
    assert released is False
    assert holders(dynamodb, table) == {current[0].slot: "exec-b"}
    assert leases.acquire("exec-c") is None
