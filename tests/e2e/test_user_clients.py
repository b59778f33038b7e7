"""A user's view: plain boto3 and the real AWS CLI against the local endpoint, nothing from docproc."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import boto3
import pytest

from docproc_local.client import StackClient
from docproc_local.runtime import LocalRuntime

from stack_helpers import REPO, validate_event

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def test_plain_boto3_upload_then_event_then_record(runtime: LocalRuntime, stack: StackClient) -> None:
    # GIVEN only the endpoint and the stack outputs a user would copy from `docproc local up`
    endpoint, outputs = runtime.cloud.endpoint_url, stack.outputs
    session = boto3.session.Session(aws_access_key_id="any", aws_secret_access_key="any", region_name="us-east-1")
    s3, sqs, ddb = (session.client(s, endpoint_url=endpoint) for s in ("s3", "sqs", "dynamodb"))

    # WHEN they upload a file
    s3.upload_file(str(REPO / "samples" / "invoice2data-aws.pdf"), outputs["InputBucketName"], "inbox/invoice.pdf")

    # THEN a completion event for that key arrives on the subscriber queue, and the table has the record
    deadline, event = time.monotonic() + 120, None
    while event is None and time.monotonic() < deadline:
        for message in sqs.receive_message(
            QueueUrl=outputs["SubscriberQueueUrl"], WaitTimeSeconds=1, MaxNumberOfMessages=10
        ).get("Messages", []):
            body = json.loads(message["Body"])
            sqs.delete_message(QueueUrl=outputs["SubscriberQueueUrl"], ReceiptHandle=message["ReceiptHandle"])
            if body["detail"]["source"]["key"] == "inbox/invoice.pdf":
                event = body
    assert event is not None, "no completion event within 120 s"
    validate_event(event)
    item = ddb.get_item(
        TableName=outputs["ResultsTableName"], Key={"documentId": {"S": event["detail"]["documentId"]}}
    )["Item"]
    assert item["status"]["S"] == "COMPLETED"
    assert item["domain"]["S"] == "financial"


def test_the_aws_cli_works_against_the_local_endpoint(
    runtime: LocalRuntime, stack: StackClient, tmp_path: Path
) -> None:
    aws = shutil.which("aws")
    if aws is None:
        pytest.fail("the AWS CLI (awscli, a dev dependency) is not on PATH")
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "any", "AWS_SECRET_ACCESS_KEY": "any", "AWS_DEFAULT_REGION": "us-east-1"}
    env.pop("AWS_ENDPOINT_URL", None)  # the user passes --endpoint-url explicitly
    endpoint = runtime.cloud.endpoint_url
    bucket = stack.outputs["InputBucketName"]
    sample = tmp_path / "note.md"
    sample.write_text("# Release checklist\n\nInstall the package with pip, run the unit tests, tag the release.\n")

    subprocess.run(
        [aws, "--endpoint-url", endpoint, "s3", "cp", str(sample), f"s3://{bucket}/cli/note.md"],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    listing = subprocess.run(
        [aws, "--endpoint-url", endpoint, "s3", "ls", f"s3://{bucket}/cli/"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert "note.md" in listing

    deadline, items = time.monotonic() + 120, []
    while time.monotonic() < deadline:
        scan = subprocess.run(
            [
                aws,
                "--endpoint-url",
                endpoint,
                "dynamodb",
                "scan",
                "--table-name",
                stack.outputs["ResultsTableName"],
                "--filter-expression",
                "#s = :done AND #src.#k = :key",
                "--expression-attribute-names",
                '{"#s": "status", "#src": "source", "#k": "key"}',
                "--expression-attribute-values",
                '{":done": {"S": "COMPLETED"}, ":key": {"S": "cli/note.md"}}',
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        items = json.loads(scan)["Items"]
        if items:
            break
        time.sleep(1)
    assert len(items) == 1
    assert items[0]["domain"]["S"] == "technical"
