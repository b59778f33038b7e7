"""moto's Step Functions engine: switch it on for the server, and make it fast enough to use.

Each function is one documented patch, recorded in a :class:`Patches` so ``LocalCloud.stop()`` undoes it.
"""

from __future__ import annotations

import functools
import importlib
import sys
import threading
import time
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config

from .patching import Patches

# Modules of moto's engine that did ``from ...boto_client import boto_client_for`` (so each holds its own name).
_CLIENT_USERS = [
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_dynamodb",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_events",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sqs",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sns",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn",
]


def enable_execution(patches: Patches) -> None:
    """Make moto's server execute state machines (moto's config ``{"stepfunctions": {"execute_state_machine": True}}``).

    ``mock_aws(config=...)`` only applies inside a decorated test, and ``SF_EXECUTION_HISTORY_TYPE`` only picks the
    canned history of the *non*-executing backend. The server picks its Step Functions backend on every request
    from ``moto.core.config.default_user_config`` (what ``POST /moto-api/config`` also writes), so set it there.
    """
    from moto.core.config import default_user_config

    patches.setitem(default_user_config, "stepfunctions", {"execute_state_machine": True})  # type: ignore[arg-type]


def cache_jsonpath_parsers(patches: Patches) -> None:
    """Cache ``jsonpath_ng`` parses: its ``parse()`` rebuilds the PLY parser tables on every call (~50-80 ms).

    The engine parses the same few paths (``$.document``, ``ResultPath``...) ~20 times per execution. Parsed
    expressions are only read (``find``/``update_or_create`` change the data, not the expression), so sharing is safe.
    """
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    for module in (json_path, result_path):
        patches.setattr(module, "parse", functools.lru_cache(maxsize=2048)(module.parse))


def cache_definition_parses(patches: Patches) -> None:
    """Cache the ANTLR parse of a definition: moto re-parses the whole ASL document for every execution.

    The parsed program keeps per-execution state in the execution's environment, not in its components; the one
    lazily created field (each component's ``heap_key``) is filled in up front so concurrent executions never race.
    """
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    original = AmazonStateLanguageParser.parse

    @functools.lru_cache(maxsize=64)
    def parse(definition: str) -> Any:
        program, tree = original(definition)
        _prewarm_heap_keys(program, set())
        return program, tree

    patches.setattr(AmazonStateLanguageParser, "parse", staticmethod(parse))


def _prewarm_heap_keys(node: Any, seen: set[int]) -> None:
    from moto.stepfunctions.parser.asl.component.component import Component
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, EvalComponent):
        _ = node.heap_key
    if isinstance(node, Component):
        children: Any = vars(node).values()
    elif isinstance(node, dict):
        children = node.values()
    elif isinstance(node, list | tuple):
        children = node
    else:
        return
    for child in children:
        _prewarm_heap_keys(child, seen)


def reuse_engine_clients(patches: Patches, endpoint_url: str) -> None:
    """Reuse one boto3 client per (region, service) in the engine, pointed straight at this server.

    moto builds a new client for every Task state (~20-40 ms each) against ``localhost:$MOTO_PORT``.
    Same settings as moto's own: no parameter validation, no SDK retries (the ASL's ``Retry`` decides).
    """
    session = boto3.session.Session(aws_access_key_id="ak", aws_secret_access_key="sk")  # noqa: S106 - moto's fakes
    clients: dict[tuple[str, str], BaseClient] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> BaseClient:
        with lock:
            key = (region, service)
            if key not in clients:
                clients[key] = session.client(
                    service,
                    region_name=region,
                    endpoint_url=endpoint_url,
                    config=Config(
                        parameter_validation=False,
                        retries={"total_max_attempts": 1},
                        connect_timeout=10,
                        read_timeout=900,
                        max_pool_connections=50,
                    ),
                )
            return clients[key]

    for name in _CLIENT_USERS:
        importlib.import_module(name)
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and hasattr(module, "boto_client_for"):
            patches.setattr(module, "boto_client_for", boto_client_for)


class _ScaledTime:
    """The ``time`` module, except that ``sleep`` waits ``scale`` times as long."""

    def __init__(self, scale: float) -> None:
        self._scale = scale

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds * self._scale)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def scale_retry_intervals(patches: Patches, scale: float) -> None:
    """Scale the real sleeps of ``Retry`` (``IntervalSeconds`` x backoff): 1.0 = as deployed, 0.01 = fast tests.

    The deployed definition is untouched; only the engine's wait between attempts is shortened.
    """
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    if scale != 1.0:
        patches.setattr(retrier_decl, "time", _ScaledTime(scale))


def install(patches: Patches, endpoint_url: str, retry_interval_scale: float = 1.0) -> None:
    """Every engine patch, in one call."""
    enable_execution(patches)
    cache_jsonpath_parsers(patches)
    cache_definition_parses(patches)
    reuse_engine_clients(patches, endpoint_url)
    scale_retry_intervals(patches, retry_interval_scale)
