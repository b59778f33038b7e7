"""Per-invocation Powertools state (log keys, metric sets) for the in-process Lambda runtime.

In Lambda each function is its own process, so Powertools keeps the structured-log keys (``function_name``,
``function_request_id``, ``correlation_id``, ``cold_start`` ...) in one place: the ``log_format`` dict of the
formatter on the service's ``logging.Logger``. Locally every handler shares one process and, because every
function has the service name ``docproc``, one logger and one formatter: concurrent invocations (Parallel branches,
the SQS pollers) overwrote each other's keys, so lines named the wrong function. The EMF metric, dimension and
metadata sets are shared the same way (class-level in ``Metrics``): concurrent merges added each other's dimensions
and flushed each other's metrics.

:func:`install` turns those attributes into data descriptors whose values are kept per :mod:`contextvars` context;
:func:`run_isolated` runs one invocation in a fresh copy of the current context, so what it appends is seen by that
invocation only, and the state from before any invocation (what ``Logger()`` and ``Metrics()`` set up at import) is
the starting point of each. Powertools' own thread-safe keys already live in a ``ContextVar`` and are isolated the
same way.
"""

from __future__ import annotations

import contextvars
import copy
import importlib
from collections.abc import Callable
from typing import Any, TypeVar

from .patching import Patches

T = TypeVar("T")

#: ``(id(instance), attribute) -> value`` of the invocation running in this context; None outside invocations.
_INVOCATION: contextvars.ContextVar[dict[tuple[int, str], Any] | None] = contextvars.ContextVar(
    "docproc_local_invocation_state", default=None
)


class PerInvocation:
    """An instance attribute whose value is the shared one outside invocations and a private copy inside each.

    The copy is deep: Powertools' metric sets hold lists that ``add_metric`` appends to."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __init__(self, name: str = "") -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        base = vars(instance).get(self.name, _MISSING)
        store = _INVOCATION.get()
        if store is None or base is _MISSING:
            if base is _MISSING:
                raise AttributeError(self.name)
            return base
        key = (id(instance), self.name)
        if key not in store:
            store[key] = copy.deepcopy(base)  # a dict keeps its insertion order (the log record's key order)
        return store[key]

    def __set__(self, instance: Any, value: Any) -> None:
        store = _INVOCATION.get()
        if store is None:
            # in the instance's own dict: a data descriptor wins over it while installed, and once the patch is
            # undone the instance (made meanwhile) still has its value
            vars(instance)[self.name] = value
        else:
            store[(id(instance), self.name)] = value


_MISSING = object()

#: What Powertools keeps per process, and so locally per invocation: the log formatter's keys, and the EMF metric,
#: dimension and metadata sets (shared by every ``Metrics()`` of one namespace: concurrent merges added each other's
#: ``domain`` dimension, "Dimension 'domain' has already been added", and flushed each other's metrics).
_ATTRIBUTES = {
    ("aws_lambda_powertools.logging.formatter", "LambdaPowertoolsFormatter"): ("log_format",),
    ("aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch", "AmazonCloudWatchEMFProvider"): (
        "metric_set",
        "dimension_set",
        "metadata_set",
        "dimension_sets",
    ),
}


def install(patches: Patches) -> None:
    """Make Powertools keep its log keys and metric sets per invocation (undone with ``patches``)."""
    for (module, cls), attributes in _ATTRIBUTES.items():
        owner = getattr(importlib.import_module(module), cls)
        for attribute in attributes:
            patches.setattr(owner, attribute, PerInvocation(attribute))


def run_isolated(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in a copy of the current context with its own log keys."""

    def scoped() -> T:
        _INVOCATION.set({})
        return function(*args)

    return contextvars.copy_context().run(scoped)
