"""Hidden tests: FullyConnectedNet.__init__ and .loss (cs239/classifiers/fc_net.py)."""
import contextlib
import functools

import numpy as np
import pytest

from . import _composite as composite
from ._checks import (check_array, check_dict, check_dtype, check_grads_match_own_loss,
                      check_scalar, close, fail, reg_mistakes, rng_for)

graded = pytest.mark.graded
FCN = "cs239.classifiers.fc_net.FullyConnectedNet"


def _keys(L):
    return ["W%d" % i for i in range(1, L + 1)] + ["b%d" % i for i in range(1, L + 1)]


def _dims(D, hidden, C):
    return [D, *hidden, C]


def _params(key, dims, dtype=np.float64, bias=True):
    rng = rng_for("fc", key)
    p = {}
    for i in range(len(dims) - 1):
        p["W%d" % (i + 1)] = (rng.standard_normal((dims[i], dims[i + 1]))
                              / np.sqrt(dims[i])).astype(dtype)
        p["b%d" % (i + 1)] = (0.2 * rng.standard_normal(dims[i + 1]) if bias
                              else np.zeros(dims[i + 1])).astype(dtype)
    return p


def _new(student, hidden, D, C, **kw):
    return student.new(FCN, list(hidden), input_dim=D, num_classes=C, **kw)


def _get_params(student, h, L, what="self.params"):
    return check_dict(student.get_attr(h, "params"), _keys(L), what)


# --------------------------------------------------------------------------- __init__
@graded("FullyConnectedNet.__init__: parameter names and shapes for 1 to 3 hidden layers",
        points=2)
def test_init_shapes(student, ref):
    D, C = 11, 4
    for hidden in ([7], [7, 5], [6, 5, 3]):
        h = _new(student, hidden, D, C, weight_scale=1e-2, dtype="float64")
        L = len(hidden) + 1
        params = _get_params(student, h, L, "self.params for hidden_dims=%s" % hidden)
        dims = _dims(D, hidden, C)
        for i in range(1, L + 1):
            for name, shape in (("W%d" % i, (dims[i - 1], dims[i])), ("b%d" % i, (dims[i],))):
                got = np.shape(params[name])
                if got != shape:
                    fail("hidden_dims=%s: %s has shape %s, expected %s" % (hidden, name, got,
                                                                           shape))


@graded("FullyConnectedNet.__init__: parameters have the requested dtype (float32/float64)",
        points=1)
def test_init_dtype(student, ref):
    for dtype in ("float32", "float64"):
        h = _new(student, [5, 4], 6, 3, dtype=dtype)
        params = _get_params(student, h, 3)
        for k, v in params.items():
            check_dtype(v, dtype, "%s for dtype=%s" % (k, dtype))


@graded("FullyConnectedNet.__init__: biases are zeros", points=1)
def test_init_biases(student, ref):
    h = _new(student, [6, 5], 7, 3, weight_scale=0.1, dtype="float64")
    params = _get_params(student, h, 3)
    for i in range(1, 4):
        b = np.asarray(params["b%d" % i])
        if not np.all(b == 0):
            fail("b%d: biases must start at zero" % i)


@graded("FullyConnectedNet.__init__: weights ~ N(0, weight_scale**2)", points=1)
def test_init_weight_scale(student, ref):
    for ws in (5e-2, 2.0):
        h = _new(student, [100, 60], 80, 10, weight_scale=ws, dtype="float64")
        params = _get_params(student, h, 3)
        for i in (1, 2, 3):
            W = np.asarray(params["W%d" % i], dtype=np.float64)
            n = W.size
            std, mean = float(W.std()), float(W.mean())
            # generous bounds: the sample std of n normal draws is within 6 sigma of ws
            if not abs(std - ws) < max(0.15, 6 / np.sqrt(2 * n)) * ws:
                msg = ("W%d: the standard deviation of the weights is %.3g for weight_scale=%g "
                       "(expected about %g)" % (i, std, ws, ws))
                if abs(std - ws * np.sqrt(1.0 / 12)) < 0.1 * ws:
                    msg += "; looks like np.random.rand (uniform) instead of np.random.randn"
                elif abs(std - ws**2) < 0.1 * ws**2:
                    msg += "; looks like weight_scale was squared (it is the std, not the " \
                           "variance)"
                elif abs(std - np.sqrt(ws)) < 0.1 * np.sqrt(ws):
                    msg += "; looks like sqrt(weight_scale) was used (it is the std)"
                fail(msg)
            if not abs(mean) < 6 * ws / np.sqrt(n):
                fail("W%d: the mean of the weights is %.3g, expected about 0 (weights are "
                     "drawn from a normal distribution centered at 0)" % (i, mean))
        if np.array_equal(np.asarray(params["W2"])[:3, :3], np.asarray(params["W2"])[3:6, :3]):
            fail("the weights repeat: draw independent random values for every entry")


