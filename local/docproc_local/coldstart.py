"""``docproc bench --cold-start``: each function's init (the import of its handler module as built), in fresh processes.

The layer and the functions are built by ``packaging/Makefile``, the recipe ``sam build`` runs, into a temporary
folder: the same pinned wheels (for CPython 3.13 and *this* machine's architecture, since the deployed arm64 wheels
cannot be imported here) and the same bytecode, compiled by CPython 3.13 (``packaging/fetch-python3.13`` finds one or
fetches Debian's). The Lambda runtime's own boto3 is stood in by a folder that comes *after* the layer on
``sys.path``, as ``/var/runtime`` comes after ``/opt/python`` in Lambda, so a botocore bundled in the layer is the one
imported (and reported).

Each sample is a new CPython 3.13 interpreter (``-I -S``: only the standard library, the function folder, the layer
and the runtime folder on ``sys.path``; ``-B``: no bytecode is written, like Lambda's read-only ``/opt``) with the
environment a Lambda function sees (``AWS_LAMBDA_FUNCTION_NAME`` makes the Powertools Tracer patch as it does in
Lambda). It times ``import app`` and lists the heavy modules that import pulled in. The "no .pyc" column is the same
import from a copy without bytecode (what a build without CPython 3.13 ships). Numbers, not pass/fail.
"""

from __future__ import annotations

import json
import os
import platform
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
PACKAGING = REPO / "packaging"
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
    no_pyc_median_ms: float
    heavy: tuple[str, ...]
    botocore_from: str


def find_python313() -> str:
    """A CPython 3.13 built as the Lambda runtime's is, with optimisations (PGO and LTO): Debian's, fetched by
    ``packaging/fetch-python3.13``. pyenv builds without ``--enable-optimizations`` and as a shared library, and its
    imports are about 30 % slower; it is used (with a warning) only when Debian's cannot be fetched."""
    errors = []
    for fetch in ("1", ""):
        result = subprocess.run(
            [str(PACKAGING / "fetch-python3.13")],
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
            env={**os.environ, "DOCPROC_FETCH_PYTHON313": fetch},
        )
        if result.returncode == 0:
            python = result.stdout.strip().splitlines()[-1]
            if not fetch:
                print(f"warning: Debian's CPython 3.13 could not be fetched; timing {python}", file=sys.stderr)
            return python
        errors.append(result.stderr.strip()[-1500:])
    raise RuntimeError("no CPython 3.13 for the cold-start bench:\n" + "\n".join(errors))


def _make(target: str, cwd: Path, artifacts: Path, python313: str) -> None:
    """One ``packaging/Makefile`` target, as ``sam build`` runs it, for this machine's architecture."""
    artifacts.mkdir(parents=True, exist_ok=True)
    command = [
        "make",
        "--no-print-directory",
        "-f",
        str(PACKAGING / "Makefile"),
        target,
        f"ARTIFACTS_DIR={artifacts}",
        f"LAMBDA_ARCH={platform.machine()}",
        f"PYTHON={sys.executable}",
        f"BYTECODE_PYTHON={python313}",
    ]
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{target} failed:\n{(result.stdout + result.stderr).strip()[-3000:]}")


def build_layer(target: Path, python313: str, src: Path = SRC) -> Path:
    """``target/python``: the layer exactly as ``make build-DomainLayer`` lays it out (bytecode included)."""
    _make("build-DomainLayer", src, target, python313)
    return target / "python"


def build_function(name: str, target: Path, python313: str, functions_dir: Path = FUNCTIONS_DIR) -> Path:
    """``target``: a function's artifact as built (``app.py`` and its bytecode)."""
    _make(f"build-{name.capitalize()}Function", functions_dir / name, target, python313)
    return target


