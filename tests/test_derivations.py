"""cs239/derivations.py (the written backprop problems as code) and the Backprop.ipynb notebook.

The reference gradients agree with centered finite differences on random well-conditioned
inputs of several shapes (m = 1, n = m + 1, non-square Y, D above and below N), the batch
gradient is the mean of the per-example ones, gplvm_grad is the sum of its two terms, and a few
closed forms hold exactly. The notebook runs top to bottom with the reference (every printed
relative error below its printed bound), every graded test cell fails on stubs, its nbgrader
metadata is complete, and nbgrader's own preprocessors strip every rubric and hidden test.
"""
import ast
import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest

from cs239 import derivations as d
from cs239.gradient_check import eval_numerical_gradient
from cs239.tools import manifest

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "source" / manifest.NAME / "Backprop.ipynb"
MODULE = ROOT / "cs239" / "derivations.py"
GRADED = [f.name for f in manifest.FUNCTIONS if f.file == "cs239/derivations.py"]
PROVIDED = ["autoencoder_loss", "autoencoder_loss_batch", "gplvm_kernel", "gplvm_loss"]

AE_SHAPES = [(1, 2), (1, 5), (2, 3), (3, 4), (4, 5), (3, 8), (6, 7)]      # (m, n) of W
GPLVM_CASES = [  # (N, q, D, alpha, beta): D < N, D > N, D == 1, q == 1, N == 1
    (1, 1, 3, 1.0, 1.0), (4, 1, 1, 0.5, 3.0), (5, 2, 3, 1.5, 2.0), (6, 3, 11, 2.0, 1.0),
    (9, 2, 4, 1.0, 0.5), (12, 4, 7, 0.3, 5.0),
]


