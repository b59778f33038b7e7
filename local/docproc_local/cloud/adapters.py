"""Workarounds for what moto 5.2.5 does differently from AWS, one small function per gap.

Each docstring names the gap; README.md maps every adapter to the test that proves it. Three kinds:

* template adapters run on the translated template before ``create_stack``;
* stack adapters run after the deploy, with the properties moto ignored already resolved (see ``deploy.py``);
* runtime adapters patch moto's behaviour while the local cloud runs (undone on stop).
"""

from __future__ import annotations

import copy
import itertools
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

from botocore.client import BaseClient

from .deploy import UNAPPLIED_PROPERTIES, DeployedStack, LocalCloudError
from .patching import Patches

log = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")


# --- template adapters ----------------------------------------------------------------------------------------------


def name_event_bus_refs(template: dict[str, Any]) -> dict[str, Any]:
    """Gap: ``Ref`` of an ``AWS::Events::EventBus`` returns moto's EventBus object, not the bus name.

    moto then crashes creating a rule on that bus (``'EventBus' object has no attribute 'split'``) and would put an
    object into outputs and substitutions. ``Fn::GetAtt <bus>.Name`` is what ``Ref`` means in AWS, and moto gets
    that one right, so every such ``Ref`` is rewritten to it.
    """
    buses = {lid for lid, r in template.get("Resources", {}).items() if r.get("Type") == "AWS::Events::EventBus"}

    def rewrite(value: Any) -> Any:
        if isinstance(value, dict):
            if len(value) == 1 and value.get("Ref") in buses:
                return {"Fn::GetAtt": [value["Ref"], "Name"]}
            return {k: rewrite(v) for k, v in value.items()}
        if isinstance(value, list):
            return [rewrite(v) for v in value]
        return value

    return rewrite(copy.deepcopy(template))


# --- stack adapters -------------------------------------------------------------------------------------------------


def substitute_definition(definition: str, substitutions: dict[str, str]) -> str:
    """Gap: moto ignores ``DefinitionSubstitutions``; fill each ``${Name}`` as CloudFormation does.

    Raises if a placeholder is left over, so a state machine never runs with a literal ``${...}`` in it.
    """
    for name, value in substitutions.items():
        definition = definition.replace("${" + name + "}", str(value))
    leftovers = sorted(set(_PLACEHOLDER.findall(definition)))
    if leftovers:
        raise LocalCloudError(f"DefinitionSubstitutions leave placeholders unfilled: {', '.join(leftovers)}")
    return definition


def register_state_machines(stack: DeployedStack, sfn: BaseClient, account_id: str, region: str) -> None:
    """Gap: CloudFormation puts state machines in the store of moto's *non-executing* Step Functions backend.

    With ``execute_state_machine`` on, the API reads another store, so the stack's machine is invisible to
    StartExecution. It is re-created through the API, with its substitutions applied, under the same name, which
    gives the same ARN the stack reports.
    """
    from moto.stepfunctions.models import stepfunctions_backends

    cfn_store = stepfunctions_backends[account_id][region]
    for logical_id, arn in stack.of_type("AWS::StepFunctions::StateMachine").items():
        deployed = cfn_store.describe_state_machine(arn)
        properties = stack.template["Resources"][logical_id].get("Properties", {})
        substitutions = stack.unapplied.get(logical_id, {}).get("DefinitionSubstitutions", {})
        tracing = properties.get("TracingConfiguration") or {}
        created = sfn.create_state_machine(
            name=deployed.name,
            definition=substitute_definition(deployed.definition, substitutions),
            roleArn=deployed.roleArn,
            type=properties.get("StateMachineType", "STANDARD"),
            tracingConfiguration={"enabled": bool(tracing.get("Enabled", False))},
        )
        if created["stateMachineArn"] != arn:
            raise LocalCloudError(f"{logical_id}: re-created as {created['stateMachineArn']}, stack says {arn}")