def without_bytecode(built: Path, target: Path) -> Path:
    """A copy of a built folder with every ``__pycache__`` removed."""
    shutil.copytree(built, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def build_runtime(target: Path, python313: str) -> Path:
    """A stand-in for the Lambda runtime's ``/var/runtime``: boto3 and botocore, byte-compiled as AWS ships them."""
    versions = [f"{name}=={metadata.version(name)}" for name in ("boto3", "botocore")]
    _pip(
        "install",
        "--quiet",
        "--no-compile",
        "--only-binary=:all:",
        "--python-version",
        "3.13",
        "--target",
        str(target),
        *versions,
    )
    subprocess.run([python313, "-m", "compileall", "-q", str(target)], check=True, capture_output=True)
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


def probe(function_dir: Path, paths: list[Path], python: str, name: str) -> dict[str, object]:
    """One fresh interpreter importing ``app`` from ``function_dir``: its init time and what it imported."""
    path_arg = os.pathsep.join(str(p) for p in [function_dir, *paths])
    result = subprocess.run(
        [python, "-I", "-S", "-B", "-c", _PROBE, path_arg, ",".join(HEAVY)],
        capture_output=True,
        text=True,
        check=False,
        env=lambda_environment(name, function_dir),
        cwd=function_dir,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{name}: import failed:\n{result.stderr.strip()[-2000:]}")
    data: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def measure(root: Path, runs: int, functions: list[str], python313: str) -> tuple[list[Row], Path]:
    layer = build_layer(root / "layer", python313)
    bare_layer = without_bytecode(layer, root / "layer-no-pyc" / "python")
    runtime = build_runtime(root / "runtime", python313)
    rows = []
    for name in functions:
        built = build_function(name, root / "functions" / name, python313)
        bare = without_bytecode(built, root / "functions-no-pyc" / name)
        samples = [probe(built, [layer, runtime], python313, name) for _ in range(runs)]
        no_pyc = [probe(bare, [bare_layer, runtime], python313, name) for _ in range(max(3, runs // 2))]
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
                no_pyc_median_ms=statistics.median(float(s["ms"]) for s in no_pyc),  # type: ignore[arg-type]
                heavy=tuple(samples[0]["heavy"]),  # type: ignore[arg-type]
                botocore_from=where,
            )
        )
        print(f"  {name}: {rows[-1].median_ms:.0f} ms", file=sys.stderr, flush=True)
    return rows, layer


def layer_report(layer: Path) -> tuple[int, list[str]]:
    """The layer's size in bytes and the AWS SDK packages it bundles (the runtime already has them)."""
    size = sum(p.stat().st_size for p in layer.rglob("*") if p.is_file())
    sdk = sorted(p.name for p in layer.iterdir() if p.name in ("boto3", "botocore", "s3transfer"))
    return size, sdk


def print_table(rows: list[Row], runs: int) -> None:
    header = (
        f"{'FUNCTION':<10} {'INIT MEDIAN':>11} {'P95':>7} {'CPU':>7} {'NO .PYC':>9}  {'BOTOCORE':<8}  "
        "HEAVY MODULES AT INIT"
    )
    print(header)
    for row in rows:
        mark = "" if row.median_ms <= GOAL_MS else "  (over goal)"
        print(
            f"{row.function:<10} {row.median_ms:>8.0f} ms {row.p95_ms:>4.0f} ms {row.cpu_median_ms:>4.0f} ms "
            f"{row.no_pyc_median_ms:>6.0f} ms  "
            f"{row.botocore_from:<8}  {', '.join(row.heavy) or '-'}{mark}"
        )
    print(
        f"{runs} fresh processes per function: wall-clock median and p95, CPU median (steadier on a busy machine); "
        f"'no .pyc': median of the same build without bytecode; goal {GOAL_MS} ms"
    )


def run(runs: int = 10, functions: list[str] | None = None, keep: Path | None = None) -> int:
    names = functions or sorted(p.name for p in FUNCTIONS_DIR.iterdir() if (p / "app.py").is_file())
    python313 = find_python313()
    version = subprocess.run(
        [python313, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True, text=True, check=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="docproc-coldstart-") as tmp:
        root = keep or Path(tmp)
        print(
            f"building the layer and functions (packaging/Makefile, {platform.machine()}, bytecode of CPython "
            f"{version}) into {root} ...",
            file=sys.stderr,
            flush=True,
        )
        rows, layer = measure(root, runs, names, python313)
        size, sdk = layer_report(layer)
    print_table(rows, runs)
    print(
        f"CPython {version}; layer: {size / 1e6:.1f} MB unzipped; "
        f"AWS SDK copies in the layer: {', '.join(sdk) or 'none'}"
    )
    return 0
