"""One local HTTP server that speaks Bedrock Runtime ``Converse``, SageMaker Runtime ``InvokeEndpoint`` and Textract.

Point the handlers' plain boto3 clients at it with the standard variables (see :meth:`StandinServer.env`)::

    AWS_ENDPOINT_URL_BEDROCK_RUNTIME=http://127.0.0.1:54321
    AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=http://127.0.0.1:54321
    AWS_ENDPOINT_URL_TEXTRACT=http://127.0.0.1:54321

Routes: ``POST /model/{modelId}/converse``, ``POST /endpoints/{EndpointName}/invocations`` and ``POST /`` with
``X-Amz-Target: Textract.<Operation>`` (see :mod:`~docproc_local.standins.textract`); ``GET /health`` and
``GET /stats`` for scripts. Errors use each service's wire shape, so boto3 raises the modelled exceptions.

Environment (read when a server is built, from ``environ`` if given): ``DOCPROC_LOCAL_LLM_URL`` /
``DOCPROC_LOCAL_LLM_MODEL`` (forward Converse to an OpenAI-compatible server, see
:mod:`~docproc_local.standins.openai_compat`), ``DOCPROC_LOCAL_BEDROCK_FAULTS`` / ``DOCPROC_LOCAL_SAGEMAKER_FAULTS``
(fault settings as parsed by :meth:`FaultConfig.parse`, when ``faults`` is not given), and the Textract settings
``DOCPROC_LOCAL_TEXTRACT_*`` of :mod:`~docproc_local.standins.textract`.

Run on its own with ``python -m docproc_local.standins --port 8765``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import random
import re
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from docproc_local.standins import converse, guardrails, invoke_endpoint
from docproc_local.standins.errors import ServiceError
from docproc_local.standins.extractor import extract_insights
from docproc_local.standins.faults import FaultConfig, FaultInjector, Outcome
from docproc_local.standins.invoke_endpoint import EndpointModel
from docproc_local.standins.openai_compat import LLMEndpoint

if TYPE_CHECKING:
    from docproc_local.standins.textract import TextractService

__all__ = ["FaultConfig", "StandinServer", "main"]

logger = logging.getLogger(__name__)

ENV_FAULTS = {"bedrock": "DOCPROC_LOCAL_BEDROCK_FAULTS", "sagemaker": "DOCPROC_LOCAL_SAGEMAKER_FAULTS"}
MAX_BODY_BYTES = 32 * 1024 * 1024

_CONVERSE_PATH = re.compile(
    r"^/model/(?P<model>.+)/(?P<operation>converse|converse-stream|invoke|invoke-with-response-stream)$"
)
_INVOKE_PATH = re.compile(
    r"^/endpoints/(?P<endpoint>[^/]+)/(?P<operation>invocations|invocations-response-stream|async-invocations)$"
)

#: What each injected fault says (the services' own wording where it is known) and the extra error members.
_FAULT_ANSWERS: dict[str, tuple[str, dict[str, Any]]] = {
    "ThrottlingException": ("Too many requests, please wait before trying again.", {}),
    "InternalServerException": ("The server encountered an internal error while processing the request.", {}),
    "ServiceUnavailableException": ("The service is temporarily unable to handle the request. Try again later.", {}),
    "ModelTimeoutException": ("Model has timed out in processing the request. Try your request again.", {}),
    "ModelNotReadyException": ("The model is not ready to serve inference requests. Try again later.", {}),
    "ModelErrorException": ("The model returned an error.", {"originalStatusCode": 500, "resourceName": "local"}),
    "InternalFailure": ("An internal failure occurred. Try your request again.", {}),
    "ServiceUnavailable": ("The service is temporarily unavailable. Try your request again.", {}),
    "ModelError": ("The model container failed.", {"OriginalStatusCode": 500, "OriginalMessage": "internal error"}),
    "InternalDependencyException": ("An internal dependency failed. Try your request again.", {}),
}


def _default_model() -> EndpointModel:
    """The project's classifier artifact (built first if missing), served as the SageMaker container serves it."""
    from docproc_local.classifier import artifact

    return artifact.ServedModel(artifact.ensure())


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: StandinServer) -> None:
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End the kept-alive connections too, so that a stopped server answers nothing more."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return  # the client went away: nothing to answer
        logger.exception("stand-in connection from %s failed", client_address)


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "docproc-standin/1"
    disable_nagle_algorithm = True  # headers and body go out as two writes: without this, delayed ACKs add 40 ms
    server: _HTTPServer

    def do_POST(self) -> None:
        self.server.app._handle_post(self)

    def do_GET(self) -> None:
        self.server.app._handle_get(self)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY_BYTES:
                    raise ValueError("request body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise ValueError("request body too large")
        return self.rfile.read(length) if length > 0 else b""

    def send(self, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        headers = dict(headers or {})
        self.send_response(status)
        self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def send_error_answer(self, error: ServiceError) -> None:
        self.send(error.status, error.body(), {"x-amzn-ErrorType": error.code})


class StandinServer:
    """Local Bedrock Runtime + SageMaker Runtime stand-ins on one port, with fault injection and counters.

    ``model`` serves InvokeEndpoint (default: the project's ``model.tar.gz``, loaded on the first call, see
    :func:`_default_model`).
    ``endpoints`` / ``model_ids``, when given, are the only endpoint names / model ids that exist. ``llm`` forwards
    Converse to an OpenAI-compatible server (default: from ``DOCPROC_LOCAL_LLM_URL``; pass ``environ={}`` to
    ignore the environment).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        model: EndpointModel | None = None,
        faults: Mapping[str, FaultConfig] | None = None,
        *,
        endpoints: Iterable[str] | None = None,
        model_ids: Iterable[str] | None = None,
        max_input_tokens: int = converse.DEFAULT_MAX_INPUT_TOKENS,
        llm: LLMEndpoint | None = None,
        extract: Callable[[str], dict[str, Any]] = extract_insights,
        environ: Mapping[str, str] | None = None,
        textract: TextractService | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        if faults is None:
            faults = {service: FaultConfig.parse(env[name]) for service, name in ENV_FAULTS.items() if env.get(name)}
        from docproc_local.standins.textract import TextractService  # so that `-m ...standins.textract` runs cleanly

        faults = dict(faults)
        textract_faults = faults.pop("textract", None)
        self.textract = textract if textract is not None else TextractService(environ=env, faults=textract_faults)
        if textract is not None and textract_faults is not None:
            textract.set_faults(textract_faults)
        self.host = host
        self.port = port
        self.endpoints = frozenset(endpoints) if endpoints is not None else None
        self.model_ids = frozenset(model_ids) if model_ids is not None else None
        self.max_input_tokens = max_input_tokens
        self.llm = llm if llm is not None else LLMEndpoint.from_env(env)
        self._extract = extract
        self._model = model
        self._model_lock = threading.Lock()
        self._faults = FaultInjector(faults)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------------------------------

    def start(self) -> StandinServer:
        """Bind and serve in a background thread (returns at once; the port is bound when it returns)."""
        if self._httpd is not None:
            return self
        server_cls = _HTTPServer6 if ":" in self.host else _HTTPServer
        self._httpd = server_cls((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="docproc-standins", daemon=True
        )
        self._thread.start()
        logger.info("stand-ins listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving and free the port (waits for the serving thread)."""
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._httpd, self._thread = None, None
        self.textract.close()

    def __enter__(self) -> StandinServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the stand-in server is not started")
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host  # noqa: S104 - a URL to connect to
        host = "[::1]" if host == "::" else (f"[{host}]" if ":" in host else host)
        return f"http://{host}:{self.port}"

    def env(self) -> dict[str, str]:
        """The variables that point boto3's ``bedrock-runtime``, ``sagemaker-runtime`` and ``textract`` clients here."""
        return {
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": self.url,
            "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": self.url,
            "AWS_ENDPOINT_URL_TEXTRACT": self.url,
        }

    # --- faults and counters -----------------------------------------------------------------------------------------

    def set_faults(self, service: str, config: FaultConfig) -> None:
        """Change the fault settings of ``"bedrock"``, ``"sagemaker"`` or ``"textract"`` (restarts its sequence)."""
        if service == "textract":
            self.textract.set_faults(config)
        else:
            self._faults.set(service, config)

    def faults(self, service: str) -> FaultConfig:
        return self.textract.faults() if service == "textract" else self._faults.config(service)

    def stats(self) -> dict[str, dict[str, Any]]:
        """Counters per service: requests, ok, throttled, errors, malformed, rejected, faults, codes, tokens ..."""
        return {**self._faults.stats(), "textract": self.textract.stats()}

    def reset_stats(self) -> None:
        self._faults.reset_stats()
        self.textract.reset_stats()

    # --- request handling --------------------------------------------------------------------------------------------

    def _endpoint_model(self) -> EndpointModel:
        with self._model_lock:
            if self._model is None:
                self._model = _default_model()
            return self._model

    def _handle_get(self, handler: _Handler) -> None:
        path = urlsplit(handler.path).path
        if path in ("/", "/health"):
            handler.send(200, b'{"status": "ok"}')
        elif path == "/stats":
            handler.send(200, json.dumps(self.stats()).encode())
        else:
            handler.send(404, b'{"message": "Not found"}', {"x-amzn-ErrorType": "UnknownOperationException"})

    def _handle_post(self, handler: _Handler) -> None:
        path = urlsplit(handler.path).path
        try:
            body = handler.read_body()
        except ValueError:
            handler.close_connection = True
            handler.send(413, b'{"message": "Request body too large"}', {"x-amzn-ErrorType": "ValidationException"})
            return
        target = handler.headers.get("X-Amz-Target") or ""
        if path == "/" and target.startswith("Textract."):
            self._textract(handler, target, body)
            return
        if match := _CONVERSE_PATH.match(path):
            service, operation = "bedrock", match["operation"]
        elif match := _INVOKE_PATH.match(path):
            service, operation = "sagemaker", match["operation"]
        else:
            handler.send(404, b'{"message": "Unknown operation"}', {"x-amzn-ErrorType": "UnknownOperationException"})
            return
        self._faults.count(service, "requests")
        if operation not in ("converse", "invocations"):
            code = "ValidationException" if service == "bedrock" else "ValidationError"
            message = f"The local stand-in does not implement {operation}."
            handler.send_error_answer(ServiceError(service, code, message))
            return
        try:
            if service == "bedrock":
                self._converse(handler, unquote(match["model"]), body)
            else:
                self._invoke(handler, unquote(match["endpoint"]), body)
        except ServiceError as error:
            handler.send_error_answer(error)
        except RecursionError:  # a request nested past what the service parses: it refuses it, with a 4xx
            code = "ValidationException" if service == "bedrock" else "ValidationError"
            handler.send_error_answer(ServiceError(service, code, "The request is nested too deeply to be read."))
        except Exception:  # a bug of the stand-in must reach the client as a 500, not as a hang-up
            logger.exception("stand-in %s request failed", service)
            code = "InternalServerException" if service == "bedrock" else "InternalFailure"
            handler.send_error_answer(ServiceError(service, code, "The local stand-in failed; see its log."))

    def _textract(self, handler: _Handler, target: str, body: bytes) -> None:
        try:
            answer = self.textract.handle(target, body)
        except ServiceError as error:
            handler.send_error_answer(error)
            return
        except RecursionError:  # a request nested past what the service parses: it refuses it, with a 4xx
            error = ServiceError("textract", "InvalidParameterException", "The request is nested too deeply.")
            handler.send_error_answer(error)
            return
        except Exception:  # a bug of the stand-in must reach the client as a 500, not as a hang-up
            logger.exception("stand-in textract request failed")
            handler.send_error_answer(ServiceError("textract", "InternalServerError", "The local stand-in failed."))
            return
        handler.send(200, answer, {"Content-Type": "application/x-amz-json-1.1"})

    def _rejected(self, service: str, error: ServiceError) -> ServiceError:
        self._faults.count(service, "rejected", code=error.code)
        return error

    def _converse(self, handler: _Handler, model_id: str, body: bytes) -> None:
        started = time.perf_counter()
        try:
            request = converse.parse_request(
                model_id, body, model_ids=self.model_ids, max_input_tokens=self.max_input_tokens
            )
        except ServiceError as error:
            raise self._rejected("bedrock", error) from None
        try:
            guardrail = guardrails.resolve(request.guardrail)
        except ServiceError as error:
            raise self._rejected("bedrock", error) from None
        decision = self._faults.decide("bedrock")
        self._apply_latency("bedrock", decision.latency_ms)
        self._raise_injected("bedrock", decision.outcome, decision.code)
        if guardrail is not None and request.guardrail is not None:
            blocked = guardrail.assess(request.conversation)
            if blocked is not None:  # the input is blocked: the model is not called
                self._faults.count("bedrock", "guardrail_interventions")
                body = guardrails.blocked_body(guardrail, request.guardrail, input_assessment=blocked)
                body["metrics"]["latencyMs"] = int((time.perf_counter() - started) * 1000)
                handler.send(200, json.dumps(body).encode())
                return
        malformed = decision.outcome is Outcome.MALFORMED
        result = converse.answer(
            request,
            extract=self._extract,
            llm=self.llm,
            malformed=malformed,
            rng=random.Random(decision.variant),
        )
        if guardrail is not None and request.guardrail is not None:
            blocked = guardrail.assess(guardrails.answer_text(result.body))
            if blocked is not None:  # the model's answer is blocked
                self._faults.count("bedrock", "guardrail_interventions")
                result.body = guardrails.blocked_body(
                    guardrail, request.guardrail, output_assessment=blocked, usage=result.body["usage"]
                )
        result.body["metrics"]["latencyMs"] = int((time.perf_counter() - started) * 1000)
        usage = result.body["usage"]
        counters = ["malformed" if malformed else "ok"]
        counters += ["forwarded"] if result.forwarded else []
        counters += ["forward_failures"] if result.forward_failed else []
        counters += ["repaired"] if result.repaired else []
        self._faults.count("bedrock", *counters)
        self._faults.count("bedrock", "input_tokens", amount=usage["inputTokens"])
        self._faults.count("bedrock", "output_tokens", amount=usage["outputTokens"])
        handler.send(200, json.dumps(result.body, ensure_ascii=False).encode())

    def _invoke(self, handler: _Handler, endpoint_name: str, body: bytes) -> None:
        try:
            invoke_endpoint.check_request(endpoint_name, body, endpoints=self.endpoints)
        except ServiceError as error:
            raise self._rejected("sagemaker", error) from None
        decision = self._faults.decide("sagemaker")
        self._apply_latency("sagemaker", decision.latency_ms)
        self._raise_injected("sagemaker", decision.outcome, decision.code)
        try:
            answer = invoke_endpoint.invoke(
                self._endpoint_model(),
                endpoint_name,
                body,
                handler.headers.get("Content-Type"),
                handler.headers.get("Accept"),
            )
        except ServiceError as error:
            self._faults.count("sagemaker", "model_errors", code=error.code)
            raise
        malformed = decision.outcome is Outcome.MALFORMED
        if malformed:
            answer = answer[: max(1, len(answer) // 2)]  # a container that died in the middle of its answer
        self._faults.count("sagemaker", "malformed" if malformed else "ok")
        handler.send(200, answer, {"x-Amzn-Invoked-Production-Variant": "AllTraffic"})

    def _apply_latency(self, service: str, latency_ms: int) -> None:
        if latency_ms:
            time.sleep(latency_ms / 1000)
            self._faults.count(service, "latency_ms", amount=latency_ms)

    def _raise_injected(self, service: str, outcome: Outcome, code: str | None) -> None:
        if outcome not in (Outcome.THROTTLED, Outcome.ERROR) or code is None:
            return
        self._faults.count(service, "throttled" if outcome is Outcome.THROTTLED else "errors", code=code)
        message, members = _FAULT_ANSWERS.get(code, ("Injected fault.", {}))
        raise ServiceError(service, code, message, **members)


def main(argv: list[str] | None = None) -> int:
    """Serve the stand-ins until interrupted; print the variables to export and, at the end, the counters."""
    parser = argparse.ArgumentParser(prog="python -m docproc_local.standins", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    for service in ("bedrock", "sagemaker", "textract"):
        parser.add_argument(
            f"--{service}-faults", metavar="SPEC", help="e.g. throttle_rate=0.1,error_rate=0.05,latency_ms=20,seed=7"
        )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    faults = {
        service: FaultConfig.parse(spec)
        for service, spec in (
            ("bedrock", args.bedrock_faults),
            ("sagemaker", args.sagemaker_faults),
            ("textract", args.textract_faults),
        )
        if spec
    }
    server = StandinServer(args.host, args.port, faults=faults or None)
    with server:
        for name, value in server.env().items():
            print(f"export {name}={value}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
        print(json.dumps(server.stats(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
