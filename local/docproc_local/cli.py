"""The ``docproc`` command.

    docproc run PATH...          run the local pipeline on files or folders, print a results table
    docproc local up             keep the local stack running on a port (real AWS CLI / boto3 work against it)
    docproc events [--follow]    print result events from the example subscriber queue
    docproc reprocess KEY...     process the current version of objects again (a new generation)
    docproc redrive              move dead-lettered documents back to the intake queue
    docproc bench [--chaos]      throughput, latency and reliability numbers (--cold-start, --hostile)
    docproc cost                 what the processed documents cost: total, per 1,000, by model, route, domain, class
    docproc cache stats|clear    the content cache: count its entries, or empty it
    docproc routes check [FILE]  validate routing rules (config/routes.yaml) and list them in order
    docproc experiment ...       A/B experiments: check the configuration, report a variant comparison
    docproc backfill S3URI       process objects already in the bucket through the normal intake path
    docproc console              a local web page over the documents, fields, reviews, failures, events, cost
    docproc golden export        reviewed documents as a golden set that `docproc evaluate` reads
    docproc classifier ...       train, evaluate, bench and publish the SageMaker domain classifier

``events``, ``reprocess``, ``redrive``, ``cost``, ``cache`` and ``backfill`` talk to a running ``docproc local up``
by default, or to a stack in AWS with ``--stack-name NAME`` (credentials and region from the usual AWS settings).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from docproc_local import backfill, cache_cli, classes_cli, cost_cli
from docproc_local.classifier import cli as classifier_cli
from docproc_local.client import StackClient, Upload
from docproc_local.console import cli as console_cli
from docproc_local.evaluation import cli as evaluation_cli
from docproc_local.experiments import cli as experiment_cli

SKIP_NAMES = {".DS_Store", "Thumbs.db"}


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `docproc ... | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (FileNotFoundError, RuntimeError, ValueError) as exc:
        print(f"docproc: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="docproc", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(metavar="COMMAND")

    run = sub.add_parser("run", help="run the local pipeline on files or folders")
    run.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    run.add_argument("--jsonl", type=Path, help="also write one JSON line per document to this file")
    run.add_argument("--timeout", type=float, default=600, help="seconds to wait for all documents (default 600)")
    run.add_argument("--prefix", default="", help="key prefix for the uploads")
    run.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="upload the files N times, each pass under new keys (repeat-2/, ...) after the last one finished: "
        "later passes show the content cache (model requests per pass are printed)",
    )
    run.add_argument(
        "--experiment",
        metavar="NAME",
        help="run an experiment of experiments.yaml (ActiveExperiment=NAME); records go to .docproc/experiments/NAME/",
    )
    _local_options(run)
    run.set_defaults(func=cmd_run)

    local = sub.add_parser("local", help="local stack commands")
    local_sub = local.add_subparsers(metavar="COMMAND")
    up = local_sub.add_parser("up", help="keep the local stack running on a localhost port")
    up.add_argument("--port", type=int, default=4566, help="port of the local AWS endpoint (default 4566)")
    _local_options(up, port=False)
    up.set_defaults(func=cmd_local_up)

    events = sub.add_parser("events", help="print result events from the example subscriber queue")
    events.add_argument("--follow", "-f", action="store_true", help="keep printing events as they arrive")
    _target_options(events)
    events.set_defaults(func=cmd_events)

    reprocess = sub.add_parser("reprocess", help="process objects again (a new generation of their records)")
    reprocess.add_argument("keys", nargs="+", metavar="KEY", help="object keys in the input bucket")
    _target_options(reprocess)
    reprocess.set_defaults(func=cmd_reprocess)

    redrive = sub.add_parser("redrive", help="move dead-lettered documents back to the intake queue")
    redrive.add_argument("--limit", type=int, help="move at most this many messages")
    _target_options(redrive)
    redrive.set_defaults(func=cmd_redrive)

    bench = sub.add_parser("bench", help="throughput and latency (or --chaos: reliability under faults)")
    bench.add_argument("-n", "--documents", type=int, help="documents to push (default 60, or 500 with --chaos)")
    bench.add_argument("--chaos", action="store_true", help="duplicate events, throttling, 5xx and crashes")
    bench.add_argument("--formats", action="store_true", help="text-PDF and OCR pages per second, prepare's memory")
    bench.add_argument(
        "--cold-start", action="store_true", help="each function's init as built, in fresh processes (-n: runs)"
    )
    bench.add_argument("--hostile", action="store_true", help="generated hostile inputs through the local pipeline")
    bench.add_argument("--samples", type=Path, default=None, help="folder of documents to cycle through")
    bench.add_argument("--seed", type=int, default=7)
    bench.add_argument(
        "--no-cache",
        action="store_true",
        help="--chaos with the content cache off (the samples cycle, so with it most copies skip the models)",
    )
    bench.add_argument("--timeout", type=float, default=1800)
    bench.set_defaults(func=cmd_bench)

    classifier_cli.add_parser(sub)
    evaluation_cli.add_parser(sub)
    classes_cli.add_parser(sub)
    cost_cli.add_parser(sub)
    cache_cli.add_parser(sub)
    experiment_cli.add_parser(sub)
    backfill.add_parser(sub)
    console_cli.add_parser(sub)
    return parser


def _local_options(parser: argparse.ArgumentParser, port: bool = True) -> None:
    parser.add_argument("--template", type=Path, help="SAM template (default ./template.yaml)")
    if port:
        parser.add_argument("--port", type=int, default=0, help="port of the local AWS endpoint (default: any)")
    parser.add_argument(
        "--parameter-overrides", nargs="*", default=[], metavar="KEY=VALUE", help="template parameters, as in sam"
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="show the Lambda functions' logs")
    faults = parser.add_argument_group("fault injection (local only)")
    faults.add_argument(
        "--bedrock-faults",
        metavar="SPEC",
        help="e.g. throttle_rate=0.2,error_rate=0.05,latency_ms=200,malformed_rate=0.01,seed=7",
    )
    faults.add_argument("--sagemaker-faults", metavar="SPEC", help="same keys as --bedrock-faults")
    faults.add_argument(
        "--crash-rate",
        type=float,
        default=0.0,
        help="probability that a Lambda invocation crashes after its side effects",
    )
    faults.add_argument(
        "--duplicate-deliveries",
        type=int,
        default=1,
        metavar="N",
        help="deliver every S3 event N times (EventBridge is at-least-once)",
    )


def _faults(args: argparse.Namespace) -> dict[str, Any] | None:
    from docproc_local.standins.faults import FaultConfig

    specs = {"bedrock": args.bedrock_faults, "sagemaker": args.sagemaker_faults}
    if not any(specs.values()):
        return None  # the stand-ins fall back to DOCPROC_LOCAL_BEDROCK_FAULTS / DOCPROC_LOCAL_SAGEMAKER_FAULTS
    return {service: FaultConfig.parse(spec) for service, spec in specs.items() if spec}


def _target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack-name", help="a deployed stack in AWS (default: the running `docproc local up`)")
    parser.add_argument("--region", help="AWS region of --stack-name")


def parse_parameters(pairs: Sequence[str]) -> dict[str, str]:
    """``KEY=VALUE`` template parameter overrides, as ``sam deploy --parameter-overrides`` takes them."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"parameter override {pair!r} is not KEY=VALUE")
        out[key] = value
    return out


