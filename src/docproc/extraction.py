"""Branch A: typed extraction by document class with the Bedrock Converse API, in one call.

The model is offered one tool per document class (:mod:`docproc.classes`: ``record_<class>``, its ``inputSchema``
the class's fields wrapped with confidence and evidence, plus the generic insights) with ``toolChoice: any``, and
picks the tool that fits. The tool input is validated with jsonschema; one repair round sends the validation
errors back as a ``toolResult`` with status ``error``. Still invalid -> :class:`~docproc.errors.ModelOutputInvalid`
(permanent: the record says extraction is missing and why). Accepted fields then go through the evidence check
(:mod:`docproc.evidence`), against the very text the model was given.

With a guardrail (``GuardrailId``/``GuardrailVersion``) every call carries ``guardrailConfig``; an answer with
``stopReason: guardrail_intervened`` raises :class:`~docproc.errors.GuardrailIntervened` (permanent: the same text
meets the same guardrail again), naming the policies the trace reports.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from docproc import classes, errors, evidence
from docproc.aws import MODEL_CALL_ERRORS, model_error
from docproc.models import Extraction, ExtractionResult, TokenUsage

MAX_OUTPUT_TOKENS = 4096
#: The prompt and tool-building code's version: part of the content cache's key (docproc.cache). Bump it with any
#: change to what the model is sent or how its answer is checked, so cached answers of the old code are not reused.
PROMPT_VERSION = "2026.12.1"


@dataclass(frozen=True)
class Guardrail:
    """A Bedrock guardrail applied to every Converse call (``guardrailConfig``)."""

    identifier: str
    version: str

    @classmethod
    def from_settings(cls, identifier: str, version: str) -> Guardrail | None:
        return cls(identifier, version or "DRAFT") if identifier else None

    def config(self) -> dict[str, str]:
        return {"guardrailIdentifier": self.identifier, "guardrailVersion": self.version, "trace": "enabled"}


def validation_errors(config: classes.ClassConfig, class_name: str, tool_input: Any) -> list[str]:
    found = classes.validator(config, class_name).iter_errors(tool_input)
    return [
        f"{'/'.join(str(p) for p in err.absolute_path) or '(root)'}: {err.message}"
        for err in sorted(found, key=lambda e: list(e.absolute_path))
    ][:20]


def user_prompt(document_text: str, first_page: int = 1) -> str:
    part = (
        f"This is one part of a longer document; its first page is page {first_page}: number pages from there.\n"
        if first_page > 1
        else ""
    )
    return (
        f"{part}<document>\n{document_text}\n</document>\n"
        "Pick the tool for this document's class and call it once, with evidence for every field."
    )


def extract(
    text: str,
    *,
    bedrock: Any,
    model_id: str,
    max_input_chars: int,
    config: classes.ClassConfig | None = None,
    first_page: int = 1,
    temperature: float = 0.0,
    system_prompt: str | None = None,
    guardrail: Guardrail | None = None,
) -> ExtractionResult:
    """Extract ``text`` (cut at ``max_input_chars``); ``first_page``: page of its first character (a chunk).
    ``temperature`` and ``system_prompt`` (default: the class configuration's) come from an experiment variant."""
    started = time.perf_counter()
    if config is None:
        try:
            config = classes.load()
        except classes.ClassConfigError as exc:
            raise errors.ConfigurationInvalid(str(exc)) from exc
    truncated = len(text) > max_input_chars
    document_text = text[:max_input_chars]
    messages: list[dict[str, Any]] = [{"role": "user", "content": [{"text": user_prompt(document_text, first_page)}]}]
    tool_config = classes.tool_config(config, model_id)
    usage = TokenUsage()
    repaired = False
    for round_no in (1, 2):
        response = _converse(
            bedrock, model_id, system_prompt or config.system_prompt, messages, tool_config, temperature, guardrail
        )
        usage = _add_usage(usage, response.get("usage", {}))
        if response.get("stopReason") == "guardrail_intervened":
            raise errors.GuardrailIntervened(
                f"guardrail {guardrail_name(guardrail)} intervened: {_intervention(response)}"
            )
        tool_use, document_class = _tool_use(response, config)
        if tool_use is None or document_class is None:
            problems = ["the model did not call one of the document-class tools"]
        else:
            problems = validation_errors(config, document_class.name, tool_use["input"])
        if not problems and tool_use is not None and document_class is not None:
            data = tool_use["input"]
            fields = evidence.check_fields(data.get("fields") or {}, document_text, first_page)
            return ExtractionResult(
                document_class=document_class.name,
                config_version=config.version,
                extraction=Extraction.model_validate(data),
                fields=fields,
                unverified_fields=evidence.unverified(fields),
                model_id=model_id,
                usage=usage,
                duration_ms=int((time.perf_counter() - started) * 1000),
                input_chars=len(document_text),
                input_truncated=truncated,
                repaired=repaired,
            )
        if round_no == 2 or tool_use is None:
            raise errors.ModelOutputInvalid(
                f"tool input failed schema validation after {round_no} round(s): {'; '.join(problems[:5])}"
            )
        repaired = True
        messages.append(response["output"]["message"])
        messages.append(
            {
                "role": "user",
                "content": [
                    {
                        "toolResult": {
                            "toolUseId": tool_use["toolUseId"],
                            "status": "error",
                            "content": [{"text": "Invalid tool input: " + "; ".join(problems)}],
                        }
                    },
                    {"text": "Call the tool again with input that satisfies its schema."},
                ],
            }
        )
    raise AssertionError("unreachable")


def _converse(
    bedrock: Any,
    model_id: str,
    system: str,
    messages: list[dict[str, Any]],
    tool_config: dict[str, Any],
    temperature: float = 0.0,
    guardrail: Guardrail | None = None,
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "modelId": model_id,
        "system": [{"text": system}],
        "messages": messages,
        "inferenceConfig": {"maxTokens": MAX_OUTPUT_TOKENS, "temperature": temperature},
        "toolConfig": tool_config,
    }
    if guardrail is not None:
        request["guardrailConfig"] = guardrail.config()
    try:
        return bedrock.converse(**request)
    except MODEL_CALL_ERRORS as exc:
        raise model_error(exc, f"bedrock converse {model_id}") from exc


def guardrail_name(guardrail: Guardrail | None) -> str:
    return f"{guardrail.identifier}:{guardrail.version}" if guardrail else "(none configured)"


def _intervention(response: dict[str, Any]) -> str:
    """Which policies blocked the input or the output, from ``trace.guardrail``; never any document text."""
    trace = (response.get("trace") or {}).get("guardrail") or {}
    outputs = [a for listed in (trace.get("outputAssessments") or {}).values() for a in listed or []]
    parts = []
    for where, assessments in (("input", list((trace.get("inputAssessment") or {}).values())), ("output", outputs)):
        found = [reason for assessment in assessments for reason in _blocked(assessment)]
        if found:
            parts.append(f"{where} blocked by {', '.join(dict.fromkeys(found))}")
    return "; ".join(parts) or str(trace.get("actionReason") or "no trace in the answer")


def _blocked(assessment: dict[str, Any]) -> list[str]:
    found = [
        f"denied topic {t.get('name')}"
        for t in (assessment.get("topicPolicy") or {}).get("topics") or []
        if t.get("action") == "BLOCKED"
    ]
    words = assessment.get("wordPolicy") or {}
    if any(
        w.get("action") == "BLOCKED"
        for w in [*(words.get("customWords") or []), *(words.get("managedWordLists") or [])]
    ):
        found.append("word policy")
    found += [
        f"content filter {f.get('type')}"
        for f in (assessment.get("contentPolicy") or {}).get("filters") or []
        if f.get("action") == "BLOCKED"
    ]
    pii = assessment.get("sensitiveInformationPolicy") or {}
    if any(e.get("action") == "BLOCKED" for e in [*(pii.get("piiEntities") or []), *(pii.get("regexes") or [])]):
        found.append("sensitive information policy")
    return found


def _tool_use(
    response: dict[str, Any], config: classes.ClassConfig
) -> tuple[dict[str, Any] | None, classes.DocumentClass | None]:
    """The first toolUse block and the class its tool stands for (None when it names no class tool)."""
    for block in response.get("output", {}).get("message", {}).get("content", []):
        if "toolUse" in block:
            return block["toolUse"], config.for_tool(str(block["toolUse"].get("name", "")))
    return None, None


def _add_usage(total: TokenUsage, usage: dict[str, Any]) -> TokenUsage:
    return TokenUsage(
        input_tokens=total.input_tokens + int(usage.get("inputTokens", 0)),
        output_tokens=total.output_tokens + int(usage.get("outputTokens", 0)),
        total_tokens=total.total_tokens + int(usage.get("totalTokens", 0)),
    )
