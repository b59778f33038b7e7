"""Per-invocation Powertools log keys for the in-process Lambda runtime.

In Lambda each function is its own process, so Powertools keeps the structured-log keys (``function_name``,
``function_request_id``, ``correlation_id``, ``cold_start`` ...) in one place: the ``log_format`` dict of the
formatter on the service's ``logging.Logger``. Locally every handler shares one process and, because every
function has the service name ``docproc``, one logger and one formatter: concurrent invocations (Parallel branches,
the SQS pollers) overwrote each other's keys, so lines named the wrong function.

:func:`install` turns ``LambdaPowertoolsFormatter.log_format`` into a data descriptor whose value is kept per
:mod:`contextvars` context; :func:`run_isolated` runs one invocation in a fresh copy of the current context, so
what its ``inject_lambda_context`` appends is seen by that invocation only, and the formatter's state from before
any invocation (what ``Logger()`` set up at import) is the starting point of each. Powertools' own thread-safe keys
already live in a ``ContextVar`` and are isolated the same way.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any, TypeVar

from .patching import Patches

T = TypeVar("T")

#: ``id(formatter) -> log_format`` of the invocation running in this context; None outside invocations.
_INVOCATION: contextvars.ContextVar[dict[int, dict[str, Any]] | None] = contextvars.ContextVar(
    "docproc_local_log_format", default=None
)


class PerInvocationLogFormat:
    """``formatter.log_format``: the shared value outside invocations, a private copy of it inside each."""

    def __get__(self, formatter: Any, owner: type | None = None) -> Any:
        if formatter is None:
            return self
        base = vars(formatter).get("log_format")  # the instance's own attribute, shadowed while installed
        store = _INVOCATION.get()
        if store is None or base is None:
            if base is None:
                raise AttributeError("log_format")
            return base
        key = id(formatter)
        if key not in store:
            store[key] = dict(base)  # insertion order (the log record's key order) is kept
        return store[key]

    def __set__(self, formatter: Any, value: dict[str, Any]) -> None:
        store = _INVOCATION.get()
        if store is None:
            vars(formatter)["log_format"] = value  # where it stays visible once the descriptor is removed
        else:
            store[id(formatter)] = value


def install(patches: Patches) -> None:
    """Make Powertools' formatter keep its keys per invocation (undone with ``patches``)."""
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    patches.setattr(LambdaPowertoolsFormatter, "log_format", PerInvocationLogFormat())


def run_isolated(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in a copy of the current context with its own log keys."""

    def scoped() -> T:
        _INVOCATION.set({})
        return function(*args)

    return contextvars.copy_context().run(scoped)
