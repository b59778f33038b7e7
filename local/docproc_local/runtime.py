"""The whole local pipeline in one process: the model stand-ins plus the embedded AWS deploying template.yaml."""

from __future__ import annotations

import io
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from docproc_local.client import StackClient

REPO = Path(__file__).resolve().parents[2]
STATE_FILE = Path(".docproc") / "local.json"
LAMBDA_LOG = Path(".docproc") / "lambda.log"


class LambdaLogRouter(io.TextIOBase):
    """Local CloudWatch Logs: what Lambda code prints from its threads (Powertools JSON logs, EMF metrics) goes
    to a log file; the main thread (the CLI) keeps the console."""

    def __init__(self, console: TextIO, log: TextIO) -> None:
        self.console = console
        self.log = log

    def write(self, text: str) -> int:
        target = self.console if threading.current_thread() is threading.main_thread() else self.log
        return target.write(text)

    def flush(self) -> None:
        self.console.flush()
        self.log.flush()

    def isatty(self) -> bool:
        return self.console.isatty()


def default_template() -> Path:
    """./template.yaml when run from a checkout, else the one next to this package (editable install)."""
    here = Path.cwd() / "template.yaml"
    return here if here.is_file() else REPO / "template.yaml"


class LocalRuntime:
    """Stand-ins for Bedrock and SageMaker + ``LocalCloud``; hands out a :class:`StackClient`.

    Handler code has no local branch: the stand-ins are reached through the standard
    ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` / ``AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME`` settings.
    """

    def __init__(
        self,
        *,
        template: Path | None = None,
        port: int = 0,
        parameters: dict[str, str] | None = None,
        faults: dict[str, Any] | None = None,
        classifier_format: str = "hf",
        duplicate_deliveries: int = 1,
        verbose: bool = False,
        lambda_log: Path | None = LAMBDA_LOG,
    ) -> None:
        self.template = template or default_template()
        self.port = port
        self.parameters = dict(parameters or {})
        self.faults = faults or {}
        self.classifier_format = classifier_format
        self.verbose = verbose
        self.lambda_log = None if verbose else lambda_log
        self._router: LambdaLogRouter | None = None
        self.duplicates: Any = None
        self.duplicate_deliveries = duplicate_deliveries
        self.standins: Any = None
        self.cloud: Any = None
        self.client: StackClient | None = None
        self.startup_seconds = 0.0

    def start(self) -> StackClient:
        from docproc_local.classifier.model import default_classifier
        from docproc_local.cloud import LocalCloud
        from docproc_local.standins.server import StandinServer

        started = time.perf_counter()
        _cold_start()
        classifier = default_classifier()
        self.standins = StandinServer(
            classify=classifier.predict_proba, response_format=self.classifier_format, faults=self.faults
        )
        self.standins.start()
        self.parameters.setdefault("ClassifierResponseFormat", self.classifier_format)
        env = {
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": self.standins.url,
            "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": self.standins.url,
            "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon locally
        }
        if self.lambda_log is not None:
            self.lambda_log.parent.mkdir(parents=True, exist_ok=True)
            self._router = LambdaLogRouter(sys.stdout, self.lambda_log.open("a", encoding="utf-8"))
            sys.stdout = self._router
        self.cloud = LocalCloud(template=self.template, parameters=self.parameters, port=self.port, env_overrides=env)
        self.cloud.start()
        if self.duplicate_deliveries > 1:
            from docproc_local.chaos import DuplicateDeliveries

            self.duplicates = DuplicateDeliveries(self.duplicate_deliveries).start()
        self.client = StackClient(
            outputs=dict(self.cloud.outputs), endpoint_url=self.cloud.endpoint_url, region=self.cloud.region
        )
        self.startup_seconds = time.perf_counter() - started
        return self.client

    def stop(self) -> None:
        if self.duplicates is not None:
            self.duplicates.stop()
        if self.cloud is not None:
            self.cloud.stop()
        if self.standins is not None:
            self.standins.stop()
        if self._router is not None:
            sys.stdout = self._router.console
            self._router.log.close()
            self._router = None
        _cold_start()

    def __enter__(self) -> StackClient:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def write_state(self, path: Path = STATE_FILE) -> Path:
        """Where ``docproc events`` / ``reprocess`` / ``redrive`` find a running ``docproc local up``."""
        assert self.client is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(
                {
                    "endpointUrl": self.client.endpoint_url,
                    "region": self.client.region,
                    "outputs": self.client.outputs,
                    "pid": os.getpid(),
                },
                indent=2,
            )
        )
        return path


def _cold_start() -> None:
    """A new local stack means new Lambda containers: drop the domain package's cached boto3 clients, which
    were bound to the previous stack's endpoints."""
    from docproc import aws

    aws.client.cache_clear()


def client_from_state(path: Path = STATE_FILE) -> StackClient:
    if not path.is_file():
        raise FileNotFoundError(
            f"no running local stack found ({path} is missing): start one with `docproc local up`, "
            "or pass --stack-name to talk to a stack in AWS"
        )
    state = json.loads(path.read_text())
    return StackClient(outputs=state["outputs"], endpoint_url=state["endpointUrl"], region=state["region"])
