"""Hidden tests: the written backprop problems entered as code (cs239/derivations.py).

Random well-conditioned inputs of several sizes (m = 1, n = m + 1, non-square Y); expected
gradients from the reference, themselves checked against finite differences of the provided
losses. Feedback names the missing term when the answer matches a known partial derivation.
"""
import numpy as np
import pytest

from ._checks import (call_reporting_args, check_array, check_unmodified, close,
                      numeric_grad, rng_for)

graded = pytest.mark.graded
P = "cs239.derivations."

AE_SIZES = [(1, 2), (2, 3), (1, 5), (3, 7), (4, 6)]       # (m, n), m < n
GP_SIZES = [(4, 2, 5), (5, 1, 3), (6, 3, 7), (3, 2, 1), (1, 1, 4), (2, 1, 3)]  # (N, q, D)


def _ae(key, m, n, N=None):
    rng = rng_for("ae", key, m, n, N)
    W = rng.standard_normal((m, n)) / np.sqrt(n)
    x = rng.standard_normal(n) if N is None else rng.standard_normal((n, N))
    return W, x


def _ae_mistakes(W, x):
    h = W @ x
    r = W.T @ h - x
    dec, enc = np.outer(h, r), np.outer(W @ r, x)
    return [
        ("only the decoder path (x_hat = W^T h, h held fixed) is included: add the encoder "
         "path through h = W x, (W r) x^T", dec),
        ("only the encoder path (through h = W x) is included: add the decoder path "
         "(W x) r^T", enc),
        ("the decoder path is counted twice: the two terms are W x r^T and W r x^T (note the "
         "transposes)", 2 * dec),
        ("the encoder path is counted twice: the two terms are W x r^T and W r x^T (note the "
         "transposes)", 2 * enc),
    ]


def _ae_batch_mistakes(W, X):
    N = X.shape[1]
    H = W @ X
    R = W.T @ H - X
    return [
        ("only the decoder path is included (add the encoder path (W R) X^T / N)",
         H @ R.T / N),
        ("only the encoder path is included (add the decoder path (W X) R^T / N)",
         (W @ R) @ X.T / N),
    ]


@graded("autoencoder_grad: dL/dW matches for several sizes (m = 1, n = m + 1, m < n)",
        points=3)
def test_autoencoder_grad(student, ref):
    for m, n in AE_SIZES:
        W, x = _ae("g", m, n)
        got = student.call(P + "autoencoder_grad", W, x)
        exp = ref.derivations.autoencoder_grad(W, x)
        check_array(got, exp, "dW for W of shape %s" % ((m, n),), dtype=np.float64,
                    mistakes=_ae_mistakes(W, x),
                    factors=[(2.0, "the factor 1/2 of the loss was dropped (it cancels the 2 of "
                                   "the square)")])


@graded("autoencoder_grad: agrees with finite differences of autoencoder_loss; inputs not "
        "modified", points=1)
def test_autoencoder_fd(student, ref):
    W, x = _ae("fd", 3, 5)
    got, after = call_reporting_args(student, P + "autoencoder_grad", W, x)
    check_unmodified("autoencoder_grad", ["W", "x"], (W, x), after)
    num = numeric_grad(lambda WW: ref.derivations.autoencoder_loss(WW, x), W)
    check_array(got, num, "dW compared with finite differences of the loss", tol=1e-6,
                mistakes=_ae_mistakes(W, x))


@graded("autoencoder_grad_batch: dL/dW matches (the mean over the columns of X)", points=2)
def test_autoencoder_grad_batch(student, ref):
    for m, n, N in [(2, 5, 4), (1, 2, 3), (3, 4, 1)]:
        W, X = _ae("b", m, n, N)
        got = student.call(P + "autoencoder_grad_batch", W, X)
        exp = ref.derivations.autoencoder_grad_batch(W, X)
        check_array(got, exp, "dW for W of shape %s and X of shape %s" % ((m, n), (n, N)),
                    mistakes=_ae_batch_mistakes(W, X),
                    factors=[(N, "the gradients are summed over the N columns, not averaged "
                                 "(divide by N)"),
                             (1.0 / N, "the gradient is divided by N twice")] if N > 1 else [])


