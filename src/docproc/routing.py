"""Cost-aware routing: rules in ``config/routes.yaml`` pick the Bedrock model of a document (or classification
only) from what is known before any model runs. First match wins; no match takes the stack's default model.

A bad file raises :class:`RouteConfigError` naming the file, the rule and the field.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from docproc.formats.registry import DocumentFormat
from docproc.models import PreparedDocument, Route

DEFAULT_PATH = Path(__file__).with_name("config") / "routes.yaml"
CONFIG_ENV = "DOCPROC_ROUTES_FILE"  # optional override (local runs against a user's own file)
MODEL_ALIASES = ("default", "small")
FALLBACK_ROUTE = "default"
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
_FORMATS = {f.value for f in DocumentFormat}


class RouteConfigError(ValueError):
    """The routing configuration is invalid; the message names the file, rule and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Conditions(_Strict):
    formats: tuple[str, ...] | None = None
    min_bytes: int | None = Field(default=None, ge=0)
    max_bytes: int | None = Field(default=None, ge=0)
    min_chars: int | None = Field(default=None, ge=0)
    max_chars: int | None = Field(default=None, ge=0)
    min_pages: int | None = Field(default=None, ge=0)
    max_pages: int | None = Field(default=None, ge=0)
    languages: tuple[str, ...] | None = None
    ocr: bool | None = None
    key_prefixes: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _check(self) -> Conditions:
        unknown = sorted(set(self.formats or ()) - _FORMATS)
        if unknown:
            raise ValueError(f"unknown format(s) {unknown}; known: {sorted(_FORMATS)}")
        for low, high in (("min_bytes", "max_bytes"), ("min_chars", "max_chars"), ("min_pages", "max_pages")):
            lo, hi = getattr(self, low), getattr(self, high)
            if lo is not None and hi is not None and lo > hi:
                raise ValueError(f"{low} ({lo}) is over {high} ({hi})")
        bad = [code for code in self.languages or () if not re.fullmatch(r"[a-z]{2}", code)]
        if bad:
            raise ValueError(f"languages must be ISO 639-1 codes like 'en', not {bad}")
        return self

    def matches(self, facts: dict[str, Any]) -> bool:
        """Whether every condition holds for the document's facts (format, bytes, chars, pages, language, ocr, key)."""
        if self.formats is not None and facts["format"] not in self.formats:
            return False
        for name in ("bytes", "chars", "pages"):
            value = facts[name]
            low, high = getattr(self, f"min_{name}"), getattr(self, f"max_{name}")
            if low is not None and (value is None or value < low):
                return False
            if high is not None and (value is None or value > high):
                return False
        if self.languages is not None and facts["language"] not in self.languages:
            return False
        if self.ocr is not None and facts["ocr"] is not self.ocr:
            return False
        return self.key_prefixes is None or any(facts["key"].startswith(p) for p in self.key_prefixes)


class Rule(_Strict):
    name: str
    when: Conditions = Field(default_factory=Conditions)
    model: Literal["default", "small"] | None = None
    classification_only: bool = False

    @model_validator(mode="after")
    def _check(self) -> Rule:
        if not _NAME_RE.match(self.name):
            raise ValueError(f"name {self.name!r} must be lower case letters, digits, '-', '_' or '.'")
        if (self.model is None) == (not self.classification_only):
            raise ValueError("give exactly one action: `model: default|small` or `classification_only: true`")
        return self


class RouteConfig(_Strict):
    version: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    routes: tuple[Rule, ...] = Field(min_length=1)
    source: str = ""

    @model_validator(mode="after")
    def _unique(self) -> RouteConfig:
        names = [r.name for r in self.routes]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"route names must be unique: {twice}")
        return self


@dataclass(frozen=True)
class Models:
    """The model ids the aliases stand for in this deployment (template parameters through the environment)."""

    default: str
    small: str = ""

    def resolve(self, alias: str) -> str:
        return (self.small or self.default) if alias == "small" else self.default


def _location(loc: tuple[Any, ...], data: Any) -> str:
    parts: list[str] = []
    if len(loc) >= 2 and loc[0] == "routes" and isinstance(loc[1], int):
        rules = data.get("routes") if isinstance(data, dict) else None
        name = rules[loc[1]].get("name") if isinstance(rules, list) and isinstance(rules[loc[1]], dict) else None
        parts.append(f"route {loc[1] + 1}" + (f" ({name!r})" if name else ""))
        loc = loc[2:]
    if loc:
        parts.append("/".join(str(p) for p in loc))
    return ": ".join(parts)


def parse(text: str, source: str = "<string>") -> RouteConfig:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RouteConfigError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RouteConfigError(f"{source}: expected a mapping with `version` and `routes`")
    if isinstance(data.get("version"), (int, float)):
        data["version"] = str(data["version"])
    try:
        return RouteConfig.model_validate({**data, "source": source})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = _location(tuple(err["loc"]), data)
            message = err["msg"].removeprefix("Value error, ")
            problems.append(f"{where}: {message}" if where else message)
        raise RouteConfigError(f"{source}: " + "; ".join(problems)) from exc


def load(path: str | Path | None = None) -> RouteConfig:
    """The deployed routing rules (``DOCPROC_ROUTES_FILE`` overrides the bundled file); cached per file and mtime."""
    chosen = Path(path or os.environ.get(CONFIG_ENV) or DEFAULT_PATH)
    try:
        mtime = chosen.stat().st_mtime_ns
    except OSError as exc:
        raise RouteConfigError(f"{chosen}: cannot read the routing rules: {exc.strerror}") from exc
    return _load(str(chosen), mtime)


@cache
def _load(path: str, mtime_ns: int) -> RouteConfig:
    return parse(Path(path).read_text(encoding="utf-8"), path)


def facts(prepared: PreparedDocument) -> dict[str, Any]:
    return {
        "format": prepared.format,
        "bytes": prepared.source.size,
        "chars": prepared.text.chars,
        "pages": prepared.text.pages or 1,  # text formats without pages count as one
        "language": prepared.text.language,
        "ocr": prepared.ocr is not None,
        "key": prepared.source.key,
    }


def choose(prepared: PreparedDocument, config: RouteConfig, models: Models) -> Route:
    """The first rule that matches the document (or the implicit default route)."""
    known = facts(prepared)
    for rule in config.routes:
        if rule.when.matches(known):
            if rule.classification_only:
                return Route(name=rule.name, model_id=None, classification_only=True, rules_version=config.version)
            return Route(name=rule.name, model_id=models.resolve(rule.model or "default"), rules_version=config.version)
    return Route(name=FALLBACK_ROUTE, model_id=models.default, rules_version=config.version)
