"""SAM -> CloudFormation, offline: package local code folders, inline the ASL, run aws-sam-translator.

The translator only accepts ``s3://`` CodeUri/ContentUri/DefinitionUri, so local folders are zipped
(deterministically: same files -> same bytes -> same sha256) and handed to ``put_artifact``, which stores them
in a local artifact bucket and returns the ``s3://`` URI. ``DefinitionUri`` files are inlined as ``Definition``
with their ``${...}`` placeholders untouched (``DefinitionSubstitutions`` fill them in later).
Paths in the template are relative to the template's folder, never to the current directory.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import logging
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

log = logging.getLogger(__name__)

PutArtifact = Callable[[str, bytes], str]
"""(key, zip bytes) -> s3:// URI of the stored artifact."""

# The AWS managed policies SAM may attach by name. Static, so translating never calls IAM.
_MANAGED_POLICIES = {
    name: f"arn:aws:iam::aws:policy/{path}{name}"
    for path, name in [
        ("service-role/", "AWSLambdaBasicExecutionRole"),
        ("service-role/", "AWSLambdaSQSQueueExecutionRole"),
        ("service-role/", "AWSLambdaDynamoDBExecutionRole"),
        ("service-role/", "AWSLambdaKinesisExecutionRole"),
        ("service-role/", "AWSLambdaVPCAccessExecutionRole"),
        ("service-role/", "AWSLambdaRole"),
        ("", "AWSXrayWriteOnlyAccess"),
        ("", "AWSXRayDaemonWriteAccess"),
        ("", "CloudWatchLogsFullAccess"),
    ]
}
_EXCLUDED_PARTS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".aws-sam"}
_EXCLUDED_SUFFIXES = {".pyc", ".pyo"}


def load_template(path: Path) -> dict[str, Any]:
    """Parse a SAM/CloudFormation YAML or JSON template, short-form tags (``!Ref``, ``!Sub``...) included."""
    return yaml_parse(path.read_text(encoding="utf-8"))


def zip_folder(folder: Path) -> bytes:
    """Zip a folder reproducibly (sorted entries, fixed timestamps, no caches): equal trees give equal bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            relative = file.relative_to(folder)
            if _EXCLUDED_PARTS.intersection(relative.parts) or file.suffix in _EXCLUDED_SUFFIXES:
                continue
            if any(part.endswith(".egg-info") for part in relative.parts):
                continue
            info = zipfile.ZipInfo(relative.as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, file.read_bytes())
    return buffer.getvalue()


def package(template: dict[str, Any], base_dir: Path, put_artifact: PutArtifact) -> dict[str, Any]:
    """Return a copy of the SAM template whose local code and ASL paths are replaced by what the translator takes.

    A function whose CodeUri folder does not exist is deployed with an empty archive and a warning: invoking it
    then fails with ``Runtime.ImportModuleError`` naming the function, as Lambda would.
    """
    packaged = copy.deepcopy(template)
    for logical_id, resource in packaged.get("Resources", {}).items():
        properties = resource.get("Properties") or {}
        kind = resource.get("Type")
        if kind == "AWS::Serverless::Function" and isinstance(properties.get("CodeUri"), str):
            properties["CodeUri"] = _upload_folder(logical_id, base_dir / properties["CodeUri"], put_artifact)
        elif kind == "AWS::Serverless::LayerVersion" and isinstance(properties.get("ContentUri"), str):
            properties["ContentUri"] = _upload_folder(logical_id, base_dir / properties["ContentUri"], put_artifact)
        elif kind == "AWS::Serverless::StateMachine" and isinstance(properties.get("DefinitionUri"), str):
            definition_path = base_dir / properties.pop("DefinitionUri")
            properties["Definition"] = json.loads(definition_path.read_text(encoding="utf-8"))
    return packaged


def _upload_folder(logical_id: str, folder: Path, put_artifact: PutArtifact) -> str:
    if folder.is_dir():
        data = zip_folder(folder)
    else:
        log.warning("%s: code folder %s does not exist; deploying an empty archive", logical_id, folder)
        data = _empty_zip()
    digest = hashlib.sha256(data).hexdigest()[:16]
    return put_artifact(f"{logical_id}-{digest}.zip", data)


def _empty_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w"):
        pass
    return buffer.getvalue()


def to_cloudformation(sam_template: dict[str, Any], parameters: dict[str, str], region: str) -> dict[str, Any]:
    """Translate a packaged SAM template to plain CloudFormation without any AWS call."""
    session = boto3.session.Session(
        region_name=region,
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - never used
    )
    translator = Translator(managed_policy_map=None, sam_parser=Parser(), boto_session=session)
    return translator.translate(
        copy.deepcopy(sam_template),
        parameter_values=dict(parameters),
        get_managed_policy_map=lambda: _MANAGED_POLICIES,
    )
