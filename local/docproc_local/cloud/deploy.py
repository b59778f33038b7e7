"""Create the CloudFormation stack in moto and read back what it made.

Some properties moto's CloudFormation ignores (listed in :data:`UNAPPLIED_PROPERTIES`) still have to be applied
by an adapter, with their intrinsic functions resolved to the physical ids moto chose. Rather than re-implement
``Ref``/``Fn::GetAtt``/``Fn::Sub``, :class:`IntrinsicResolver` asks moto itself: each expression becomes a hidden
stack output (``LocalCloudResolve<n>``) that moto evaluates with the stack, and is read back after the deploy.
Conditions are asked the same way: a hidden output carrying a resource's ``Condition`` is there after the deploy
only when the condition holds, so the stack knows which conditional resources exist.

Resource types moto's CloudFormation does not model (alarms, topic policies...) are taken out of what moto
deploys, together with whatever refers to them (a dashboard naming the alarms), instead of leaving moto to skip
them with a warning and resolve references to them as garbage; :attr:`DeployedStack.unmodelled` lists them.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient

HIDDEN_OUTPUT_PREFIX = "LocalCloudResolve"
_CONDITION_OUTPUT_PREFIX = f"{HIDDEN_OUTPUT_PREFIX}Condition"
_SUB_NAME = re.compile(r"\$\{([^}!.]+)[^}]*\}")

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
        self._keys: dict[str, str] = {}  # canonical JSON of (condition, expression) -> output key
        self._expressions: dict[str, Any] = {}  # output key -> expression
        self._conditions: dict[str, str] = {}  # output key -> the condition it is evaluated under
        self._probes: dict[str, str] = {}  # condition name -> output key present only when it holds
        self._values: dict[str, str] | None = None
        self._holds: dict[str, bool] = {}

    def capture(self, value: Any, condition: str | None = None) -> Any:
        """Return ``value`` with each intrinsic replaced by a marker; register the intrinsic as an output.

        With ``condition`` (the resource's), the output carries it: moto then evaluates it only when it holds.
        """
        if _is_intrinsic(value):
            canonical = json.dumps([condition, value], sort_keys=True)
            if canonical not in self._keys:
                key = f"{HIDDEN_OUTPUT_PREFIX}{len(self._keys)}"
                self._keys[canonical] = key
                self._expressions[key] = value
                if condition:
                    self._conditions[key] = condition
            return {"__resolve__": self._keys[canonical]}
        if isinstance(value, dict):
            return {k: self.capture(v, condition) for k, v in value.items()}
        if isinstance(value, list):
            return [self.capture(v, condition) for v in value]
        return value

    def probe(self, condition: str) -> None:
        """Ask moto whether ``condition`` holds (see :meth:`holds`)."""
        self._probes.setdefault(condition, f"{_CONDITION_OUTPUT_PREFIX}{len(self._probes)}")

    def add_outputs(self, template: dict[str, Any]) -> None:
        outputs = template.setdefault("Outputs", {})
        for key, expression in self._expressions.items():
            outputs[key] = {
                "Value": expression,
                **({"Condition": self._conditions[key]} if key in self._conditions else {}),
            }
        for condition, key in self._probes.items():
            outputs[key] = {"Value": "true", "Condition": condition}

    def load(self, outputs: dict[str, str]) -> None:
        missing = sorted(k for k in self._expressions if k not in outputs and k not in self._conditions)
        if missing:
            raise LocalCloudError(f"moto did not evaluate the hidden outputs {missing}")
        self._values = {key: outputs[key] for key in self._expressions if key in outputs}
        self._holds = {condition: key in outputs for condition, key in self._probes.items()}

    def holds(self, condition: str) -> bool:
        """Whether a probed condition held in the deployed stack."""
        if self._values is None:
            raise LocalCloudError("holds() before load(): the stack is not deployed yet")
        return self._holds[condition]

    def resolve(self, captured: Any) -> Any:
        """Replace the markers left by :meth:`capture` with the values moto computed."""
        if self._values is None:
            raise LocalCloudError("resolve() before load(): the stack is not deployed yet")
        if isinstance(captured, dict):
            if set(captured) == {"__resolve__"}:
                key = captured["__resolve__"]
                if key not in self._values:
                    raise LocalCloudError(f"{self._expressions[key]} was not evaluated: its condition does not hold")
                return self._values[key]
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
    unmodelled: dict[str, str] = field(default_factory=dict)  # logical id -> why moto was not given it

    def of_type(self, resource_type: str) -> dict[str, str]:
        """Logical id -> physical id of every deployed resource of one type."""
        return {lid: self.physical_ids.get(lid, "") for lid, kind in self.types.items() if kind == resource_type}


def capture_unapplied(template: dict[str, Any], resolver: IntrinsicResolver) -> dict[str, dict[str, Any]]:
    """Collect the properties moto ignores (see :data:`UNAPPLIED_PROPERTIES`), intrinsics captured for resolving."""
    captured: dict[str, dict[str, Any]] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        names = UNAPPLIED_PROPERTIES.get(resource.get("Type", ""), ())
        properties = resource.get("Properties") or {}
        condition = resource.get("Condition")
        present = {name: resolver.capture(properties[name], condition) for name in names if name in properties}
        if present:
            captured[logical_id] = present
    return captured


def references(value: Any) -> set[str]:
    """Logical ids (and parameters) that a template fragment names: Ref, Fn::GetAtt, Fn::Sub, DependsOn."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif key == "Fn::GetAtt":
                found.add(arg[0] if isinstance(arg, list) else str(arg).split(".", 1)[0])
            elif key == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                found |= set(_SUB_NAME.findall(text)) - (set(arg[1]) if isinstance(arg, list) else set())
                found |= references(arg[1:]) if isinstance(arg, list) else set()
            elif key == "DependsOn":
                found |= {arg} if isinstance(arg, str) else set(arg)
            else:
                found |= references(arg)
    return found


def moto_models(resource_type: str) -> bool:
    """Whether moto's CloudFormation creates resources of this type (else it skips them with a warning)."""
    from moto.cloudformation.parsing import NULL_MODELS, get_model_map

    return resource_type.startswith("Custom::") or (
        resource_type in get_model_map() and resource_type not in NULL_MODELS
    )


def split_unmodelled(template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The template without the resources moto does not model and those that refer to them; and why each went.

    Outputs that name a removed resource go too (``verify_outputs`` is told which).
    """
    resources = template.get("Resources", {})
    removed = {lid: "not modelled by moto" for lid, r in resources.items() if not moto_models(r.get("Type", ""))}
    while True:
        more = {
            lid: "refers to " + ", ".join(sorted(refs & set(removed)))
            for lid, resource in resources.items()
            if lid not in removed and (refs := references(resource)) & set(removed)
        }
        if not more:
            break
        removed.update(more)
    kept = dict(template)
    kept["Resources"] = {lid: r for lid, r in resources.items() if lid not in removed}
    outputs = template.get("Outputs", {})
    kept["Outputs"] = {key: o for key, o in outputs.items() if not references(o) & set(removed)}
    removed.update({f"output {key}": "refers to a removed resource" for key in set(outputs) - set(kept["Outputs"])})
    return kept, removed


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
    for resource in template.get("Resources", {}).values():
        if isinstance(resource.get("Condition"), str):
            resolver.probe(resource["Condition"])
    for_moto, unmodelled = split_unmodelled(template)
    resolver.add_outputs(for_moto)

    cfn.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(for_moto),
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
    # Types come from the template (moto lists the resources it skipped without their logical ids), for the
    # resources whose condition holds.
    types = {
        logical_id: resource["Type"]
        for logical_id, resource in template["Resources"].items()
        if not isinstance(resource.get("Condition"), str) or resolver.holds(resource["Condition"])
    }
    return DeployedStack(
        name=stack_name,
        template=template,
        physical_ids={
            r["LogicalResourceId"]: r.get("PhysicalResourceId", "") for r in resources if r["LogicalResourceId"]
        },
        types=types,
        outputs={k: v for k, v in all_outputs.items() if not k.startswith(HIDDEN_OUTPUT_PREFIX)},
        unapplied={lid: resolver.resolve(props) for lid, props in unapplied.items() if lid in types},
        unmodelled={lid: why for lid, why in unmodelled.items() if lid in types or lid.startswith("output ")},
    )


def _failure_reasons(cfn: BaseClient, stack_name: str) -> str:
    events = cfn.describe_stack_events(StackName=stack_name).get("StackEvents", [])
    reasons = [
        f"{event['LogicalResourceId']}: {event['ResourceStatusReason']}"
        for event in events
        if event.get("ResourceStatusReason")
    ]
    return "; ".join(reasons) or "no reason given"


def verify_outputs(declared: dict[str, Any], outputs: dict[str, str], removed: frozenset[str] = frozenset()) -> None:
    """Fail loudly unless every declared output resolved to a real name (a non-empty string, not an object repr).

    ``removed``: outputs left out on purpose because they name a resource moto does not model.
    """
    problems = []
    for key in [k for k in declared if k not in removed]:
        value = outputs.get(key)
        if not isinstance(value, str) or not value:
            problems.append(f"{key} is {value!r}")
        elif "object at 0x" in value or value.startswith("<"):
            problems.append(f"{key} is an object, not a name: {value!r}")
    if problems:
        raise LocalCloudError("stack outputs did not resolve: " + "; ".join(problems))
