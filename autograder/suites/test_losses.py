"""Hidden tests: softmax and SVM losses (cs239/layers.py)."""
import numpy as np
import pytest

from ._checks import (call_reporting_args, check_array, check_scalar, check_unmodified, fail,
                      numeric_grad, rng_for)

graded = pytest.mark.graded
SM, SVM = "cs239.layers.softmax_loss", "cs239.layers.svm_loss"


def _scores(key, N, C, scale=1.0):
    rng = rng_for("loss", key)
    x = scale * rng.standard_normal((N, C))
    y = rng.integers(0, C, size=N)
    return x, y


def _call(student, qualname, x, y):
    return _pair(student.call(qualname, x, y), qualname.rsplit(".", 1)[1])


def _pair(res, func):
    if not isinstance(res, tuple) or len(res) != 2:
        fail("%s must return a tuple (loss, dx), got a %s" % (
            func, getattr(res, "type_name", None) or type(res).__name__))
    return res


# --------------------------------------------------------------------------- softmax
def _softmax_parts(x, y):
    N = x.shape[0]
    s = x - x.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(N), y]).sum() / N
    dx = p.copy()
    dx[np.arange(N), y] -= 1
    return loss, dx / N, p


def _softmax_loss_mistakes(x, y):
    N = x.shape[0]
    loss, dx, p = _softmax_parts(x, y)
    return dict(
        loss=[("the loss is summed over the examples, not averaged (divide by N)", loss * N),
              ("log of the probability of the wrong class / a sign error",
               -loss)],
        loss_factors=[(N, "the loss is summed over the examples, not averaged (divide by N)")],
        dx=[("the -1 at the correct class is missing", lambda: p / N),
            ("dx is not divided by N", lambda: dx * N)],
        dx_factors=[(N, "dx is not divided by N (the loss is an average)"),
                    (1.0 / N, "dx is divided by N twice")])


@graded("softmax_loss: loss matches", points=2)
def test_softmax_loss_value(student, ref):
    x, y = _scores("sm", 8, 5)
    loss, _ = _call(student, SM, x, y)
    m = _softmax_loss_mistakes(x, y)
    check_scalar(loss, ref.layers.softmax_loss(x, y)[0], "loss", mistakes=m["loss"],
                 factors=m["loss_factors"])


@graded("softmax_loss: dx matches (and finite differences of the loss)", points=2)
def test_softmax_loss_grad(student, ref):
    x, y = _scores("smg", 7, 4)
    _, dx = _call(student, SM, x, y)
    exp = ref.layers.softmax_loss(x, y)[1]
    num = numeric_grad(lambda xx: ref.layers.softmax_loss(xx, y)[0], x)
    if np.max(np.abs(num - exp)) > 1e-6:  # pragma: no cover - reference sanity
        raise RuntimeError("reference softmax_loss disagrees with finite differences")
    m = _softmax_loss_mistakes(x, y)
    check_array(dx, exp, "dx", mistakes=m["dx"], factors=m["dx_factors"])


@graded("softmax_loss: stable for large scores (1000 and more; rows of different scales)",
        points=1)
def test_softmax_loss_large(student, ref):
    x, y = _scores("big", 6, 4, scale=5.0)
    x[0] += 1000.0
    x[1] -= 1500.0
    x[2] *= 300.0
    loss, dx = _call(student, SM, x, y)
    hint = ("looks like an overflow: subtract each ROW's maximum (x.max(axis=1, "
            "keepdims=True)) before np.exp: without the shift exp overflows, and a single "
            "global maximum underflows rows whose scores are much smaller")
    exp_loss, exp_dx = ref.layers.softmax_loss(x, y)
    m = _softmax_loss_mistakes(x, y)
    check_scalar(loss, exp_loss, "loss with large scores", mistakes=[(hint, "nonfinite")],
                 factors=m["loss_factors"])
    check_array(dx, exp_dx, "dx with large scores", mistakes=[(hint, "nonfinite")],
                factors=m["dx_factors"])


