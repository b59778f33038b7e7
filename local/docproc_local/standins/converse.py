"""The Bedrock Runtime ``Converse`` stand-in: validates a request like the service does and answers it.

With a tool on offer the answer is ``stopReason: "tool_use"`` and one ``toolUse`` block whose ``input`` is computed
by :func:`~docproc_local.standins.extractor.extract_insights` from the document the user sent (or by a forwarded
OpenAI-compatible model), then made valid against the tool's ``inputSchema``. When the tools are document-class
tools (``record_<class>`` with a ``fields`` object, one per class, as the pipeline offers them) the stand-in picks
the class that fits and fills its typed fields with evidence (:mod:`docproc_local.standins.fields`); with
``toolChoice`` ``any`` or ``auto`` the tool is the one that logic chooses, with ``tool`` the one named. Without tools
the answer is text: the summary, or the whole extraction as JSON when the system prompt mentions JSON.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from docproc_local.standins import fields, strategies
from docproc_local.standins.errors import ServiceError, bedrock_error
from docproc_local.standins.openai_compat import ForwardError, LLMEndpoint
from docproc_local.standins.schema_tools import check_schema, conform, malform

CHARS_PER_TOKEN = 4
DEFAULT_MAX_INPUT_TOKENS = 200_000
MAX_DOCUMENTS = 5
MAX_DOCUMENT_BYTES = 4_500_000
TEXT_FORMATS = frozenset({"txt", "md", "html", "csv"})
DOCUMENT_FORMATS = frozenset({"pdf", "csv", "doc", "docx", "xls", "xlsx", "html", "txt", "md"})

_MODEL_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/+-]{0,2047}$")
_GUARDRAIL_ID_RE = re.compile(
    r"^(?:[a-z0-9]+|arn:aws(?:-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail/[a-z0-9]+)$"
)
_GUARDRAIL_VERSION_RE = re.compile(r"^(?:[1-9][0-9]{0,7}|DRAFT)$")
_TOOL_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_DOCUMENT_NAME_RE = re.compile(r"^[A-Za-z0-9\-()\[\] ]{1,200}$")
_WRAPPED_RE = re.compile(r"<(document|doc|text|content)\b[^>]*>(.*?)</\1\s*>", re.S | re.I)
_CONTENT_KINDS = frozenset(
    {
        "text",
        "image",
        "document",
        "video",
        "audio",
        "toolUse",
        "toolResult",
        "guardContent",
        "cachePoint",
        "reasoningContent",
        "citationsContent",
        "searchResult",
    }
)


def _invalid(message: str) -> ServiceError:
    return bedrock_error("ValidationException", message)


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    schema: dict[str, Any]
    strict: bool = False


@dataclass
class ConverseRequest:
    """A validated Converse request, with the texts the stand-in needs."""

    model_id: str
    system: str
    inference: dict[str, Any]
    tools: list[ToolSpec]
    tool_choice: dict[str, Any] | None
    document_text: str  # what the user asked about: document blocks, else the user's text
    conversation: str  # the whole conversation as plain text (sent when forwarding)
    input_chars: int
    repairing: bool = False  # the conversation holds a toolResult (the caller asks for a corrected tool call)
    guardrail: dict[str, Any] | None = None  # guardrailConfig as sent (checked by standins.guardrails)

    @property
    def input_tokens(self) -> int:
        return max(1, math.ceil(self.input_chars / CHARS_PER_TOKEN))

    @property
    def forced_tool(self) -> str | None:
        """The tool named by ``toolChoice: {tool: {name}}``, if any."""
        if self.tool_choice and "tool" in self.tool_choice:
            return str(self.tool_choice["tool"]["name"])
        return None

    @property
    def class_tools(self) -> list[ToolSpec]:
        """The document-class tools on offer (``record_<class>`` with typed ``fields``)."""
        return [tool for tool in self.tools if fields.is_class_tool(tool)]

    def chosen_tool(self) -> ToolSpec | None:
        if not self.tools:
            return None
        if self.forced_tool is not None:
            return next(tool for tool in self.tools if tool.name == self.forced_tool)
        return self.tools[0]


@dataclass
class ConverseAnswer:
    body: dict[str, Any]
    output_chars: int
    forwarded: bool = False
    forward_failed: bool = False
    repaired: bool = False


# --- request -------------------------------------------------------------------------------------------------------


def _document_block_text(block: Any, where: str) -> tuple[str, int]:
    """(text, size in bytes) of a ``document`` content block, validated like the service does."""
    if not isinstance(block, dict) or not isinstance(block.get("source"), dict):
        raise _invalid(f"The document block at {where} must have a name and a source.")
    name, fmt, source = block.get("name"), block.get("format", "txt"), block["source"]
    if not isinstance(name, str) or not _DOCUMENT_NAME_RE.match(name) or "  " in name:
        raise _invalid(
            f"The document file name at {where} can only contain alphanumeric characters, whitespace characters, "
            "hyphens, parentheses, and square brackets. The name can't contain more than one consecutive "
            "whitespace character."
        )
    if fmt not in DOCUMENT_FORMATS:
        raise _invalid(f"The document format {fmt!r} at {where} is not supported.")
    if len(source) != 1:
        raise _invalid(f"The document source at {where} must have exactly one of bytes, text, content, s3Location.")
    if "text" in source and isinstance(source["text"], str):
        return source["text"], len(source["text"].encode())
    if "content" in source and isinstance(source["content"], list):
        text = "\n".join(item.get("text", "") for item in source["content"] if isinstance(item, dict))
        return text, len(text.encode())
    if "bytes" in source and isinstance(source["bytes"], str):
        try:
            raw = base64.b64decode(source["bytes"], validate=True)
        except (binascii.Error, ValueError) as error:
            raise _invalid(f"The document bytes at {where} are not valid base64.") from error
        # Binary formats (pdf, docx, xlsx ...) are not parsed by the stand-in: it reads text formats only.
        return (raw.decode("utf-8", errors="replace") if fmt in TEXT_FORMATS else ""), len(raw)
    if "s3Location" in source:
        raise _invalid(f"The document at {where} uses s3Location, which the local stand-in cannot read.")
    raise _invalid(f"The document source at {where} is invalid.")


def _content_text(block: dict[str, Any]) -> str:
    """A non-document content block as plain text (for the token estimate and for forwarding)."""
    if "text" in block:
        return str(block["text"])
    if "toolUse" in block:
        use = block["toolUse"] if isinstance(block["toolUse"], dict) else {}
        return f"(called tool {use.get('name')} with input {json.dumps(use.get('input'))})"
    if "toolResult" in block:
        result = block["toolResult"] if isinstance(block["toolResult"], dict) else {}
        parts = [
            item.get("text") if "text" in item else json.dumps(item.get("json"))
            for item in result.get("content") or []
            if isinstance(item, dict)
        ]
        return f"(tool result, status {result.get('status', 'success')}: {' '.join(map(str, parts))})"
    return ""


def _check_inference(config: Any) -> dict[str, Any]:
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise _invalid("inferenceConfig must be an object.")
    max_tokens = config.get("maxTokens")
    if max_tokens is not None and (not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1):
        raise _invalid("The value at inferenceConfig.maxTokens must be an integer of at least 1.")
    for name in ("temperature", "topP"):
        value = config.get(name)
        if value is not None and (not isinstance(value, int | float) or not 0 <= value <= 1):
            raise _invalid(f"The value at inferenceConfig.{name} must be a number between 0 and 1.")
    stops = config.get("stopSequences")
    if stops is not None and (not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops)):
        raise _invalid("inferenceConfig.stopSequences must be a list of non-empty strings.")
    return config


def _check_tools(config: Any) -> tuple[list[ToolSpec], dict[str, Any] | None]:
    if config is None:
        return [], None
    if not isinstance(config, dict) or not isinstance(config.get("tools"), list) or not config["tools"]:
        raise _invalid("toolConfig.tools must be a list with at least one tool.")
    tools: list[ToolSpec] = []
    for index, tool in enumerate(config["tools"]):
        if not isinstance(tool, dict) or len(tool) != 1:
            raise _invalid(f"toolConfig.tools.{index} must have exactly one of toolSpec, systemTool, cachePoint.")
        if "toolSpec" not in tool:
            continue
        spec = tool["toolSpec"]
        name = spec.get("name") if isinstance(spec, dict) else None
        if not isinstance(name, str) or not _TOOL_NAME_RE.match(name):
            raise _invalid(f"The value at toolConfig.tools.{index}.toolSpec.name must match [a-zA-Z0-9_-]{{1,64}}.")
        schema_holder = spec.get("inputSchema")
        if not isinstance(schema_holder, dict) or "json" not in schema_holder:
            raise _invalid(f"toolConfig.tools.{index}.toolSpec.inputSchema must have a json member.")
        problem = check_schema(schema_holder["json"])
        if problem:
            raise _invalid(f"The value at toolConfig.tools.{index}.toolSpec.inputSchema.json is invalid. {problem}")
        if any(existing.name == name for existing in tools):
            raise _invalid(f"The tool name {name} is used more than once in toolConfig.tools.")
        strict = spec.get("strict", False)
        if not isinstance(strict, bool):
            raise _invalid(f"The value at toolConfig.tools.{index}.toolSpec.strict must be a boolean.")
        tools.append(ToolSpec(name, str(spec.get("description") or ""), schema_holder["json"], strict))
    choice = config.get("toolChoice")
    if choice is not None:
        if not isinstance(choice, dict) or len(choice) != 1 or next(iter(choice)) not in ("auto", "any", "tool"):
            raise _invalid("toolConfig.toolChoice must have exactly one of auto, any, tool.")
        if "tool" in choice:
            wanted = choice["tool"].get("name") if isinstance(choice["tool"], dict) else None
            if not any(tool.name == wanted for tool in tools):
                raise _invalid(f"The tool {wanted} named in toolConfig.toolChoice is not in toolConfig.tools.")
    if not tools:
        raise _invalid("toolConfig.tools must contain at least one toolSpec.")
    return tools, choice


def parse_request(
    model_id: str,
    body: bytes,
    *,
    model_ids: frozenset[str] | None = None,
    max_input_tokens: int = DEFAULT_MAX_INPUT_TOKENS,
) -> ConverseRequest:
    """A :class:`ConverseRequest`, or a ``ValidationException`` with the service's wording where it is known."""
    if not _MODEL_ID_RE.match(model_id) or (model_ids is not None and model_id not in model_ids):
        raise _invalid("The provided model identifier is invalid.")
    try:
        payload = json.loads(body or b"{}")
    except (ValueError, RecursionError) as error:  # nested past the parser: the service refuses it too
        raise _invalid("Malformed input request, please reformat your input and try again.") from error
    if not isinstance(payload, dict):
        raise _invalid("Malformed input request, please reformat your input and try again.")
    messages = payload.get("messages")
    if not isinstance(messages, list) or not messages or not isinstance(messages[0], dict):
        raise _invalid(
            "A conversation must start with a user message. Try again with a conversation that starts "
            "with a user message."
        )
    system_blocks = payload.get("system") or []
    if not isinstance(system_blocks, list) or not all(isinstance(b, dict) for b in system_blocks):
        raise _invalid("system must be a list of content blocks.")
    for position, block in enumerate(system_blocks):
        if "text" in block and not isinstance(block["text"], str):
            raise _invalid(f"The value at system.{position}.text must be a string.")
    system = "\n".join(str(b["text"]) for b in system_blocks if "text" in b)
    inference = _check_inference(payload.get("inferenceConfig"))
    tools, choice = _check_tools(payload.get("toolConfig"))

    documents: list[str] = []
    repairing = False
    user_texts: list[str] = []
    transcript: list[str] = []
    input_chars = len(system) + sum(len(json.dumps(tool.schema)) + len(tool.description) for tool in tools)
    document_count = 0
    expected_role = "user"
    for index, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if index == 0 and role != "user":
            raise _invalid(
                "A conversation must start with a user message. Try again with a conversation that "
                "starts with a user message."
            )
        if role != expected_role:
            raise _invalid(
                "A conversation must alternate between user and assistant roles. Make sure the "
                "conversation alternates between user and assistant roles and try again."
            )
        expected_role = "assistant" if role == "user" else "user"
        content = message.get("content")
        if not isinstance(content, list) or not content:
            raise _invalid(
                f"The content field in the Message object at messages.{index} is empty. Add a "
                "ContentBlock object to the content field and try again."
            )
        is_tool_result = any(isinstance(b, dict) and "toolResult" in b for b in content)
        repairing = repairing or is_tool_result
        parts: list[str] = []
        for position, block in enumerate(content):
            where = f"messages.{index}.content.{position}"
            if not isinstance(block, dict) or len(block) != 1 or next(iter(block)) not in _CONTENT_KINDS:
                raise _invalid(f"The content block at {where} must have exactly one known member.")
            if ("toolUse" in block or "toolResult" in block) and not tools:
                raise _invalid("The toolConfig field must be defined when using toolUse and toolResult content blocks.")
            if "document" in block:
                document_count += 1
                if document_count > MAX_DOCUMENTS:
                    raise _invalid(f"A request can contain at most {MAX_DOCUMENTS} documents.")
                text, size = _document_block_text(block["document"], where)
                if size > MAX_DOCUMENT_BYTES:
                    raise _invalid(f"The document at {where} is larger than {MAX_DOCUMENT_BYTES} bytes.")
                if role == "user" and not is_tool_result:
                    documents.append(text)
                parts.append(f'<document name="{block["document"].get("name")}">\n{text}\n</document>')
            else:
                if "text" in block and not isinstance(block["text"], str):
                    raise _invalid(f"The value at {where}.text must be a string.")
                text = _content_text(block)
                if "text" in block and role == "user" and not is_tool_result:
                    user_texts.append(text)
                parts.append(text)
        transcript.append(f"[{role}]\n" + "\n".join(parts))
        input_chars += sum(len(part) for part in parts)
    if math.ceil(input_chars / CHARS_PER_TOKEN) > max_input_tokens:
        raise _invalid("Input is too long for requested model.")
    return ConverseRequest(
        model_id=model_id,
        system=system,
        inference=inference,
        tools=tools,
        tool_choice=choice,
        document_text=_document_text(documents, user_texts),
        conversation="\n\n".join(transcript),
        input_chars=input_chars,
        repairing=repairing,
        guardrail=_check_guardrail(payload.get("guardrailConfig")),
    )


