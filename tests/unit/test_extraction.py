"""Branch A: Bedrock Converse with a forced, schema-validated tool call; one repair round; named errors.

The client is a real ``bedrock-runtime`` client under botocore's Stubber, so every request we send is checked
against the real API model.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from jsonschema import Draft202012Validator

from docproc import errors
from docproc.extraction import TOOL_NAME, extract, extraction_schema, validation_errors
from docproc.models import Domain

from helpers import converse_response, tool_use, valid_extraction

MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"
TEXT = "INVOICE 123456789\nAmazon Web Services, Inc.\nTotal: $11.19\nDate: October 3, 2017"


class Bedrock:
    """A stubbed bedrock-runtime client that also records the parameters of every Converse call."""

    def __init__(self) -> None:
        self.client = boto3.client("bedrock-runtime", region_name="us-east-1")
        self.stubber = Stubber(self.client)
        self.requests: list[dict[str, Any]] = []
        self.client.meta.events.register("provide-client-params.bedrock-runtime.Converse", self._record)

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        self.requests.append(copy.deepcopy(params))  # extract() keeps appending to the same messages list

    def answers(self, *responses: dict[str, Any]) -> None:
        for response in responses:
            self.stubber.add_response("converse", response)


@pytest.fixture
def bedrock() -> Iterator[Bedrock]:
    stubbed = Bedrock()
    with stubbed.stubber:
        yield stubbed
        stubbed.stubber.assert_no_pending_responses()


def run(bedrock: Bedrock, text: str = TEXT, max_input_chars: int = 60_000) -> Any:
    return extract(text, bedrock=bedrock.client, model_id=MODEL_ID, max_input_chars=max_input_chars)


def test_valid_tool_input_is_accepted(bedrock: Bedrock) -> None:
    bedrock.answers(converse_response([tool_use(valid_extraction())], input_tokens=812, output_tokens=97))

    result = run(bedrock)

    assert result.extraction.document_type == "invoice"
    assert result.extraction.domain_hint is Domain.FINANCIAL
    assert result.extraction.amounts[0].value == pytest.approx(11.19)
    assert result.extraction.amounts[0].currency == "USD"
    assert result.model_id == MODEL_ID
    assert (result.usage.input_tokens, result.usage.output_tokens, result.usage.total_tokens) == (812, 97, 909)
    assert result.repaired is False
    assert result.input_truncated is False
    assert result.input_chars == len(TEXT)


def test_request_forces_the_tool_and_sends_the_document(bedrock: Bedrock) -> None:
    bedrock.answers(converse_response([tool_use(valid_extraction())]))

    run(bedrock)

    (request,) = bedrock.requests
    assert request["modelId"] == MODEL_ID
    assert request["toolConfig"]["toolChoice"] == {"tool": {"name": TOOL_NAME}}
    (tool,) = request["toolConfig"]["tools"]
    assert tool["toolSpec"]["name"] == TOOL_NAME
    assert tool["toolSpec"]["inputSchema"]["json"] == extraction_schema()
    assert request["inferenceConfig"]["temperature"] == 0.0
    (message,) = request["messages"]
    assert message["role"] == "user"
    assert TEXT in message["content"][0]["text"]


def test_invalid_tool_input_gets_one_repair_round(bedrock: Bedrock) -> None:
    # GIVEN a first answer without a summary and with a domain outside the enum, then a valid one
    broken = valid_extraction(domainHint="sports")
    del broken["summary"]
    bedrock.answers(
        converse_response([tool_use(broken, tool_use_id="tooluse_first")], input_tokens=100, output_tokens=20),
        converse_response(
            [tool_use(valid_extraction(), tool_use_id="tooluse_second")], input_tokens=150, output_tokens=30
        ),
    )

    # WHEN
    result = run(bedrock)

    # THEN the repaired answer is accepted and the usage of both rounds is counted
    assert result.repaired is True
    assert result.extraction.summary.startswith("An AWS invoice")
    assert (result.usage.input_tokens, result.usage.output_tokens, result.usage.total_tokens) == (250, 50, 300)

    # AND the second request replays the model's answer and reports the problems as an error toolResult
    first, second = bedrock.requests
    assert len(first["messages"]) == 1
    user, assistant, repair = second["messages"]
    assert user == first["messages"][0]
    assert assistant["role"] == "assistant"
    assert assistant["content"][0]["toolUse"]["toolUseId"] == "tooluse_first"
    assert repair["role"] == "user"
    tool_result = repair["content"][0]["toolResult"]
    assert tool_result["toolUseId"] == "tooluse_first"
    assert tool_result["status"] == "error"
    problems = tool_result["content"][0]["text"]
    assert "'summary' is a required property" in problems
    assert "domainHint" in problems
    assert "'sports' is not one of" in problems


def test_invalid_tool_input_twice_is_model_output_invalid(bedrock: Bedrock) -> None:
    bedrock.answers(
        converse_response([tool_use(valid_extraction(language="english-uk-long"))]),
        converse_response([tool_use(valid_extraction(language="x"))]),
    )

    with pytest.raises(errors.ModelOutputInvalid, match="language"):
        run(bedrock)

    assert len(bedrock.requests) == 2


@pytest.mark.parametrize(
    "content",
    [
        pytest.param([{"text": "Here is a summary of the invoice instead."}], id="text-only"),
        pytest.param([tool_use(valid_extraction(), name="some_other_tool")], id="other-tool"),
    ],
)
def test_answer_without_our_tool_call_is_model_output_invalid(bedrock: Bedrock, content: list[dict]) -> None:
    bedrock.answers(converse_response(content))

    with pytest.raises(errors.ModelOutputInvalid, match="did not call the tool"):
        run(bedrock)

    assert len(bedrock.requests) == 1  # no repair round: there is no tool call to repair


def test_extra_properties_are_rejected_by_the_closed_schema(bedrock: Bedrock) -> None:
    bedrock.answers(
        converse_response([tool_use(valid_extraction(confidence=0.9))]),
        converse_response([tool_use(valid_extraction(parties=[{"name": "AWS", "address": "Seattle"}]))]),
    )

    with pytest.raises(errors.ModelOutputInvalid, match="Additional properties"):
        run(bedrock)


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ThrottlingException", 429, errors.ModelThrottled),
        ("ServiceQuotaExceededException", 400, errors.ModelThrottled),
        ("InternalServerException", 500, errors.ModelUnavailable),
        ("ServiceUnavailableException", 503, errors.ModelUnavailable),
        ("ModelNotReadyException", 429, errors.ModelThrottled),
        ("ModelTimeoutException", 408, errors.ModelTimeout),
        ("ValidationException", 400, errors.ModelRequestInvalid),
        ("AccessDeniedException", 403, errors.ModelRequestInvalid),
        ("ResourceNotFoundException", 404, errors.ModelRequestInvalid),
    ],
)
def test_service_errors_become_named_domain_errors(
    bedrock: Bedrock, code: str, status: int, expected: type[errors.DocprocError]
) -> None:
    bedrock.stubber.add_client_error("converse", service_error_code=code, http_status_code=status)

    with pytest.raises(expected) as raised:
        run(bedrock)

    assert type(raised.value) is expected
    assert raised.value.retryable is issubclass(expected, errors.TransientError)
    assert code in str(raised.value)


def test_input_over_the_limit_is_cut_and_flagged(bedrock: Bedrock) -> None:
    # GIVEN a text whose tail is beyond the model input limit
    head, tail = "A" * 1_000, "TAIL-BEYOND-THE-LIMIT"
    bedrock.answers(converse_response([tool_use(valid_extraction())]))

    result = run(bedrock, text=head + tail, max_input_chars=1_000)

    sent = bedrock.requests[0]["messages"][0]["content"][0]["text"]
    assert head in sent
    assert "TAIL" not in sent
    assert result.input_truncated is True
    assert result.input_chars == 1_000


def test_input_at_the_limit_is_not_flagged(bedrock: Bedrock) -> None:
    bedrock.answers(converse_response([tool_use(valid_extraction())]))

    result = run(bedrock, text="B" * 1_000, max_input_chars=1_000)

    assert result.input_truncated is False
    assert result.input_chars == 1_000


# --- the tool's input schema ---------------------------------------------------------------------------------------


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_schema_is_self_contained_and_closed() -> None:
    schema = extraction_schema()

    Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object"
    for node in _walk(schema):
        assert "$ref" not in node
        assert "$defs" not in node
        if node.get("type") == "object" and "properties" in node:
            assert node["additionalProperties"] is False, node


def test_schema_requires_the_core_fields_and_the_nested_ones() -> None:
    schema = extraction_schema()
    props = schema["properties"]

    assert set(schema["required"]) == {"documentType", "title", "summary", "language", "domainHint"}
    assert set(props["dates"]["items"]["required"]) == {"value", "text"}
    assert set(props["amounts"]["items"]["required"]) == {"value", "text"}
    assert set(props["parties"]["items"]["required"]) == {"name"}
    assert set(props["identifiers"]["items"]["required"]) == {"kind", "value"}
    assert set(props["domainHint"]["enum"]) == {d.value for d in Domain}


def test_schema_accepts_a_valid_extraction_and_lists_every_problem_of_an_invalid_one() -> None:
    assert validation_errors(valid_extraction()) == []

    problems = validation_errors({"documentType": "x" * 81, "keyPhrases": ["k"] * 26})

    assert any(p.startswith("documentType:") for p in problems)
    assert any(p.startswith("keyPhrases:") for p in problems)
    assert any("'title' is a required property" in p for p in problems)
