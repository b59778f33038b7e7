"""The thin Lambda handlers, imported from functions/<name>/app.py and invoked as Lambda would invoke them.

AWS storage and orchestration are moto; the model clients are real boto3 clients under botocore's Stubber.
Permanent errors must reach Lambda as the named exception class: the state machine's Catch matches on it.
"""

from __future__ import annotations

import importlib.util
import io
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from docproc import aws as docproc_aws
from docproc import errors, ids
from docproc.merge import MergeInput
from docproc.models import (
    BranchInput,
    ClassificationBranch,
    DocumentRef,
    ExtractionBranch,
    PreparedDocument,
    dump,
)
from docproc.records import from_item

from helpers import (
    DOCUMENT_ID,
    REPO,
    converse_response,
    create_lease_table,
    create_results_table,
    document_ref,
    failed_branch,
    load_event,
    merge_input,
    prepared_document,
    sqs_event,
    tool_use,
    triage_input,
    valid_extraction,
)

REGION = "us-east-1"
INPUT = "docproc-input"
ARTIFACTS = "docproc-artifacts"
MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"
ENDPOINT = "docproc-domain-classifier"
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

TEXT = "Amazon Web Services Invoice\nInvoice Number: 42183017\nTOTAL AMOUNT DUE $4.11"


@cache
def app(name: str) -> ModuleType:
    """functions/<name>/app.py as its own module (every function's file is called app.py)."""
    path = REPO / "functions" / name / "app.py"
    spec = importlib.util.spec_from_file_location(f"docproc_function_{name}_app", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Clients:
    """What ``docproc.aws.client`` hands out during a test: stubbed model clients, moto-backed everything else."""

    def __init__(self) -> None:
        self.stubbed: dict[str, Any] = {}
        self._real: dict[str, Any] = {}

    def __call__(self, service: str) -> Any:
        if service in self.stubbed:
            return self.stubbed[service]
        if service not in self._real:
            self._real[service] = boto3.client(service, region_name=REGION)
        return self._real[service]

    def cache_clear(self) -> None:
        self._real.clear()

    def stub(self, service: str) -> Stubber:
        client = boto3.client(service, region_name=REGION)
        self.stubbed[service] = client
        return Stubber(client)


@pytest.fixture
def clients(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Clients]:
    fake = Clients()
    docproc_aws.client.cache_clear()
    monkeypatch.setattr(docproc_aws, "client", fake)
    monkeypatch.setenv("ARTIFACTS_BUCKET", ARTIFACTS)
    s3 = fake("s3")
    s3.create_bucket(Bucket=INPUT)
    s3.put_bucket_versioning(Bucket=INPUT, VersioningConfiguration={"Status": "Enabled"})
    s3.create_bucket(Bucket=ARTIFACTS)
    yield fake
    fake.cache_clear()


@pytest.fixture
def bedrock(clients: Clients, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    monkeypatch.setenv("BEDROCK_MODEL_ID", MODEL_ID)
    monkeypatch.setenv("MAX_MODEL_INPUT_CHARS", "60000")
    with clients.stub("bedrock-runtime") as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def sagemaker(clients: Clients, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    monkeypatch.setenv("CLASSIFIER_ENDPOINT_NAME", ENDPOINT)
    monkeypatch.setenv("CLASSIFIER_REQUEST_FORMAT", "hf")
    monkeypatch.setenv("CLASSIFIER_RESPONSE_FORMAT", "auto")
    with clients.stub("sagemaker-runtime") as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def classifier_answers(stubber: Stubber, raw: bytes) -> None:
    stubber.add_response(
        "invoke_endpoint", {"Body": StreamingBody(io.BytesIO(raw), len(raw)), "ContentType": "application/json"}
    )


def upload(clients: Clients, key: str, body: bytes) -> dict[str, Any]:
    put = clients("s3").put_object(Bucket=INPUT, Key=key, Body=body)
    version, etag = put["VersionId"], put["ETag"].strip('"')
    return dump(
        DocumentRef(
            document_id=ids.document_id(INPUT, key, version, etag),
            bucket=INPUT,
            key=key,
            version_id=version,
            etag=etag,
            size=len(body),
        )
    )


def branch_input(clients: Clients) -> dict[str, Any]:
    """The Analyse state's input for each branch, with the prepared text in the artifacts bucket."""
    clients("s3").put_object(Bucket=ARTIFACTS, Key=f"text/{DOCUMENT_ID}.txt", Body=TEXT.encode())
    return {"document": document_ref(), "prepared": prepared_document(ARTIFACTS)}


def raises_named(error: type[Exception], call: Any) -> Exception:
    """Run ``call``; it must raise exactly ``error`` (Lambda reports the class name as errorType)."""
    with pytest.raises(error) as raised:
        call()
    assert type(raised.value).__name__ == error.__name__
    return raised.value


# --- ingest --------------------------------------------------------------------------------------------------------


@pytest.fixture
def intake(clients: Clients, monkeypatch: pytest.MonkeyPatch) -> Clients:
    dynamodb = clients("dynamodb")
    machine = clients("stepfunctions").create_state_machine(
        name="docproc-document-pipeline",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/docproc-pipeline",
    )
    monkeypatch.setenv("RESULTS_TABLE", create_results_table(dynamodb))
    monkeypatch.setenv("LEASE_TABLE", create_lease_table(dynamodb))
    monkeypatch.setenv("STATE_MACHINE_ARN", machine["stateMachineArn"])
    monkeypatch.setenv("INTAKE_QUEUE_URL", clients("sqs").create_queue(QueueName="docproc-intake")["QueueUrl"])
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", clients("sqs").create_queue(QueueName="docproc-dlq")["QueueUrl"])
    monkeypatch.setenv("EVENT_BUS_NAME", "docproc-documents")
    monkeypatch.setenv("MAX_IN_FLIGHT", "20")
    monkeypatch.setenv("INPUT_PREFIX", "incoming/")
    return clients


def test_ingest_reports_only_the_poison_message_as_failed(intake: Clients, lambda_context: Any) -> None:
    # GIVEN a batch with one S3 event and one message nobody can act on
    event = sqs_event(json.dumps(load_event("s3_object_created")), '{"not": "an intake message"}')
    poison = event["Records"][1]["messageId"]

    # WHEN
    response = app("ingest").handler(event, lambda_context)

    # THEN only the poison message goes back to the queue (and on to the DLQ)
    assert response == {"batchItemFailures": [{"itemIdentifier": poison}]}
    executions = intake("stepfunctions").list_executions(stateMachineArn=_machine_arn(intake))["executions"]
    assert len(executions) == 1
    assert executions[0]["name"].endswith("-g1-a1")
    (item,) = intake("dynamodb").scan(TableName="docproc-results")["Items"]
    assert from_item(item)["status"] == "QUEUED"


def test_ingest_counts_new_documents_and_the_leases_in_use(
    intake: Clients, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN one S3 event delivered twice in a batch
    body = json.dumps(load_event("s3_object_created"))
    capsys.readouterr()

    app("ingest").handler(sqs_event(body, body), lambda_context)

    # THEN one document entered, and one lease is held by its execution
    blobs = _emf_blobs(capsys.readouterr().out)
    assert _service_level(blobs, "DocumentsReceived") == [1.0]
    assert _service_level(blobs, "InFlightDocuments") == [1.0]


def test_ingest_of_a_clean_batch_reports_no_failures(intake: Clients, lambda_context: Any) -> None:
    body = json.dumps(load_event("s3_object_created"))
    event = sqs_event(body, body, json.dumps(load_event("s3_test_event")))

    response = app("ingest").handler(event, lambda_context)

    assert response == {"batchItemFailures": []}
    assert len(intake("stepfunctions").list_executions(stateMachineArn=_machine_arn(intake))["executions"]) == 1


def _machine_arn(clients: Clients) -> str:
    return clients("stepfunctions").list_state_machines()["stateMachines"][0]["stateMachineArn"]


# --- prepare -------------------------------------------------------------------------------------------------------


def test_prepare_returns_the_prepared_document(clients: Clients, lambda_context: Any, realdocs: Path) -> None:
    document = upload(clients, "incoming/invoice2data-aws.pdf", (realdocs / "invoice2data-aws.pdf").read_bytes())

    output = app("prepare").handler({"document": document}, lambda_context)

    prepared = PreparedDocument.model_validate(output)
    assert prepared.format == "pdf"
    assert prepared.text.uri == f"s3://{ARTIFACTS}/text/{document['documentId']}.txt"
    assert prepared.source.version_id == document["versionId"]
    assert json.loads(json.dumps(output)) == output  # a JSON state payload, camelCase on the wire
    assert {"source", "format", "mediaType", "text", "durationMs"} <= set(output)


def test_prepare_propagates_a_permanent_error_by_name(clients: Clients, lambda_context: Any) -> None:
    document = document_ref(bucket=INPUT, key="incoming/not-there.pdf", versionId=None)

    raises_named(errors.SourceObjectNotFound, lambda: app("prepare").handler({"document": document}, lambda_context))


# --- extract -------------------------------------------------------------------------------------------------------


def test_extract_returns_a_succeeded_branch(clients: Clients, bedrock: Stubber, lambda_context: Any) -> None:
    bedrock.add_response("converse", converse_response([tool_use(valid_extraction())]))

    output = app("extract").handler(branch_input(clients), lambda_context)

    branch = ExtractionBranch.model_validate(output)
    assert output["status"] == "SUCCEEDED"
    assert branch.result is not None
    assert branch.result.document_class == "invoice"
    assert branch.result.fields is not None
    assert branch.result.fields["invoice_number"].evidence.found is False  # type: ignore[union-attr]
    assert branch.result.unverified_fields  # the stub's quotes are not in this text
    assert branch.result.model_id == MODEL_ID
    assert output["result"]["usage"] == {"inputTokens": 100, "outputTokens": 20, "totalTokens": 120}


def test_a_throttled_model_call_is_counted_by_model(
    clients: Clients, bedrock: Stubber, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    bedrock.add_client_error("converse", "ThrottlingException", http_status_code=429)
    event = branch_input(clients)
    capsys.readouterr()

    raises_named(errors.ModelThrottled, lambda: app("extract").handler(event, lambda_context))

    blobs = _emf_blobs(capsys.readouterr().out)
    assert _metric(blobs, "ModelThrottles", {"model": "bedrock"}) == [1.0]


@pytest.mark.parametrize(
    ("setup", "error"),
    [
        (lambda s: s.add_response("converse", converse_response([{"text": "no tool"}])), errors.ModelOutputInvalid),
        (
            lambda s: s.add_client_error("converse", "ValidationException", http_status_code=400),
            errors.ModelRequestInvalid,
        ),
        (lambda s: s.add_client_error("converse", "ThrottlingException", http_status_code=429), errors.ModelThrottled),
    ],
    ids=["output-invalid", "request-invalid", "throttled"],
)
def test_extract_propagates_errors_by_name(
    clients: Clients, bedrock: Stubber, lambda_context: Any, setup: Any, error: type[Exception]
) -> None:
    setup(bedrock)
    event = branch_input(clients)

    raises_named(error, lambda: app("extract").handler(event, lambda_context))


# --- classify ------------------------------------------------------------------------------------------------------


def test_classify_returns_a_succeeded_branch(clients: Clients, sagemaker: Stubber, lambda_context: Any) -> None:
    classifier_answers(
        sagemaker, json.dumps([{"label": "financial", "score": 0.83}, {"label": "legal", "score": 0.17}]).encode()
    )

    output = app("classify").handler(branch_input(clients), lambda_context)

    branch = ClassificationBranch.model_validate(output)
    assert output["status"] == "SUCCEEDED"
    assert branch.result is not None
    assert branch.result.domain == "financial"
    assert branch.result.confidence == pytest.approx(0.83)
    assert branch.result.endpoint_name == ENDPOINT


def test_classify_propagates_a_permanent_error_by_name(
    clients: Clients, sagemaker: Stubber, lambda_context: Any
) -> None:
    classifier_answers(sagemaker, b"<html>upstream error</html>")
    event = branch_input(clients)

    raises_named(errors.ModelOutputInvalid, lambda: app("classify").handler(event, lambda_context))


def test_branch_handlers_fail_on_a_missing_text_object(clients: Clients, bedrock: Stubber, lambda_context: Any) -> None:
    event = {"document": document_ref(), "prepared": prepared_document(ARTIFACTS)}  # text/ was never written

    raises_named(errors.SourceObjectNotFound, lambda: app("extract").handler(event, lambda_context))


# --- merge ---------------------------------------------------------------------------------------------------------


def test_merge_returns_item_event_and_result_uri(clients: Clients, lambda_context: Any) -> None:
    output = app("merge").handler(merge_input(artifacts_bucket=ARTIFACTS), lambda_context)

    assert set(output) == {"item", "event", "resultUri", "needsReview"}
    assert output["needsReview"] is False
    assert output["item"]["documentId"] == {"S": DOCUMENT_ID}  # typed: PersistResult puts it as is
    assert output["item"]["status"] == {"S": "COMPLETED"}
    assert output["event"]["documentId"] == DOCUMENT_ID
    assert output["resultUri"] == f"s3://{ARTIFACTS}/results/{DOCUMENT_ID}.json"
    clients("s3").head_object(Bucket=ARTIFACTS, Key=f"results/{DOCUMENT_ID}.json")


def _emf_blobs(out: str) -> list[dict[str, Any]]:
    blobs = []
    for line in out.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            blobs.append(json.loads(line))
    return blobs


def _metric(blobs: list[dict[str, Any]], name: str, dimensions: dict[str, str]) -> list[float]:
    """The values of metric ``name`` published with exactly these dimensions (and ``service``), across blobs."""
    wanted = {"service": "docproc", **dimensions}
    values: list[float] = []
    for blob in blobs:
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            names = {m["Name"] for m in directive["Metrics"]}
            for dimension_set in directive["Dimensions"]:
                if (
                    name in names
                    and {k: blob.get(k) for k in dimension_set} == wanted
                    and set(dimension_set) == set(wanted)
                ):
                    values.extend(blob[name] if isinstance(blob[name], list) else [blob[name]])
    return values


def _service_level(blobs: list[dict[str, Any]], name: str) -> list[float]:
    return _metric(blobs, name, {})


def test_merge_emits_cost_time_and_completion_metrics_by_domain_and_class(
    clients: Clients, lambda_context: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a classifier endpoint of 4 GB
    monkeypatch.setenv("CLASSIFIER_MEMORY_MB", "4096")
    capsys.readouterr()
    output = app("merge").handler(merge_input(artifacts_bucket=ARTIFACTS), lambda_context)

    # THEN one EMF blob by domain and class holds EstimatedCost (the record's), ProcessingTime and DocumentsCompleted
    blobs = _emf_blobs(capsys.readouterr().out)
    (blob,) = [b for b in blobs if "domain" in b]
    directive = blob["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "docproc"
    assert {"domain", "class"} <= set(directive["Dimensions"][0])
    assert (blob["domain"], blob["class"]) == ("financial", "invoice")
    names = {m["Name"]: m.get("Unit") for m in directive["Metrics"]}
    assert names["EstimatedCost"] == "None"
    assert names["ProcessingTime"] == "Milliseconds"
    assert names["DocumentsCompleted"] == "Count"
    record = from_item(output["item"])
    assert blob["EstimatedCost"] == [pytest.approx(record["cost"]["totalUsd"])]
    assert blob["ProcessingTime"] == [record["timings"]["totalMs"]]
    # AND completion and time once more with only the service dimension (the failure-rate alarm, p50/p95 latency)
    assert _service_level(blobs, "DocumentsCompleted") == [1.0]
    assert _service_level(blobs, "ProcessingTime") == [record["timings"]["totalMs"]]
    # AND the 4 GB endpoint is priced: 95 ms x $0.00008/s, plus the bytes sent and received at $0.016/GB
    sagemaker = 0.095 * 0.00008 + (1834 + 32 + 512) / 1024**3 * 0.016
    assert record["cost"]["breakdown"]["sagemaker"] == pytest.approx(sagemaker, rel=1e-6)


def test_merge_metric_dimensions_stay_bounded() -> None:
    dimensions = app("merge").metric_dimensions
    assert dimensions({"domain": "financial", "documentClass": "invoice"}) == {
        "domain": "financial",
        "class": "invoice",
    }
    assert dimensions({"domain": "astrology", "documentClass": "horoscope"}) == {"domain": "other", "class": "other"}
    assert dimensions({"domain": None, "documentClass": None}) == {"domain": "none", "class": "none"}


def test_merge_propagates_the_extraction_error_when_both_branches_failed(clients: Clients, lambda_context: Any) -> None:
    event = merge_input(
        extraction=failed_branch("CorruptDocument", "broken xref"),
        classification=failed_branch("ModelOutputInvalid", "non-JSON"),
    )

    raises_named(errors.CorruptDocument, lambda: app("merge").handler(event, lambda_context))


# --- triage --------------------------------------------------------------------------------------------------------


def test_triage_fails_a_permanent_error(clients: Clients, lambda_context: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_ATTEMPTS", "3")

    output = app("triage").handler(triage_input("EncryptedDocument"), lambda_context)

    assert output["action"] == "FAIL"
    assert output["reasonCode"] == "ENCRYPTED_DOCUMENT"
    assert output["deadLetter"] is False
    assert from_item(output["item"])["status"] == "FAILED"
    assert output["event"]["reasonCode"] == "ENCRYPTED_DOCUMENT"


def test_triage_counts_a_failure_in_total_and_by_reason(
    clients: Clients, lambda_context: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MAX_ATTEMPTS", "3")
    capsys.readouterr()

    app("triage").handler(triage_input("EncryptedDocument"), lambda_context)

    blobs = _emf_blobs(capsys.readouterr().out)
    assert _service_level(blobs, "DocumentsFailed") == [1.0]
    assert _metric(blobs, "DocumentsFailed", {"reason": "ENCRYPTED_DOCUMENT"}) == [1.0]


def test_triage_counts_no_failure_for_a_requeue(
    clients: Clients, lambda_context: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MAX_ATTEMPTS", "3")
    capsys.readouterr()

    app("triage").handler(triage_input("ModelThrottled", attempt=1), lambda_context)

    blobs = _emf_blobs(capsys.readouterr().out)
    assert _service_level(blobs, "DocumentsRequeued") == [1.0]
    assert _service_level(blobs, "DocumentsFailed") == []
    assert not [b for b in blobs if "reason" in b]


def test_triage_requeues_a_transient_error(
    clients: Clients, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_ATTEMPTS", "3")
    monkeypatch.setenv("REQUEUE_BASE_DELAY_SECONDS", "10")

    output = app("triage").handler(triage_input("ModelThrottled", attempt=2), lambda_context)

    assert output["action"] == "REQUEUE"
    assert output["nextAttempt"] == "3"
    assert 20 <= output["delaySeconds"] <= 30
    assert json.loads(output["message"])["attempt"] == 3
    assert "item" not in output


# --- the handlers chained as the state machine wires them ----------------------------------------------------------


def test_handlers_chain_as_the_state_machine_wires_them(
    clients: Clients, bedrock: Stubber, sagemaker: Stubber, lambda_context: Any
) -> None:
    # GIVEN an uploaded text document
    document = upload(clients, "incoming/memo.txt", b"Quarterly budget memo.\nTotal spend: 4,110 USD.\n")
    bedrock.add_response("converse", converse_response([tool_use(valid_extraction())]))
    classifier_answers(sagemaker, json.dumps([{"label": "financial", "score": 0.9}]).encode())

    # WHEN each state's Parameters are built from the previous outputs, as in the ASL
    prepared = app("prepare").handler({"document": document}, lambda_context)
    analyse = BranchInput.model_validate({"document": document, "prepared": prepared})
    branches = [
        app("extract").handler(dump(analyse), lambda_context),
        app("classify").handler(dump(analyse), lambda_context),
    ]
    merge_event = {
        "document": document,
        "generation": 1,
        "attempt": 1,
        "queuedAt": "2026-01-15T10:21:08Z",
        "executionName": f"{document['documentId']}-g1-a1",
        "startedAt": "2026-01-15T10:21:09Z",
        "prepared": prepared,
        "extraction": branches[0],
        "classification": branches[1],
    }
    MergeInput.model_validate(merge_event)
    merged = app("merge").handler(merge_event, lambda_context)

    # THEN the record is complete and points at the stored text and result
    record = from_item(merged["item"])
    assert record["documentId"] == document["documentId"]
    assert record["status"] == "COMPLETED"
    assert record["agreement"]["agrees"] is True
    assert record["textUri"] == prepared["text"]["uri"]
    assert merged["event"]["textUri"] == prepared["text"]["uri"]