def err(a, b):
    """Norm-wise relative error: robust to entries of the gradient that are close to zero."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(1e-12, np.linalg.norm(a) + np.linalg.norm(b)))


def num_grad(f, x):
    return eval_numerical_gradient(f, x.copy(), verbose=False, h=1e-5)


def gplvm_inputs(rng, N, q, D):
    return rng.standard_normal((N, q)), rng.standard_normal((N, D))


def L1(X, D, alpha, beta):
    return -0.5 * D * np.linalg.slogdet(d.gplvm_kernel(X, alpha, beta))[1]


def L2(X, Y, alpha, beta):
    return -0.5 * np.trace(np.linalg.solve(d.gplvm_kernel(X, alpha, beta), Y @ Y.T))


# ------------------------------------------------------------------------------------------------
# Problem 1: autoencoder
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("m,n", AE_SHAPES)
def test_autoencoder_grad_matches_finite_differences(rng, m, n):
    W, x = rng.standard_normal((m, n)) / np.sqrt(n), rng.standard_normal(n)
    W0, x0 = W.copy(), x.copy()
    dW = d.autoencoder_grad(W, x)
    assert dW.shape == (m, n) and dW.dtype == np.float64
    assert err(dW, num_grad(lambda W: d.autoencoder_loss(W, x), W)) < 1e-8
    assert np.array_equal(W, W0) and np.array_equal(x, x0)


@pytest.mark.parametrize("m,n,N", [(1, 2, 1), (1, 3, 4), (2, 3, 5), (4, 5, 7), (3, 8, 2)])
def test_autoencoder_grad_batch_is_the_mean_and_matches_finite_differences(rng, m, n, N):
    W, X = rng.standard_normal((m, n)) / np.sqrt(n), rng.standard_normal((n, N))
    dW = d.autoencoder_grad_batch(W, X)
    assert dW.shape == (m, n)
    mean = np.mean([d.autoencoder_grad(W, X[:, k]) for k in range(N)], axis=0)
    np.testing.assert_allclose(dW, mean, rtol=1e-12, atol=1e-14)
    assert err(dW, num_grad(lambda W: d.autoencoder_loss_batch(W, X), W)) < 1e-8
    losses = [d.autoencoder_loss(W, X[:, k]) for k in range(N)]
    assert d.autoencoder_loss_batch(W, X) == pytest.approx(np.mean(losses), rel=1e-12)


def test_autoencoder_closed_forms():
    # W = [[1, t]], x = [a, b]: at t = 0, r = [0, -b] and dL/dW = [[0, -a b]].
    a, b = 1.5, -2.0
    W, x = np.array([[1.0, 0.0]]), np.array([a, b])
    assert d.autoencoder_loss(W, x) == pytest.approx(0.5 * b * b)
    np.testing.assert_allclose(d.autoencoder_grad(W, x), [[0.0, -a * b]], atol=1e-15)
    # Orthonormal rows and x in their span: perfect reconstruction, zero gradient.
    Q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((6, 6)))
    W = Q[:2]
    x = W.T @ np.array([0.3, -1.1])
    assert d.autoencoder_loss(W, x) == pytest.approx(0.0, abs=1e-28)
    np.testing.assert_allclose(d.autoencoder_grad(W, x), 0.0, atol=1e-14)
    # Both paths are needed: each one alone is wrong.
    rng = np.random.default_rng(1)
    W, x = rng.standard_normal((2, 4)), rng.standard_normal(4)
    r = W.T @ W @ x - x
    dW = d.autoencoder_grad(W, x)
    np.testing.assert_allclose(dW, W @ (np.outer(x, r) + np.outer(r, x)), rtol=1e-12)
    assert err(dW, np.outer(W @ x, r)) > 1e-2 and err(dW, np.outer(W @ r, x)) > 1e-2


def test_autoencoder_bad_shapes_have_clear_messages():
    W = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"autoencoder_grad .*x must be a 1-D array of shape"):
        d.autoencoder_grad(W, np.zeros((3, 1)))
    with pytest.raises(ValueError, match=r"autoencoder_grad_batch .*X must be .*\(n, N\)"):
        d.autoencoder_grad_batch(W, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"W must be a 2-D array"):
        d.autoencoder_loss(np.zeros(3), np.zeros(3))


# ------------------------------------------------------------------------------------------------
# Problem 2: GP-LVM
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("N,q,D,alpha,beta", GPLVM_CASES)
def test_gplvm_grads_match_finite_differences(rng, N, q, D, alpha, beta):
    X, Y = gplvm_inputs(rng, N, q, D)
    X0, Y0 = X.copy(), Y.copy()
    g1 = d.gplvm_logdet_grad(X, Y, alpha, beta)
    g2 = d.gplvm_trace_grad(X, Y, alpha, beta)
    g = d.gplvm_grad(X, Y, alpha, beta)
    for grad in (g1, g2, g):
        assert grad.shape == (N, q) and grad.dtype == np.float64
    assert err(g1, num_grad(lambda X: L1(X, D, alpha, beta), X)) < 1e-8
    assert err(g2, num_grad(lambda X: L2(X, Y, alpha, beta), X)) < 1e-8
    assert err(g, num_grad(lambda X: d.gplvm_loss(X, Y, alpha, beta), X)) < 1e-8
    np.testing.assert_allclose(g, g1 + g2, rtol=1e-12, atol=1e-14)   # the sum identity
    assert np.array_equal(X, X0) and np.array_equal(Y, Y0)


@pytest.mark.parametrize("N,q,D,alpha,beta", GPLVM_CASES)
def test_gplvm_grads_closed_form(rng, N, q, D, alpha, beta):
    X, Y = gplvm_inputs(rng, N, q, D)
    Ki = np.linalg.inv(alpha * X @ X.T + np.eye(N) / beta)
    np.testing.assert_allclose(d.gplvm_logdet_grad(X, Y, alpha, beta), -D * alpha * Ki @ X,
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(d.gplvm_trace_grad(X, Y, alpha, beta),
                               alpha * Ki @ Y @ Y.T @ Ki @ X, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(d.gplvm_grad(X, Y, alpha, beta),
                               alpha * (Ki @ Y @ Y.T @ Ki - D * Ki) @ X, rtol=1e-9, atol=1e-12)


def test_gplvm_scalar_case_by_hand():
    # N = q = 1: K = k = alpha x^2 + 1/beta, L1 = -D/2 log k, L2 = -s / (2k) with s = sum(y^2).
    x, y, alpha, beta = 0.7, np.array([1.0, -2.0, 0.5]), 2.0, 4.0
    X, Y, D = np.array([[x]]), y[None, :], y.size
    k, s = alpha * x * x + 1 / beta, np.sum(y * y)
    assert d.gplvm_kernel(X, alpha, beta)[0, 0] == pytest.approx(k)
    assert d.gplvm_logdet_grad(X, Y, alpha, beta)[0, 0] == pytest.approx(-D * alpha * x / k)
    assert d.gplvm_trace_grad(X, Y, alpha, beta)[0, 0] == pytest.approx(alpha * x * s / k ** 2)
    expected_L = -0.5 * D * np.log(2 * np.pi) - 0.5 * D * np.log(k) - 0.5 * s / k
    assert d.gplvm_loss(X, Y, alpha, beta) == pytest.approx(expected_L, rel=1e-12)
    # X = 0 is a stationary point of every term.
    assert np.all(d.gplvm_grad(np.zeros((3, 2)), np.ones((3, 2)), alpha, beta) == 0)


def test_gplvm_loss_is_the_gaussian_log_likelihood_with_the_constant(rng):
    N, q, D, alpha, beta = 7, 2, 5, 1.3, 2.5
    X, Y = gplvm_inputs(rng, N, q, D)
    K = d.gplvm_kernel(X, alpha, beta)
    np.testing.assert_allclose(K, K.T, rtol=0, atol=0)
    # sum over the D columns of log N(Y[:, j]; 0, K), written out independently.
    _, logdet = np.linalg.slogdet(K)
    Kinv = np.linalg.inv(K)
    expected = sum(-0.5 * N * np.log(2 * np.pi) - 0.5 * logdet - 0.5 * Y[:, j] @ Kinv @ Y[:, j]
                   for j in range(D))
    assert d.gplvm_loss(X, Y, alpha, beta) == pytest.approx(expected, rel=1e-12)


def test_gplvm_bad_inputs_have_clear_messages():
    X, Y = np.zeros((4, 2)), np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"gplvm_grad .*Y must be a 2-D array of shape \(N, D\)"):
        d.gplvm_grad(X, np.zeros((5, 3)), 1.0, 1.0)
    with pytest.raises(ValueError, match=r"gplvm_trace_grad .*X must be a 2-D array"):
        d.gplvm_trace_grad(np.zeros(4), Y, 1.0, 1.0)
    for alpha, beta in [(0.0, 1.0), (1.0, -1.0), (1.0, np.inf)]:
        with pytest.raises(ValueError, match=r"must be a finite positive scalar"):
            d.gplvm_logdet_grad(X, Y, alpha, beta)


# ------------------------------------------------------------------------------------------------
# The module: docstrings and solution regions (what the release stubs and the suites read)
# ------------------------------------------------------------------------------------------------

def _functions(tree):
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}


def test_every_public_function_is_documented_with_shapes():
    tree = ast.parse(MODULE.read_text())
    funcs = _functions(tree)
    assert sorted(d.__all__) == sorted(GRADED + PROVIDED)
    assert set(d.__all__) <= set(funcs)
    for name in d.__all__:
        doc = ast.get_docstring(funcs[name])
        assert doc and "of shape" in doc and "Returns" in doc, name
    assert "Lawrence" in ast.get_docstring(tree)


def test_solution_regions_are_exactly_the_graded_functions():
    lines = MODULE.read_text().splitlines()
    funcs = _functions(ast.parse(MODULE.read_text()))
    begins = [i for i, l in enumerate(lines) if l.strip() == "### BEGIN SOLUTION"]
    ends = [i for i, l in enumerate(lines) if l.strip() == "### END SOLUTION"]
    assert len(begins) == len(ends) == len(GRADED)
    owners = []
    for b, e in zip(begins, ends):
        assert b < e
        indent = re.match(r"\s*", lines[b]).group(0)
        assert re.match(r"\s*", lines[e]).group(0) == indent
        assert lines[b - 1].strip().startswith("#") and any(
            lines[k].strip().startswith("# TODO:") for k in range(b - 4, b)), lines[b - 1]
        owner = [n for n, f in funcs.items() if f.lineno <= b + 1 <= f.end_lineno]
        owners.append(owner[0])
        body = lines[b + 1:e]
        assert all(not l.strip() or l.startswith(indent) for l in body)
    assert owners == GRADED
    # No derived formula leaks into a docstring of a graded function (docstrings are released).
    for name in GRADED:
        doc = ast.get_docstring(funcs[name])
        assert "x r^T" not in doc and "K^{-1} X" not in doc and "K^{-1} Y Y^T K^{-1}" not in doc


def _stub_package(dest):
    """Copy cs239 to dest with every solution region replaced by a NotImplementedError."""
    shutil.copytree(ROOT / "cs239", dest / "cs239",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for path in (dest / "cs239").rglob("*.py"):
        out, skip = [], False
        for line in path.read_text().splitlines():
            if line.strip() == "### BEGIN SOLUTION":
                indent = line[:len(line) - len(line.lstrip())]
                out.append(indent + "raise NotImplementedError('stub')")
                skip = True
            elif line.strip() == "### END SOLUTION":
                skip = False
            elif not skip:
                out.append(line)
        path.write_text("\n".join(out) + "\n")


def test_stubs_raise_and_provided_functions_still_work(tmp_path, monkeypatch):
    _stub_package(tmp_path)
    import importlib.util
    spec = importlib.util.spec_from_file_location("stubbed_derivations",
                                                  tmp_path / "cs239" / "derivations.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    W, x, X, Y = np.ones((1, 2)), np.ones(2), np.ones((3, 1)), np.ones((3, 2))
    args = {"autoencoder_grad": (W, x), "autoencoder_grad_batch": (W, np.ones((2, 3)))}
    for name in GRADED:
        with pytest.raises(NotImplementedError):
            getattr(mod, name)(*args.get(name, (X, Y, 1.0, 1.0)))
    assert mod.autoencoder_loss(W, x) == d.autoencoder_loss(W, x)
    assert mod.gplvm_loss(X, Y, 1.0, 1.0) == d.gplvm_loss(X, Y, 1.0, 1.0)


# ------------------------------------------------------------------------------------------------
# The notebook
# ------------------------------------------------------------------------------------------------

def _nbgrader(cell):
    return cell.metadata.get("nbgrader", {})


def test_notebook_nbgrader_metadata():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    ids = [_nbgrader(c).get("grade_id") for c in nb.cells]
    assert all(ids), "every cell of the master notebook carries nbgrader metadata"
    assert len(set(ids)) == len(ids), "grade_ids must be unique"
    answers = [c for c in nb.cells if _nbgrader(c).get("solution")]
    tests = [c for c in nb.cells if _nbgrader(c).get("grade") and not _nbgrader(c).get("solution")]
    assert len(answers) == 5 and len(tests) == 6
    for c in nb.cells:
        m = _nbgrader(c)
        assert m["schema_version"] == 3 and not m.get("task")
        assert not c.get("outputs") and not c.get("execution_count"), "saved without outputs"
        if m.get("grade"):   # written answers earn points, test cells none (the point split)
            assert (m["points"] > 0) == bool(m.get("solution")), m["grade_id"]
        if not m.get("solution"):
            assert m["locked"] and c.metadata.get("editable") is False, m["grade_id"]
            assert "BEGIN SOLUTION" not in c.source and "END SOLUTION" not in c.source
    for c in answers:   # manually graded written answers with a rubric inside the region
        assert c.cell_type == "markdown" and _nbgrader(c)["grade"] and not _nbgrader(c)["locked"]
        region = c.source.split("### BEGIN SOLUTION", 1)[1].split("### END SOLUTION", 1)[0]
        assert "RUBRIC" in region and "Reference answer" in region
    for c in tests:
        assert c.cell_type == "code" and _nbgrader(c)["locked"]
        assert "### BEGIN HIDDEN TESTS" in c.source and "### END HIDDEN TESTS" in c.source
    for c in nb.cells:
        if c not in tests:
            assert "HIDDEN TESTS" not in c.source
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0].cell_type == "code"
    headings = {l.lstrip("#").strip() for c in nb.cells if c.cell_type == "markdown"
                for l in c.source.splitlines() if l.startswith("#")}
    for h in ["Problem 1: linear autoencoder", "Problem 2: GP-LVM", "Swish activation: forward",
              "Swish activation: backward"]:
        assert h in headings, h   # the sections tools/stubify.py names in its messages


def test_nbgrader_release_strips_rubrics_and_hidden_tests():
    from nbgrader.preprocessors import ClearHiddenTests, ClearOutput, ClearSolutions
    nb = nbformat.read(NOTEBOOK, as_version=4)
    resources = {}
    for pre in (ClearSolutions(), ClearOutput(), ClearHiddenTests()):
        nb, resources = pre.preprocess(nb, resources)
    text = "\n".join(c.source for c in nb.cells)
    for secret in ["RUBRIC", "Reference answer", "graders only", "SOLUTION", "HIDDEN TESTS",
                   "Baldi", "expected = "]:
        assert secret not in text, secret
    answers = [c for c in nb.cells if _nbgrader(c).get("solution")]
    assert all(c.source.rstrip().endswith("YOUR ANSWER HERE") for c in answers)


def test_notebook_runs_top_to_bottom_with_the_reference(tmp_path):
    from tools.notebook_runner import extract_checks, notebook_output_text, run_notebook
    nb = run_notebook(NOTEBOOK, cwd=tmp_path, timeout=120)
    checks = extract_checks(nb)
    labels = " ".join(c["label"] for c in checks)
    for name in GRADED + ["swish_backward"]:
        assert name in labels, name
    assert len(checks) >= 20
    bad = [c for c in checks if not c["ok"]]
    assert not bad, bad
    assert "all finite: True" in notebook_output_text(nb)
    assert sorted(p.name for p in tmp_path.iterdir()) == []   # writes nothing


def test_every_graded_test_cell_fails_on_stubs(tmp_path):
    from nbclient import NotebookClient
    _stub_package(tmp_path)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    env = {"PYTHONPATH": str(tmp_path), "MPLBACKEND": "agg"}
    import os
    env = {**os.environ, **env}
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute(env=env)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "stub" not in str(first.outputs), "the set-up cell must run on stubs"
    for c in nb.cells:
        if _nbgrader(c).get("grade") and c.cell_type == "code":
            errors = [o for o in c.outputs if o.output_type == "error"]
            assert errors and errors[0].ename == "NotImplementedError", _nbgrader(c)["grade_id"]
