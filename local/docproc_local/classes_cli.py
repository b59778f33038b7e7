"""``docproc classes check [FILE]``: validate a document-class configuration and show what the model is offered."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from docproc import classes

CHARS_PER_TOKEN = 4  # the same rough estimate the Bedrock stand-in uses


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("classes", help="document classes: check a configuration file")
    commands = parser.add_subparsers(metavar="COMMAND")
    check = commands.add_parser("check", help="validate the file and list its classes, fields and tool sizes")
    check.add_argument("file", type=Path, nargs="?", help=f"(default {classes.DEFAULT_PATH.name} in the package)")
    check.add_argument("--model-id", default="anthropic.claude-3-haiku-20240307-v1:0", help="for the strict flag")
    check.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    try:
        config = classes.load(args.file or classes.config_path())
    except classes.ClassConfigError as exc:
        print(f"invalid: {exc}")
        return 2
    tools = classes.tool_config(config, args.model_id)
    print(f"{config.source}: version {config.version}, {len(config.classes)} classes, valid")
    print(f"{'class':<22}{'domains':<16}{'fields':>7}{'tool chars':>12}  fields")
    for document_class, tool in zip(config.classes, tools["tools"], strict=True):
        size = len(json.dumps(tool, separators=(",", ":")))
        domains = ",".join(document_class.domains) or "any"
        names = ", ".join(document_class.field_names)
        print(f"{document_class.name:<22}{domains:<16}{len(document_class.field_names):>7}{size:>12}  {names}")
    total = len(json.dumps(tools, separators=(",", ":"))) + len(config.system_prompt)
    strict = "on" if config.supports_strict(args.model_id) else "off"
    print(f"tools + system prompt: {total} characters, about {total // CHARS_PER_TOKEN} input tokens per request")
    print(f"strict tool mode for {args.model_id}: {strict}")
    return 0
