"""packaging/fetch-python3.13 gives a CPython 3.13 on a build machine that has none (Debian 13's, unpacked)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "packaging" / "fetch-python3.13"


@pytest.mark.skipif(not shutil.which("apt-get") or not shutil.which("dpkg-deb"), reason="needs Debian's apt-get")
def test_the_fetched_interpreter_writes_the_bytecode_the_layer_needs(tmp_path: Path) -> None:
    # GIVEN no usable python3.13 is looked for (DOCPROC_FETCH_PYTHON313=1: fetch even when one is installed)
    dest = tmp_path / "toolchain"
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(tmp_path), "DOCPROC_FETCH_PYTHON313": "1"}
    # WHEN the script runs
    result = subprocess.run([str(SCRIPT), str(dest)], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    python = result.stdout.strip().splitlines()[-1]
    assert python == str(dest / "bin" / "python3.13")
    # THEN it is CPython 3.13 with the standard library the build and the bench use
    version = subprocess.run(
        [python, "-c", "import sys, ssl, ctypes, decimal, compileall; print(*sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.split() == ["3", "13"]
    # AND it writes 3.13 bytecode (magic number 3571) as packaging/Makefile asks for it
    module = tmp_path / "pkg" / "mod.py"
    module.parent.mkdir()
    module.write_text("VALUE = 42\n")
    subprocess.run(
        [python, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(module.parent)], check=True
    )
    header = (module.parent / "__pycache__" / "mod.cpython-313.pyc").read_bytes()[:8]
    assert header[:4] == (3571).to_bytes(2, "little") + b"\r\n"
    assert int.from_bytes(header[4:8], "little") == 0b01
    # AND a second call reuses what is there (no download)
    again = subprocess.run([str(SCRIPT), str(dest)], capture_output=True, text=True, env=env, check=True)
    assert again.stdout.strip() == python
    assert "downloading" not in again.stderr
