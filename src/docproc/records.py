"""DynamoDB representation of records: typed attribute maps for the state machine's putItem integration."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from docproc.models import InsightRecord, dump

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _decimals(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items() if v is not None and v != "" and v != []}
    if isinstance(value, list):
        return [_decimals(v) for v in value]
    return value


def to_item(record: InsightRecord) -> dict[str, Any]:
    """The record as a DynamoDB item: nested maps plus flat attributes users filter and index on."""
    plain = dump(record)
    flat: dict[str, Any] = {}
    if record.classification:
        flat["domain"] = record.classification.domain
    if record.extraction:
        flat["title"] = record.extraction.extraction.title
    if record.error:
        flat["reasonCode"] = record.error.reason_code
    plain.update(flat)
    return {k: _serializer.serialize(v) for k, v in _decimals(plain).items()}


def to_plain_item(values: dict[str, Any]) -> dict[str, Any]:
    """Plain JSON-able values as a typed DynamoDB item (floats as numbers, ``None`` and empty values left out)."""
    return {k: _serializer.serialize(v) for k, v in _decimals(values).items()}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """A typed DynamoDB item back to plain JSON-able values (numbers as int/float)."""
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [_plain(v) for v in value]
    return value
