"""What a user does with a deployed docproc stack, local or in AWS: upload, wait, read records and events,
reprocess, redrive. Everything goes through the public AWS APIs with plain boto3 clients."""

from __future__ import annotations

import json
import mimetypes
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from docproc import ids
from docproc.records import from_item

TERMINAL = ("COMPLETED", "FAILED")
OUTPUT_KEYS = (
    "InputBucketName",
    "ArtifactsBucketName",
    "ResultsTableName",
    "EventBusName",
    "StateMachineArn",
    "IntakeQueueUrl",
    "DeadLetterQueueUrl",
    "SubscriberQueueUrl",
)


@dataclass(frozen=True)
class Upload:
    document_id: str
    key: str
    path: Path | None
    uploaded_at: float


@dataclass
class StackClient:
    """Plain boto3 clients bound to one stack's outputs (``endpoint_url`` None means real AWS)."""

    outputs: dict[str, str]
    endpoint_url: str | None = None
    region: str = "us-east-1"
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def for_cloudformation_stack(cls, stack_name: str, region: str | None = None) -> StackClient:
        cfn = boto3.client("cloudformation", region_name=region)
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        return cls(outputs=outputs, region=cfn.meta.region_name)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service,
                endpoint_url=self.endpoint_url,
                region_name=self.region,
                config=Config(retries={"max_attempts": 5, "mode": "standard"}),
            )
        return self._clients[service]

    # --- upload and results -------------------------------------------------------------------------------------
    def upload_file(self, path: Path, key: str | None = None) -> Upload:
        return self.upload_bytes(path.read_bytes(), key or path.name, path=path)

    def upload_bytes(self, data: bytes, key: str, path: Path | None = None) -> Upload:
        bucket = self.outputs["InputBucketName"]
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        response = self.client("s3").put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type)
        doc_id = ids.document_id(bucket, key, response.get("VersionId"), response.get("ETag"))
        return Upload(document_id=doc_id, key=key, path=path, uploaded_at=time.time())

    def record(self, document_id: str) -> dict[str, Any] | None:
        item = (
            self.client("dynamodb")
            .get_item(
                TableName=self.outputs["ResultsTableName"], Key={"documentId": {"S": document_id}}, ConsistentRead=True
            )
            .get("Item")
        )
        return from_item(item) if item else None

    def wait_for(
        self,
        document_ids: Iterable[str],
        *,
        timeout: float,
        poll: float = 0.25,
        on_change: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Poll until every document has a terminal record or the deadline passes; returns the last records."""
        pending = set(document_ids)
        last: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for doc_id in sorted(pending):
                record = self.record(doc_id)
                if record is None:
                    continue
                if last.get(doc_id, {}).get("status") != record.get("status") and on_change:
                    on_change(doc_id, record)
                last[doc_id] = record
                if record.get("status") in TERMINAL:
                    pending.discard(doc_id)
            if pending:
                time.sleep(poll)
        return last

    def result_json(self, record: dict[str, Any]) -> dict[str, Any] | None:
        uri = record.get("resultUri")
        if not uri:
            return None
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        return json.loads(self.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())

    # --- events -------------------------------------------------------------------------------------------------
    def receive_events(self, wait_seconds: int = 1, delete: bool = True) -> list[dict[str, Any]]:
        """Events that reached the example subscriber queue (EventBridge envelopes, detail parsed)."""
        sqs = self.client("sqs")
        url = self.outputs["SubscriberQueueUrl"]
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds).get(
            "Messages", []
        )
        events = []
        for message in messages:
            envelope = json.loads(message["Body"])
            if isinstance(envelope.get("detail"), str):
                envelope["detail"] = json.loads(envelope["detail"])
            events.append(envelope)
            if delete:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return events

    def follow_events(self, stop: Callable[[], bool] = lambda: False) -> Iterator[dict[str, Any]]:
        while not stop():
            yield from self.receive_events(wait_seconds=1)

    # --- reprocess and redrive ----------------------------------------------------------------------------------
    def reprocess(self, key: str) -> str:
        """Deliberately process the current version of ``key`` again (a new generation, a new record state)."""
        bucket = self.outputs["InputBucketName"]
        head = self.client("s3").head_object(Bucket=bucket, Key=key)
        doc_id = ids.document_id(bucket, key, head.get("VersionId"), head.get("ETag"))
        record = self.record(doc_id) or {}
        if record.get("status") in ("QUEUED", "PROCESSING"):
            raise RuntimeError(f"{key} is {record['status']} right now; reprocess it once it has finished")
        document = {
            "documentId": doc_id,
            "bucket": bucket,
            "key": key,
            "versionId": head.get("VersionId"),
            "etag": (head.get("ETag") or "").strip('"'),
            "size": head.get("ContentLength"),
        }
        body = {"docproc": "reprocess", "document": document, "fromGeneration": int(record.get("generation", 0))}
        self.client("sqs").send_message(QueueUrl=self.outputs["IntakeQueueUrl"], MessageBody=json.dumps(body))
        return doc_id

    def redrive(self, limit: int | None = None) -> int:
        """Move messages from the DLQ back to the intake queue (send first, then delete: never lost)."""
        sqs = self.client("sqs")
        dlq, intake = self.outputs["DeadLetterQueueUrl"], self.outputs["IntakeQueueUrl"]
        moved = 0
        while limit is None or moved < limit:
            batch = sqs.receive_message(
                QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=60
            ).get("Messages", [])
            if not batch:
                break
            for message in batch[: None if limit is None else limit - moved]:
                sqs.send_message(QueueUrl=intake, MessageBody=message["Body"])
                sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
                moved += 1
        return moved

    def queue_depth(self, output_key: str) -> int:
        attributes = self.client("sqs").get_queue_attributes(
            QueueUrl=self.outputs[output_key],
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return sum(int(v) for v in attributes.values())
