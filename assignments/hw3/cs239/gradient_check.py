"""Numerical gradients by centered finite differences, for checking backward passes (provided)."""
import numpy as np


def rel_error(x, y):
    """Maximum relative error max(|x - y| / max(1e-8, |x| + |y|)) between two arrays."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def eval_numerical_gradient(f, x, verbose=True, h=1e-5):
    """Numerical gradient of a scalar function f at x.

    Inputs:
    - f: A function that takes a single argument (an array shaped like x) and returns a scalar.
    - x: The point (a numpy array, modified in place during evaluation and then restored)
      at which to evaluate the gradient.
    - verbose: If True, print every coordinate and its gradient.
    - h: The step size of the finite differences.

    Returns:
    - grad: A numpy array shaped like x.
    """
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        fxph = f(x)
        x[ix] = old - h
        fxmh = f(x)
        x[ix] = old
        grad[ix] = (fxph - fxmh) / (2 * h)
        if verbose:
            print(ix, grad[ix])
        it.iternext()
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Numerical gradient of an array-valued function f at x, contracted with the upstream
    gradient df: the gradient of sum(f(x) * df) with respect to x.

    Inputs:
    - f: A function that takes an array shaped like x and returns an array.
    - x: The point (a numpy array, modified in place during evaluation and then restored).
    - df: Upstream gradient, shaped like f(x).
    - h: The step size of the finite differences.

    Returns:
    - grad: A numpy array shaped like x.
    """
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        pos = np.array(f(x), copy=True)
        x[ix] = old - h
        neg = np.array(f(x), copy=True)
        x[ix] = old
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, seed=None):
    """Compare analytic_grad with numerical gradients of the scalar function f at a few
    randomly chosen coordinates of x, printing each comparison.

    Inputs:
    - f: A function of one argument (an array shaped like x) returning a scalar.
    - x: The point (modified in place during evaluation and then restored).
    - analytic_grad: The gradient to check, shaped like x.
    - num_checks: How many coordinates to check.
    - h: The step size of the finite differences.
    - seed: Optional seed for choosing the coordinates.

    Returns:
    - The largest relative error seen.
    """
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(num_checks):
        ix = tuple(int(rng.integers(m)) for m in x.shape)
        old = x[ix]
        x[ix] = old + h
        fxph = f(x)
        x[ix] = old - h
        fxmh = f(x)
        x[ix] = old
        grad_numerical = (fxph - fxmh) / (2 * h)
        grad_analytic = analytic_grad[ix]
        err = rel_error(grad_numerical, grad_analytic)
        worst = max(worst, err)
        print("numerical: %f analytic: %f, relative error: %e"
              % (grad_numerical, grad_analytic, err))
    return worst