@graded("softmax_loss: two classes and N = 1; inputs not modified", points=1)
def test_softmax_loss_edge(student, ref):
    for N, C in [(5, 2), (1, 4)]:
        x, y = _scores(("edge", N, C), N, C)
        res, after = call_reporting_args(student, SM, x, y)
        check_unmodified("softmax_loss", ["x", "y"], (x, y), after)
        loss, dx = _pair(res, "softmax_loss")
        exp_loss, exp_dx = ref.layers.softmax_loss(x, y)
        m = _softmax_loss_mistakes(x, y)
        check_scalar(loss, exp_loss, "loss for N=%d, C=%d" % (N, C), mistakes=m["loss"],
                     factors=m["loss_factors"] if N > 1 else [])
        check_array(dx, exp_dx, "dx for N=%d, C=%d" % (N, C), mistakes=m["dx"],
                    factors=m["dx_factors"] if N > 1 else [])


# --------------------------------------------------------------------------- SVM
def _svm_mistakes(x, y):
    N = x.shape[0]
    rows = np.arange(N)
    margins = np.maximum(0, x - x[rows, y][:, None] + 1)
    incl = margins.sum() / N  # the correct class's own margin (1) counted too
    margins[rows, y] = 0
    loss = margins.sum() / N
    pos = (margins > 0).astype(float)
    dx_noy = pos / N
    return dict(
        loss=[("the correct class's own margin (always 1) is counted in the loss: skip "
               "j == y[i]", incl)],
        loss_factors=[(N, "the loss is summed over the examples, not averaged (divide by N)")],
        dx=[("the gradient at the correct class (minus the number of positive margins) "
             "is missing", dx_noy)],
        dx_factors=[(N, "dx is not divided by N (the loss is an average)"),
                    (1.0 / N, "dx is divided by N twice")])


def _svm_scores(key, N, C):
    x, y = _scores(key, N, C, scale=1.0)
    # keep every margin away from the hinge's kink (0) so finite differences are meaningful
    rows = np.arange(N)
    m = x - x[rows, y][:, None] + 1
    x = x + np.where(np.abs(m) < 0.05, 0.1, 0.0) * (np.arange(C)[None, :] != y[:, None])
    return x, y


@graded("svm_loss: loss matches", points=2)
def test_svm_loss_value(student, ref):
    x, y = _svm_scores("svm", 9, 5)
    loss, _ = _call(student, SVM, x, y)
    m = _svm_mistakes(x, y)
    check_scalar(loss, ref.layers.svm_loss(x, y)[0], "loss", mistakes=m["loss"],
                 factors=m["loss_factors"])


@graded("svm_loss: dx matches (and finite differences of the loss)", points=2)
def test_svm_loss_grad(student, ref):
    x, y = _svm_scores("svmg", 8, 4)
    _, dx = _call(student, SVM, x, y)
    exp = ref.layers.svm_loss(x, y)[1]
    num = numeric_grad(lambda xx: ref.layers.svm_loss(xx, y)[0], x)
    if np.max(np.abs(num - exp)) > 1e-6:  # pragma: no cover - reference sanity
        raise RuntimeError("reference svm_loss disagrees with finite differences")
    m = _svm_mistakes(x, y)
    check_array(dx, exp, "dx", mistakes=m["dx"], factors=m["dx_factors"])


@graded("svm_loss: two classes and N = 1; inputs not modified", points=1)
def test_svm_loss_edge(student, ref):
    for N, C in [(6, 2), (1, 5)]:
        x, y = _svm_scores(("svmedge", N, C), N, C)
        res, after = call_reporting_args(student, SVM, x, y)
        check_unmodified("svm_loss", ["x", "y"], (x, y), after)
        loss, dx = _pair(res, "svm_loss")
        exp_loss, exp_dx = ref.layers.svm_loss(x, y)
        m = _svm_mistakes(x, y)
        check_scalar(loss, exp_loss, "loss for N=%d, C=%d" % (N, C), mistakes=m["loss"],
                     factors=m["loss_factors"] if N > 1 else [])
        check_array(dx, exp_dx, "dx for N=%d, C=%d" % (N, C), mistakes=m["dx"],
                    factors=m["dx_factors"] if N > 1 else [])
