"""Test helpers shared by the unit tests: tables built from template.yaml, sample events, small builders.

Import as ``from helpers import ...`` (``tests/`` is on ``sys.path`` because ``tests/conftest.py`` lives there).
"""

from __future__ import annotations

import json
import uuid
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "template.yaml"
EVENTS = Path(__file__).resolve().parent / "events"
SCHEMAS = REPO / "schemas"


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that keeps CloudFormation short-form tags (``!Ref``, ``!GetAtt``, ``!Sub``) as plain data."""


def _cfn_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    return {suffix: loader.construct_mapping(node, deep=True)}  # type: ignore[arg-type]


_CfnLoader.add_multi_constructor("!", _cfn_tag)


@cache
def template() -> dict[str, Any]:
    """template.yaml as data; CloudFormation tags become ``{"Ref": ...}``-style dicts."""
    return yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


def resource_properties(logical_id: str) -> dict[str, Any]:
    return template()["Resources"][logical_id]["Properties"]


def _create_table_from_template(dynamodb: Any, logical_id: str, name: str) -> str:
    """Create table ``name`` with the key schema, attributes, indexes and TTL that template.yaml declares."""
    props = resource_properties(logical_id)
    kwargs: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    if "GlobalSecondaryIndexes" in props:
        kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    dynamodb.create_table(**kwargs)
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": ttl["Enabled"]}
        )
    return name


def create_results_table(dynamodb: Any, name: str = "docproc-results") -> str:
    return _create_table_from_template(dynamodb, "ResultsTable", name)


def create_lease_table(dynamodb: Any, name: str = "docproc-leases") -> str:
    return _create_table_from_template(dynamodb, "LeaseTable", name)


def load_event(name: str) -> dict[str, Any]:
    """A sample event from ``tests/events/<name>.json``."""
    return json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))


def load_schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


def sqs_event(*bodies: str, queue_arn: str = "arn:aws:sqs:us-east-1:123456789012:docproc-intake") -> dict[str, Any]:
    """An SQS -> Lambda event with one record per body, shaped like the ones Lambda delivers."""
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": f"receipt-{i}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1767225600000",
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": "1767225600001",
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


INVOICE_TEXT = "INVOICE 123456789\nAmazon Web Services, Inc.\nTotal: $11.19\nDate: October 3, 2017"


def envelope(value: Any, quote: str, confidence: float = 0.9, page: int | None = 1) -> dict[str, Any]:
    evidence: dict[str, Any] = {"quote": quote}
    if page is not None:
        evidence["page"] = page
    return {"value": value, "confidence": confidence, "evidence": evidence}


def valid_extraction(fields: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """A ``record_invoice`` tool input (what the model sends) whose quotes are all in :data:`INVOICE_TEXT`."""
    value: dict[str, Any] = {
        "title": "Amazon Web Services invoice",
        "summary": "An AWS invoice for cloud services used in the billing period.",
        "language": "en",
        "domain_hint": "financial",
        "key_phrases": ["cloud services", "billing period"],
        "fields": {
            "invoice_number": envelope("123456789", "INVOICE 123456789", 0.95),
            "issuer": envelope("Amazon Web Services, Inc.", "Amazon Web Services, Inc.", 0.9),
            "total": envelope(11.19, "Total: $11.19", 0.9),
            "currency": envelope("USD", "Total: $11.19", 0.8),
            "issue_date": envelope("2017-10-03", "Date: October 3, 2017", 0.85),
        }
        if fields is None
        else fields,
    }
    value.update(overrides)
    return value


def converse_response(
    content: list[dict[str, Any]], *, input_tokens: int = 100, output_tokens: int = 20
) -> dict[str, Any]:
    """A Bedrock Converse response (valid against the API model, as botocore's Stubber requires)."""
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": "tool_use" if any("toolUse" in block for block in content) else "end_turn",
        "usage": {
            "inputTokens": input_tokens,
            "outputTokens": output_tokens,
            "totalTokens": input_tokens + output_tokens,
        },
        "metrics": {"latencyMs": 321},
    }


def tool_use(tool_input: Any, *, tool_use_id: str = "tooluse_1", name: str = "record_invoice") -> dict:
    return {"toolUse": {"toolUseId": tool_use_id, "name": name, "input": tool_input}}


# --- step payloads, in their wire (camelCase) form -----------------------------------------------------------------

DOCUMENT_ID = "0f3c2a9e8b7d6c5f4e3d2c1b0a998877"
QUEUED_AT = "2026-01-15T10:21:08+00:00"


def document_ref(**overrides: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "documentId": DOCUMENT_ID,
        "bucket": "docproc-input",
        "key": "incoming/invoice2data-aws.pdf",
        "versionId": "IYV3p45BT0ac8hjHg1houSdS1a.Mc8cE",
        "etag": "b1946ac92492d2347c6235b4d2611184",
        "size": 154526,
        "eventTime": "2026-01-15T10:21:07+00:00",
    }
    value.update(overrides)
    return value


