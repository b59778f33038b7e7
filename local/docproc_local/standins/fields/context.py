"""What every field filler gets: the source text, its language, the extractor's insights, the class's field schemas."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from docproc_local.standins.fields.source import Hit, Source

Filled = dict[str, Hit | list[Hit]]

_FLAT_LINE_RE = re.compile(r"^(?P<path>[A-Za-z_$][\w$-]*(?:\[\d+\]|\.[\w$-]+)*):[ \t]+(?P<value>\S.*?)[ \t]*$", re.M)


@dataclass
class Context:
    source: Source
    language: str
    insights: dict[str, Any]
    value_schemas: dict[str, dict[str, Any]]  # field name -> schema of its plain value (array: of one item)
    lists: frozenset[str]  # fields whose value is a list of envelopes
    json_values: list[tuple[str, str, int, int]] = field(default_factory=list)  # (path, value, start, end)

    def wants(self, name: str) -> bool:
        return name in self.value_schemas

    def json_get(self, pattern: str) -> list[tuple[str, str, int, int]]:
        """JSON values whose path matches ``pattern`` (a regex over paths like ``work[0].name``)."""
        compiled = re.compile(pattern)
        return [item for item in self.json_values if compiled.fullmatch(item[0])]


def json_values(source: Source, data: Any) -> list[tuple[str, str, int, int]]:
    """(path, value, start, end) of every scalar of a JSON document, found in its raw text or its flattened form.

    The pipeline sends JSON flattened to ``path: value`` lines; other callers send the JSON itself, whose values are
    located by their encoded form in the raw text.
    """
    out: list[tuple[str, str, int, int]] = []
    if data is None:
        for match in _FLAT_LINE_RE.finditer(source.text):
            if "." in match.group("path") or "[" in match.group("path"):
                out.append((match.group("path"), match.group("value"), match.start(), match.end()))
        return out if len(out) >= 3 else []
    position = 0
    stack: list[tuple[str, Any]] = [("", data)]
    while stack and len(out) < 2000:
        path, node = stack.pop()
        if isinstance(node, dict):
            stack.extend((f"{path}.{k}" if path else str(k), v) for k, v in reversed(list(node.items())))
        elif isinstance(node, list):
            stack.extend((f"{path}[{i}]", v) for i, v in reversed(list(enumerate(node))))
        elif isinstance(node, str | int | float) and not isinstance(node, bool) and str(node).strip():
            needle = str(node) if not isinstance(node, str) else node
            index = source.text.find(needle, position)
            if index < 0:
                index = source.text.find(needle)
            if index < 0:
                continue
            position = index + len(needle)
            out.append((path, " ".join(str(node).split()), index, index + len(needle)))
    return out
