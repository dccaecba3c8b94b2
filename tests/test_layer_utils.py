"""cs239.layer_utils: the affine-activation sandwich layers against independent computations
and finite differences."""
import numpy as np
import pytest

from cs239.gradient_check import eval_numerical_gradient_array, rel_error
from cs239.layer_utils import (ACTIVATIONS, affine_act_backward, affine_act_forward,
                               affine_relu_backward, affine_relu_forward)

pytestmark = pytest.mark.fast


def _act(name, a):
    return np.maximum(a, 0) if name == "relu" else a / (1 + np.exp(-a))


def _data(rng, xshape=(2, 3, 4), M=10):
    D = int(np.prod(xshape[1:]))
    x = rng.standard_normal(xshape)
    w = rng.standard_normal((D, M))
    b = rng.standard_normal(M)
    return x, w, b, rng.standard_normal((xshape[0], M))


def test_activations_registry():
    assert set(ACTIVATIONS) == {"relu", "swish"}


def test_affine_relu_forward_value(rng):
    x, w, b, _ = _data(rng)
    out, _ = affine_relu_forward(x, w, b)
    assert out.shape == (2, 10)
    assert np.allclose(out, _act("relu", np.einsum("nd,dm->nm", x.reshape(2, -1), w) + b),
                       atol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "swish"])
def test_affine_act_forward_value(rng, activation):
    x, w, b, _ = _data(rng)
    out, _ = affine_act_forward(x, w, b, activation)
    a = np.einsum("nd,dm->nm", x.reshape(2, -1), w) + b
    assert np.allclose(out, _act(activation, a), atol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "swish"])
@pytest.mark.parametrize("xshape", [(2, 3, 4), (1, 12), (3, 2, 2, 3)])
def test_affine_act_backward_numerical(rng, activation, xshape):
    x, w, b, dout = _data(rng, xshape, M=6)
    # the seeded data keeps every pre-activation far from ReLU's kink (h = 1e-5)
    assert np.all(np.abs(x.reshape(xshape[0], -1) @ w + b) > 1e-3)
    out, cache = affine_act_forward(x, w, b, activation)
    dx, dw, db = affine_act_backward(dout, cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    f = lambda x_, w_, b_: affine_act_forward(x_, w_, b_, activation)[0]  # noqa: E731
    assert rel_error(dx, eval_numerical_gradient_array(lambda v: f(v, w, b), x, dout)) < 1e-7
    assert rel_error(dw, eval_numerical_gradient_array(lambda v: f(x, v, b), w, dout)) < 1e-7
    assert rel_error(db, eval_numerical_gradient_array(lambda v: f(x, w, v), b, dout)) < 1e-7


def test_affine_relu_backward_is_the_relu_sandwich(rng):
    x, w, b, dout = _data(rng)
    out, cache = affine_relu_forward(x, w, b)
    dx, dw, db = affine_relu_backward(dout, cache)
    a = x.reshape(2, -1) @ w + b
    da = dout * (a > 0)
    assert np.allclose(dx, (da @ w.T).reshape(x.shape), atol=1e-12)
    assert np.allclose(dw, x.reshape(2, -1).T @ da, atol=1e-12)
    assert np.allclose(db, da.sum(axis=0), atol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "swish"])
def test_sandwich_float32_and_no_mutation(rng, activation):
    x, w, b, dout = (a.astype(np.float32) for a in _data(rng))
    copies = [a.copy() for a in (x, w, b, dout)]
    out, cache = affine_act_forward(x, w, b, activation)
    grads = affine_act_backward(dout, cache)
    assert out.dtype == np.float32 and all(g.dtype == np.float32 for g in grads)
    for a, c in zip((x, w, b, dout), copies):
        assert np.array_equal(a, c)


def test_unknown_activation_is_rejected(rng):
    x, w, b, _ = _data(rng)
    with pytest.raises((KeyError, ValueError)):
        affine_act_forward(x, w, b, "tanh")
