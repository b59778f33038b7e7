"""Bedrock guardrails for the local Converse stand-in: ``guardrailConfig`` handled the way Bedrock handles it.

The guardrails that exist locally are defined in ``guardrails.json`` next to this module (or the file named by
``DOCPROC_LOCAL_GUARDRAILS_FILE``): an id, its versions, the blocked-input and blocked-output messages, denied topics
(a name and the phrases that reveal it) and a custom word list. A request naming a guardrail or version that does
not exist gets a ``ValidationException``. Otherwise the user's input is screened first: a denied topic's phrase or a
listed word (case-insensitive, whole words) blocks it and the model is not called (no tokens). Then the model's
answer (text or tool input) is screened the same way. Blocked: ``stopReason: guardrail_intervened``, the blocked
message as the only content, and - with ``trace: enabled`` or ``enabled_full`` - ``trace.guardrail`` with the
``inputAssessment`` / ``outputAssessments`` of the policies that fired, as the service reports them.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from docproc_local.standins.errors import ServiceError, bedrock_error

FILE_ENV = "DOCPROC_LOCAL_GUARDRAILS_FILE"
DEFAULT_FILE = Path(__file__).with_name("guardrails.json")


@dataclass(frozen=True)
class Topic:
    name: str
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class Guardrail:
    id: str
    name: str
    versions: tuple[str, ...]
    blocked_input: str
    blocked_output: str
    topics: tuple[Topic, ...]
    words: tuple[str, ...]

    def assess(self, text: str) -> dict[str, Any] | None:
        """The assessment of ``text`` when a policy blocks it, else None."""
        topics = [t for t in self.topics if any(_contains(text, p) for p in t.phrases)]
        words = [w for w in self.words if _contains(text, w)]
        if not topics and not words:
            return None
        assessment: dict[str, Any] = {}
        if topics:
            assessment["topicPolicy"] = {
                "topics": [{"name": t.name, "type": "DENY", "action": "BLOCKED", "detected": True} for t in topics]
            }
        if words:
            assessment["wordPolicy"] = {
                "customWords": [{"match": w, "action": "BLOCKED", "detected": True} for w in words]
            }
        return assessment


def _contains(text: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text, re.IGNORECASE) is not None


@cache
def _load(path: str) -> dict[str, Guardrail]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    out = {}
    for raw in data.get("guardrails", []):
        out[raw["id"]] = Guardrail(
            id=raw["id"],
            name=raw.get("name", raw["id"]),
            versions=tuple(raw.get("versions", ["DRAFT"])),
            blocked_input=raw.get("blockedInputMessaging", "Sorry, the model cannot answer this question."),
            blocked_output=raw.get("blockedOutputsMessaging", "Sorry, the model cannot answer this question."),
            topics=tuple(Topic(t["name"], tuple(t.get("phrases", []))) for t in raw.get("deniedTopics", [])),
            words=tuple(raw.get("words", [])),
        )
    return out


def known(environ: Mapping[str, str] | None = None) -> dict[str, Guardrail]:
    env = os.environ if environ is None else environ
    return _load(str(env.get(FILE_ENV) or DEFAULT_FILE))


def resolve(config: Mapping[str, Any] | None, environ: Mapping[str, str] | None = None) -> Guardrail | None:
    """The guardrail ``guardrailConfig`` names (None without one); unknown id or version: ValidationException."""
    if config is None:
        return None
    identifier = str(config["guardrailIdentifier"]).rsplit("/", 1)[-1]
    guardrail = known(environ).get(identifier)
    if guardrail is None or str(config["guardrailVersion"]) not in guardrail.versions:
        raise _missing()
    return guardrail


def _missing() -> ServiceError:
    return bedrock_error(
        "ValidationException", "The guardrail identifier or version provided in the request does not exist."
    )


def blocked_body(
    guardrail: Guardrail,
    config: Mapping[str, Any],
    *,
    input_assessment: dict[str, Any] | None = None,
    output_assessment: dict[str, Any] | None = None,
    usage: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """A Converse response for a blocked request (input) or answer (output)."""
    message = guardrail.blocked_input if input_assessment is not None else guardrail.blocked_output
    tokens = dict(usage or {"inputTokens": 0, "outputTokens": 0, "totalTokens": 0})
    body: dict[str, Any] = {
        "output": {"message": {"role": "assistant", "content": [{"text": message}]}},
        "stopReason": "guardrail_intervened",
        "usage": tokens,
        "metrics": {"latencyMs": 0},
    }
    if config.get("trace", "disabled") in ("enabled", "enabled_full"):
        trace: dict[str, Any] = {"actionReason": "Guardrail blocked."}
        if input_assessment is not None:
            trace["inputAssessment"] = {guardrail.id: input_assessment}
        if output_assessment is not None:
            trace["outputAssessments"] = {guardrail.id: [output_assessment]}
        body["trace"] = {"guardrail": trace}
    return body


def answer_text(body: Mapping[str, Any]) -> str:
    """What the model answered, as text to screen: its text blocks and tool inputs."""
    parts = []
    for block in body.get("output", {}).get("message", {}).get("content", []):
        if "text" in block:
            parts.append(str(block["text"]))
        if "toolUse" in block:
            parts.append(json.dumps(block["toolUse"].get("input"), ensure_ascii=False))
    return "\n".join(parts)
