"""Branch A: structured extraction with the Bedrock Converse API.

The model is offered one tool whose ``inputSchema`` is the JSON Schema of :class:`docproc.models.Extraction`
and is required to call it. Its tool input is validated with jsonschema before it is accepted; one repair
round sends the validation errors back as a ``toolResult`` with status ``error``. Still invalid ->
:class:`~docproc.errors.ModelOutputInvalid` (permanent: the record says extraction is missing and why).
"""

from __future__ import annotations

import copy
import time
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from docproc import errors
from docproc.aws import MODEL_CALL_ERRORS, model_error
from docproc.models import Extraction, ExtractionResult, TokenUsage

TOOL_NAME = "record_document_insights"
MAX_OUTPUT_TOKENS = 2048
SYSTEM_PROMPT = (
    "You extract structured insights from business documents. Read the document and call the "
    f"{TOOL_NAME} tool exactly once. Use only facts stated in the document; leave a list empty rather than "
    "guess. Dates as ISO 8601, amounts as numbers with an ISO 4217 currency when known, language as ISO 639-1."
)


@cache
def extraction_schema() -> dict[str, Any]:
    """The tool's ``inputSchema``: the Extraction model's JSON Schema with ``$ref``s inlined, closed objects."""
    schema = Extraction.model_json_schema(by_alias=True)
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(copy.deepcopy(defs[node["$ref"].rsplit("/", 1)[-1]]))
            out = {k: inline(v) for k, v in node.items() if not (k == "title" and isinstance(v, str))}
            if out.get("type") == "object" and "properties" in out:
                out["additionalProperties"] = False
            return out
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return inline(schema)


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(extraction_schema())


def tool_config() -> dict[str, Any]:
    return {
        "tools": [
            {
                "toolSpec": {
                    "name": TOOL_NAME,
                    "description": "Record the document's type, title, summary, language, domain and key fields.",
                    "inputSchema": {"json": extraction_schema()},
                }
            }
        ],
        "toolChoice": {"tool": {"name": TOOL_NAME}},
    }


def validation_errors(tool_input: Any) -> list[str]:
    return [
        f"{'/'.join(str(p) for p in err.absolute_path) or '(root)'}: {err.message}"
        for err in sorted(_validator().iter_errors(tool_input), key=lambda e: list(e.absolute_path))
    ][:20]


def extract(text: str, *, bedrock: Any, model_id: str, max_input_chars: int) -> ExtractionResult:
    started = time.perf_counter()
    truncated = len(text) > max_input_chars
    document_text = text[:max_input_chars]
    messages: list[dict[str, Any]] = [
        {
            "role": "user",
            "content": [{"text": f"<document>\n{document_text}\n</document>\nCall {TOOL_NAME} for this document."}],
        }
    ]
    usage = TokenUsage()
    repaired = False
    for round_no in (1, 2):
        response = _converse(bedrock, model_id, messages)
        usage = _add_usage(usage, response.get("usage", {}))
        tool_use = _tool_use(response)
        problems = ["the model did not call the tool"] if tool_use is None else validation_errors(tool_use["input"])
        if not problems and tool_use is not None:
            extraction = Extraction.model_validate(tool_use["input"])
            return ExtractionResult(
                extraction=extraction,
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
                    {"text": f"Call {TOOL_NAME} again with input that satisfies its schema."},
                ],
            }
        )
    raise AssertionError("unreachable")


def _converse(bedrock: Any, model_id: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    try:
        return bedrock.converse(
            modelId=model_id,
            system=[{"text": SYSTEM_PROMPT}],
            messages=messages,
            inferenceConfig={"maxTokens": MAX_OUTPUT_TOKENS, "temperature": 0.0},
            toolConfig=tool_config(),
        )
    except MODEL_CALL_ERRORS as exc:
        raise model_error(exc, f"bedrock converse {model_id}") from exc


def _tool_use(response: dict[str, Any]) -> dict[str, Any] | None:
    for block in response.get("output", {}).get("message", {}).get("content", []):
        if "toolUse" in block and block["toolUse"].get("name") == TOOL_NAME:
            return block["toolUse"]
    return None


def _add_usage(total: TokenUsage, usage: dict[str, Any]) -> TokenUsage:
    return TokenUsage(
        input_tokens=total.input_tokens + int(usage.get("inputTokens", 0)),
        output_tokens=total.output_tokens + int(usage.get("outputTokens", 0)),
        total_tokens=total.total_tokens + int(usage.get("totalTokens", 0)),
    )
