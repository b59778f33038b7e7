"""``docproc cache stats|clear`` (the content cache table) and ``docproc routes check [FILE]`` (the routing rules).

Both cache commands talk to a running ``docproc local up`` by default, or to a stack in AWS with ``--stack-name``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from docproc import routing


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("cache", help="the content cache: entries, or clear it")
    commands = parser.add_subparsers(metavar="COMMAND")
    for name, func, text in (
        ("stats", cmd_stats, "count the entries (a scan of the cache table)"),
        ("clear", cmd_clear, "delete every entry: later copies of a text are analysed again"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--stack-name", help="a deployed stack in AWS (default: the running `docproc local up`)")
        command.add_argument("--region", help="AWS region of --stack-name")
        if name == "clear":
            command.add_argument("--yes", action="store_true", help="do not ask (needed without a terminal)")
        command.set_defaults(func=func)

    routes = sub.add_parser("routes", help="routing rules: check a file")
    routes_commands = routes.add_subparsers(metavar="COMMAND")
    check = routes_commands.add_parser("check", help="validate the rules and list them in the order they are tried")
    check.add_argument("file", type=Path, nargs="?", help=f"(default {routing.DEFAULT_PATH.name} in the package)")
    check.set_defaults(func=cmd_routes_check)


def _client(args: argparse.Namespace) -> Any:
    if args.stack_name:
        from docproc_local.client import StackClient

        return StackClient.for_cloudformation_stack(args.stack_name, args.region)
    from docproc_local.runtime import client_from_state

    return client_from_state()


def _keys(client: Any) -> list[dict[str, Any]]:
    table = client.outputs["CacheTableName"]
    paginator = client.client("dynamodb").get_paginator("scan")
    pages = paginator.paginate(TableName=table, ProjectionExpression="cacheKey")
    return [item for page in pages for item in page.get("Items", [])]


def cmd_stats(args: argparse.Namespace) -> int:
    client = _client(args)
    print(f"{client.outputs['CacheTableName']}: {len(_keys(client))} entries")
    return 0


def cmd_clear(args: argparse.Namespace) -> int:
    client = _client(args)
    table = client.outputs["CacheTableName"]
    keys = _keys(client)
    if not keys:
        print(f"{table}: already empty")
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            print("docproc: add --yes to clear the cache without a terminal", file=sys.stderr)
            return 2
        if input(f"delete {len(keys)} entries of {table}? [y/N] ").strip().lower() != "y":
            return 1
    dynamodb = client.client("dynamodb")
    for start in range(0, len(keys), 25):
        batch = [{"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]]
        unprocessed: dict[str, Any] = {table: batch}
        while unprocessed:
            unprocessed = dynamodb.batch_write_item(RequestItems=unprocessed).get("UnprocessedItems") or {}
    print(f"{table}: {len(keys)} entries deleted")
    return 0


def cmd_routes_check(args: argparse.Namespace) -> int:
    try:
        rules = routing.load(args.file)
    except routing.RouteConfigError as exc:
        print(f"invalid: {exc}")
        return 2
    print(f"{rules.source}: version {rules.version}, {len(rules.routes)} rules, valid (first match wins)")
    for number, rule in enumerate(rules.routes, 1):
        conditions = ", ".join(f"{k}={v}" for k, v in rule.when.model_dump(exclude_none=True).items()) or "always"
        action = "classification only" if rule.classification_only else f"model: {rule.model}"
        print(f"{number:>3}. {rule.name:<24} {action:<22} when {conditions}")
    return 0
