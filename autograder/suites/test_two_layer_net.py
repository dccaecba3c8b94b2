"""Hidden tests: TwoLayerNet.loss, .predict and .train (cs239/classifiers/neural_net.py)."""
import functools

import numpy as np
import pytest

from . import _composite as composite
from ._checks import (check_array, check_dict, check_grads_match_own_loss, check_scalar,
                      close, fail, reg_mistakes, rng_for, student_raised)

graded = pytest.mark.graded
TLN = "cs239.classifiers.neural_net.TwoLayerNet"
KEYS = ("W1", "b1", "W2", "b2")


def _params(key, D, H, C, std=0.5):
    rng = rng_for("tln", key)
    return {"W1": std * rng.standard_normal((D, H)), "b1": 0.3 * rng.standard_normal(H),
            "W2": std * rng.standard_normal((H, C)), "b2": 0.3 * rng.standard_normal(C)}


def _data(key, N, D, C):
    rng = rng_for("tlndata", key)
    return rng.standard_normal((N, D)), rng.integers(0, C, size=N)


def _net(student, params, D, H, C):
    h = student.new(TLN, D, H, C, std=1e-4)
    student.set_attr(h, "params", {k: v.copy() for k, v in params.items()})
    return h


def _ref_net(ref, params):
    D, H = params["W1"].shape
    C = params["W2"].shape[1]
    net = ref.classifiers.TwoLayerNet(D, H, C)
    net.params = {k: v.copy() for k, v in params.items()}
    return net


def _pair(res, what):
    if not isinstance(res, tuple) or len(res) != 2:
        fail("%s must return a tuple (loss, grads) when y is given, got a %s"
             % (what, getattr(res, "type_name", None) or type(res).__name__))
    return res


def _variants(ref, params, X, y, reg):
    """The reference's loss and grads without regularization (trusted side)."""
    loss0, g0 = _ref_net(ref, params).loss(X, y, reg=0.0)
    return {"loss_noreg": loss0, "g0": g0}


def _loss_mistakes(params, v, reg):
    sq = {k: float(np.sum(params[k] ** 2)) for k in KEYS}
    return reg_mistakes(v["loss_noreg"], sq, reg, ["W1", "W2"], ["b1", "b2"])


def _grad_mistakes(name, params, v, reg, N):
    g0 = v["g0"][name]
    p = params[name]
    ms = []
    if name.startswith("W"):
        ms += [("the data gradient is not divided by N (the loss is an average)",
                g0 * N + reg * p),
               ("the regularization gradient reg * %s is missing" % name, g0),
               ("the regularization gradient has a factor 0.5 (d/dW of 0.5 reg W**2 is reg W)",
                g0 + 0.5 * reg * p),
               ("the regularization gradient is doubled (2 reg W): the loss has 0.5 reg W**2",
                g0 + 2 * reg * p)]
    else:
        ms += [("the bias %s is regularized (biases are not)" % name, g0 + reg * p),
               ("the data gradient is not divided by N (the loss is an average)", g0 * N)]
    return ms


def _check_grads(grads, params, exp, v, reg, N, extra=""):
    grads = check_dict(grads, KEYS, "grads")
    for name in KEYS:
        check_array(grads[name], exp[name], "grads[%r]" % name,
                    mistakes=_grad_mistakes(name, params, v, reg, N),
                    factors=[(N, "the gradient is not divided by N (the loss is an average)"),
                             (1.0 / N, "the gradient is divided by N twice")], extra=extra)


def _scores_note(student, ref):
    """When a loss test fails, say so if the forward pass (scores) is wrong too."""
    D, H, C, N = 4, 5, 3, 6
    params = _params("note", D, H, C)
    X, _ = _data("note", N, D, C)
    try:
        got = student.call_method(_net(student, params, D, H, C), "loss", X)
        ok = close(got, _ref_net(ref, params).loss(X), 1e-6)
    except Exception:  # a student fault or a malformed value
        ok = False
    return "" if ok else ("; note: your scores (loss(X) with y=None) are wrong too: fix the "
                          "forward pass first")


