"""``docproc bench --formats``: what reading documents costs. Prints numbers; asserts nothing.

- text PDFs: pages per second of the prepare step (fetch from S3, extract, write the text) and its peak memory,
  on the 400-page IRS manual of ``../shared/realdocs`` (or ``--pdf FILE``);
- scans: a 50-page image-only PDF made here (Pillow renders text pages), the prepare step's peak memory on it
  (it only has to find that every page needs OCR), and the local OCR engine's pages per second on a few of them.

Each prepare run is a fresh process (``resource.getrusage`` gives its peak RSS), against moto's S3.
"""

from __future__ import annotations

import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from docproc_local.classifier.corpus import REPO

DEFAULT_PDF = REPO.parent / "shared" / "realdocs" / "irs-irm-400-pages.pdf"
SCAN_PAGES = 50
OCR_PAGES = 3

_PREPARE = r"""
import json, resource, sys, time
from moto import mock_aws
import boto3
from docproc.models import DocumentRef
from docproc.prepare import prepare_document
data = open(sys.argv[1], "rb").read()
with mock_aws():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="input"); s3.create_bucket(Bucket="artifacts")
    s3.put_object(Bucket="input", Key="doc.pdf", Body=data)
    ref = DocumentRef(document_id="0" * 32, bucket="input", key="doc.pdf")
    started = time.perf_counter()
    prepared = prepare_document(ref, s3=s3, artifacts_bucket="artifacts", max_document_bytes=10**9)
    seconds = time.perf_counter() - started
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "pages": prepared.text.pages, "chars": prepared.text.chars,
                  "ocr_pages": None if prepared.ocr_request is None else (prepared.ocr_request.pages or "all")}))
"""


def prepare_in_fresh_process(path: Path) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", _PREPARE, str(path)], capture_output=True, text=True, check=False)
    if out.returncode:
        raise RuntimeError(f"prepare of {path.name} failed: {out.stderr.strip()[-800:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def scanned_pdf(pages: int, folder: Path) -> Path:
    """A PDF of ``pages`` page images (150 dpi A4) with a few lines of text each: what a scanner produces."""
    from PIL import Image, ImageDraw, ImageFont

    try:
        font = ImageFont.truetype("DejaVuSans.ttf", 28)
    except OSError:
        font = ImageFont.load_default()
    images = []
    for number in range(1, pages + 1):
        image = Image.new("L", (1240, 1754), 255)
        draw = ImageDraw.Draw(image)
        for line in range(12):
            draw.text(
                (100, 120 + 60 * line), f"Page {number}, line {line + 1}: scanned report text.", fill=0, font=font
            )
        images.append(image)
    path = folder / f"scan-{pages}-pages.pdf"
    images[0].save(path, save_all=True, append_images=images[1:], resolution=150)
    return path


def ocr_pages_per_second(path: Path, pages: int) -> float:
    from docproc_local.standins.textract import bench

    with tempfile.TemporaryDirectory() as folder:
        from pypdf import PdfReader, PdfWriter

        reader, writer = PdfReader(path), PdfWriter()
        for page in reader.pages[:pages]:
            writer.add_page(page)
        part = Path(folder) / "part.pdf"
        with part.open("wb") as handle:
            writer.write(handle)
        started = time.perf_counter()
        bench(part, lines=0)
        return pages / (time.perf_counter() - started)


def run(pdf: Path = DEFAULT_PDF, repeats: int = 3, out: Any = sys.stdout) -> dict[str, Any]:
    text_runs = [prepare_in_fresh_process(pdf) for _ in range(repeats)]
    with tempfile.TemporaryDirectory() as folder:
        scan = scanned_pdf(SCAN_PAGES, Path(folder))
        scan_runs = [prepare_in_fresh_process(scan) for _ in range(repeats)]
        ocr_rate = ocr_pages_per_second(scan, OCR_PAGES)
    pages = text_runs[0]["pages"]
    report = {
        "text_pdf": {
            "file": pdf.name,
            "pages": pages,
            "chars": text_runs[0]["chars"],
            "prepare_seconds_median": round(statistics.median(r["seconds"] for r in text_runs), 2),
            "pages_per_second": round(pages / statistics.median(r["seconds"] for r in text_runs), 1),
            "prepare_peak_mb_median": round(statistics.median(r["peak_mb"] for r in text_runs), 1),
        },
        "scan_pdf": {
            "pages": SCAN_PAGES,
            "prepare_seconds_median": round(statistics.median(r["seconds"] for r in scan_runs), 2),
            "prepare_peak_mb_median": round(statistics.median(r["peak_mb"] for r in scan_runs), 1),
            "ocr_requested": scan_runs[0]["ocr_pages"],
            "ocr_pages_per_second": round(ocr_rate, 2),
            "ocr_sample_pages": OCR_PAGES,
        },
    }
    text, scan_report = report["text_pdf"], report["scan_pdf"]
    print(f"text PDF {text['file']}: {text['pages']} pages, {text['chars']:,} characters", file=out)
    print(f"  prepare: median {text['prepare_seconds_median']} s = {text['pages_per_second']} pages/s, "
          f"peak memory {text['prepare_peak_mb_median']} MB (goal <= 512 MB)", file=out)  # fmt: skip
    print(f"scanned PDF: {SCAN_PAGES} image-only pages", file=out)
    keys = ("prepare_seconds_median", "prepare_peak_mb_median", "ocr_requested")
    seconds, peak, asked = (scan_report[k] for k in keys)
    print(f"  prepare: median {seconds} s, peak memory {peak} MB; OCR asked for: {asked}", file=out)
    print(f"  OCR (local Tesseract, {OCR_PAGES} pages): {scan_report['ocr_pages_per_second']} pages/s", file=out)
    return report


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="docproc bench --formats")
    parser.add_argument("--pdf", type=Path, default=DEFAULT_PDF)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = run(args.pdf, args.repeats, out=io.StringIO() if args.json else sys.stdout)
    if args.json:
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
