"""cs239.layers: values against independent computations (CS231n's published numbers, plain
Python loops, closed forms), finite differences in float64, shapes, dtypes, edge cases, and
inputs left untouched."""
import math
import warnings

import numpy as np
import pytest

from cs239.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from cs239.layers import (affine_backward, affine_forward, relu_backward, relu_forward,
                          softmax_loss, svm_loss, swish_backward, swish_forward)

pytestmark = pytest.mark.fast

GRAD_TOL = 1e-7  # float64 finite differences, h = 1e-5

NUMPY2 = int(np.__version__.split(".")[0]) >= 2


def _sigmoid(t):
    """Plain-Python stable sigmoid (the independent reference)."""
    if t >= 0:
        return 1.0 / (1.0 + math.exp(-t))
    e = math.exp(t)
    return e / (1.0 + e)


def _away_from_zero(rng, shape, low=0.05):
    """Random values with |x| >= low, so that ReLU kinks are out of reach of h = 1e-5."""
    x = rng.uniform(low, 1.0, size=shape)
    return x * rng.choice([-1.0, 1.0], size=shape)


# ---------------------------------------------------------------- affine

def test_affine_forward_cs231n_published_values():
    num_inputs, input_shape, output_dim = 2, (4, 5, 6), 3
    input_size = num_inputs * np.prod(input_shape)
    weight_size = output_dim * np.prod(input_shape)
    x = np.linspace(-0.1, 0.5, num=input_size).reshape(num_inputs, *input_shape)
    w = np.linspace(-0.2, 0.3, num=weight_size).reshape(np.prod(input_shape), output_dim)
    b = np.linspace(-0.3, 0.1, num=output_dim)
    out, _ = affine_forward(x, w, b)
    correct_out = np.array([[1.49834967, 1.70660132, 1.91485297],
                            [3.25553199, 3.51413270, 3.77273342]])
    assert out.shape == (2, 3)
    assert rel_error(out, correct_out) < 1e-8


@pytest.mark.parametrize("xshape", [(3, 6), (3, 2, 3), (3, 1, 2, 3), (1, 6)])
def test_affine_forward_matches_loops_any_rank(rng, xshape):
    x = rng.standard_normal(xshape)
    w = rng.standard_normal((6, 4))
    b = rng.standard_normal(4)
    out, cache = affine_forward(x, w, b)
    expected = np.empty((xshape[0], 4))
    for i in range(xshape[0]):
        flat = list(x[i].ravel())
        for j in range(4):
            expected[i, j] = sum(flat[k] * w[k, j] for k in range(6)) + b[j]
    assert out.shape == (xshape[0], 4)
    assert rel_error(out, expected) < 1e-12
    assert len(cache) == 3