# --------------------------------------------------------------------------- GP-LVM
def _gp(key, N, q, D):
    rng = rng_for("gp", key, N, q, D)
    X = 0.7 * rng.standard_normal((N, q))
    Y = rng.standard_normal((N, D))
    alpha = float(rng.uniform(0.6, 1.8))
    beta = float(rng.uniform(1.5, 4.0))
    return X, Y, alpha, beta


def _K(X, alpha, beta):
    return alpha * X @ X.T + np.eye(X.shape[0]) / beta


def _logdet_parts(X, Y, alpha, beta):
    K = _K(X, alpha, beta)
    Kinv_X = np.linalg.solve(K, X)
    D = Y.shape[1]
    return K, Kinv_X, D


def _logdet_mistakes(X, Y, alpha, beta):
    K, KiX, D = _logdet_parts(X, Y, alpha, beta)
    return [("K was used where K^{-1} belongs (d log|K| / dK = K^{-1})", -D * alpha * K @ X)]


def _logdet_factors(X, Y, alpha, beta):
    D = Y.shape[1]
    return [(1.0 / alpha, "the factor alpha (from dK = alpha (dX X^T + X dX^T)) is missing"),
            (1.0 / D, "the factor D is missing (L1 = -D/2 log|K|)"),
            (1.0 / (alpha * D), "the factors alpha and D are missing"),
            (0.5, "a factor 2 is missing: K depends on X through X X^T, which gives "
                  "G X + G^T X = 2 G X for symmetric G"),
            (-1.0, "the sign is wrong: L1 = -D/2 log|K|, and this is the gradient of L1 itself "
                   "(not of -L1)")]


def _trace_mistakes(X, Y, alpha, beta):
    K = _K(X, alpha, beta)
    A = np.linalg.solve(K, Y)
    Kinv = np.linalg.inv(K)
    return [
        ("one K^{-1} is missing (d(K^{-1}) = -K^{-1} dK K^{-1} has a K^{-1} on each side)",
         alpha * (A @ (Y.T @ X))),
        ("one K^{-1} is missing (d(K^{-1}) = -K^{-1} dK K^{-1} has a K^{-1} on each side)",
         alpha * (Y @ (A.T @ X))),
        ("Y Y^T was used without K^{-1} around it", alpha * (Y @ (Y.T @ X))),
        ("K^{-1} X was left out of the product", alpha * Kinv @ Y @ Y.T @ Kinv),
    ]


def _trace_factors(X, Y, alpha, beta):
    return [(1.0 / alpha, "the factor alpha (from dK = alpha (dX X^T + X dX^T)) is missing"),
            (0.5, "a factor 2 is missing: K depends on X through X X^T, which gives "
                  "G X + G^T X = 2 G X for symmetric G"),
            (-1.0, "the sign is wrong: L2 = -1/2 tr(K^{-1} Y Y^T) and d(K^{-1}) = "
                   "-K^{-1} dK K^{-1}: the two minus signs cancel")]


def _grad_mistakes(X, Y, alpha, beta, ref):
    l1 = ref.derivations.gplvm_logdet_grad(X, Y, alpha, beta)
    l2 = ref.derivations.gplvm_trace_grad(X, Y, alpha, beta)
    D = Y.shape[1]
    return [
        ("only the log-determinant term is there (add dL2/dX)", l1),
        ("only the trace term is there (add dL1/dX)", l2),
        ("the log-determinant term has the wrong sign", -l1 + l2),
        ("the trace term has the wrong sign", l1 - l2),
        ("the factor D of the log-determinant term is missing", l1 / D + l2),
        ("the factor alpha is missing in the log-determinant term", l1 / alpha + l2),
        ("the factor alpha is missing in the trace term", l1 + l2 / alpha),
    ]


def _grad_factors(alpha):
    return [(1.0 / alpha, "the factor alpha is missing"),
            (-1.0, "this is the gradient of -L (the negative log likelihood); the function "
                   "returns dL/dX"),
            (0.5, "a factor 2 is missing (G X + G^T X = 2 G X for symmetric G)")]


