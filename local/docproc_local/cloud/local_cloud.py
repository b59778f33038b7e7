"""LocalCloud: the real template.yaml deployed into an in-process moto server, run on one machine.

start(): moto HTTP server -> process env pointed at it -> engine and Lambda patches -> package + translate the
template -> create the stack -> adapters for moto's gaps -> the functions' environment -> SQS pollers.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

import boto3
from botocore.client import BaseClient
from botocore.config import Config

from . import adapters, dynamodb, engine
from .deploy import DeployedStack, LocalCloudError, deploy_stack, verify_outputs
from .event_source import InvocationError, SqsEventSource, SqsEventSourceConfig
from .lambdas import LambdaRuntime, merge_environments
from .patching import Patches
from .translate import load_template, package, to_cloudformation

log = logging.getLogger(__name__)

_FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
# Variables that would send boto3 elsewhere or to a missing profile while the local cloud runs.
_CLEARED = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_DEFAULT_PROFILE")


class LocalCloud:
    """The stack of ``template`` running in moto on ``host:port`` (0 = a free port), handlers in this process.

    One LocalCloud runs per process at a time: moto's state, the process environment and the patches are global.
    """

    _active: ClassVar[LocalCloud | None] = None
    _active_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        template: Path = Path("template.yaml"),
        parameters: dict[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        region: str = "us-east-1",
        stack_name: str = "docproc",
        env_overrides: dict[str, str] | None = None,
        *,
        start_pollers: bool = True,
        retry_interval_scale: float = 1.0,
        cache_dir: Path | None = None,
        deploy_timeout_seconds: float = 120.0,
    ) -> None:
        self.template = Path(template).resolve()
        self.parameters = {k: str(v) for k, v in (parameters or {}).items()}
        self.host = host
        self.port = port
        self.region = region
        self.stack_name = stack_name
        self.env_overrides = dict(env_overrides or {})
        self.start_pollers = start_pollers
        self.retry_interval_scale = retry_interval_scale
        self.cache_dir = cache_dir or self.template.parent / ".docproc" / "lambda-cache"
        self.deploy_timeout_seconds = deploy_timeout_seconds

        self.endpoint_url = ""
        self.outputs: dict[str, str] = {}
        self.startup_seconds = 0.0
        self.account_id = ""
        self.stack: DeployedStack | None = None
        self.environment: dict[str, str] = {}
        self.event_sources: list[SqsEventSource] = []
        self.ignored: list[str] = []  # what the template declares but the local cloud runs without

        self._server: Any = None
        self._patches = Patches()
        self._saved_env: dict[str, str | None] = {}
        self._session: boto3.session.Session | None = None
        self._clients: dict[str, BaseClient] = {}
        self._clients_lock = threading.Lock()
        self._runtime = LambdaRuntime(self.cache_dir)
        self._invoke_client: BaseClient | None = None
        self._s3_event_deliveries = 1

    # --- lifecycle --------------------------------------------------------------------------------------------------

    def __enter__(self) -> LocalCloud:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> LocalCloud:
        with LocalCloud._active_lock:
            if LocalCloud._active is not None:
                raise LocalCloudError("another LocalCloud is running in this process; stop() it first")
            LocalCloud._active = self
        started = time.monotonic()
        try:
            self._start_server()
            self._deploy()
            self._configure_functions()
            self._start_event_sources()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        log.info("local cloud %s up at %s in %.2f s", self.stack_name, self.endpoint_url, self.startup_seconds)
        return self

    def stop(self) -> None:
        """Stop pollers, then the server; forget moto's state; undo every patch and environment change.

        Safe to call twice; afterwards a new LocalCloud can start in this process.
        """
        errors = []
        for source in self.event_sources:
            try:
                source.stop()
            except TimeoutError as exc:
                errors.append(exc)
        self.event_sources.clear()
        if self._server is not None:
            self._server.stop()
            self._server = None
            _reset_moto()
        self._patches.undo()
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()
        self._clients.clear()
        with LocalCloud._active_lock:
            if LocalCloud._active is self:
                LocalCloud._active = None
        if errors:
            raise LocalCloudError(f"stopped, but not cleanly: {errors}")

    # --- public helpers ---------------------------------------------------------------------------------------------

    def client(self, service: str) -> BaseClient:
        """A boto3 client bound to the local endpoint (one per service, shared; boto3 clients are thread-safe)."""
        with self._clients_lock:
            if service not in self._clients:
                if self._session is None:
                    raise LocalCloudError("the local cloud is not started")
                self._clients[service] = self._session.client(
                    service, region_name=self.region, endpoint_url=self.endpoint_url
                )
            return self._clients[service]

    def set_crash_rate(self, function: str, rate: float, seed: int | None = None) -> None:
        """Fault injection: after ``function``'s handler ran, discard its result with probability ``rate``.

        The caller sees ``Runtime.ExitError``; for the SQS-driven function the batch stays on the queue.
        ``function`` is a logical id (``IngestFunction``), a function name or ``"*"``; rate 0 turns it off.
        """
        self._runtime.set_crash_rate(function, rate, seed)

    def set_duplicate_deliveries(self, times: int) -> None:
        """Fault injection: deliver every S3 "Object Created" event ``times`` times (same event id); 1 = once."""
        if times < 1:
            raise ValueError(f"times must be at least 1, got {times}")
        self._s3_event_deliveries = times

    def lambda_stats(self) -> dict[str, dict[str, int]]:
        """Per function logical id: invocations, errors, crashes, timeouts."""
        return self._runtime.stats()

    def event_source_stats(self) -> dict[str, dict[str, int]]:
        """Per event source mapping UUID: batches, messages, deleted, kept, invoke_errors."""
        return {source.config.uuid: source.stats for source in self.event_sources}

    def pause_pollers(self, timeout: float = 10.0) -> None:
        """Stop the SQS pollers taking batches, and wait until none is in flight."""
        for source in self.event_sources:
            source.pause(timeout)

    def resume_pollers(self) -> None:
        for source in self.event_sources:
            source.resume()

    def invoke(self, function_arn: str, event: dict[str, Any]) -> Any:
        """Invoke a function through the local Lambda API; raise :class:`InvocationError` with its error payload."""
        if self._invoke_client is None:
            raise LocalCloudError("the local cloud is not started")
        response = self._invoke_client.invoke(FunctionName=function_arn, Payload=json.dumps(event).encode())
        payload = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            raise InvocationError(payload)
        return payload

    # --- steps ------------------------------------------------------------------------------------------------------

    def _set_env(self, name: str, value: str | None) -> None:
        if name not in self._saved_env:
            self._saved_env[name] = os.environ.get(name)
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value

    def _start_server(self) -> None:
        from moto.server import ThreadedMotoServer

        for name in _CLEARED:
            self._set_env(name, None)
        for name, value in {**_FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": self.region, "AWS_REGION": self.region}.items():
            self._set_env(name, value)
        werkzeug = logging.getLogger("werkzeug")  # one INFO line per request otherwise
        self._patches.on_undo(lambda level=werkzeug.level: werkzeug.setLevel(level))
        werkzeug.setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        self._set_env("AWS_ENDPOINT_URL", self.endpoint_url)
        self._set_env("MOTO_PORT", str(port))  # moto's engine calls localhost:$MOTO_PORT outside mock_aws
        self._session = boto3.session.Session(
            region_name=self.region,
            aws_access_key_id=_FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=_FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        engine.install(self._patches, self.endpoint_url, self.retry_interval_scale)
        dynamodb.sort_items_once(self._patches)
        adapters.install_runtime_adapters(self._patches, lambda: self._s3_event_deliveries)
        self._runtime.install(self._patches)
        self.account_id = self.client("sts").get_caller_identity()["Account"]

    def _deploy(self) -> None:
        sam = load_template(self.template)
        s3 = self.client("s3")
        bucket = f"{self.stack_name}-local-artifacts".lower()
        s3.create_bucket(Bucket=bucket)

        def put_artifact(key: str, data: bytes) -> str:
            s3.put_object(Bucket=bucket, Key=key, Body=data)
            return f"s3://{bucket}/{key}"

        cfn_template = to_cloudformation(package(sam, self.template.parent, put_artifact), self.parameters, self.region)
        cfn_template = adapters.name_event_bus_refs(cfn_template)
        self.stack = deploy_stack(
            self.client("cloudformation"),
            self.stack_name,
            cfn_template,
            self.parameters,
            timeout_seconds=self.deploy_timeout_seconds,
        )
        removed = frozenset(key.removeprefix("output ") for key in self.stack.unmodelled if key.startswith("output "))
        verify_outputs(sam.get("Outputs", {}), self.stack.outputs, removed)
        self.ignored = adapters.apply_stack_adapters(
            self.stack,
            {name: self.client(name) for name in ("s3", "sqs", "lambda", "stepfunctions")},
            self.account_id,
            self.region,
        )
        self.outputs = dict(self.stack.outputs)

    def _configure_functions(self) -> None:
        """Name the functions for the runtime, and set the union of their environments into this process."""
        assert self.stack is not None
        lambda_client = self.client("lambda")
        functions = self.stack.of_type("AWS::Lambda::Function")
        self._runtime.name_functions({name: logical_id for logical_id, name in functions.items()})
        environments, timeouts = {}, []
        for logical_id, name in functions.items():
            config = lambda_client.get_function_configuration(FunctionName=name)
            environments[logical_id] = config.get("Environment", {}).get("Variables", {})
            timeouts.append(int(config.get("Timeout", 3)))
        self.environment = {**merge_environments(environments), **self.env_overrides}
        for name, value in self.environment.items():
            self._set_env(name, value)
        self._invoke_client = self._session.client(  # type: ignore[union-attr]
            "lambda",
            region_name=self.region,
            endpoint_url=self.endpoint_url,
            config=Config(read_timeout=max(timeouts, default=60) + 30, retries={"total_max_attempts": 1}),
        )

    def _start_event_sources(self) -> None:
        assert self.stack is not None
        lambda_client, sqs = self.client("lambda"), self.client("sqs")
        for mapping_id in self.stack.of_type("AWS::Lambda::EventSourceMapping").values():
            mapping = lambda_client.get_event_source_mapping(UUID=mapping_id)
            if ":sqs:" not in mapping["EventSourceArn"]:
                raise LocalCloudError(f"event source {mapping['EventSourceArn']} is not SQS: not supported locally")
            queue_url = sqs.get_queue_url(QueueName=mapping["EventSourceArn"].rsplit(":", 1)[-1])["QueueUrl"]
            config = SqsEventSourceConfig.from_mapping(mapping, queue_url)
            source = SqsEventSource(config, sqs, self.invoke, self.region, paused=not self.start_pollers)
            source.start()
            self.event_sources.append(source)


def _reset_moto() -> None:
    """moto's backends are process-wide: drop every resource so the next LocalCloud starts from nothing."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
