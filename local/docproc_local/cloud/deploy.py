"""Create the CloudFormation stack in moto and read back what it made.

Some properties moto's CloudFormation ignores (listed in :data:`UNAPPLIED_PROPERTIES`) still have to be applied
by an adapter, with their intrinsic functions resolved to the physical ids moto chose. Rather than re-implement
``Ref``/``Fn::GetAtt``/``Fn::Sub``, :class:`IntrinsicResolver` asks moto itself: each expression becomes a hidden
stack output (``LocalCloudResolve<n>``) that moto evaluates with the stack, and is read back after the deploy.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient

HIDDEN_OUTPUT_PREFIX = "LocalCloudResolve"

# Properties moto 5.2.5's CloudFormation drops, by resource type; adapters apply them after the deploy.
UNAPPLIED_PROPERTIES: dict[str, tuple[str, ...]] = {
    "AWS::StepFunctions::StateMachine": ("DefinitionSubstitutions",),
    "AWS::S3::Bucket": (
        "NotificationConfiguration",
        "VersioningConfiguration",
        "PublicAccessBlockConfiguration",
        "OwnershipControls",
    ),
    "AWS::S3::BucketPolicy": ("Bucket", "PolicyDocument"),
    "AWS::SQS::QueuePolicy": ("Queues", "PolicyDocument"),
}


class LocalCloudError(RuntimeError):
    """The local stack could not be deployed or does not look like what the template declares."""


def _is_intrinsic(value: Any) -> bool:
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = next(iter(value))
    return key == "Ref" or key.startswith("Fn::")


class IntrinsicResolver:
    """Resolve intrinsic functions through moto by carrying them as hidden stack outputs."""

    def __init__(self) -> None:
        self._keys: dict[str, str] = {}  # canonical JSON of an expression -> output key
        self._expressions: dict[str, Any] = {}  # output key -> expression
        self._values: dict[str, str] | None = None

    def capture(self, value: Any) -> Any:
        """Return ``value`` with each intrinsic replaced by a marker; register the intrinsic as an output."""
        if _is_intrinsic(value):
            canonical = json.dumps(value, sort_keys=True)
            if canonical not in self._keys:
                key = f"{HIDDEN_OUTPUT_PREFIX}{len(self._keys)}"
                self._keys[canonical] = key
                self._expressions[key] = value
            return {"__resolve__": self._keys[canonical]}
        if isinstance(value, dict):
            return {k: self.capture(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.capture(v) for v in value]
        return value

    def add_outputs(self, template: dict[str, Any]) -> None:
        outputs = template.setdefault("Outputs", {})
        for key, expression in self._expressions.items():
            outputs[key] = {"Value": expression}

    def load(self, outputs: dict[str, str]) -> None:
        missing = sorted(set(self._expressions) - set(outputs))
        if missing:
            raise LocalCloudError(f"moto did not evaluate the hidden outputs {missing}")
        self._values = {key: outputs[key] for key in self._expressions}

    def resolve(self, captured: Any) -> Any:
        """Replace the markers left by :meth:`capture` with the values moto computed."""
        if self._values is None:
            raise LocalCloudError("resolve() before load(): the stack is not deployed yet")
        if isinstance(captured, dict):
            if set(captured) == {"__resolve__"}:
                return self._values[captured["__resolve__"]]
            return {k: self.resolve(v) for k, v in captured.items()}
        if isinstance(captured, list):
            return [self.resolve(v) for v in captured]
        return captured


@dataclass
class DeployedStack:
    """What the deploy made: physical ids by logical id, outputs, and the properties moto left to the adapters."""

    name: str
    template: dict[str, Any]
    physical_ids: dict[str, str]
    types: dict[str, str]
    outputs: dict[str, str]
    unapplied: dict[str, dict[str, Any]] = field(default_factory=dict)

    def of_type(self, resource_type: str) -> dict[str, str]:
        """Logical id -> physical id of every deployed resource of one type."""
        return {lid: self.physical_ids.get(lid, "") for lid, kind in self.types.items() if kind == resource_type}


def capture_unapplied(template: dict[str, Any], resolver: IntrinsicResolver) -> dict[str, dict[str, Any]]:
    """Collect the properties moto ignores (see :data:`UNAPPLIED_PROPERTIES`), intrinsics captured for resolving."""
    captured: dict[str, dict[str, Any]] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        names = UNAPPLIED_PROPERTIES.get(resource.get("Type", ""), ())
        properties = resource.get("Properties") or {}
        present = {name: resolver.capture(properties[name]) for name in names if name in properties}
        if present:
            captured[logical_id] = present
    return captured


def deploy_stack(
    cfn: BaseClient,
    stack_name: str,
    template: dict[str, Any],
    parameters: dict[str, str],
    *,
    timeout_seconds: float = 120,
) -> DeployedStack:
    """create_stack in moto, wait for CREATE_COMPLETE (with a deadline), resolve the properties moto ignored."""
    template = json.loads(json.dumps(template))
    resolver = IntrinsicResolver()
    unapplied = capture_unapplied(template, resolver)
    resolver.add_outputs(template)

    cfn.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": str(v)} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    deadline = time.monotonic() + timeout_seconds
    while True:
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
        status = stack["StackStatus"]
        if status == "CREATE_COMPLETE":
            break
        if not status.endswith("IN_PROGRESS"):
            raise LocalCloudError(f"stack {stack_name} ended {status}: {_failure_reasons(cfn, stack_name)}")
        if time.monotonic() > deadline:
            raise LocalCloudError(f"stack {stack_name} still {status} after {timeout_seconds:.0f} s")
        time.sleep(0.05)

    all_outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}
    resolver.load(all_outputs)
    summaries = cfn.get_paginator("list_stack_resources").paginate(StackName=stack_name)
    resources = [r for page in summaries for r in page["StackResourceSummaries"]]
    return DeployedStack(
        name=stack_name,
        template=template,
        # Types come from the template: moto lists the resources it skipped without their logical ids.
        physical_ids={
            r["LogicalResourceId"]: r.get("PhysicalResourceId", "") for r in resources if r["LogicalResourceId"]
        },
        types={logical_id: resource["Type"] for logical_id, resource in template["Resources"].items()},
        outputs={k: v for k, v in all_outputs.items() if not k.startswith(HIDDEN_OUTPUT_PREFIX)},
        unapplied={lid: resolver.resolve(props) for lid, props in unapplied.items()},
    )


def _failure_reasons(cfn: BaseClient, stack_name: str) -> str:
    events = cfn.describe_stack_events(StackName=stack_name).get("StackEvents", [])
    reasons = [
        f"{event['LogicalResourceId']}: {event['ResourceStatusReason']}"
        for event in events
        if event.get("ResourceStatusReason")
    ]
    return "; ".join(reasons) or "no reason given"


def verify_outputs(declared: dict[str, Any], outputs: dict[str, str]) -> None:
    """Fail loudly unless every declared output resolved to a real name (a non-empty string, not an object repr)."""
    problems = []
    for key in declared:
        value = outputs.get(key)
        if not isinstance(value, str) or not value:
            problems.append(f"{key} is {value!r}")
        elif "object at 0x" in value or value.startswith("<"):
            problems.append(f"{key} is an object, not a name: {value!r}")
    if problems:
        raise LocalCloudError("stack outputs did not resolve: " + "; ".join(problems))
