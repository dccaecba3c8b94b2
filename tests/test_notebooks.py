"""The nbgrader master notebooks (source/<manifest NAME>): clean and valid as committed, and
running top to bottom with the reference solution on the synthetic data set with
tools/notebook_runner.py's QUICK_PARAMETERS, with every check they print holding and the best
models saved.

Each notebook runs once, in a temporary copy (so no .npz lands in source/), on synthetic data
generated once per session by datasets/get_cifar10.py --synthetic.
"""
import ast
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from cs239.tools import manifest
from autograder import notebook_parameters
from tools.notebook_runner import (QUICK_PARAMETERS, NotebookCellError, extract_checks,
                                   extract_metrics, parameters_cell_index,
                                   quick_parameters_for_all, run_notebook)

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "source" / manifest.NAME
NOTEBOOKS = ["TwoLayerNet", "FullyConnectedNets"]
SAVED_MODEL = {"TwoLayerNet": "two_layer_net_best.npz", "FullyConnectedNets": "fc_net_best.npz"}
# Fewest printed checks each notebook must show (so a silently skipped section is noticed).
MIN_CHECKS = {"TwoLayerNet": 7, "FullyConnectedNets": 40}
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN_MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


def _read(name):
    return nbformat.read(SOURCE / ("%s.ipynb" % name), as_version=4)


def _nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


# --------------------------------------------------------------------------- committed files
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_has_no_outputs(name):
    nb = _read(name)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], "%s.ipynb cell %d has outputs" % (name, i)
            assert cell.execution_count is None, "%s.ipynb cell %d was executed" % (name, i)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_nbgrader_metadata(name):
    from nbgrader.nbgraderformat import MetadataValidator

    nb = _read(name)
    MetadataValidator().validate_nb(nb)  # nbgrader's own check (raises ValidationError)
    ids = [_nbgrader(c)["grade_id"] for c in nb.cells if _nbgrader(c)]
    assert len(ids) == len(set(ids)), "duplicate grade_id in %s.ipynb" % name
    graded = 0
    for i, cell in enumerate(nb.cells):
        meta = _nbgrader(cell)
        where = "%s.ipynb cell %d (%s)" % (name, i, meta.get("grade_id"))
        if meta:
            assert meta["schema_version"] == 3, where
        if meta.get("grade"):
            graded += 1
            assert meta.get("points", 0) > 0, "%s: graded cell without points" % where
            if not meta.get("solution"):
                assert cell.cell_type == "code" and meta.get("locked"), \
                    "%s: autograded test cells are locked code cells" % where
        if meta.get("solution") and meta.get("grade"):
            assert cell.cell_type == "markdown", "%s: manual answers are markdown" % where
        if any(m in cell.source for m in SOLUTION_MARKERS):
            assert meta.get("solution") and cell.cell_type == "code", \
                "%s: solution region outside a solution code cell" % where
            assert all(cell.source.count(m) == 1 for m in SOLUTION_MARKERS), where
        if any(m in cell.source for m in HIDDEN_MARKERS):
            assert meta.get("grade") and not meta.get("solution"), \
                "%s: hidden tests outside an autograded test cell" % where
    assert graded >= 5, "%s.ipynb has only %d graded cells" % (name, graded)
    manual = [c for c in nb.cells if _nbgrader(c).get("solution") and _nbgrader(c).get("grade")]
    assert manual, "%s.ipynb has no manually graded inline question" % name


def test_grade_ids_unique_across_notebooks():
    ids = [_nbgrader(c)["grade_id"] for name in NOTEBOOKS for c in _read(name).cells
           if _nbgrader(c)]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_parameters_cell(name):
    """One `parameters` cell; every quick override names a knob it defines; it holds only the
    knobs (the overrides are applied by a kernel hook, invisible here)."""
    nb = _read(name)
    source = nb.cells[parameters_cell_index(nb)].source
    assigned = {t.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Assign)
                for t in node.targets if isinstance(t, ast.Name)}
    unknown = set(QUICK_PARAMETERS[name]) - assigned
    assert not unknown, "QUICK_PARAMETERS[%r] sets knobs the notebook lacks: %s" % (name, unknown)
    for knob in ("num_training", "num_validation", "num_test", "show_progress"):
        assert knob in assigned
    body = ast.parse(source).body
    assert all(isinstance(node, ast.Assign) for node in body), "only assignments of knobs"
    assert "CS239_NOTEBOOK_PARAMETERS" not in source