def apply_bucket_properties(stack: DeployedStack, s3: BaseClient) -> None:
    """Gap: moto's ``AWS::S3::Bucket`` applies only encryption and tags.

    Applied here: ``VersioningConfiguration`` (object versions identify documents), ``NotificationConfiguration``
    with ``EventBridgeConfiguration`` (the intake path), ``PublicAccessBlockConfiguration``, ``OwnershipControls``.
    Queue/topic/function notification targets are not supported and fail the start.
    """
    for logical_id, bucket in stack.of_type("AWS::S3::Bucket").items():
        properties = stack.unapplied.get(logical_id, {})
        if "VersioningConfiguration" in properties:
            s3.put_bucket_versioning(
                Bucket=bucket, VersioningConfiguration={"Status": properties["VersioningConfiguration"]["Status"]}
            )
        if "PublicAccessBlockConfiguration" in properties:
            s3.put_public_access_block(
                Bucket=bucket, PublicAccessBlockConfiguration=properties["PublicAccessBlockConfiguration"]
            )
        if "OwnershipControls" in properties:
            s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=properties["OwnershipControls"])
        notification = properties.get("NotificationConfiguration")
        if notification:
            unsupported = sorted(set(notification) - {"EventBridgeConfiguration"})
            if unsupported:
                raise LocalCloudError(f"{logical_id}: NotificationConfiguration {unsupported} not supported locally")
            enabled = notification["EventBridgeConfiguration"].get("EventBridgeEnabled") in (True, "true")
            s3.put_bucket_notification_configuration(
                Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}} if enabled else {}
            )


def skip_bucket_policies(stack: DeployedStack) -> list[str]:
    """Gap: moto skips ``AWS::S3::BucketPolicy``; and it is deliberately *not* applied through the API either.

    moto enforces bucket policies but ignores their conditions, so the template's ``DenyInsecureTransport``
    (deny when ``aws:SecureTransport`` is false) would deny every request, and the local endpoint is plain HTTP
    anyway. Returns the skipped policies so the local cloud can say so (``LocalCloud.ignored``).
    """
    skipped = sorted(stack.of_type("AWS::S3::BucketPolicy"))
    for logical_id in skipped:
        log.warning("%s not applied locally: the local endpoint is plain HTTP and moto ignores conditions", logical_id)
    return [f"{logical_id} (AWS::S3::BucketPolicy)" for logical_id in skipped]


def report_unmodelled(stack: DeployedStack) -> list[str]:
    """Gap: moto's CloudFormation does not model some types (``AWS::CloudWatch::Alarm``, ``AWS::SNS::TopicPolicy``...).

    ``deploy_stack`` left them out of what moto deploys, with what refers to them (the dashboard names the alarms).
    Those the adapters here apply or report themselves (bucket and queue policies) are not repeated.
    """
    handled = set(UNAPPLIED_PROPERTIES)
    ignored = []
    for logical_id, why in sorted(stack.unmodelled.items()):
        if logical_id.startswith("output "):
            ignored.append(logical_id)
            continue
        kind = stack.types[logical_id]
        if kind not in handled:
            log.info("%s (%s) not deployed locally: %s", logical_id, kind, why)
            ignored.append(f"{logical_id} ({kind})")
    return ignored


def apply_queue_policies(stack: DeployedStack, sqs: BaseClient) -> None:
    """Gap: moto skips ``AWS::SQS::QueuePolicy``; set each policy as the queues' ``Policy`` attribute.

    moto stores the policy (GetQueueAttributes shows it) but does not enforce it: any sender may send locally.
    """
    for logical_id in stack.of_type("AWS::SQS::QueuePolicy"):
        properties = stack.unapplied[logical_id]
        for queue_url in properties["Queues"]:
            policy = json.dumps(properties["PolicyDocument"])
            sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": policy})


def stringify_function_environments(stack: DeployedStack, lambda_client: BaseClient) -> None:
    """Gap: moto keeps CloudFormation's types in ``Environment.Variables`` (``MAX_IN_FLIGHT: 20``); AWS stores strings.

    Rewritten to strings through the API, the way CloudFormation serialises them (``true``, ``20``).
    """
    for function_name in stack.of_type("AWS::Lambda::Function").values():
        config = lambda_client.get_function_configuration(FunctionName=function_name)
        variables = config.get("Environment", {}).get("Variables", {})
        if any(not isinstance(v, str) for v in variables.values()):
            lambda_client.update_function_configuration(
                FunctionName=function_name, Environment={"Variables": {k: _cfn_string(v) for k, v in variables.items()}}
            )