def explained(fn):
    """Decorator: failures of a loss test get _scores_note appended."""
    @functools.wraps(fn)
    def wrapper(student, ref):
        try:
            return fn(student, ref)
        except AssertionError as e:
            raise AssertionError(str(e) + _scores_note(student, ref)) from None
    return wrapper


@graded("TwoLayerNet.loss: scores match (y is None)", points=2)
def test_scores(student, ref):
    D, H, C, N = 6, 8, 4, 7
    params = _params("scores", D, H, C)
    X, _ = _data("scores", N, D, C)
    h = _net(student, params, D, H, C)
    scores = student.call_method(h, "loss", X)
    exp = _ref_net(ref, params).loss(X)
    if np.all(exp >= 0):  # pragma: no cover - the data are chosen to avoid this
        raise RuntimeError("suite data: expected scores should include negatives")
    hidden = np.maximum(X @ params["W1"] + params["b1"], 0)
    check_array(scores, exp, "scores", mistakes=[
        ("a ReLU is applied to the scores (the last layer has no ReLU)", np.maximum(exp, 0)),
        ("there is no ReLU after the first layer", (X @ params["W1"] + params["b1"])
         @ params["W2"] + params["b2"]),
        ("the biases are not added", np.maximum(X @ params["W1"], 0) @ params["W2"]),
        ("softmax probabilities were returned instead of the raw scores",
         np.exp(exp - exp.max(1, keepdims=True)) / np.exp(
             exp - exp.max(1, keepdims=True)).sum(1, keepdims=True)),
        ("the second bias b2 is missing", hidden @ params["W2"])])


@graded("TwoLayerNet.loss: loss and gradients without regularization", points=2)
@explained
def test_loss_noreg(student, ref):
    D, H, C, N = 5, 7, 3, 9
    params = _params("noreg", D, H, C)
    X, y = _data("noreg", N, D, C)
    h = _net(student, params, D, H, C)
    loss, grads = _pair(student.call_method(h, "loss", X, y, reg=0.0), "loss")
    exp_loss, exp_grads = _ref_net(ref, params).loss(X, y, reg=0.0)
    v = _variants(ref, params, X, y, 0.0)
    check_scalar(loss, exp_loss, "loss (reg = 0)", factors=[
        (N, "the loss is summed over the examples, not averaged (divide by N)")], mistakes=[
        ("a ReLU is applied to the scores before the softmax",
         _ref_loss_relu_scores(params, X, y))])
    _check_grads(grads, params, exp_grads, v, 0.0, N)


def _ref_loss_relu_scores(params, X, y):
    s = np.maximum(np.maximum(X @ params["W1"] + params["b1"], 0) @ params["W2"]
                   + params["b2"], 0)
    s = s - s.max(1, keepdims=True)
    lp = s - np.log(np.exp(s).sum(1, keepdims=True))
    return -lp[np.arange(len(y)), y].mean()


@graded("TwoLayerNet.loss: loss with regularization (0.5 * reg * (sum W1**2 + sum W2**2))",
        points=1)
@explained
def test_loss_reg(student, ref):
    D, H, C, N, reg = 5, 6, 4, 8, 0.37
    params = _params("reg", D, H, C)
    X, y = _data("reg", N, D, C)
    h = _net(student, params, D, H, C)
    loss, _ = _pair(student.call_method(h, "loss", X, y, reg=reg), "loss")
    exp_loss, _ = _ref_net(ref, params).loss(X, y, reg=reg)
    v = _variants(ref, params, X, y, reg)
    check_scalar(loss, exp_loss, "loss (reg = %g)" % reg, mistakes=_loss_mistakes(params, v, reg))


@graded("TwoLayerNet.loss: gradients with regularization (a minibatch without the highest "
        "class)", points=2)
