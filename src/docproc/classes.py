"""Document classes: the configuration file, its validation, and the Converse tool set built from it.

The file (``config/document_classes.yaml`` in this package, deployed inside the domain layer) lists classes, each
with a description, the classifier domains it belongs to, per-class instructions and a JSON Schema of its plain
field values. :func:`tool_config` turns every class into one tool, ``record_<name>``, whose ``inputSchema`` holds
the generic insights (title, summary, language, domain hint, key phrases) and ``fields``: every field of the class
wrapped in an envelope ``{value, confidence, evidence: {page, quote}}`` (array fields: one envelope per item).

A bad file raises :class:`ClassConfigError` naming the file, the class and the JSON path of the problem. PyYAML and
jsonschema are imported when a file is parsed or a validator built, not when a handler module is imported.
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docproc.models import Domain

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

DEFAULT_PATH = Path(__file__).with_name("config") / "document_classes.yaml"
CONFIG_ENV = "DOCUMENT_CLASSES_FILE"  # optional override (local runs against a user's own file)
TOOL_PREFIX = "record_"
FALLBACK_CLASS = "other"
MAX_QUOTE = 300
MAX_ARRAY_ITEMS = 50

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,55}$")
_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_INFERENCE_PROFILE_RE = re.compile(r"^(?:us|eu|apac|us-gov|global|jp|au|ca)\.")
_TOP_KEYS = {"version", "system_prompt", "classes", "strict_models"}
_CLASS_KEYS = {"name", "description", "domains", "instructions", "schema"}
_DOMAINS = {d.value for d in Domain}


class ClassConfigError(ValueError):
    """The document-class configuration is invalid; the message names the file, class and JSON path."""


@dataclass(frozen=True, eq=False)
class DocumentClass:
    name: str
    description: str
    domains: tuple[str, ...]
    instructions: str
    schema: dict[str, Any]

    @property
    def tool_name(self) -> str:
        return TOOL_PREFIX + self.name

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(self.schema.get("properties", {}))

    def is_list(self, field_name: str) -> bool:
        return self.schema["properties"][field_name].get("type") == "array"


@dataclass(frozen=True, eq=False)
class ClassConfig:
    version: str
    system_prompt: str
    classes: tuple[DocumentClass, ...]
    strict_models: tuple[str, ...] = ()
    source: str = ""
    _by_name: dict[str, DocumentClass] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({c.name: c for c in self.classes})

    def get(self, name: str) -> DocumentClass:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    def for_tool(self, tool_name: str) -> DocumentClass | None:
        if not tool_name.startswith(TOOL_PREFIX):
            return None
        return self._by_name.get(tool_name[len(TOOL_PREFIX) :])

    def supports_strict(self, model_id: str) -> bool:
        base = _INFERENCE_PROFILE_RE.sub("", model_id.rsplit("/", 1)[-1])
        return any(base.startswith(prefix) for prefix in self.strict_models)


# --- loading and validation ----------------------------------------------------------------------------------------


def config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_PATH)


@cache
def _load_cached(path: str, mtime_ns: int) -> ClassConfig:
    return parse(Path(path).read_text(encoding="utf-8"), source=path)


def load(path: Path | None = None) -> ClassConfig:
    """The configuration at ``path`` (default: :func:`config_path`), parsed once per file version."""
    path = path or config_path()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise ClassConfigError(f"{path}: cannot read the document-class configuration ({exc.strerror})") from exc
    return _load_cached(str(path), mtime)


def parse(text: str, *, source: str = "<document classes>") -> ClassConfig:
    import yaml  # on first use: most functions never parse the file

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ClassConfigError(f"{source}: not valid YAML: {exc}") from exc
    return from_dict(data, source=source)


def from_dict(data: Any, *, source: str = "<document classes>") -> ClassConfig:
    def fail(where: str, message: str) -> ClassConfigError:
        return ClassConfigError(f"{source}: {where}: {message}")

    if not isinstance(data, dict):
        raise fail("(root)", "must be a mapping with version, system_prompt and classes")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise fail(
            "(root)", f"unknown key(s) {', '.join(sorted(map(str, unknown)))}; allowed: {', '.join(sorted(_TOP_KEYS))}"
        )
    version = data.get("version")
    if not isinstance(version, str) or not _VERSION_RE.match(version):
        raise fail("version", "required: a string of letters, digits, '.', '_' or '-' (e.g. \"2026.12.1\")")
    prompt = data.get("system_prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise fail("system_prompt", "required: the system prompt sent with every extraction request")
    strict = data.get("strict_models") or []
    if not isinstance(strict, list) or not all(isinstance(s, str) and s for s in strict):
        raise fail("strict_models", "must be a list of model-id prefixes")
    raw_classes = data.get("classes")
    if not isinstance(raw_classes, list) or not raw_classes:
        raise fail("classes", "required: a non-empty list of document classes")
    classes: list[DocumentClass] = []
    for index, raw in enumerate(raw_classes):
        classes.append(_document_class(raw, index, fail))
    names = [c.name for c in classes]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise fail("classes", f"class name(s) used more than once: {', '.join(duplicates)}")
    if FALLBACK_CLASS not in names:
        raise fail("classes", f"a class named {FALLBACK_CLASS!r} is required (the fallback for anything else)")
    return ClassConfig(
        version=version,
        system_prompt=prompt.strip(),
        classes=tuple(classes),
        strict_models=tuple(strict),
        source=source,
    )


def _document_class(raw: Any, index: int, fail: Any) -> DocumentClass:
    if not isinstance(raw, dict):
        raise fail(f"classes[{index}]", "must be a mapping with name, description and schema")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise fail(f"classes[{index}].name", "required: lower_snake_case, at most 56 characters")
    where = f"class {name!r}"
    unknown = set(raw) - _CLASS_KEYS
    if unknown:
        raise fail(
            where, f"unknown key(s) {', '.join(sorted(map(str, unknown)))}; allowed: {', '.join(sorted(_CLASS_KEYS))}"
        )
    description = raw.get("description")
    if not isinstance(description, str) or not description.strip():
        raise fail(f"{where}: description", "required: one sentence the model uses to pick the class")
    domains = raw.get("domains") or []
    if not isinstance(domains, list) or any(d not in _DOMAINS for d in domains):
        raise fail(f"{where}: domains", f"must be a list of {', '.join(sorted(_DOMAINS))}")
    instructions = raw.get("instructions") or ""
    if not isinstance(instructions, str):
        raise fail(f"{where}: instructions", "must be text")
    schema: dict[str, Any] = raw.get("schema")  # type: ignore[assignment]  # checked on the next line
    _check_schema(schema, lambda path, message: fail(f"{where}: schema{path}", message))
    return DocumentClass(
        name=name,
        description=" ".join(description.split()),
        domains=tuple(domains),
        instructions=" ".join(instructions.split()),
        schema=schema,
    )


def _check_schema(schema: Any, fail: Any) -> None:
    if not isinstance(schema, dict):
        raise fail("", "required: a JSON Schema object with properties")
    from jsonschema import Draft202012Validator  # on first use, see the module docstring
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        path = "".join(f"/{p}" for p in exc.absolute_path)
        raise fail(path, exc.message) from None
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict) or not schema["properties"]:
        raise fail("", 'must be {"type": "object", "properties": {...}} with at least one field')
    for field_name, sub in schema["properties"].items():
        if not _NAME_RE.match(field_name):
            raise fail(f"/properties/{field_name}", "field names are lower_snake_case")
        if "type" not in sub and "enum" not in sub:
            raise fail(
                f"/properties/{field_name}",
                "every field needs a type (string, number, integer, boolean, array, object)",
            )
        if sub.get("type") == "array" and not isinstance(sub.get("items"), dict):
            raise fail(f"/properties/{field_name}", "an array field needs an items schema")
        if "$ref" in str(sub):
            raise fail(f"/properties/{field_name}", "$ref is not supported: write the schema inline")


# --- the tool set --------------------------------------------------------------------------------------------------


def _closed(node: Any) -> Any:
    """A copy with ``additionalProperties: false`` on every object that lists properties (what strict mode needs)."""
    if isinstance(node, dict):
        out = {k: _closed(v) for k, v in node.items()}
        if out.get("type") == "object" and "properties" in out:
            out.setdefault("additionalProperties", False)
        return out
    if isinstance(node, list):
        return [_closed(v) for v in node]
    return node


def evidence_schema() -> dict[str, Any]:
    """Kept terse: it is repeated for every field of every tool, and each character is paid for as input."""
    return {
        "type": "object",
        "properties": {"page": {"type": "integer"}, "quote": {"type": "string"}},
        "required": ["quote"],
        "additionalProperties": False,
    }


def envelope(value_schema: dict[str, Any]) -> dict[str, Any]:
    """The schema of one extracted field: its value with a confidence (0-1) and the evidence for it."""
    return {
        "type": "object",
        "properties": {
            "value": _closed(copy.deepcopy(value_schema)),
            "confidence": {"type": "number"},
            "evidence": evidence_schema(),
        },
        "required": ["value", "confidence", "evidence"],
        "additionalProperties": False,
    }


def fields_schema(document_class: DocumentClass) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for name, sub in document_class.schema["properties"].items():
        if sub.get("type") == "array":
            item = {k: v for k, v in sub.items() if k not in ("items", "maxItems", "minItems", "type")}
            properties[name] = {
                "type": "array",
                "maxItems": min(int(sub.get("maxItems", MAX_ARRAY_ITEMS)), MAX_ARRAY_ITEMS),
                "items": envelope(sub["items"]),
                **({"description": item["description"]} if "description" in item else {}),
            }
        else:
            properties[name] = envelope(sub)
            if "description" in sub:
                properties[name]["description"] = sub["description"]
    return {"type": "object", "properties": properties, "additionalProperties": False}


def tool_input_schema(document_class: DocumentClass) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 300},
            "summary": {"type": "string", "maxLength": 2000, "description": "Two or three sentences"},
            "language": {"type": "string", "minLength": 2, "maxLength": 8, "description": "ISO 639-1 code"},
            "domain_hint": {"type": "string", "enum": sorted(_DOMAINS), "description": "The business domain"},
            "key_phrases": {"type": "array", "maxItems": 10, "items": {"type": "string", "maxLength": 120}},
            "fields": fields_schema(document_class),
        },
        "required": ["title", "summary", "language", "domain_hint", "fields"],
        "additionalProperties": False,
    }


def tool_description(document_class: DocumentClass) -> str:
    text = f"Record a document of class '{document_class.name}': {document_class.description}"
    if document_class.instructions:
        text += f" Instructions: {document_class.instructions}"
    return text


def tool_config(config: ClassConfig, model_id: str) -> dict[str, Any]:
    """``toolConfig`` for Converse: one tool per class, the model must call one (``toolChoice: any``)."""
    strict = config.supports_strict(model_id)
    tools = []
    for document_class in config.classes:
        spec: dict[str, Any] = {
            "name": document_class.tool_name,
            "description": tool_description(document_class),
            "inputSchema": {"json": tool_input_schema(document_class)},
        }
        if strict:
            spec["strict"] = True
        tools.append({"toolSpec": spec})
    return {"tools": tools, "toolChoice": {"any": {}}}


@cache
def validator(config: ClassConfig, class_name: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator  # on first use, see the module docstring

    return Draft202012Validator(tool_input_schema(config.get(class_name)))