@pytest.mark.parametrize("xshape", [(10, 6), (10, 2, 3), (2, 3, 2, 1), (1, 2, 3)])
def test_affine_backward_numerical(rng, xshape):
    x = rng.standard_normal(xshape)
    w = rng.standard_normal((6, 5))
    b = rng.standard_normal(5)
    dout = rng.standard_normal((xshape[0], 5))
    _, cache = affine_forward(x, w, b)
    dx, dw, db = affine_backward(dout, cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    dx_num = eval_numerical_gradient_array(lambda x_: affine_forward(x_, w, b)[0], x, dout)
    dw_num = eval_numerical_gradient_array(lambda w_: affine_forward(x, w_, b)[0], w, dout)
    db_num = eval_numerical_gradient_array(lambda b_: affine_forward(x, w, b_)[0], b, dout)
    assert rel_error(dx, dx_num) < GRAD_TOL
    assert rel_error(dw, dw_num) < GRAD_TOL
    assert rel_error(db, db_num) < GRAD_TOL


def test_affine_backward_closed_form(rng):
    """dx = dout w^T, dw = x^T dout, db = column sums, written with einsum."""
    x = rng.standard_normal((4, 3, 2))
    w = rng.standard_normal((6, 5))
    b = rng.standard_normal(5)
    dout = rng.standard_normal((4, 5))
    dx, dw, db = affine_backward(dout, affine_forward(x, w, b)[1])
    xf = x.reshape(4, 6)
    assert np.allclose(dx, np.einsum("nm,dm->nd", dout, w).reshape(x.shape), atol=1e-12)
    assert np.allclose(dw, np.einsum("nd,nm->dm", xf, dout), atol=1e-12)
    assert np.allclose(db, np.array([sum(dout[:, j]) for j in range(5)]), atol=1e-12)


def test_affine_float32_in_float32_out(rng):
    x = rng.standard_normal((3, 2, 2)).astype(np.float32)
    w = rng.standard_normal((4, 5)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    out, cache = affine_forward(x, w, b)
    grads = affine_backward(np.ones((3, 5), np.float32), cache)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads)


def test_affine_does_not_mutate_inputs(rng):
    x, w, b = rng.standard_normal((3, 2, 2)), rng.standard_normal((4, 5)), rng.standard_normal(5)
    dout = rng.standard_normal((3, 5))
    copies = [a.copy() for a in (x, w, b, dout)]
    _, cache = affine_forward(x, w, b)
    affine_backward(dout, cache)
    for a, c in zip((x, w, b, dout), copies):
        assert np.array_equal(a, c)


# ---------------------------------------------------------------- relu

def test_relu_forward_cs231n_published_values():
    x = np.linspace(-0.5, 0.5, num=12).reshape(3, 4)
    out, _ = relu_forward(x)
    correct_out = np.array([[0., 0., 0., 0.],
                            [0., 0., 0.04545455, 0.13636364],
                            [0.22727273, 0.31818182, 0.40909091, 0.5]])
    assert rel_error(out, correct_out) < 5e-8


@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 4)])
def test_relu_backward_numerical_any_shape(rng, shape):
    x = _away_from_zero(rng, shape)
    dout = rng.standard_normal(shape)
    out, cache = relu_forward(x)
    dx = relu_backward(dout, cache)
    assert out.shape == shape and dx.shape == shape
    dx_num = eval_numerical_gradient_array(lambda x_: relu_forward(x_)[0], x, dout)
    assert rel_error(dx, dx_num) < GRAD_TOL


def test_relu_exact_zero_passes_no_gradient():
    """Docstring convention: at x == 0 exactly the gradient is 0 (also for -0.0)."""
    x = np.array([[-1.0, 0.0, -0.0, 2.0]])
    dout = np.array([[5.0, 7.0, 11.0, 13.0]])
    out, cache = relu_forward(x)
    assert np.array_equal(out, [[0.0, 0.0, 0.0, 2.0]])
    assert np.array_equal(relu_backward(dout, cache), [[0.0, 0.0, 0.0, 13.0]])


def test_relu_mask_comes_from_x_not_dout():
    x = np.array([1.0, -1.0, 2.0])
    dout = np.array([-3.0, 4.0, -5.0])
    assert np.array_equal(relu_backward(dout, relu_forward(x)[1]), [-3.0, 0.0, -5.0])


def test_relu_dtypes_and_no_mutation(rng):
    x = rng.standard_normal((4, 5)).astype(np.float32)
    dout = rng.standard_normal((4, 5)).astype(np.float32)
    x0, d0 = x.copy(), dout.copy()
    out, cache = relu_forward(x)
    dx = relu_backward(dout, cache)
    assert out.dtype == np.float32 and dx.dtype == np.float32
    assert np.array_equal(x, x0) and np.array_equal(dout, d0)
    assert not np.shares_memory(out, x)


# ---------------------------------------------------------------- swish

def test_swish_forward_matches_plain_python(rng):
    x = rng.standard_normal((3, 4)) * 5
    out, _ = swish_forward(x)
    expected = np.vectorize(lambda t: t * _sigmoid(t))(x)
    assert out.shape == x.shape
    assert rel_error(out, expected) < 1e-12