@explained
def test_grads_reg(student, ref):
    D, H, C, N, reg = 4, 6, 3, 7, 0.21
    params = _params("greg", D, H, C)
    X, y = _data("greg", N, D, C)
    y = np.minimum(y, C - 2)   # a minibatch without the highest class (0 <= y < C holds)
    h = _net(student, params, D, H, C)
    try:
        _, grads = _pair(student.call_method(h, "loss", X, y, reg=reg), "loss")
    except Exception as e:
        if student_raised(e, "IndexError", "ValueError"):
            fail("TwoLayerNet.loss raised %s on a minibatch whose labels do not include the "
                 "highest class %d (%s): take the number of classes from the scores "
                 "(W2.shape[1]), not from max(y) + 1" % (e.kind, C - 1, str(e.message)[:150]))
        raise
    _, exp_grads = _ref_net(ref, params).loss(X, y, reg=reg)
    v = _variants(ref, params, X, y, reg)
    _check_grads(grads, params, exp_grads, v, reg, N)


@graded("TwoLayerNet.loss: gradients agree with finite differences of your own loss",
        points=1)
@explained
def test_self_consistent(student, ref):
    D, H, C, N, reg = 4, 5, 3, 6, 0.3
    params = _params("fd", D, H, C)
    X, y = _data("fd", N, D, C)
    h = _net(student, params, D, H, C)
    _, grads = _pair(student.call_method(h, "loss", X, y, reg=reg), "loss")
    grads = check_dict(grads, KEYS, "grads")

    def loss_at(p):
        student.set_attr(h, "params", p)
        return _pair(student.call_method(h, "loss", X, y, reg=reg), "loss")[0]

    check_grads_match_own_loss(grads, params, KEYS, loss_at, "tln-fd-dirs",
                               hint=" (e.g. a 0.5 factor in one but not the other)")


# --------------------------------------------------------------------------- predict
@graded("TwoLayerNet.predict: labels match the argmax of the scores", points=1)
def test_predict(student, ref, notes):
    D, H, C, N = 6, 9, 5, 20
    params = _params("pred", D, H, C)
    X, _ = _data("pred", N, D, C)
    h = _net(student, params, D, H, C)
    got = student.call_method(h, "predict", X)
    exp = _ref_net(ref, params).predict(X)
    if not _right_given_own_scores(student, ref, h, params, X, got, exp, notes):
        _check_labels(got, exp, params, X)


def _right_given_own_scores(student, ref, h, params, X, got, exp, notes):
    """predict calls self.loss(X): labels that are the argmax of the student's OWN scores are
    right given them (wrong scores cost points in TwoLayerNet.loss only)."""
    scores, _ = composite.run(student.call_method, h, "loss", X)
    if not (isinstance(scores, np.ndarray) and scores.shape == (len(X), params["W2"].shape[1])
            and isinstance(got, np.ndarray) and got.shape == (len(X),)):
        return False
    own = np.argmax(scores, axis=1)
    if not np.array_equal(got, own):
        return False
    if not np.array_equal(own, exp):
        notes.append(composite.fix_first(["TwoLayerNet.loss (its scores)"],
                                         "TwoLayerNet.predict"))
    return True


def _check_labels(got, exp, params, X):
    if got is None:
        fail("predict returned None (store the labels in y_pred)")
    arr = np.asarray(got) if isinstance(got, (np.ndarray, list, tuple)) else None
    if arr is None or arr.dtype == object:
        fail("predict must return an array of labels, got a %s"
             % (getattr(got, "type_name", None) or type(got).__name__))
    if arr.shape != exp.shape:
        fail("predicted labels: shape expected %s, got %s%s" % (
            exp.shape, arr.shape, "; take the argmax over axis=1 (the classes)"
            if arr.shape == (params["W2"].shape[1],) else ""))
    if not (np.issubdtype(arr.dtype, np.integer)
            or (np.issubdtype(arr.dtype, np.floating) and np.all(arr == np.round(arr)))):
        fail("predicted labels: expected integer labels, got dtype %s" % arr.dtype)
    wrong = np.flatnonzero(arr != exp)
    if wrong.size:
        scores = np.maximum(X @ params["W1"] + params["b1"], 0) @ params["W2"] + params["b2"]
        msg = "predicted labels: %d of %d differ (first at index %d)" % (
            wrong.size, exp.size, wrong[0])
        if np.array_equal(arr, np.argmin(scores, axis=1)):
            msg += "; looks like argmin instead of argmax"
        fail(msg)


