"""``docproc bench --cold-start``: each function's init (the import of its handler module as built), in fresh processes.

The layer is built for the *host* interpreter into a temporary folder as the deployed layer is laid out (``python/``
holding ``pip install --no-deps -r src/requirements.txt`` and the ``docproc`` package, no ``.pyc`` files): the
deployed build targets arm64 wheels that cannot be imported here. The Lambda runtime's own boto3 is stood in by a
second folder that comes *after* the layer on ``sys.path``, as ``/var/runtime`` comes after ``/opt/python`` in
Lambda, so a botocore bundled in the layer is the one imported (and reported).

Each sample is a new interpreter (``-I -S``: only the standard library, the function folder, the layer and the
runtime folder on ``sys.path``; ``-B``: no bytecode is written, like Lambda's read-only ``/opt``) with the
environment a Lambda function sees (``AWS_LAMBDA_FUNCTION_NAME`` makes the Powertools Tracer patch as it does in
Lambda). It times ``import app`` and lists the heavy modules that import pulled in. The "with .pyc" column is the
same import once the layer is byte-compiled (what a build that precompiles would give). Numbers, not pass/fail.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from docproc_local.runtime import REPO

FUNCTIONS_DIR = REPO / "functions"
SRC = REPO / "src"
GOAL_MS = 400

#: Third-party modules worth naming when an init imports them (parsers, validators, SDKs); the standard library
#: modules boto3 pulls in (email, xml, http) are the runtime's cost, not the layer's.
HEAVY = (
    "boto3",
    "botocore",
    "aws_xray_sdk",
    "pypdf",
    "openpyxl",
    "docx",
    "lxml",
    "PIL",
    "jsonschema",
    "yaml",
    "cryptography",
    "charset_normalizer",
    "et_xmlfile",
)

_PROBE = r"""
import json, os, sys, time
sys.path[:0] = sys.argv[1].split(os.pathsep)
before = set(sys.modules)
started, cpu = time.perf_counter(), time.process_time()
import app  # noqa: F401
elapsed, cpu = (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000
heavy = sorted({m.split(".")[0] for m in set(sys.modules) - before} & set(sys.argv[2].split(",")))
origin = {}
for name in ("botocore", "boto3"):
    module = sys.modules.get(name)
    origin[name] = getattr(module, "__file__", None) if module else None
print(json.dumps({"ms": elapsed, "cpu_ms": cpu, "heavy": heavy, "origin": origin}))
"""


@dataclass(frozen=True)
class Row:
    function: str
    median_ms: float
    p95_ms: float
    cpu_median_ms: float
    pyc_median_ms: float
    heavy: tuple[str, ...]
    botocore_from: str


def build_layer(target: Path, src: Path = SRC, *, no_deps: bool = True) -> Path:
    """``target/python``: the pinned layer requirements and the ``docproc`` package for this interpreter.

    ``no_deps=False`` resolves the requirements' dependencies as SAM's Python builder does (older revisions whose
    ``requirements.txt`` was not a closed list)."""
    python = target / "python"
    flags = ["--no-deps"] if no_deps else []
    _pip("install", "--quiet", "--no-compile", *flags, "--target", str(python), "-r", str(src / "requirements.txt"))
    shutil.copytree(src / "docproc", python / "docproc", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return python


def build_runtime(target: Path) -> Path:
    """A stand-in for the Lambda runtime's ``/var/runtime``: boto3 and botocore (with bytecode, as AWS ships them)."""
    versions = [f"{name}=={metadata.version(name)}" for name in ("boto3", "botocore")]
    _pip("install", "--quiet", "--target", str(target), *versions)
    return target


def _pip(*args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"pip {' '.join(args[:1])} failed:\n{result.stderr.strip()[-3000:]}")


def lambda_environment(function: str, task_root: Path) -> dict[str, str]:
    """What the probe process sees: a Lambda function's variables, nothing of this shell's Python set-up.

    ``LAMBDA_TASK_ROOT`` matters: without it the X-Ray SDK thinks it runs outside Lambda and builds its
    sampling-rule poller at import (~200 ms more)."""
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}
    return {
        **keep,
        "AWS_LAMBDA_FUNCTION_NAME": f"docproc-{function}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_SERVICE_NAME": "docproc",
        "POWERTOOLS_METRICS_NAMESPACE": "docproc",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "_HANDLER": "app.handler",
        "LAMBDA_TASK_ROOT": str(task_root),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/docproc-{function}",
    }


