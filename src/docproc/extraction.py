"""Branch A: typed extraction by document class with the Bedrock Converse API, in one call.

The model is offered one tool per document class (:mod:`docproc.classes`: ``record_<class>``, its ``inputSchema``
the class's fields wrapped with confidence and evidence, plus the generic insights) with ``toolChoice: any``, and
picks the tool that fits. The tool input is validated with jsonschema; one repair round sends the validation
errors back as a ``toolResult`` with status ``error``. Still invalid -> :class:`~docproc.errors.ModelOutputInvalid`
(permanent: the record says extraction is missing and why). Accepted fields then go through the evidence check
(:mod:`docproc.evidence`), against the very text the model was given.
"""

from __future__ import annotations

import time
from typing import Any

from docproc import classes, errors, evidence
from docproc.aws import MODEL_CALL_ERRORS, model_error
from docproc.models import Extraction, ExtractionResult, TokenUsage

MAX_OUTPUT_TOKENS = 4096
#: The prompt and tool-building code's version: part of the content cache's key (docproc.cache). Bump it with any
#: change to what the model is sent or how its answer is checked, so cached answers of the old code are not reused.
PROMPT_VERSION = "2026.12.1"


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
) -> ExtractionResult:
    """Extract ``text`` (cut at ``max_input_chars``); ``first_page``: page of its first character (a chunk)."""
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
        response = _converse(bedrock, model_id, config.system_prompt, messages, tool_config)
        usage = _add_usage(usage, response.get("usage", {}))
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
    bedrock: Any, model_id: str, system: str, messages: list[dict[str, Any]], tool_config: dict[str, Any]
) -> dict[str, Any]:
    try:
        return bedrock.converse(
            modelId=model_id,
            system=[{"text": system}],
            messages=messages,
            inferenceConfig={"maxTokens": MAX_OUTPUT_TOKENS, "temperature": 0.0},
            toolConfig=tool_config,
        )
    except MODEL_CALL_ERRORS as exc:
        raise model_error(exc, f"bedrock converse {model_id}") from exc


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