def _runtime(args: argparse.Namespace) -> Any:
    from docproc_local.runtime import LocalRuntime

    parameters = parse_parameters(args.parameter_overrides)
    if getattr(args, "experiment", None):
        parameters.update(experiment_cli.run_parameters(args.experiment))
    return LocalRuntime(
        template=args.template,
        port=args.port,
        parameters=parameters,
        faults=_faults(args),
        crash_rate=args.crash_rate,
        duplicate_deliveries=args.duplicate_deliveries,
        verbose=args.verbose,
    )


def _target(args: argparse.Namespace) -> StackClient:
    if args.stack_name:
        return StackClient.for_cloudformation_stack(args.stack_name, args.region)
    from docproc_local.runtime import client_from_state

    return client_from_state()


# --- run -----------------------------------------------------------------------------------------------------------


def collect_files(paths: Sequence[Path]) -> list[tuple[Path, str]]:
    """(file, key) pairs: folders are walked; keys keep the path below the folder."""
    files: list[tuple[Path, str]] = []
    for path in paths:
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                relative = file.relative_to(path)
                if any(part.startswith(".") for part in relative.parts) or file.name in SKIP_NAMES:
                    continue
                files.append((file, relative.as_posix()))
        elif path.is_file():
            files.append((path, path.name))
        else:
            raise FileNotFoundError(f"{path} does not exist")
    if not files:
        raise FileNotFoundError("no files to process")
    return files


