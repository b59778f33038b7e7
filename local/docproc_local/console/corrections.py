"""Reviewers' corrections: parsed from the document page's form, validated against the class schema, and stored as
items of the stack's ``CorrectionsTable`` (documentId HASH, correctedAt RANGE), one per review.

A review never touches the ResultsTable: the model's output stays as it was, and every review is a new item
(conditional put), so the history of who changed what stays. An item holds the reviewer, the time, the reviewed
class and domain, the fields the reviewer changed (``fields``, with the model's values they replace in
``modelFields``), the fields the document does not state (``removedFields``), and ``labels``: every field value
the reviewer signed off, in golden-set form, which is what ``docproc golden export`` writes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeSerializer
from jsonschema import Draft202012Validator, FormatChecker

from docproc.classes import ClassConfig, DocumentClass
from docproc.models import Domain
from docproc.records import from_item

DOMAINS = tuple(d.value for d in Domain)
_serializer = TypeSerializer()


class CorrectionError(ValueError):
    """The submitted correction is not valid; ``problems`` maps a form field to what is wrong with it."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = dict(problems)


def model_values(fields: Mapping[str, Any] | None) -> dict[str, Any]:
    """A record's field envelopes (``{value, confidence, evidence, ...}``, lists one per item) as plain values."""
    out: dict[str, Any] = {}
    for name, entry in (fields or {}).items():
        if isinstance(entry, list):
            values = [e.get("value") for e in entry if isinstance(e, Mapping)]
            values = [v for v in values if v not in (None, "", [], {})]
            if values:
                out[name] = values
        elif isinstance(entry, Mapping) and entry.get("value") not in (None, "", [], {}):
            out[name] = entry["value"]
    return out


def field_kind(schema: Mapping[str, Any]) -> str:
    """How the form shows a field: ``text``, ``number``, ``choice``, ``lines`` (list of strings) or ``json``."""
    kind = schema.get("type")
    if "enum" in schema:
        return "choice"
    if kind in ("number", "integer"):
        return "number"
    if kind == "array" and (schema.get("items") or {}).get("type") == "string":
        return "lines"
    if kind in ("array", "object"):
        return "json"
    return "text"


def form_value(schema: Mapping[str, Any], value: Any) -> str:
    """A plain value as the form's input text."""
    if value is None:
        return ""
    kind = field_kind(schema)
    if kind == "lines":
        return "\n".join(str(v) for v in value)
    if kind == "json":
        return json.dumps(value, ensure_ascii=False, indent=1)
    if kind == "number" and isinstance(value, float) and value.is_integer():
        return str(int(value)) if schema.get("type") == "integer" else repr(value)
    return str(value)


def _parse(schema: Mapping[str, Any], text: str) -> Any:
    """The form's input text as a plain value (None: empty, the document does not state it)."""
    text = text.strip()
    if not text:
        return None
    kind = field_kind(schema)
    if kind == "number":
        try:
            number = float(text.replace(",", "")) if schema.get("type") == "number" else int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a {schema.get('type')}") from None
        return number
    if kind == "lines":
        return [line.strip() for line in text.splitlines() if line.strip()]
    if kind == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON ({exc.msg} at line {exc.lineno})") from None
    return text


@dataclass
class Review:
    """What the reviewer submitted, validated: the reviewed class and domain, and every labelled field value."""

    document_class: str
    domain: str
    labels: dict[str, Any]
    changed: dict[str, Any] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    model_fields: dict[str, Any] = field(default_factory=dict)
    note: str = ""