@graded("TwoLayerNet.predict: N = 1 and integer labels of shape (N,)", points=1)
def test_predict_edge(student, ref, notes):
    D, H, C = 3, 4, 6
    params = _params("pred1", D, H, C)
    X, _ = _data("pred1", 1, D, C)
    h = _net(student, params, D, H, C)
    got = student.call_method(h, "predict", X)
    exp = _ref_net(ref, params).predict(X)
    if not _right_given_own_scores(student, ref, h, params, X, got, exp, notes):
        _check_labels(got, exp, params, X)
    if not np.issubdtype(np.asarray(got).dtype, np.integer):
        fail("predicted labels: expected an integer dtype, got %s (np.argmax gives integers)"
             % np.asarray(got).dtype)


# --------------------------------------------------------------------------- train
def train_test(fn):
    """Decorator: train calls self.loss; when train stops because the student's OWN loss
    raised, a correct train stops there too, so the test is not charged (TwoLayerNet.loss
    is); the note says to fix loss first."""
    @functools.wraps(fn)
    def wrapper(**fixtures):
        try:
            return fn(**fixtures)
        except Exception as e:
            student = fixtures["student"]
            if not (composite.raised_in(e, fixtures["submission_dir"],
                                        "classifiers/neural_net.py", "TwoLayerNet", "loss")
                    and _loss_fails_on_valid_batches(student, e)):
                raise
            fixtures["notes"].append(
                "TwoLayerNet.train stopped where your TwoLayerNet.loss raised %s (see its own "
                "tests); a correct train stops there too: fix TwoLayerNet.loss first, then this "
                "test checks train itself" % e.kind)
    return wrapper


_TRAIN_INPUTS = {}   # id(student) -> (params, X, y, batch_size, reg) of its last train call


def _loss_fails_on_valid_batches(student, fault):
    """True when the student's own loss, given a valid minibatch of the last train call's data
    (its first rows, or rows without the highest class), fails the way train did: then train
    stopped because of loss, not because it passed loss something wrong."""
    if id(student) not in _TRAIN_INPUTS:
        return False
    params, X, y, bs, reg = _TRAIN_INPUTS[id(student)]
    D, H = params["W1"].shape
    C = params["W2"].shape[1]
    h = _net(student, params, D, H, C)
    no_top = np.flatnonzero(y < C - 1)[:bs]
    for idx in (np.arange(min(bs, len(X))), no_top):
        _, f = composite.run(student.call_method, h, "loss", X[idx], y[idx], reg=reg)
        if f is not None and composite.same_fault(fault, f):
            return True
    return False


def _unique_data(key, N, D, C):
    X, y = _data(key, N, D, C)
    X[:, 0] = np.arange(N)  # every row is distinct: minibatch rows can be traced back
    return X, y


_NO_REG = None  # marks a loss call made without reg (the loss then uses its default, 0.0)


def _train_calls(spy_result):
    """The loss calls made for training (y given), as (X, y, reg) triples."""
    calls = spy_result.calls.get("loss", [])
    out = []
    for args, kwargs in calls:
        X = args[0] if args else kwargs.get("X")
        y = args[1] if len(args) > 1 else kwargs.get("y")
        if y is None:
            continue  # prediction (scores only)
        reg = args[2] if len(args) > 2 else kwargs.get("reg", _NO_REG)
        out.append((X, y, reg))
    return out


