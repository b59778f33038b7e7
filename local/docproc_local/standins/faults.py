"""Fault injection for the stand-ins: throttling, server errors, latency and malformed answers, per service.

One seeded :class:`random.Random` per service decides, for each request that passed validation, whether it is
answered normally or with a fault. A single draw per request picks the outcome (the rates are exclusive), a second
one picks the error code when the outcome is an error, so a given seed and request order always produce the same
sequence. Draws happen under a lock: concurrent requests each get one outcome, in arrival order.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from docproc_local.standins.errors import SERVICE_ERRORS

SERVICES: tuple[str, ...] = ("bedrock", "sagemaker")

#: Error codes answered for ``error_rate`` when a :class:`FaultConfig` names none (500 and 503 of each service).
DEFAULT_ERROR_CODES: dict[str, tuple[str, ...]] = {
    "bedrock": ("InternalServerException", "ServiceUnavailableException"),
    "sagemaker": ("InternalFailure", "ServiceUnavailable"),
}
#: Error code answered for ``throttle_rate`` (HTTP 429 for both services).
THROTTLE_CODE = "ThrottlingException"


@dataclass(frozen=True)
class FaultConfig:
    """How often one service misbehaves.

    ``throttle_rate``, ``error_rate`` and ``malformed_rate`` are probabilities per request (their sum at most 1);
    ``latency_ms`` is added to every answer; ``seed`` makes the sequence of outcomes reproducible; ``error_codes``
    chooses the server errors (default: the service's 500 and 503, e.g. ``("ModelTimeoutException",)`` for 408).
    For SageMaker, a malformed answer is a 200 whose body is cut JSON.
    """

    throttle_rate: float = 0.0
    error_rate: float = 0.0
    latency_ms: int = 0
    malformed_rate: float = 0.0
    seed: int | None = None
    error_codes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("throttle_rate", "error_rate", "malformed_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value}")
        if self.throttle_rate + self.error_rate + self.malformed_rate > 1.0 + 1e-9:
            raise ValueError("throttle_rate + error_rate + malformed_rate must not exceed 1")
        if self.latency_ms < 0:
            raise ValueError(f"latency_ms must not be negative, not {self.latency_ms}")

    @classmethod
    def parse(cls, spec: str) -> FaultConfig:
        """From ``"throttle_rate=0.1,latency_ms=50,seed=7,error_codes=ModelTimeoutException|InternalServerException"``.

        The format of the CLI options and of ``DOCPROC_LOCAL_BEDROCK_FAULTS`` / ``DOCPROC_LOCAL_SAGEMAKER_FAULTS``.
        """
        values: dict[str, Any] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            name, _, raw = item.partition("=")
            name = name.strip()
            if name in ("latency_ms", "seed"):
                values[name] = int(raw)
            elif name == "error_codes":
                values[name] = tuple(code for code in raw.split("|") if code)
            elif name in ("throttle_rate", "error_rate", "malformed_rate"):
                values[name] = float(raw)
            else:
                raise ValueError(f"unknown fault setting {name!r}")
        return cls(**values)


class Outcome(StrEnum):
    OK = "ok"
    THROTTLED = "throttled"
    ERROR = "error"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    code: str | None = None  # the error code to answer with, for THROTTLED and ERROR
    latency_ms: int = 0
    variant: int = 0  # seeds how a MALFORMED answer is broken, so that it is reproducible too


@dataclass
class _ServiceState:
    config: FaultConfig
    rng: random.Random
    counters: Counter[str] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)


class FaultInjector:
    """The fault settings, random generators and counters of every service (thread-safe)."""

    #: Counters every service reports, zero until something happens.
    COUNTERS: tuple[str, ...] = (
        "requests",  # every request that reached a known operation
        "ok",  # answered normally
        "throttled",  # answered 429 by fault injection
        "errors",  # answered 5xx (or the configured error code) by fault injection
        "malformed",  # answered 200 with a deliberately broken body
        "rejected",  # failed validation (ValidationException / ValidationError / ModelError from the request)
        "model_errors",  # sagemaker: the classify function failed or returned no usable scores (ModelError)
        "latency_ms",  # injected latency, summed
        "forwarded",  # bedrock: answered by the OpenAI-compatible server
        "forward_failures",  # bedrock: forwarding failed, answered by the local extractor instead
        "repaired",  # bedrock: the tool input had to be changed to fit the schema
        "input_tokens",  # bedrock: estimated, summed
        "output_tokens",
    )

    def __init__(self, faults: dict[str, FaultConfig] | None = None) -> None:
        self._lock = threading.Lock()
        self._states = {service: self._state(service, FaultConfig()) for service in SERVICES}
        for service, config in (faults or {}).items():
            self.set(service, config)

    @staticmethod
    def _state(service: str, config: FaultConfig) -> _ServiceState:
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r}: expected one of {', '.join(SERVICES)}")
        unknown = [code for code in config.error_codes if code not in SERVICE_ERRORS[service]]
        if unknown:
            raise ValueError(f"{service} has no error code {', '.join(unknown)}")
        return _ServiceState(config=config, rng=random.Random(config.seed))

    def set(self, service: str, config: FaultConfig) -> None:
        """Replace a service's fault settings; its random generator restarts from ``config.seed``."""
        state = self._state(service, config)
        with self._lock:
            state.counters = self._states[service].counters if service in self._states else Counter()
            state.codes = self._states[service].codes if service in self._states else Counter()
            self._states[service] = state

    def config(self, service: str) -> FaultConfig:
        with self._lock:
            return self._states[service].config

    def decide(self, service: str) -> Decision:
        """The outcome of the next request of ``service``."""
        with self._lock:
            state = self._states[service]
            config = state.config
            draw = state.rng.random()
            if draw < config.throttle_rate:
                return Decision(Outcome.THROTTLED, THROTTLE_CODE, config.latency_ms)
            if draw < config.throttle_rate + config.error_rate:
                codes = config.error_codes or DEFAULT_ERROR_CODES[service]
                return Decision(Outcome.ERROR, codes[state.rng.randrange(len(codes))], config.latency_ms)
            if draw < config.throttle_rate + config.error_rate + config.malformed_rate:
                return Decision(Outcome.MALFORMED, None, config.latency_ms, state.rng.randrange(2**31))
            return Decision(Outcome.OK, None, config.latency_ms)

    def count(self, service: str, *names: str, code: str | None = None, amount: int = 1) -> None:
        with self._lock:
            state = self._states[service]
            for name in names:
                state.counters[name] += amount
            if code:
                state.codes[code] += 1

    def stats(self) -> dict[str, dict[str, Any]]:
        """Counters per service: requests, answers by outcome, error codes sent, injected latency."""
        with self._lock:
            out: dict[str, dict[str, Any]] = {}
            for service, state in self._states.items():
                counters: dict[str, Any] = {name: state.counters.get(name, 0) for name in self.COUNTERS}
                counters["faults"] = counters["throttled"] + counters["errors"] + counters["malformed"]
                counters["codes"] = dict(state.codes)
                out[service] = counters
            return out

    def reset_stats(self) -> None:
        with self._lock:
            for state in self._states.values():
                state.counters.clear()
                state.codes.clear()
