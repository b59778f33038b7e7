"""The layer's requirements are installed with ``pip --no-deps``: the list must hold everything its packages need,
except the AWS SDK the Lambda runtime ships (a second botocore in the layer is a slower cold start)."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REQUIREMENTS = Path(__file__).resolve().parents[2] / "src" / "requirements.txt"
#: Packages in the Lambda Python runtime (/var/runtime): never in the layer.
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
#: Requirements left out on purpose: pdfplumber needs Pillow and pypdfium2 only in ``pdfplumber.display``
#: (``Page.to_image``), which docproc never imports (tests/unit/test_formats_pdf_tables.py checks it).
LEFT_OUT = {("pdfplumber", "pillow"), ("pdfplumber", "pypdfium2")}
#: The deployed runtime: python3.13 on arm64 Linux (markers are evaluated for it, not for this interpreter).
TARGET = {
    "python_version": "3.13",
    "python_full_version": "3.13.0",
    "sys_platform": "linux",
    "platform_machine": "aarch64",
}


def pinned() -> dict[str, Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines())
    return {canonicalize_name(req.name): req for req in (Requirement(line) for line in lines if line)}


def test_every_requirement_is_pinned_exactly() -> None:
    for name, req in pinned().items():
        assert str(req.specifier).startswith("=="), f"{name} must be pinned with == (got {req.specifier})"


def test_the_aws_sdk_is_left_to_the_runtime() -> None:
    assert not RUNTIME_PROVIDED & set(pinned())


@pytest.mark.parametrize("name", sorted(pinned()))
def test_what_each_package_requires_is_pinned_or_in_the_runtime(name: str) -> None:
    # GIVEN the package as installed in this environment (the same pins as the layer's direct requirements)
    requirements = pinned()
    extras = requirements[name].extras or {""}
    try:
        needs = metadata.distribution(name).requires or []
    except metadata.PackageNotFoundError:
        pytest.skip(f"{name} is not installed here")
    for line in needs:
        dependency = Requirement(line)
        if dependency.marker and not any(dependency.marker.evaluate({**TARGET, "extra": e}) for e in extras):
            continue
        dep = canonicalize_name(dependency.name)
        # THEN it is in the layer list at a version the package accepts, or the runtime provides it
        if dep in RUNTIME_PROVIDED or (name, dep) in LEFT_OUT:
            continue
        assert dep in requirements, f"{name} needs {dependency}: add it to src/requirements.txt"
        version = str(requirements[dep].specifier).removeprefix("==")
        assert dependency.specifier.contains(version, prereleases=True), f"{name} needs {dependency}, pinned {version}"