def _run_train(student, key, N=65, D=4, C=3, H=5, **kw):
    X, y = _unique_data(key, N, D, C)
    Xv, yv = _data(key + "val", 11, D, C)
    params = _params(key, D, H, C, std=0.1)
    h = _net(student, params, D, H, C)
    kw.setdefault("learning_rate", 1e-2)
    kw.setdefault("learning_rate_decay", 0.9)
    kw.setdefault("reg", 1e-3)
    kw.setdefault("num_iters", 12)
    kw.setdefault("batch_size", 12)
    _TRAIN_INPUTS[id(student)] = (params, X, y, kw["batch_size"], kw["reg"])
    res = student.call_method(h, "train", X, y, Xv, yv, verbose=False, spy=["loss"], **kw)
    return h, X, y, params, res, kw


def _history(res, key):
    hist = res.value
    if not isinstance(hist, dict):
        fail("train must return a dict of histories, got a %s"
             % (getattr(hist, "type_name", None) or type(hist).__name__))
    if key not in hist:
        fail("train's result has no %r" % key)
    v = hist[key]
    if isinstance(v, np.ndarray):
        v = list(v.ravel())
    if not isinstance(v, (list, tuple)):
        fail("%s must be a list, got a %s" % (key, type(v).__name__))
    return list(v)


@graded("TwoLayerNet.train: each iteration uses a minibatch of batch_size rows of X with "
        "their labels", points=2)
@train_test
def test_train_minibatches(student, ref, notes, submission_dir):
    h, X, y, params, res, kw = _run_train(student, "mb")
    calls = _train_calls(res)
    n = kw["num_iters"]
    if len(calls) != n:
        fail("train called self.loss(X_batch, y_batch, ...) %d times for num_iters=%d "
             "(expected once per iteration)" % (len(calls), n))
    rows = {float(r): i for i, r in enumerate(X[:, 0])}
    batches = []
    for it, (Xb, yb, _) in enumerate(calls):
        Xb = np.asarray(Xb)
        if Xb.shape != (kw["batch_size"], X.shape[1]):
            fail("iteration %d: the minibatch X_batch has shape %s, expected (batch_size, D) = "
                 "%s" % (it, Xb.shape, (kw["batch_size"], X.shape[1])))
        idx = [rows.get(float(r)) for r in Xb[:, 0]]
        if any(i is None or not np.array_equal(X[i], Xb[j]) for j, i in enumerate(idx)):
            fail("iteration %d: X_batch contains rows that are not rows of X" % it)
        yb = np.asarray(yb)
        if yb.shape != (kw["batch_size"],) or not np.array_equal(yb, y[idx]):
            fail("iteration %d: y_batch does not hold the labels of the rows in X_batch "
                 "(index X and y with the same indices)" % it)
        batches.append(tuple(sorted(idx)))
    if len(set(batches)) == 1 and n > 1:
        fail("every iteration used the same minibatch: sample a new one each iteration "
             "(np.random.choice)")


@graded("TwoLayerNet.train: reg is passed on to loss", points=1)
@train_test
def test_train_reg(student, ref, notes, submission_dir):
    _, _, _, _, res, kw = _run_train(student, "reg", reg=0.37, num_iters=3)
    calls = _train_calls(res)
    if not calls:
        fail("train never called self.loss(X_batch, y=y_batch, reg=reg)")
    for X_b, y_b, reg in calls:
        if reg is _NO_REG:
            fail("train called self.loss without reg (so it used its default 0.0) instead of "
                 "the reg it was given (0.37): pass reg=reg to self.loss")
        if not isinstance(reg, (int, float, np.number)) or abs(float(reg) - 0.37) > 1e-12:
            fail("train called self.loss with reg=%r instead of the reg it was given (0.37): "
                 "pass reg=reg to self.loss" % (reg,))


