"""The local Bedrock Runtime / SageMaker Runtime stand-ins, driven through real boto3 clients.

Run with ``PYTHONPATH=src:local pytest tests/unit/test_standins.py``.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import jsonschema
import pydantic
import pytest
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from docproc.models import Extraction
from docproc_local.standins import FaultConfig, StandinServer, extract_insights
from docproc_local.standins.insights.language import detect_language

from helpers import served_classifier

SCHEMA = Extraction.model_json_schema(by_alias=True)
TOOL_NAME = "record_extraction"
TOOL_CONFIG = {
    "tools": [
        {"toolSpec": {"name": TOOL_NAME, "description": "Record the extraction.", "inputSchema": {"json": SCHEMA}}}
    ],
    "toolChoice": {"tool": {"name": TOOL_NAME}},
}
MODEL_ID = "anthropic.claude-3-5-haiku-20241022-v1:0"
LABELS = ("legal", "medical", "financial", "technical", "hr", "general")

INVOICE = """ACME Cloud Services Ltd.
12 Harbour Street, Bristol BS1 4DJ, United Kingdom
VAT Reg No: GB123456789

INVOICE

Invoice Number: INV-2024-00123
Invoice Date: March 5, 2024
Due Date: 04/04/2024
Customer ID: CUST-88213
Purchase Order No: PO-7781

Bill To:
Northwind Traders Inc.
400 Market Street, Suite 12, San Francisco, CA 94105

Description                         Qty   Unit Price     Amount
Cloud hosting (March 2024)            1    $1,200.00   $1,200.00
Premium support                       1      $350.00     $350.00
Credit for outage on 2024-02-20       1     ($75.50)    ($75.50)

Subtotal: $1,474.50
Tax (8.5%): $125.33
Total Due: USD 1,599.83

Payment terms: net 30. Please pay by bank transfer or contact billing@acme-cloud.example.com with any question
about this invoice. Questions? Call +44 117 496 0123.
"""

CONTRACT = """MASTER SERVICES AGREEMENT

This Master Services Agreement (the "Agreement") is entered into as of 1 July 2023 (the "Effective Date") by and
between Globex Corporation, a Delaware corporation ("Client"), and Initech Software GmbH, a company organised under
the laws of Germany ("Provider").

WHEREAS, Client wishes to engage Provider to develop and maintain software, and Provider is willing to provide such
services on the terms set out below;

NOW, THEREFORE, the parties agree as follows:

1. Services. Provider shall perform the services described in each Statement of Work signed by both parties.
2. Fees. Client shall pay Provider a monthly fee of €45,000.00 within thirty (30) days of receipt of an invoice.
3. Term. This Agreement shall remain in force until June 30, 2026 unless terminated earlier under Section 9.
4. Governing Law. This Agreement shall be governed by the laws of the State of New York.