def test_swish_closed_form_points():
    out, cache = swish_forward(np.array([0.0, math.log(3.0)]))
    # swish(0) = 0; swish(ln 3) = ln 3 * 3/4; swish'(0) = 1/2
    assert np.allclose(out, [0.0, 0.75 * math.log(3.0)], rtol=0, atol=1e-15)
    dx = swish_backward(np.ones(2), cache)
    s = 0.75
    assert np.allclose(dx, [0.5, s + math.log(3.0) * s * (1 - s)], rtol=0, atol=1e-15)


@pytest.mark.parametrize("shape", [(6,), (3, 4), (2, 2, 3)])
def test_swish_backward_numerical(rng, shape):
    x = rng.standard_normal(shape) * 3
    dout = rng.standard_normal(shape)
    out, cache = swish_forward(x)
    dx = swish_backward(dout, cache)
    assert dx.shape == shape
    dx_num = eval_numerical_gradient_array(lambda x_: swish_forward(x_)[0], x, dout)
    assert rel_error(dx, dx_num) < GRAD_TOL


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_swish_finite_at_plus_minus_1000(dtype):
    x = np.array([-1000.0, -100.0, 100.0, 1000.0], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        out, cache = swish_forward(x)
        dx = swish_backward(np.ones_like(x), cache)
    assert out.dtype == dtype and dx.dtype == dtype
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(dx))
    assert np.allclose(out, [0.0, 0.0, 100.0, 1000.0], atol=1e-30)
    assert np.allclose(dx, [0.0, 0.0, 1.0, 1.0], atol=1e-30)


def test_swish_dtypes_and_no_mutation(rng):
    x = rng.standard_normal((4, 5)).astype(np.float32)
    dout = rng.standard_normal((4, 5)).astype(np.float32)
    x0, d0 = x.copy(), dout.copy()
    out, cache = swish_forward(x)
    dx = swish_backward(dout, cache)
    assert out.dtype == np.float32 and dx.dtype == np.float32
    assert np.array_equal(x, x0) and np.array_equal(dout, d0)


# ---------------------------------------------------------------- losses

def _softmax_loss_loops(x, y):
    """Independent plain-Python softmax cross-entropy and its gradient."""
    N, C = len(x), len(x[0])
    loss, dx = 0.0, [[0.0] * C for _ in range(N)]
    for i in range(N):
        m = max(x[i])
        z = sum(math.exp(v - m) for v in x[i])
        loss += -(x[i][y[i]] - m - math.log(z))
        for j in range(C):
            dx[i][j] = (math.exp(x[i][j] - m) / z - (j == y[i])) / N
    return loss / N, np.array(dx)


def _svm_loss_loops(x, y):
    """Independent plain-Python multiclass hinge loss (margin 1) and its gradient."""
    N, C = len(x), len(x[0])
    loss, dx = 0.0, [[0.0] * C for _ in range(N)]
    for i in range(N):
        for j in range(C):
            if j == y[i]:
                continue
            margin = x[i][j] - x[i][y[i]] + 1
            if margin > 0:
                loss += margin
                dx[i][j] += 1.0 / N
                dx[i][y[i]] -= 1.0 / N
    return loss / N, np.array(dx)


@pytest.mark.parametrize("N,C", [(1, 2), (5, 2), (8, 10), (1, 7)])
def test_softmax_loss_matches_loops(rng, N, C):
    x = rng.standard_normal((N, C)) * 3
    y = rng.integers(C, size=N)
    loss, dx = softmax_loss(x, y)
    loss_ref, dx_ref = _softmax_loss_loops(x.tolist(), y.tolist())
    assert np.ndim(loss) == 0
    assert abs(loss - loss_ref) < 1e-12
    assert dx.shape == (N, C)
    assert rel_error(dx, dx_ref) < 1e-9


def test_softmax_loss_uniform_scores_is_log_c(rng):
    """CS231n sanity check: tiny scores give a loss close to log(C)."""
    x = 0.001 * rng.standard_normal((50, 10))
    y = rng.integers(10, size=50)
    loss, _ = softmax_loss(x, y)
    assert abs(loss - math.log(10)) < 5e-3
    loss0, dx0 = softmax_loss(np.zeros((4, 10)), np.arange(4))
    assert abs(loss0 - math.log(10)) < 1e-12
    assert np.allclose(dx0.sum(axis=1), 0, atol=1e-15)