def probe(function_dir: Path, paths: list[Path], python: str = sys.executable) -> dict[str, object]:
    """One fresh interpreter importing ``app`` from ``function_dir``: its init time and what it imported."""
    path_arg = os.pathsep.join(str(p) for p in [function_dir, *paths])
    result = subprocess.run(
        [python, "-I", "-S", "-B", "-c", _PROBE, path_arg, ",".join(HEAVY)],
        capture_output=True,
        text=True,
        check=False,
        env=lambda_environment(function_dir.name, function_dir),
        cwd=function_dir,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{function_dir.name}: import failed:\n{result.stderr.strip()[-2000:]}")
    data: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def measure(
    layer: Path, runtime: Path, runs: int, functions: list[str], functions_dir: Path = FUNCTIONS_DIR
) -> list[Row]:
    compiled = layer.parent / "python-pyc"
    shutil.copytree(layer, compiled)
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", str(compiled)], check=False)
    rows = []
    for name in functions:
        function_dir = functions_dir / name
        samples = [probe(function_dir, [layer, runtime]) for _ in range(runs)]
        pyc = [probe(function_dir, [compiled, runtime]) for _ in range(max(3, runs // 2))]
        times = [float(s["ms"]) for s in samples]  # type: ignore[arg-type]
        origin = samples[0]["origin"]
        botocore_file = str(origin.get("botocore") or "") if isinstance(origin, dict) else ""
        where = "layer" if botocore_file.startswith(str(layer)) else "runtime" if botocore_file else "-"
        rows.append(
            Row(
                function=name,
                median_ms=statistics.median(times),
                p95_ms=percentile(times, 0.95),
                cpu_median_ms=statistics.median(float(s["cpu_ms"]) for s in samples),  # type: ignore[arg-type]
                pyc_median_ms=statistics.median(float(s["ms"]) for s in pyc),  # type: ignore[arg-type]
                heavy=tuple(samples[0]["heavy"]),  # type: ignore[arg-type]
                botocore_from=where,
            )
        )
        print(f"  {name}: {rows[-1].median_ms:.0f} ms", file=sys.stderr, flush=True)
    return rows


def layer_report(layer: Path) -> tuple[int, list[str]]:
    """The layer's size in bytes and the AWS SDK packages it bundles (the runtime already has them)."""
    size = sum(p.stat().st_size for p in layer.rglob("*") if p.is_file())
    sdk = sorted(p.name for p in layer.iterdir() if p.name in ("boto3", "botocore", "s3transfer"))
    return size, sdk


def print_table(rows: list[Row], runs: int) -> None:
    header = (
        f"{'FUNCTION':<10} {'INIT MEDIAN':>11} {'P95':>7} {'CPU':>7} {'WITH .PYC':>9}  {'BOTOCORE':<8}  "
        "HEAVY MODULES AT INIT"
    )
    print(header)
    for row in rows:
        mark = "" if row.median_ms <= GOAL_MS else "  (over goal)"
        print(
            f"{row.function:<10} {row.median_ms:>8.0f} ms {row.p95_ms:>4.0f} ms {row.cpu_median_ms:>4.0f} ms "
            f"{row.pyc_median_ms:>6.0f} ms  "
            f"{row.botocore_from:<8}  {', '.join(row.heavy) or '-'}{mark}"
        )
    print(
        f"{runs} fresh processes per function: wall-clock median and p95, CPU median (steadier on a busy machine); "
        f"'with .pyc': median once the layer is byte-compiled; goal {GOAL_MS} ms"
    )


def run(runs: int = 10, functions: list[str] | None = None, keep: Path | None = None) -> int:
    names = functions or sorted(p.name for p in FUNCTIONS_DIR.iterdir() if (p / "app.py").is_file())
    with tempfile.TemporaryDirectory(prefix="docproc-coldstart-") as tmp:
        root = keep or Path(tmp)
        print(f"building the layer for {sys.version.split()[0]} into {root} ...", file=sys.stderr, flush=True)
        layer = build_layer(root / "layer")
        runtime = build_runtime(root / "runtime")
        rows = measure(layer, runtime, runs, names)
        size, sdk = layer_report(layer)
    print_table(rows, runs)
    print(f"layer: {size / 1e6:.1f} MB unzipped; AWS SDK copies in the layer: {', '.join(sdk) or 'none'}")
    return 0
