"""The README's Python and command-line examples run as printed (the C++ one
is compiled from the README by examples/CMakeLists.txt and run by ctest)."""
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def blocks(lang):
    return re.findall(r"```" + lang + r"\n(.*?)```", README, re.S)


def run_python(code, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "build" / "python"))
    p = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_python_example_runs(tmp_path):
    code, _ = blocks("python")
    assert run_python(code, tmp_path).count("[") == 1  # printed ds[0, 0, :10]


def test_store_uri_example_runs(tmp_path):
    _, code = blocks("python")
    assert run_python(code, tmp_path) == "file://stores/zarr\n"


def test_cli_example_runs(tmp_path):
    (script,) = blocks("sh")
    env = dict(os.environ, PATH=f"{ROOT / 'build' / 'bin'}:/usr/bin:{os.environ.get('PATH', '')}")
    p = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "cube" in p.stdout
    assert "[[  0.   1.   2.   3.]" in p.stdout
    import numpy as np
    back = np.load(tmp_path / "cube16.npy")
    assert (back == np.arange(64 ** 3, dtype="f4").reshape(64, 64, 64)).all()
