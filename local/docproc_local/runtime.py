"""The whole local pipeline in one process: the model stand-ins plus the embedded AWS deploying template.yaml."""

from __future__ import annotations

import io
import json
import logging
import os
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any, TextIO

from docproc_local.client import StackClient

REPO = Path(__file__).resolve().parents[2]
STATE_FILE = Path(".docproc") / "local.json"
LAMBDA_LOG = Path(".docproc") / "lambda.log"
LOCAL_LOG = Path(".docproc") / "local.log"
#: Loggers of the embedded AWS: their warnings (moto's engine dumps whole state trees on a task failure) go to
#: LOCAL_LOG instead of the console, unless --verbose.
EMULATOR_LOGGERS = ("moto", "docproc_local", "werkzeug", "urllib3", "pypdf")


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
    """Stand-ins for Bedrock, SageMaker and Textract + ``LocalCloud``; hands out a :class:`StackClient`.

    Handler code has no local branch: the stand-ins are reached through the standard
    ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` / ``AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME`` / ``AWS_ENDPOINT_URL_TEXTRACT``
    settings. The Textract stand-in reads ``S3Object`` documents from the local S3.
    """

    def __init__(
        self,
        *,
        template: Path | None = None,
        port: int = 0,
        parameters: dict[str, str] | None = None,
        faults: dict[str, Any] | None = None,
        duplicate_deliveries: int = 1,
        crash_rate: float = 0.0,
        verbose: bool = False,
        lambda_log: Path | None = LAMBDA_LOG,
    ) -> None:
        self.template = template or default_template()
        self.port = port
        self.parameters = dict(parameters or {})
        self.faults = faults  # None: the stand-ins read DOCPROC_LOCAL_BEDROCK_FAULTS / _SAGEMAKER_FAULTS
        self.verbose = verbose
        self.lambda_log = None if verbose else lambda_log
        self._router: LambdaLogRouter | None = None
        self._log_handler: logging.Handler | None = None
        self.duplicate_deliveries = duplicate_deliveries
        self.crash_rate = crash_rate
        self.standins: Any = None
        self.cloud: Any = None
        self.client: StackClient | None = None
        self.startup_seconds = 0.0

    def start(self) -> StackClient:
        from docproc_local.classifier import artifact
        from docproc_local.cloud import LocalCloud
        from docproc_local.standins.server import StandinServer

        started = time.perf_counter()
        _cold_start()
        # Noise that says nothing to a local user: moto resources it models only partly (the cloud adapters
        # cover those), and Powertools flushing an empty metric set after a handler raised.
        warnings.filterwarnings("ignore", message=r"Tried to parse AWS::", category=UserWarning)
        warnings.filterwarnings("ignore", message=r"No application metrics to publish", category=UserWarning)
        # the SageMaker stand-in serves the project's own model.tar.gz (built here if missing or stale)
        model = artifact.ServedModel(artifact.ensure())
        self.standins = StandinServer(model=model, faults=self.faults)
        self.standins.start()
        env = {
            **self.standins.env(),  # AWS_ENDPOINT_URL_BEDROCK_RUNTIME, _SAGEMAKER_RUNTIME, _TEXTRACT
            "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon locally
        }
        if self.lambda_log is not None:
            self._quiet_emulator_logs()
            self.lambda_log.parent.mkdir(parents=True, exist_ok=True)
            self._router = LambdaLogRouter(sys.stdout, self.lambda_log.open("a", encoding="utf-8"))
            sys.stdout = self._router
        self.cloud = LocalCloud(template=self.template, parameters=self.parameters, port=self.port, env_overrides=env)
        self.cloud.start()
        self.standins.textract.set_s3(self._local_s3)
        self.cloud.set_duplicate_deliveries(self.duplicate_deliveries)
        if self.crash_rate:
            self.cloud.set_crash_rate("*", self.crash_rate)
        self.client = StackClient(
            outputs=dict(self.cloud.outputs), endpoint_url=self.cloud.endpoint_url, region=self.cloud.region
        )
        self.startup_seconds = time.perf_counter() - started
        return self.client

    def _local_s3(self) -> Any:
        """An S3 client of the local cloud, for the Textract stand-in to read ``S3Object`` documents with."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.cloud.endpoint_url,
            region_name=self.cloud.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - the local cloud's fixed fake credentials
        )

    def _quiet_emulator_logs(self) -> None:
        LOCAL_LOG.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(LOCAL_LOG, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self._log_handler = handler
        for name in EMULATOR_LOGGERS:
            emulator = logging.getLogger(name)
            emulator.addHandler(handler)
            emulator.propagate = False

    def _restore_emulator_logs(self) -> None:
        if self._log_handler is None:
            return
        for name in EMULATOR_LOGGERS:
            emulator = logging.getLogger(name)
            emulator.removeHandler(self._log_handler)
            emulator.propagate = True
        self._log_handler.close()
        self._log_handler = None

    def stop(self) -> None:
        if self.cloud is not None:
            self.cloud.stop()
        if self.standins is not None:
            self.standins.stop()
        self._restore_emulator_logs()
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
