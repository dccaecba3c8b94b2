"""Hidden tests: the notebook work the package suites cannot see (FullyConnectedNets.ipynb).

The automatic notebook points reward only what a student decided in a notebook; function
correctness is scored once, by the package suites, and written answers are graded by hand.
Here: the learning rate and weight scale the student chose to overfit 50 training images with
a three-layer and a five-layer network. They are read from the submitted notebook's cells
(``fc-overfit-3``, ``fc-overfit-5``) as plain numbers, parsed on the TRUSTED side (the notebook
is data: nothing in it is executed), and the experiment is re-run here with the REFERENCE
network and Solver on the same 50 images, so a bug in a package function never costs points
here (it costs points in that function's column). These points also need the student's
FullyConnectedNet to be implemented (no NotImplementedError): a stubbed package earns nothing,
whatever its notebooks contain. Without CIFAR-10 on the grading machine they are skipped.
"""
import ast
import json
import math
from pathlib import Path

import numpy as np
import pytest

from ._checks import fail, rng_for

graded = pytest.mark.graded
NOTEBOOK = "FullyConnectedNets.ipynb"
MAX_BYTES = 20 << 20            # a larger notebook is refused, not parsed
MAX_SOURCE = 100_000            # characters of one cell
NUM_OVERFIT, EPOCHS, BATCH = 50, 20, 25
TARGET = 0.96                   # 48 of 50: the re-run's random draws differ from the student's
FCN = "cs239.classifiers.fc_net.FullyConnectedNet"
_DATA = {}


def _notebook(submission_dir):
    path = Path(submission_dir) / NOTEBOOK
    if not path.is_file():   # inside one top folder, as for the saved models
        found = [p / NOTEBOOK for p in Path(submission_dir).iterdir()
                 if p.is_dir() and not p.name.startswith(".") and (p / NOTEBOOK).is_file()]
        if len(found) != 1:
            fail("%s not found in the submission" % NOTEBOOK)
        path = found[0]
    if path.is_symlink() or path.stat().st_size > MAX_BYTES:
        fail("%s is not a regular notebook file of at most %d MB" % (NOTEBOOK, MAX_BYTES >> 20))
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = nb["cells"]
        if not isinstance(cells, list):
            raise TypeError
    except (ValueError, KeyError, TypeError, RecursionError, UnicodeDecodeError):
        fail("%s cannot be read as a notebook (JSON with a list of cells)" % NOTEBOOK)
    return cells


def _cell_source(cells, grade_id):
    for c in cells:
        meta = c.get("metadata") if isinstance(c, dict) else None
        nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
        if isinstance(nbg, dict) and nbg.get("grade_id") == grade_id:
            src = c.get("source", "")
            src = "".join(s for s in src if isinstance(s, str)) if isinstance(src, list) else src
            if not isinstance(src, str) or len(src) > MAX_SOURCE:
                fail("%s: the cell %r is not plain text of at most %d characters"
                     % (NOTEBOOK, grade_id, MAX_SOURCE))
            return src
    fail("%s: the cell %r is missing (keep the homework's cells and their metadata)"
         % (NOTEBOOK, grade_id))


_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
        ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
        ast.Pow: lambda a, b: a ** b if abs(b) <= 64 else math.nan}


def _number(node, env):
    """The value of a constant arithmetic expression (numbers, names assigned before, + - * /
    **); None for anything else. Nothing is executed."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)
    if isinstance(node, ast.Name):
        return env.get(node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _number(node.operand, env)
        return None if v is None else (-v if isinstance(node.op, ast.USub) else v)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        a, b = _number(node.left, env), _number(node.right, env)
        if a is None or b is None:
            return None
        try:
            return float(_OPS[type(node.op)](a, b))
        except (ArithmeticError, ValueError, TypeError):
            return None
    return None


def _keyword(tree, func, key, env):
    """The number passed as KEY= to a top-level call of FUNC (the student may have written the
    value there instead of in the variable), or None."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == func:
            for kw in node.keywords:
                if kw.arg == key:
                    return _number(kw.value, env)
                if kw.arg == "optim_config" and isinstance(kw.value, ast.Dict):
                    for k, v in zip(kw.value.keys, kw.value.values):
                        if isinstance(k, ast.Constant) and k.value == key:
                            return _number(v, env)
    return None


