"""The template's platform: runtime and architecture, logs, encryption options, alarms and the dashboard, IAM scope.

Each check evaluates the translated template for chosen parameters (``template_eval``), so it is about what
CloudFormation would create, and each conditional resource is checked both switched on and off.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from template_eval import ACCOUNT, REPO, Resolver, as_list, statements, translated

KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
FUNCTIONS = {
    "IngestFunction": "ingest",
    "PrepareFunction": "prepare",
    "OcrFunction": "ocr",
    "ExtractFunction": "extract",
    "ClassifyFunction": "classify",
    "MergeFunction": "merge",
    "TriageFunction": "triage",
}
ALARMS = {
    "DeadLetterQueueAlarm",
    "FailureRateAlarm",
    "ModelThrottlingAlarm",
    "IntakeBacklogAlarm",
    "LeaseSaturationAlarm",
}
# Actions that have no resource-level permissions: the only ones allowed on Resource "*".
STAR_ONLY_ACTIONS = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "textract:DetectDocumentText",
    "textract:StartDocumentTextDetection",
    "textract:GetDocumentTextDetection",
    "ecr:GetAuthorizationToken",
    "cloudwatch:PutMetricData",
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}


def r(**parameters: str) -> Resolver:
    return Resolver(translated(), parameters)


def props(resolver: Resolver, logical_id: str) -> dict[str, Any]:
    return resolver.resolve(resolver.deployed()[logical_id].get("Properties", {}))


# --- runtime and build ----------------------------------------------------------------------------------------------


def test_every_function_runs_python313_on_arm64() -> None:
    functions = {lid: res for lid, res in translated()["Resources"].items() if res["Type"] == "AWS::Lambda::Function"}
    assert set(functions) == set(FUNCTIONS)
    for logical_id, function in functions.items():
        assert function["Properties"]["Runtime"] == "python3.13", logical_id
        assert function["Properties"]["Architectures"] == ["arm64"], logical_id
    layer = next(res for res in translated()["Resources"].values() if res["Type"] == "AWS::Lambda::LayerVersion")
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


def test_every_function_and_the_layer_build_with_the_makefile_without_docker() -> None:
    from docproc_local.cloud.translate import load_template

    sam = load_template(REPO / "template.yaml")["Resources"]
    built = {lid: res for lid, res in sam.items() if res["Type"].startswith("AWS::Serverless::") and "Uri" in str(res)}
    assert set(built) >= {*FUNCTIONS, "DomainLayer"}
    makefile = (REPO / "packaging" / "Makefile").read_text()
    for logical_id, resource in built.items():
        if resource["Type"] == "AWS::Serverless::StateMachine":
            continue
        metadata = resource.get("Metadata", {})
        assert (metadata.get("BuildMethod"), metadata.get("ContextPath")) == ("makefile", "packaging"), logical_id
        target = "build-DomainLayer:" if logical_id == "DomainLayer" else "build-%Function:"
        assert target in makefile
    assert sam["DomainLayer"]["Metadata"]["BuildArchitecture"] == "arm64"
    # the Makefile and the template name the same runtime
    assert "LAMBDA_PYTHON := 3.13" in makefile
    assert "LAMBDA_ARCH   := aarch64" in makefile


# --- logs -----------------------------------------------------------------------------------------------------------


def test_every_function_logs_to_its_own_group_with_retention() -> None:
    resolver = r(LogRetentionDays="90")
    for logical_id, folder in FUNCTIONS.items():
        config = props(resolver, logical_id)["LoggingConfig"]
        group_id = f"{logical_id}LogGroup"
        assert config == {"LogGroup": f"<Ref {group_id}>"}, logical_id
        group = props(resolver, group_id)
        assert group == {"LogGroupName": f"/aws/lambda/docproc-{folder}", "RetentionInDays": "90"}, logical_id
    groups = [lid for lid, res in translated()["Resources"].items() if res["Type"] == "AWS::Logs::LogGroup"]
    assert sorted(groups) == sorted([f"{f}LogGroup" for f in FUNCTIONS] + ["DocumentPipelineLogGroup"])


def test_the_ingest_role_writes_only_its_own_log_group() -> None:
    resolver = r()
    logs = [s for s in statements(resolver.deployed()["IngestFunctionRole"], resolver) if "logs:" in str(s["Action"])]
    assert logs == [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "<IngestFunctionLogGroup.Arn>",
        }
    ]


# --- encryption -----------------------------------------------------------------------------------------------------


def _bucket_encryption(resolver: Resolver, bucket: str) -> dict[str, Any]:
    (rule,) = props(resolver, bucket)["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    return rule


def test_without_a_key_everything_uses_aws_managed_encryption() -> None:
    resolver = r()
    assert not resolver.condition("HasKmsKey")
    assert "KmsKeyUsePolicy" not in resolver.deployed()
    for bucket in ("InputBucket", "ArtifactsBucket"):
        assert _bucket_encryption(resolver, bucket) == {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    for table in ("ResultsTable", "LeaseTable"):
        assert props(resolver, table)["SSESpecification"] == {"SSEEnabled": True}
    for queue in ("IntakeQueue", "IntakeDeadLetterQueue", "ExampleSubscriberQueue"):
        assert props(resolver, queue)["SqsManagedSseEnabled"] is True
        assert "KmsMasterKeyId" not in props(resolver, queue)
    assert "KmsMasterKeyId" not in props(resolver, "AlarmTopic")
    for group in [f"{f}LogGroup" for f in FUNCTIONS] + ["DocumentPipelineLogGroup"]:
        assert "KmsKeyId" not in props(resolver, group)
    assert "KmsKeyArn" not in props(resolver, "PrepareFunction")


def test_with_a_key_buckets_tables_queues_topic_and_logs_use_it() -> None:
    resolver = r(KmsKeyArn=KMS_KEY)
    for bucket in ("InputBucket", "ArtifactsBucket"):
        assert _bucket_encryption(resolver, bucket) == {
            "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KMS_KEY},
            "BucketKeyEnabled": True,
        }
    for table in ("ResultsTable", "LeaseTable"):
        assert props(resolver, table)["SSESpecification"] == {
            "SSEEnabled": True,
            "SSEType": "KMS",
            "KMSMasterKeyId": KMS_KEY,
        }
    for queue in ("IntakeQueue", "IntakeDeadLetterQueue", "ExampleSubscriberQueue"):
        assert props(resolver, queue)["KmsMasterKeyId"] == KMS_KEY
        assert "SqsManagedSseEnabled" not in props(resolver, queue)  # the two exclude each other
    assert props(resolver, "AlarmTopic")["KmsMasterKeyId"] == KMS_KEY
    for group in [f"{f}LogGroup" for f in FUNCTIONS] + ["DocumentPipelineLogGroup"]:
        assert props(resolver, group)["KmsKeyId"] == KMS_KEY
    for function in FUNCTIONS:
        assert props(resolver, function)["KmsKeyArn"] == KMS_KEY  # environment variables


def test_with_a_key_every_role_that_touches_encrypted_data_may_use_it_and_nothing_more() -> None:
    resolver = r(KmsKeyArn=KMS_KEY)
    policy = props(resolver, "KmsKeyUsePolicy")
    assert policy["PolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            "Resource": KMS_KEY,
        }
    ]
    roles = {f"<Ref {f}Role>" for f in FUNCTIONS if f != "IngestFunction"} | {
        "<Ref IngestFunctionRole>",
        "<Ref DocumentPipelineRole>",
    }
    assert set(policy["Roles"]) == roles
    for role in roles:
        assert role.removeprefix("<Ref ").removesuffix(">") in translated()["Resources"], role
    # the classifier's role decrypts its model only with a key
    with_model = r(KmsKeyArn=KMS_KEY, ClassifierModelDataUri="s3://my-bucket/classifier/model.tar.gz")
    kms = [s for s in statements(with_model.deployed()["ClassifierModelRole"], with_model) if "kms:" in str(s)]
    assert kms == [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KMS_KEY}]
    without_key = r(ClassifierModelDataUri="s3://my-bucket/classifier/model.tar.gz")
    assert not [s for s in statements(without_key.deployed()["ClassifierModelRole"], without_key) if "kms:" in str(s)]


@pytest.mark.parametrize(
    ("value", "allowed"),
    [
        ("", True),
        (KMS_KEY, True),
        ("arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/mrk-1234abcd", True),
        ("alias/aws/s3", False),
        ("1234abcd-12ab-34cd-56ef-1234567890ab", False),
        ("arn:aws:kms:us-east-1:123456789012:alias/mine", False),
    ],
)
def test_kms_key_parameter_takes_a_key_arn_or_nothing(value: str, allowed: bool) -> None:
    pattern = translated()["Parameters"]["KmsKeyArn"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is allowed


# --- access logging -------------------------------------------------------------------------------------------------


def test_access_logging_is_off_by_default() -> None:
    resolver = r()
    assert not {"AccessLogsBucket", "AccessLogsBucketPolicy"} & set(resolver.deployed())
    assert "LoggingConfiguration" not in props(resolver, "InputBucket")
    assert "LoggingConfiguration" not in props(resolver, "ArtifactsBucket")


def test_access_logging_sends_both_buckets_logs_to_an_sse_s3_bucket_that_expires_them() -> None:
    resolver = r(AccessLogging="true", KmsKeyArn=KMS_KEY, LogRetentionDays="60")
    assert props(resolver, "InputBucket")["LoggingConfiguration"] == {
        "DestinationBucketName": "<Ref AccessLogsBucket>",
        "LogFilePrefix": "input/",
    }
    assert props(resolver, "ArtifactsBucket")["LoggingConfiguration"]["LogFilePrefix"] == "artifacts/"
    logs = props(resolver, "AccessLogsBucket")
    # S3 delivers access logs only to SSE-S3 buckets, key or no key
    assert logs["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    ]
    assert logs["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == "60"
    assert logs["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
    (allow, deny) = props(resolver, "AccessLogsBucketPolicy")["PolicyDocument"]["Statement"]
    assert allow["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert allow["Action"] == "s3:PutObject"
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert allow["Condition"]["ArnLike"]["aws:SourceArn"] == ["<InputBucket.Arn>", "<ArtifactsBucket.Arn>"]
    assert deny["Effect"] == "Deny"


# --- retention of results -------------------------------------------------------------------------------------------


def test_the_results_table_is_protected_from_deletion() -> None:
    assert props(r(), "ResultsTable")["DeletionProtectionEnabled"] is True
    assert props(r(), "ResultsTable")["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


# --- alarms ---------------------------------------------------------------------------------------------------------


def test_every_alarm_notifies_the_topic_and_an_email_subscribes_only_when_given() -> None:
    resolver = r()
    alarms = {lid for lid, res in resolver.deployed().items() if res["Type"] == "AWS::CloudWatch::Alarm"}
    assert alarms == ALARMS
    for alarm in alarms:
        properties = props(resolver, alarm)
        assert properties["AlarmActions"] == ["<Ref AlarmTopic>"], alarm
        assert properties["OKActions"] == ["<Ref AlarmTopic>"], alarm
        assert properties["TreatMissingData"] == "notBreaching", alarm
        assert len(properties["AlarmDescription"]) > 60, alarm  # says what it means and what to do
    assert "AlarmEmailSubscription" not in resolver.deployed()
    with_email = r(AlarmEmail="ops@example.com")
    assert props(with_email, "AlarmEmailSubscription") == {
        "TopicArn": "<Ref AlarmTopic>",
        "Protocol": "email",
        "Endpoint": "ops@example.com",
    }
    (allow, _deny) = props(resolver, "AlarmTopicPolicy")["PolicyDocument"]["Statement"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


@pytest.mark.parametrize(
    ("value", "allowed"), [("", True), ("ops@example.com", True), ("ops", False), ("a b@example.com", False)]
)
def test_alarm_email_parameter(value: str, allowed: bool) -> None:
    pattern = translated()["Parameters"]["AlarmEmail"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is allowed


def test_alarm_thresholds_follow_their_parameters() -> None:
    resolver = r(
        FailureRateAlarmPercent="25", ThrottleAlarmCount="7", OldestMessageAlarmSeconds="600", MaxInFlightDocuments="40"
    )
    assert props(resolver, "FailureRateAlarm")["Threshold"] == "25"
    assert props(resolver, "ModelThrottlingAlarm")["Threshold"] == "7"
    assert props(resolver, "IntakeBacklogAlarm")["Threshold"] == "600"
    assert props(resolver, "LeaseSaturationAlarm")["Threshold"] == "40"
    dlq = props(resolver, "DeadLetterQueueAlarm")
    assert (dlq["Threshold"], dlq["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    assert dlq["Dimensions"] == [{"Name": "QueueName", "Value": "<IntakeDeadLetterQueue.QueueName>"}]
    backlog = props(resolver, "IntakeBacklogAlarm")
    assert backlog["Dimensions"] == [{"Name": "QueueName", "Value": "<IntakeQueue.QueueName>"}]
    assert backlog["MetricName"] == "ApproximateAgeOfOldestMessage"


def test_the_failure_rate_is_failed_over_ended_documents_and_safe_when_idle() -> None:
    metrics = {m["Id"]: m for m in props(r(), "FailureRateAlarm")["Metrics"]}
    assert {
        metrics["failed"]["MetricStat"]["Metric"]["MetricName"],
        metrics["completed"]["MetricStat"]["Metric"]["MetricName"],
    } == {
        "DocumentsFailed",
        "DocumentsCompleted",
    }
    expression = (
        metrics["rate"]["Expression"].replace("FILL(failed, 0)", "failed").replace("FILL(completed, 0)", "completed")
    )
    # IF(condition, then, else) -> a Python conditional, evaluated lazily as CloudWatch does per data point
    assert expression.startswith("IF(") and expression.endswith(")")
    depth, parts, current = 0, [], ""
    for char in expression[3:-1]:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts, current = [*parts, current], ""
        else:
            current += char
    condition, then, otherwise = [*parts, current]
    python = f"({then}) if ({condition}) else ({otherwise})"
    for failed, completed, rate in [(0, 0, 0), (1, 9, 10), (5, 0, 100), (1, 1, 50)]:
        assert eval(python, {"failed": failed, "completed": completed}) == rate  # noqa: S307 - our own expression


# --- the metrics behind the dashboard and the alarms are the ones the code emits --------------------------------


def _emitted_metrics() -> dict[str, set[frozenset[str]]]:
    """Metric name -> the dimension sets (besides ``service``) the handlers and docproc.observability publish."""
    emitted: dict[str, set[frozenset[str]]] = {}
    for app in sorted((REPO / "functions").glob("*/app.py")):
        text = app.read_text()
        dimensions = frozenset(re.findall(r'add_dimension\(name=(?:name|"(\w+)")', text)) - {""}
        if "metric_dimensions(detail)" in text:
            dimensions = frozenset({"domain", "class"})
        for name in re.findall(r'add_metric\(name="(\w+)"', text):
            emitted.setdefault(name, set()).add(dimensions)
    observability = (REPO / "src" / "docproc" / "observability.py").read_text()
    for name, dims in re.findall(r'_publish\("(\w+)", MetricUnit\.\w+, [^,)]+(?:, \{([^}]*)\})?\)', observability):
        emitted.setdefault(name, set()).add(frozenset(re.findall(r'"(\w+)":', dims)))
    return emitted


def _dashboard(resolver: Resolver) -> dict[str, Any]:
    return json.loads(props(resolver, "Dashboard")["DashboardBody"])


def _docproc_metrics_in_template(resolver: Resolver) -> list[tuple[str, frozenset[str]]]:
    used: list[tuple[str, frozenset[str]]] = []
    for widget in _dashboard(resolver)["widgets"]:
        for line in widget["properties"].get("metrics", []):
            if isinstance(line[0], str) and line[0] == "docproc":
                dims = [x for x in line[2:] if isinstance(x, str)]
                used.append((line[1], frozenset(dims[0::2]) - {"service"}))
            elif isinstance(line[0], dict):
                match = re.search(r"\{docproc,([\w,]+)\} MetricName=\"(\w+)\"", line[0]["expression"])
                assert match, line
                used.append((match.group(2), frozenset(match.group(1).split(",")) - {"service"}))
    for alarm in ALARMS:
        properties = props(resolver, alarm)
        stats = [m["MetricStat"]["Metric"] for m in properties.get("Metrics", []) if "MetricStat" in m]
        if "MetricName" in properties:
            stats.append(properties)
        for metric in stats:
            if metric["Namespace"] == "docproc":
                dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
                assert dims.get("service") == "docproc", alarm
                used.append((metric["MetricName"], frozenset(dims) - {"service"}))
    return used


def test_dashboard_and_alarms_read_only_metrics_the_code_emits_with_those_dimensions() -> None:
    resolver = r()
    env = resolver.resolve(translated()["Resources"]["IngestFunction"]["Properties"]["Environment"]["Variables"])
    assert (env["POWERTOOLS_METRICS_NAMESPACE"], env["POWERTOOLS_SERVICE_NAME"]) == ("docproc", "docproc")
    emitted = _emitted_metrics()
    used = _docproc_metrics_in_template(resolver)
    assert len(used) >= 15
    missing = [(name, sorted(dims)) for name, dims in used if dims not in emitted.get(name, set())]
    assert missing == []


def test_the_dashboard_shows_what_an_operator_needs() -> None:
    resolver = r()
    dashboard = _dashboard(resolver)
    titles = [w["properties"]["title"] for w in dashboard["widgets"]]
    text = json.dumps(dashboard)
    for needed in (
        "DocumentsReceived",
        "DocumentsCompleted",
        "DocumentsFailed",
        "{docproc,reason,service}",
        '"p50"',
        '"p95"',
        "ModelThrottles",
        "InvocationThrottles",
        "InFlightDocuments",
        "ApproximateAgeOfOldestMessage",
        "ApproximateNumberOfMessagesVisible",
        "EstimatedCost",
    ):
        assert needed in text, needed
    assert any("cost per hour" in t.lower() for t in titles)
    (alarm_widget,) = [w for w in dashboard["widgets"] if w["type"] == "alarm"]
    assert sorted(alarm_widget["properties"]["alarms"]) == sorted(f"<{a}.Arn>" for a in ALARMS)
    assert '"<IntakeDeadLetterQueue.QueueName>"' in text
    assert '"value": 20' in text  # MaxInFlightDocuments drawn on the leases graph


# --- IAM scope ------------------------------------------------------------------------------------------------------


def _all_statements(resolver: Resolver) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for logical_id, resource in resolver.deployed().items():
        if resource["Type"] == "AWS::IAM::Role" and "Policies" in resource["Properties"]:
            found += [(logical_id, s) for s in statements(resource, resolver)]
        if resource["Type"] == "AWS::IAM::ManagedPolicy":
            found += [(logical_id, s) for s in props(resolver, logical_id)["PolicyDocument"]["Statement"]]
    return found


@pytest.mark.parametrize(
    "parameters",
    [{}, {"KmsKeyArn": KMS_KEY, "ClassifierModelDataUri": "s3://my-bucket/classifier/model.tar.gz"}],
    ids=["defaults", "key-and-model"],
)
def test_no_action_wildcards_and_star_resources_only_where_iam_has_no_resources(parameters: dict[str, str]) -> None:
    resolver = r(**parameters)
    for logical_id, statement in _all_statements(resolver):
        if statement["Effect"] != "Allow":
            continue
        actions, resources = as_list(statement["Action"]), as_list(statement["Resource"])
        assert not [a for a in actions if "*" in a], (logical_id, statement)
        if "*" in resources:
            assert set(actions) <= STAR_ONLY_ACTIONS, (logical_id, statement)
        for resource in resources:
            assert not resource.endswith(":log-group:/aws/lambda/*"), (logical_id, statement)


def test_input_objects_are_readable_only_under_the_input_prefix() -> None:
    resolver = r(InputPrefix="incoming/")
    reads = [
        (lid, s)
        for lid, s in _all_statements(resolver)
        if "s3:GetObject" in as_list(s["Action"]) and "InputBucket" in str(s["Resource"])
    ]
    assert {lid for lid, _ in reads} == {"PrepareFunctionRole", "OcrFunctionRole"}
    for _, statement in reads:
        assert statement["Resource"] == "<InputBucket.Arn>/incoming/*"


def test_checkov_skips_name_their_reason() -> None:
    from docproc_local.cloud.translate import load_template

    for logical_id, resource in load_template(Path(REPO / "template.yaml"))["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert re.fullmatch(r"CKV_AWS_\d+", skip["id"]), (logical_id, skip)
            assert len(skip.get("comment", "")) > 30, (logical_id, skip)
