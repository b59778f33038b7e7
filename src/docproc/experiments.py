"""A/B experiments on models and prompts: the configuration file, its validation, and variant assignment.

``config/experiments.yaml`` (deployed inside the domain layer) lists experiments. Each has variants (model id,
prompt version, temperature, optional class-configuration version, weight), a window (``start`` <= time < ``end``)
and an ``active`` flag; the template parameter ``ActiveExperiment`` (``ACTIVE_EXPERIMENT``) activates one by name
too. Prepare calls :func:`assign`: a document inside the active experiment's window gets the variant that a hash of
``<experiment>:<documentId>`` falls into, so a document (and every retry and generation of it) always gets the same
variant; a document outside the window gets none. A variant OVERRIDES the extraction model (the route's or
``BedrockModelId``), and sets temperature, prompt version and class configuration of the extract step.

A bad file raises :class:`ExperimentConfigError` naming the file, the experiment and the key; at run time that is
``CONFIG_INVALID`` (prepare fails the document: ``docproc experiment check`` says why before you deploy).
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from docproc import classes
from docproc.models import ExperimentAssignment

DEFAULT_PATH = Path(__file__).with_name("config") / "experiments.yaml"
CONFIG_ENV = "EXPERIMENTS_FILE"  # optional override (local runs against a user's own file)
ACTIVE_ENV = "ACTIVE_EXPERIMENT"  # the template parameter ActiveExperiment (empty: only `active: true` ones)
DEFAULT_PROMPT = "default"  # the class configuration's own system prompt, unchanged
_NAME = r"^[a-z][a-z0-9_-]{0,39}$"
_WEIGHT_TOTALS = (1.0, 100.0)


class ExperimentConfigError(ValueError):
    """The experiment configuration is invalid; the message names the file, the experiment and the key."""


class Prompt(BaseModel):
    """A prompt version: text appended to the class configuration's system prompt."""

    model_config = ConfigDict(extra="forbid")

    system_prompt_suffix: str = Field(min_length=1, description="Appended to the system prompt, after a blank line")


class Variant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=_NAME)
    model_id: str = Field(min_length=1, max_length=2048, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/+-]*$")
    prompt_version: str = DEFAULT_PROMPT
    temperature: float = Field(default=0.0, ge=0, le=1)
    class_config_version: str | None = Field(default=None, description="Version of a document_classes*.yaml file")
    weight: float = Field(gt=0)


class Experiment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=_NAME)
    description: str = ""
    active: bool = False
    start: datetime
    end: datetime
    variants: list[Variant] = Field(min_length=2)

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("needs a time zone, e.g. 2026-12-01T00:00:00Z")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Experiment:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError(f"variant names must be unique: {', '.join(names)}")
        total = sum(v.weight for v in self.variants)
        if not any(abs(total - expected) < 1e-6 for expected in _WEIGHT_TOTALS):
            raise ValueError(f"variant weights add up to {total:g}; they must add up to 1 or to 100")
        return self

    def in_window(self, when: datetime) -> bool:
        return self.start <= when < self.end

    def variant_for(self, document_id: str) -> Variant:
        """The variant whose share of [0, 1) holds this document's hash (weights in file order)."""
        point = bucket(self.name, document_id)
        total = sum(v.weight for v in self.variants)
        upper = 0.0
        for variant in self.variants:
            upper += variant.weight / total
            if point < upper:
                return variant
        return self.variants[-1]  # rounding at the top end


class ExperimentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    prompts: dict[str, Prompt] = Field(default_factory=dict)
    experiments: list[Experiment] = Field(default_factory=list)
    source: str = Field(default="", exclude=True)

    @model_validator(mode="after")
    def _references(self) -> ExperimentConfig:
        names = [e.name for e in self.experiments]
        if len(set(names)) != len(names):
            raise ValueError(f"experiment names must be unique: {', '.join(names)}")
        if DEFAULT_PROMPT in self.prompts:
            raise ValueError(f"prompt version {DEFAULT_PROMPT!r} is built in (the class configuration's own prompt)")
        active = [e.name for e in self.experiments if e.active]
        if len(active) > 1:
            raise ValueError(f"at most one experiment may be active at a time; active: {', '.join(active)}")
        return self

    def get(self, name: str) -> Experiment | None:
        return next((e for e in self.experiments if e.name == name), None)

    def system_prompt(self, base: str, prompt_version: str | None) -> str:
        if not prompt_version or prompt_version == DEFAULT_PROMPT:
            return base
        return f"{base}\n\n{self.prompts[prompt_version].system_prompt_suffix.strip()}"


def bucket(experiment: str, document_id: str) -> float:
    """A uniform point in [0, 1) from SHA-256 of ``<experiment>:<documentId>`` (stable across processes)."""
    digest = hashlib.sha256(f"{experiment}:{document_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


# --- loading and validation ----------------------------------------------------------------------------------------


def config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_PATH)


def parse(
    text: str, *, source: str = "<experiments>", class_versions: dict[str, Path] | None = None
) -> ExperimentConfig:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ExperimentConfigError(f"{source}: not valid YAML: {exc}") from exc
    return from_dict(data, source=source, class_versions=class_versions)


