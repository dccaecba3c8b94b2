"""Hidden tests: Swish layer, swish(x) = x * sigmoid(x) (cs239/layers.py)."""
import numpy as np
import pytest

from ._checks import (call_reporting_args, check_array, check_unmodified, fail, numeric_grad,
                      rng_for)

graded = pytest.mark.graded
SF, SB = "cs239.layers.swish_forward", "cs239.layers.swish_backward"


def _x(key, shape, dtype=np.float64):
    return (2.5 * rng_for("swish", key).standard_normal(shape)).astype(dtype)


def _sig(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


def _right_entries(out, expected):
    """Boolean mask of the entries of the student's forward output that are right."""
    if not isinstance(out, np.ndarray) or out.shape != expected.shape:
        return np.zeros(expected.shape, bool)
    with np.errstate(invalid="ignore"):
        return np.isfinite(out) & (np.abs(out - expected) <= 1e-6 * (1 + np.abs(expected)))


def _forward(student, x):
    res = student.call(SF, x)
    if not isinstance(res, tuple) or len(res) != 2:
        fail("swish_forward must return a tuple (out, cache), got a %s"
             % (getattr(res, "type_name", None) or type(res).__name__))
    return res


def _fwd_mistakes(x):
    return [("sigmoid(x) was returned instead of x * sigmoid(x)", lambda: _sig(x)),
            ("sigmoid(-x) was used (sigmoid(x) = 1 / (1 + exp(-x)))", lambda: x * _sig(-x)),
            ("x * exp(x) was used without the 1 / (1 + ...)", lambda: x * np.exp(x))]


def _bwd_mistakes(x, dout):
    s = _sig(x)
    return [("dout is not multiplied in", lambda: s + x * s * (1 - s)),
            ("only the sigmoid(x) term of the product rule is there (missing x * sigmoid'(x))",
             lambda: dout * s),
            ("only the x * sigmoid'(x) term of the product rule is there (missing sigmoid(x))",
             lambda: dout * x * s * (1 - s)),
            ("sigmoid'(x) was taken as sigmoid(x) (1 + sigmoid(x))",
             lambda: dout * (s + x * s * (1 + s)))]


@graded("swish_forward: output matches", points=1)
def test_forward(student, ref):
    x = _x("f", (6, 5))
    out, _ = _forward(student, x)
    check_array(out, ref.layers.swish_forward(x)[0], "out", mistakes=_fwd_mistakes(x))


@graded("swish_forward: finite and accurate at x = -1000 and x = 1000", points=1)
def test_forward_large(student, ref):
    x = np.array([[-1000.0, -800.0, -50.0, -1.0, 0.0, 1.0, 50.0, 800.0, 1000.0]])
    out, _ = _forward(student, x)
    check_array(out, ref.layers.swish_forward(x)[0], "out for large |x|", mistakes=[
        ("exp overflows: evaluate exp(-|x|) only (e.g. sigmoid = where(x >= 0, 1/(1+exp(-x)), "
         "exp(x)/(1+exp(x))) with exp of -|x|)", "nonfinite")])


@graded("swish_forward: any shape (3-D), float32 stays float32, input not modified",
        points=1)
def test_forward_nd(student, ref):
    x = _x("f3", (2, 3, 4), np.float32)
    res, after = call_reporting_args(student, SF, x)
    check_unmodified("swish_forward", ["x"], (x,), after)
    if not isinstance(res, tuple) or len(res) != 2:
        fail("swish_forward must return a tuple (out, cache)")
    check_array(res[0], ref.layers.swish_forward(x.astype(np.float64))[0],
                "out for 3-D float32 x", dtype=np.float32,
                dtype_why=" (float32 input must give a float32 output)",
                mistakes=_fwd_mistakes(x.astype(np.float64)))


@graded("swish_backward: dx matches (and finite differences)", points=2)
def test_backward(student, ref):
    x = _x("b", (5, 6))
    dout = rng_for("swish-dout").standard_normal(x.shape)
    _, cache = _forward(student, x)
    dx = student.call(SB, dout, cache)
    exp = ref.layers.swish_backward(dout, ref.layers.swish_forward(x)[1])
    num = numeric_grad(lambda xx: np.sum(ref.layers.swish_forward(xx)[0] * dout), x)
    if np.max(np.abs(num - exp)) > 1e-5:  # pragma: no cover - reference sanity
        raise RuntimeError("reference swish_backward disagrees with finite differences")
    check_array(dx, exp, "dx", mistakes=_bwd_mistakes(x, dout))


@graded("swish_backward: finite and accurate for large |x|; float32 stays float32", points=1)
def test_backward_large(student, ref, notes):
    x = np.array([[-1000.0, -800.0, -50.0, -1.0, 0.0, 1.0, 50.0, 800.0, 1000.0]])
    dout = np.linspace(-1, 2, x.size).reshape(x.shape)
    out, cache = _forward(student, x)
    dx = student.call(SB, dout, cache)
    exp = ref.layers.swish_backward(dout, ref.layers.swish_forward(x)[1])
    # backward gets what the student's forward cached: where the forward is wrong, a correct
    # backward is wrong too, and that costs points in swish_forward only
    fwd_ok = _right_entries(out, ref.layers.swish_forward(x)[0])
    if not fwd_ok.all() and isinstance(dx, np.ndarray) and dx.shape == x.shape:
        notes.append("swish_backward was checked only where your swish_forward is right "
                     "(x = %s): fix swish_forward first" % ", ".join(
                         "%g" % v for v in x[fwd_ok]))
        dx, exp, x, dout = dx[fwd_ok], exp[fwd_ok], x[fwd_ok], dout[fwd_ok]
    check_array(dx, exp, "dx for large |x|", mistakes=[
        ("exp overflows for large |x|: compute the sigmoid from exp(-|x|)", "nonfinite")]
        + _bwd_mistakes(x, dout))
    x = _x("b32", (3, 4), np.float32)
    dout = rng_for("swish-dout32").standard_normal(x.shape).astype(np.float32)
    _, cache = _forward(student, x)
    dx = student.call(SB, dout, cache)
    x64, d64 = x.astype(np.float64), dout.astype(np.float64)
    check_array(dx, ref.layers.swish_backward(d64, ref.layers.swish_forward(x64)[1]),
                "dx for float32 input", dtype=np.float32,
                dtype_why=" (float32 inputs must give a float32 dx)")