def test_softmax_loss_numerical(rng):
    x = rng.standard_normal((10, 6))
    y = rng.integers(6, size=10)
    _, dx = softmax_loss(x, y)
    dx_num = eval_numerical_gradient(lambda x_: softmax_loss(x_, y)[0], x, verbose=False)
    assert rel_error(dx, dx_num) < GRAD_TOL


def test_softmax_loss_stable_at_1000():
    x = np.array([[1000.0, -1000.0, 0.0],
                  [1000.0, -1000.0, 0.0],
                  [1000.0, 1000.0, 1000.0],
                  [-1000.0, -1000.0, -1000.0],
                  [1000.0, 1000.0, -1000.0]])
    y = np.array([0, 1, 2, 0, 1])
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        loss, dx = softmax_loss(x, y)
    # per-row losses: ~0, 2000, log 3, log 3, log 2 (closed forms)
    expected = (0.0 + 2000.0 + 2 * math.log(3) + math.log(2)) / 5
    assert np.isfinite(loss) and abs(loss - expected) < 1e-9
    assert np.all(np.isfinite(dx))
    expected_dx = np.array([[0, 0, 0], [1, -1, 0], [1 / 3, 1 / 3, -2 / 3],
                            [-2 / 3, 1 / 3, 1 / 3], [0.5, -0.5, 0]]) / 5
    assert np.allclose(dx, expected_dx, atol=1e-12)


def test_softmax_gradient_rows_sum_to_zero(rng):
    x = rng.standard_normal((6, 4)) * 10
    _, dx = softmax_loss(x, rng.integers(4, size=6))
    assert np.allclose(dx.sum(axis=1), 0, atol=1e-15)


@pytest.mark.parametrize("N,C", [(1, 2), (5, 2), (8, 10), (1, 7)])
def test_svm_loss_matches_loops(rng, N, C):
    x = rng.standard_normal((N, C))
    y = rng.integers(C, size=N)
    loss, dx = svm_loss(x, y)
    loss_ref, dx_ref = _svm_loss_loops(x.tolist(), y.tolist())
    assert np.ndim(loss) == 0
    assert abs(loss - loss_ref) < 1e-12
    assert dx.shape == (N, C)
    assert np.allclose(dx, dx_ref, atol=1e-15)


def test_svm_loss_closed_form():
    # row 0: margins 1 - 2 + 1 = 0 (not > 0), 3 - 2 + 1 = 2; row 1: all correct by >= 1
    x = np.array([[2.0, 1.0, 3.0], [5.0, 0.0, 4.0]])
    y = np.array([0, 0])
    loss, dx = svm_loss(x, y)
    assert loss == pytest.approx(1.0)
    assert np.array_equal(dx, [[-0.5, 0.0, 0.5], [0.0, 0.0, 0.0]])


def test_svm_loss_numerical(rng):
    # scores on a grid of step 0.25 plus small noise: no margin is within 1e-5 of its kink
    x = np.round(rng.standard_normal((10, 5)) * 4) / 4 + rng.uniform(-0.05, 0.05, (10, 5))
    y = rng.integers(5, size=10)
    _, dx = svm_loss(x, y)
    dx_num = eval_numerical_gradient(lambda x_: svm_loss(x_, y)[0], x, verbose=False)
    assert rel_error(dx, dx_num) < GRAD_TOL


@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
def test_losses_float32_and_no_mutation(rng, loss_fn):
    x = rng.standard_normal((6, 4)).astype(np.float32)
    y = rng.integers(4, size=6)
    x0, y0 = x.copy(), y.copy()
    loss, dx = loss_fn(x, y)
    assert dx.dtype == np.float32
    # numpy 1.x promotes a float32 scalar times a Python number to float64 (NEP 50 ended that)
    assert np.asarray(loss).dtype == (np.float32 if NUMPY2 else np.float64)
    assert np.array_equal(x, x0) and np.array_equal(y, y0)
    loss64, _ = loss_fn(x.astype(np.float64), y)
    assert abs(float(loss) - loss64) < 1e-5
