"""The point split cannot be faked: a submission whose package is stubbed earns 0 automatic
points, whatever its notebooks contain, through the real grader with the notebooks graded.

The notebooks here are the master's (answers and hyperparameters filled in) plus a first cell
with every trick we know for nbgrader's test cells, which run in the student's own kernel:
an AST transformer wrapping every later cell in try/except, redefined check helpers, and a
patched numpy. The tricks work (test cells that cannot pass with stub code report passing),
and still earn nothing: those cells carry no points, and the notebook work (the overfitting
hyperparameters) is re-run on the trusted side and needs the package's network."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import notebook_parameters
from tests import corpus
from tools.notebook_runner import quick_parameters_for_all

ROOT = Path(__file__).resolve().parents[1]

TRICKS = '''# tricks a student could try on nbgrader's test cells
import ast
class _Wrap(ast.NodeTransformer):
    def visit_Module(self, node):
        handler = ast.ExceptHandler(type=ast.Name("BaseException", ast.Load()), name=None,
                                    body=[ast.Pass()])
        node.body = [ast.Try(body=node.body or [ast.Pass()], handlers=[handler], orelse=[],
                             finalbody=[])]
        return ast.fix_missing_locations(node)
get_ipython().ast_transformers.append(_Wrap())
import numpy as np
import cs239.gradient_check as _gc
_gc.rel_error = lambda *a, **k: 0.0
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
'''


def _with_tricks(path):
    nb = json.loads(path.read_text())
    nb["cells"].insert(1, {"cell_type": "code", "metadata": {}, "outputs": [],
                           "execution_count": None, "source": TRICKS})
    path.write_text(json.dumps(nb))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("fair")
    data = base / "data"
    subprocess.run([sys.executable, str(ROOT / "datasets/get_cifar10.py"), "--synthetic",
                    "--dest", str(data), "-q"], check=True, cwd=ROOT)
    for d in [base, data, *data.rglob("*")]:     # the notebook kernels' users read the data
        os.chmod(d, 0o755 if d.is_dir() else 0o644)
    sub = corpus.build(base / "stub-with-tricks", notebooks=True)
    corpus.stub(sub)
    for nb in sub.glob("*.ipynb"):
        _with_tricks(nb)
    out = base / "out"
    env = dict(os.environ, CS239_CIFAR10_DIR=str(data / "cifar-10-batches-py"),
               **notebook_parameters.environment(quick_parameters_for_all()))
    p = subprocess.run([sys.executable, "-m", "autograder", "grade", str(sub), "--out", str(out),
                        "--jobs", "1", "-q", "--force"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=1200)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    return json.loads((out / sub.name / "results.json").read_text())


def test_stubbed_package_with_notebook_tricks_earns_nothing(graded):
    earned = {t["name"]: t["score"] for t in graded["tests"] if t["score"] > 0}
    assert graded["score"] == 0 and not earned, earned


def test_the_tricks_do_fool_the_notebook_test_cells(graded):
    # the stubbed functions raise NotImplementedError, yet the wrapped test cells "pass":
    # exactly why those cells carry no points
    cells = [t for t in graded["tests"] if ".ipynb: " in t["name"]
             and not t["name"].split(": ", 1)[1].startswith("your ")]
    assert cells and any(t["status"] == "passed" for t in cells), cells
    assert all(t["max_score"] == 0 for t in cells)
    work = [t for t in graded["tests"] if t["name"].startswith("FullyConnectedNets.ipynb: your ")]
    assert len(work) == 2 and all("to be implemented" in t["output"] for t in work), work
