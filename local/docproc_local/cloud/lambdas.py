"""An in-process Lambda runtime: moto's invoke calls the function's handler in this process instead of Docker.

The handler comes from the function's *deployed* code: the zip moto stores is extracted to a cache folder named
by its sha256 and the handler file is imported under a module name unique to the function. The shared domain
package (``docproc``, shipped to Lambda as a layer) is *not* unpacked from the layer: it is imported from the
environment this process runs in. Handler modules may import installed packages, not sibling files.

Every invoke path goes through here (the Lambda API, Step Functions Task states, the SQS pollers), because it
replaces ``moto.awslambda.models.LambdaFunction._invoke_lambda(self, event) -> (payload, errored, logs)``.
Invocations run concurrently on the caller's threads; each runs in its own :mod:`contextvars` context so that its
Powertools log keys are its own (:mod:`.logcontext`).
"""

from __future__ import annotations

import decimal
import hashlib
import importlib.util
import io
import json
import logging
import os
import random
import re
import shutil
import sys
import threading
import time
import traceback
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from . import logcontext
from .deploy import LocalCloudError
from .patching import Patches

log = logging.getLogger(__name__)

Handler = Callable[[Any, Any], Any]
_IDENTIFIER = re.compile(r"\W")


class EnvironmentConflict(LocalCloudError):
    """Two functions need different values for one environment variable, and all handlers share one process."""


