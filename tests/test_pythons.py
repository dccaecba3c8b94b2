"""Students and graders run CPython 3.10 to 3.13 with numpy 1.26 or 2.x.

- A static check (vermin) that nothing we ship or test needs more than pyproject.toml's
  requires-python: the package, the grader, the tools, the tests, and the notebooks' code cells.
- The package's unit tests (and the grader's wire format, which runs on the worker's numpy)
  under other interpreters found on this machine, each in a venv with numpy 1.26 or 2.x from the
  package index. Venvs are cached under build/pythons/ (delete it to rebuild).
"""
import hashlib
import json
import os
import subprocess
import sys

import pytest

from cs239.tools import manifest
from tests.pythons import ROOT, find_python, index_unreachable, minimum_python

CHECKED_DIRS = ["cs239", "autograder", "tools", "datasets", "bench", "tests", "assignments"]
NOTEBOOK_DIRS = ["source/" + manifest.NAME, "assignments/" + manifest.NAME]
PACKAGE_TESTS = ["test_layers.py", "test_layer_utils.py", "test_optim.py", "test_classifiers.py",
                 "test_solver.py", "test_swish.py", "test_gradient_check.py",
                 "test_data_utils.py", "test_autograder_wire.py"]
# (interpreter, numpy requirement): the oldest Python with the oldest numpy we support, and
# the newer Pythons with numpy 2.x (the host's .venv is a third point).
COMBINATIONS = [("3.10", "numpy>=1.26,<1.27"), ("3.12", "numpy>=2,<3"), ("3.13", "numpy>=2,<3")]


def _vermin(paths):
    major, minor = minimum_python()
    return subprocess.run([sys.executable, "-c", "import sys, vermin; sys.exit(vermin.main())",
                           f"-t={major}.{minor}-", "--violations",
                           "--no-tips", "--eval-annotations",
                           *map(str, paths)], capture_output=True, text=True, cwd=ROOT)


def _notebook_code(tmp_path):
    """Each notebook's code cells as one .py file (IPython magics become plain calls)."""
    from IPython.core.inputtransformer2 import TransformerManager
    ipython = TransformerManager()
    out = []
    for d in NOTEBOOK_DIRS:
        for nb in sorted((ROOT / d).glob("*.ipynb")):
            cells = json.loads(nb.read_text())["cells"]
            lines = []
            for c in cells:
                if c["cell_type"] == "code":
                    lines.append(ipython.transform_cell("".join(c["source"])))
            p = tmp_path / d.replace("/", "_") / (nb.stem + ".py")
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text("\n".join(lines) + "\n")
            out.append(p)
    assert out, "no notebooks found"
    return out


def test_code_and_notebooks_need_no_newer_python_than_declared(tmp_path):
    paths = [ROOT / d for d in CHECKED_DIRS] + _notebook_code(tmp_path)
    p = _vermin(paths)
    assert p.returncode == 0, (f"code needs a newer Python than requires-python "
                               f"{minimum_python()}:\n{p.stdout}\n{p.stderr}")


def test_the_static_check_catches_newer_code(tmp_path):
    (tmp_path / "new.py").write_text("import tomllib\n\ndef f(x):\n    match x:\n"
                                     "        case 1:\n            return 2\n")
    p = _vermin([tmp_path / "new.py"])
    assert p.returncode != 0 and "tomllib" in p.stdout, p.stdout


def test_environment_yml_declares_the_same_minimum_python():
    major, minor = minimum_python()
    assert f"- python>={major}.{minor}\n" in (ROOT / "environment.yml").read_text()


def _venv(python, minor, numpy_req):
    """A cached venv for PYTHON with NUMPY_REQ, pytest and tqdm; its python executable."""
    wanted = f"{numpy_req} pytest tqdm"
    d = ROOT / "build" / "pythons" / f"py3.{minor}-{hashlib.sha1(wanted.encode()).hexdigest()[:8]}"
    exe = d / "bin" / "python"
    stamp = d / ".installed"
    if stamp.exists() and stamp.read_text() == wanted and exe.exists():
        return exe
    subprocess.run([str(python), "-m", "venv", "--clear", str(d)], check=True,
                   capture_output=True)
    p = subprocess.run([str(exe), "-m", "pip", "install", "--quiet", "--only-binary=:all:",
                        numpy_req, "pytest", "tqdm"], capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, f"pip install into the 3.{minor} venv failed:\n{p.stderr[-3000:]}"
    stamp.write_text(wanted)
    return exe


@pytest.mark.parametrize("version,numpy_req", COMBINATIONS)
def test_package_tests_pass_under_other_pythons(version, numpy_req):
    minor = int(version.split(".")[1])
    if sys.version_info[:2] == (3, minor):
        pytest.skip(f"Python {version} is the interpreter running these tests")
    python = find_python(minor)
    if python is None:
        pytest.skip(f"no CPython {version} with venv support on this machine (PATH or pyenv)")
    reason = index_unreachable()
    if reason:
        pytest.skip(reason)
    exe = _venv(python, minor, numpy_req)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYENV"))}
    env["PYTHONPATH"] = str(ROOT)
    p = subprocess.run([str(exe), "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                        *[f"tests/{t}" for t in PACKAGE_TESTS]], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=900)
    versions = subprocess.run([str(exe), "-c", "import sys, numpy; print(sys.version.split()[0],"
                               " numpy.__version__)"], capture_output=True, text=True).stdout
    assert p.returncode == 0, f"under Python/numpy {versions}:\n{p.stdout[-5000:]}\n{p.stderr[-2000:]}"
    assert " passed" in p.stdout, p.stdout[-2000:]
    print(f"package tests pass under Python/numpy {versions.strip()}: {p.stdout.splitlines()[-1]}")
