"""Branch B: SageMaker InvokeEndpoint; request formats, the response shapes we accept, and named errors.

The client is a real ``sagemaker-runtime`` client under botocore's Stubber: requests are checked against the API.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from docproc import errors
from docproc.chunks import sample
from docproc.classification import classify, parse_scores

ENDPOINT = "docproc-domain-classifier"
TEXT = "Discharge summary: the patient was admitted with renal colic and discharged on day 3."


@pytest.fixture
def sagemaker() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("sagemaker-runtime", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def answer(stubber: Stubber, payload: Any, *, expected: dict[str, Any] | None = None) -> None:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    stubber.add_response(
        "invoke_endpoint",
        {"Body": StreamingBody(io.BytesIO(raw), len(raw)), "ContentType": "application/json"},
        expected,
    )


def run(
    client: Any,
    text: str = TEXT,
    *,
    request_format: str = "hf",
    response_format: str = "auto",
    max_input_chars: int = 60_000,
) -> Any:
    return classify(
        text,
        sagemaker=client,
        endpoint_name=ENDPOINT,
        request_format=request_format,
        response_format=response_format,
        max_input_chars=max_input_chars,
    )


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(
            [{"label": "medical", "score": 0.91}, {"label": "legal", "score": 0.06}, {"label": "hr", "score": 0.03}],
            id="hf-list",
        ),
        pytest.param(
            [[{"label": "medical", "score": 0.91}, {"label": "legal", "score": 0.06}, {"label": "hr", "score": 0.03}]],
            id="hf-nested-list",
        ),
        pytest.param({"label": "medical", "scores": {"medical": 0.91, "legal": 0.06, "hr": 0.03}}, id="plain-dict"),
        pytest.param(
            {
                "label": "medical",
                "scores": [
                    {"label": "hr", "score": 0.03},
                    {"label": "medical", "score": 0.91},
                    {"label": "legal", "score": 0.06},
                ],
            },
            id="plain-list",
        ),
    ],
)
def test_supported_response_shapes_give_the_top_label(sagemaker: tuple[Any, Stubber], payload: Any) -> None:
    client, stubber = sagemaker
    answer(stubber, payload)

    result = run(client)

    assert result.domain == "medical"
    assert result.confidence == pytest.approx(0.91)
    assert result.scores == {"medical": 0.91, "legal": 0.06, "hr": 0.03}
    assert list(result.scores) == ["medical", "legal", "hr"]  # best first
    assert result.endpoint_name == ENDPOINT
    assert result.input_chars == len(TEXT)
    assert result.input_truncated is False


def test_labels_are_normalised_to_lower_case(sagemaker: tuple[Any, Stubber]) -> None:
    client, stubber = sagemaker
    answer(stubber, [{"label": " Financial ", "score": 0.7}, {"label": "LEGAL", "score": 0.3}])

    result = run(client)

    assert result.domain == "financial"
    assert set(result.scores) == {"financial", "legal"}


def test_plain_single_label_without_scores_counts_as_certain() -> None:
    assert parse_scores({"label": "legal"}, "plain") == {"legal": 1.0}


@pytest.mark.parametrize(
    ("request_format", "body", "content_type"),
    [
        ("hf", json.dumps({"inputs": TEXT}).encode(), "application/json"),
        ("json", json.dumps({"text": TEXT}).encode(), "application/json"),
        ("text", TEXT.encode(), "text/plain; charset=utf-8"),
    ],
)
def test_request_formats(sagemaker: tuple[Any, Stubber], request_format: str, body: bytes, content_type: str) -> None:
    client, stubber = sagemaker
    answer(
        stubber,
        [{"label": "medical", "score": 1.0}],
        expected={"EndpointName": ENDPOINT, "ContentType": content_type, "Accept": "application/json", "Body": body},
    )

    assert run(client, request_format=request_format).domain == "medical"


def test_unknown_request_format_is_a_configuration_error(sagemaker: tuple[Any, Stubber]) -> None:
    client, _ = sagemaker

    with pytest.raises(ValueError, match="unknown classifier request format"):
        run(client, request_format="protobuf")


def test_a_long_text_is_sampled_over_its_whole_length(sagemaker: tuple[Any, Stubber]) -> None:
    # GIVEN a text three times the limit whose parts differ: head, middle and tail
    client, stubber = sagemaker
    text = "h" * 1_000 + "m" * 1_000 + "t" * 1_000
    sent = sample(text, 1_000)
    answer(
        stubber,
        [{"label": "general", "score": 0.5}],
        expected={
            "EndpointName": ENDPOINT,
            "ContentType": "text/plain; charset=utf-8",
            "Accept": "application/json",
            "Body": sent.encode(),
        },
    )

    result = run(client, text, request_format="text", max_input_chars=1_000)

    # THEN the classifier sees the start and windows from the middle and the end, within the limit
    assert len(sent) <= 1_000
    assert sent.startswith("h" * 500)
    assert "m" * 50 in sent
    assert "t" * 50 in sent
    assert result.input_sampled is True
    assert result.input_truncated is False
    assert result.input_chars == len(sent)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"<html>502 Bad Gateway</html>", id="not-json"),
        pytest.param(b"", id="empty"),
        pytest.param(json.dumps([]).encode(), id="empty-list"),
        pytest.param(json.dumps({}).encode(), id="empty-object"),
        pytest.param(json.dumps({"scores": {}}).encode(), id="no-scores"),
        pytest.param(json.dumps(["medical", "legal"]).encode(), id="list-of-strings"),
        pytest.param(json.dumps([{"label": "medical", "score": "high"}]).encode(), id="score-not-a-number"),
        pytest.param(json.dumps([{"label": "medical"}]).encode(), id="score-missing"),
        pytest.param(json.dumps([{"label": "medical", "score": 1.7}]).encode(), id="score-above-1"),
        pytest.param(json.dumps({"scores": {"medical": -0.1}}).encode(), id="score-below-0"),
        pytest.param(b'[{"label": "medical", "score": NaN}]', id="score-nan"),
        pytest.param(json.dumps("medical").encode(), id="bare-string"),
    ],
)
def test_malformed_responses_are_model_output_invalid(sagemaker: tuple[Any, Stubber], raw: bytes) -> None:
    client, stubber = sagemaker
    answer(stubber, raw)

    with pytest.raises(errors.ModelOutputInvalid):
        run(client)


@pytest.mark.parametrize(
    ("payload", "response_format"),
    [
        ({"label": "medical", "scores": {"medical": 0.9}}, "hf"),
        ([{"label": "medical", "score": 0.9}], "plain"),
    ],
)
def test_a_fixed_response_format_rejects_the_other_shape(payload: Any, response_format: str) -> None:
    with pytest.raises(errors.ModelOutputInvalid, match=response_format):
        parse_scores(payload, response_format)


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ThrottlingException", 429, errors.ModelThrottled),
        ("ModelError", 424, errors.ModelUnavailable),
        ("ModelNotReadyException", 429, errors.ModelThrottled),
        ("InternalFailure", 500, errors.ModelUnavailable),
        ("ServiceUnavailable", 503, errors.ModelUnavailable),
        ("ValidationError", 400, errors.ModelRequestInvalid),
    ],
)
def test_endpoint_errors_become_named_domain_errors(
    sagemaker: tuple[Any, Stubber], code: str, status: int, expected: type[errors.DocprocError]
) -> None:
    client, stubber = sagemaker
    stubber.add_client_error("invoke_endpoint", service_error_code=code, http_status_code=status)

    with pytest.raises(expected) as raised:
        run(client)

    assert type(raised.value) is expected
    assert ENDPOINT in str(raised.value)


@pytest.mark.parametrize(
    ("original_status", "expected"),
    [
        (400, errors.ModelRequestInvalid),  # the model refused this text: it will refuse it again, never retried
        (415, errors.ModelRequestInvalid),
        (429, errors.ModelUnavailable),
        (500, errors.ModelUnavailable),  # the container failed: transient
    ],
)
def test_a_model_error_is_permanent_only_when_the_container_refused_the_request(
    sagemaker: tuple[Any, Stubber], original_status: int, expected: type[errors.DocprocError]
) -> None:
    client, stubber = sagemaker
    stubber.add_client_error(
        "invoke_endpoint",
        service_error_code="ModelError",
        http_status_code=424,
        modeled_fields={"OriginalStatusCode": original_status, "OriginalMessage": '{"error": "EmptyText"}'},
    )

    with pytest.raises(expected) as raised:
        run(client)

    assert type(raised.value) is expected
    if expected is errors.ModelRequestInvalid:
        assert f"answered {original_status}" in str(raised.value) and "EmptyText" in str(raised.value)