def hyperparameters(source, grade_id):
    """(weight_scale, learning_rate) the cell uses, read from its text."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        fail("%s: the cell %r is not valid Python" % (NOTEBOOK, grade_id))
    env = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Raise):
            fail("%s: the cell %r still raises (e.g. NotImplementedError): set learning_rate "
                 "and weight_scale, delete the raise, and run the cell" % (NOTEBOOK, grade_id))
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(
                stmt.targets[0], ast.Name):
            env[stmt.targets[0].id] = _number(stmt.value, env)
    ws = _keyword(tree, "FullyConnectedNet", "weight_scale", env) or env.get("weight_scale")
    lr = _keyword(tree, "Solver", "learning_rate", env) or env.get("learning_rate")
    for name, v in (("weight_scale", ws), ("learning_rate", lr)):
        if v is None or not math.isfinite(v) or not 0 < v <= 1e3:
            fail("%s: cannot read %s from the cell %r as a positive number: the grader reads "
                 "it from the cell's text (e.g. `%s = 1e-2`) and re-runs the experiment"
                 % (NOTEBOOK, name, grade_id, name))
    return ws, lr


def _overfit_data(ref):
    """The notebook's small_data: the first 50 training images, minus the mean training image,
    exactly as get_CIFAR10_data's defaults prepare them (without converting all 49000)."""
    if "small" not in _DATA:
        du = ref.data_utils
        try:
            Xtr, ytr, _, _ = du._load_raw(du.default_cifar10_dir())
            ntr = min(49000, len(Xtr) - min(1000, len(Xtr) // 10))
            mean = Xtr[:ntr].mean(axis=0, dtype=np.float64).astype(np.float32).reshape(3, 32, 32)
            X = Xtr[:NUM_OVERFIT].reshape(-1, 3, 32, 32).astype(np.float32) - mean
            _DATA["small"] = {"X_train": X, "y_train": ytr[:NUM_OVERFIT].copy(),
                              "X_val": X, "y_val": ytr[:NUM_OVERFIT].copy()}
        except (OSError, ValueError, AttributeError) as e:
            _DATA["small"] = e
    if isinstance(_DATA["small"], Exception):
        pytest.skip("not scored: CIFAR-10 data missing on the grading machine (set "
                    "CS239_CIFAR10_DIR to a cifar-10-batches-py folder and regrade)")
    return _DATA["small"]


def _network_implemented(student):
    """Fail unless the student's FullyConnectedNet builds and runs (its values may be wrong:
    those are scored in its own column); a NotImplementedError means the experiment cannot
    have been run with this package."""
    rng = rng_for("nb-work-gate")
    X, y = rng.standard_normal((4, 6)), np.array([0, 2, 1, 2])
    why = ("%s's automatic points need your FullyConnectedNet (cs239/classifiers/fc_net.py and "
           "the layers it calls) to be implemented: the experiment runs on it" % NOTEBOOK)
    try:
        h = student.new(FCN, [5], input_dim=6, num_classes=3, weight_scale=0.1,
                        dtype="float64")
        res = student.call_method(h, "loss", X, y)
    except Exception as e:
        if getattr(e, "kind", None) == "NotImplementedError":
            fail(why + " (it raised NotImplementedError)")
        return   # another error is a bug, scored where it is
    grads = res[1] if isinstance(res, tuple) and len(res) == 2 else None
    if not isinstance(grads, dict) or not {"W1", "b1", "W2", "b2"} <= set(grads):
        fail(why + " (its loss(X, y) does not return a loss and a gradient for every "
                   "parameter)")


def _rerun(ref, data, hidden, ws, lr):
    """The best training accuracy of the notebook's experiment, re-run with the reference
    (deterministic: seed 0; remembered for the same settings)."""
    key = ("rerun", tuple(hidden), ws, lr)
    if key not in _DATA:
        _DATA[key] = _train(ref, data, hidden, ws, lr)
    return _DATA[key]


def _train(ref, data, hidden, ws, lr):
    model = ref.classifiers.FullyConnectedNet(hidden, weight_scale=ws, dtype=np.float64, seed=0)
    solver = ref.solver.Solver(model, data, num_epochs=EPOCHS, batch_size=BATCH,
                               update_rule="sgd", optim_config={"learning_rate": lr},
                               verbose=False)
    with np.errstate(all="ignore"):
        solver.train()
    return max(solver.train_acc_history)


def _check_overfit(student, ref, submission_dir, grade_id, hidden):
    ws, lr = hyperparameters(_cell_source(_notebook(submission_dir), grade_id), grade_id)
    _network_implemented(student)
    acc = _rerun(ref, _overfit_data(ref), hidden, ws, lr)
    if not acc >= TARGET:
        fail("%s, cell %r: with your weight_scale = %g and learning_rate = %g, the grader's "
             "re-run of the experiment (a correct network of hidden sizes %s, %d epochs) "
             "reached %.0f%% training accuracy on the 50 images (needs at least %.0f%%; "
             "aim for 100%%)" % (NOTEBOOK, grade_id, ws, lr, hidden, EPOCHS, 100 * acc,
                                 100 * TARGET))


@graded("FullyConnectedNets.ipynb: your learning rate and weight scale overfit 50 images with "
        "the three-layer network (re-run by the grader)", points=2)
def test_overfit_three_layer(student, ref, submission_dir):
    _check_overfit(student, ref, submission_dir, "fc-overfit-3", [100, 100])


@graded("FullyConnectedNets.ipynb: your learning rate and weight scale overfit 50 images with "
        "the five-layer network (re-run by the grader)", points=2)
def test_overfit_five_layer(student, ref, submission_dir):
    _check_overfit(student, ref, submission_dir, "fc-overfit-5", [100, 100, 100, 100])
