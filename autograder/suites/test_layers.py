"""Hidden tests: affine and ReLU layers (cs239/layers.py)."""
import numpy as np
import pytest

from ._checks import (call_reporting_args, check_array, check_unmodified, fail, numeric_grad,
                      rng_for, student_raised)

graded = pytest.mark.graded
AF, AB = "cs239.layers.affine_forward", "cs239.layers.affine_backward"
RF, RB = "cs239.layers.relu_forward", "cs239.layers.relu_backward"


def _affine_inputs(key, xshape, M, dtype=np.float64):
    rng = rng_for("affine", key)
    x = rng.standard_normal(xshape).astype(dtype)
    D = int(np.prod(xshape[1:]))
    w = rng.standard_normal((D, M)).astype(dtype)
    b = rng.standard_normal(M).astype(dtype)
    return x, w, b


def _out(result, what):
    if not isinstance(result, tuple) or len(result) != 2:
        fail("%s must return a tuple (out, cache), got a %s" % (
            what, getattr(result, "type_name", None) or type(result).__name__))
    return result


def _affine_mistakes(x, w, b):
    x2 = x.reshape(x.shape[0], -1)
    return [("the bias b is not added", lambda: x2 @ w),
            ("the bias is added to the wrong axis / subtracted", lambda: x2 @ w - b)]


# --------------------------------------------------------------------------- affine_forward
@graded("affine_forward: output matches on 2-D input", points=1)
def test_affine_forward_2d(student, ref):
    x, w, b = _affine_inputs("2d", (4, 6), 5)
    out, _ = _out(student.call(AF, x, w, b), "affine_forward")
    check_array(out, ref.layers.affine_forward(x, w, b)[0], "out", mistakes=_affine_mistakes(
        x, w, b))


@graded("affine_forward: output matches on 3-D and 4-D input (each example flattened)",
        points=1)
def test_affine_forward_nd(student, ref):
    for xshape in [(3, 4, 5), (2, 3, 2, 4)]:
        x, w, b = _affine_inputs(xshape, xshape, 3)
        try:
            res = student.call(AF, x, w, b)
        except Exception as e:
            if not student_raised(e, "ValueError"):
                raise
            fail("affine_forward raised ValueError for x of shape %s and w of shape %s (%s); "
                 "flatten each example first: x.reshape(x.shape[0], -1)"
                 % (xshape, w.shape, str(getattr(e, "message", e))[:120]))
        out, _ = _out(res, "affine_forward")
        check_array(out, ref.layers.affine_forward(x, w, b)[0],
                    "out for x of shape %s" % (xshape,), mistakes=_affine_mistakes(x, w, b))


@graded("affine_forward: N = 1 and float32 input gives float32 output", points=1)
def test_affine_forward_edge(student, ref):
    x, w, b = _affine_inputs("n1", (1, 2, 3), 4)
    out, _ = _out(student.call(AF, x, w, b), "affine_forward")
    check_array(out, ref.layers.affine_forward(x, w, b)[0], "out for N = 1")
    x, w, b = _affine_inputs("f32", (5, 2, 3), 4, np.float32)
    out, _ = _out(student.call(AF, x, w, b), "affine_forward")
    exp = ref.layers.affine_forward(*(a.astype(np.float64) for a in (x, w, b)))[0]
    check_array(out, exp, "out for float32 inputs", dtype=np.float32,
                dtype_why=" (float32 inputs must give a float32 result: do not mix in float64 "
                          "arrays)")


@graded("affine_forward: does not modify its inputs", points=1)
def test_affine_forward_unmodified(student, ref):
    x, w, b = _affine_inputs("mut", (3, 2, 2), 4)
    res, after = call_reporting_args(student, AF, x, w, b)
    check_unmodified("affine_forward", ["x", "w", "b"], (x, w, b), after)
    out, _ = _out(res, "affine_forward")
    check_array(out, ref.layers.affine_forward(x, w, b)[0], "out")