# --------------------------------------------------------------------------- loss
def _wrong_layers(student, ref, activation):
    """The student's layer functions (which the network calls) that give wrong answers."""
    rng = rng_for("fc-layer-note")
    x, w, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 5)), rng.standard_normal(5)
    dout, y = rng.standard_normal((3, 5)), np.array([0, 4, 2])
    z = rng.standard_normal((3, 5))
    L = ref.layers
    checks = [
        ("affine_forward", lambda: close(student.call("cs239.layers.affine_forward", x, w, b)[0],
                                         L.affine_forward(x, w, b)[0], 1e-6)),
        ("affine_backward", lambda: all(close(g, e, 1e-6) for g, e in zip(
            student.call("cs239.layers.affine_backward", dout, (x, w, b)),
            L.affine_backward(dout, (x, w, b))))),
        ("softmax_loss", lambda: all(close(g, e, 1e-6) for g, e in zip(
            student.call("cs239.layers.softmax_loss", dout, y), L.softmax_loss(dout, y)))),
    ]
    if activation == "relu":
        checks += [
            ("relu_forward", lambda: close(student.call("cs239.layers.relu_forward", x)[0],
                                           L.relu_forward(x)[0], 1e-6)),
            ("relu_backward", lambda: close(student.call("cs239.layers.relu_backward", dout, z),
                                            L.relu_backward(dout, z), 1e-6)),
        ]
    else:
        def swish_ok():
            out, cache = student.call("cs239.layers.swish_forward", x)
            return close(out, L.swish_forward(x)[0], 1e-6) and close(
                student.call("cs239.layers.swish_backward", x, cache),
                L.swish_backward(x, L.swish_forward(x)[1]), 1e-6)
        checks.append(("swish_forward/swish_backward", swish_ok))
    wrong = []
    for name, fn in checks:
        ok, _ = composite.run(fn)
        if not ok:
            wrong.append(name)
    return wrong


def _layers_note(student, ref, activation):
    """When the network is wrong, say so if the student's own layer functions (which the
    network calls) are wrong too: the network's failure may come from them."""
    wrong = _wrong_layers(student, ref, activation)
    if not wrong:
        return ""
    return ("; note: the network calls your layer functions, and %s %s wrong (see their own "
            "tests): fix %s first" % (", ".join(wrong), "is" if len(wrong) == 1 else "are",
                                      "it" if len(wrong) == 1 else "them"))


def explained(activation="relu"):
    """Decorator: failures of the test get the _layers_note appended."""
    def deco(fn):
        @functools.wraps(fn)
        def wrapper(**fixtures):
            with _explained(fixtures["student"], fixtures["ref"], activation):
                return fn(**fixtures)
        return wrapper
    return deco


@contextlib.contextmanager
def _explained(student, ref, activation="relu"):
    try:
        yield
    except AssertionError as e:
        raise AssertionError(str(e) + _layers_note(student, ref, activation)) from None


def _judged(student, ref, notes, h, params, X, y, reg, check, activation="relu",
            dtype=np.float64):
    """The student's h.loss(X) (y None) or h.loss(X, y), judged dependency-aware (see
    _composite): it earns the test when it equals what a correct network computes with the
    student's OWN layer functions (values and dtypes; a note then names the wrong layers);
    otherwise CHECK(value) compares it with the reference. Returns the value."""
    got, fault = composite.run(student.call_method, h, "loss", *((X,) if y is None else (X, y)))
    own, own_fault = composite.run(composite.fc_loss, composite.StudentLayers(student), params,
                                   X, y, reg, activation, dtype)
    if fault is not None:
        if composite.same_fault(fault, own_fault):
            wrong = _wrong_layers(student, ref, activation) or ["layer functions"]
            notes.append("FullyConnectedNet.loss stopped with the same error a correct network "
                         "stops with when it calls your %s: fix %s first, then this test "
                         "checks the network itself" % (" and ".join(wrong),
                                                         "it" if len(wrong) == 1 else "them"))
            return None
        raise fault
    tol = 1e-4 if np.dtype(dtype) == np.float32 else 1e-6
    if own is not None and (composite.same_array(got, own, tol) if y is None
                            else composite.same_loss_grads(got, own, tol)):
        wrong = _wrong_layers(student, ref, activation)
        if wrong:
            notes.append(composite.fix_first(wrong, "FullyConnectedNet.loss"))
        return got
    check(got)
    return got