class HandlerLoadError(Exception):
    """The handler could not be loaded; carries the Lambda error type (``Runtime.ImportModuleError``...)."""

    def __init__(self, error_type: str, message: str, stack_trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.stack_trace = stack_trace or []


@dataclass
class LambdaContext:
    """The context object a Python handler receives in Lambda."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: float
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""
    identity: Any = None
    client_context: Any = None
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"
        if not self.log_stream_name:
            day = time.strftime("%Y/%m/%d", time.gmtime())
            self.log_stream_name = f"{day}/[{self.function_version}]{uuid.uuid4().hex}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def error_payload(error_type: str, message: str, stack_trace: list[str] | None = None) -> dict[str, Any]:
    """Lambda's error shape. Step Functions matches ``errorType`` against ``ErrorEquals``."""
    return {"errorType": error_type, "errorMessage": message, "stackTrace": stack_trace or []}


def exception_payload(exc: BaseException, tb: TracebackType | None) -> dict[str, Any]:
    """What the Python runtime reports for an exception: its class name, message and formatted frames."""
    return error_payload(type(exc).__name__, str(exc), traceback.format_list(traceback.extract_tb(tb)))


def merge_environments(environments: dict[str, dict[str, str]]) -> dict[str, str]:
    """The union of every function's variables; raise if two functions set one variable to different values."""
    merged: dict[str, str] = {}
    owner: dict[str, str] = {}
    for function, variables in sorted(environments.items()):
        for name, value in variables.items():
            if name in merged and merged[name] != value:
                raise EnvironmentConflict(
                    f"environment variable {name}: {owner[name]} sets {merged[name]!r} but {function} sets {value!r}; "
                    "locally all handlers share one process, so the template must give it one value"
                )
            merged[name] = value
            owner.setdefault(name, function)
    return merged


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _call(handler: Handler, event: Any, context: LambdaContext) -> tuple[str, bool]:
    """Run a handler as the Python runtime does: its result as JSON, or its exception in Lambda's error shape."""
    try:
        result = handler(event, context)
    except SystemExit as exc:
        message = f"RequestId: {context.aws_request_id} Error: Runtime exited with error: exit status {exc.code}"
        return json.dumps(error_payload("Runtime.ExitError", message)), True
    except Exception as exc:  # noqa: BLE001 - the runtime boundary: a handler's exception *is* the function's result
        return json.dumps(exception_payload(exc, exc.__traceback__)), True
    try:
        return json.dumps(result, default=_json_default), False
    except (TypeError, ValueError) as exc:
        return json.dumps(error_payload("Runtime.MarshalError", f"Unable to marshal response: {exc}")), True


class LambdaRuntime:
    """Runs handlers in-process; counts invocations, errors and crashes; injects crashes on request."""

    def __init__(self, cache_dir: Path, logical_ids: dict[str, str] | None = None) -> None:
        self._cache_dir = cache_dir
        self._logical_ids = dict(logical_ids or {})  # function name -> logical id
        self._handlers: dict[tuple[str, str], Handler] = {}
        self._load_lock = threading.RLock()
        self._stats_lock = threading.Lock()
        self._stats: dict[str, Counter[str]] = {}
        self._crash_rates: dict[str, tuple[float, random.Random]] = {}

    # --- wiring -----------------------------------------------------------------------------------------------------

    def install(self, patches: Patches) -> None:
        """Replace moto's Docker-based ``LambdaFunction._invoke_lambda`` with :meth:`invoke`; keep Powertools' log
        keys per invocation (:mod:`.logcontext`), as each function's own process would."""
        from moto.awslambda.models import LambdaFunction

        logcontext.install(patches)
        runtime = self

        def _invoke_lambda(function: Any, event: Any = None) -> tuple[str, bool, str]:
            return runtime.invoke(function, event)

        patches.setattr(LambdaFunction, "_invoke_lambda", _invoke_lambda)

    def name_functions(self, logical_ids: dict[str, str]) -> None:
        """Function name -> logical id, for messages, stats and crash rates."""
        self._logical_ids.update(logical_ids)

    def set_crash_rate(self, function: str, rate: float, seed: int | None = None) -> None:
        """After the handler ran, discard its result with probability ``rate`` and report ``Runtime.ExitError``.

        ``function`` is a logical id (``IngestFunction``), a function name, or ``"*"`` for every function.
        """
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"crash rate must be within [0, 1], got {rate}")
        self._crash_rates[function] = (rate, random.Random(seed))  # fault injection, not security

    def stats(self) -> dict[str, dict[str, int]]:
        """Per function (logical id): invocations, errors (handler errors, crashes and timeouts), crashes, timeouts."""
        with self._stats_lock:
            return {
                name: {key: counts[key] for key in ("invocations", "errors", "crashes", "timeouts")}
                for name, counts in self._stats.items()
            }

    # --- invoke -----------------------------------------------------------------------------------------------------

    def invoke(self, function: Any, event: Any) -> tuple[str, bool, str]:
        """Call the handler of a moto ``LambdaFunction``; return (JSON payload, errored, log tail) as moto expects.

        The function's Timeout counts from the handler call (loading the module is Lambda's separate init phase);
        a handler that overruns it finished anyway (threads cannot be killed), but its result is discarded.
        """
        name = self._logical_ids.get(function.function_name, function.function_name)
        request_id = str(uuid.uuid4())
        counts = Counter(invocations=1)
        elapsed = 0.0
        # decided when the invocation starts, applied after the handler ran (a crash after its side effects): a
        # caller that turns crashes off while a handler runs does not un-crash the invocation already under way
        crash = self._crashes(name, function.function_name)
        try:
            handler = self.load_handler(function)
        except HandlerLoadError as exc:
            payload, errored = json.dumps(error_payload(exc.error_type, str(exc), exc.stack_trace)), True
        else:
            context = LambdaContext(
                function_name=function.function_name,
                function_version=str(function.version),
                invoked_function_arn=function.function_arn,
                memory_limit_in_mb=int(function.memory_size),
                timeout_seconds=float(function.timeout),
                aws_request_id=request_id,
            )
            started = time.monotonic()
            payload, errored = logcontext.run_isolated(
                _call, handler, {} if event is None or event == "{}" else event, context
            )
            elapsed = time.monotonic() - started
            if elapsed > float(function.timeout):
                message = f"RequestId: {request_id} Error: Task timed out after {float(function.timeout):.2f} seconds"
                payload, errored = json.dumps(error_payload("Sandbox.Timedout", message)), True
                counts["timeouts"] += 1
        if crash:
            message = f"RequestId: {request_id} Error: Runtime exited (injected crash)"
            payload, errored = json.dumps(error_payload("Runtime.ExitError", message)), True
            counts["crashes"] += 1
        counts["errors"] += int(errored)
        with self._stats_lock:
            self._stats.setdefault(name, Counter()).update(counts)
        logs = (
            f"START RequestId: {request_id}\nEND RequestId: {request_id}\n"
            f"REPORT RequestId: {request_id}\tDuration: {elapsed * 1000:.2f} ms\n"
        )
        return payload, errored, logs

    def _crashes(self, logical_id: str, function_name: str) -> bool:
        for key in (logical_id, function_name, "*"):
            if key in self._crash_rates:
                rate, rng = self._crash_rates[key]
                return rng.random() < rate
        return False

    # --- loading ----------------------------------------------------------------------------------------------------

    def load_handler(self, function: Any) -> Handler:
        """Import the handler from the function's deployed zip (cached by code sha256)."""
        key = (function.function_arn, function.code_sha_256)
        handler = self._handlers.get(key)
        if handler is not None:
            return handler
        with self._load_lock:
            if key not in self._handlers:
                self._handlers[key] = self._import_handler(function)
            return self._handlers[key]

    def _import_handler(self, function: Any) -> Handler:
        name = self._logical_ids.get(function.function_name, function.function_name)
        label = f"{name} ({function.function_name})" if name != function.function_name else name
        module_path, _, attribute = (function.handler or "").rpartition(".")
        if not module_path or not attribute:
            raise HandlerLoadError("Runtime.HandlerNotFound", f"{label}: bad handler {function.handler!r}")
        digest = hashlib.sha256(function.code_bytes or b"").hexdigest()
        code_dir = self._extract(function.code_bytes or b"", digest)
        source = code_dir / (module_path.replace(".", "/") + ".py")
        if not source.is_file():
            raise HandlerLoadError(
                "Runtime.ImportModuleError",
                f"Unable to import module '{module_path}' for {label}: {source.name} is not in the deployed code "
                "(is the function's CodeUri folder missing or empty?)",
            )
        module_name = f"docproc_local_lambda_{_IDENTIFIER.sub('_', name)}_{digest[:12]}"
        spec = importlib.util.spec_from_file_location(module_name, source)
        if spec is None or spec.loader is None:
            raise HandlerLoadError("Runtime.ImportModuleError", f"{label}: cannot load {source}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # any import failure becomes Lambda's ImportModuleError
            del sys.modules[module_name]
            trace = traceback.format_list(traceback.extract_tb(exc.__traceback__))
            raise HandlerLoadError(
                "Runtime.ImportModuleError",
                f"Unable to import module '{module_path}' for {label}: {type(exc).__name__}: {exc}",
                trace,
            ) from exc
        handler = getattr(module, attribute, None)
        if not callable(handler):
            raise HandlerLoadError(
                "Runtime.HandlerNotFound", f"Handler '{attribute}' missing on module '{module_path}' for {label}"
            )
        log.info("loaded handler %s for %s from %s", function.handler, label, code_dir)
        return handler

    def _extract(self, code: bytes, digest: str) -> Path:
        target = self._cache_dir / digest
        if target.is_dir():
            return target
        self._cache_dir.mkdir(parents=True, exist_ok=True)
        staging = self._cache_dir / f".{digest}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        with zipfile.ZipFile(io.BytesIO(code)) as archive:
            archive.extractall(staging)
        try:
            staging.rename(target)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)  # another process extracted the same code first
        return target
