"""A reversible set of monkeypatches: every LocalCloud change to a library is undone on stop()."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

_MISSING = object()


class Patches:
    """Record each attribute or item replaced, and put the originals back in reverse order on ``undo()``."""

    def __init__(self) -> None:
        self._undo: list[tuple[str, Any, Any, Any]] = []

    def setattr(self, target: Any, name: str, value: Any) -> None:
        self._undo.append(("attr", target, name, target.__dict__.get(name, _MISSING)))
        setattr(target, name, value)

    def setitem(self, mapping: MutableMapping[str, Any], key: str, value: Any) -> None:
        self._undo.append(("item", mapping, key, mapping.get(key, _MISSING)))
        mapping[key] = value

    def on_undo(self, callback: Callable[[], Any]) -> None:
        """Run ``callback`` when undoing, in order with the other changes."""
        self._undo.append(("call", callback, None, None))

    def undo(self) -> None:
        while self._undo:
            kind, target, name, old = self._undo.pop()
            if kind == "call":
                target()
            elif kind == "attr":
                if old is _MISSING:
                    delattr(target, name)
                else:
                    setattr(target, name, old)
            elif old is _MISSING:
                target.pop(name, None)
            else:
                target[name] = old