def from_dict(
    data: Any, *, source: str = "<experiments>", class_versions: dict[str, Path] | None = None
) -> ExperimentConfig:
    """The validated configuration; the error names the experiment and the key (``experiments[demo].variants[1]``)."""
    if not isinstance(data, dict):
        raise ExperimentConfigError(f"{source}: (root): must be a mapping with version, prompts and experiments")
    try:
        config = ExperimentConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _where(data, first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ExperimentConfigError(f"{source}: {where}: {message}") from None
    versions = class_config_versions() if class_versions is None else class_versions
    for experiment in config.experiments:
        for variant in experiment.variants:
            where = f"experiments[{experiment.name}].variants[{variant.name}]"
            if variant.prompt_version != DEFAULT_PROMPT and variant.prompt_version not in config.prompts:
                known = ", ".join([DEFAULT_PROMPT, *sorted(config.prompts)])
                raise ExperimentConfigError(
                    f"{source}: {where}.prompt_version: unknown prompt version {variant.prompt_version!r}; "
                    f"defined: {known}"
                )
            if variant.class_config_version is not None and variant.class_config_version not in versions:
                known = ", ".join(sorted(versions)) or "none"
                raise ExperimentConfigError(
                    f"{source}: {where}.class_config_version: no document_classes*.yaml with version "
                    f"{variant.class_config_version!r} is deployed; deployed: {known}"
                )
    return config.model_copy(update={"source": source})


def _where(data: Any, loc: tuple[Any, ...]) -> str:
    """A readable path: list positions of experiments and variants shown by their names where they have one."""
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int) and isinstance(node, list):
            item = node[key] if key < len(node) else None
            name = item.get("name") if isinstance(item, dict) else None
            parts[-1] += f"[{name}]" if isinstance(name, str) and name else f"[{key}]"
            node = item
        else:
            parts.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return ".".join(parts) or "(root)"


def class_config_versions(folder: Path | None = None) -> dict[str, Path]:
    """``version -> file`` of every document-class configuration deployed next to this one."""
    folder = folder or classes.DEFAULT_PATH.parent
    out: dict[str, Path] = {}
    for path in sorted(folder.glob("document_classes*.yaml")):
        try:
            out.setdefault(classes.load(path).version, path)
        except classes.ClassConfigError:
            continue  # `docproc classes check` reports a broken file; it cannot be a variant's configuration
    return out


@cache
def _load_cached(path: str, mtime_ns: int) -> ExperimentConfig:
    return parse(Path(path).read_text(encoding="utf-8"), source=path)


def load(path: Path | None = None) -> ExperimentConfig:
    """The configuration at ``path`` (default: :func:`config_path`), parsed once per file version."""
    path = path or config_path()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise ExperimentConfigError(f"{path}: cannot read the experiment configuration ({exc.strerror})") from exc
    return _load_cached(str(path), mtime)


# --- assignment ----------------------------------------------------------------------------------------------------


def active_experiment(config: ExperimentConfig, activated: str | None) -> Experiment | None:
    """``activated`` (the ActiveExperiment parameter) when set, else the experiment with ``active: true``."""
    if activated:
        experiment = config.get(activated)
        if experiment is None:
            known = ", ".join(e.name for e in config.experiments) or "none"
            raise ExperimentConfigError(
                f"{config.source}: ActiveExperiment {activated!r} is not an experiment of the file; defined: {known}"
            )
        return experiment
    return next((e for e in config.experiments if e.active), None)


def assign(
    document_id: str,
    *,
    when: datetime | None = None,
    activated: str | None = None,
    config: ExperimentConfig | None = None,
) -> ExperimentAssignment | None:
    """The variant of the active experiment for this document, or None (no experiment, or outside its window)."""
    config = config or load()
    experiment = active_experiment(config, activated if activated is not None else os.environ.get(ACTIVE_ENV, ""))
    if experiment is None:
        return None
    moment = when or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not experiment.in_window(moment):
        return None
    variant = experiment.variant_for(document_id)
    return ExperimentAssignment(
        name=experiment.name,
        variant=variant.name,
        model_id=variant.model_id,
        prompt_version=variant.prompt_version,
        temperature=variant.temperature,
        class_config_version=variant.class_config_version,
        config_version=config.version,
    )


# --- what the extract step uses ------------------------------------------------------------------------------------


def model_id(assignment: ExperimentAssignment | None, default: str) -> str:
    """The variant's model when the document has one (it overrides the route's / the stack's model)."""
    return assignment.model_id if assignment else default


def temperature(assignment: ExperimentAssignment | None) -> float:
    return assignment.temperature if assignment else 0.0


def class_config(assignment: ExperimentAssignment | None) -> classes.ClassConfig:
    """The class configuration the variant names (by version), else the deployed default."""
    if assignment is None or assignment.class_config_version is None:
        return classes.load()
    path = class_config_versions().get(assignment.class_config_version)
    if path is None:
        raise classes.ClassConfigError(
            f"experiment {assignment.name}/{assignment.variant}: no document_classes*.yaml has version "
            f"{assignment.class_config_version!r}"
        )
    return classes.load(path)


def system_prompt(assignment: ExperimentAssignment | None, base: str) -> str:
    if assignment is None or assignment.prompt_version == DEFAULT_PROMPT:
        return base
    return load().system_prompt(base, assignment.prompt_version)
