"""Load and validate a golden set: ``documents/<name>`` and ``expected/<name>.json`` for each document.

Every expected file must name a class of :func:`docproc.classes.load`, one of the classifier's domains, and carry
``fields`` that validate against that class's schema (plain values, jsonschema draft 2020-12); a field the class
does not have is an error too. An optional ``"match": {"field": "exact" | "numeric" | "date" | "fuzzy"}``
overrides the matcher of a field. All problems are collected and raised together as :class:`GoldenSetError`,
one line per problem, each naming the file and the JSON path (``$.fields.line_items[0].quantity``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from docproc.classes import ClassConfig
from docproc.models import Domain
from docproc_local.evaluation.matching import OVERRIDE_KINDS

DOMAINS = tuple(d.value for d in Domain)
SKIP_NAMES = {".DS_Store", "Thumbs.db", ".gitkeep"}
REQUIRED_KEYS = ("file", "class", "domain", "fields")


class GoldenSetError(ValueError):
    """The golden set is unusable; the message lists each problem with its file and JSON path."""


@dataclass(frozen=True)
class GoldenDocument:
    name: str  # file name under documents/
    path: Path
    expected_path: Path
    class_name: str
    domain: str
    fields: Mapping[str, Any]
    language: str = ""
    match: Mapping[str, str] = field(default_factory=dict)
    source: str = ""
    license: str = ""
    notes: str = ""


def json_path(parts: Iterable[Any]) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir() if p.is_file() and p.name not in SKIP_NAMES and not p.name.startswith(".")
    )


def load(folder: Path, config: ClassConfig) -> list[GoldenDocument]:
    """Every document of the golden set at ``folder`` with its validated expectations, in file-name order."""
    documents_dir, expected_dir = folder / "documents", folder / "expected"
    if not documents_dir.is_dir() or not expected_dir.is_dir():
        raise GoldenSetError(f"{folder}: a golden set needs documents/ and expected/ folders")
    documents = {p.name: p for p in _files(documents_dir)}
    expected = {p.name.removesuffix(".json"): p for p in _files(expected_dir)}
    problems: list[str] = []
    for name in sorted(set(documents) - set(expected)):
        problems.append(f"{documents_dir / name}: no expected file ({expected_dir / (name + '.json')} is missing)")
    for name in sorted(set(expected) - set(documents)):
        problems.append(f"{expected[name]}: no document {documents_dir / name}")
    loaded: list[GoldenDocument] = []
    for name in sorted(set(documents) & set(expected)):
        document, errors = _document(documents[name], expected[name], config)
        problems.extend(f"{expected[name]}: {error}" for error in errors)
        if document is not None:
            loaded.append(document)
    if not documents and not problems:
        problems.append(f"{documents_dir}: no documents")
    if problems:
        shown = problems[:50] + ([f"... and {len(problems) - 50} more"] if len(problems) > 50 else [])
        raise GoldenSetError(f"golden set {folder} has {len(problems)} problem(s):\n  " + "\n  ".join(shown))
    return loaded


def _document(path: Path, expected_path: Path, config: ClassConfig) -> tuple[GoldenDocument | None, list[str]]:
    try:
        data = json.loads(expected_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"cannot read it ({exc})"]
    except json.JSONDecodeError as exc:
        return None, [f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"]
    if not isinstance(data, dict):
        return None, ["$: must be a JSON object"]
    errors = [f"{json_path([key])}: required" for key in REQUIRED_KEYS if key not in data]
    if errors:
        return None, errors
    if data["file"] != path.name:
        errors.append(f"$.file: {data['file']!r} does not name its document {path.name!r}")
    class_name = data["class"]
    if not isinstance(class_name, str) or class_name not in config:
        errors.append(
            f"$.class: {class_name!r} is not a document class of {config.source or 'the configuration'} "
            f"({', '.join(config.names)})"
        )
        return None, errors
    if data["domain"] not in DOMAINS:
        errors.append(f"$.domain: {data['domain']!r} is not one of {', '.join(DOMAINS)}")
    fields = data["fields"]
    if not isinstance(fields, dict):
        return None, [*errors, "$.fields: must be an object of field values"]
    errors.extend(_field_errors(config, class_name, fields))
    match = data.get("match") or {}
    if not isinstance(match, dict):
        errors.append("$.match: must be an object {field: matcher}")
        match = {}
    for name, kind in match.items():
        if name not in config.get(class_name).field_names:
            errors.append(f"$.match.{name}: {class_name} has no field {name!r}")
        elif kind not in OVERRIDE_KINDS:
            errors.append(f"$.match.{name}: {kind!r} is not one of {', '.join(OVERRIDE_KINDS)}")
    for key in ("language", "source", "license", "notes"):
        if key in data and not isinstance(data[key], str):
            errors.append(f"{json_path([key])}: must be a string")
    if errors:
        return None, errors
    return GoldenDocument(
        name=path.name,
        path=path,
        expected_path=expected_path,
        class_name=class_name,
        domain=data["domain"],
        fields=fields,
        language=data.get("language", ""),
        match=match,
        source=data.get("source", ""),
        license=data.get("license", ""),
        notes=data.get("notes", ""),
    ), []


def _field_errors(config: ClassConfig, class_name: str, fields: Mapping[str, Any]) -> list[str]:
    document_class = config.get(class_name)
    errors = [
        f"$.fields.{name}: {class_name} has no field {name!r} (fields: {', '.join(document_class.field_names)})"
        for name in fields
        if name not in document_class.field_names
    ]
    validator = Draft202012Validator(document_class.schema, format_checker=FormatChecker())
    for error in sorted(validator.iter_errors(dict(fields)), key=lambda e: list(map(str, e.absolute_path))):
        errors.append(f"{json_path(['fields', *error.absolute_path])}: {error.message}")
    for name, value in fields.items():
        if value is None or value == "" or value == []:
            errors.append(f"$.fields.{name}: empty; leave a field the document does not state out of fields")
    return errors
