"""The local cloud: the real template.yaml deployed into moto, handlers in-process, SQS pollers like Lambda's.

One LocalCloud serves the module (a LocalCloud owns process-wide state: moto, os.environ, patches) and is stopped
when the module ends, so tests elsewhere never see its endpoint. No model stand-ins are started: tests that upload
objects pause the pollers, and the pipeline tests use small functions created through the local Lambda API.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError

from docproc_local.cloud import EnvironmentConflict, InvocationError, LocalCloud, LocalCloudError
from docproc_local.cloud.adapters import name_event_bus_refs, substitute_definition
from docproc_local.cloud.deploy import IntrinsicResolver, references, split_unmodelled, verify_outputs
from docproc_local.cloud.event_source import (
    SqsEventSource,
    SqsEventSourceConfig,
    failed_message_ids,
)
from docproc_local.cloud.lambdas import merge_environments
from docproc_local.cloud.patching import Patches
from docproc_local.cloud.translate import package, to_cloudformation

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
OUTPUT_KEYS = {
    "InputBucketName",
    "ArtifactsBucketName",
    "ResultsTableName",
    "LeaseTableName",
    "CacheTableName",
    "CorrectionsTableName",
    "EventBusName",
    "StateMachineArn",
    "IntakeQueueUrl",
    "DeadLetterQueueUrl",
    "SubscriberQueueUrl",
    "ClassifierEndpointName",
    "ClassifierModelName",
    "AlarmTopicArn",
}
# What moto's CloudFormation does not model, left out of the local deploy (the dashboard names the alarms).
UNMODELLED = [
    "AlarmTopicPolicy (AWS::SNS::TopicPolicy)",
    "Dashboard (AWS::CloudWatch::Dashboard)",
    "DeadLetterQueueAlarm (AWS::CloudWatch::Alarm)",
    "FailureRateAlarm (AWS::CloudWatch::Alarm)",
    "IntakeBacklogAlarm (AWS::CloudWatch::Alarm)",
    "LeaseSaturationAlarm (AWS::CloudWatch::Alarm)",
    "ModelThrottlingAlarm (AWS::CloudWatch::Alarm)",
    "output DashboardName",
]
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
RETRY_SCALE = 0.05
ROLE_ARN = "arn:aws:iam::123456789012:role/local-cloud-test"

pytestmark = pytest.mark.slow


# --- helpers --------------------------------------------------------------------------------------------------------


def wait_for(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def wait_for_execution(cloud: LocalCloud, execution_arn: str, timeout: float = 30) -> dict[str, Any]:
    sfn = cloud.client("stepfunctions")

    def finished() -> dict[str, Any] | None:
        described = sfn.describe_execution(executionArn=execution_arn)
        return described if described["status"] != "RUNNING" else None

    return wait_for(finished, timeout, f"execution {execution_arn}")


def code_zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, source in files.items():
            archive.writestr(name, source)
    return buffer.getvalue()


def create_function(cloud: LocalCloud, name: str, source: str | None, timeout: int = 10) -> str:
    """A function created through the local Lambda API (not part of the stack); returns its ARN."""
    files = {"app.py": source} if source is not None else {"README.txt": "no handler here"}
    response = cloud.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE_ARN,
        Handler="app.handler",
        Code={"ZipFile": code_zip(files)},
        Timeout=timeout,
    )
    return response["FunctionArn"]


def run_state_machine(cloud: LocalCloud, name: str, definition: dict[str, Any], payload: Any) -> dict[str, Any]:
    sfn = cloud.client("stepfunctions")
    arn = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE_ARN)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, name=f"{name}-run", input=json.dumps(payload))
    return wait_for_execution(cloud, execution["executionArn"])


def stack_function(cloud: LocalCloud, logical_id: str) -> str:
    assert cloud.stack is not None
    return cloud.stack.physical_ids[logical_id]


THROTTLED_SOURCE = """
class ModelThrottled(Exception):
    pass


def handler(event, context):
    raise ModelThrottled(f"slow down {event.get('n')}")
"""

SIDE_EFFECT_SOURCE = """
import boto3


def handler(event, context):
    boto3.client("s3").put_object(Bucket=event["bucket"], Key=event["key"], Body=b"done")
    return {"wrote": event["key"]}
"""

CONTEXT_SOURCE = """
def handler(event, context):
    return {
        "name": context.function_name,
        "arn": context.invoked_function_arn,
        "version": context.function_version,
        "memory": context.memory_limit_in_mb,
        "remaining": context.get_remaining_time_in_millis(),
        "request": context.aws_request_id,
        "group": context.log_group_name,
        "stream": context.log_stream_name,
        "event": event,
    }
"""

ECHO_SOURCE = """
def handler(event, context):
    return {**event, "hops": event.get("hops", 0) + 1}
