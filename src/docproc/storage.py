"""S3 references: states pass ``s3://`` URIs, never document bytes (a state's payload is capped at 256 KB)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from botocore.exceptions import ClientError

from docproc.aws import storage_error


def parse_s3_uri(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc or not parsed.path.lstrip("/"):
        raise ValueError(f"not an s3:// object URI: {uri!r}")
    return parsed.netloc, parsed.path.lstrip("/")


def s3_uri(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


def text_key(document_id: str) -> str:
    return f"text/{document_id}.txt"


def result_key(document_id: str) -> str:
    return f"results/{document_id}.json"


def read_text(s3: Any, uri: str) -> str:
    bucket, key = parse_s3_uri(uri)
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
    except ClientError as exc:
        raise storage_error(exc, f"reading {uri}") from exc


def write_object(s3: Any, bucket: str, key: str, body: bytes, content_type: str) -> str:
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
    except ClientError as exc:
        raise storage_error(exc, f"writing s3://{bucket}/{key}") from exc
    return s3_uri(bucket, key)


def chunk_key(document_id: str, index: int) -> str:
    return f"chunks/{document_id}/{index:03d}.json"
