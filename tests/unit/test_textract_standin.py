"""The local Textract, driven through a real botocore ``textract`` client against the stand-in server.

Documents are made here: text rendered with Pillow in DejaVu Sans (installed by ``make ocr``), PDFs saved by
Pillow, S3 objects in a moto S3 server on a free local port. The OCR is the real Tesseract.
"""

from __future__ import annotations

import io
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError
from PIL import Image, ImageDraw, ImageFont

from docproc_local.standins import FaultConfig, StandinServer
from docproc_local.standins.textract import TextractService

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
BUCKET = "docs"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})
DEADLINE_SECONDS = 90

PAGE_ONE = ["Invoice number 4711", "Total amount due 1250 euros", "Payment within thirty days"]
PAGE_TWO = ["Second page of the contract", "Signed in Amsterdam", "Witness Margaret Holloway"]


def render(lines: list[str], size: tuple[int, int] = (1700, 900), font_size: int = 44) -> Image.Image:
    if not FONT.is_file():
        pytest.fail(f"{FONT} is missing: run `make ocr` (installs fonts-dejavu-core)")
    font = ImageFont.truetype(str(FONT), font_size)
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    for index, line in enumerate(lines):
        draw.text((100, 100 + index * int(font_size * 2.2)), line, font=font, fill=0)
    return image


def encode(image: Image.Image | list[Image.Image], kind: str, **options: Any) -> bytes:
    images = image if isinstance(image, list) else [image]
    out = io.BytesIO()
    if len(images) > 1:
        options = {"save_all": True, "append_images": images[1:], **options}
    images[0].save(out, kind, **options)
    return out.getvalue()


def words_of(blocks: list[dict[str, Any]]) -> list[str]:
    return [block["Text"] for block in blocks if block["BlockType"] == "WORD"]


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=endpoint, **CREDENTIALS).create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


@pytest.fixture(scope="module")
def s3(s3_endpoint: str) -> BaseClient:
    return boto3.client("s3", endpoint_url=s3_endpoint, **CREDENTIALS)


@pytest.fixture(scope="module")
def make_server(s3_endpoint: str) -> Iterator[Callable[..., StandinServer]]:
    servers: list[StandinServer] = []

    def make(**options: Any) -> StandinServer:
        service = TextractService(s3=lambda: boto3.client("s3", endpoint_url=s3_endpoint, **CREDENTIALS), **options)
        server = StandinServer(environ={}, textract=service).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def server(make_server: Callable[..., StandinServer]) -> StandinServer:
    return make_server()


@pytest.fixture
def textract(server: StandinServer) -> Iterator[BaseClient]:
    yield boto3.client("textract", endpoint_url=server.url, config=NO_RETRIES, **CREDENTIALS)
    server.set_faults("textract", FaultConfig())


def put(s3: BaseClient, key: str, data: bytes) -> dict[str, str]:
    s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    return {"Bucket": BUCKET, "Name": key}