@graded("TwoLayerNet.train: loss_history has one loss per iteration", points=1)
@train_test
def test_train_loss_history(student, ref, notes, submission_dir):
    _, _, _, _, res, kw = _run_train(student, "lh", num_iters=9)
    hist = _history(res, "loss_history")
    if len(hist) != 9:
        fail("loss_history has %d entries for num_iters=9 (expected one per iteration)"
             % len(hist))
    if not all(isinstance(v, (int, float, np.number)) and np.isfinite(v) for v in hist):
        fail("loss_history must hold finite numbers (the minibatch losses)")


@graded("TwoLayerNet.train: accuracy histories have one entry at the end of each epoch",
        points=2)
@train_test
def test_train_acc_history(student, ref, notes, submission_dir):
    # N = 65, batch_size = 12: iterations_per_epoch = 65 // 12 = 5; 12 iterations -> 2 epochs
    _, _, _, _, res, kw = _run_train(student, "acc", num_iters=12, batch_size=12)
    for key in ("train_acc_history", "val_acc_history"):
        hist = _history(res, key)
        if len(hist) != 2:
            msg = ("%s has %d entries for N=65, batch_size=12, num_iters=12 (expected 2: one at "
                   "the end of each epoch of max(N // batch_size, 1) = 5 iterations)"
                   % (key, len(hist)))
            if len(hist) == 0:
                msg += "; looks like iterations_per_epoch is a float (N / batch_size): use //"
            elif len(hist) == 3:
                msg += "; looks like it is recorded at the start of each epoch (it % 5 == 0)"
            elif len(hist) == 12:
                msg += "; looks like it is recorded every iteration"
            fail(msg)
        if not all(isinstance(v, (int, float, np.number)) and 0 <= v <= 1 for v in hist):
            fail("%s must hold accuracies between 0 and 1" % key)


@graded("TwoLayerNet.train: parameters follow SGD steps (learning rate decayed each epoch)",
        points=1)
