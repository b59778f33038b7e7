"""The stack deploys the project's scikit-learn classifier when given its model.tar.gz, and otherwise calls the
endpoint the user names.

The template is translated with aws-sam-translator offline (as the local cloud does) and the parts that matter are
evaluated with a small resolver for chosen parameter values, so each check is about what CloudFormation would make.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from template_eval import ACCOUNT, TEMPLATE, Resolver, as_list, statements, translated

MODEL_URI = "s3://my-bucket/classifier/model-abc.tar.gz"
SAGEMAKER_RESOURCES = {
    "ClassifierModelRole": "AWS::IAM::Role",
    "ClassifierModel": "AWS::SageMaker::Model",
    "ClassifierEndpointConfig": "AWS::SageMaker::EndpointConfig",
    "ClassifierEndpoint": "AWS::SageMaker::Endpoint",
}
# Actions that only exist on Resource "*"; every other statement must name its resources.
STAR_ONLY_ACTIONS = {"ecr:GetAuthorizationToken", "cloudwatch:PutMetricData"}


def resolver(region: str = "us-east-1", **parameters: str) -> Resolver:
    return Resolver(translated(), parameters, region)


def with_model(region: str = "us-east-1", **parameters: str) -> Resolver:
    return resolver(region, ClassifierModelDataUri=MODEL_URI, **parameters)


def classify_invoke_resource(r: Resolver) -> Any:
    role = r.deployed()["ClassifyFunctionRole"]
    invoke = [s for s in statements(role, r) if "sagemaker:InvokeEndpoint" in as_list(s["Action"])]
    assert len(invoke) == 1, invoke
    return r.resolve(invoke[0]["Resource"])


def environment(r: Resolver, function: str) -> dict[str, Any]:
    return r.resolve(r.deployed()[function]["Properties"]["Environment"]["Variables"])


# --- without a model: bring your own endpoint ---------------------------------------------------------------------


def test_sagemaker_resources_are_deployed_only_with_a_model_uri() -> None:
    resources = translated()["Resources"]
    sagemaker = {lid: r["Type"] for lid, r in resources.items() if r["Type"].startswith("AWS::SageMaker::")}
    assert sagemaker == {lid: t for lid, t in SAGEMAKER_RESOURCES.items() if t.startswith("AWS::SageMaker::")}
    for logical_id, kind in SAGEMAKER_RESOURCES.items():
        assert resources[logical_id]["Type"] == kind
        assert resources[logical_id].get("Condition") == "DeployClassifier", logical_id
    assert not set(SAGEMAKER_RESOURCES) & set(resolver().deployed())
    assert set(SAGEMAKER_RESOURCES) <= set(with_model().deployed())


def test_without_a_model_uri_the_functions_call_the_named_endpoint() -> None:
    r = resolver(ClassifierEndpointName="team-classifier")
    assert not r.condition("DeployClassifier")
    assert environment(r, "ClassifyFunction")["CLASSIFIER_ENDPOINT_NAME"] == "team-classifier"
    assert environment(r, "MergeFunction")["CLASSIFIER_ENDPOINT_NAME"] == "team-classifier"
    assert classify_invoke_resource(r) == f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/team-classifier"
    outputs = translated()["Outputs"]
    assert r.resolve(outputs["ClassifierEndpointName"]["Value"]) == "team-classifier"
    assert "<" not in r.resolve(outputs["ClassifierModelName"]["Value"])  # names no resource that is not there


def test_with_a_model_uri_the_functions_call_the_stacks_endpoint() -> None:
    r = with_model(ClassifierEndpointName="team-classifier")
    assert r.condition("DeployClassifier")
    assert environment(r, "ClassifyFunction")["CLASSIFIER_ENDPOINT_NAME"] == "<ClassifierEndpoint.EndpointName>"
    assert environment(r, "MergeFunction")["CLASSIFIER_ENDPOINT_NAME"] == "<ClassifierEndpoint.EndpointName>"
    # Ref of AWS::SageMaker::Endpoint is its ARN (as SageMaker spells it: the name lower-cased).
    assert classify_invoke_resource(r) == "<Ref ClassifierEndpoint>"
    outputs = translated()["Outputs"]
    assert r.resolve(outputs["ClassifierEndpointName"]["Value"]) == "<ClassifierEndpoint.EndpointName>"
    assert r.resolve(outputs["ClassifierModelName"]["Value"]) == "<ClassifierModel.ModelName>"


# --- with a model: what SageMaker gets ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "account"),
    [("us-east-1", "683313688378"), ("eu-west-1", "141502667606"), ("ap-southeast-2", "783357654285")],
)
def test_model_runs_the_scikit_learn_image_of_the_region(region: str, account: str) -> None:
    r = with_model(region)
    container = r.resolve(r.deployed()["ClassifierModel"]["Properties"]["PrimaryContainer"])
    assert container["Image"] == f"{account}.dkr.ecr.{region}.amazonaws.com/sagemaker-scikit-learn:1.4-2-py312-cpu-py3"
    assert container["ModelDataUrl"] == MODEL_URI
    assert container["Environment"] == {
        "SAGEMAKER_PROGRAM": "inference.py",
        "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
        "SAGEMAKER_CONTAINER_LOG_LEVEL": "20",
        "SAGEMAKER_REGION": region,
    }
    tagged = with_model(region, ClassifierImageTag="1.2-1-cpu-py3")
    image = tagged.resolve(tagged.deployed()["ClassifierModel"]["Properties"]["PrimaryContainer"]["Image"])
    assert image.endswith("/sagemaker-scikit-learn:1.2-1-cpu-py3")


def test_model_wiring() -> None:
    props = translated()["Resources"]["ClassifierModel"]["Properties"]
    assert props["ExecutionRoleArn"] == {"Fn::GetAtt": ["ClassifierModelRole", "Arn"]}
    assert props["PrimaryContainer"]["ModelDataUrl"] == {"Ref": "ClassifierModelDataUri"}


def test_image_accounts_are_twelve_digit_strings() -> None:
    accounts = translated()["Mappings"]["SklearnImageAccount"]
    assert {"us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1"} <= set(accounts)
    for region, entry in accounts.items():
        assert re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region), region
        assert isinstance(entry["Account"], str) and re.fullmatch(r"\d{12}", entry["Account"]), (region, entry)


def test_endpoint_is_serverless_with_the_sizing_parameters() -> None:
    resources = translated()["Resources"]
    config = resources["ClassifierEndpointConfig"]["Properties"]
    assert config["ProductionVariants"] == [
        {
            "VariantName": "AllTraffic",
            "ModelName": {"Fn::GetAtt": ["ClassifierModel", "ModelName"]},
            "ServerlessConfig": {
                "MemorySizeInMB": {"Ref": "ClassifierServerlessMemoryMB"},
                "MaxConcurrency": {"Ref": "ClassifierServerlessMaxConcurrency"},
            },
        }
    ]
    endpoint = resources["ClassifierEndpoint"]["Properties"]
    assert endpoint == {"EndpointConfigName": {"Fn::GetAtt": ["ClassifierEndpointConfig", "EndpointConfigName"]}}
    # No fixed names: a new artifact URI replaces the model and the config instead of colliding with them.
    assert "ModelName" not in resources["ClassifierModel"]["Properties"]
    assert "EndpointConfigName" not in config


def test_sizing_parameters_stay_within_serverless_limits() -> None:
    parameters = translated()["Parameters"]
    memory = parameters["ClassifierServerlessMemoryMB"]
    assert sorted(int(v) for v in memory["AllowedValues"]) == [1024, 2048, 3072, 4096, 5120, 6144]
    assert int(memory["Default"]) == 2048
    concurrency = parameters["ClassifierServerlessMaxConcurrency"]
    assert (int(concurrency["MinValue"]), int(concurrency["MaxValue"]), int(concurrency["Default"])) == (1, 200, 5)
    assert parameters["ClassifierImageTag"]["Default"] == "1.4-2-py312-cpu-py3"
    assert parameters["ClassifierRequestFormat"]["Default"] == "hf"


# --- the model's role: least privilege ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "object_arn"),
    [
        (MODEL_URI, "arn:aws:s3:::my-bucket/classifier/model-abc.tar.gz"),
        (
            "s3://docproc-artifactsbucket-1a2b.x/classifier/v2/model.tar.gz",
            "arn:aws:s3:::docproc-artifactsbucket-1a2b.x/classifier/v2/model.tar.gz",
        ),
    ],
)
def test_model_role_reads_exactly_the_artifact(uri: str, object_arn: str) -> None:
    r = resolver(ClassifierModelDataUri=uri)
    s3 = [
        s
        for s in statements(r.deployed()["ClassifierModelRole"], r)
        if any(a.startswith("s3:") for a in as_list(s["Action"]))
    ]
    assert len(s3) == 1
    assert as_list(s3[0]["Action"]) == ["s3:GetObject"]
    assert as_list(r.resolve(s3[0]["Resource"])) == [object_arn]


def test_model_role_grants_nothing_broader() -> None:
    r = with_model("eu-west-1")
    role = r.resolve(r.deployed()["ClassifierModelRole"]["Properties"])
    trust = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        }
    ]
    granted: dict[str, list[str]] = {}
    for statement in (s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]):
        assert statement["Effect"] == "Allow"
        actions, resources = as_list(statement["Action"]), as_list(statement["Resource"])
        assert not [a for a in actions if "*" in a], statement
        if "*" in resources:
            assert resources == ["*"] and set(actions) <= STAR_ONLY_ACTIONS, statement
        if "cloudwatch:PutMetricData" in actions:
            assert statement["Condition"] == {"StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/Endpoints"}}
        for action in actions:
            granted.setdefault(action, []).extend(resources)
    repository = "arn:aws:ecr:eu-west-1:141502667606:repository/sagemaker-scikit-learn"
    log_groups = f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/sagemaker/Endpoints/*"
    assert granted == {
        "s3:GetObject": ["arn:aws:s3:::my-bucket/classifier/model-abc.tar.gz"],
        "ecr:BatchGetImage": [repository],
        "ecr:GetDownloadUrlForLayer": [repository],
        "ecr:BatchCheckLayerAvailability": [repository],
        "ecr:GetAuthorizationToken": ["*"],
        "logs:CreateLogGroup": [log_groups],
        "logs:CreateLogStream": [log_groups],
        "logs:PutLogEvents": [log_groups],
        "logs:DescribeLogStreams": [log_groups],
        "cloudwatch:PutMetricData": ["*"],
    }
    assert "ManagedPolicyArns" not in role


# --- parameters and storage ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "allowed"),
    [
        ("", True),
        (MODEL_URI, True),
        ("s3://my.bucket-1/a/b/c/model.tar.gz", True),
        ("https://my-bucket.s3.amazonaws.com/classifier/model-abc.tar.gz", False),
        ("s3://my-bucket/", False),
        ("s3://my-bucket/classifier/model-abc.zip", False),
        ("s3://my-bucket/classifier/model-abc.tar.gz.sig", False),
        ("s3://My_Bucket/classifier/model-abc.tar.gz", False),
        ("s3://my-bucket", False),
    ],
)
def test_model_uri_pattern(uri: str, allowed: bool) -> None:
    # CloudFormation matches AllowedPattern against the whole value.
    pattern = translated()["Parameters"]["ClassifierModelDataUri"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, uri)) is allowed
    assert translated()["Parameters"]["ClassifierModelDataUri"]["Default"] == ""


def test_artifacts_bucket_keeps_classifier_artifacts() -> None:
    """A lifecycle rule that expired classifier/ would delete the model a serverless endpoint scales out from."""
    bucket = translated()["Resources"]["ArtifactsBucket"]["Properties"]
    for rule in bucket.get("LifecycleConfiguration", {}).get("Rules", []):
        if rule.get("Status") == "Disabled":
            continue
        filter_ = rule.get("Filter", {})
        prefix = rule.get("Prefix", filter_.get("Prefix", filter_.get("And", {}).get("Prefix", "")))
        assert prefix and not "classifier/".startswith(prefix), f"lifecycle rule {rule.get('Id')} covers classifier/"
    description = translated()["Outputs"]["ArtifactsBucketName"]["Description"]
    assert "classifier/" in description


def test_cfn_lint_reports_nothing() -> None:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    command = str(cfn_lint) if cfn_lint.exists() else shutil.which("cfn-lint")
    if not command:
        pytest.skip("cfn-lint is not installed (pip install -e '.[dev]' installs it into .venv)")
    result = subprocess.run(
        [command, str(TEMPLATE)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
