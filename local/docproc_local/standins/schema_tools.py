"""JSON Schema helpers for the Converse stand-in: make a tool input valid against the requested schema, or break it.

:func:`conform` is what keeps the stand-in honest: whatever produced the tool input (the local extractor, a
forwarded LLM), the answer sent back is valid against the ``inputSchema`` the caller asked for. :func:`malform`
produces the opposite, for fault injection: an input that a real model might send and that the caller's
validation must catch.
"""

from __future__ import annotations

import copy
import functools
import json
import random
from collections.abc import Sequence
from typing import Any

from jsonschema import validators
from jsonschema.exceptions import SchemaError, ValidationError
from jsonschema.protocols import Validator

_MAX_REPAIRS = 500
_MISSING = object()


def validator_for(schema: dict[str, Any]) -> Validator:
    """A validator for ``schema`` (its ``$schema`` dialect, Draft 2020-12 when it names none), cached."""
    return _cached_validator(json.dumps(schema, sort_keys=True))


@functools.lru_cache(maxsize=64)
def _cached_validator(key: str) -> Validator:
    schema = json.loads(key)
    return validators.validator_for(schema, default=validators.Draft202012Validator)(schema)


def check_schema(schema: Any) -> str | None:
    """Why ``schema`` is not a usable JSON Schema for a tool input, or ``None`` when it is.

    Cached: checking against the meta-schema costs tens of milliseconds and callers send the same schema each time.
    """
    if not isinstance(schema, dict):
        return "The JSON schema must be an object."
    return _cached_check(json.dumps(schema, sort_keys=True))


@functools.lru_cache(maxsize=64)
def _cached_check(key: str) -> str | None:
    schema = json.loads(key)
    try:
        validators.validator_for(schema, default=validators.Draft202012Validator).check_schema(schema)
    except SchemaError as error:
        return f"The JSON schema is invalid: {error.message}"
    return None


