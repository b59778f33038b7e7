"""Failures that repeat the same way every time are permanent on attempt 1, with a specific reason code; the
stand-ins refuse what the real services refuse with a 4xx, never a 500 of their own."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest

from docproc import errors, formats
from docproc.classification import classify
from docproc.triage import TriageInput, triage
from docproc_local import hostile
from docproc_local.standins.server import StandinServer

from helpers import served_classifier, triage_input

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
DEEP = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
USER = [{"role": "user", "content": [{"text": "hi"}]}]


@pytest.mark.parametrize(
    ("error", "reason"),
    [("RecursionError", "DOCUMENT_TOO_COMPLEX"), ("MemoryError", "DOCUMENT_TOO_LARGE"), ("DocumentTooComplex", None)],
)
def test_python_errors_that_repeat_fail_on_the_first_attempt(error: str, reason: str | None) -> None:
    out = triage(TriageInput.model_validate(triage_input(error, attempt=1)), max_attempts=3, base_delay_seconds=1)
    assert out.action == "FAIL"
    assert out.reason_code == (reason or "DOCUMENT_TOO_COMPLEX")
    assert out.dead_letter is False


def test_a_crash_stays_transient() -> None:
    out = triage(TriageInput.model_validate(triage_input("Runtime.ExitError")), max_attempts=3, base_delay_seconds=1)
    assert out.action == "REQUEUE"


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (hostile.deep_json, errors.DocumentTooComplex),
        (hostile.docx_billion_laughs, errors.DocumentTooComplex),
        (hostile.docx_deep_nesting, errors.DocumentTooComplex),
        (hostile.pdf_deep_page_tree, errors.DocumentTooComplex),
        (hostile.deep_email_chain, errors.DocumentTooComplex),
        (hostile.lying_zip_bomb, errors.DocumentTooLarge),
        (hostile.docx_with_junk_parts, errors.CorruptDocument),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_hostile_documents_raise_a_permanent_error_of_their_own(make: Any, expected: type[Exception]) -> None:
    name = {"deep_json": "x.json", "deep_email_chain": "x.eml", "pdf_deep_page_tree": "x.pdf"}.get(
        make.__name__, "x.docx"
    )
    with pytest.raises(expected) as raised:
        formats.extract_text(make(), key=name)
    assert raised.value.retryable is False  # type: ignore[attr-defined]


def test_malformed_xml_is_corrupt_not_too_complex() -> None:
    data = hostile.docx_with_body(b"<w:p><w:r><w:t>unclosed</w:r></w:p>")
    with pytest.raises(errors.CorruptDocument):
        formats.extract_text(data, key="x.docx")


def test_an_office_part_that_inflates_as_declared_passes_the_size_check() -> None:
    body = b"<w:p><w:r><w:t>" + b"many words " * 700_000 + b"</w:t></w:r></w:p>"  # compresses well, 7.7 MB
    text = formats.extract_text(hostile.docx_with_body(body), key="big.docx").text
    assert text.startswith("many words")
    with zipfile.ZipFile(io.BytesIO(hostile.lying_zip_bomb())) as archive:
        assert archive.getinfo("word/document.xml").file_size == 1024  # the lie the check catches


def test_a_classifier_answer_nested_too_deeply_is_invalid_output() -> None:
    class Endpoint:
        def invoke_endpoint(self, **_: Any) -> dict[str, Any]:
            return {"Body": io.BytesIO(DEEP)}

    with pytest.raises(errors.ModelOutputInvalid):
        classify(
            "text",
            sagemaker=Endpoint(),
            endpoint_name="e",
            request_format="hf",
            response_format="auto",
            max_input_chars=1000,
        )


# --- the stand-ins answer as the services do -------------------------------------------------------------------


@pytest.fixture(scope="module")
def standins() -> Iterator[StandinServer]:
    with StandinServer(model=served_classifier(), environ={}) as server:
        yield server


def _converse(body: bytes) -> tuple[str, bytes, dict[str, str]]:
    return f"/model/{MODEL}/converse", body, {"Content-Type": "application/json"}


def _textract(operation: str, payload: Any) -> tuple[str, bytes, dict[str, str]]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return "/", body, {"X-Amz-Target": f"Textract.{operation}", "Content-Type": "application/x-amz-json-1.1"}


def _tool(schema: bytes) -> bytes:
    return (
        b'{"messages": ' + json.dumps(USER).encode() + b', "toolConfig": {"tools": [{"toolSpec": {"name": "t", '
        b'"inputSchema": {"json": ' + schema + b"}}}]}}"
    )


HOSTILE_REQUESTS = {
    "converse: body nested 100,000 deep": _converse(DEEP),
    "converse: body not UTF-8": _converse(b"\xff\xfe{"),
    "converse: text block not a string": _converse(
        json.dumps({"messages": [{"role": "user", "content": [{"text": {"a": 1}}]}]}).encode()
    ),
    "converse: system text not a string": _converse(json.dumps({"system": [{"text": 5}], "messages": USER}).encode()),
    "converse: tool schema nested 3,000 deep": _converse(_tool(b'{"properties": {"a":' * 3000 + b"{}" + b"}}" * 3000)),
    "converse: inference config of strings": _converse(
        json.dumps({"messages": USER, "inferenceConfig": {"maxTokens": "x"}}).encode()
    ),
    "invoke_endpoint: JSON nested 100,000 deep": (
        "/endpoints/docproc-domain-classifier/invocations",
        DEEP,
        {"Content-Type": "application/json"},
    ),
    "invoke_endpoint: body not UTF-8": (
        "/endpoints/docproc-domain-classifier/invocations",
        b"\xff\xfe",
        {"Content-Type": "text/plain"},
    ),
    "textract: body nested 100,000 deep": _textract("DetectDocumentText", DEEP),
    "textract: Document is a list": _textract("DetectDocumentText", {"Document": []}),
    "textract: S3Object of wrong types": _textract(
        "StartDocumentTextDetection", {"DocumentLocation": {"S3Object": {"Bucket": 1, "Name": ["x"]}}}
    ),
    "textract: JobId a number": _textract("GetDocumentTextDetection", {"JobId": 5}),
    "textract: bytes that are no image": _textract("DetectDocumentText", {"Document": {"Bytes": "iVBORw0KGgoAAAAN"}}),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_REQUESTS))
def test_a_request_the_service_would_refuse_gets_a_4xx(standins: StandinServer, name: str) -> None:
    path, body, headers = HOSTILE_REQUESTS[name]
    request = urllib.request.Request(standins.url + path, data=body, headers=headers, method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=60)
    status, answer = refused.value.code, refused.value.read()
    if path.startswith("/endpoints/"):  # SageMaker reports the container's 4xx as ModelError (424)
        assert (status, json.loads(answer)["OriginalStatusCode"]) == (424, 400), answer
    else:
        assert 400 <= status < 500, (status, answer)