def _ref_model(ref, hidden, D, C, params, reg, dtype=np.float64, activation="relu"):
    m = ref.classifiers.FullyConnectedNet(list(hidden), input_dim=D, num_classes=C, reg=reg,
                                          dtype=dtype, activation=activation)
    m.params = {k: v.astype(dtype) for k, v in params.items()}
    return m


def _student_model(student, hidden, D, C, params, reg, dtype="float64", **kw):
    h = _new(student, hidden, D, C, reg=reg, dtype=dtype, **kw)
    student.set_attr(h, "params", {k: v.copy() for k, v in params.items()})
    return h


def _data(key, N, xshape, C):
    rng = rng_for("fcdata", key)
    return rng.standard_normal((N, *xshape)), rng.integers(0, C, size=N)


def _pair(res):
    if not isinstance(res, tuple) or len(res) != 2:
        fail("loss(X, y) must return a tuple (loss, grads), got a %s"
             % (getattr(res, "type_name", None) or type(res).__name__))
    return res


def _reg_variants(ref, hidden, D, C, params, X, y, reg, activation="relu"):
    L = len(hidden) + 1
    loss0, g0 = _ref_model(ref, hidden, D, C, params, 0.0, activation=activation).loss(X, y)
    sq = {k: float(np.sum(v.astype(np.float64) ** 2)) for k, v in params.items()}
    return reg_mistakes(loss0, sq, reg, ["W%d" % i for i in range(1, L + 1)],
                        ["b%d" % i for i in range(1, L + 1)]), g0


def _grad_mistakes(name, params, g0, reg):
    p = params[name].astype(np.float64)
    if name.startswith("W"):
        return [("the regularization gradient reg * %s is missing" % name, g0[name]),
                ("the regularization gradient has a factor 0.5", g0[name] + 0.5 * reg * p),
                ("the regularization gradient is doubled", g0[name] + 2 * reg * p)]
    return [("the bias %s is regularized (biases are not)" % name, g0[name] + reg * p)]


def _check_loss_grads(student, ref, notes, key, hidden, D, C, N, reg, activation="relu",
                      xshape=None):
    dims = _dims(D, hidden, C)
    params = _params(key, dims)
    X, y = _data(key, N, xshape or (D,), C)
    kw = {} if activation == "relu" else {"activation": activation}
    h = _student_model(student, hidden, D, C, params, reg, **kw)
    exp_loss, exp_grads = _ref_model(ref, hidden, D, C, params, reg,
                                     activation=activation).loss(X, y)
    loss_m, g0 = _reg_variants(ref, hidden, D, C, params, X, y, reg, activation)
    tag = " (hidden_dims=%s, reg=%g%s)" % (hidden, reg, "" if activation == "relu"
                                            else ", activation=%r" % activation)

    def check(res):
        loss, grads = _pair(res)
        check_scalar(loss, exp_loss, "loss" + tag, mistakes=loss_m if reg else [], factors=[
            (N, "the loss is summed over the examples, not averaged")])
        grads = check_dict(grads, _keys(len(hidden) + 1), "grads" + tag)
        for name in _keys(len(hidden) + 1):
            check_array(grads[name], exp_grads[name], "grads[%r]%s" % (name, tag),
                        mistakes=_grad_mistakes(name, params, g0, reg) if reg else [],
                        factors=[(N, "the gradient is not divided by N")])
    _judged(student, ref, notes, h, params, X, y, reg, check, activation)


@graded("FullyConnectedNet.loss: scores match for 1 to 3 hidden layers (y is None)", points=2)
@explained('relu')
def test_scores(student, ref, notes):
    D, C, N = 12, 5, 6
    for hidden in ([8], [8, 6], [7, 6, 5]):
        params = _params(("scores", len(hidden)), _dims(D, hidden, C))
        X, _ = _data(("scores", len(hidden)), N, (2, 3, 2), C)
        h = _student_model(student, hidden, D, C, params, 0.0)
        exp = _ref_model(ref, hidden, D, C, params, 0.0).loss(X)
        _judged(student, ref, notes, h, params, X, None, 0.0, lambda scores: check_array(
            scores, exp, "scores for hidden_dims=%s (X of shape %s)" % (hidden, X.shape),
            mistakes=[("a ReLU is applied to the scores (no activation after the last "
                       "affine layer)", np.maximum(exp, 0))]))