def _resolve(schema: Any, root: dict[str, Any]) -> Any:
    """``schema`` with local ``$ref`` s (``#/$defs/...``, ``#/definitions/...``) followed."""
    seen = 0
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#/"):
        target: Any = root
        for part in schema["$ref"][2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(target, dict) else None
        seen += 1
        if target is None or seen > 32:
            return {}
        schema = target
    return schema


def subschema_at(root: dict[str, Any], path: Sequence[str | int]) -> dict[str, Any] | None:
    """The schema that applies at ``path`` of an instance (following properties, items and ``$ref``)."""
    schema: Any = root
    for part in path:
        schema = _resolve(schema, root)
        if not isinstance(schema, dict):
            return None
        schema = schema.get("items") if isinstance(part, int) else schema.get("properties", {}).get(part)
        if schema is None:
            return None
    resolved = _resolve(schema, root)
    return resolved if isinstance(resolved, dict) else None


def default_for(schema: Any, root: dict[str, Any], depth: int = 0) -> Any:
    """The smallest value that is valid against ``schema`` (best effort for exotic keywords)."""
    schema = _resolve(schema, root)
    if not isinstance(schema, dict) or depth > 16:
        return None
    if "default" in schema:
        return copy.deepcopy(schema["default"])
    if "const" in schema:
        return copy.deepcopy(schema["const"])
    if schema.get("enum"):
        return copy.deepcopy(schema["enum"][0])
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key) or []
        nullable = [b for b in branches if _resolve(b, root).get("type") == "null"]
        if branches:
            return None if nullable else default_for(branches[0], root, depth + 1)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for branch in schema["allOf"]:
            merged.update(_resolve(branch, root))
        return default_for(merged, root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = "null" if "null" in kind else (kind[0] if kind else None)
    if kind == "string":
        return "x" * int(schema.get("minLength", 0))
    if kind in ("number", "integer"):
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    if kind == "array":
        return [default_for(schema.get("items", {}), root, depth + 1) for _ in range(int(schema.get("minItems", 0)))]
    if kind == "object" or "properties" in schema:
        return {
            name: default_for(prop, root, depth + 1)
            for name, prop in schema.get("properties", {}).items()
            if name in schema.get("required", [])
        }
    return None


def _get(document: Any, path: Sequence[str | int]) -> Any:
    for part in path:
        in_dict = isinstance(document, dict) and isinstance(part, str) and part in document
        in_list = isinstance(document, list) and isinstance(part, int) and 0 <= part < len(document)
        if in_dict or in_list:
            document = document[part]
        else:
            return _MISSING
    return document


def _replacement(validator: Validator, root: dict[str, Any], path: list[str | int], fallback: Any) -> Any:
    """A valid value for ``path``: the fallback's value there if it is valid, else the schema's default.

    The fallback is only consulted for top-level properties: deeper down, the same path in the fallback (the third
    date, say) names a different thing than in the instance.
    """
    subschema = subschema_at(root, path)
    if subschema is None:
        return _MISSING
    candidate = _get(fallback, path) if len(path) == 1 else _MISSING
    if candidate is not _MISSING and validator.evolve(schema=subschema).is_valid(candidate):
        return copy.deepcopy(candidate)
    return default_for(subschema, root)


def _repair_one(document: Any, error: ValidationError, validator: Validator, fallback: Any) -> Any:
    root = validator.schema
    path = list(error.absolute_path)
    target = _get(document, path)
    if error.validator == "required" and isinstance(target, dict):
        if path and isinstance(path[-1], int):  # an incomplete list item: drop it rather than invent its fields
            del _get(document, path[:-1])[path[-1]]
            return document
        for name in error.validator_value:
            if name not in target:
                value = _replacement(validator, root, [*path, name], fallback)
                target[name] = None if value is _MISSING else value
        return document
    if error.validator == "additionalProperties" and isinstance(target, dict):
        allowed = (subschema_at(root, path) or {}).get("properties", {})
        for name in [name for name in target if name not in allowed]:
            del target[name]
        return document
    if not path:  # the whole instance is unusable (not an object, say)
        return copy.deepcopy(fallback) if validator.is_valid(fallback) else default_for(root, root)
    parent = _get(document, path[:-1])
    key = path[-1]
    if isinstance(parent, list) and isinstance(key, int):
        del parent[key]
    elif isinstance(parent, dict) and isinstance(key, str):
        parent_schema = subschema_at(root, path[:-1]) or {}
        if key in parent_schema.get("required", []):
            value = _replacement(validator, root, path, fallback)
            parent[key] = None if value is _MISSING else value
        else:
            value = _replacement(validator, root, path, fallback) if len(path) == 1 else _MISSING
            if value is _MISSING or _get(fallback, path) is _MISSING:
                del parent[key]
            else:
                parent[key] = value
    return document


def conform(instance: Any, schema: dict[str, Any], fallback: Any = None) -> tuple[Any, bool]:
    """``instance`` made valid against ``schema``, and whether anything had to change.

    Each invalid value is replaced by the value at the same place in ``fallback`` when that one is valid, by the
    schema's default when the property is required, or dropped (list items, optional properties).
    """
    validator = validator_for(schema)
    document = copy.deepcopy(instance)
    changed = False
    for _ in range(_MAX_REPAIRS):
        error = next(iter(sorted(validator.iter_errors(document), key=lambda e: -len(e.absolute_path))), None)
        if error is None:
            return document, changed
        changed = True
        document = _repair_one(document, error, validator, fallback)
    minimal = default_for(schema, schema)
    return minimal, True


def _wrong_value(schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "string" or "enum" in schema:
        return 42 if kind == "string" else "not-one-of-the-allowed-values"
    if kind == "array":
        return "a string instead of a list"
    if kind in ("number", "integer"):
        return "12.5 EUR"
    if kind == "object":
        return ["a list instead of an object"]
    return {"unexpected": True}


def malform(instance: dict[str, Any], schema: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A variant of a valid tool input that breaks ``schema`` the way models do (missing field, wrong type)."""
    validator = validator_for(schema)
    root = _resolve(schema, schema)
    properties = root.get("properties", {}) if isinstance(root, dict) else {}
    required = [name for name in root.get("required", []) if name in properties] if isinstance(root, dict) else []
    broken = copy.deepcopy(instance)
    victim = "title" if "title" in required else (required[0] if required else None)
    if victim is not None:
        broken.pop(victim, None)  # a required property left out
    others = [name for name in properties if name != victim]
    if others:
        name = others[rng.randrange(len(others))]
        broken[name] = _wrong_value(_resolve(properties[name], schema))  # and another with the wrong type
    if validator.is_valid(broken):  # a schema that accepts almost anything: send something that is not an object
        return {"__malformed__": ["not", "the", "requested", "input"]}
    return broken
