"""``docproc evaluate GOLDEN``: score a golden set on the local stack (or a deployed one), report, and gate.

Exit codes: 0 every gate given passed (or none was given), 1 a gate failed, 2 usage or golden-set errors.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from docproc_local.evaluation.gates import Thresholds, parse_field_gate, unit_interval

if TYPE_CHECKING:
    from docproc.classes import ClassConfig
    from docproc_local.evaluation.costs import Prices
    from docproc_local.evaluation.runner import DocumentRun

DEFAULT_OUT = Path(".docproc") / "evaluate"


def _rate(text: str) -> float:
    try:
        return unit_interval(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    evaluate = sub.add_parser(
        "evaluate",
        help="score a golden set (domain, class, fields, calibration, cost, latency) and gate on it",
        description="Run every golden document through the local stack (or --stack-name), score domain, class,\n"
        "fields, calibration, cost and latency, write report.md, report.json and reliability.svg, and check the\n"
        "gates. Exit codes: 0 every gate given passed (or none was given), 1 a gate failed, 2 usage or\n"
        "golden-set errors.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    evaluate.add_argument("golden", type=Path, metavar="GOLDEN", help="folder with documents/ and expected/")
    evaluate.add_argument("--stack-name", help="a deployed stack in AWS (default: start a local stack for this run)")
    evaluate.add_argument("--region", help="AWS region of --stack-name")
    evaluate.add_argument("--template", type=Path, help="SAM template of the local stack (default ./template.yaml)")
    evaluate.add_argument(
        "--parameter-overrides", nargs="*", default=[], metavar="KEY=VALUE", help="local stack template parameters"
    )
    evaluate.add_argument("--out", type=Path, help="report folder (default .docproc/evaluate/<timestamp>/)")
    evaluate.add_argument("--json", action="store_true", help="print report.json instead of tables")
    evaluate.add_argument("--timeout", type=float, default=600, help="seconds to wait for all documents (default 600)")
    gates = evaluate.add_argument_group("quality gates (exit 1 when any fails)")
    gates.add_argument("--min-domain-macro-f1", type=_rate, metavar="X", help="macro-F1 over the golden set's domains")
    gates.add_argument("--min-class-accuracy", type=_rate, metavar="X", help="share of documents of the right class")
    gates.add_argument("--min-field-f1", type=_rate, metavar="X", help="overall (micro) field F1")
    gates.add_argument(
        "--min-field-f1-for",
        action="append",
        default=[],
        metavar="FIELD=X",
        help="F1 of one field: FIELD (in every class) or CLASS.FIELD; repeatable",
    )
    gates.add_argument("--max-ece", type=_rate, metavar="X", help="expected calibration error of field confidences")
    gates.add_argument("--max-cost-per-doc", type=_non_negative, metavar="USD", help="mean cost per document")
    gates.add_argument("--max-p95-latency-s", type=_non_negative, metavar="S", help="p95 of timings.totalMs")
    evaluate.set_defaults(func=cmd_evaluate)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from docproc import classes
    from docproc_local.evaluation import golden, runner
    from docproc_local.evaluation.costs import PRICES_PATH, load_prices

    try:
        config = classes.load()
        thresholds = Thresholds(
            min_domain_macro_f1=args.min_domain_macro_f1,
            min_class_accuracy=args.min_class_accuracy,
            min_field_f1=args.min_field_f1,
            min_field_f1_for=tuple(parse_field_gate(text, config) for text in args.min_field_f1_for),
            max_ece=args.max_ece,
            max_cost_per_doc=args.max_cost_per_doc,
            max_p95_latency_s=args.max_p95_latency_s,
        )
        documents = golden.load(args.golden, config)
        prices = load_prices(PRICES_PATH)
        from docproc_local.cli import parse_parameters  # here: docproc_local.cli imports this module

        parameters = parse_parameters(args.parameter_overrides)
    except ValueError as exc:  # GoldenSetError, ClassConfigError and bad options are all ValueErrors
        print(f"docproc evaluate: {exc}", file=sys.stderr)
        return 2
    run = runner.run_id()
    out = args.out or DEFAULT_OUT / run
    started_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    started = time.perf_counter()
    with runner.stack_client(args.stack_name, args.region, args.template, parameters) as (client, target):
        print(f"Uploading {len(documents)} golden document(s) from {args.golden} ...", file=sys.stderr)
        from docproc_local.cli import Progress

        progress = Progress(len(documents), sys.stderr)
        runs = runner.run_documents(
            client, documents, timeout=args.timeout, prefix=f"{runner.KEY_ROOT}/{run}/", on_change=progress.update
        )
        progress.finish()
    return finish(runs, config, prices, thresholds, args, out, target, started_at, time.perf_counter() - started)


def finish(
    runs: list[DocumentRun],
    config: ClassConfig,
    prices: Prices | None,
    thresholds: Thresholds,
    args: argparse.Namespace,
    out: Path,
    target: str,
    started_at: str,
    duration_s: float,
) -> int:
    """Score, write the report files, print, and return the exit code of the gates."""
    from docproc_local.evaluation import report, scoring, terminal
    from docproc_local.evaluation.costs import PRICES_PATH
    from docproc_local.evaluation.gates import check

    outcomes = [scoring.score_document(r.golden, r.record, config, key=r.key) for r in runs]
    result = scoring.summarise(outcomes, config, prices, str(PRICES_PATH))
    gates = check(result, thresholds)
    document = report.build(
        result,
        gates,
        golden=str(args.golden),
        target=target,
        config_version=config.version,
        started_at=started_at,
        duration_s=duration_s,
    )
    paths = report.write(document, out)
    if args.json:
        print(json.dumps(document, indent=2, ensure_ascii=False, default=str))
    else:
        terminal.print_report(document)
    for path in paths.values():
        print(f"wrote {path}", file=sys.stderr)
    failed = [g for g in gates if not g.passed]
    if failed:
        print(
            f"docproc evaluate: {len(failed)} of {len(gates)} gate(s) failed: " + ", ".join(g.option for g in failed),
            file=sys.stderr,
        )
        return 1
    return 0
