"""Shared fixtures: a safe AWS environment, a fake Lambda context, moto, and the real-documents corpus."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REALDOCS = REPO.parent / "shared" / "realdocs"

# Set before any test module imports boto3 or Powertools: no real credentials, no real AWS, no tracing.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "docproc",
        "POWERTOOLS_METRICS_NAMESPACE": "docproc",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)
for _name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)


@dataclass
class FakeLambdaContext:
    function_name: str = "docproc-test"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:docproc-test"
    aws_request_id: str = ""
    log_group_name: str = "/aws/lambda/docproc-test"
    log_stream_name: str = "test"

    def __post_init__(self) -> None:
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture
def aws() -> Iterator[None]:
    """moto's in-process AWS for the duration of one test."""
    from moto import mock_aws

    from docproc import aws as docproc_aws

    docproc_aws.client.cache_clear()
    with mock_aws():
        yield
    docproc_aws.client.cache_clear()


@pytest.fixture(scope="session")
def realdocs() -> Path:
    if not REALDOCS.is_dir():
        pytest.skip(f"real documents not found at {REALDOCS} (clone with ../shared beside the repo)")
    return REALDOCS