def cmd_run(args: argparse.Namespace) -> int:
    files = collect_files(args.paths)
    runtime = _runtime(args)
    _err(f"Starting the local stack from {runtime.template.name} (moto + model stand-ins) ...")
    all_uploads: list[Upload] = []
    all_records: dict[str, dict[str, Any]] = {}
    rows, events = [], []
    with runtime as stack:
        _err(f"  ready in {runtime.startup_seconds:.1f}s - bucket {stack.outputs['InputBucketName']}")
        for number in range(1, max(1, args.repeat) + 1):
            before = _model_requests(runtime)
            prefix = args.prefix + (f"repeat-{number}/" if number > 1 else "")
            uploads = [stack.upload_file(path, key=prefix + key) for path, key in files]
            _err(f"Uploaded {len(uploads)} document(s) through the S3 API; waiting for the pipeline ...")
            progress = Progress(len(uploads), sys.stderr)
            records = stack.wait_for([u.document_id for u in uploads], timeout=args.timeout, on_change=progress.update)
            progress.finish()
            expected_events = len(records) + sum(1 for r in records.values() if r.get("needsReview"))
            events += _drain_events(stack, expected=expected_events)
            pass_rows = [_row(upload, records.get(upload.document_id)) for upload in uploads]
            print_table(pass_rows, sys.stdout)
            print(cost_line(list(records.values())), flush=True)
            if args.repeat > 1:
                used = {k: v - before.get(k, 0) for k, v in _model_requests(runtime).items()}
                hits = sum(1 for r in records.values() if (r.get("cache") or {}).get("status") == "hit")
                print(
                    f"pass {number}: {hits} of {len(records)} cache hits; model requests: Bedrock {used['bedrock']}, "
                    f"SageMaker {used['sagemaker']}",
                    flush=True,
                )
            rows += pass_rows
            all_uploads += uploads
            all_records.update(records)
        if args.jsonl:
            _write_jsonl(args.jsonl, stack, all_uploads, all_records)
            _err(f"Wrote {len(all_uploads)} line(s) to {args.jsonl}")
        if args.experiment:
            path = experiment_cli.records_path(args.experiment)
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_jsonl(path, stack, all_uploads, all_records)
            _err(
                f"Experiment {args.experiment}: {len(all_uploads)} record(s) in {path}; `docproc experiment report "
                f"{args.experiment}` compares the variants"
            )
    completed = sum(1 for r in rows if r["status"] == "COMPLETED")
    failed = sum(1 for r in rows if r["status"] == "FAILED")
    unfinished = len(rows) - completed - failed
    reviews = sum(1 for e in events if e.get("detail-type") == "Document Needs Review")
    _err(
        f"{completed} completed, {failed} failed, {unfinished} unfinished; {len(events) - reviews} result event(s) "
        f"and {reviews} review event(s) received; {sum(1 for r in rows if r['review'])} need review"
    )
    if runtime.lambda_log:
        _err(f"Lambda logs and metrics (as CloudWatch would hold them): {runtime.lambda_log}")
    if unfinished:
        return 3
    return 0 if failed == 0 else 1


def _model_requests(runtime: Any) -> dict[str, int]:
    """Requests the Bedrock and SageMaker stand-ins answered so far (what the content cache saves)."""
    stats = runtime.standins.stats() if getattr(runtime, "standins", None) else {}
    return {service: int((stats.get(service) or {}).get("requests", 0)) for service in ("bedrock", "sagemaker")}