IN WITNESS WHEREOF, the parties have executed this Agreement as of the Effective Date.
"""

LANGUAGE_SAMPLES = {
    "en": "The committee met on Tuesday to discuss the budget for the next year. Most members agreed that the "
    "proposal was reasonable, and the chair asked for a final vote before the end of the month.",
    "fr": "Le comité s'est réuni mardi pour discuter du budget de l'année prochaine. La plupart des membres ont "
    "estimé que la proposition était raisonnable, et le président a demandé un vote final avant la fin du mois.",
    "de": "Der Ausschuss hat sich am Dienstag getroffen, um den Haushalt für das nächste Jahr zu besprechen. Die "
    "meisten Mitglieder waren der Meinung, dass der Vorschlag vernünftig ist, und der Vorsitzende bat um eine "
    "abschließende Abstimmung vor dem Ende des Monats.",
    "es": "El comité se reunió el martes para discutir el presupuesto del próximo año. La mayoría de los miembros "
    "estuvo de acuerdo en que la propuesta era razonable y el presidente pidió una votación final.",
    "it": "Il comitato si è riunito martedì per discutere il bilancio del prossimo anno. La maggior parte dei membri "
    "ha ritenuto che la proposta fosse ragionevole e il presidente ha chiesto un voto finale.",
    "nl": "De commissie is dinsdag bijeengekomen om de begroting voor het volgende jaar te bespreken. De meeste leden "
    "vonden het voorstel redelijk en de voorzitter vroeg om een laatste stemming voor het einde van de maand.",
    "pt": "O comitê se reuniu na terça-feira para discutir o orçamento do próximo ano. A maioria dos membros concordou "
    "que a proposta era razoável e o presidente pediu uma votação final antes do fim do mês.",
    "ja": "委員会は火曜日に来年度の予算について話し合うために集まりました。ほとんどのメンバーは提案が妥当であることに"
    "同意し、議長は月末までに最終投票を行うよう求めました。",
    "zh": "委员会周二开会讨论明年的预算。大多数成员认为该提案是合理的，主席要求在月底前进行最终投票。",  # noqa: RUF001
    "ru": "Комитет собрался во вторник, чтобы обсудить бюджет на следующий год. Большинство членов согласились, что "
    "предложение разумно, и председатель попросил провести окончательное голосование до конца месяца.",
    "ar": "اجتمعت اللجنة يوم الثلاثاء لمناقشة ميزانية العام المقبل. ووافق معظم الأعضاء على أن الاقتراح معقول، وطلب "
    "الرئيس إجراء تصويت نهائي قبل نهاية الشهر.",
    "he": "הוועדה התכנסה ביום שלישי כדי לדון בתקציב לשנה הבאה. רוב החברים הסכימו שההצעה סבירה, והיושב ראש ביקש "
    "לקיים הצבעה סופית לפני סוף החודש.",
}


def _client(service: str, url: str) -> BaseClient:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"total_max_attempts": 1}),  # one attempt: every fault reaches the test
    )


@pytest.fixture
def server() -> Iterator[StandinServer]:
    with StandinServer(model=served_classifier(), environ={}) as standins:
        yield standins


@pytest.fixture
def bedrock(server: StandinServer) -> BaseClient:
    return _client("bedrock-runtime", server.url)


@pytest.fixture
def sagemaker(server: StandinServer) -> BaseClient:
    return _client("sagemaker-runtime", server.url)


def _converse(client: BaseClient, text: str, **overrides: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "modelId": MODEL_ID,
        "system": [{"text": "Extract the document's insights with the record_extraction tool."}],
        "messages": [{"role": "user", "content": [{"text": text}]}],
        "toolConfig": TOOL_CONFIG,
        "inferenceConfig": {"maxTokens": 4096, "temperature": 0},
    }
    request.update(overrides)
    return client.converse(**request)


def _tool_input(response: dict[str, Any]) -> dict[str, Any]:
    [block] = response["output"]["message"]["content"]
    return block["toolUse"]["input"]


# --- Converse ------------------------------------------------------------------------------------------------------


def test_converse_with_a_tool_answers_a_tool_use_that_validates_against_the_schema(bedrock: BaseClient) -> None:
    # WHEN the pipeline's request shape is sent
    response = _converse(bedrock, INVOICE)

    # THEN the answer is one toolUse block whose input is a valid Extraction computed from the text
    assert response["stopReason"] == "tool_use"
    assert response["output"]["message"]["role"] == "assistant"
    [block] = response["output"]["message"]["content"]
    assert block["toolUse"]["name"] == TOOL_NAME
    assert block["toolUse"]["toolUseId"].startswith("tooluse_")
    tool_input = block["toolUse"]["input"]
    jsonschema.validate(tool_input, SCHEMA)
    extraction = Extraction.model_validate(tool_input)
    assert tool_input["documentType"] == "invoice"
    assert extraction.domain_hint == "financial"
    usage = response["usage"]
    assert usage["inputTokens"] >= len(INVOICE) // 4
    assert usage["outputTokens"] > 0
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    assert isinstance(response["metrics"]["latencyMs"], int)


@pytest.mark.parametrize(
    "model_id",
    [
        "anthropic.claude-3-5-sonnet-20240620-v1:0",
        "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
        "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0",
        "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-3-haiku-20240307-v1:0",
    ],
)
def test_converse_accepts_model_ids_arns_and_inference_profiles(bedrock: BaseClient, model_id: str) -> None:
    response = _converse(bedrock, CONTRACT, modelId=model_id)

    assert _tool_input(response)["documentType"] == "agreement"


def test_converse_reads_the_text_of_document_blocks(bedrock: BaseClient) -> None:
    content = [
        {"text": "Extract the insights of the attached document."},
        {"document": {"format": "txt", "name": "invoice 2024 (March)", "source": {"bytes": INVOICE.encode()}}},
    ]

    tool_input = _tool_input(_converse(bedrock, "", messages=[{"role": "user", "content": content}]))

    assert {"kind": "invoice number", "value": "INV-2024-00123"} in tool_input["identifiers"]


def test_converse_uses_the_document_inside_tags_and_ignores_the_instructions(bedrock: BaseClient) -> None:
    prompt = f"Read the document and call the tool.\n<document>\n{CONTRACT}\n</document>\nAnswer in English."

    tool_input = _tool_input(_converse(bedrock, prompt))

    assert tool_input["title"] == "MASTER SERVICES AGREEMENT"


def test_converse_answers_a_repair_turn_from_the_original_document(bedrock: BaseClient) -> None:
    # GIVEN the conversation of a repair attempt: the first answer was invalid and the tool result says why
    messages = [
        {"role": "user", "content": [{"text": INVOICE}]},
        {"role": "assistant", "content": [{"toolUse": {"toolUseId": "tooluse_1", "name": TOOL_NAME, "input": {}}}]},
        {
            "role": "user",
            "content": [
                {
                    "toolResult": {
                        "toolUseId": "tooluse_1",
                        "status": "error",
                        "content": [{"text": "title: Field required"}],
                    }
                },
                {"text": "Fix the input and call the tool again."},
            ],
        },
    ]

    tool_input = _tool_input(_converse(bedrock, "", messages=messages))

    assert tool_input == extract_insights(INVOICE)


def test_converse_without_tools_answers_text(bedrock: BaseClient) -> None:
    response = bedrock.converse(modelId=MODEL_ID, messages=[{"role": "user", "content": [{"text": CONTRACT}]}])

    assert response["stopReason"] == "end_turn"
    [block] = response["output"]["message"]["content"]
    assert block["text"] == extract_insights(CONTRACT)["summary"]
    assert "Master Services Agreement" in block["text"]

    as_json = bedrock.converse(
        modelId=MODEL_ID,
        system=[{"text": "Answer with a JSON object only."}],
        messages=[{"role": "user", "content": [{"text": CONTRACT}]}],
    )
    jsonschema.validate(json.loads(as_json["output"]["message"]["content"][0]["text"]), SCHEMA)


def test_converse_fits_its_answer_to_whatever_schema_the_tool_asks_for(bedrock: BaseClient) -> None:
    # GIVEN a tool whose schema differs from Extraction: other required fields, no extra properties allowed
    schema = {
        "type": "object",
        "properties": {
            "documentType": {"type": "string", "enum": ["invoice", "contract", "other"]},
            "title": {"type": "string", "maxLength": 10},
            "pageCount": {"type": "integer", "minimum": 1},
        },
        "required": ["documentType", "pageCount"],
        "additionalProperties": False,
    }
    tools = {"tools": [{"toolSpec": {"name": "classify_doc", "inputSchema": {"json": schema}}}]}

    tool_input = _tool_input(_converse(bedrock, INVOICE, toolConfig=tools))

    jsonschema.validate(tool_input, schema)
    assert tool_input["documentType"] == "invoice"


def test_converse_reports_max_tokens_when_the_tool_input_does_not_fit(bedrock: BaseClient) -> None:
    response = _converse(bedrock, INVOICE, inferenceConfig={"maxTokens": 10})

    assert response["stopReason"] == "max_tokens"
    assert "toolUse" not in response["output"]["message"]["content"][0]


@pytest.mark.parametrize(
    ("overrides", "message_part"),
    [
        ({"messages": [{"role": "assistant", "content": [{"text": "hi"}]}]}, "must start with a user message"),
        (
            {"messages": [{"role": "user", "content": [{"text": "a"}]}, {"role": "user", "content": [{"text": "b"}]}]},
            "alternate between user and assistant",
        ),
        ({"toolConfig": {**TOOL_CONFIG, "toolChoice": {"tool": {"name": "other_tool"}}}}, "toolChoice"),
        (
            {"toolConfig": {"tools": [{"toolSpec": {"name": "t", "inputSchema": {"json": {"type": "nope"}}}}]}},
            "inputSchema.json is invalid",
        ),
        (
            {
                "toolConfig": None,
                "messages": [
                    {"role": "user", "content": [{"text": "a"}]},
                    {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "x", "input": {}}}]},
                ],
            },
            "toolConfig field must be defined",
        ),
        ({"inferenceConfig": {"temperature": 1.5}}, "temperature"),
    ],
    ids=["assistant-first", "not-alternating", "unknown-tool-choice", "bad-schema", "tool-use-without-tools", "temp"],
)
def test_converse_rejects_invalid_requests_with_a_validation_exception(
    bedrock: BaseClient, server: StandinServer, overrides: dict[str, Any], message_part: str
) -> None:
    request = {"modelId": MODEL_ID, "messages": [{"role": "user", "content": [{"text": INVOICE}]}]}
    request["toolConfig"] = TOOL_CONFIG
    request.update(overrides)
    request = {key: value for key, value in request.items() if value is not None}

    with pytest.raises(bedrock.exceptions.ValidationException) as raised:
        bedrock.converse(**request)

    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert message_part in raised.value.response["Error"]["Message"]
    assert server.stats()["bedrock"]["rejected"] == 1


def test_converse_rejects_unknown_models_and_inputs_that_are_too_long() -> None:
    with StandinServer(model=served_classifier(), model_ids=[MODEL_ID], max_input_tokens=500, environ={}) as standins:
        bedrock = _client("bedrock-runtime", standins.url)

        with pytest.raises(bedrock.exceptions.ValidationException, match="model identifier is invalid"):
            _converse(bedrock, "short text", modelId="amazon.titan-text-express-v1")
        with pytest.raises(bedrock.exceptions.ValidationException, match="Input is too long"):
            _converse(bedrock, INVOICE * 3)


def test_boto3_reaches_the_stand_ins_through_the_standard_endpoint_variables(
    server: StandinServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN only the environment a handler sees in local mode (no endpoint_url in code)
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.delenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", raising=False)
    session = boto3.Session(region_name="us-east-1")

    response = session.client("bedrock-runtime").converse(
        modelId=MODEL_ID, messages=[{"role": "user", "content": [{"text": INVOICE}]}], toolConfig=TOOL_CONFIG
    )
    scores = session.client("sagemaker-runtime").invoke_endpoint(
        EndpointName="docproc-classifier", ContentType="text/plain", Body=INVOICE.encode()
    )

    assert _tool_input(response)["documentType"] == "invoice"
    assert json.loads(scores["Body"].read())[0]["label"] == "financial"


# --- the extractor -------------------------------------------------------------------------------------------------


def test_extractor_finds_the_fields_of_an_invoice() -> None:
    result = extract_insights(INVOICE)

    jsonschema.validate(result, SCHEMA)
    assert result["documentType"] == "invoice"
    assert result["domainHint"] == "financial"
    assert result["language"] == "en"
    assert "invoice" in result["title"].lower()
    identifiers = {(item["kind"], item["value"]) for item in result["identifiers"]}
    assert ("invoice number", "INV-2024-00123") in identifiers
    assert ("customer id", "CUST-88213") in identifiers
    assert ("order number", "PO-7781") in identifiers
    assert ("phone", "+44 117 496 0123") in identifiers
    dates = {item["value"] for item in result["dates"]}
    assert {"2024-03-05", "2024-04-04", "2024-02-20", "2024-03"} <= dates
    amounts = {(item["value"], item["currency"]) for item in result["amounts"]}
    assert {(1200.0, "USD"), (350.0, "USD"), (-75.5, "USD"), (1599.83, "USD")} <= amounts
    assert result["emails"] == ["billing@acme-cloud.example.com"]
    parties = {item["name"]: item["role"] for item in result["parties"]}
    assert parties.get("Northwind Traders Inc.") == "customer"
    assert "ACME Cloud Services Ltd." in parties


def test_extractor_finds_the_parties_of_a_contract() -> None:
    result = extract_insights(CONTRACT)

    assert result["documentType"] == "agreement"
    assert result["domainHint"] == "legal"
    assert result["title"] == "MASTER SERVICES AGREEMENT"
    parties = {item["name"]: item["role"] for item in result["parties"]}
    assert parties["Globex Corporation"] == "client"
    assert parties["Initech Software GmbH"] == "provider"
    assert {"2023-07-01", "2026-06-30"} <= {item["value"] for item in result["dates"]}
    assert {"value": 45000.0, "currency": "EUR", "text": "€45,000.00"} in result["amounts"]
    assert 0 < len(result["summary"]) <= 400


def test_extractor_finds_litigants_and_letter_parties() -> None:
    opinion = (
        "IN THE SUPREME COURT OF THE STATE OF NEVADA\n\nJOHN DOE, Appellant,\nv.\nMEGACORP HOLDINGS, LLC, "
        "Respondent.\n\nNo. 84-123\n\nThe district court granted summary judgment for the defendant. We reverse."
    )
    letter = "Dear Ms. Jane Smith,\n\nThank you for your application to our programme.\n\nSincerely,\nTom Baker\n"

    opinion_parties = {item["name"]: item["role"] for item in extract_insights(opinion)["parties"]}
    letter_parties = {item["name"]: item["role"] for item in extract_insights(letter)["parties"]}

    assert opinion_parties["JOHN DOE"] == "appellant"
    assert opinion_parties["MEGACORP HOLDINGS, LLC"] == "respondent"
    assert letter_parties == {"Jane Smith": "recipient", "Tom Baker": "sender"}
    assert extract_insights(opinion)["documentType"] == "court opinion"
    assert extract_insights(letter)["documentType"] == "letter"


def test_extractor_normalises_dates_written_in_many_ways() -> None:
    text = (
        "Filed 2023-01-05, amended 02/14/2023, heard on March 3, 2023 and on 7 Apr 2023; Bescheid vom 9. Mai 2023; "
        "valid from June 2023; 発行日 2023年7月1日; due 31.12.2023."
    )

    dates = {item["value"]: item["text"] for item in extract_insights(text)["dates"]}

    assert dates == {
        "2023-01-05": "2023-01-05",
        "2023-02-14": "02/14/2023",
        "2023-03-03": "March 3, 2023",
        "2023-04-07": "7 Apr 2023",
        "2023-05-09": "9. Mai 2023",
        "2023-06": "June 2023",
        "2023-07-01": "2023年7月1日",
        "2023-12-31": "31.12.2023",
    }


def test_extractor_parses_amounts_in_many_currencies_and_notations() -> None:
    text = (
        "Fees: $1,234.56 paid; refund -$45.00; loss of ($1,000.00). Le loyer est de 1 234,56 € par mois. "
        "Preis: € 2.500,00. Fee GBP 99. Advance Rs. 1,00,000 received. Licence ¥5,000. Raised USD 3.5 million."
    )

    amounts = {(item["value"], item["currency"]) for item in extract_insights(text)["amounts"]}

    assert amounts == {
        (1234.56, "USD"),
        (-45.0, "USD"),
        (-1000.0, "USD"),
        (1234.56, "EUR"),
        (2500.0, "EUR"),
        (99.0, "GBP"),
        (100000.0, "INR"),
        (5000.0, "JPY"),
        (3500000.0, "USD"),
    }


@pytest.mark.parametrize(("language", "text"), list(LANGUAGE_SAMPLES.items()), ids=list(LANGUAGE_SAMPLES))
def test_extractor_detects_the_language(language: str, text: str) -> None:
    assert detect_language(text) == language
    assert extract_insights(text)["language"] == language


def test_extractor_handles_empty_and_odd_input() -> None:
    for text in ("", "   \n\n", "1234 5678", "{not json", "<html><body></body></html>", "x" * 5000):
        jsonschema.validate(extract_insights(text), SCHEMA)


def test_extractor_caps_list_and_string_lengths() -> None:
    text = "\n".join(
        f"Invoice No: INV-{i:05d} dated 2023-01-{i % 28 + 1:02d} total $ {i},00 to a{i}@x.example.com"
        for i in range(500)
    )

    result = extract_insights(text)

    for key in ("dates", "amounts", "parties", "identifiers", "emails", "keyPhrases"):
        assert len(result[key]) <= 20
    assert len(result["title"]) <= 200
    assert len(result["summary"]) <= 400


def test_extractor_is_fast_on_200k_characters() -> None:
    filler = " ".join(LANGUAGE_SAMPLES["en"] for _ in range(20))
    text = ""
    while len(text) < 200_000:
        text += f"{INVOICE}\n\n{CONTRACT}\n\n{filler}\n\n"
    text = text[:200_000]
    extract_insights(text[:1000])  # compile regexes outside the measurement

    started = time.perf_counter()
    result = extract_insights(text)
    elapsed = time.perf_counter() - started

    print(f"extract_insights on {len(text)} characters: {elapsed * 1000:.0f} ms")
    jsonschema.validate(result, SCHEMA)
    assert elapsed < 3.0


# --- InvokeEndpoint ------------------------------------------------------------------------------------------------


def test_invoke_endpoint_answers_hugging_face_format_with_every_label_sorted(sagemaker: BaseClient) -> None:
    response = sagemaker.invoke_endpoint(
        EndpointName="docproc-classifier",
        ContentType="application/json",
        Accept="application/json",
        Body=json.dumps({"inputs": INVOICE}),
    )

    assert response["ContentType"] == "application/json"
    assert response["InvokedProductionVariant"] == "AllTraffic"
    ranked = json.loads(response["Body"].read())
    assert ranked[0]["label"] == "financial"
    assert sorted(item["label"] for item in ranked) == sorted(LABELS)
    scores = [item["score"] for item in ranked]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", INVOICE.encode()),
        ("text/plain; charset=utf-8", INVOICE.encode()),
        ("application/json", json.dumps({"text": INVOICE}).encode()),
        ("application/json", json.dumps(INVOICE).encode()),
        ("application/json; charset=utf-8", json.dumps({"inputs": INVOICE}).encode()),
    ],
    ids=["raw-text", "raw-text-charset", "text-field", "json-string", "inputs-charset"],
)
def test_invoke_endpoint_accepts_the_usual_request_formats(
    sagemaker: BaseClient, content_type: str, body: bytes
) -> None:
    response = sagemaker.invoke_endpoint(EndpointName="clf", ContentType=content_type, Body=body)

    ranked = json.loads(response["Body"].read())

    assert ranked[0]["label"] == "financial"
    assert len(ranked) == len(LABELS)
    assert sum(item["score"] for item in ranked) == pytest.approx(1.0, abs=1e-4)


def test_invoke_endpoint_classifies_a_batch_of_texts(sagemaker: BaseClient) -> None:
    body = json.dumps({"inputs": [INVOICE, CONTRACT]})

    response = sagemaker.invoke_endpoint(EndpointName="clf", ContentType="application/json", Body=body)

    ranked = json.loads(response["Body"].read())

    assert [result[0]["label"] for result in ranked] == ["financial", "legal"]


def test_invoke_endpoint_errors_have_the_service_shapes(monkeypatch: pytest.MonkeyPatch) -> None:
    served = served_classifier()

    with StandinServer(model=served, endpoints=["known"], environ={}) as standins:
        sagemaker = _client("sagemaker-runtime", standins.url)

        with pytest.raises(sagemaker.exceptions.ValidationError, match="Endpoint unknown of account") as unknown:
            sagemaker.invoke_endpoint(EndpointName="unknown", ContentType="text/plain", Body=b"hello")
        with pytest.raises(sagemaker.exceptions.ModelError) as bad_json:
            sagemaker.invoke_endpoint(EndpointName="known", ContentType="application/json", Body=b"{not json")
        with pytest.raises(sagemaker.exceptions.ModelError) as wrong_type:
            sagemaker.invoke_endpoint(EndpointName="known", ContentType="application/pdf", Body=b"%PDF-1.7")

        def broken(data: object, model: object) -> None:
            raise RuntimeError("weights not loaded")

        monkeypatch.setattr(served.module, "predict_fn", broken)
        with pytest.raises(sagemaker.exceptions.ModelError) as failing_model:
            sagemaker.invoke_endpoint(EndpointName="known", ContentType="text/plain", Body=b"hello")

    assert unknown.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert bad_json.value.response["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert bad_json.value.response["OriginalStatusCode"] == 400
    assert "InvalidJSON" in bad_json.value.response["OriginalMessage"]
    assert wrong_type.value.response["OriginalStatusCode"] == 415
    assert failing_model.value.response["OriginalStatusCode"] == 500
    assert "weights not loaded" in failing_model.value.response["OriginalMessage"]
    counters = standins.stats()["sagemaker"]
    assert (counters["rejected"], counters["model_errors"]) == (1, 3)


# --- faults --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "config", "code", "status"),
    [
        ("bedrock", FaultConfig(throttle_rate=1.0), "ThrottlingException", 429),
        (
            "bedrock",
            FaultConfig(error_rate=1.0, error_codes=("InternalServerException",)),
            "InternalServerException",
            500,
        ),
        (
            "bedrock",
            FaultConfig(error_rate=1.0, error_codes=("ServiceUnavailableException",)),
            "ServiceUnavailableException",
            503,
        ),
        ("bedrock", FaultConfig(error_rate=1.0, error_codes=("ModelTimeoutException",)), "ModelTimeoutException", 408),
        (
            "bedrock",
            FaultConfig(error_rate=1.0, error_codes=("ModelNotReadyException",)),
            "ModelNotReadyException",
            429,
        ),
        ("sagemaker", FaultConfig(throttle_rate=1.0), "ThrottlingException", 429),
        ("sagemaker", FaultConfig(error_rate=1.0, error_codes=("InternalFailure",)), "InternalFailure", 500),
        ("sagemaker", FaultConfig(error_rate=1.0, error_codes=("ServiceUnavailable",)), "ServiceUnavailable", 503),
        ("sagemaker", FaultConfig(error_rate=1.0, error_codes=("ModelError",)), "ModelError", 424),
    ],
    ids=lambda value: value if isinstance(value, str | int) else None,
)
def test_each_fault_raises_the_botocore_error_of_the_service(
    server: StandinServer, service: str, config: FaultConfig, code: str, status: int
) -> None:
    server.set_faults(service, config)
    client = _client("bedrock-runtime" if service == "bedrock" else "sagemaker-runtime", server.url)

    def call() -> None:
        if service == "bedrock":
            _converse(client, INVOICE)
        else:
            client.invoke_endpoint(EndpointName="clf", ContentType="text/plain", Body=b"hello")

    with pytest.raises(ClientError) as raised:
        call()

    error = raised.value
    assert error.response["Error"]["Code"] == code
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == status
    modelled = getattr(client.exceptions, code, None)  # sagemaker-runtime does not model ThrottlingException
    assert modelled is None or isinstance(error, modelled)
    counters = server.stats()[service]
    assert counters["faults"] == 1
    assert counters["codes"] == {code: 1}


def test_default_server_errors_are_500_or_503(server: StandinServer, bedrock: BaseClient) -> None:
    server.set_faults("bedrock", FaultConfig(error_rate=1.0, seed=3))

    server_errors = (bedrock.exceptions.InternalServerException, bedrock.exceptions.ServiceUnavailableException)
    statuses = set()
    for _ in range(20):
        with pytest.raises(server_errors) as raised:
            _converse(bedrock, "hello")
        statuses.add(raised.value.response["ResponseMetadata"]["HTTPStatusCode"])

    assert statuses == {500, 503}


def test_latency_is_added_to_every_answer(server: StandinServer, sagemaker: BaseClient) -> None:
    server.set_faults("sagemaker", FaultConfig(latency_ms=150))

    started = time.perf_counter()
    sagemaker.invoke_endpoint(EndpointName="clf", ContentType="text/plain", Body=b"hello")
    elapsed = time.perf_counter() - started

    assert elapsed >= 0.15
    assert server.stats()["sagemaker"]["latency_ms"] == 150


def test_malformed_fault_sends_a_tool_input_that_breaks_the_schema(server: StandinServer, bedrock: BaseClient) -> None:
    server.set_faults("bedrock", FaultConfig(malformed_rate=1.0, seed=11))

    for _ in range(5):
        response = _converse(bedrock, INVOICE)

        assert response["stopReason"] == "tool_use"
        tool_input = _tool_input(response)
        assert "title" not in tool_input
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(tool_input, SCHEMA)
        with pytest.raises(pydantic.ValidationError):
            Extraction.model_validate(tool_input)
    assert server.stats()["bedrock"]["malformed"] == 5


def test_malformed_fault_on_sagemaker_cuts_the_json_body(server: StandinServer, sagemaker: BaseClient) -> None:
    server.set_faults("sagemaker", FaultConfig(malformed_rate=1.0))

    body = sagemaker.invoke_endpoint(EndpointName="clf", ContentType="text/plain", Body=b"hello")["Body"].read()

    with pytest.raises(json.JSONDecodeError):
        json.loads(body)


def _outcomes(bedrock: BaseClient, requests: int) -> list[str]:
    outcomes = []
    for _ in range(requests):
        try:
            response = _converse(bedrock, "Consulting agreement between Acme Corp. and Jane Doe, dated 2024-05-01.")
        except ClientError as error:
            outcomes.append(error.response["Error"]["Code"])
            continue
        valid = jsonschema.Draft202012Validator(SCHEMA).is_valid(_tool_input(response))
        outcomes.append("ok" if valid else "malformed")
    return outcomes


def test_seeded_faults_are_reproducible(server: StandinServer, bedrock: BaseClient) -> None:
    config = FaultConfig(throttle_rate=0.25, error_rate=0.2, malformed_rate=0.15, seed=1234)

    server.set_faults("bedrock", config)
    first = _outcomes(bedrock, 40)
    server.set_faults("bedrock", config)
    second = _outcomes(bedrock, 40)
    server.set_faults("bedrock", FaultConfig(throttle_rate=0.25, error_rate=0.2, malformed_rate=0.15, seed=4321))
    other_seed = _outcomes(bedrock, 40)

    assert first == second
    assert first != other_seed
    assert set(first) == {
        "ok",
        "malformed",
        "ThrottlingException",
        "InternalServerException",
        "ServiceUnavailableException",
    }
    counters = server.stats()["bedrock"]
    everything = first + second + other_seed
    assert counters["requests"] == 120
    assert counters["ok"] == everything.count("ok")
    assert counters["malformed"] == everything.count("malformed")
    assert counters["throttled"] == everything.count("ThrottlingException")
    assert counters["faults"] == 120 - counters["ok"]


def test_fault_counters_are_exact_under_concurrent_requests(server: StandinServer) -> None:
    server.set_faults("sagemaker", FaultConfig(throttle_rate=0.5, seed=99))
    clients = [_client("sagemaker-runtime", server.url) for _ in range(8)]

    def call(index: int) -> str:
        try:
            clients[index % 8].invoke_endpoint(EndpointName="clf", ContentType="text/plain", Body=b"hello")
        except ClientError as error:
            return error.response["Error"]["Code"]
        return "ok"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(call, range(80)))

    counters = server.stats()["sagemaker"]
    assert counters["requests"] == 80
    assert counters["ok"] == outcomes.count("ok")
    assert counters["throttled"] == outcomes.count("ThrottlingException") > 0


def test_fault_config_is_checked_and_parsed() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        FaultConfig(throttle_rate=1.5)
    with pytest.raises(ValueError, match="must not exceed 1"):
        FaultConfig(throttle_rate=0.6, error_rate=0.6)
    with StandinServer(environ={}) as standins, pytest.raises(ValueError, match="no error code"):
        standins.set_faults("sagemaker", FaultConfig(error_rate=1.0, error_codes=("InternalServerException",)))

    assert FaultConfig.parse("throttle_rate=0.1, latency_ms=20, seed=7, error_codes=ModelTimeoutException") == (
        FaultConfig(throttle_rate=0.1, latency_ms=20, seed=7, error_codes=("ModelTimeoutException",))
    )


def test_fault_settings_can_come_from_the_environment() -> None:
    environ = {"DOCPROC_LOCAL_BEDROCK_FAULTS": "throttle_rate=1.0"}

    with StandinServer(model=served_classifier(), environ=environ) as standins:
        bedrock = _client("bedrock-runtime", standins.url)
        with pytest.raises(bedrock.exceptions.ThrottlingException):
            _converse(bedrock, INVOICE)


def test_stats_and_health_are_served_over_http(server: StandinServer, sagemaker: BaseClient) -> None:
    sagemaker.invoke_endpoint(EndpointName="clf", ContentType="text/plain", Body=b"hello")

    with urllib.request.urlopen(f"{server.url}/health", timeout=5) as health:
        assert json.loads(health.read()) == {"status": "ok"}
    with urllib.request.urlopen(f"{server.url}/stats", timeout=5) as stats:
        assert json.loads(stats.read())["sagemaker"]["ok"] == 1


def test_a_stopped_server_answers_nothing_more_even_on_kept_alive_connections() -> None:
    standins = StandinServer(model=served_classifier(), environ={})
    with pytest.raises(RuntimeError):
        _ = standins.url
    standins.start()
    sagemaker = _client("sagemaker-runtime", standins.url)
    first = sagemaker.invoke_endpoint(EndpointName="clf", ContentType="text/plain", Body=b"hello")
    first["Body"].read()  # read to the end: the connection goes back to the pool, kept alive

    standins.stop()

    with pytest.raises(BotoCoreError):
        sagemaker.invoke_endpoint(EndpointName="clf", ContentType="text/plain", Body=b"hello")


# --- forwarding to an OpenAI-compatible server ---------------------------------------------------------------------


class _FakeOpenAI(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append((self.path, body))  # type: ignore[attr-defined]
        status, answer = self.server.answer  # type: ignore[attr-defined]
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def fake_llm() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOpenAI)
    httpd.requests = []  # type: ignore[attr-defined]
    httpd.answer = (200, {})  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def _tool_call_answer(arguments: dict[str, Any]) -> dict[str, Any]:
    call = {"id": "call_1", "type": "function", "function": {"name": TOOL_NAME, "arguments": json.dumps(arguments)}}
    return {"choices": [{"index": 0, "message": {"role": "assistant", "content": None, "tool_calls": [call]}}]}


def test_converse_forwards_to_an_openai_compatible_server(
    fake_llm: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a local LLM that answers with a partial tool call (no summary, a wrong domain)
    monkeypatch.setenv("DOCPROC_LOCAL_LLM_URL", f"http://127.0.0.1:{fake_llm.server_address[1]}/v1")
    monkeypatch.setenv("DOCPROC_LOCAL_LLM_MODEL", "qwen2.5-3b-instruct")
    fake_llm.answer = (
        200,
        _tool_call_answer(  # type: ignore[attr-defined]
            {"documentType": "invoice", "title": "Invoice from the LLM", "language": "en", "domainHint": "finance"}
        ),
    )

    with StandinServer(model=served_classifier()) as standins:
        tool_input = _tool_input(_converse(_client("bedrock-runtime", standins.url), INVOICE))
        counters = standins.stats()["bedrock"]

    # THEN the LLM's fields are kept, the missing or invalid ones come from the local extractor
    jsonschema.validate(tool_input, SCHEMA)
    assert tool_input["title"] == "Invoice from the LLM"
    assert tool_input["domainHint"] == "financial"
    assert tool_input["summary"] == extract_insights(INVOICE)["summary"]
    assert counters["forwarded"] == 1
    assert counters["repaired"] == 1
    [(path, request)] = fake_llm.requests  # type: ignore[attr-defined]
    assert path == "/v1/chat/completions"
    assert request["model"] == "qwen2.5-3b-instruct"
    assert request["tools"][0]["function"]["name"] == TOOL_NAME
    assert request["tools"][0]["function"]["parameters"] == SCHEMA
    assert request["tool_choice"] == {"type": "function", "function": {"name": TOOL_NAME}}
    assert request["max_tokens"] == 4096
    assert "INV-2024-00123" in request["messages"][-1]["content"]


@pytest.mark.parametrize(
    "answer",
    [(500, {"error": "model not loaded"}), (200, {"choices": []}), (200, {"choices": [{"message": {"content": "?"}}]})],
    ids=["http-500", "no-choices", "no-tool-call"],
)
def test_converse_falls_back_to_the_local_extractor_when_forwarding_fails(
    fake_llm: ThreadingHTTPServer, answer: tuple[int, dict[str, Any]]
) -> None:
    from docproc_local.standins.openai_compat import LLMEndpoint

    fake_llm.answer = answer  # type: ignore[attr-defined]
    endpoint = LLMEndpoint(f"http://127.0.0.1:{fake_llm.server_address[1]}/v1", model="m", timeout=5)

    with StandinServer(model=served_classifier(), llm=endpoint, environ={}) as standins:
        tool_input = _tool_input(_converse(_client("bedrock-runtime", standins.url), INVOICE))
        counters = standins.stats()["bedrock"]

    assert tool_input == extract_insights(INVOICE)
    assert counters["forward_failures"] == 1
    assert counters["forwarded"] == 0


def test_converse_falls_back_when_the_llm_server_is_down() -> None:
    from docproc_local.standins.openai_compat import LLMEndpoint

    with StandinServer(environ={}) as closed:
        dead_url = f"{closed.url}/v1"  # a port that was bound a moment ago and is free again
    endpoint = LLMEndpoint(dead_url, timeout=2)

    with StandinServer(model=served_classifier(), llm=endpoint, environ={}) as standins:
        tool_input = _tool_input(_converse(_client("bedrock-runtime", standins.url), CONTRACT))

    assert tool_input == extract_insights(CONTRACT)
