"""A small nbgrader course tree for the release, leak-check and round-trip tests: the real cs239
package and one notebook (Demo.ipynb) with every kind of nbgrader cell, a planted solution line,
hidden test and written answer (whose text must never reach a release), master outputs and junk.
conftest.py's `course` fixture builds one per test module."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from cs239.tools import manifest

ROOT = Path(__file__).resolve().parents[1]
NAME = manifest.NAME
SECRET_PY = "secret_value = 2 * x  # fixture-solution-line"
HIDDEN = "assert twice(21) == 42  # fixture-hidden-test"
ANSWER = "Because the reference answer says so, fixture-written-answer."


# ------------------------------------------------------------------------------------------------

def nbg(**kw):
    meta = {"grade": False, "solution": False, "locked": False, "schema_version": 3}
    meta.update(kw)
    return {"nbgrader": meta}


def fixture_notebook():
    cells = [
        new_markdown_cell("# Demo notebook\n\n## Part A: doubling",
                          metadata=nbg(locked=True, grade_id="intro")),
        new_code_cell("N = 10  # size knob", metadata={"tags": ["parameters"]}),
        new_code_cell("def twice(x):\n    ### BEGIN SOLUTION\n    %s\n    return secret_value\n"
                      "    ### END SOLUTION" % SECRET_PY,
                      metadata=nbg(solution=True, grade_id="twice")),
        new_code_cell("assert twice(2) == 4\n### BEGIN HIDDEN TESTS\n%s\n### END HIDDEN TESTS"
                      % HIDDEN, metadata=nbg(grade=True, grade_id="test_twice", points=1)),
        new_code_cell("import numpy as np\nfrom cs239.layers import relu_forward\n"
                      "relu_out, _ = relu_forward(np.array([-1.0, 2.0]))\nprint(relu_out)"),
        new_code_cell("assert relu_out.tolist() == [0.0, 2.0]",
                      metadata=nbg(grade=True, grade_id="test_relu", points=2)),
        new_markdown_cell("**Question:** why?", metadata=nbg(locked=True, grade_id="q1")),
        new_markdown_cell(ANSWER, metadata=nbg(solution=True, grade=True, grade_id="a1", points=1)),
    ]
    for i, cell in enumerate(cells):
        cell["id"] = "demo-%d" % i
    nb = new_notebook(cells=cells, metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    # the master was run: outputs that must not reach the release
    cells[4].outputs = [nbformat.v4.new_output("stream", name="stdout", text="[0. 2.]\n")]
    cells[4].execution_count = 3
    return nb


def make_course(dest):
    """A course tree at dest (returned as a Path) that tools.release can build."""
    dest = Path(dest)
    shutil.copytree(ROOT / "cs239", dest / "cs239",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (dest / "cs239" / "__pycache__").mkdir(exist_ok=True)
    (dest / "cs239" / "__pycache__" / "layers.cpython-311.pyc").write_bytes(b"\0junk")
    (dest / "datasets").mkdir()
    (dest / "datasets/get_cifar10.py").write_text("print('download')\n")
    (dest / "datasets/get_cifar10.sh").write_text('#!/bin/sh\nexec python3 "$0.py" "$@"\n')
    (dest / "datasets/cifar-10-batches-py").mkdir()
    (dest / "datasets/cifar-10-batches-py/data_batch_1").write_bytes(b"data")
    shutil.copy(ROOT / "nbgrader_config.py", dest / "nbgrader_config.py")
    shutil.copytree(ROOT / "tools", dest / "tools", ignore=shutil.ignore_patterns("__pycache__"))
    src = dest / "source" / NAME
    src.mkdir(parents=True)
    nbformat.write(fixture_notebook(), src / "Demo.ipynb")
    (src / "demo_best.npz").write_bytes(b"PK reference model")    # master output: not released
    (src / ".ipynb_checkpoints").mkdir()
    (src / ".ipynb_checkpoints" / "Demo-checkpoint.ipynb").write_text("{}")
    (dest / "autograder").mkdir()
    (dest / "autograder" / "suite.py").write_text(
        "def test_hidden():\n    assert fixture_autograder_secret_line == 1\n")
    return dest


def nbgrader(course, *args, env=None, timeout=900):
    """Run the real nbgrader command in COURSE (an env value of None unsets that variable);
    its output, or an assertion error with it."""
    full_env = {k: v for k, v in dict(os.environ, **(env or {})).items() if v is not None}
    full_env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), full_env["PATH"]])
    proc = subprocess.run([str(Path(sys.executable).with_name("nbgrader")), *args], cwd=course,
                          env=full_env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, "nbgrader %s failed:\n%s%s" % (" ".join(args), proc.stdout,
                                                                 proc.stderr)
    return proc.stdout + proc.stderr