@pytest.mark.parametrize("name", [n[:-len(".ipynb")] for n in manifest.NOTEBOOKS])
def test_overrides_land_after_the_parameters_cell(name):
    """The kernel hook applies the overrides after the first cell that assigns one of them: in
    every notebook that is the parameters cell (or no cell), for the one set the grader uses."""
    from IPython.core.inputtransformer2 import TransformerManager

    keys = set(quick_parameters_for_all())
    nb = _read(name)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        body = ast.parse(TransformerManager().transform_cell(cell.source)).body
        if {t.id for node in body if isinstance(node, ast.Assign) for t in node.targets
                if isinstance(t, ast.Name)} & keys:
            assert "parameters" in cell.metadata.get("tags", []), cell.source[:200]
            break


# --------------------------------------------------------------------------- notebook_runner
def test_overrides_apply_after_the_parameters_cell_and_nowhere_else(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("a = 1"),
        nbformat.v4.new_code_cell("n = 10\nm = 2"),
        nbformat.v4.new_code_cell("print(n, m, globals().get('dims'), sorted(k for k in globals() "
                                  "if not k.startswith('_') and k not in ('In', 'Out')))"),
        nbformat.v4.new_code_cell("n = 4\nprint(n)")],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}})
    nb.cells[1].metadata["tags"] = ["parameters"]
    path = tmp_path / "params.ipynb"
    nbformat.write(nb, str(path))
    ran = run_notebook(path, {"n": 3, "dims": [4, 5]}, cwd=tmp_path, timeout=60)
    printed = [o["text"] for c in ran.cells for o in c.get("outputs", [])]
    # the overrides replace the parameters cell's values; the hook adds no variable of its own;
    # a later assignment by the student's code holds
    assert printed == ["3 2 [4, 5] ['a', 'dims', 'exit', 'get_ipython', 'm', 'n', 'open', "
                       "'quit']\n", "4\n"]
    assert [c.source for c in ran.cells] == [c.source for c in nb.cells]
    assert [c.execution_count for c in ran.cells] == [1, 2, 3, 4]
    plain = run_notebook(path, cwd=tmp_path, timeout=60)
    assert plain.cells[2].outputs[0]["text"].startswith("10 2 None ['a', 'exit', ")
    with pytest.raises(ValueError):
        notebook_parameters.environment({"not valid": 1})


def test_extract_checks_and_metrics():
    out = nbformat.v4.new_code_cell("")
    out.outputs = [nbformat.v4.new_output("stream", name="stdout", text=(
        "W1 max relative error: 3.56e-09 (should be < 1e-7)\n"
        "dx error: nan (should be < 1e-8)\nnoise: 5\n"
        "Final validation accuracy: 0.5120\nFinal test accuracy: 0.5\n"))]
    fake = nbformat.v4.new_notebook(cells=[out])
    checks = extract_checks(fake)
    assert [(c["label"], c["ok"]) for c in checks] == [("W1 max relative error", True),
                                                       ("dx error", False)]
    assert checks[0]["value"] == 3.56e-09 and checks[0]["bound"] == 1e-7
    assert extract_metrics(fake) == {"validation accuracy": 0.512, "test accuracy": 0.5}


def test_run_notebook_names_the_failing_cell(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("n = 1"),
        nbformat.v4.new_code_cell("print('n is', n)"),
        nbformat.v4.new_code_cell("import os\nopen('made_here', 'w').close()\n"
                                  "raise ValueError('boom %d %s' % (n, os.environ['CS239_X']))")])
    nb.cells[0].metadata["tags"] = ["parameters"]
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(NotebookCellError) as info:
        run_notebook(path, {"n": 5}, cwd=work, env={"CS239_X": "yes"}, timeout=120,
                     html_out=tmp_path / "tiny.html")
    err = info.value
    assert err.cell_index == 2 and err.ename == "ValueError" and "boom 5 yes" in err.evalue
    assert "tiny.ipynb" in str(err) and "cell 2" in str(err)
    assert (work / "made_here").exists()          # ran in cwd
    assert (tmp_path / "tiny.html").exists()      # HTML of the failed run, for debugging
    assert nbformat.read(path, as_version=4) == nb  # the file itself is untouched