def wait_for_job(textract: BaseClient, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        answer = textract.get_document_text_detection(JobId=job_id)
        if answer["JobStatus"] != "IN_PROGRESS":
            return answer
        time.sleep(0.2)
    pytest.fail(f"job {job_id} still IN_PROGRESS after {DEADLINE_SECONDS} s")


def error_code(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"]


# --- DetectDocumentText ----------------------------------------------------------------------------------------------


def test_detect_document_text_returns_words_lines_and_geometry(textract: BaseClient) -> None:
    # GIVEN a PNG with three lines of text drawn at known places
    image = render(PAGE_ONE)
    # WHEN it is sent as bytes
    answer = textract.detect_document_text(Document={"Bytes": encode(image, "PNG")})
    # THEN one page, its lines in reading order, the words with confidences and geometry
    blocks = answer["Blocks"]
    assert answer["DocumentMetadata"]["Pages"] == 1
    assert answer["DetectDocumentTextModelVersion"]
    by_id = {block["Id"]: block for block in blocks}
    pages = [block for block in blocks if block["BlockType"] == "PAGE"]
    lines = [block for block in blocks if block["BlockType"] == "LINE"]
    assert len(pages) == 1
    assert [line["Text"] for line in lines] == PAGE_ONE
    assert pages[0]["Relationships"][0]["Ids"] == [line["Id"] for line in lines]
    for line in lines:
        children = [by_id[child] for child in line["Relationships"][0]["Ids"]]
        assert " ".join(child["Text"] for child in children) == line["Text"]
        assert {child["BlockType"] for child in children} == {"WORD"}
    words = [block for block in blocks if block["BlockType"] == "WORD"]
    assert words_of(blocks) == " ".join(PAGE_ONE).split()
    for word in words:
        assert 50 < word["Confidence"] <= 100
        assert word["TextType"] == "PRINTED"
        assert word["Page"] == 1
        box = word["Geometry"]["BoundingBox"]
        assert 0 <= box["Left"] < box["Left"] + box["Width"] <= 1
        assert 0 <= box["Top"] < box["Top"] + box["Height"] <= 1
        assert len(word["Geometry"]["Polygon"]) == 4
    # "Invoice" was drawn at x=100, y=100 of 1700 x 900 with a 44 px font
    invoice = words[0]["Geometry"]["BoundingBox"]
    assert invoice["Left"] == pytest.approx(100 / 1700, abs=0.01)
    assert invoice["Top"] == pytest.approx(108 / 900, abs=0.02)
    assert invoice["Height"] == pytest.approx(34 / 900, abs=0.02)
    second_line = lines[1]["Geometry"]["BoundingBox"]
    assert second_line["Top"] > invoice["Top"] + invoice["Height"]


@pytest.mark.parametrize(("kind", "options"), [("JPEG", {"quality": 90}), ("TIFF", {"compression": "tiff_lzw"})])
def test_detect_document_text_reads_jpeg_and_tiff_from_s3(
    textract: BaseClient, s3: BaseClient, kind: str, options: dict[str, Any]
) -> None:
    location = put(s3, f"sync/page.{kind.lower()}", encode(render(PAGE_TWO), kind, **options))
    answer = textract.detect_document_text(Document={"S3Object": location})
    assert [block["Text"] for block in answer["Blocks"] if block["BlockType"] == "LINE"] == PAGE_TWO


def test_detect_document_text_reads_a_one_page_pdf(textract: BaseClient) -> None:
    pdf = encode(render(PAGE_ONE).convert("RGB"), "PDF", resolution=150)
    answer = textract.detect_document_text(Document={"Bytes": pdf})
    assert "Total amount due 1250 euros" in [b["Text"] for b in answer["Blocks"] if b["BlockType"] == "LINE"]


@pytest.mark.slow
def test_a_page_turned_on_its_side_is_read_and_mapped_back(textract: BaseClient) -> None:
    # GIVEN a page turned 90 degrees counter-clockwise (the text runs bottom to top)
    turned = render(PAGE_ONE).rotate(90, expand=True)
    answer = textract.detect_document_text(Document={"Bytes": encode(turned, "PNG")})
    # THEN the words are read, and their boxes are upright on the page as sent: taller than wide
    lines = [block for block in answer["Blocks"] if block["BlockType"] == "LINE"]
    assert [line["Text"] for line in lines] == PAGE_ONE
    box = lines[0]["Geometry"]["BoundingBox"]
    assert box["Height"] > 3 * box["Width"]
    assert box["Left"] < 0.2  # the first line is now at the left edge, reading upwards from the bottom
    assert lines[0]["Geometry"]["Polygon"][0]["Y"] > 0.8


@pytest.mark.slow
def test_cyrillic_text_is_read_with_russian(textract: BaseClient) -> None:
    # GIVEN Russian text: the default Latin languages read it badly, script detection switches to rus
    image = render(["Счёт на оплату номер 4711", "Итого к оплате двенадцать тысяч рублей"])
    words = words_of(textract.detect_document_text(Document={"Bytes": encode(image, "PNG")})["Blocks"])
    assert {"Счёт", "оплату", "Итого", "рублей"} <= set(words)


# --- StartDocumentTextDetection / GetDocumentTextDetection ------------------------------------------------------------


def test_a_two_page_pdf_through_start_and_get_with_pagination(textract: BaseClient, s3: BaseClient) -> None:
    # GIVEN a two-page PDF in S3
    pages = [render(PAGE_ONE).convert("RGB"), render(PAGE_TWO).convert("RGB")]
    location = put(s3, "async/two-pages.pdf", encode(pages, "PDF", resolution=150))
    # WHEN a job is started and polled to its end
    job_id = textract.start_document_text_detection(DocumentLocation={"S3Object": location}, JobTag="t1")["JobId"]
    first = wait_for_job(textract, job_id)
    # THEN it succeeded with both pages, and small pages of results add up to the whole answer
    assert first["JobStatus"] == "SUCCEEDED"
    assert first["DocumentMetadata"]["Pages"] == 2
    assert "NextToken" not in first
    collected, token, calls = [], None, 0
    while True:
        answer = textract.get_document_text_detection(
            JobId=job_id, MaxResults=7, **({"NextToken": token} if token else {})
        )
        calls += 1
        assert len(answer["Blocks"]) <= 7
        collected.extend(answer["Blocks"])
        token = answer.get("NextToken")
        if not token:
            break
    assert calls == -(-len(first["Blocks"]) // 7)
    assert [block["Id"] for block in collected] == [block["Id"] for block in first["Blocks"]]
    for number, expected in ((1, PAGE_ONE), (2, PAGE_TWO)):
        page_lines = [b["Text"] for b in collected if b["BlockType"] == "LINE" and b["Page"] == number]
        assert page_lines == expected
    assert [b["Page"] for b in collected if b["BlockType"] == "PAGE"] == [1, 2]


def test_max_results_is_capped_at_1000(textract: BaseClient, s3: BaseClient) -> None:
    location = put(s3, "async/one.png", encode(render(PAGE_ONE), "PNG"))
    job_id = textract.start_document_text_detection(DocumentLocation={"S3Object": location})["JobId"]
    done = wait_for_job(textract, job_id)
    again = textract.get_document_text_detection(JobId=job_id, MaxResults=5000)
    assert again["Blocks"] == done["Blocks"]
    assert error_code(lambda: textract.get_document_text_detection(JobId=job_id, NextToken="bm9wZTox")) == (
        "InvalidParameterException"
    )


def test_a_multi_page_tiff_job_with_one_unreadable_frame_partly_succeeds(textract: BaseClient, s3: BaseClient) -> None:
    frames = [render(PAGE_ONE), Image.new("L", (12_000, 8), 255)]
    location = put(s3, "async/frames.tiff", encode(frames, "TIFF", compression="tiff_lzw"))
    job_id = textract.start_document_text_detection(DocumentLocation={"S3Object": location})["JobId"]
    answer = wait_for_job(textract, job_id)
    assert answer["JobStatus"] == "PARTIAL_SUCCESS"
    assert answer["Warnings"] == [{"ErrorCode": "UnsupportedDocumentException", "Pages": [2]}]
    assert answer["DocumentMetadata"]["Pages"] == 2
    assert [b["Text"] for b in answer["Blocks"] if b["BlockType"] == "LINE"] == PAGE_ONE


def test_a_job_on_a_broken_document_fails(textract: BaseClient, s3: BaseClient) -> None:
    location = put(s3, "async/broken.pdf", b"%PDF-1.7\n this is not a PDF at all")
    job_id = textract.start_document_text_detection(DocumentLocation={"S3Object": location})["JobId"]
    answer = wait_for_job(textract, job_id)
    assert answer["JobStatus"] == "FAILED"
    assert answer["StatusMessage"]
    assert "Blocks" not in answer


def test_client_request_token_is_idempotent(textract: BaseClient, s3: BaseClient) -> None:
    # GIVEN a started job
    location = put(s3, "async/token.png", encode(render(PAGE_TWO), "PNG"))
    other = put(s3, "async/token-other.png", encode(render(PAGE_ONE), "PNG"))
    start = textract.start_document_text_detection
    first = start(DocumentLocation={"S3Object": location}, ClientRequestToken="tok-1")["JobId"]
    # THEN the same token and document give the same job; another token a new one; another document an error
    assert start(DocumentLocation={"S3Object": location}, ClientRequestToken="tok-1")["JobId"] == first
    assert start(DocumentLocation={"S3Object": location}, ClientRequestToken="tok-2")["JobId"] != first
    mismatch = error_code(lambda: start(DocumentLocation={"S3Object": other}, ClientRequestToken="tok-1"))
    assert mismatch == "IdempotentParameterMismatchException"
    assert len(first) == 64
    assert wait_for_job(textract, first)["JobStatus"] == "SUCCEEDED"


# --- errors ----------------------------------------------------------------------------------------------------------


def _one_page_pdf() -> bytes:
    return encode(render(PAGE_ONE).convert("RGB"), "PDF")


ERROR_CASES: list[tuple[str, str, Callable[[], dict[str, Any]]]] = [
    ("neither Bytes nor S3Object", "InvalidParameterException", lambda: {"Document": {}}),
    (
        "missing S3 object",
        "InvalidS3ObjectException",
        lambda: {"Document": {"S3Object": {"Bucket": BUCKET, "Name": "nope"}}},
    ),
    (
        "missing bucket",
        "InvalidS3ObjectException",
        lambda: {"Document": {"S3Object": {"Bucket": "no-bucket", "Name": "x"}}},
    ),
    ("a GIF", "UnsupportedDocumentException", lambda: {"Document": {"Bytes": encode(render(["gif"]), "GIF")}}),
    (
        "a two-page PDF, synchronously",
        "UnsupportedDocumentException",
        lambda: {"Document": {"Bytes": encode([render(["a"]).convert("RGB"), render(["b"]).convert("RGB")], "PDF")}},
    ),
    (
        "a 1,000-frame TIFF, synchronously",
        "UnsupportedDocumentException",
        lambda: {"Document": {"Bytes": encode([Image.new("L", (16, 16), 255)] * 1000, "TIFF")}},
    ),
    (
        "a 100-megapixel image",
        "UnsupportedDocumentException",
        lambda: {"Document": {"Bytes": encode(Image.new("1", (12_000, 8_400), 1), "PNG")}},
    ),
    (
        "over 10 MB",
        "DocumentTooLargeException",
        lambda: {"Document": {"Bytes": b"\x89PNG\r\n\x1a\n" + bytes(10 << 20)}},
    ),
    ("a truncated PNG", "BadDocumentException", lambda: {"Document": {"Bytes": encode(render(["x"]), "PNG")[:60]}}),
    ("a PDF that is not one", "BadDocumentException", lambda: {"Document": {"Bytes": b"%PDF-1.4\nnot really"}}),
]


@pytest.mark.timeout(60)  # a hang guard: bombs are refused from their headers, before decoding
@pytest.mark.parametrize(("case", "code", "request_of"), ERROR_CASES, ids=[case[0] for case in ERROR_CASES])
def test_detect_document_text_errors(
    textract: BaseClient, case: str, code: str, request_of: Callable[[], dict[str, Any]]
) -> None:
    request = request_of()
    assert error_code(lambda: textract.detect_document_text(**request)) == code, case


def test_get_with_an_unknown_job_id(textract: BaseClient) -> None:
    assert error_code(lambda: textract.get_document_text_detection(JobId="f" * 64)) == "InvalidJobIdException"


def test_start_errors(textract: BaseClient, s3: BaseClient) -> None:
    start = textract.start_document_text_detection
    missing = {"S3Object": {"Bucket": BUCKET, "Name": "missing.pdf"}}
    assert error_code(lambda: start(DocumentLocation=missing)) == "InvalidS3ObjectException"
    gif = put(s3, "async/image.gif", encode(render(["gif"]), "GIF"))
    assert error_code(lambda: start(DocumentLocation={"S3Object": gif})) == "UnsupportedDocumentException"
    big_png = put(s3, "async/big.png", b"\x89PNG\r\n\x1a\n" + bytes(11 << 20))  # images stay at 10 MB in async
    assert error_code(lambda: start(DocumentLocation={"S3Object": big_png})) == "DocumentTooLargeException"


@pytest.mark.parametrize(
    ("faults", "code", "status"),
    [
        (FaultConfig(throttle_rate=1.0), "ThrottlingException", 500),
        (FaultConfig(error_rate=1.0), "InternalServerError", 500),
    ],
)
def test_injected_faults(
    server: StandinServer, textract: BaseClient, faults: FaultConfig, code: str, status: int
) -> None:
    server.set_faults("textract", faults)
    with pytest.raises(ClientError) as caught:
        textract.get_document_text_detection(JobId="a" * 64)
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert server.stats()["textract"]["faults"] >= 1


def test_throughput_quota(make_server: Callable[..., StandinServer]) -> None:
    # one request per 1,000 s: the first goes through, the next ones are over the quota however slow the machine is
    server = make_server(tps=0.001)
    client = boto3.client("textract", endpoint_url=server.url, config=NO_RETRIES, **CREDENTIALS)
    codes = [error_code(lambda: client.get_document_text_detection(JobId="b" * 64)) for _ in range(3)]
    assert codes == ["InvalidJobIdException"] + ["ProvisionedThroughputExceededException"] * 2


def test_concurrent_job_limit(make_server: Callable[..., StandinServer], s3: BaseClient) -> None:
    server = make_server(max_concurrent_jobs=1)
    client = boto3.client("textract", endpoint_url=server.url, config=NO_RETRIES, **CREDENTIALS)
    pages = [render(PAGE_ONE).convert("RGB"), render(PAGE_TWO).convert("RGB")]
    location = {"S3Object": put(s3, "async/limit.pdf", encode(pages, "PDF"))}
    job_id = client.start_document_text_detection(DocumentLocation=location)["JobId"]
    assert error_code(lambda: client.start_document_text_detection(DocumentLocation=location)) == (
        "LimitExceededException"
    )
    assert wait_for_job(client, job_id)["JobStatus"] == "SUCCEEDED"
    assert client.start_document_text_detection(DocumentLocation=location)["JobId"] != job_id


# --- the wire: validation against the service model -------------------------------------------------------------------


def raw_call(server: StandinServer, operation: str, body: bytes) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        server.url + "/",
        data=body,
        headers={"X-Amz-Target": f"Textract.{operation}", "Content-Type": "application/x-amz-json-1.1"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.parametrize(
    ("operation", "payload", "problem"),
    [
        ("DetectDocumentText", {"Document": {"Bytes": "aGVsbG8="}, "FeatureTypes": ["TABLES"]}, "FeatureTypes"),
        ("DetectDocumentText", {"Document": {"Bytes": "not base64!"}}, "Document.Bytes"),
        ("DetectDocumentText", {}, "Document"),
        ("GetDocumentTextDetection", {"JobId": "x", "MaxResults": 0}, "MaxResults"),
        ("GetDocumentTextDetection", {"JobId": "bad id!"}, "JobId"),
        ("StartDocumentTextDetection", {"DocumentLocation": {"S3Object": {"Bucket": 7}}}, "Bucket"),
    ],
)
def test_requests_are_checked_against_the_service_model(
    server: StandinServer, operation: str, payload: dict[str, Any], problem: str
) -> None:
    status, body = raw_call(server, operation, json.dumps(payload).encode())
    assert status == 400
    assert body["__type"] == "InvalidParameterException"
    assert problem in body["Message"]


def test_unknown_operations_and_bodies_that_are_not_json(server: StandinServer) -> None:
    assert raw_call(server, "AnalyzeDocument", b"{}")[1]["__type"] == "InvalidParameterException"
    assert raw_call(server, "NoSuchThing", b"{}")[1]["__type"] == "UnknownOperationException"
    assert raw_call(server, "DetectDocumentText", b"{not json")[1]["__type"] == "SerializationException"


def test_the_server_points_textract_clients_here(server: StandinServer) -> None:
    assert server.env()["AWS_ENDPOINT_URL_TEXTRACT"] == server.url
