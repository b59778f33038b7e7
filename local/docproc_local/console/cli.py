"""``docproc console`` (the results console) and ``docproc golden export`` (reviews as a golden set).

docproc console                         over the running ``docproc local up``, read-only, on 127.0.0.1:8765
docproc console --stack-name NAME       over a deployed stack (the usual AWS credentials and region)
docproc console --demo                  start the local stack here, run samples/, then serve
docproc console --allow-actions         also reprocess, redrive and save reviews (as --reviewer, default $USER)
docproc golden export [--out DIR]       every document's newest review as documents/ + expected/
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
import time
from pathlib import Path
from typing import Any

DEFAULT_PORT = 8765
DEFAULT_EXPORT = Path(".docproc") / "golden-export"


def _default_reviewer() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no USER / LOGNAME and no passwd entry (containers)
        return "unknown"


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    console = sub.add_parser(
        "console",
        help="a web page over the stack's documents, fields, reviews, failures, events, cost and experiments",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    console.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on 127.0.0.1 (default {DEFAULT_PORT})")
    console.add_argument("--host", default="127.0.0.1", help="a loopback address only (default 127.0.0.1)")
    console.add_argument("--stack-name", help="a deployed stack in AWS (default: the running `docproc local up`)")
    console.add_argument("--region", help="AWS region of --stack-name")
    console.add_argument("--demo", action="store_true", help="start the local stack in this process and run samples/")
    console.add_argument("--samples", type=Path, default=Path("samples"), help="folder --demo runs (default samples/)")
    console.add_argument(
        "--allow-actions", action="store_true", help="enable reprocess, DLQ redrive and reviews (default: read-only)"
    )
    console.add_argument(
        "--reviewer", default=_default_reviewer(), help="name stored with each review (default: $USER)"
    )
    console.add_argument("--no-feed", action="store_true", help="do not read the example subscriber queue")
    console.set_defaults(func=cmd_console)

    golden = sub.add_parser("golden", help="golden-set commands")
    golden_sub = golden.add_subparsers(metavar="COMMAND")
    export = golden_sub.add_parser(
        "export", help="write every reviewed document as a golden-set entry that `docproc evaluate` reads"
    )
    export.add_argument("--out", type=Path, default=DEFAULT_EXPORT, help=f"folder (default {DEFAULT_EXPORT})")
    export.add_argument("--stack-name", help="a deployed stack in AWS (default: the running `docproc local up`)")
    export.add_argument("--region", help="AWS region of --stack-name")
    export.set_defaults(func=cmd_golden_export)


def _client(args: argparse.Namespace) -> Any:
    from docproc_local.client import StackClient

    if args.stack_name:
        return StackClient.for_cloudformation_stack(args.stack_name, args.region)
    from docproc_local.runtime import client_from_state

    return client_from_state()


def _log_to_stderr() -> None:
    logger = logging.getLogger("docproc_console")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s console %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def start_console(client: Any, args: argparse.Namespace) -> tuple[Any, Any]:
    """The backend and the running server for ``client`` (used by the command and the browser tests)."""
    from docproc_local.console.app import create_app
    from docproc_local.console.backend import Backend
    from docproc_local.console.feed import EventFeed
    from docproc_local.console.server import ConsoleServer

    server = ConsoleServer(None, host=args.host, port=args.port)  # binds first: a taken port fails before anything
    feed = None
    if not args.no_feed and client.outputs.get("SubscriberQueueUrl"):
        feed = EventFeed(client.client("sqs"), client.outputs["SubscriberQueueUrl"])
        feed.start()
    backend = Backend(client=client, allow_actions=args.allow_actions, reviewer=args.reviewer, feed=feed)
    server.set_app(create_app(backend, allowed_hosts=server.hosts))
    server.start()
    return backend, server


def cmd_console(args: argparse.Namespace) -> int:
    from docproc_local.cli import _StopOnSignal
    from docproc_local.console.server import check_host

    check_host(args.host)  # refuse before starting anything
    _log_to_stderr()
    runtime = None
    if args.demo:
        client, runtime = _demo(args)
    else:
        client = _client(args)
    try:
        backend, server = start_console(client, args)
    except OSError as exc:
        if runtime is not None:
            runtime.stop()
        raise RuntimeError(f"cannot serve on {args.host}:{args.port} ({exc.strerror}); try --port 0") from None
    mode = f"actions on, reviewer {backend.reviewer}" if backend.allow_actions else "read-only (--allow-actions)"
    print(f"docproc console on {server.url}  [{mode}]  Ctrl-C to stop", file=sys.stderr, flush=True)
    stop = _StopOnSignal()
    try:
        while not stop():
            time.sleep(0.2)
    finally:
        server.stop()
        if backend.feed is not None:
            backend.feed.stop()
        if runtime is not None:
            runtime.stop()
    return 0


def _demo(args: argparse.Namespace) -> tuple[Any, Any]:
    from docproc_local.cli import collect_files
    from docproc_local.runtime import LocalRuntime

    files = collect_files([args.samples])
    runtime = LocalRuntime()
    print("Starting the local stack from template.yaml (moto + model stand-ins) ...", file=sys.stderr, flush=True)
    client = runtime.start()
    uploads = [client.upload_file(path, key=key) for path, key in files]
    print(f"Uploaded {len(uploads)} document(s); waiting for the pipeline ...", file=sys.stderr, flush=True)
    records = client.wait_for([u.document_id for u in uploads], timeout=600)
    done = sum(1 for r in records.values() if r.get("status") in ("COMPLETED", "FAILED"))
    print(f"{done} of {len(uploads)} document(s) finished", file=sys.stderr, flush=True)
    return client, runtime


def cmd_golden_export(args: argparse.Namespace) -> int:
    from docproc_local.console.golden_export import export

    result = export(_client(args), args.out)
    for line in result.skipped:
        print(f"skipped {line}", file=sys.stderr)
    print(f"wrote {len(result.written)} golden-set entr{'y' if len(result.written) == 1 else 'ies'} to {result.folder}")
    if result.written:
        print(f"score them with: docproc evaluate {result.folder}")
    return 0