# --------------------------------------------------------------------------- execution
@pytest.fixture(scope="session")
def synthetic_cifar(tmp_path_factory):
    dest = tmp_path_factory.mktemp("synthetic-cifar")
    subprocess.run([sys.executable, str(ROOT / "datasets" / "get_cifar10.py"), "--synthetic",
                    "--dest", str(dest), "--quiet"], check=True)
    return dest / "cifar-10-batches-py"


@pytest.fixture(scope="module")
def executed(synthetic_cifar, tmp_path_factory):
    """executed(name) -> (notebook or None, workdir, NotebookCellError or None), run once."""
    cache = {}

    def run(name):
        if name not in cache:
            workdir = tmp_path_factory.mktemp(name)
            shutil.copy(SOURCE / ("%s.ipynb" % name), workdir)
            try:
                nb = run_notebook(workdir / ("%s.ipynb" % name), QUICK_PARAMETERS[name],
                                  cwd=workdir, timeout=600,
                                  env={"CS239_CIFAR10_DIR": str(synthetic_cifar)})
                cache[name] = (nb, workdir, None)
            except NotebookCellError as exc:
                cache[name] = (None, workdir, exc)
        return cache[name]

    run.npz_in_source_before = set(SOURCE.glob("*.npz"))  # e.g. from a student-style local run
    return run


def _ok(executed, name):
    nb, workdir, error = executed(name)
    if error is not None:
        pytest.fail("notebook failed: %s" % error)
    return nb, workdir


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_top_to_bottom(executed, name):
    nb, _ = _ok(executed, name)
    assert all(c.get("execution_count") for c in nb.cells if c.cell_type == "code")
    assert set(SOURCE.glob("*.npz")) == executed.npz_in_source_before, \
        "running a copy must not write into source/"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_printed_checks_hold(executed, name):
    nb, _ = _ok(executed, name)
    checks = extract_checks(nb)
    assert len(checks) >= MIN_CHECKS[name], [c["label"] for c in checks]
    failed = ["cell %d: %s = %g, should be < %g" % (c["cell"], c["label"], c["value"], c["bound"])
              for c in checks if not c["ok"]]
    assert not failed, failed
    metrics = extract_metrics(nb)
    assert set(metrics) >= {"validation accuracy", "test accuracy"}
    assert all(0.0 <= v <= 1.0 for v in metrics.values())


def _scores(name, params, X):
    X = X.reshape(len(X), -1).astype(np.float64)
    layers = sum(1 for k in params if k.startswith("W"))
    for i in range(1, layers + 1):
        X = X @ params["W%d" % i] + params["b%d" % i]
        if i < layers:
            act = str(params.get("activation", "relu"))
            X = np.maximum(X, 0) if act == "relu" else X / (1 + np.exp(-X))
    return X


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_saved_model_loads_and_matches_printed_accuracy(executed, synthetic_cifar, name):
    nb, workdir = _ok(executed, name)
    path = workdir / SAVED_MODEL[name]
    assert path.is_file(), "%s did not write %s" % (name, SAVED_MODEL[name])
    with np.load(path, allow_pickle=False) as f:
        params = {k: f[k] for k in f.files}
    weights = sorted(k for k in params if k.startswith("W"))
    assert weights and all("b" + k[1:] in params for k in weights)
    assert params["W1"].shape[0] == 3 * 32 * 32 and params["W%d" % len(weights)].shape[1] == 10
    if name == "FullyConnectedNets":
        assert params["activation"].shape == () and str(params["activation"]) in ("relu", "swish")
    else:
        assert sorted(params) == ["W1", "W2", "b1", "b2"]

    from cs239.data_utils import get_CIFAR10_data
    q = QUICK_PARAMETERS[name]
    data = get_CIFAR10_data(num_training=q["num_training"], num_validation=q["num_validation"],
                            num_test=q["num_test"], num_dev=0, cifar10_dir=synthetic_cifar)
    val_acc = float(np.mean(np.argmax(_scores(name, params, data["X_val"]), 1) == data["y_val"]))
    assert abs(val_acc - extract_metrics(nb)["validation accuracy"]) < 1e-3, \
        "the saved model is not the one whose validation accuracy the notebook printed"