def _parts_note(student, ref, X, Y, alpha, beta):
    """For gplvm_grad: say which of the student's two term functions is wrong, if any."""
    wrong = []
    for func in ("gplvm_logdet_grad", "gplvm_trace_grad"):
        try:
            ok = close(student.call(P + func, X, Y, alpha, beta),
                       getattr(ref.derivations, func)(X, Y, alpha, beta), 1e-6)
        except Exception:  # a student fault or a malformed value
            ok = False
        if not ok:
            wrong.append(func)
    if not wrong:
        return ""
    return ("; note: dL/dX = dL1/dX + dL2/dX, and your %s %s wrong too (see %s tests): fix %s "
            "first" % (" and ".join(wrong), "is" if len(wrong) == 1 else "are",
                       "its" if len(wrong) == 1 else "their",
                       "it" if len(wrong) == 1 else "them"))


def _gp_test(student, ref, func, mistakes_fn, factors_fn):
    for N, q, D in GP_SIZES:
        X, Y, alpha, beta = _gp(func, N, q, D)
        got = student.call(P + func, X, Y, alpha, beta)
        exp = getattr(ref.derivations, func)(X, Y, alpha, beta)
        try:
            check_array(got, exp, "dX for X of shape %s, Y of shape %s" % ((N, q), (N, D)),
                        dtype=np.float64, mistakes=mistakes_fn(X, Y, alpha, beta),
                        factors=factors_fn(X, Y, alpha, beta))
        except AssertionError as e:
            if func != "gplvm_grad":
                raise
            raise AssertionError(str(e) + _parts_note(student, ref, X, Y, alpha, beta)) from None


def _gp_fd(student, ref, func, objective, mistakes_fn, factors_fn):
    X, Y, alpha, beta = _gp(func + "fd", 5, 2, 3)
    got, after = call_reporting_args(student, P + func, X, Y, alpha, beta)
    check_unmodified(func, ["X", "Y"], (X, Y), after)
    num = numeric_grad(lambda XX: objective(XX, Y, alpha, beta), X)
    try:
        check_array(got, num, "dX compared with finite differences", tol=1e-6,
                    mistakes=mistakes_fn(X, Y, alpha, beta),
                    factors=factors_fn(X, Y, alpha, beta))
    except AssertionError as e:
        if func != "gplvm_grad":
            raise
        raise AssertionError(str(e) + _parts_note(student, ref, X, Y, alpha, beta)) from None


def _L1(X, Y, alpha, beta):
    return -0.5 * Y.shape[1] * np.linalg.slogdet(_K(X, alpha, beta))[1]


def _L2(X, Y, alpha, beta):
    return -0.5 * np.trace(np.linalg.solve(_K(X, alpha, beta), Y @ Y.T))


@graded("gplvm_logdet_grad: dL1/dX matches for several sizes (N = 1, q = 1, non-square Y)",
        points=3)
def test_logdet(student, ref):
    _gp_test(student, ref, "gplvm_logdet_grad", _logdet_mistakes, _logdet_factors)


@graded("gplvm_logdet_grad: agrees with finite differences of L1 = -D/2 log|K|; inputs not "
        "modified", points=2)
def test_logdet_fd(student, ref):
    _gp_fd(student, ref, "gplvm_logdet_grad", _L1, _logdet_mistakes, _logdet_factors)


@graded("gplvm_trace_grad: dL2/dX matches for several sizes (N = 1, q = 1, non-square Y)",
        points=3)
def test_trace(student, ref):
    _gp_test(student, ref, "gplvm_trace_grad", _trace_mistakes, _trace_factors)


@graded("gplvm_trace_grad: agrees with finite differences of L2 = -1/2 tr(K^-1 Y Y^T); "
        "inputs not modified", points=2)
def test_trace_fd(student, ref):
    _gp_fd(student, ref, "gplvm_trace_grad", _L2, _trace_mistakes, _trace_factors)


@graded("gplvm_grad: dL/dX matches for several sizes (N = 1, q = 1, non-square Y)", points=3)
def test_grad(student, ref):
    _gp_test(student, ref, "gplvm_grad", lambda *a: _grad_mistakes(*a, ref),
             lambda X, Y, alpha, beta: _grad_factors(alpha))


@graded("gplvm_grad: agrees with finite differences of the log likelihood L", points=1)
def test_grad_fd(student, ref):
    _gp_fd(student, ref, "gplvm_grad",
           lambda X, Y, a, b: ref.derivations.gplvm_loss(X, Y, a, b),
           lambda *a: _grad_mistakes(*a, ref), lambda X, Y, alpha, beta: _grad_factors(alpha))
