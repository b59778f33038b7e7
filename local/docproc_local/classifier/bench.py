"""``docproc classifier bench``: artifact size, ``model_fn`` load time, predict latency by text size, training time.

Latency is measured through the artifact's own contract (``input_fn -> predict_fn -> output_fn``) on texts made
from the training corpus's sentences, as the container would run it (one request at a time). Load time is measured
in fresh processes (median of several), since a second load in one process reuses imported modules.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SIZES = {"1 kB": 1_000, "20 kB": 20_000, "1 MB": 1_000_000}

_LOAD_SNIPPET = """
import sys, time
from pathlib import Path
started = time.perf_counter()
from docproc_local.classifier.artifact import load_inference
module = load_inference(Path(sys.argv[1]) / "code")
imported = time.perf_counter()
module.model_fn(sys.argv[1])
print(imported - started, time.perf_counter() - imported)
"""


def _text_of(size: int, corpus_text: str) -> str:
    reps = size // max(1, len(corpus_text)) + 1
    return (corpus_text * reps)[:size]


def run(artifact: Path | None, *, requests: int = 60, loads: int = 5, train: bool = False) -> dict[str, Any]:
    from docproc_local.classifier import artifact as artifacts
    from docproc_local.classifier.corpus import load_corpus

    result: dict[str, Any] = {}
    if train:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            artifacts.build(Path(tmp) / "model.tar.gz", quiet=True)
            result["training_seconds"] = round(time.perf_counter() - started, 2)
    path = artifacts.chosen(artifact)
    result["artifact_bytes"] = path.stat().st_size
    metadata = artifacts.read_metadata(path)
    result["training_seconds_recorded"] = metadata.get("training_seconds")
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = artifacts.unpack(path, Path(tmp) / "model")
        imports, fits = [], []
        for _ in range(loads):
            out = subprocess.run(
                [sys.executable, "-c", _LOAD_SNIPPET, str(model_dir)], capture_output=True, text=True, check=True
            ).stdout.split()
            imports.append(float(out[0]))
            fits.append(float(out[1]))
        result["import_seconds_median"] = round(statistics.median(imports), 3)
        result["model_fn_seconds_median"] = round(statistics.median(fits), 3)
        served = artifacts.ServedModel(path, model_dir)
        corpus = "\n".join(example.text for example in load_corpus()[::7])
        latency: dict[str, dict[str, float]] = {}
        for name, size in SIZES.items():
            body = json.dumps({"inputs": _text_of(size, corpus)}).encode()
            served.invoke(body, "application/json")  # warm-up
            times = []
            for _ in range(requests if size < 1_000_000 else max(10, requests // 3)):
                started = time.perf_counter()
                answer = served.invoke(body, "application/json")
                times.append((time.perf_counter() - started) * 1000)
                if answer.status != 200:
                    raise RuntimeError(f"predict failed: {answer.status} {answer.body[:200]!r}")
            times.sort()
            latency[name] = {
                "p50_ms": round(statistics.median(times), 2),
                "p95_ms": round(times[min(len(times) - 1, int(len(times) * 0.95))], 2),
            }
        result["predict"] = latency
    return result


def print_result(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="classifier artifact benchmark")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("goal", justify="right")
    table.add_row("artifact size", f"{result['artifact_bytes'] / 1e6:.2f} MB", "<= 20 MB")
    table.add_row("import inference.py (median)", f"{result['import_seconds_median'] * 1000:.0f} ms", "")
    table.add_row("model_fn load (median)", f"{result['model_fn_seconds_median'] * 1000:.0f} ms", "<= 1 s")
    for name, figures in result["predict"].items():
        goal = "p95 <= 50 ms" if name == "20 kB" else ""
        table.add_row(f"predict {name}", f"p50 {figures['p50_ms']:.1f} ms / p95 {figures['p95_ms']:.1f} ms", goal)
    if "training_seconds" in result:
        table.add_row("training (corpus -> model.tar.gz)", f"{result['training_seconds']:.1f} s", "")
    else:
        table.add_row("training (as recorded in model.json)", f"{result['training_seconds_recorded']} s", "")
    Console(highlight=False).print(table)
