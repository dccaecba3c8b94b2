"""Hidden tests: softmax and SVM losses (cs239/layers.py)."""
import numpy as np
import pytest

from ._checks import (call_reporting_args, check_array, check_scalar, check_unmodified, fail,
                      numeric_grad, rng_for, student_raised)

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


LOG_SUM_EXP = ("compute the log-probabilities with log-sum-exp, log_p = shifted - "
               "np.log(np.exp(shifted).sum(axis=1, keepdims=True)), never as np.log(p)")


def _large_cases():
    """(what, x, y, hint when the result is not finite, hint when the loss is too small)."""
    rng = rng_for("loss", "big")
    a = 1000.0 + 5.0 * rng.standard_normal((3, 4))
    b = 5.0 * rng.standard_normal((2, 4))
    b[1] -= 1500.0
    c = 5.0 * rng.standard_normal((4, 5))
    yc = np.array([0, 3, 1, 4])
    c[np.arange(4), yc] -= np.array([800.0, 900.0, 1000.0, 850.0])  # confidently wrong
    return [
        ("scores around 1000", a, rng.integers(0, 4, size=3),
         "looks like an overflow: subtract each ROW's maximum (x.max(axis=1, keepdims=True)) "
         "before np.exp", None),
        ("rows of very different scales (one near 0, one near -1500)", b, np.array([2, 1]),
         "looks like the scores were shifted by a single global maximum, which underflows rows "
         "whose scores are much smaller: subtract each ROW's maximum", None),
        ("very confident wrong predictions (the correct class trails by 800 to 1000)", c, yc,
         "looks like np.log of a probability that underflowed to 0 (log(0) = -inf): "
         + LOG_SUM_EXP,
         "an epsilon added to the probabilities (e.g. np.log(p + 1e-20)) or "
         "clipped probabilities: that caps each example's loss near -log(epsilon), but the "
         "exact loss of a confident wrong prediction is large; " + LOG_SUM_EXP),
    ]


@graded("softmax_loss: stable and exact for large scores (1000 and more; rows of different "
        "scales; a correct class trailing by 800 or more)", points=1)
def test_softmax_loss_large(student, ref):
    failures = []
    for what, x, y, hint_nonfinite, hint_small in _large_cases():
        loss, dx = _call(student, SM, x, y)
        exp_loss, exp_dx = ref.layers.softmax_loss(x, y)
        m = _softmax_loss_mistakes(x, y)
        small = []
        if hint_small and isinstance(loss, (float, np.floating)) and np.isfinite(loss) and (
                loss < 0.5 * exp_loss):
            small = [(hint_small, float(loss))]   # any epsilon's cap is named, whatever its size
        try:
            check_scalar(loss, exp_loss, "loss for %s" % what,
                         mistakes=[(hint_nonfinite, "nonfinite")] + small,
                         factors=m["loss_factors"])
            check_array(dx, exp_dx, "dx for %s" % what,
                        mistakes=[(hint_nonfinite, "nonfinite")], factors=m["dx_factors"])
        except AssertionError as e:
            if failures and ("NaN" in str(e) or " inf " in str(e)):
                continue   # an overflow again: its cause is reported already
            failures.append(str(e))
    if failures:
        fail("; and ".join(failures))


@graded("softmax_loss: two classes, N = 1, labels without the highest class, float32 stays "
        "float32; inputs not modified", points=1)
def test_softmax_loss_edge(student, ref):
    _edge(student, ref, SM, _scores, _softmax_loss_mistakes, [(5, 2), (1, 4)])


def _edge(student, ref, qualname, scores, mistakes, sizes):
    """The edge cases of a loss function: small sizes, a minibatch whose labels miss the
    highest class (the docstring's 0 <= y[i] < C still holds), float32 scores (the dtype rule:
    float32 in, float32 out); inputs unchanged."""
    func = qualname.rsplit(".", 1)[1]
    cases = [(7, 5, "notop", np.float64)] + [(N, C, ("edge", N, C), np.float64)
                                              for N, C in sizes] + [(6, 4, "f32", np.float32)]
    for N, C, key, dtype in cases:
        x, y = scores(key, N, C)
        if key == "notop":
            y = np.minimum(y, C - 2)
        x = x.astype(dtype)
        tag = "N=%d, C=%d%s" % (N, C, {"notop": ", labels without the highest class %d"
                                       % (C - 1), "f32": ", float32"}.get(key, ""))
        try:
            res, after = call_reporting_args(student, qualname, x, y)
        except Exception as e:
            if key == "notop" and student_raised(e, "IndexError", "ValueError"):
                fail("%s raised %s for %s (%s): take the number of classes from the scores, "
                     "x.shape[1], not from max(y) + 1" % (func, e.kind, tag,
                                                           str(e.message)[:150]))
            raise
        check_unmodified(func, ["x", "y"], (x, y), after)
        loss, dx = _pair(res, func)
        x64 = x.astype(np.float64)
        exp_loss, exp_dx = getattr(ref.layers, func)(x64, y)
        m = mistakes(x64, y)
        extra = ("; the labels of this minibatch do not include the highest class: take C from "
                 "x.shape[1], not from max(y) + 1" if key == "notop" else "")
        check_scalar(loss, exp_loss, "loss for " + tag, mistakes=m["loss"],
                     factors=m["loss_factors"] if N > 1 else [], extra=extra,
                     tol=1e-6 if dtype == np.float64 else 1e-4)
        check_array(dx, exp_dx, "dx for " + tag, mistakes=m["dx"],
                    factors=m["dx_factors"] if N > 1 else [], extra=extra,
                    dtype=dtype if dtype == np.float32 else None,
                    dtype_why=" (float32 scores must give a float32 dx: do not mix in float64 "
                              "arrays)")


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


@graded("svm_loss: two classes, N = 1, labels without the highest class, float32 stays "
        "float32; inputs not modified", points=1)
def test_svm_loss_edge(student, ref):
    _edge(student, ref, SVM, _svm_scores, _svm_mistakes, [(6, 2), (1, 5)])
