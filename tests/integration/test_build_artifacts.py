"""`sam build` works without Docker, and nothing of local mode ends up in a Lambda artifact."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[2]
FORBIDDEN = ("moto", "samtranslator", "docproc_local", "pytest", "werkzeug")


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
    functions = {
        "IngestFunction",
        "PrepareFunction",
        "ExtractFunction",
        "ClassifyFunction",
        "MergeFunction",
        "TriageFunction",
    }
    assert functions | {"DomainLayer"} <= {p.name for p in built.iterdir() if p.is_dir()}
    for name in functions:
        assert (built / name / "app.py").is_file(), name
    layer = built / "DomainLayer" / "python"
    assert (layer / "docproc" / "intake.py").is_file()
    assert (layer / "pydantic").is_dir()
    assert (layer / "pypdf").is_dir()
    assert (layer / "yaml").is_dir()


def test_the_document_class_configuration_ships_in_the_layer(built: Path) -> None:
    shipped = built / "DomainLayer" / "python" / "docproc" / "config" / "document_classes.yaml"

    assert shipped.read_bytes() == (REPO / "src" / "docproc" / "config" / "document_classes.yaml").read_bytes()


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