def _drain_events(stack: StackClient, expected: int, timeout: float = 10) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(events) < expected and time.monotonic() < deadline:
        events.extend(stack.receive_events(wait_seconds=1))
    return events


def _row(upload: Upload, record: dict[str, Any] | None) -> dict[str, Any]:
    record = record or {}
    classification = record.get("classification") or {}
    extraction = (record.get("extraction") or {}).get("extraction") or {}
    status = record.get("status", "UNFINISHED")
    latency = (record.get("timings") or {}).get("totalMs")
    reason = (record.get("error") or {}).get("reasonCode") or record.get("reasonCode") or ""
    if record.get("partial"):
        reason = "partial: " + ", ".join(f"{m['part']} {m['reasonCode']}" for m in record.get("missing", []))
    return {
        "document": upload.key,
        "status": status,
        "domain": classification.get("domain", ""),
        "class": record.get("documentClass", ""),
        "title": extraction.get("title", ""),
        "confidence": f"{record['confidence']:.2f}" if record.get("confidence") is not None else "",
        "fields": str(len(record["fields"])) if record.get("fields") else "",
        "review": "yes" if record.get("needsReview") else "",
        "latency": f"{latency / 1000:.1f}s" if latency is not None else "",
        "cost": cost_cli.usd(cost["totalUsd"]) if isinstance(cost := record.get("cost"), dict) else "",
        "reason": reason,
    }


def cost_line(records: list[dict[str, Any]]) -> str:
    """The total and per-1,000 cost of the records that carry one."""
    costs = [float(r["cost"]["totalUsd"]) for r in records if isinstance(r.get("cost"), dict)]
    if not costs:
        return "cost: n/a (no record carries a cost)"
    total = sum(costs)
    versions = ", ".join(sorted({str(r["cost"].get("pricesVersion")) for r in records if r.get("cost")}))
    return (
        f"cost: {cost_cli.usd(total)} for {len(costs)} document(s), {cost_cli.usd(1000 * total / len(costs))} per "
        f"1,000 documents (estimated at list prices, price table {versions}; `docproc cost` for the breakdown)"
    )


COLUMNS = (
    ("document", 34),
    ("status", 10),
    ("domain", 10),
    ("class", 19),
    ("title", 30),
    ("confidence", 10),
    ("fields", 6),
    ("review", 6),
    ("latency", 8),
    ("cost", 10),
    ("reason", 30),
)


def print_table(rows: list[dict[str, Any]], out: TextIO) -> None:
    def cell(value: Any, width: int) -> str:
        text = " ".join(str(value).split())
        return text if len(text) <= width else text[: width - 1] + "…"

    widths = {name: min(width, max([len(name)] + [len(cell(r[name], width)) for r in rows])) for name, width in COLUMNS}
    shown = [name for name, _ in COLUMNS if name != "reason" or any(r["reason"] for r in rows)]
    out.write("  ".join(name.upper().ljust(widths[name]) for name in shown).rstrip() + "\n")
    for row in rows:
        out.write("  ".join(cell(row[name], widths[name]).ljust(widths[name]) for name in shown).rstrip() + "\n")