# --------------------------------------------------------------------------- affine_backward
def _affine_backward(student, ref, xshape, M, key, dtype=np.float64):
    x, w, b = _affine_inputs(key, xshape, M, dtype)
    dout = rng_for("dout", key).standard_normal((xshape[0], M)).astype(dtype)
    res = _triple(student.call(AB, dout, (x, w, b)))
    f64 = [a.astype(np.float64) for a in (dout, x, w, b)]
    exp = ref.layers.affine_backward(f64[0], tuple(f64[1:]))
    return (x, w, b, dout), res, exp


def _triple(res):
    if not isinstance(res, tuple) or len(res) != 3:
        fail("affine_backward must return a tuple (dx, dw, db), got a %s"
             % (getattr(res, "type_name", None) or type(res).__name__))
    return res


def _check_affine_grads(inputs, res, exp, dtype=None):
    x, w, b, dout = (a.astype(np.float64) for a in inputs)
    N = x.shape[0]
    x2 = x.reshape(N, -1)
    dx, dw, db = res
    why = " (float32 inputs must give float32 gradients)"
    check_array(dx, exp[0], "dx", dtype=dtype, dtype_why=why, factors=[
        (1.0 / N, "dx is divided by N: the layer itself does not average")])
    check_array(dw, exp[1], "dw", dtype=dtype, dtype_why=why, factors=[
        (1.0 / N, "dw is divided by N: sum over the examples, do not average")])
    check_array(db, exp[2], "db", dtype=dtype, dtype_why=why, factors=[
        (1.0 / N, "db uses the mean over the examples; it is the sum over axis 0")], mistakes=[
        ("db summed over the wrong axis (use axis=0)", lambda: dout.sum(axis=1))])


@graded("affine_backward: dx, dw, db match on 2-D input", points=2)
def test_affine_backward_2d(student, ref):
    _check_affine_grads(*_affine_backward(student, ref, (5, 6), 4, "b2d"))


@graded("affine_backward: dx (shaped like x), dw, db match finite differences on 4-D input",
        points=2)
def test_affine_backward_4d(student, ref):
    inputs, res, exp = _affine_backward(student, ref, (3, 2, 3, 2), 5, "b4d")
    x, w, b, dout = inputs
    # The expected gradients are checked against finite differences of the reference forward.
    num_dx = numeric_grad(lambda xx: np.sum(ref.layers.affine_forward(xx, w, b)[0] * dout), x)
    if np.max(np.abs(num_dx - exp[0])) > 1e-6:  # pragma: no cover - reference sanity
        raise RuntimeError("reference affine_backward disagrees with finite differences")
    _check_affine_grads(inputs, res, exp)


@graded("affine_backward: N = 1, and float32 inputs give float32 gradients", points=1)
def test_affine_backward_edge(student, ref):
    _check_affine_grads(*_affine_backward(student, ref, (1, 4), 3, "bn1"))
    _check_affine_grads(*_affine_backward(student, ref, (4, 3, 2), 3, "bf32", np.float32),
                        dtype=np.float32)


@graded("affine_backward: does not modify dout or the cache", points=1)
def test_affine_backward_unmodified(student, ref):
    x, w, b = _affine_inputs("bmut", (4, 3), 2)
    dout = rng_for("bmut-dout").standard_normal((4, 2))
    _, after = call_reporting_args(student, AB, dout, (x, w, b))
    if after is not None:
        check_unmodified("affine_backward", ["dout", "x", "w", "b"], (dout, x, w, b),
                         (after[0],) + tuple(after[1]))
    _check_affine_grads((x, w, b, dout), _triple(student.call(AB, dout, (x, w, b))),
                        ref.layers.affine_backward(dout, (x, w, b)))


# --------------------------------------------------------------------------- relu_forward
def _relu_input(key, shape, dtype=np.float64):
    x = rng_for("relu", key).standard_normal(shape).astype(dtype)
    x.flat[::7] = 0.0  # exact zeros, where conventions matter
    return x