def _check_guardrail(config: Any) -> dict[str, Any] | None:
    """``guardrailConfig`` validated like the service does (which guardrails exist is standins.guardrails' part)."""
    if config is None:
        return None
    if not isinstance(config, dict) or set(config) - {"guardrailIdentifier", "guardrailVersion", "trace"}:
        raise _invalid("guardrailConfig must have guardrailIdentifier, guardrailVersion and optionally trace.")
    identifier, version = config.get("guardrailIdentifier"), config.get("guardrailVersion")
    if not isinstance(identifier, str) or not _GUARDRAIL_ID_RE.match(identifier):
        raise _invalid("The value at guardrailConfig.guardrailIdentifier failed to satisfy the constraint.")
    if not isinstance(version, str) or not _GUARDRAIL_VERSION_RE.match(version):
        raise _invalid("The value at guardrailConfig.guardrailVersion failed to satisfy the constraint.")
    if config.get("trace", "disabled") not in ("enabled", "disabled", "enabled_full"):
        raise _invalid("The value at guardrailConfig.trace must be one of enabled, disabled, enabled_full.")
    return config


def _document_text(documents: list[str], user_texts: list[str]) -> str:
    """What the extraction runs on: the documents, else the user's text (inside ``<document>`` tags if any)."""
    if documents:
        return "\n\n".join(documents)
    joined = "\n\n".join(user_texts)
    wrapped = _WRAPPED_RE.findall(joined)
    return "\n\n".join(inner for _, inner in wrapped) if wrapped else joined