def prepared_document(artifacts_bucket: str = "docproc-artifacts", **overrides: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "source": {
            "bucket": "docproc-input",
            "key": "incoming/invoice2data-aws.pdf",
            "versionId": "IYV3p45BT0ac8hjHg1houSdS1a.Mc8cE",
            "etag": "b1946ac92492d2347c6235b4d2611184",
            "size": 154526,
            "contentType": "application/pdf",
            "lastModified": "2026-01-15T10:21:07+00:00",
        },
        "format": "pdf",
        "mediaType": "application/pdf",
        "text": {
            "uri": f"s3://{artifacts_bucket}/text/{DOCUMENT_ID}.txt",
            "chars": 1834,
            "pages": 1,
            "sha256": "0" * 64,
        },
        "warnings": [],
        "durationMs": 412,
    }
    value.update(overrides)
    return value


def extraction_result(**overrides: Any) -> dict[str, Any]:
    """An extract branch result (wire form) as the extract function returns it, fields evidence-checked."""
    from docproc import classes, evidence
    from docproc.models import dump

    tool_input = valid_extraction()
    fields = evidence.check_fields(tool_input.pop("fields"), INVOICE_TEXT)
    value: dict[str, Any] = {
        "documentClass": "invoice",
        "configVersion": classes.load().version,
        "extraction": tool_input,
        "fields": {k: dump(v) for k, v in fields.items()},  # type: ignore[arg-type]
        "modelId": "anthropic.claude-3-haiku-20240307-v1:0",
        "usage": {"inputTokens": 812, "outputTokens": 97, "totalTokens": 909},
        "durationMs": 2310,
        "inputChars": 1834,
        "inputTruncated": False,
        "repaired": False,
    }
    value.update(overrides)
    return value


def classification_result(domain: str = "financial", confidence: float = 0.8, **overrides: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "domain": domain,
        "confidence": confidence,
        "scores": {domain: confidence, "general": round(1 - confidence, 4)},
        "endpointName": "docproc-domain-classifier",
        "durationMs": 95,
        "inputChars": 1834,
        "inputTruncated": False,
    }
    value.update(overrides)
    return value


def lambda_error_cause(error_type: str, message: str) -> str:
    """The ``Cause`` a Catch records for a Lambda function that raised: a JSON string."""
    return json.dumps(
        {"errorMessage": message, "errorType": error_type, "requestId": str(uuid.uuid4()), "stackTrace": []}
    )


def failed_branch(error_type: str, message: str = "it failed") -> dict[str, Any]:
    """A branch's result after its Catch and the ``...Failed`` Pass state."""
    return {"status": "FAILED", "error": {"Error": error_type, "Cause": lambda_error_cause(error_type, message)}}


def merge_input(
    *,
    extraction: dict[str, Any] | None = None,
    classification: dict[str, Any] | None = None,
    artifacts_bucket: str = "docproc-artifacts",
    generation: int = 1,
    attempt: int = 1,
) -> dict[str, Any]:
    """The Merge state's Parameters, filled in as Step Functions would."""
    return {
        "document": document_ref(),
        "generation": generation,
        "attempt": attempt,
        "queuedAt": QUEUED_AT,
        "executionName": f"{DOCUMENT_ID}-g{generation}-a{attempt}",
        "startedAt": "2026-01-15T10:21:09.123Z",
        "prepared": prepared_document(artifacts_bucket),
        "extraction": extraction or {"status": "SUCCEEDED", "result": extraction_result()},
        "classification": classification or {"status": "SUCCEEDED", "result": classification_result()},
    }


def triage_input(error: str, cause: str | None = None, *, generation: int = 1, attempt: int = 1) -> dict[str, Any]:
    """The Triage state's Parameters."""
    return {
        "document": document_ref(),
        "generation": generation,
        "attempt": attempt,
        "queuedAt": QUEUED_AT,
        "executionName": f"{DOCUMENT_ID}-g{generation}-a{attempt}",
        "error": {"Error": error, "Cause": cause if cause is not None else lambda_error_cause(error, "it failed")},
    }


#: The bundled samples (samples/) and the domain each must get: checked by the classifier's unit tests and
#: end to end through the local stack.
SAMPLE_DOMAINS = {
    "ndrb-discharge-review-decision.docx": "legal",
    "cuad-aduro-consulting-agreement.txt": "legal",
    "medline-pubmed-records.txt": "medical",
    "icu-admission-note-ehr.pdf": "medical",
    "invoice2data-aws.pdf": "financial",
    "apple-balance-sheet-2023.csv": "financial",
    "pdfminer-six-README.md": "technical",
    "jsonresume-sample-resume.json": "hr",
    "wikipedia-iwan-roberts.txt": "general",
}


@cache
def served_classifier() -> Any:
    """The project's classifier artifact (built once if missing or stale), served as the container serves it."""
    from docproc_local.classifier import artifact

    return artifact.ServedModel(artifact.ensure())


def pdf_from_objects(objects: list[bytes]) -> bytes:
    """A PDF file of the given indirect objects (numbered from 1; object 1 the catalog) with a correct xref."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
