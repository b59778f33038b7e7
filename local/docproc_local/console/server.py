"""Serving the console on the loopback interface only, with request logs that name paths and status codes only."""

from __future__ import annotations

import ipaddress
import logging
import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

log = logging.getLogger("docproc_console")
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}


class NotLoopback(ValueError):
    """The console never listens beyond this machine."""


def check_host(host: str) -> str:
    """``host`` if it is a loopback address (127.0.0.0/8, ::1, localhost), else :class:`NotLoopback`."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise NotLoopback(f"--host {host!r}: the console serves on a loopback address only (127.0.0.1)") from None
    if not address.is_loopback:
        raise NotLoopback(
            f"--host {host}: the console never listens beyond this machine; it serves on 127.0.0.1 only "
            "(reach a remote machine's console through an SSH tunnel: ssh -L 8765:127.0.0.1:8765 HOST)"
        )
    return host


class _QuietHandler(WSGIRequestHandler):
    """One log line per request: method, path without the query string, status. Never bodies or parameters."""

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        path = self.path.split("?", 1)[0]
        log.info("%s %s %s", self.command, path, getattr(code, "value", code))

    def log_error(self, format: str, *args: Any) -> None:
        log.warning("request error %s", args[0] if args else "")


class ConsoleServer:
    """A threaded WSGI server on a loopback host; ``port`` 0 takes a free one."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 8765) -> None:
        self.host = check_host(host)
        self.server: BaseWSGIServer = make_server(self.host, port, app, threaded=True, request_handler=_QuietHandler)
        self.port = self.server.server_port
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def hosts(self) -> set[str]:
        """The Host headers this server answers to."""
        return {f"{self.host}:{self.port}", f"localhost:{self.port}", f"127.0.0.1:{self.port}"}

    def set_app(self, app: Any) -> None:
        self.server.app = app

    def start(self) -> ConsoleServer:
        self._thread = threading.Thread(target=self.server.serve_forever, name="console-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