# --- answer --------------------------------------------------------------------------------------------------------


def _tokens(chars: int) -> int:
    return max(1, math.ceil(chars / CHARS_PER_TOKEN))


def _message(content: list[dict[str, Any]], stop_reason: str, input_tokens: int, output_chars: int) -> dict[str, Any]:
    output_tokens = _tokens(output_chars)
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop_reason,
        "usage": {
            "inputTokens": input_tokens,
            "outputTokens": output_tokens,
            "totalTokens": input_tokens + output_tokens,
        },
        "metrics": {"latencyMs": 0},
    }


def _text_answer(text: str, inference: dict[str, Any], input_tokens: int) -> tuple[dict[str, Any], int]:
    stop_reason = "end_turn"
    for stop in inference.get("stopSequences") or []:
        if stop in text:
            text, stop_reason = text[: text.index(stop)], "stop_sequence"
    max_tokens = inference.get("maxTokens")
    if max_tokens and _tokens(len(text)) > max_tokens:
        text, stop_reason = text[: max_tokens * CHARS_PER_TOKEN], "max_tokens"
    return _message([{"text": text}], stop_reason, input_tokens, len(text)), len(text)


def answer(
    request: ConverseRequest,
    *,
    extract: Callable[[str], dict[str, Any]],
    llm: LLMEndpoint | None = None,
    malformed: bool = False,
    rng: random.Random | None = None,
) -> ConverseAnswer:
    """The response body for ``request`` (``metrics.latencyMs`` is filled in by the server)."""
    tool = request.chosen_tool()
    class_tools = request.class_tools
    forced = request.forced_tool
    strategy = strategies.for_model(request.model_id)  # how this model id behaves (standins.strategies)
    if class_tools and (forced is None or any(t.name == forced for t in class_tools)):
        name, local = fields.answer(strategy.reading(request.document_text), class_tools, forced=forced)
        local = strategy.shape(local)
        tool = next(t for t in class_tools if t.name == name)
    else:
        local = extract(request.document_text)
    if tool is None:
        forwarded, failed, text = False, False, ""
        if llm is not None:
            try:
                text, forwarded = llm.text(request.system, request.conversation, request.inference), True
            except ForwardError:
                failed = True
        if not forwarded:
            asks_json = "json" in request.system.lower()
            text = json.dumps(local, ensure_ascii=False) if asks_json else local["summary"]
        body, chars = _text_answer(text, request.inference, request.input_tokens)
        return ConverseAnswer(body, chars, forwarded=forwarded, forward_failed=failed)

    candidate, forwarded, failed = local, False, False
    if llm is not None:
        try:
            candidate = llm.tool_arguments(
                request.system,
                request.conversation,
                {"name": tool.name, "description": tool.description, "inputSchema": {"json": tool.schema}},
                request.inference,
            )
            forwarded = True
        except ForwardError:
            failed = True
    tool_input, repaired = conform(candidate, tool.schema, fallback=local)
    if not forwarded:
        tool_input = strategy.first_round(tool_input, strict=tool.strict, repairing=request.repairing)
    if malformed:
        tool_input = malform(tool_input, tool.schema, rng or random.Random())
    serialized = json.dumps(tool_input, ensure_ascii=False)
    max_tokens = request.inference.get("maxTokens")
    if max_tokens and _tokens(len(serialized)) > max_tokens:
        # the model ran out of tokens in the middle of the tool call: no toolUse block, only the cut output
        cut = serialized[: max_tokens * CHARS_PER_TOKEN]
        body = _message([{"text": cut}], "max_tokens", request.input_tokens, len(cut))
        return ConverseAnswer(body, len(cut), forwarded=forwarded, forward_failed=failed, repaired=repaired)
    block = {"toolUse": {"toolUseId": f"tooluse_{uuid.uuid4().hex[:22]}", "name": tool.name, "input": tool_input}}
    body = _message([block], "tool_use", request.input_tokens, len(serialized))
    return ConverseAnswer(body, len(serialized), forwarded=forwarded, forward_failed=failed, repaired=repaired)
