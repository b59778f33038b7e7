"""``docproc experiment check [FILE]`` and ``docproc experiment report NAME``.

``report`` reads the experiment's records from ``--jsonl FILE``, ``--stack-name NAME`` (a deployed stack's
ResultsTable), ``--local`` (the running ``docproc local up``), or by default ``.docproc/experiments/NAME/records.jsonl``
(written by ``docproc run PATH --experiment NAME``). It writes ``report.json`` and the charts to ``--out`` (default
``.docproc/experiments/NAME/``) and prints the tables. Exit codes: 0 the report was written, 2 usage or
configuration errors (an unknown experiment, no records).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from docproc_local.experiments import records as sources


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("experiment", help="A/B experiments: check the configuration, report on an experiment")
    commands = parser.add_subparsers(metavar="COMMAND")
    check = commands.add_parser("check", help="validate experiments.yaml and list experiments and variants")
    check.add_argument("file", type=Path, nargs="?", help="(default experiments.yaml in the package)")
    check.set_defaults(func=cmd_check)
    run = commands.add_parser(
        "run", help="push N documents (cycling a folder, default samples/) through a local stack running the experiment"
    )
    run.add_argument("name", metavar="NAME")
    run.add_argument("-n", "--documents", type=int, default=200, help="documents to push (default 200)")
    run.add_argument("--samples", type=Path, help="folder of documents to cycle through (default samples/)")
    run.add_argument("--timeout", type=float, default=1800, help="seconds to wait for all documents")
    run.set_defaults(func=cmd_run)
    report = commands.add_parser("report", help="compare the variants of an experiment, with significance tests")
    report.add_argument("name", metavar="NAME")
    report.add_argument("--jsonl", type=Path, help="records from `docproc run --jsonl FILE`")
    report.add_argument("--stack-name", help="a deployed stack in AWS")
    report.add_argument("--region", help="AWS region of --stack-name")
    report.add_argument("--local", action="store_true", help="the running `docproc local up` stack")
    report.add_argument("--golden", type=Path, metavar="DIR", help="a golden set: adds field F1 per variant")
    report.add_argument("--out", type=Path, help="report folder (default .docproc/experiments/NAME/)")
    report.add_argument("--json", action="store_true", help="print report.json instead of the tables")
    report.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    report.add_argument("--min-documents", type=int, default=30, help="per variant before deciding (default 30)")
    report.add_argument("--mde", type=float, default=0.05, help="smallest rate change worth detecting (0.05)")
    report.set_defaults(func=cmd_report)


def records_path(name: str) -> Path:
    return sources.folder(name) / "records.jsonl"


def run_parameters(name: str) -> dict[str, str]:
    """Template parameters that run experiment ``name`` (checked first: a clear error before the stack starts)."""
    from docproc import experiments

    config = experiments.load()
    experiment = experiments.active_experiment(config, name)
    assert experiment is not None
    default = next((v.model_id for v in experiment.variants if v.name == "control"), experiment.variants[0].model_id)
    others = sorted({v.model_id for v in experiment.variants} - {default})
    parameters = {"ActiveExperiment": name}
    if others:
        parameters["ExperimentModelId"] = others[0]
    return parameters


def cmd_check(args: argparse.Namespace) -> int:
    from docproc import experiments

    path = args.file or experiments.config_path()
    try:
        config = experiments.parse(path.read_text(encoding="utf-8"), source=str(path))
    except OSError as exc:
        print(f"invalid: {path}: cannot read it ({exc.strerror})")
        return 2
    except experiments.ExperimentConfigError as exc:
        print(f"invalid: {exc}")
        return 2
    print(f"{path}: version {config.version}, {len(config.experiments)} experiment(s), valid")
    for experiment in config.experiments:
        state = "active" if experiment.active else "inactive (ActiveExperiment or --experiment runs it)"
        print(f"  {experiment.name}: {state}, {experiment.start.isoformat()} to {experiment.end.isoformat()}")
        total = sum(v.weight for v in experiment.variants)
        for variant in experiment.variants:
            config_version = variant.class_config_version or "deployed"
            print(
                f"    {variant.name:<12} {variant.weight / total:>6.1%}  {variant.model_id}  prompt "
                f"{variant.prompt_version}, temperature {variant.temperature:g}, classes {config_version}"
            )
        models = sorted({v.model_id for v in experiment.variants})
        print(f"    models the extract function must be allowed to call: {', '.join(models)}")
    return 0


def _records(args: argparse.Namespace) -> tuple[list[dict[str, Any]], str]:
    if args.jsonl:
        return sources.from_jsonl(args.jsonl), str(args.jsonl)
    if args.stack_name:
        from docproc_local.client import StackClient

        client = StackClient.for_cloudformation_stack(args.stack_name, args.region)
        return sources.from_stack(client, args.name), f"stack {args.stack_name}"
    if args.local:
        from docproc_local.runtime import client_from_state

        return sources.from_stack(client_from_state(), args.name), "the running local stack"
    path = records_path(args.name)
    if not path.exists():
        raise FileNotFoundError(
            f"no records for experiment {args.name}: run `docproc run PATH --experiment {args.name}` first, or pass "
            "--jsonl FILE or --stack-name NAME"
        )
    return sources.from_jsonl(path), str(path)


def cmd_run(args: argparse.Namespace) -> int:
    """N copies cycled from a folder, each under its own key (so its own document id, hence its own variant)."""
    import uuid

    from docproc_local.bench import load_corpus
    from docproc_local.cli import Progress, _write_jsonl
    from docproc_local.runtime import LocalRuntime

    documents = load_corpus(args.samples, args.documents)
    # the same few files cycle under new keys: with the content cache on, every copy after the first of each variant
    # would be a hit and the report would compare the cache, not the variants
    parameters = {**run_parameters(args.name), "MaxInFlightDocuments": "25", "CacheTtlDays": "0"}
    runtime = LocalRuntime(parameters=parameters)
    print(f"Starting the local stack with experiment {args.name} ...", file=sys.stderr)
    with runtime as stack:
        run_id = uuid.uuid4().hex[:8]
        uploads = [stack.upload_bytes(d.data, f"experiment/{run_id}/{d.name}") for d in documents]
        print(f"Uploaded {len(uploads)} document(s); waiting for the pipeline ...", file=sys.stderr)
        progress = Progress(len(uploads), sys.stderr)
        finished = stack.wait_for([u.document_id for u in uploads], timeout=args.timeout, on_change=progress.update)
        progress.finish()
        path = records_path(args.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_jsonl(path, stack, uploads, finished)
    print(
        f"{len(finished)} record(s) in {path}; `docproc experiment report {args.name}` compares the variants",
        file=sys.stderr,
    )
    return 0 if len(finished) == len(uploads) else 3


def cmd_report(args: argparse.Namespace) -> int:
    from docproc import experiments
    from docproc_local.experiments import report

    try:
        config = experiments.load()
    except experiments.ExperimentConfigError as exc:
        print(f"docproc experiment: {exc}", file=sys.stderr)
        return 2
    experiment = config.get(args.name)
    all_records, source = _records(args)
    records = sources.of_experiment(all_records, args.name)
    if not records:
        print(f"docproc experiment: no records of experiment {args.name} in {source}", file=sys.stderr)
        return 2
    out = args.out or sources.folder(args.name)
    document = report.build(
        args.name,
        records,
        variant_names=[v.name for v in experiment.variants] if experiment else [],
        source=source,
        experiment=experiment.model_dump(mode="json") if experiment else None,
        golden=args.golden,
        out=out,
        alpha=args.alpha,
        min_documents=args.min_documents,
        mde=args.mde,
    )
    path = report.write(document, out)
    if args.json:
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        report.print_report(document)
    print(f"wrote {path} and {', '.join(str(out / f) for f in document['charts'].values())}", file=sys.stderr)
    return 0
