"""The translated template evaluated offline for chosen parameter values (what CloudFormation would make).

The template is translated with aws-sam-translator offline, as the local cloud does; :class:`Resolver` evaluates
the intrinsic functions for one set of parameters and one region. Import as ``from template_eval import ...``.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from docproc_local.cloud.translate import load_template, package, to_cloudformation

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "template.yaml"
ACCOUNT = "123456789012"
NO_VALUE = object()  # what Ref AWS::NoValue evaluates to before it removes its key or item


@cache
def translated() -> dict[str, Any]:
    sam = load_template(TEMPLATE)
    return to_cloudformation(package(sam, TEMPLATE.parent, lambda key, _data: f"s3://artifacts/{key}"), {}, "us-east-1")


class Resolver:
    """Evaluates the intrinsic functions of the translated template for one set of parameters and one region.

    Resource attributes cannot be known offline: ``Ref`` of a resource becomes ``<Ref X>`` and ``Fn::GetAtt``
    becomes ``<X.Attr>``, so a check can still tell which resource a value comes from.
    """

    def __init__(self, template: dict[str, Any], parameters: dict[str, str] | None = None, region: str = "us-east-1"):
        self.template = template
        declared = template["Parameters"]
        unknown = set(parameters or {}) - set(declared)
        assert not unknown, f"not parameters of the template: {unknown}"
        self.values: dict[str, Any] = {name: str(spec.get("Default", "")) for name, spec in declared.items()}
        self.values.update(parameters or {})
        self.values.update(
            {
                "AWS::Region": region,
                "AWS::AccountId": ACCOUNT,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::StackName": "docproc",
            }
        )

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def deployed(self) -> dict[str, dict[str, Any]]:
        """The resources CloudFormation would create with these parameters."""
        return {
            logical_id: resource
            for logical_id, resource in self.template["Resources"].items()
            if "Condition" not in resource or self.condition(resource["Condition"])
        }

    def resolve(self, value: Any) -> Any:
        """``value`` with its intrinsics evaluated; ``AWS::NoValue`` removes the key or list item it stands for."""
        resolved = self._resolve(value)
        return None if resolved is NO_VALUE else resolved

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [r for r in (self._resolve(v) for v in value) if r is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {k: r for k, r in ((k, self._resolve(v)) for k, v in value.items()) if r is not NO_VALUE}
        ((key, arg),) = value.items()
        if key == "Ref":
            if arg == "AWS::NoValue":
                return NO_VALUE
            if arg in self.values:
                return self.values[arg]
            assert arg in self.template["Resources"], f"Ref to an unknown name {arg}"
            return f"<Ref {arg}>"
        if key == "Fn::GetAtt":
            logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            assert logical_id in self.template["Resources"], f"GetAtt of an unknown resource {logical_id}"
            return f"<{logical_id}.{attribute}>"
        if key == "Fn::If":
            name, when_true, when_false = arg
            return self._resolve(when_true if self.condition(name) else when_false)
        if key == "Fn::Equals":
            left, right = self.resolve(arg)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not self.resolve(arg[0])
        if key == "Condition" and isinstance(arg, str):
            return self.condition(arg)
        if key == "Fn::Select":
            index, items = self.resolve(arg)
            return items[int(index)]
        if key == "Fn::Split":
            separator, text = self.resolve(arg)
            return text.split(separator)
        if key == "Fn::Join":
            separator, items = self.resolve(arg)
            return separator.join(items)
        if key == "Fn::FindInMap":
            mapping, top, second = self.resolve(arg)
            return self.template["Mappings"][mapping][top][second]
        if key == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

            def substitute(match: re.Match[str]) -> str:
                name = match.group(1)
                if name in variables:
                    return str(variables[name])
                if "." in name:
                    return self.resolve({"Fn::GetAtt": name.split(".", 1)})
                return str(self.resolve({"Ref": name}))

            return re.sub(r"\$\{([^}!]+)\}", substitute, text)
        if key.startswith("Fn::"):
            raise AssertionError(f"the resolver does not know {key}")
        return {key: self._resolve(arg)}


def statements(resource: dict[str, Any], r: Resolver | None = None) -> list[dict[str, Any]]:
    """The inline policy statements of a role; with ``r``, evaluated (conditional statements that are off dropped)."""
    policies = resource["Properties"]["Policies"]
    if r is not None:
        policies = r.resolve(policies)
    return [s for policy in policies for s in policy["PolicyDocument"]["Statement"]]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