@train_test
def test_train_updates(student, ref, notes, submission_dir):
    lr, decay, reg = 0.05, 0.5, 0.01
    h, X, y, params, res, kw = _run_train(student, "upd", learning_rate=lr,
                                          learning_rate_decay=decay, reg=reg, num_iters=11)
    calls = _train_calls(res)
    if len(calls) != kw["num_iters"]:
        fail("train called self.loss(X_batch, y_batch, ...) %d times for num_iters=%d"
             % (len(calls), kw["num_iters"]))
    got = check_dict(student.get_attr(h, "params"), KEYS, "params after train")
    ipe = max(X.shape[0] // kw["batch_size"], 1)

    def replay(decay_used, lr_used, reg_used=reg):
        return _replay_sgd(params, calls, lambda p, Xb, yb: _ref_net(ref, p).loss(
            Xb, yb, reg=reg_used)[1], lr_used, decay_used, ipe)

    exp = replay(decay, lr)
    if _right_given_own_loss(student, ref, params, calls, got, exp, lr, decay, reg, ipe,
                             notes):
        return
    nodecay, plus, noreg = replay(1.0, lr), replay(decay, -lr), replay(decay, lr, 0.0)
    for k in KEYS:
        check_array(got[k], exp[k], "params[%r] after %d iterations" % (k, kw["num_iters"]),
                    tol=1e-6, mistakes=[
                        ("the learning rate is not decayed after each epoch", nodecay[k]),
                        ("the step has the wrong sign (params -= learning_rate * grads)",
                         plus[k]),
                        ("the parameters were not updated", params[k]),
                        ("reg is not passed on to self.loss", noreg[k])])


def _replay_sgd(params, calls, grads_at, lr, decay, ipe):
    """The parameters after SGD over the recorded minibatches (learning rate decayed after
    every epoch of ipe iterations), with gradients grads_at(params, X_batch, y_batch)."""
    p = {k: np.asarray(v, dtype=np.float64).copy() for k, v in params.items()}
    rate = lr
    for it, (Xb, yb, _) in enumerate(calls):
        g = grads_at(p, np.asarray(Xb), np.asarray(yb))
        p = {k: p[k] - rate * np.asarray(g[k], dtype=np.float64) for k in KEYS}
        if (it + 1) % ipe == 0:
            rate *= decay
    return p


def _right_given_own_loss(student, ref, params, calls, got, exp, lr, decay, reg, ipe, notes):
    """train calls self.loss: parameters that are what correct SGD gives with the student's
    OWN loss (replayed here, calling that loss in the worker on the same minibatches) are
    right given it; a wrong loss costs points in TwoLayerNet.loss only."""
    D, H = params["W1"].shape
    sh = _net(student, params, D, H, params["W2"].shape[1])

    def own_grads(p, Xb, yb):
        student.set_attr(sh, "params", p)
        g = _pair(student.call_method(sh, "loss", Xb, yb, reg=reg), "loss")[1]
        return check_dict(g, KEYS, "grads")

    own, _ = composite.run(_replay_sgd, params, calls, own_grads, lr, decay, ipe)
    if own is None or not all(close(got[k], own[k], 1e-6) for k in KEYS):
        return False
    if not all(close(own[k], exp[k], 1e-6) for k in KEYS):
        notes.append(composite.fix_first(["TwoLayerNet.loss"], "TwoLayerNet.train"))
    return True


@graded("TwoLayerNet.train: the loss goes down on an easy problem", points=2)
@train_test
def test_train_learns(student, ref, notes, submission_dir):
    rng = rng_for("easy")
    C, D, H, N = 3, 8, 16, 300
    centers = 3.0 * rng.standard_normal((C, D))
    y = rng.integers(0, C, size=N)
    X = centers[y] + rng.standard_normal((N, D))
    params = _params("easy", D, H, C, std=0.1)
    params["b1"][:] = 0
    params["b2"][:] = 0
    h = _net(student, params, D, H, C)
    _TRAIN_INPUTS[id(student)] = (params, X, y, 50, 1e-4)
    spied = student.call_method(h, "train", X, y, X[:50], y[:50], learning_rate=0.1,
                                learning_rate_decay=0.95, reg=1e-4, num_iters=150,
                                batch_size=50, verbose=False, spy=["loss"])
    try:
        _check_learns(student, ref, h, params, X, y, spied.value)
    except AssertionError:
        # Not learning is train's fault only if correct SGD with the student's own loss
        # learns: when train did exactly that, the (wrong) loss is to blame.
        got = student.get_attr(h, "params")
        calls = _train_calls(spied)
        exp = _replay_sgd(params, calls, lambda p, Xb, yb: _ref_net(ref, p).loss(
            Xb, yb, reg=1e-4)[1], 0.1, 0.95, N // 50)
        if not (isinstance(got, dict) and set(KEYS) <= set(got) and len(calls) == 150
                and _right_given_own_loss(student, ref, params, calls, got, exp, 0.1, 0.95,
                                          1e-4, N // 50, notes)
                and not all(close(got[k], exp[k], 1e-6) for k in KEYS)):
            raise


def _check_learns(student, ref, h, params, X, y, res):
    if not isinstance(res, dict) or "loss_history" not in res:
        fail("train must return a dict with loss_history")
    hist = np.asarray(res["loss_history"], dtype=np.float64).ravel()
    if hist.size < 20 or not np.all(np.isfinite(hist)):
        fail("loss_history must hold num_iters finite losses")
    first, last = hist[:5].mean(), hist[-10:].mean()
    if not last < 0.5 * first:
        fail("on an easy, well-separated problem (lr 0.1, 150 iterations) the loss went from "
             "%.3g (first 5 iterations) to %.3g (last 10); expected it to at least halve"
             % (first, last))
    trained = check_dict(student.get_attr(h, "params"), KEYS, "params after train")
    net = _ref_net(ref, {k: np.asarray(trained[k], dtype=np.float64) for k in KEYS})
    acc = float(np.mean(net.predict(X) == y))
    if acc < 0.9:
        fail("after training on an easy problem the training accuracy is %.2f (expected at "
             "least 0.90)" % acc)
