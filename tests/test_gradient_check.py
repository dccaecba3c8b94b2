"""cs239.gradient_check: the finite-difference helpers against analytic gradients of known
functions, restoration of x, printing, and rel_error's definition."""
import numpy as np
import pytest

from cs239.gradient_check import (eval_numerical_gradient, eval_numerical_gradient_array,
                                  grad_check_sparse, rel_error)

pytestmark = pytest.mark.fast


def _away_from_zero(rng, shape):
    """|x| in [0.5, 2]: relative errors are then dominated by the O(h^2) truncation error."""
    return rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def test_rel_error_definition():
    assert rel_error(1.0, 1.0) == 0.0
    assert rel_error(1.0, 3.0) == pytest.approx(0.5)
    assert rel_error(0.0, 0.0) == 0.0
    assert rel_error(0.0, 1e-9) == pytest.approx(1e-9 / 1e-8)  # denominator floor 1e-8
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 1.0])) == pytest.approx(1 / 3)
    assert rel_error(np.array([-1.0]), np.array([1.0])) == pytest.approx(1.0)
    assert isinstance(rel_error(np.float32(1), np.float32(2)), float)


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 2)])
def test_eval_numerical_gradient_of_known_functions(rng, shape, capsys):
    x = _away_from_zero(rng, shape)
    x0 = x.copy()
    grad = eval_numerical_gradient(lambda v: np.sum(v ** 3), x, verbose=False)
    assert grad.shape == shape
    assert rel_error(grad, 3 * x0 ** 2) < 1e-9
    # centered differences of v**3 are exact up to h**2: (x+h)^3 - (x-h)^3 = 6x^2 h + 2h^3
    assert np.allclose(grad, 3 * x0 ** 2 + 1e-10, rtol=0, atol=1e-9)
    grad = eval_numerical_gradient(lambda v: np.sum(np.sin(v)) + 0.5 * np.sum(v * v), x,
                                   verbose=False)
    assert rel_error(grad, np.cos(x0) + x0) < 1e-8
    assert np.array_equal(x, x0), "x must be restored"
    assert capsys.readouterr().out == ""


def test_eval_numerical_gradient_quadratic_form(rng):
    A = rng.standard_normal((4, 4))
    x = rng.standard_normal(4)
    grad = eval_numerical_gradient(lambda v: v @ A @ v, x, verbose=False)
    assert rel_error(grad, (A + A.T) @ x) < 1e-8


def test_eval_numerical_gradient_verbose_prints_each_coordinate(capsys):
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    eval_numerical_gradient(lambda v: np.sum(v), x, verbose=True)
    assert len(capsys.readouterr().out.strip().splitlines()) == 4


def test_eval_numerical_gradient_array_known_functions(rng):
    x = rng.standard_normal((3, 4))
    df = rng.standard_normal((3, 4))
    x0 = x.copy()
    grad = eval_numerical_gradient_array(lambda v: v ** 2, x, df)
    assert rel_error(grad, 2 * x0 * df) < 1e-8
    A = rng.standard_normal((5, 3))
    df2 = rng.standard_normal((5, 4))
    grad = eval_numerical_gradient_array(lambda v: A @ v, x, df2)
    assert rel_error(grad, A.T @ df2) < 1e-8
    assert np.array_equal(x, x0)


def test_eval_numerical_gradient_array_when_f_returns_a_view_of_x(rng):
    """f may return x itself (or a view): the helper must copy before x is changed again."""
    x = rng.standard_normal((2, 3))
    df = rng.standard_normal((2, 3))
    assert rel_error(eval_numerical_gradient_array(lambda v: v, x, df), df) < 1e-8
    assert rel_error(eval_numerical_gradient_array(lambda v: v.T, x, df.T), df) < 1e-8


def test_grad_check_sparse_correct_and_wrong_gradient(rng, capsys):
    x = _away_from_zero(rng, (4, 5))
    x0 = x.copy()
    f = lambda v: np.sum(v ** 3)  # noqa: E731
    worst = grad_check_sparse(f, x, 3 * x ** 2, num_checks=7, seed=0)
    assert worst < 1e-7
    out = capsys.readouterr().out
    assert len(out.strip().splitlines()) == 7 and "relative error" in out
    assert grad_check_sparse(f, x, 2 * x ** 2, num_checks=5, seed=0) > 0.1
    assert np.array_equal(x, x0)


def test_grad_check_sparse_seed_is_reproducible(rng, capsys):
    x = rng.standard_normal((6, 6))
    g = rng.standard_normal((6, 6))  # a wrong gradient, so the errors differ per coordinate
    a = grad_check_sparse(lambda v: np.sum(v ** 2), x, g, num_checks=4, seed=3)
    first = capsys.readouterr().out
    b = grad_check_sparse(lambda v: np.sum(v ** 2), x, g, num_checks=4, seed=3)
    assert a == b and capsys.readouterr().out == first