def _write_jsonl(path: Path, stack: StackClient, uploads: list[Upload], records: dict[str, dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for upload in uploads:
            record = records.get(upload.document_id)
            result = stack.result_json(record) if record else None
            line = {
                "file": str(upload.path),
                "key": upload.key,
                "documentId": upload.document_id,
                "record": record,
                "result": result,
            }
            out.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")


class Progress:
    """A one-line progress bar on a terminal; one line per change otherwise (CI logs stay readable)."""

    def __init__(self, total: int, out: TextIO) -> None:
        self.total = total
        self.out = out
        self.status: dict[str, str] = {}
        self.tty = out.isatty()
        self.started = time.monotonic()
        self._last_done = -1
        self._draw()

    def update(self, document_id: str, record: dict[str, Any]) -> None:
        self.status[document_id] = str(record.get("status"))
        self._draw()

    def _draw(self) -> None:
        done = sum(1 for s in self.status.values() if s in ("COMPLETED", "FAILED"))
        failed = sum(1 for s in self.status.values() if s == "FAILED")
        running = sum(1 for s in self.status.values() if s == "PROCESSING")
        width = 30
        filled = int(width * done / self.total) if self.total else width
        line = (
            f"[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} done"
            f" ({failed} failed, {running} processing) {time.monotonic() - self.started:5.1f}s"
        )
        if self.tty:
            self.out.write("\r" + line)
        elif done != self._last_done:  # in logs, one line per finished document
            self.out.write(line + "\n")
        self._last_done = done
        self.out.flush()

    def finish(self) -> None:
        if self.tty:
            self.out.write("\n")


# --- local up, events, reprocess, redrive --------------------------------------------------------------------------


class _StopOnSignal:
    """True once SIGINT or SIGTERM arrived. A plain flag: a signal handler must not take locks (Event.set does,
    and a second signal during the first would deadlock on it)."""

    def __init__(self) -> None:
        self.stopped = False
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handle)

    def _handle(self, *_: object) -> None:
        self.stopped = True

    def __call__(self) -> bool:
        return self.stopped


def cmd_local_up(args: argparse.Namespace) -> int:
    runtime = _runtime(args)
    stack = runtime.start()
    state = runtime.write_state()
    o, url = stack.outputs, stack.endpoint_url
    print(
        f"""docproc local stack is up in {runtime.startup_seconds:.1f}s (Ctrl-C to stop)

  endpoint        {url}
  input bucket    {o["InputBucketName"]}
  results table   {o["ResultsTableName"]}
  event bus       {o["EventBusName"]}
  state machine   {o["StateMachineArn"]}
  subscriber      {o["SubscriberQueueUrl"]}
  state file      {state}

With the AWS CLI (any credentials work locally):
  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION={stack.region}
  aws --endpoint-url {url} s3 cp samples/cuad-aduro-consulting-agreement.txt s3://{o["InputBucketName"]}/
  aws --endpoint-url {url} dynamodb scan --table-name {o["ResultsTableName"]}
  aws --endpoint-url {url} sqs receive-message --queue-url {o["SubscriberQueueUrl"]}

With boto3:
  s3 = boto3.client("s3", endpoint_url="{url}", region_name="{stack.region}")
  s3.upload_file("samples/cuad-aduro-consulting-agreement.txt", "{o["InputBucketName"]}", "contract.txt")

Follow result events in another terminal:  docproc events --follow
""",
        flush=True,
    )
    stop = _StopOnSignal()
    while not stop():
        time.sleep(0.2)
    runtime.stop()
    state.unlink(missing_ok=True)
    print("stopped", file=sys.stderr)
    return 0


def cmd_events(args: argparse.Namespace) -> int:
    stack = _target(args)
    stop = _StopOnSignal()
    if not args.follow:
        events = stack.receive_events(wait_seconds=1)
        for event in events:
            print(json.dumps(event, ensure_ascii=False), flush=True)
        return 0
    for event in stack.follow_events(stop=stop):
        print(json.dumps(event, ensure_ascii=False), flush=True)
    return 0


def cmd_reprocess(args: argparse.Namespace) -> int:
    stack = _target(args)
    for key in args.keys:
        doc_id = stack.reprocess(key)
        print(f"{key}: reprocess requested (document {doc_id})")
    return 0


def cmd_redrive(args: argparse.Namespace) -> int:
    stack = _target(args)
    moved = stack.redrive(limit=args.limit)
    print(f"moved {moved} message(s) from the dead-letter queue back to the intake queue")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    if args.cold_start:
        from docproc_local import coldstart

        return coldstart.run(runs=args.documents or 10)
    if args.hostile:
        from docproc_local import hostile_bench

        return hostile_bench.run(timeout=args.timeout)
    if args.formats:
        from docproc_local import formats_bench

        formats_bench.run()
        return 0
    from docproc_local import bench

    return bench.main(args)


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
