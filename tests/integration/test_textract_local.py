"""The local Textract inside the whole local stack: reached through ``AWS_ENDPOINT_URL_TEXTRACT``, reading the local S3.

One :class:`LocalRuntime` serves the module. The documents go to a bucket of their own (not the stack's input
bucket, whose notifications would start the pipeline). Besides made-up pages, real scans from ``shared/realdocs``
are read and checked for words a person sees in them; the first lines are printed (``pytest -s`` shows them).
"""

from __future__ import annotations

import io
import json
import os
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from PIL import Image, ImageDraw, ImageFont

from docproc_local.runtime import LocalRuntime

REPO = Path(__file__).resolve().parents[2]
BUCKET = "textract-integration"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DEADLINE_SECONDS = 180

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    local = LocalRuntime(template=REPO / "template.yaml")
    local.start()
    yield local
    local.stop()


@pytest.fixture(scope="module")
def s3(runtime: LocalRuntime) -> BaseClient:
    client = boto3.client("s3", endpoint_url=runtime.cloud.endpoint_url, region_name=runtime.cloud.region)
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture(scope="module")
def textract(runtime: LocalRuntime) -> BaseClient:
    # as a handler builds it: no endpoint_url, the standard setting points it at the stand-in
    assert os.environ["AWS_ENDPOINT_URL_TEXTRACT"] == runtime.standins.url
    return boto3.client("textract", region_name=runtime.cloud.region)


def lines_of(blocks: list[dict[str, Any]]) -> list[str]:
    return [block["Text"] for block in blocks if block["BlockType"] == "LINE"]


def words_of(blocks: list[dict[str, Any]]) -> set[str]:
    return {block["Text"].strip(".,:;()").lower() for block in blocks if block["BlockType"] == "WORD"}


def put(s3: BaseClient, key: str, data: bytes) -> dict[str, str]:
    s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    return {"Bucket": BUCKET, "Name": key}


def run_job(textract: BaseClient, location: dict[str, str]) -> dict[str, Any]:
    job_id = textract.start_document_text_detection(DocumentLocation={"S3Object": location})["JobId"]
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        answer = textract.get_document_text_detection(JobId=job_id)
        if answer["JobStatus"] != "IN_PROGRESS":
            blocks, token = list(answer.get("Blocks", [])), answer.get("NextToken")
            while token:
                more = textract.get_document_text_detection(JobId=job_id, NextToken=token)
                blocks.extend(more["Blocks"])
                token = more.get("NextToken")
            return {**answer, "Blocks": blocks}
        time.sleep(0.5)
    pytest.fail(f"job {job_id} still IN_PROGRESS after {DEADLINE_SECONDS} s")


def test_detect_document_text_reads_an_object_of_the_local_s3(s3: BaseClient, textract: BaseClient) -> None:
    # GIVEN a page rendered here, stored in the local S3
    image = Image.new("L", (1600, 500), 255)
    font = ImageFont.truetype(str(FONT), 48)
    ImageDraw.Draw(image).text((80, 80), "Purchase order 99812 approved", font=font, fill=0)
    ImageDraw.Draw(image).text((80, 220), "Deliver to Rotterdam harbour", font=font, fill=0)
    png = io.BytesIO()
    image.save(png, "PNG")
    location = put(s3, "made/page.png", png.getvalue())
    # WHEN the plain client reads it by S3Object
    answer = textract.detect_document_text(Document={"S3Object": location})
    # THEN the lines come back, and the stand-in counted the request
    assert lines_of(answer["Blocks"]) == ["Purchase order 99812 approved", "Deliver to Rotterdam harbour"]
    assert runtime_stats(textract)["ok"] >= 1


def runtime_stats(textract: BaseClient) -> dict[str, Any]:
    with urllib.request.urlopen(textract.meta.endpoint_url + "/stats", timeout=10) as response:
        return json.loads(response.read())["textract"]


REAL_SCANS = [
    # file, how it is sent, words a person sees in it
    ("invoice2data-oyo-scan.png", "sync", {"oyo", "payment", "receipt", "sanjay", "chennai"}),
    ("awesome-cv-resume-page1.png", "sync", {"seoul", "korea", "summary", "experience"}),
    ("scanned-letter-bad-ocr-layer.pdf", "sync", {"foundation", "lamborn", "desiring", "progress"}),
    ("court-opinion-scanned-imageonly.pdf", "async", {"syllabus", "october", "term", "court", "opinion"}),
]


@pytest.mark.parametrize(("name", "mode", "expected"), REAL_SCANS, ids=[scan[0] for scan in REAL_SCANS])
def test_real_scans_come_out_readable(
    realdocs: Path, s3: BaseClient, textract: BaseClient, name: str, mode: str, expected: set[str]
) -> None:
    location = put(s3, f"realdocs/{name}", (realdocs / name).read_bytes())
    if mode == "sync":
        answer = textract.detect_document_text(Document={"S3Object": location})
    else:
        answer = run_job(textract, location)
        assert answer["JobStatus"] == "SUCCEEDED"
    lines = lines_of(answer["Blocks"])
    print(f"\n{name}: {answer['DocumentMetadata']['Pages']} page(s), {len(lines)} lines")
    for line in lines[:6]:
        print(f"  {line}")
    missing = expected - words_of(answer["Blocks"])
    assert not missing, f"{name}: words not read: {sorted(missing)}; first lines: {lines[:6]}"
    confidences = [block["Confidence"] for block in answer["Blocks"] if block["BlockType"] == "WORD"]
    assert sum(confidences) / len(confidences) > 70
    if mode == "async":
        assert answer["DocumentMetadata"]["Pages"] == 2
        assert {block["Page"] for block in answer["Blocks"]} == {1, 2}
