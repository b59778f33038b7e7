"""The whole local stack, deployed from template.yaml, shared by the tests of one module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from docproc_local.client import StackClient
from docproc_local.runtime import LocalRuntime

from stack_helpers import REPO

# Short delays so the failure paths finish quickly; the state machine and its retry policy are as deployed.
E2E_PARAMETERS = {
    "RequeueBaseDelaySeconds": "1",
    "IntakeVisibilityTimeoutSeconds": "10",
    "MaxAttempts": "2",
    "MaxInFlightDocuments": "10",
}


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    local = LocalRuntime(template=REPO / "template.yaml", parameters=E2E_PARAMETERS)
    local.start()
    yield local
    local.stop()


@pytest.fixture
def stack(runtime: LocalRuntime) -> Iterator[StackClient]:
    """The running stack; faults and crash rates are reset after each test."""
    from docproc_local.standins.server import FaultConfig

    assert runtime.client is not None
    yield runtime.client
    for service in ("bedrock", "sagemaker"):
        runtime.standins.set_faults(service, FaultConfig())
    runtime.cloud.set_crash_rate("*", 0.0)