def _cfn_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def detach_moto_sqs_triggers(stack: DeployedStack, account_id: str, region: str) -> None:
    """Gap: moto's SQS -> Lambda trigger invokes inside SendMessage, one batch per send, and never reaches the DLQ.

    The mapping stays (ListEventSourceMappings shows it, enabled) but is taken off moto's queue; the local cloud's own
    poller (``event_source.py``) does what Lambda's event source mapping does.
    """
    from moto.sqs.models import sqs_backends

    mapped = set(stack.of_type("AWS::Lambda::EventSourceMapping").values())
    for queue in sqs_backends[account_id][region].queues.values():
        for function_arn, mapping in list(queue.lambda_event_source_mappings.items()):
            if mapping.uuid in mapped:
                del queue.lambda_event_source_mappings[function_arn]


# --- runtime adapters -----------------------------------------------------------------------------------------------

_S3_REASONS = {
    "s3:ObjectCreated:Put": "PutObject",
    "s3:ObjectCreated:Post": "POST Object",
    "s3:ObjectCreated:Copy": "CopyObject",
    "s3:ObjectCreated:CompleteMultipartUpload": "CompleteMultipartUpload",
}


def s3_object_created_event(account_id: str, bucket: Any, event_name: str, key: Any, sequencer: int) -> dict[str, Any]:
    """The "Object Created" event S3 sends to EventBridge, shaped as AWS documents it."""
    detail_object: dict[str, Any] = {
        "key": quote_plus(key.name, safe="/"),
        "size": key.size,
        "etag": key.etag.strip('"'),
        "sequencer": f"{sequencer:018X}",
    }
    if key.version_id and key.version_id != "null":
        detail_object["version-id"] = key.version_id
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": account_id,
        "time": time.time(),  # moto's rule targets format this as ISO 8601 when they deliver
        "region": bucket.region_name,
        "resources": [bucket.arn],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket.name},
            "object": detail_object,
            "request-id": uuid.uuid4().hex[:16].upper(),
            "requester": account_id,
            "source-ip-address": "127.0.0.1",
            "reason": _S3_REASONS.get(event_name, "PutObject"),
        },
    }


def fix_s3_eventbridge_events(patches: Patches, deliveries: Callable[[], int] = lambda: 1) -> None:
    """Gap: moto's S3 -> EventBridge "Object Created" event is not AWS's.

    moto gives every event the same ``id`` (duplicate-event handling would merge all documents), names the field
    ``eTag`` instead of ``etag`` (readers of ``etag`` get nothing), sends the key unencoded, gives ``reason``
    ``ObjectCreated`` instead of ``PutObject``, and delivers to the rules of *every* bus, disabled ones too. Here: a
    fresh id, ``etag``, the key URL-encoded as in S3 notifications, ``version-id`` only for versioned objects, and
    only the enabled rules of the default bus. Other S3 events keep moto's behaviour. ``deliveries()`` > 1 sends each
    event that many times (same id), the at-least-once delivery of S3 and EventBridge made visible.
    """
    from moto.events.models import events_backends
    from moto.s3 import notifications

    original = notifications._send_event_bridge_message
    sequencer = itertools.count(1)

    def send_event_bridge_message(account_id: str, bucket: Any, event_name: str, key: Any) -> None:
        name = str(getattr(event_name, "value", event_name))  # a (str, Enum): str() gives the member's name
        if not name.startswith("s3:ObjectCreated:"):
            original(account_id, bucket, event_name, key)
            return
        event = s3_object_created_event(account_id, bucket, name, key, next(sequencer))
        default_bus = events_backends[account_id][bucket.region_name].event_buses.get("default")
        for _ in range(max(1, deliveries())):
            for rule in list(default_bus.rules.values()) if default_bus else []:
                if rule.state == "ENABLED":  # a disabled rule delivers nothing, as in AWS
                    rule.send_to_targets(copy.deepcopy(event), transform_input=False)

    patches.setattr(notifications, "_send_event_bridge_message", send_event_bridge_message)


