"""Optional forwarding of Converse calls to an OpenAI-compatible server (llama.cpp, vLLM, Ollama, LM Studio ...).

Configured with ``DOCPROC_LOCAL_LLM_URL`` (the base URL, e.g. ``http://127.0.0.1:8080/v1``) and
``DOCPROC_LOCAL_LLM_MODEL``; optional ``DOCPROC_LOCAL_LLM_TIMEOUT`` (seconds, default 60) and
``DOCPROC_LOCAL_LLM_MAX_CHARS`` (document characters sent, default 24000). Uses ``urllib`` only. Every failure
is raised as :class:`ForwardError`; the Converse stand-in then answers with the local extractor.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

ENV_URL = "DOCPROC_LOCAL_LLM_URL"
ENV_MODEL = "DOCPROC_LOCAL_LLM_MODEL"
ENV_TIMEOUT = "DOCPROC_LOCAL_LLM_TIMEOUT"
ENV_MAX_CHARS = "DOCPROC_LOCAL_LLM_MAX_CHARS"
DEFAULT_MODEL = "local"


class ForwardError(Exception):
    """The OpenAI-compatible server could not give a usable answer (unreachable, HTTP error, unusable body)."""


@dataclass(frozen=True)
class LLMEndpoint:
    base_url: str
    model: str = DEFAULT_MODEL
    timeout: float = 60.0
    max_chars: int = 24_000

    def __post_init__(self) -> None:
        if urlsplit(self.base_url).scheme not in ("http", "https"):
            raise ValueError(f"{ENV_URL} must be an http(s) URL, not {self.base_url!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LLMEndpoint | None:
        env = os.environ if environ is None else environ
        url = env.get(ENV_URL, "").strip()
        if not url:
            return None
        return cls(
            base_url=url,
            model=env.get(ENV_MODEL, "").strip() or DEFAULT_MODEL,
            timeout=float(env.get(ENV_TIMEOUT, "60")),
            max_chars=int(env.get(ENV_MAX_CHARS, "24000")),
        )

    def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __post_init__
            self.base_url.rstrip("/") + "/chat/completions",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = response.read()
        except (OSError, http.client.HTTPException) as error:  # URLError, HTTPError, timeouts, resets
            raise ForwardError(f"{self.base_url} did not answer: {error}") from error
        try:
            answer = json.loads(body)
        except ValueError as error:
            raise ForwardError("the answer is not JSON") from error
        if not isinstance(answer, dict):
            raise ForwardError("the answer is not a JSON object")
        return answer

    def _messages(self, system: str, conversation: str) -> list[dict[str, str]]:
        messages = [{"role": "system", "content": system}] if system else []
        return [*messages, {"role": "user", "content": conversation[: self.max_chars]}]

    def tool_arguments(
        self, system: str, conversation: str, tool: Mapping[str, Any], inference: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The arguments the model gives for ``tool`` (a Bedrock ``toolSpec``), as a dict."""
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": self._messages(system, conversation),
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": tool["name"],
                        "description": tool.get("description", ""),
                        "parameters": tool["inputSchema"]["json"],
                    },
                }
            ],
            "tool_choice": {"type": "function", "function": {"name": tool["name"]}},
            **_sampling(inference),
        }
        message = _first_message(self._post(payload))
        for call in message.get("tool_calls") or []:
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict) and function.get("name") in (tool["name"], None):
                arguments = function.get("arguments")
                return _as_object(_json_in_text(arguments) if isinstance(arguments, str) else arguments)
        content = message.get("content")
        if isinstance(content, str) and content.strip():  # some servers answer with the JSON as plain text
            return _as_object(_json_in_text(content))
        raise ForwardError("the answer has no tool call")

    def text(self, system: str, conversation: str, inference: Mapping[str, Any]) -> str:
        payload = {"model": self.model, "messages": self._messages(system, conversation), **_sampling(inference)}
        content = _first_message(self._post(payload)).get("content")
        if not isinstance(content, str):
            raise ForwardError("the answer has no text")
        return content


def _sampling(inference: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for source, target in (("maxTokens", "max_tokens"), ("temperature", "temperature"), ("topP", "top_p")):
        if inference.get(source) is not None:
            out[target] = inference[source]
    if inference.get("stopSequences"):
        out["stop"] = inference["stopSequences"]
    return out


def _first_message(answer: Mapping[str, Any]) -> dict[str, Any]:
    choices = answer.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ForwardError("the answer has no choices")
    message = choices[0].get("message")
    if not isinstance(message, dict):
        raise ForwardError("the answer has no message")
    return message


def _json_in_text(text: str) -> Any:
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    candidate = fenced.group(1) if fenced else text[text.find("{") : text.rfind("}") + 1] or text
    try:
        return json.loads(candidate)
    except ValueError as error:
        raise ForwardError("the answer's text holds no JSON object") from error


def _as_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ForwardError("the tool arguments are not a JSON object")
    return value
