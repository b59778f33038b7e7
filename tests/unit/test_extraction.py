"""Branch A: Bedrock Converse with one tool per document class; schema-validated; one repair round; named errors.

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

from docproc import classes, errors
from docproc.extraction import extract, validation_errors
from docproc.models import Domain

from helpers import INVOICE_TEXT, converse_response, envelope, tool_use, valid_extraction

MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"
TEXT = INVOICE_TEXT


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

    assert result.document_class == "invoice"
    assert result.config_version == classes.load().version
    assert result.extraction.domain_hint is Domain.FINANCIAL
    assert result.fields is not None
    total = result.fields["total"]
    assert not isinstance(total, list)
    assert total.value == pytest.approx(11.19)
    assert total.evidence is not None
    assert (total.evidence.quote, total.evidence.page, total.evidence.found) == ("Total: $11.19", 1, True)
    assert total.confidence == pytest.approx(0.9)
    assert result.unverified_fields == []
    assert result.model_id == MODEL_ID
    assert (result.usage.input_tokens, result.usage.output_tokens, result.usage.total_tokens) == (812, 97, 909)
    assert result.repaired is False
    assert result.input_truncated is False
    assert result.input_chars == len(TEXT)


def test_request_offers_one_tool_per_class_and_sends_the_document(bedrock: Bedrock) -> None:
    bedrock.answers(converse_response([tool_use(valid_extraction())]))

    run(bedrock)

    (request,) = bedrock.requests
    config = classes.load()
    assert request["modelId"] == MODEL_ID
    assert request["toolConfig"]["toolChoice"] == {"any": {}}
    names = [tool["toolSpec"]["name"] for tool in request["toolConfig"]["tools"]]
    assert names == [f"record_{name}" for name in config.names]
    invoice = request["toolConfig"]["tools"][0]["toolSpec"]
    assert invoice["inputSchema"]["json"] == classes.tool_input_schema(config.get("invoice"))
    assert "strict" not in invoice  # Claude 3 Haiku has no structured-output mode
    assert request["system"] == [{"text": config.system_prompt}]
    assert request["inferenceConfig"]["temperature"] == 0.0
    (message,) = request["messages"]
    assert message["role"] == "user"
    assert TEXT in message["content"][0]["text"]


def test_invalid_tool_input_gets_one_repair_round(bedrock: Bedrock) -> None:
    # GIVEN a first answer without a summary and with a domain outside the enum, then a valid one
    broken = valid_extraction(domain_hint="sports")
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
    assert "domain_hint" in problems
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
    ],
)
def test_answer_without_a_tool_call_is_model_output_invalid(bedrock: Bedrock, content: list[dict]) -> None:
    bedrock.answers(converse_response(content))

    with pytest.raises(errors.ModelOutputInvalid, match="did not call one of the document-class tools"):
        run(bedrock)

    assert len(bedrock.requests) == 1  # no repair round: there is no tool call to repair


def test_a_tool_that_is_no_class_gets_a_repair_round(bedrock: Bedrock) -> None:
    bedrock.answers(
        converse_response([tool_use(valid_extraction(), name="record_document_insights")]),
        converse_response([tool_use(valid_extraction(), name="record_invoice", tool_use_id="tooluse_2")]),
    )

    result = run(bedrock)

    assert result.repaired is True
    assert result.document_class == "invoice"


def test_the_model_picks_the_class(bedrock: Bedrock) -> None:
    letter = valid_extraction(
        fields={"subject": envelope("Total", "Total: $11.19", 0.6), "recipients": [envelope("AWS", "Amazon Web")]},
        domain_hint="general",
    )
    bedrock.answers(converse_response([tool_use(letter, name="record_letter")]))

    result = run(bedrock)

    assert result.document_class == "letter"
    assert result.fields is not None
    (recipient,) = result.fields["recipients"]  # type: ignore[misc]
    assert recipient.value == "AWS"
    assert recipient.evidence.found is True


def test_a_quote_that_is_not_in_the_document_is_flagged_and_its_confidence_cut(bedrock: Bedrock) -> None:
    fields = valid_extraction()["fields"]
    fields["due_date"] = envelope("2017-11-02", "Payment due: November 2, 2017", 0.9)
    bedrock.answers(converse_response([tool_use(valid_extraction(fields=fields))]))

    result = run(bedrock)

    due = result.fields["due_date"]  # type: ignore[index]
    assert due.flags == ["quote_not_found"]
    assert due.model_confidence == pytest.approx(0.9)
    assert due.confidence == pytest.approx(0.27)
    assert due.evidence.found is False
    assert result.unverified_fields == ["due_date"]


def test_strict_is_set_for_models_that_support_it(bedrock: Bedrock) -> None:
    bedrock.answers(converse_response([tool_use(valid_extraction())]))

    extract(TEXT, bedrock=bedrock.client, model_id="us.anthropic.claude-haiku-4-5-20251001-v1:0", max_input_chars=9999)

    assert all(tool["toolSpec"]["strict"] is True for tool in bedrock.requests[0]["toolConfig"]["tools"])


def test_a_broken_class_configuration_is_a_permanent_config_error(
    bedrock: Bedrock, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "classes.yaml"
    broken.write_text("version: 1\n", encoding="utf-8")
    monkeypatch.setenv(classes.CONFIG_ENV, str(broken))

    with pytest.raises(errors.ConfigurationInvalid, match="version"):
        run(bedrock)

    assert errors.ConfigurationInvalid.reason_code == "CONFIG_INVALID"


def test_extra_properties_are_rejected_by_the_closed_schema(bedrock: Bedrock) -> None:
    bedrock.answers(
        converse_response([tool_use(valid_extraction(confidence=0.9))]),
        converse_response([tool_use(valid_extraction(fields={"total": {**envelope(1, "Total"), "unit": "USD"}}))]),
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


# --- the tools' input schemas -------------------------------------------------------------------------------------


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


@pytest.mark.parametrize("name", classes.load().names)
def test_every_class_schema_is_self_contained_and_closed(name: str) -> None:
    schema = classes.tool_input_schema(classes.load().get(name))

    Draft202012Validator.check_schema(schema)
    assert set(schema["required"]) == {"title", "summary", "language", "domain_hint", "fields"}
    assert set(schema["properties"]["domain_hint"]["enum"]) == {d.value for d in Domain}
    for node in _walk(schema):
        assert "$ref" not in node
        if node.get("type") == "object" and "properties" in node:
            assert node["additionalProperties"] is False, node


def test_every_field_is_wrapped_with_confidence_and_evidence() -> None:
    fields = classes.tool_input_schema(classes.load().get("invoice"))["properties"]["fields"]["properties"]

    assert set(fields["total"]["required"]) == {"value", "confidence", "evidence"}
    assert fields["total"]["properties"]["value"]["type"] == "number"
    assert fields["issue_date"]["properties"]["value"]["format"] == "date"
    assert fields["line_items"]["type"] == "array"
    item = fields["line_items"]["items"]
    assert set(item["required"]) == {"value", "confidence", "evidence"}
    assert item["properties"]["value"]["required"] == ["description"]
    assert item["properties"]["evidence"]["required"] == ["quote"]


def test_validation_lists_every_problem() -> None:
    config = classes.load()
    assert validation_errors(config, "invoice", valid_extraction()) == []

    problems = validation_errors(
        config, "invoice", {"fields": {"total": {"value": "eleven", "confidence": 0.5}}, "key_phrases": ["k"] * 26}
    )

    assert any(p.startswith("key_phrases:") for p in problems)
    assert any("'title' is a required property" in p for p in problems)
    assert any(p.startswith("fields/total/value:") and "'eleven' is not of type 'number'" in p for p in problems)
    assert any(p.startswith("fields/total:") and "'evidence' is a required property" in p for p in problems)