def report_bucket_eventbridge_configuration(patches: Patches) -> None:
    """Gap: moto's GetBucketNotificationConfiguration never returns ``EventBridgeConfiguration``, even when set.

    S3 does send the events; only the read-back hides it (so ``aws s3api get-bucket-notification-configuration``
    would show a bucket with no notifications). The element is added to moto's response when it is set.
    """
    from moto.s3.responses import S3Response

    original = S3Response.get_bucket_notification

    def get_bucket_notification(self: Any) -> Any:
        status, headers, body = original(self)
        config = self.backend.get_bucket_notification_configuration(self.bucket_name)
        text = body.decode() if isinstance(body, bytes) else str(body)
        if config is None or config.event_bridge is None or "EventBridgeConfiguration" in text:
            return status, headers, body
        element = "<EventBridgeConfiguration/>"
        if text.rstrip().endswith("/>"):
            text = text.rstrip()[:-2] + f">{element}</NotificationConfiguration>"
        else:
            text = text.replace("</NotificationConfiguration>", f"{element}</NotificationConfiguration>")
        return status, headers, text

    patches.setattr(S3Response, "get_bucket_notification", get_bucket_notification)


ENDED_STATUSES = ("FAILED", "TIMED_OUT", "ABORTED", "SUCCEEDED")


def emit_execution_status_events(patches: Patches) -> None:
    """Gap: moto's Step Functions engine publishes no "Step Functions Execution Status Change" events.

    AWS sends one to the account's default bus when a Standard execution ends; rules on it (the template's
    ``ExecutionEndedRule``) see ``detail.status``, ``detail.name`` and ``detail.input``. Here the engine's
    end-of-execution hook puts the same event on moto's default bus.
    """
    from moto.events.models import events_backends
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    original = BaseExecutionWorkerCommunication.terminated

    def terminated(self: Any) -> None:
        original(self)
        execution = self.execution
        status = str(getattr(execution.exec_status, "value", execution.exec_status))
        if status not in ENDED_STATUSES:
            return

        def millis(when: Any) -> int | None:
            return int(when.timestamp() * 1000) if when else None

        detail = {
            "executionArn": execution.exec_arn,
            "stateMachineArn": execution.state_machine_arn,
            "name": execution.name,
            "status": status,
            "startDate": millis(execution.start_date),
            "stopDate": millis(execution.stop_date),
            "input": json.dumps(execution.input_data),
            "inputDetails": {"included": True},
            "error": execution.error,
            "cause": execution.cause,
        }
        events_backends[execution.account_id][execution.region_name].put_events(
            [
                {
                    "Source": "aws.states",
                    "DetailType": "Step Functions Execution Status Change",
                    "Detail": json.dumps(detail),
                    "Resources": [execution.exec_arn],
                }
            ]
        )

    patches.setattr(BaseExecutionWorkerCommunication, "terminated", terminated)


def install_runtime_adapters(patches: Patches, s3_event_deliveries: Callable[[], int] = lambda: 1) -> None:
    """Every runtime adapter."""
    fix_s3_eventbridge_events(patches, s3_event_deliveries)
    report_bucket_eventbridge_configuration(patches)
    emit_execution_status_events(patches)


def apply_stack_adapters(
    stack: DeployedStack, clients: dict[str, BaseClient], account_id: str, region: str
) -> list[str]:
    """Every stack adapter, in dependency order. Returns what the template declares but runs without locally."""
    ignored = skip_bucket_policies(stack) + report_unmodelled(stack)
    apply_bucket_properties(stack, clients["s3"])
    apply_queue_policies(stack, clients["sqs"])
    stringify_function_environments(stack, clients["lambda"])
    detach_moto_sqs_triggers(stack, account_id, region)
    register_state_machines(stack, clients["stepfunctions"], account_id, region)
    return ignored
