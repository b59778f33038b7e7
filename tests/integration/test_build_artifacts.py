"""`sam build` works without Docker, and nothing of local mode ends up in a Lambda artifact.

The build machine's Python is older than the functions' runtime (python3.13 on arm64): the layer must hold the
runtime's wheels (CPython 3.13, manylinux aarch64), never the build machine's.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[2]
FORBIDDEN = ("moto", "samtranslator", "docproc_local", "pytest", "werkzeug")
FUNCTIONS = {
    "IngestFunction",
    "PrepareFunction",
    "OcrFunction",
    "ExtractFunction",
    "ClassifyFunction",
    "MergeFunction",
    "TriageFunction",
}
ELF_MACHINE_AARCH64 = 183  # e_machine of an ELF file for arm64
# Tags a wheel may carry to load in the python3.13 arm64 runtime (Amazon Linux 2023, glibc 2.34).
WHEEL_TAG = re.compile(
    r"(py3|py2\.py3|py2)-none-any"
    r"|(cp313-cp313|cp3\d+-abi3)-(manylinux_2_(1[7-9]|2\d|3[0-4])|manylinux2014)_aarch64"
)


def _sam() -> str:
    sam = os.environ.get("DOCPROC_SAM") or shutil.which("sam")
    if not sam or not Path(sam).exists():
        if os.environ.get("CI"):
            pytest.fail("the SAM CLI is required in CI (make test installs it into .venv-sam)")
        pytest.skip("the SAM CLI is not installed (make test installs it into .venv-sam)")
    return sam


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build_dir = tmp_path_factory.mktemp("sam-build")
    result = subprocess.run(
        [_sam(), "build", "--template-file", str(REPO / "template.yaml"), "--build-dir", str(build_dir)],
        cwd=tmp_path_factory.mktemp("elsewhere"),  # the build must not depend on the folder it runs from
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return build_dir


def test_every_function_and_the_layer_is_built(built: Path) -> None:
    assert FUNCTIONS | {"DomainLayer"} <= {p.name for p in built.iterdir() if p.is_dir()}
    for name in FUNCTIONS:
        assert (built / name / "app.py").read_bytes() == (
            REPO / "functions" / name[: -len("Function")].lower() / "app.py"
        ).read_bytes()
    layer = built / "DomainLayer" / "python"
    assert (layer / "docproc" / "intake.py").is_file()
    assert (layer / "pydantic").is_dir()
    assert (layer / "pypdf").is_dir()
    assert (layer / "yaml").is_dir()


def test_the_configuration_files_ship_in_the_layer(built: Path) -> None:
    config = REPO / "src" / "docproc" / "config"
    files = sorted(p.name for p in config.glob("*.yaml"))
    assert {"document_classes.yaml", "prices.yaml"} <= set(files)
    for name in files:
        shipped = built / "DomainLayer" / "python" / "docproc" / "config" / name
        assert shipped.read_bytes() == (config / name).read_bytes(), name


def test_the_layer_holds_the_runtimes_wheels_not_the_build_machines(built: Path) -> None:
    layer = built / "DomainLayer" / "python"
    wheels = sorted(layer.glob("*.dist-info/WHEEL"))
    assert len(wheels) >= 10
    tags = {
        wheel.parent.name: [
            line.split(":", 1)[1].strip() for line in wheel.read_text().splitlines() if line.startswith("Tag:")
        ]
        for wheel in wheels
    }
    wrong = {name: found for name, found in tags.items() if not found or not all(WHEEL_TAG.fullmatch(t) for t in found)}
    assert wrong == {}
    assert any("cp313-cp313" in t for found in tags.values() for t in found)  # pydantic-core, PyYAML, ...
    # Every compiled module is an arm64 ELF built for CPython 3.13 (or the stable ABI)
    extensions = sorted(layer.rglob("*.so"))
    assert extensions
    for extension in extensions:
        assert re.search(r"\.(cpython-313-aarch64-linux-gnu|abi3)\.so$", extension.name), extension.name
        header = extension.read_bytes()[:20]
        assert header[:4] == b"\x7fELF", extension
        assert int.from_bytes(header[18:20], "little") == ELF_MACHINE_AARCH64, extension
    assert not list(layer.rglob("*x86_64*")), "a build-machine wheel slipped in"
    # the closed requirements list, installed with --no-deps: no second AWS SDK, nothing pdfplumber only draws with
    for left_out in ("botocore", "boto3", "PIL", "pypdfium2"):
        assert not (layer / left_out).exists(), f"{left_out} is in the layer"
    assert not list(layer.rglob("*cpython-311*"))


# CPython 3.13's bytecode: magic number 3571 (importlib.util.MAGIC_NUMBER of any 3.13.x), then the flags word
PYC_MAGIC_313 = (3571).to_bytes(2, "little") + b"\r\n"
PYC_UNCHECKED_HASH = 0b01  # hash-based, source not checked: the layer never changes once built


def test_every_module_ships_bytecode_of_the_runtimes_python(built: Path) -> None:
    """/opt and /var/task are read-only in Lambda: without 3.13 bytecode, every cold start compiles every import."""
    sources = [*(built / "DomainLayer" / "python").rglob("*.py"), *(built / name / "app.py" for name in FUNCTIONS)]
    assert len(sources) > 500
    missing, wrong = [], []
    for source in sources:
        pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
        if not pyc.is_file():
            missing.append(str(source.relative_to(built)))
            continue
        header = pyc.read_bytes()[:8]
        if header[:4] != PYC_MAGIC_313 or int.from_bytes(header[4:8], "little") != PYC_UNCHECKED_HASH:
            wrong.append(str(pyc.relative_to(built)))
    assert missing == []
    assert wrong == []
    assert not list(built.rglob("*.cpython-311.pyc"))


def test_the_layer_size_is_printed(built: Path) -> None:
    layer = built / "DomainLayer"
    size = sum(p.stat().st_size for p in layer.rglob("*") if p.is_file())
    print(f"DomainLayer as built: {size / 2**20:.1f} MiB unzipped")
    assert size < 250 * 2**20  # Lambda's limit for a function and its layers, unzipped


def test_no_local_mode_code_in_any_artifact(built: Path) -> None:
    offenders = [
        str(path.relative_to(built))
        for path in built.rglob("*")
        if any(
            part == name or part.startswith(f"{name}-") or part.startswith(f"{name}.")
            for name in FORBIDDEN
            for part in path.relative_to(built).parts
        )
    ]
    assert offenders == []


def test_functions_hold_only_their_handler(built: Path) -> None:
    for function in built.glob("*Function"):
        files = sorted(p.name for p in function.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        assert files == ["app.py"], (function.name, files)


def test_the_built_template_runs_python313_on_arm64(built: Path) -> None:
    text = (built / "template.yaml").read_text()
    assert "python3.11" not in text
    assert "x86_64" not in text
    assert "python3.13" in text
    assert "arm64" in text