def parse_review(form: Mapping[str, str], record: Mapping[str, Any], config: ClassConfig) -> Review:
    """A :class:`Review` from the document page's form (``field.<name>`` inputs, ``documentClass``, ``domain``,
    ``note``); raises :class:`CorrectionError` naming each bad input."""
    problems: dict[str, str] = {}
    class_name = (form.get("documentClass") or record.get("documentClass") or "").strip()
    if class_name not in config:
        raise CorrectionError({"documentClass": f"{class_name!r} is not a document class ({', '.join(config.names)})"})
    domain = (form.get("domain") or record.get("domain") or "").strip()
    if domain not in DOMAINS:
        problems["domain"] = f"{domain!r} is not one of {', '.join(DOMAINS)}"
    document_class: DocumentClass = config.get(class_name)
    same_class = class_name == record.get("documentClass")
    model = model_values(record.get("fields")) if same_class else {}
    labels: dict[str, Any] = {}
    changed: dict[str, Any] = {}
    removed: list[str] = []
    for name, schema in document_class.schema.get("properties", {}).items():
        try:
            value = _parse(schema, form.get(f"field.{name}", ""))
        except ValueError as exc:
            problems[f"field.{name}"] = str(exc)
            continue
        if value is None:
            if name in model:
                removed.append(name)
            continue
        labels[name] = value
        if model.get(name) != value:
            changed[name] = value
    if labels:
        validator = Draft202012Validator(document_class.schema, format_checker=FormatChecker())
        for error in validator.iter_errors(labels):
            path = [str(p) for p in error.absolute_path]
            key = f"field.{path[0]}" if path else "fields"
            problems.setdefault(key, f"{'.'.join(path[1:]) + ': ' if path[1:] else ''}{error.message}")
    if problems:
        raise CorrectionError(problems)
    return Review(
        document_class=class_name,
        domain=domain,
        labels=labels,
        changed=changed,
        removed=removed,
        model_fields={k: model[k] for k in [*changed, *removed] if k in model},
        note=(form.get("note") or "").strip()[:2000],
    )


def _dynamo(value: Any) -> Any:
    """Plain JSON values as DynamoDB accepts them: floats as Decimal (empty strings and lists are allowed)."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {str(k): _dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dynamo(v) for v in value]
    return value


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class CorrectionsStore:
    """The ``CorrectionsTable``: add a review, list a document's reviews, list every document's latest one."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self.dynamodb = dynamodb
        self.table = table

    def add(self, record: Mapping[str, Any], review: Review, reviewer: str) -> dict[str, Any]:
        source = record.get("source") or {}
        item = {
            "documentId": record["documentId"],
            "correctedAt": now(),
            "reviewer": reviewer,
            "documentClass": review.document_class,
            "domain": review.domain,
            "modelClass": record.get("documentClass") or "",
            "modelDomain": record.get("domain") or "",
            "generation": int(record.get("generation") or 0),
            "fields": review.changed,
            "modelFields": review.model_fields,
            "removedFields": review.removed,
            "labels": review.labels,
            "language": ((record.get("extraction") or {}).get("extraction") or {}).get("language") or "",
            "source": {k: source[k] for k in ("bucket", "key", "versionId", "etag") if source.get(k)},
            "note": review.note,
        }
        self.dynamodb.put_item(
            TableName=self.table,
            Item={k: _serializer.serialize(_dynamo(v)) for k, v in item.items()},
            ConditionExpression="attribute_not_exists(correctedAt)",  # a review is never overwritten
        )
        return item

    def for_document(self, document_id: str) -> list[dict[str, Any]]:
        """The document's reviews, newest first."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "documentId = :d",
            "ExpressionAttributeValues": {":d": {"S": document_id}},
            "ScanIndexForward": False,
        }
        while True:
            response = self.dynamodb.query(**kwargs)
            items.extend(_from_item(i) for i in response.get("Items", []))
            if not response.get("LastEvaluatedKey"):
                return items
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def latest(self) -> list[dict[str, Any]]:
        """The newest review of every reviewed document (a scan: the table holds reviews only)."""
        newest: dict[str, dict[str, Any]] = {}
        for page in self.dynamodb.get_paginator("scan").paginate(TableName=self.table):
            for raw in page.get("Items", []):
                item = _from_item(raw)
                held = newest.get(item["documentId"])
                if held is None or item["correctedAt"] > held["correctedAt"]:
                    newest[item["documentId"]] = item
        return sorted(newest.values(), key=lambda i: i["correctedAt"])


def _from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return from_item(dict(item))
