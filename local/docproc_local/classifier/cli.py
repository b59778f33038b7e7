"""``docproc classifier train | evaluate | bench | publish``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docproc_local.classifier.corpus import REPO

if TYPE_CHECKING:
    from docproc_local.classifier.train import Hyper


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    classifier = sub.add_parser("classifier", help="the SageMaker domain classifier: train, evaluate, bench, publish")
    commands = classifier.add_subparsers(metavar="COMMAND")

    train = commands.add_parser("train", help="train on classifier/corpus and write model.tar.gz")
    train.add_argument("--output", type=Path, help="where to write it (default .docproc/classifier/model.tar.gz)")
    train.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="train with another setting (train.Hyper), e.g. --set c=1.0; write it elsewhere with --output",
    )
    train.set_defaults(func=cmd_train)

    evaluate = commands.add_parser("evaluate", help="precision/recall/F1, confusion and calibration on a folder")
    evaluate.add_argument(
        "path", type=Path, nargs="?", default=REPO.parent / "shared" / "realdocs", help="(default ../shared/realdocs)"
    )
    evaluate.add_argument("--labels", type=Path, help="labels TSV (default PATH/labels.tsv or the realdocs labels)")
    evaluate.add_argument("--artifact", type=Path, help="model.tar.gz to evaluate (default: the built one)")
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of tables")
    evaluate.add_argument("--min-macro-f1", type=float, help="exit 1 when macro-F1 is below this")
    evaluate.set_defaults(func=cmd_evaluate)

    cv = commands.add_parser("cv", help="cross-validation on the corpus (how training settings are chosen)")
    cv.add_argument(
        "--protocol",
        action="append",
        choices=("clean", "shifted", "language-out", "long", "source-out"),
        help="clean, shifted, language-out, long, source-out (real/ files held out whole; default: all five)",
    )
    cv.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a training setting (train.Hyper), e.g. --set c=1.0 --set model=logreg",
    )
    cv.add_argument("--folds", type=int, default=5)
    cv.add_argument("--json", action="store_true")
    cv.set_defaults(func=cmd_cv)

    bench = commands.add_parser("bench", help="artifact size, load time, predict latency, training time")
    bench.add_argument("--artifact", type=Path)
    bench.add_argument("--requests", type=int, default=60, help="requests per text size (default 60)")
    bench.add_argument("--train", action="store_true", help="also time a full training run")
    bench.add_argument("--json", action="store_true")
    bench.set_defaults(func=cmd_bench)

    publish = commands.add_parser("publish", help="upload model.tar.gz to S3 and print the parameter override")
    target = publish.add_mutually_exclusive_group(required=True)
    target.add_argument("--stack-name", help="upload into this stack's artifacts bucket")
    target.add_argument("--bucket", help="upload into this bucket")
    publish.add_argument("--region")
    publish.add_argument("--artifact", type=Path)
    publish.set_defaults(func=cmd_publish)


def cmd_train(args: argparse.Namespace) -> int:
    from docproc_local.classifier import artifact

    hyper = _hyper(args.set)
    if hyper is None:
        return 2
    path = artifact.build(args.output, hyper=hyper)
    metadata = artifact.read_metadata(path)
    print(
        f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB): {metadata['documents']} documents in "
        f"{len(metadata['languages'])} languages ({', '.join(metadata['languages'])}), "
        f"scikit-learn {metadata['scikit_learn']}, trained in {metadata['training_seconds']} s"
    )
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from docproc_local.classifier import evaluate

    result = evaluate.run(args.path, args.labels, args.artifact, as_json=args.json)
    if args.min_macro_f1 is not None and result["macro_f1"] < args.min_macro_f1:
        print(f"macro-F1 {result['macro_f1']:.3f} is below {args.min_macro_f1}", file=sys.stderr)
        return 1
    return 0


def cmd_cv(args: argparse.Namespace) -> int:
    from docproc_local.classifier import cv
    from docproc_local.classifier.artifact import INFERENCE_SOURCE, load_inference
    from docproc_local.classifier.corpus import load_corpus

    hyper = _hyper(args.set)
    if hyper is None:
        return 2
    examples = load_corpus()
    print(f"cross-validating on {len(examples)} corpus documents with {hyper}", file=sys.stderr, flush=True)
    inference = load_inference(INFERENCE_SOURCE.parent)
    protocols = args.protocol or cv.PROTOCOLS
    result = cv.run(
        examples,
        inference.prepare_text,
        hyper,
        protocols,
        n_folds=args.folds,
        predict=inference.predict_probabilities,
        split=inference.windows,
    )
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for protocol, figures in result.items():
            print(f"{protocol}: {cv.format_line(figures)}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from docproc_local.classifier import bench

    result = bench.run(args.artifact, requests=args.requests, train=args.train)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        bench.print_result(result)
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    import boto3

    from docproc_local.classifier import artifact, publish

    path = artifact.chosen(args.artifact)
    session = boto3.Session(region_name=args.region)
    bucket = args.bucket or publish.stack_bucket(session.client("cloudformation"), args.stack_name)
    uri = publish.publish(path, s3=session.client("s3"), bucket=bucket)
    print(f"uploaded {path} to {uri}", file=sys.stderr)
    stack = args.stack_name or "STACK"
    print("deploy with:", file=sys.stderr)
    print(f"  sam deploy --stack-name {stack} --parameter-overrides {publish.override(uri)}", file=sys.stderr)
    print(publish.override(uri))
    return 0


def _hyper(settings: list[str]) -> Hyper | None:
    """The default :class:`train.Hyper` with ``NAME=VALUE`` overrides, or None (after saying why) if one is unknown."""
    from dataclasses import fields, replace

    from docproc_local.classifier.train import Hyper

    types = {f.name: f.type for f in fields(Hyper)}
    overrides: dict[str, Any] = {}
    for item in settings:
        name, _, value = item.partition("=")
        if name not in types:
            print(f"--set {item}: unknown setting; the settings are {', '.join(types)}", file=sys.stderr)
            return None
        kind = str(types[name])
        try:
            overrides[name] = {"int": int, "float": float}.get(kind, str)(value)
        except ValueError:
            print(f"--set {item}: {name} takes a number ({kind}), not {value!r}", file=sys.stderr)
            return None
    return replace(Hyper(), **overrides)