@graded("relu_forward: output matches", points=1)
def test_relu_forward(student, ref):
    x = _relu_input("2d", (6, 5))
    out, _ = _out(student.call(RF, x), "relu_forward")
    check_array(out, ref.layers.relu_forward(x)[0], "out", mistakes=[
        ("the mask (x > 0) was returned instead of x * (x > 0)", lambda: (x > 0) * 1.0),
        ("min instead of max", lambda: np.minimum(x, 0))])


@graded("relu_forward: any shape (4-D), float32 stays float32", points=1)
def test_relu_forward_nd(student, ref):
    x = _relu_input("4d", (2, 3, 2, 4), np.float32)
    out, _ = _out(student.call(RF, x), "relu_forward")
    check_array(out, ref.layers.relu_forward(x.astype(np.float64))[0], "out for 4-D float32 x",
                dtype=np.float32, dtype_why=" (float32 input must give a float32 output)")


@graded("relu_forward: does not modify its input", points=1)
def test_relu_forward_unmodified(student, ref):
    x = _relu_input("mut", (4, 6))
    res, after = call_reporting_args(student, RF, x)
    out, cache = _out(res, "relu_forward")
    if after is not None:
        check_unmodified("relu_forward", ["x"], (x,), after)
    elif isinstance(cache, np.ndarray) and cache.shape == x.shape and not np.array_equal(
            cache, x):
        # Without argument reporting: the provided code caches x itself.
        fail("relu_forward modified its input x in place (the cache no longer holds the "
             "original x); compute the output into a new array, e.g. np.maximum(x, 0)")
    check_array(out, ref.layers.relu_forward(x)[0], "out")


# --------------------------------------------------------------------------- relu_backward
def _relu_backward_mistakes(x, dout):
    return [
        ("the mask was taken from dout instead of x", lambda: np.where(dout > 0, dout, 0.0)),
        ("the mask (x > 0) was returned without multiplying by dout", lambda: (x > 0) * 1.0),
        ("the gradient was passed where x < 0 instead of x > 0", lambda: np.where(
            x < 0, dout, 0.0)),
    ]


@graded("relu_backward: dx matches (and finite differences)", points=1)
def test_relu_backward(student, ref):
    x = rng_for("rb").standard_normal((5, 7))
    x[np.abs(x) < 1e-3] = 0.5  # away from the kink for the finite differences
    dout = rng_for("rb-dout").standard_normal(x.shape)
    dx = student.call(RB, dout, x)
    exp = ref.layers.relu_backward(dout, x)
    check_array(dx, exp, "dx", mistakes=_relu_backward_mistakes(x, dout))


@graded("relu_backward: gradient is 0 where x == 0 exactly (the documented convention)",
        points=1)
def test_relu_backward_zeros(student, ref):
    x = _relu_input("zeros", (4, 7))
    dout = rng_for("rbz-dout").standard_normal(x.shape)
    dx = student.call(RB, dout, x)
    exp = ref.layers.relu_backward(dout, x)
    check_array(dx, exp, "dx", mistakes=[
        ("dout is passed where x == 0: use x > 0 (not x >= 0), as the docstring says",
         lambda: np.where(x >= 0, dout, 0.0))] + _relu_backward_mistakes(x, dout))


@graded("relu_backward: 4-D and float32 input, and does not modify dout or x", points=1)
def test_relu_backward_nd(student, ref):
    x = rng_for("rb4").standard_normal((2, 3, 2, 2)).astype(np.float32)
    x[x == 0] = 1.0  # exact zeros are the subject of another test
    dout = rng_for("rb4-dout").standard_normal(x.shape).astype(np.float32)
    dx, after = call_reporting_args(student, RB, dout, x)
    check_unmodified("relu_backward", ["dout", "cache"], (dout, x), after)
    check_array(dx, ref.layers.relu_backward(dout.astype(np.float64), x.astype(np.float64)),
                "dx for 4-D float32 input", dtype=np.float32,
                dtype_why=" (float32 inputs must give a float32 dx)",
                mistakes=_relu_backward_mistakes(x, dout))
