"""Swish, swish(x) = x * sigmoid(x): cs239.layers.swish_forward / swish_backward and
FullyConnectedNet(..., activation="swish")."""
import numpy as np
import pytest

from cs239.classifiers.fc_net import FullyConnectedNet
from cs239.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from cs239.layers import swish_backward, swish_forward

pytestmark = pytest.mark.fast

RAISE = dict(over="raise", invalid="raise", divide="raise")


def swish_ref(x):
    """Direct formula in float64 with clipping (exp(500) is finite), for moderate inputs."""
    x = np.asarray(x, dtype=np.float64)
    return x / (1.0 + np.exp(-np.clip(x, -500, 500)))


def test_forward_values(rng):
    x = 4 * rng.standard_normal((3, 4, 5))
    out, _ = swish_forward(x)
    assert out.shape == x.shape and out.dtype == np.float64
    np.testing.assert_allclose(out, swish_ref(x), rtol=1e-14, atol=1e-300)
    out, _ = swish_forward(np.array([0.0, 1.0, -1.0]))
    np.testing.assert_allclose(out, [0.0, 1 / (1 + np.exp(-1)), -1 / (1 + np.e)], rtol=1e-15)


@pytest.mark.parametrize("shape", [(7,), (4, 5), (2, 3, 4)])
def test_backward_matches_finite_differences(rng, shape):
    x = 3 * rng.standard_normal(shape)
    dout = rng.standard_normal(shape)
    out, cache = swish_forward(x)
    dx = swish_backward(dout, cache)
    assert dx.shape == x.shape
    dx_num = eval_numerical_gradient_array(lambda x: swish_forward(x)[0], x.copy(), dout)
    assert rel_error(dx, dx_num) < 1e-7
    # and the closed form sigma + x sigma (1 - sigma)
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(dx, dout * (s + x * s * (1 - s)), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_inputs_are_finite_with_exact_limits(dtype):
    x = np.array([-1000.0, -100.0, -40.0, 40.0, 100.0, 1000.0], dtype=dtype)
    with np.errstate(**RAISE):
        out, cache = swish_forward(x)
        dx = swish_backward(np.ones_like(x), cache)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(dx))
    assert out[-1] == 1000.0 and out[-2] == 100.0 and out[0] == 0.0
    assert -1e-30 < out[1] <= 0.0   # -100 exp(-100): tiny, never nan, inf or positive
    assert dx[-1] == 1.0 and dx[0] == 0.0
    assert out.dtype == dtype and dx.dtype == dtype


def test_float32_is_preserved_and_accurate(rng):
    x = (3 * rng.standard_normal((5, 6))).astype(np.float32)
    dout = rng.standard_normal((5, 6)).astype(np.float32)
    out, cache = swish_forward(x)
    dx = swish_backward(dout, cache)
    assert out.dtype == np.float32 and dx.dtype == np.float32
    np.testing.assert_allclose(out, swish_ref(x), rtol=1e-5, atol=1e-6)
    ref = swish_backward(dout.astype(np.float64), swish_forward(x.astype(np.float64))[1])
    np.testing.assert_allclose(dx, ref, rtol=1e-5, atol=1e-6)


def test_inputs_are_not_modified(rng):
    x, dout = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    x0, dout0 = x.copy(), dout.copy()
    out, cache = swish_forward(x)
    swish_backward(dout, cache)
    assert np.array_equal(x, x0) and np.array_equal(dout, dout0)
    out[...] = 0   # the output must not alias the input
    assert np.array_equal(x, x0)


@pytest.mark.parametrize("reg", [0.0, 3.14])
def test_fc_net_with_swish_gradient_check(reg):
    N, D, H1, H2, C = 2, 15, 20, 30, 10
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((N, D)), rng.integers(C, size=N)
    model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=reg, weight_scale=5e-2,
                              dtype=np.float64, seed=1, activation="swish")
    assert model.activation == "swish"
    loss, grads = model.loss(X, y)
    assert np.isfinite(loss) and set(grads) == set(model.params)
    for name in sorted(model.params):
        f = lambda _: model.loss(X, y)[0]
        num = eval_numerical_gradient(f, model.params[name], verbose=False, h=1e-5)
        assert rel_error(num, grads[name]) < 1e-5, name


def test_fc_net_swish_differs_from_relu():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((3, 6))
    kw = dict(input_dim=6, num_classes=4, weight_scale=0.5, dtype=np.float64, seed=3)
    relu = FullyConnectedNet([5], activation="relu", **kw)
    swish = FullyConnectedNet([5], activation="swish", **kw)
    for k in relu.params:
        assert np.array_equal(relu.params[k], swish.params[k])
    assert not np.allclose(relu.loss(X), swish.loss(X))
    assert FullyConnectedNet([5], **kw).activation == "relu"   # the default


def test_unknown_activation_raises():
    with pytest.raises(ValueError, match="activation"):
        FullyConnectedNet([5], input_dim=6, num_classes=4, activation="tanh")
