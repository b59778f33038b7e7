"""Check a Textract request body against botocore's ``textract`` service model, as the service's front end does.

Unknown members, missing required members, wrong types, lengths, ranges, enums and patterns all answer
``InvalidParameterException`` naming the member's path. ``Document.Bytes`` arrives base64-encoded and is decoded
here; over its 10 MB maximum it is ``DocumentTooLargeException`` (the service's answer), not a parameter error.
Patterns are applied with search semantics, as Smithy defines them.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from typing import Any

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape

from docproc_local.standins.errors import textract_error


@functools.cache
def service_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("textract")


def operation(name: str) -> OperationModel | None:
    model = service_model()
    return model.operation_model(name) if name in model.operation_names else None


def parse(operation_name: str, payload: Any) -> dict[str, Any]:
    """The request as Python values (blobs decoded), or InvalidParameterException."""
    op = operation(operation_name)
    assert op is not None and op.input_shape is not None
    if not isinstance(payload, dict):
        raise textract_error("SerializationException", "The request body must be a JSON object.")
    return _structure(op.input_shape, payload, "")


def _invalid(path: str, problem: str) -> Exception:
    return textract_error("InvalidParameterException", f"Request has invalid parameters: {path} {problem}")


def _value(shape: Shape, value: Any, path: str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise _invalid(path, "must be an object")
        return _structure(shape, value, path)
    if kind == "list":
        if not isinstance(value, list):
            raise _invalid(path, "must be a list")
        _length(shape, len(value), path)
        return [_value(shape.member, item, f"{path}[{index}]") for index, item in enumerate(value)]  # type: ignore[attr-defined]
    if kind == "map":
        if not isinstance(value, dict):
            raise _invalid(path, "must be an object")
        return {key: _value(shape.value, item, f"{path}.{key}") for key, item in value.items()}  # type: ignore[attr-defined]
    if kind == "string":
        if not isinstance(value, str):
            raise _invalid(path, "must be a string")
        _length(shape, len(value), path)
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            raise _invalid(path, f"must be one of {', '.join(enum)}")
        pattern = shape.metadata.get("pattern")
        if pattern and re.search(pattern, value) is None:
            raise _invalid(path, f"must match the pattern {pattern}")
        return value
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _invalid(path, "must be an integer")
        _range(shape, value, path)
        return value
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _invalid(path, "must be a number")
        _range(shape, value, path)
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _invalid(path, "must be a boolean")
        return value
    if kind == "blob":
        return _blob(shape, value, path)
    return value


def _structure(shape: Shape, value: dict[str, Any], path: str) -> dict[str, Any]:
    members = shape.members  # type: ignore[attr-defined]
    prefix = f"{path}." if path else ""
    unknown = sorted(set(value) - set(members))
    if unknown:
        raise _invalid(f"{prefix}{unknown[0]}", "is not a member of " + (path or "the request"))
    for name in shape.required_members:  # type: ignore[attr-defined]
        if value.get(name) is None:
            raise _invalid(f"{prefix}{name}", "is required")
    return {name: _value(members[name], item, f"{prefix}{name}") for name, item in value.items() if item is not None}


def _blob(shape: Shape, value: Any, path: str) -> bytes:
    if not isinstance(value, str):
        raise _invalid(path, "must be base64-encoded")
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid(path, "is not valid base64") from None
    maximum = shape.metadata.get("max")
    if maximum is not None and len(data) > maximum:
        raise textract_error(
            "DocumentTooLargeException", f"The document is {len(data)} bytes, more than the {maximum} bytes allowed"
        )
    _length(shape, len(data), path)
    return data


def _length(shape: Shape, length: int, path: str) -> None:
    minimum, maximum = shape.metadata.get("min"), shape.metadata.get("max")
    if minimum is not None and length < minimum:
        raise _invalid(path, f"must have a length of at least {minimum}")
    if maximum is not None and length > maximum:
        raise _invalid(path, f"must have a length of at most {maximum}")


def _range(shape: Shape, value: float, path: str) -> None:
    minimum, maximum = shape.metadata.get("min"), shape.metadata.get("max")
    if minimum is not None and value < minimum:
        raise _invalid(path, f"must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise _invalid(path, f"must be at most {maximum}")