@graded("FullyConnectedNet.loss: loss and gradients without regularization (2 hidden layers)",
        points=2)
@explained('relu')
def test_loss_noreg(student, ref, notes):
    _check_loss_grads(student, ref, notes, "noreg", [6, 5], 7, 4, 5, 0.0, xshape=(7,))


@graded("FullyConnectedNet.loss: loss and gradients with regularization (1 and 3 hidden "
        "layers)", points=2)
@explained('relu')
def test_loss_reg(student, ref, notes):
    _check_loss_grads(student, ref, notes, "reg1", [6], 5, 3, 4, 0.7)
    _check_loss_grads(student, ref, notes, "reg3", [6, 5, 4], 8, 4, 6, 3.14, xshape=(2, 2, 2))


@graded("FullyConnectedNet.loss: a float32 network gives float32 scores and gradients",
        points=1)
@explained('relu')
def test_float32(student, ref, notes):
    hidden, D, C, N = [6, 5], 8, 4, 5
    params = _params("f32", _dims(D, hidden, C), dtype=np.float32)
    X, y = _data("f32", N, (D,), C)
    X = X.astype(np.float32).astype(np.float64)
    h = _student_model(student, hidden, D, C, params, 0.1, dtype="float32")
    m = _ref_model(ref, hidden, D, C, {k: v.astype(np.float64) for k, v in params.items()},
                   0.1)
    why = " (a float32 network must compute in float32: do not mix in float64 arrays)"
    _judged(student, ref, notes, h, params, X.astype(np.float32), None, 0.1,
            lambda scores: check_array(scores, m.loss(X), "scores of a float32 network",
                                       dtype=np.float32, dtype_why=why), dtype=np.float32)
    exp_loss, exp_grads = m.loss(X, y)
    loss_m, _ = _reg_variants(ref, hidden, D, C, {k: v.astype(np.float64)
                                                  for k, v in params.items()}, X, y, 0.1)

    def check(res):
        loss, grads = _pair(res)
        check_scalar(loss, exp_loss, "loss of a float32 network", tol=1e-4, mistakes=loss_m)
        grads = check_dict(grads, _keys(3), "grads")
        for name in _keys(3):
            check_array(grads[name], exp_grads[name], "grads[%r] of a float32 network" % name,
                        dtype=np.float32, dtype_why=why, tol=1e-4)
    _judged(student, ref, notes, h, params, X.astype(np.float32), y, 0.1, check,
            dtype=np.float32)


@graded("FullyConnectedNet.loss: activation='swish' (scores, loss and gradients)", points=2)
@explained('swish')
def test_swish(student, ref, notes):
    hidden, D, C, N = [7, 5], 6, 3, 5
    params = _params("swish", _dims(D, hidden, C))
    X, _ = _data("swish", N, (D,), C)
    h = _student_model(student, hidden, D, C, params, 0.0, activation="swish")
    exp = _ref_model(ref, hidden, D, C, params, 0.0, activation="swish").loss(X)
    relu = _ref_model(ref, hidden, D, C, params, 0.0, activation="relu").loss(X)
    _judged(student, ref, notes, h, params, X, None, 0.0, lambda scores: check_array(
        scores, exp, "scores with activation='swish'", mistakes=[
            ("the activation argument is ignored (ReLU is used); pass self.activation to "
             "affine_act_forward", relu)]), activation="swish")
    _check_loss_grads(student, ref, notes, "swishg", hidden, D, C, N, 0.5, activation="swish")


@graded("FullyConnectedNet.loss: gradients agree with finite differences of your own loss "
        "(3 hidden layers, reg > 0)", points=1)
@explained('relu')
def test_self_consistent(student, ref, notes):
    hidden, D, C, N, reg = [5, 4, 4], 6, 3, 4, 0.3
    params = _params("fd", _dims(D, hidden, C))
    X, y = _data("fd", N, (D,), C)
    h = _student_model(student, hidden, D, C, params, reg)

    def check(res):
        grads = check_dict(_pair(res)[1], _keys(4), "grads")

        def loss_at(p):
            student.set_attr(h, "params", p)
            return _pair(student.call_method(h, "loss", X, y))[0]

        check_grads_match_own_loss(grads, params, _keys(4), loss_at, "fc-fd-dirs")
    # A correct network built on a wrong layer disagrees with its own loss: that is the
    # layer's bug, so matching what your own layers give is enough here too.
    _judged(student, ref, notes, h, params, X, y, reg, check)
