"""``docproc golden export``: reviewed documents as golden-set entries that ``docproc evaluate`` reads.

For the newest review of every reviewed document it writes ``documents/<name>`` (the reviewed object version,
byte for byte, from the input bucket) and ``expected/<name>.json`` (the reviewed class, domain and field labels,
in the format of ``golden/README.md``), then loads the folder with the evaluator's own loader, so an export that
``docproc evaluate`` would reject fails here, naming the file and the JSON path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from docproc_local.client import StackClient
from docproc_local.console.corrections import CorrectionsStore

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class ExportResult:
    folder: Path
    written: list[str]
    skipped: list[str]  # "<key>: why"


def corrections_store(client: StackClient) -> CorrectionsStore:
    table = client.outputs.get("CorrectionsTableName")
    if not table:
        raise RuntimeError(
            "this stack has no CorrectionsTable (deployed before corrections existed): deploy the current "
            "template.yaml, which adds it"
        )
    return CorrectionsStore(client.client("dynamodb"), table)


def _file_name(key: str, document_id: str, taken: set[str]) -> str:
    base = _UNSAFE.sub("-", key.rsplit("/", 1)[-1]).strip("-.") or document_id
    name = base if base not in taken else f"{document_id[:8]}-{base}"
    taken.add(name)
    return name


def _expected(name: str, review: Mapping[str, Any]) -> dict[str, Any]:
    source = review.get("source") or {}
    version = f" version {source['versionId']}" if source.get("versionId") else ""
    changed = sorted(review.get("fields") or {})
    removed = sorted(review.get("removedFields") or [])
    notes = [f"reviewed by {review['reviewer']} at {review['correctedAt']} in the docproc console"]
    if review.get("modelClass") and review.get("modelClass") != review.get("documentClass"):
        notes.append(f"class corrected from {review['modelClass']}")
    if changed:
        notes.append("corrected: " + ", ".join(changed))
    if removed:
        notes.append("not stated (removed): " + ", ".join(removed))
    if review.get("note"):
        notes.append(str(review["note"]))
    entry: dict[str, Any] = {
        "file": name,
        "class": review["documentClass"],
        "domain": review["domain"],
    }
    if review.get("language"):
        entry["language"] = review["language"]
    entry["source"] = f"s3://{source.get('bucket', '?')}/{source.get('key', '?')}{version} (docproc review)"
    entry["fields"] = review.get("labels") or {}
    entry["notes"] = "; ".join(notes)
    return entry


def export(client: StackClient, out: Path) -> ExportResult:
    """Write the golden set of every document's newest review into ``out`` (documents/ and expected/)."""
    from docproc import classes
    from docproc_local.evaluation import golden

    reviews = corrections_store(client).latest()
    documents_dir, expected_dir = out / "documents", out / "expected"
    documents_dir.mkdir(parents=True, exist_ok=True)
    expected_dir.mkdir(parents=True, exist_ok=True)
    taken = {p.name for p in documents_dir.iterdir()}
    written: list[str] = []
    skipped: list[str] = []
    s3 = client.client("s3")
    for review in reviews:
        source = review.get("source") or {}
        key = str(source.get("key") or "")
        if not review.get("labels"):
            skipped.append(f"{key or review['documentId']}: the review labels no field")
            continue
        kwargs = {"Bucket": source.get("bucket"), "Key": key}
        if source.get("versionId"):
            kwargs["VersionId"] = source["versionId"]
        try:
            body = s3.get_object(**kwargs)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("NoSuchKey", "NoSuchVersion", "404"):
                raise
            skipped.append(f"{key}: the reviewed object version is no longer in the input bucket")
            continue
        name = _file_name(key, review["documentId"], taken)
        (documents_dir / name).write_bytes(body)
        expected = _expected(name, review)
        (expected_dir / f"{name}.json").write_text(
            json.dumps(expected, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        written.append(name)
    if written:
        golden.load(out, classes.load())  # the evaluator's own check: raises GoldenSetError naming file and path
    return ExportResult(folder=out, written=written, skipped=skipped)