"""


# --- fixtures -------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    local = LocalCloud(
        template=TEMPLATE,
        env_overrides={"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"},
        retry_interval_scale=RETRY_SCALE,
    )
    with local:
        local.client("iam").create_role(
            RoleName=ROLE_ARN.rsplit("/", 1)[-1],
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )
        yield local
    # stopping gave the process its environment back
    assert os.environ.get("AWS_ENDPOINT_URL") != local.endpoint_url


@pytest.fixture
def sqs(cloud: LocalCloud) -> Any:
    return cloud.client("sqs")


@pytest.fixture
def make_queue(sqs: Any) -> Iterator[Callable[..., tuple[str, str]]]:
    created: list[str] = []

    def make(name: str, **attributes: str) -> tuple[str, str]:
        url = sqs.create_queue(QueueName=f"poller-{name}-{len(created)}", Attributes=attributes)["QueueUrl"]
        created.append(url)
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    yield make
    for url in created:
        sqs.delete_queue(QueueUrl=url)


class FakeFunction:
    """Stands in for a Lambda invoke: records every event, answers with ``respond(event)``."""

    def __init__(self, respond: Callable[[dict[str, Any]], Any] = lambda event: None) -> None:
        self.events: list[dict[str, Any]] = []
        self.respond = respond

    def __call__(self, function_arn: str, event: dict[str, Any]) -> Any:
        self.events.append(event)
        return self.respond(event)


def crash(event: dict[str, Any]) -> Any:
    raise InvocationError({"errorType": "Runtime.ExitError", "errorMessage": "injected"})


def visible_and_in_flight(sqs: Any, url: str) -> tuple[int, int]:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return int(attributes[names[0]]), int(attributes[names[1]])


# --- lifecycle (these run first, before the module's LocalCloud exists) ----------------------------------------------


def _process_state() -> dict[str, Any]:
    from moto.awslambda.models import LambdaFunction
    from moto.core.config import default_user_config
    from moto.stepfunctions.parser.asl.utils import json_path

    return {
        "env": dict(os.environ),
        "invoke": LambdaFunction.__dict__["_invoke_lambda"],
        "sfn_config": dict(default_user_config["stepfunctions"]),
        "jsonpath": json_path.parse,
        "threads": {t.name for t in threading.enumerate()},
    }


def test_stop_gives_the_process_back_as_it_was(tmp_path: Path) -> None:
    assert LocalCloud._active is None, "must run before the module's LocalCloud starts"
    before = _process_state()
    with LocalCloud(template=TEMPLATE, stack_name="lifecycle", cache_dir=tmp_path) as local:
        assert os.environ["AWS_ENDPOINT_URL"] == local.endpoint_url
        assert os.environ["MOTO_PORT"] == local.endpoint_url.rsplit(":", 1)[-1]
        assert _process_state()["invoke"] is not before["invoke"]
        assert any(t.name.startswith("sqs-poller-") for t in threading.enumerate())
        endpoint = local.endpoint_url
    after = _process_state()
    assert after["env"] == before["env"]
    assert after["invoke"] is before["invoke"]
    assert after["sfn_config"] == before["sfn_config"]
    assert after["jsonpath"] is before["jsonpath"]
    assert not any(name.startswith("sqs-poller-") for name in after["threads"] - before["threads"])
    with pytest.raises(EndpointConnectionError):
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").list_buckets()


def test_a_failed_start_cleans_up(tmp_path: Path) -> None:
    before = dict(os.environ)
    with pytest.raises(FileNotFoundError):
        LocalCloud(template=tmp_path / "missing.yaml").start()
    assert dict(os.environ) == before
    assert LocalCloud._active is None


def test_the_optional_resources_deploy_locally_too(tmp_path: Path) -> None:
    # GIVEN every optional resource switched on: access logging, an alarm e-mail, a customer-managed key
    parameters = {"AccessLogging": "true", "AlarmEmail": "ops@example.com", "KmsKeyArn": KMS_KEY}
    with LocalCloud(
        template=TEMPLATE, stack_name="variant", parameters=parameters, cache_dir=tmp_path, start_pollers=False
    ) as local:
        # THEN the conditional resources exist (moto keeps no bucket LoggingConfiguration: nothing to check there)
        assert local.stack is not None
        deployed = local.stack.types
        assert deployed["AccessLogsBucket"] == "AWS::S3::Bucket"
        assert deployed["KmsKeyUsePolicy"] == "AWS::IAM::ManagedPolicy"
        assert "AlarmEmailSubscription (AWS::SNS::Subscription)" in local.ignored
        assert "AccessLogsBucketPolicy (AWS::S3::BucketPolicy)" in local.ignored
        local.client("s3").head_bucket(Bucket=local.stack.physical_ids["AccessLogsBucket"])
        policy = local.client("iam").get_policy(PolicyArn=local.stack.physical_ids["KmsKeyUsePolicy"])["Policy"]
        assert policy["AttachmentCount"] == 8  # the seven function roles and the state machine's


# --- the deployed stack ---------------------------------------------------------------------------------------------


def test_outputs_resolve_to_real_names(cloud: LocalCloud) -> None:
    assert set(cloud.outputs) == OUTPUT_KEYS
    assert all(isinstance(value, str) and value for value in cloud.outputs.values())
    assert cloud.outputs["EventBusName"] == "docproc-documents"
    assert cloud.client("events").describe_event_bus(Name=cloud.outputs["EventBusName"])["Name"] == "docproc-documents"
    cloud.client("s3").head_bucket(Bucket=cloud.outputs["InputBucketName"])
    cloud.client("dynamodb").describe_table(TableName=cloud.outputs["ResultsTableName"])
    cloud.client("sqs").get_queue_attributes(QueueUrl=cloud.outputs["DeadLetterQueueUrl"], AttributeNames=["All"])
    assert 0 < cloud.startup_seconds < 60
    print(f"local cloud start-up: {cloud.startup_seconds:.2f} s")


def test_any_boto3_client_in_the_process_reaches_the_local_endpoint(cloud: LocalCloud) -> None:
    # GIVEN a plain client, configured by nothing but the environment the local cloud set
    plain = boto3.client("s3")
    # THEN it talks to the embedded moto server
    assert plain.meta.endpoint_url == cloud.endpoint_url
    assert cloud.outputs["InputBucketName"] in {b["Name"] for b in plain.list_buckets()["Buckets"]}
    assert cloud.client("sqs").meta.endpoint_url == cloud.endpoint_url


def test_input_bucket_is_versioned_private_and_sends_events_to_eventbridge(cloud: LocalCloud) -> None:
    s3 = cloud.client("s3")
    bucket = cloud.outputs["InputBucketName"]
    assert s3.get_bucket_notification_configuration(Bucket=bucket).get("EventBridgeConfiguration") == {}
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True
    rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    artifacts = cloud.outputs["ArtifactsBucketName"]
    assert "EventBridgeConfiguration" not in s3.get_bucket_notification_configuration(Bucket=artifacts)


def test_queue_policies_are_applied_and_bucket_policies_reported_as_ignored(cloud: LocalCloud) -> None:
    # moto would enforce DenyInsecureTransport without its condition and the endpoint is plain HTTP
    assert cloud.ignored == [
        "ArtifactsBucketPolicy (AWS::S3::BucketPolicy)",
        "InputBucketPolicy (AWS::S3::BucketPolicy)",
        *UNMODELLED,
    ]
    # AND no conditional resource whose condition does not hold is taken for deployed
    assert cloud.stack is not None
    assert not {"AccessLogsBucket", "AccessLogsBucketPolicy", "KmsKeyUsePolicy", "AlarmEmailSubscription"} & set(
        cloud.stack.types
    )
    cloud.client("s3").put_object(Bucket=cloud.outputs["ArtifactsBucketName"], Key="http-works", Body=b"x")
    attributes = cloud.client("sqs").get_queue_attributes(
        QueueUrl=cloud.outputs["IntakeQueueUrl"], AttributeNames=["Policy"]
    )["Attributes"]
    statement = json.loads(attributes["Policy"])["Statement"][0]
    assert statement["Sid"] == "OnlyTheIntakeRulesSend"
    sources = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert len(sources) == 2
    assert all(arn.startswith("arn:aws:events:us-east-1:") for arn in sources)


def test_object_upload_arrives_on_the_intake_queue_as_aws_shapes_it(cloud: LocalCloud) -> None:
    s3, sqs = cloud.client("s3"), cloud.client("sqs")
    queue = cloud.outputs["IntakeQueueUrl"]
    cloud.pause_pollers()
    try:
        # WHEN two objects are uploaded, one with a key that needs URL-encoding
        first = s3.put_object(Bucket=cloud.outputs["InputBucketName"], Key="in/a b+c.txt", Body=b"hello")
        s3.put_object(Bucket=cloud.outputs["InputBucketName"], Key="in/second.txt", Body=b"world")

        # THEN two "Object Created" events wait on the intake queue, read here before any poller does
        def both() -> list[dict[str, Any]] | None:
            got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
            both.messages.extend(got)  # type: ignore[attr-defined]
            return both.messages if len(both.messages) >= 2 else None  # type: ignore[attr-defined]

        both.messages = []  # type: ignore[attr-defined]
        messages = wait_for(both, 10, "two intake messages")
        events = sorted((json.loads(m["Body"]) for m in messages), key=lambda e: e["detail"]["object"]["key"])
        for message in messages:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    finally:
        cloud.resume_pollers()
    event = events[0]
    assert event["source"] == "aws.s3"
    assert event["detail-type"] == "Object Created"
    assert event["detail"]["bucket"]["name"] == cloud.outputs["InputBucketName"]
    assert event["detail"]["object"]["key"] == "in/a+b%2Bc.txt"
    assert event["detail"]["object"]["etag"] == hashlib.md5(b"hello").hexdigest()  # noqa: S324 - S3's ETag
    assert event["detail"]["object"]["version-id"] == first["VersionId"]
    assert event["detail"]["reason"] == "PutObject"
    assert events[0]["id"] != events[1]["id"]
    assert events[0]["detail"]["object"]["sequencer"] < events[1]["detail"]["object"]["sequencer"]


def test_duplicate_deliveries_send_the_same_event_more_than_once(cloud: LocalCloud) -> None:
    sqs = cloud.client("sqs")
    queue = cloud.outputs["IntakeQueueUrl"]
    cloud.pause_pollers()
    cloud.set_duplicate_deliveries(2)
    try:
        cloud.client("s3").put_object(Bucket=cloud.outputs["InputBucketName"], Key="in/twice.txt", Body=b"twice")
        received: list[dict[str, Any]] = []

        def two() -> bool:
            received.extend(sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []))
            return len(received) >= 2

        wait_for(two, 10, "two deliveries")
        time.sleep(0.3)
        received.extend(sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []))
        for message in received:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    finally:
        cloud.set_duplicate_deliveries(1)
        cloud.resume_pollers()
    events = [json.loads(m["Body"]) for m in received]
    assert len(events) == 2
    assert events[0]["id"] == events[1]["id"]
    assert events[0]["detail"]["object"]["key"] == "in/twice.txt"


def test_deployed_state_machine_has_every_substitution_filled(cloud: LocalCloud) -> None:
    sfn = cloud.client("stepfunctions")
    arn = cloud.outputs["StateMachineArn"]
    definition = sfn.describe_state_machine(stateMachineArn=arn)["definition"]
    assert "${" not in definition
    states = json.loads(definition)["States"]
    prepare = cloud.client("lambda").get_function(FunctionName=stack_function(cloud, "PrepareFunction"))
    assert states["Prepare"]["Resource"] == prepare["Configuration"]["FunctionArn"]
    assert states["MarkProcessing"]["Parameters"]["TableName"] == cloud.outputs["ResultsTableName"]
    assert states["NotifyProcessed"]["Parameters"]["Entries"][0]["EventBusName"] == cloud.outputs["EventBusName"]
    assert states["Requeue"]["Parameters"]["QueueUrl"] == cloud.outputs["IntakeQueueUrl"]
    assert arn in {m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}


def test_deployed_state_machine_executes(cloud: LocalCloud) -> None:
    # WHEN the stack's own state machine is started through the API (with an input that has no document)
    sfn = cloud.client("stepfunctions")
    arn = cloud.outputs["StateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, name="no-document", input=json.dumps({}))
    described = wait_for_execution(cloud, execution["executionArn"])
    # THEN the engine ran the deployed definition to an end: it entered the first state, whose task failed
    history = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    start_at = json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"])["StartAt"]
    assert entered[0] == start_at
    assert any(e["type"] == "TaskFailed" for e in history)
    assert described["status"] in {"SUCCEEDED", "FAILED"}


def test_local_mode_runs_the_host_python_never_the_arm64_build(cloud: LocalCloud) -> None:
    # The layer deployed locally is the source folder zipped (ContentUri), not sam build's output
    s3 = cloud.client("s3")
    bucket = "docproc-local-artifacts"
    (key,) = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"] if o["Key"].startswith("DomainLayer-")]
    names = zipfile.ZipFile(io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read())).namelist()
    assert "docproc/intake.py" in names
    assert not [n for n in names if n.endswith(".so") or ".dist-info" in n or ".aws-sam" in n]
    # and the handlers import docproc from this environment's source tree
    import docproc

    assert Path(docproc.__file__).resolve().is_relative_to(ROOT / "src")
    assert not [entry for entry in sys.path if ".aws-sam" in entry]


def test_function_environments_are_strings_and_all_in_the_process(cloud: LocalCloud) -> None:
    lambda_client = cloud.client("lambda")
    assert cloud.stack is not None
    for logical_id, name in cloud.stack.of_type("AWS::Lambda::Function").items():
        variables = lambda_client.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
        assert all(isinstance(v, str) for v in variables.values()), logical_id
        for key, value in variables.items():
            if key not in cloud.env_overrides:
                assert os.environ[key] == value, (logical_id, key)
    ingest = lambda_client.get_function_configuration(FunctionName=stack_function(cloud, "IngestFunction"))
    assert ingest["Environment"]["Variables"]["MAX_IN_FLIGHT"] == "20"
    assert os.environ["STATE_MACHINE_ARN"] == cloud.outputs["StateMachineArn"]
    # env_overrides win over the template's values
    assert os.environ["POWERTOOLS_LOG_LEVEL"] == "WARNING"


def test_moto_sqs_trigger_is_replaced_by_the_poller(cloud: LocalCloud) -> None:
    from moto.sqs.models import sqs_backends

    mappings = cloud.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    intake_arn = cloud.client("sqs").get_queue_attributes(
        QueueUrl=cloud.outputs["IntakeQueueUrl"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    mapping = next(m for m in mappings if m["EventSourceArn"] == intake_arn)
    assert mapping["State"] == "Enabled"
    queue = sqs_backends[cloud.account_id][cloud.region].queues[intake_arn.rsplit(":", 1)[-1]]
    assert queue.lambda_event_source_mappings == {}
    (source,) = cloud.event_sources
    assert source.config.batch_size == 10
    assert source.config.report_batch_item_failures is True
    assert source.config.max_concurrency == 5  # IngestMaximumConcurrency
    assert source.config.batching_window_seconds == 1


# --- the in-process Lambda runtime ----------------------------------------------------------------------------------


def test_handler_errors_come_back_in_lambdas_error_shape(cloud: LocalCloud) -> None:
    arn = create_function(cloud, "throttled-shape", THROTTLED_SOURCE)
    response = cloud.client("lambda").invoke(FunctionName=arn, Payload=json.dumps({"n": 1}).encode())
    payload = json.loads(response["Payload"].read())
    assert response["FunctionError"]
    assert payload["errorType"] == "ModelThrottled"
    assert payload["errorMessage"] == "slow down 1"
    assert any("raise ModelThrottled" in frame for frame in payload["stackTrace"])


def test_retry_and_catch_match_the_exception_class_name(cloud: LocalCloud) -> None:
    arn = create_function(cloud, "throttled-sfn", THROTTLED_SOURCE)
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": arn,
                "Retry": [{"ErrorEquals": ["ModelThrottled"], "IntervalSeconds": 1, "MaxAttempts": 2}],
                "Catch": [
                    {"ErrorEquals": ["SomethingElse"], "Next": "WrongCatcher"},
                    {"ErrorEquals": ["ModelThrottled"], "ResultPath": "$.error", "Next": "Caught"},
                ],
                "End": True,
            },
            "WrongCatcher": {"Type": "Fail", "Error": "WrongCatcher"},
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    described = run_state_machine(cloud, "error-equals", definition, {"n": 7})
    assert described["status"] == "SUCCEEDED", described
    error = json.loads(described["output"])["error"]
    assert error["Error"] == "ModelThrottled"
    assert json.loads(error["Cause"])["errorMessage"] == "slow down 7"
    assert cloud.lambda_stats()["throttled-sfn"] == {"invocations": 3, "errors": 3, "crashes": 0, "timeouts": 0}


def test_retry_intervals_are_scaled(cloud: LocalCloud) -> None:
    arn = create_function(cloud, "throttled-scaled", THROTTLED_SOURCE)
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": arn,
                "Retry": [{"ErrorEquals": ["ModelThrottled"], "IntervalSeconds": 10, "MaxAttempts": 1}],
                "End": True,
            }
        },
    }
    started = time.monotonic()
    described = run_state_machine(cloud, "scaled-retry", definition, {})
    assert described["status"] == "FAILED"
    assert described["error"] == "ModelThrottled"
    assert time.monotonic() - started < 10 * RETRY_SCALE + 5
    assert cloud.lambda_stats()["throttled-scaled"]["invocations"] == 2


def test_a_stack_function_given_a_bad_payload_reports_its_exception(cloud: LocalCloud) -> None:
    response = cloud.client("lambda").invoke(
        FunctionName=stack_function(cloud, "TriageFunction"), Payload=json.dumps({"nonsense": True}).encode()
    )
    payload = json.loads(response["Payload"].read())
    assert response["FunctionError"]
    assert set(payload) == {"errorType", "errorMessage", "stackTrace"}
    assert payload["errorType"].isidentifier(), payload  # an exception class name, not a Runtime.* failure
    assert payload["stackTrace"]


def test_handler_receives_a_lambda_context(cloud: LocalCloud) -> None:
    arn = create_function(cloud, "context-probe", CONTEXT_SOURCE, timeout=7)
    result = cloud.invoke(arn, {"hello": "world"})
    assert result["name"] == "context-probe"
    assert result["arn"] == arn
    assert result["version"] == "$LATEST"
    assert result["memory"] == 128
    assert 6000 < result["remaining"] <= 7000
    assert len(result["request"]) == 36
    assert result["group"] == "/aws/lambda/context-probe"
    assert "[$LATEST]" in result["stream"]
    assert result["event"] == {"hello": "world"}


def test_handler_import_failures_name_the_function(cloud: LocalCloud) -> None:
    missing = create_function(cloud, "no-handler-file", None)
    with pytest.raises(InvocationError) as no_file:
        cloud.invoke(missing, {})
    assert no_file.value.payload["errorType"] == "Runtime.ImportModuleError"
    assert "no-handler-file" in no_file.value.payload["errorMessage"]
    assert "app.py is not in the deployed code" in no_file.value.payload["errorMessage"]

    broken = create_function(cloud, "broken-import", "import module_that_does_not_exist\n")
    with pytest.raises(InvocationError) as bad_import:
        cloud.invoke(broken, {})
    message = bad_import.value.payload["errorMessage"]
    assert bad_import.value.payload["errorType"] == "Runtime.ImportModuleError"
    assert "broken-import" in message
    assert "module_that_does_not_exist" in message


def test_handler_overrunning_its_timeout_is_reported_as_timed_out(cloud: LocalCloud) -> None:
    source = "import time\n\n\ndef handler(event, context):\n    time.sleep(1.2)\n"
    arn = create_function(cloud, "slow", source, timeout=1)
    with pytest.raises(InvocationError) as timed_out:
        cloud.invoke(arn, {})
    assert timed_out.value.payload["errorType"] == "Sandbox.Timedout"
    assert cloud.lambda_stats()["slow"]["timeouts"] == 1


def test_injected_crash_keeps_side_effects_and_reports_exit_error(cloud: LocalCloud) -> None:
    arn = create_function(cloud, "side-effect", SIDE_EFFECT_SOURCE)
    bucket = cloud.outputs["ArtifactsBucketName"]
    cloud.set_crash_rate("side-effect", 1.0)
    try:
        with pytest.raises(InvocationError) as crashed:
            cloud.invoke(arn, {"bucket": bucket, "key": "crash-test/1"})
    finally:
        cloud.set_crash_rate("side-effect", 0.0)
    assert crashed.value.payload["errorType"] == "Runtime.ExitError"
    assert "injected crash" in crashed.value.payload["errorMessage"]
    # the handler did run: its write is there, only its answer was lost
    assert cloud.client("s3").get_object(Bucket=bucket, Key="crash-test/1")["Body"].read() == b"done"
    assert cloud.invoke(arn, {"bucket": bucket, "key": "crash-test/2"}) == {"wrote": "crash-test/2"}
    assert cloud.lambda_stats()["side-effect"] == {"invocations": 2, "errors": 1, "crashes": 1, "timeouts": 0}


def test_seeded_crash_rate_is_reproducible(cloud: LocalCloud) -> None:
    arn = create_function(cloud, "coin", ECHO_SOURCE)

    def outcomes() -> list[bool]:
        cloud.set_crash_rate("coin", 0.5, seed=42)
        results = []
        for _ in range(12):
            try:
                cloud.invoke(arn, {})
                results.append(True)
            except InvocationError:
                results.append(False)
        cloud.set_crash_rate("coin", 0.0)
        return results

    first = outcomes()
    assert first == outcomes()
    assert 0 < first.count(False) < len(first)


def test_crashing_ingest_leaves_the_batch_on_the_queue(cloud: LocalCloud) -> None:
    sqs = cloud.client("sqs")
    queue = cloud.outputs["IntakeQueueUrl"]
    before = cloud.lambda_stats().get("IngestFunction", {}).get("crashes", 0)
    cloud.set_crash_rate("IngestFunction", 1.0)
    try:
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"not": "an S3 event"}))
        wait_for(lambda: cloud.lambda_stats().get("IngestFunction", {}).get("crashes", 0) > before, 15, "a crash")
        cloud.pause_pollers()
        # the crashed batch was not deleted: it is in flight until its visibility timeout ends
        assert visible_and_in_flight(sqs, queue)[1] >= 1
    finally:
        cloud.set_crash_rate("IngestFunction", 0.0)
        sqs.purge_queue(QueueUrl=queue)
        cloud.resume_pollers()


def test_one_local_cloud_per_process(cloud: LocalCloud) -> None:
    with pytest.raises(LocalCloudError, match="another LocalCloud"):
        LocalCloud(template=TEMPLATE).start()
    assert cloud.client("sts").get_caller_identity()["Account"] == cloud.account_id


def test_execution_time_of_a_six_task_machine(cloud: LocalCloud) -> None:
    arn = create_function(cloud, "echo", ECHO_SOURCE)
    names = [f"Hop{i}" for i in range(6)]
    states = {
        name: {"Type": "Task", "Resource": arn, **({"Next": names[i + 1]} if i + 1 < len(names) else {"End": True})}
        for i, name in enumerate(names)
    }
    sfn = cloud.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="six-hops", definition=json.dumps({"StartAt": names[0], "States": states}), roleArn=ROLE_ARN
    )["stateMachineArn"]
    timings = []
    for run in range(4):
        started = time.monotonic()
        execution = sfn.start_execution(stateMachineArn=machine, name=f"hop-{run}", input="{}")
        described = wait_for_execution(cloud, execution["executionArn"])
        timings.append(time.monotonic() - started)
        assert described["status"] == "SUCCEEDED"
        assert json.loads(described["output"]) == {"hops": 6}
    warm = min(timings[1:])
    print(f"six-task execution: first {timings[0]:.3f} s, warm {warm:.3f} s")
    assert warm < 1.0


# --- the SQS poller (against moto's SQS, with a fake function) ------------------------------------------------------


def make_source(
    sqs: Any, url: str, arn: str, invoke: FakeFunction, *, report: bool = False, window: float = 0.0, workers: int = 2
) -> SqsEventSource:
    config = SqsEventSourceConfig(
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:fake",
        queue_arn=arn,
        queue_url=url,
        batch_size=10,
        batching_window_seconds=window,
        report_batch_item_failures=report,
        max_concurrency=workers,
    )
    return SqsEventSource(config, sqs, invoke, "us-east-1")


def test_poller_builds_the_sqs_event_and_deletes_a_successful_batch(sqs: Any, make_queue: Any) -> None:
    url, arn = make_queue("ok")
    sqs.send_message(
        QueueUrl=url, MessageBody="one", MessageAttributes={"kind": {"DataType": "String", "StringValue": "s3"}}
    )
    sqs.send_message(QueueUrl=url, MessageBody="two")
    function = FakeFunction()
    assert make_source(sqs, url, arn, function).poll_once() == 2
    (event,) = function.events
    records = {r["body"]: r for r in event["Records"]}
    one = records["one"]
    assert one["eventSource"] == "aws:sqs"
    assert one["eventSourceARN"] == arn
    assert one["awsRegion"] == "us-east-1"
    assert one["md5OfBody"] == hashlib.md5(b"one").hexdigest()  # noqa: S324 - SQS's checksum
    assert one["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "ApproximateFirstReceiveTimestamp"} <= set(one["attributes"])
    assert one["messageAttributes"]["kind"] == {
        "stringValue": "s3",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert one["messageId"]
    assert one["receiptHandle"]
    assert visible_and_in_flight(sqs, url) == (0, 0)


def test_poller_keeps_only_reported_item_failures(sqs: Any, make_queue: Any) -> None:
    url, arn = make_queue("partial", VisibilityTimeout="1")
    for body in ("keep", "drop-1", "drop-2"):
        sqs.send_message(QueueUrl=url, MessageBody=body)

    def fail_keep(event: dict[str, Any]) -> dict[str, Any]:
        ids = [r["messageId"] for r in event["Records"] if r["body"] == "keep"]
        return {"batchItemFailures": [{"itemIdentifier": i} for i in ids]}

    assert make_source(sqs, url, arn, FakeFunction(fail_keep), report=True).poll_once() == 3
    again = wait_for(
        lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MessageSystemAttributeNames=["All"]).get(
            "Messages"
        ),
        10,
        "the failed message to come back",
    )
    assert [m["Body"] for m in again] == ["keep"]
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2"


def test_poller_keeps_the_whole_batch_when_the_function_fails(sqs: Any, make_queue: Any) -> None:
    url, arn = make_queue("crash", VisibilityTimeout="1")
    for body in ("a", "b"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    source = make_source(sqs, url, arn, FakeFunction(crash), report=True)
    assert source.poll_once() == 2
    assert source.stats["invoke_errors"] == 1
    assert visible_and_in_flight(sqs, url) == (0, 2)
    wait_for(lambda: visible_and_in_flight(sqs, url) == (2, 0), 10, "both messages to be visible again")


def test_batch_item_failures_naming_unknown_messages_fail_the_whole_batch() -> None:
    ids = ["m1", "m2"]
    assert failed_message_ids(None, ids) == set()
    assert failed_message_ids({"batchItemFailures": []}, ids) == set()
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "m2"}]}, ids) == {"m2"}
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "other"}]}, ids) == {"m1", "m2"}
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": ""}]}, ids) == {"m1", "m2"}


def test_poison_message_ends_in_the_dlq_after_max_receive_count(sqs: Any, make_queue: Any) -> None:
    dlq_url, dlq_arn = make_queue("dlq")
    url, arn = make_queue(
        "redrive",
        VisibilityTimeout="1",
        RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}),
    )
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    function = FakeFunction(crash)
    source = make_source(sqs, url, arn, function)
    source.start()
    try:
        moved = wait_for(
            lambda: sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1).get("Messages"), 20, "the DLQ"
        )
    finally:
        source.stop()
    assert [m["Body"] for m in moved] == ["poison"]
    assert len(function.events) == 2
    assert visible_and_in_flight(sqs, url) == (0, 0)


def test_poller_batching_window_gathers_messages_sent_apart(sqs: Any, make_queue: Any) -> None:
    url, arn = make_queue("window")
    function = FakeFunction()
    source = make_source(sqs, url, arn, function, window=1.5)
    sqs.send_message(QueueUrl=url, MessageBody="early")
    later = threading.Timer(0.4, lambda: sqs.send_message(QueueUrl=url, MessageBody="late"))
    later.start()
    try:
        assert source.poll_once() == 2
    finally:
        later.join()
    assert sorted(r["body"] for r in function.events[0]["Records"]) == ["early", "late"]


def test_pollers_pause_resume_and_stop_promptly(sqs: Any, make_queue: Any) -> None:
    url, arn = make_queue("lifecycle")
    function = FakeFunction()
    source = make_source(sqs, url, arn, function, workers=3)
    source.start()
    try:
        source.pause()
        sqs.send_message(QueueUrl=url, MessageBody="while paused")
        time.sleep(1.5)
        assert function.events == []
        source.resume()
        wait_for(lambda: function.events, 10, "the message after resume")
    finally:
        started = time.monotonic()
        source.stop()
    assert time.monotonic() - started < 5
    assert visible_and_in_flight(sqs, url) == (0, 0)


# --- pure pieces ----------------------------------------------------------------------------------------------------


def test_packaging_reads_paths_from_the_template_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    (project / "fn").mkdir(parents=True)
    (project / "fn" / "app.py").write_text("def handler(event, context):\n    return event\n")
    (project / "fn" / "__pycache__").mkdir()
    (project / "fn" / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"stale")
    (project / "machine.asl.json").write_text(
        json.dumps({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "${Fn}", "End": True}}})
    )
    template = {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"CodeUri": "fn/", "Handler": "app.handler", "Runtime": "python3.11"},
            },
            "Gone": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"CodeUri": "gone/", "Handler": "app.handler", "Runtime": "python3.11"},
            },
            "Machine": {
                "Type": "AWS::Serverless::StateMachine",
                "Properties": {
                    "DefinitionUri": "machine.asl.json",
                    "DefinitionSubstitutions": {"Fn": {"Fn::GetAtt": ["Fn", "Arn"]}},
                },
            },
        },
    }
    stored: dict[str, bytes] = {}

    def put(key: str, data: bytes) -> str:
        stored[key] = data
        return f"s3://artifacts/{key}"

    monkeypatch.chdir(tmp_path)  # paths must not depend on the current directory
    packaged = package(template, project, put)
    code_uri = packaged["Resources"]["Fn"]["Properties"]["CodeUri"]
    assert code_uri.startswith("s3://artifacts/Fn-")
    with zipfile.ZipFile(io.BytesIO(stored[code_uri.rsplit("/", 1)[-1]])) as archive:
        assert archive.namelist() == ["app.py"]
    gone_uri = packaged["Resources"]["Gone"]["Properties"]["CodeUri"]
    with zipfile.ZipFile(io.BytesIO(stored[gone_uri.rsplit("/", 1)[-1]])) as archive:
        assert archive.namelist() == []
    machine = packaged["Resources"]["Machine"]["Properties"]
    assert machine["Definition"]["States"]["A"]["Resource"] == "${Fn}"
    assert "DefinitionUri" not in machine
    assert package(template, project, put) == packaged  # same files, same zip, same key
    cfn = to_cloudformation(packaged, {}, "us-east-1")
    assert cfn["Resources"]["Fn"]["Properties"]["Code"] == {
        "S3Bucket": "artifacts",
        "S3Key": code_uri.rsplit("/", 1)[-1],
    }
    assert cfn["Resources"]["Machine"]["Properties"]["DefinitionSubstitutions"] == {"Fn": {"Fn::GetAtt": ["Fn", "Arn"]}}


def test_environment_union_rejects_conflicting_values() -> None:
    merged = merge_environments({"A": {"X": "1", "Y": "2"}, "B": {"X": "1", "Z": "3"}})
    assert merged == {"X": "1", "Y": "2", "Z": "3"}
    with pytest.raises(EnvironmentConflict, match=r"MODE: AFunction sets 'fast' but BFunction sets 'slow'"):
        merge_environments({"AFunction": {"MODE": "fast"}, "BFunction": {"MODE": "slow"}})


def test_event_bus_refs_become_name_lookups() -> None:
    template = {
        "Resources": {
            "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "b"}},
            "Queue": {"Type": "AWS::SQS::Queue"},
            "Rule": {"Type": "AWS::Events::Rule", "Properties": {"EventBusName": {"Ref": "Bus"}}},
        },
        "Outputs": {"BusName": {"Value": {"Ref": "Bus"}}, "QueueUrl": {"Value": {"Ref": "Queue"}}},
    }
    rewritten = name_event_bus_refs(template)
    assert rewritten["Resources"]["Rule"]["Properties"]["EventBusName"] == {"Fn::GetAtt": ["Bus", "Name"]}
    assert rewritten["Outputs"]["BusName"]["Value"] == {"Fn::GetAtt": ["Bus", "Name"]}
    assert rewritten["Outputs"]["QueueUrl"]["Value"] == {"Ref": "Queue"}
    assert template["Outputs"]["BusName"]["Value"] == {"Ref": "Bus"}  # the input is not changed


def test_definition_substitution_fails_on_unfilled_placeholders() -> None:
    assert substitute_definition('{"R": "${Fn}"}', {"Fn": "arn:x"}) == '{"R": "arn:x"}'
    with pytest.raises(LocalCloudError, match=r"\$\{Missing\}"):
        substitute_definition('{"R": "${Fn}", "T": "${Missing}"}', {"Fn": "arn:x"})


def test_intrinsic_resolver_round_trips_through_outputs() -> None:
    resolver = IntrinsicResolver()
    captured = resolver.capture({"Queues": [{"Ref": "Q"}], "Doc": {"Resource": {"Fn::GetAtt": ["Q", "Arn"]}, "n": 1}})
    again = resolver.capture({"Ref": "Q"})
    template: dict[str, Any] = {}
    resolver.add_outputs(template)
    assert len(template["Outputs"]) == 2
    keys = {json.dumps(o["Value"], sort_keys=True): k for k, o in template["Outputs"].items()}
    resolver.load({keys['{"Ref": "Q"}']: "https://q", keys['{"Fn::GetAtt": ["Q", "Arn"]}']: "arn:q"})
    assert resolver.resolve(captured) == {"Queues": ["https://q"], "Doc": {"Resource": "arn:q", "n": 1}}
    assert resolver.resolve(again) == "https://q"


def test_intrinsic_resolver_evaluates_conditional_expressions_only_when_they_hold() -> None:
    resolver = IntrinsicResolver()
    always = resolver.capture({"Ref": "Q"})
    sometimes = resolver.capture({"Ref": "Q"}, condition="Off")
    resolver.probe("Off")
    resolver.probe("On")
    template: dict[str, Any] = {}
    resolver.add_outputs(template)
    conditional = {k: o["Condition"] for k, o in template["Outputs"].items() if "Condition" in o}
    assert sorted(conditional.values()) == ["Off", "Off", "On"]
    # moto leaves out the outputs whose condition is false
    unconditional = [k for k, o in template["Outputs"].items() if "Condition" not in o]
    probe_on = next(k for k, c in conditional.items() if c == "On" and template["Outputs"][k]["Value"] == "true")
    resolver.load({unconditional[0]: "https://q", probe_on: "true"})
    assert resolver.resolve(always) == "https://q"
    assert resolver.holds("On") is True
    assert resolver.holds("Off") is False
    with pytest.raises(LocalCloudError, match="condition does not hold"):
        resolver.resolve(sometimes)


def test_unmodelled_resources_and_what_refers_to_them_are_left_out() -> None:
    template = {
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue"},
            "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Dimensions": [{"Value": {"Ref": "Queue"}}]}},
            "Board": {
                "Type": "AWS::CloudWatch::Dashboard",
                "Properties": {"DashboardBody": {"Fn::Sub": "${Alarm.Arn}"}},
            },
            "Later": {"Type": "AWS::SQS::Queue", "DependsOn": ["Board"]},
        },
        "Outputs": {"QueueUrl": {"Value": {"Ref": "Queue"}}, "Board": {"Value": {"Ref": "Board"}}},
    }

    kept, removed = split_unmodelled(template)

    assert set(kept["Resources"]) == {"Queue"}
    assert set(kept["Outputs"]) == {"QueueUrl"}
    assert removed == {
        "Alarm": "not modelled by moto",
        "Board": "refers to Alarm",
        "Later": "refers to Board",
        "output Board": "refers to a removed resource",
    }
    assert references({"Fn::Sub": ["${A}-${B.Arn}-${AWS::Region}-${x}", {"x": {"Ref": "C"}}]}) == {
        "A",
        "B",
        "AWS::Region",
        "C",
    }


def test_outputs_that_are_objects_fail_loudly() -> None:
    verify_outputs({"Bus": {}}, {"Bus": "docproc-documents"})
    with pytest.raises(LocalCloudError, match="Bus is an object"):
        verify_outputs({"Bus": {}}, {"Bus": "<moto.events.models.EventBus object at 0x7f>"})
    with pytest.raises(LocalCloudError, match="Missing is None"):
        verify_outputs({"Missing": {}}, {})


def test_patches_are_undone_in_reverse_order() -> None:
    class Target:
        kept = "original"

    registry = {"present": 1}
    calls: list[str] = []
    patches = Patches()
    patches.setattr(Target, "kept", "patched")
    patches.setattr(Target, "added", "new")
    patches.setitem(registry, "present", 2)
    patches.setitem(registry, "absent", 3)
    patches.on_undo(lambda: calls.append("undone"))
    assert (Target.kept, registry) == ("patched", {"present": 2, "absent": 3})
    patches.undo()
    assert Target.kept == "original"
    assert not hasattr(Target, "added")
    assert registry == {"present": 1}
    assert calls == ["undone"]


def test_engine_parses_are_cached(cloud: LocalCloud) -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.utils import json_path

    definition = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    assert AmazonStateLanguageParser.parse(definition) is AmazonStateLanguageParser.parse(definition)
    assert json_path.parse("$.document") is json_path.parse("$.document")
