r"""Gradients derived by hand: the two written backprop problems of Homework 3 (Backprop.ipynb).

Every gradient here is the gradient of a scalar with respect to a matrix, laid out like that
matrix: ``dW[i, j] = dL / dW[i, j]``. The notebook checks each one against centered finite
differences (``cs239.gradient_check``); the autograder does the same on random inputs.

Problem 1: a linear autoencoder.
    x in R^n (a vector of shape (n,)), W in R^{m x n}, typically with m < n,

        h = W x            (m,)     the code
        x_hat = W^T h      (n,)     the reconstruction
        r = x_hat - x      (n,)     the residual
        L = 1/2 ||r||^2 = 1/2 ||W^T W x - x||^2.

    W enters the graph twice (in the encoder W x and in the decoder W^T h); dL/dW must
    account for both. The batch version takes the N columns of X in R^{n x N} as examples
    and averages: L = 1/(2N) ||W^T W X - X||_F^2.

Problem 2: the GP-LVM (Lawrence, NIPS 2004) with a linear kernel.
    X in R^{N x q} (latent points, one per row), Y in R^{N x D} (data, one per row),
    alpha > 0, beta > 0,

        K  = alpha X X^T + beta^{-1} I_N     (N, N), symmetric positive definite
        L1 = -D/2 log|K|
        L2 = -1/2 tr(K^{-1} Y Y^T)
        L  = -c + L1 + L2,   c = N D / 2 log(2 pi).

    L is the log marginal likelihood of Y (to be maximised); the gradients below are gradients
    of L1, L2 and L themselves (not of -L). The constant c does not depend on X.
    Identities allowed in the derivation:
        d tr(A X) / dX = A^T,   d log|K| / dK = K^{-T},   d(K^{-1}) = -K^{-1} (dK) K^{-1},
    and the chain rule through K = alpha X X^T + beta^{-1} I: for a scalar f of K with
    G = df/dK (N, N), df/dX = alpha (G + G^T) X.
"""
import numpy as np

__all__ = [
    "autoencoder_loss", "autoencoder_grad", "autoencoder_loss_batch", "autoencoder_grad_batch",
    "gplvm_kernel", "gplvm_loss", "gplvm_logdet_grad", "gplvm_trace_grad", "gplvm_grad",
]

_FILE = "cs239/derivations.py"


# ---------------------------------------------------------------------------------------------
# Argument checks (provided): wrong shapes give one clear message instead of a numpy traceback.
# ---------------------------------------------------------------------------------------------

def _as_float(a):
    a = np.asarray(a)
    return a if np.issubdtype(a.dtype, np.floating) else a.astype(np.float64)


def _check_autoencoder_args(W, x, func, batch=False):
    """Return (W, x) as float arrays, or raise ValueError naming func and what is wrong."""
    W, x = _as_float(W), _as_float(x)
    if W.ndim != 2:
        raise ValueError("%s (%s): W must be a 2-D array of shape (m, n), got shape %s"
                         % (func, _FILE, W.shape))
    m, n = W.shape
    if batch:
        if x.ndim != 2 or x.shape[0] != n:
            raise ValueError("%s (%s): X must be a 2-D array of shape (n, N) = (%d, N) with one "
                             "example per column, got shape %s" % (func, _FILE, n, x.shape))
    elif x.shape != (n,):
        raise ValueError("%s (%s): x must be a 1-D array of shape (n,) = (%d,), got shape %s "
                         "(use the _batch version for a matrix of columns)"
                         % (func, _FILE, n, x.shape))
    return W, x


def _check_gplvm_args(X, Y, alpha, beta, func):
    """Return (X, Y) as float arrays, or raise ValueError naming func and what is wrong."""
    X = _as_float(X)
    if X.ndim != 2:
        raise ValueError("%s (%s): X must be a 2-D array of shape (N, q), got shape %s"
                         % (func, _FILE, X.shape))
    if Y is not None:
        Y = _as_float(Y)
        if Y.ndim != 2 or Y.shape[0] != X.shape[0]:
            raise ValueError("%s (%s): Y must be a 2-D array of shape (N, D) = (%d, D), got "
                             "shape %s" % (func, _FILE, X.shape[0], Y.shape))
    for name, v in (("alpha", alpha), ("beta", beta)):
        if not (np.ndim(v) == 0 and np.isfinite(v) and v > 0):
            raise ValueError("%s (%s): %s must be a finite positive scalar, got %r"
                             % (func, _FILE, name, v))
    return X, Y


# ---------------------------------------------------------------------------------------------
# Problem 1: linear autoencoder
# ---------------------------------------------------------------------------------------------

def autoencoder_loss(W, x):
    """Loss of a linear autoencoder with tied weights on one example (provided).

    L = 1/2 ||W^T W x - x||^2

    Inputs:
    - W: Weights, of shape (m, n); the encoder is x -> W x, the decoder h -> W^T h
    - x: One example, of shape (n,)

    Returns:
    - loss: Scalar (a Python float)
    """
    W, x = _check_autoencoder_args(W, x, "autoencoder_loss")
    r = W.T @ (W @ x) - x
    return float(0.5 * np.dot(r, r))


def autoencoder_grad(W, x):
    """Gradient of the linear autoencoder loss L = 1/2 ||W^T W x - x||^2 with respect to W.

    W appears twice in the graph (encoder h = W x, decoder x_hat = W^T h); the gradient is
    the total derivative, with both paths included. float64 inputs give a float64 result.

    Inputs:
    - W: Weights, of shape (m, n)
    - x: One example, of shape (n,)

    Returns:
    - dW: Gradient of L with respect to W, of shape (m, n) (dW[i, j] = dL / dW[i, j])
    """
    W, x = _check_autoencoder_args(W, x, "autoencoder_grad")
    dW = None
    # TODO: Compute dL/dW, of shape (m, n). W appears twice in the graph (encoder W x and
    # decoder W^T h): add the gradients of both paths. Use vector operations, no loops.
    # YOUR CODE HERE
    raise NotImplementedError(
        "autoencoder_grad in cs239/derivations.py is not implemented yet; "
        "it is asked for in Backprop.ipynb, section 'Problem 1: linear autoencoder > (d) Code it'.")
    return dW


def autoencoder_loss_batch(W, X):
    """Mean loss of the linear autoencoder over a batch of examples (provided).

    L = 1/(2N) ||W^T W X - X||_F^2 = (1/N) sum_k autoencoder_loss(W, X[:, k])

    Inputs:
    - W: Weights, of shape (m, n)
    - X: N examples, one per column, of shape (n, N)

    Returns:
    - loss: Scalar (a Python float), the mean of the N per-example losses
    """
    W, X = _check_autoencoder_args(W, X, "autoencoder_loss_batch", batch=True)
    R = W.T @ (W @ X) - X
    return float(0.5 * np.sum(R * R) / X.shape[1])


def autoencoder_grad_batch(W, X):
    """Gradient of the mean autoencoder loss L = 1/(2N) ||W^T W X - X||_F^2 with respect to W.

    It equals the mean over k of autoencoder_grad(W, X[:, k]).

    Inputs:
    - W: Weights, of shape (m, n)
    - X: N examples, one per column, of shape (n, N)

    Returns:
    - dW: Gradient of the mean loss with respect to W, of shape (m, n)
    """
    W, X = _check_autoencoder_args(W, X, "autoencoder_grad_batch", batch=True)
    dW = None
    # TODO: Compute the gradient of the MEAN loss over the N columns of X, of shape (m, n),
    # with matrix products (no loop over the examples).
    # YOUR CODE HERE
    raise NotImplementedError(
        "autoencoder_grad_batch in cs239/derivations.py is not implemented yet; "
        "it is asked for in Backprop.ipynb, section 'Problem 1: linear autoencoder > The batch version'.")
    return dW


# ---------------------------------------------------------------------------------------------
# Problem 2: GP-LVM with a linear kernel
# ---------------------------------------------------------------------------------------------

def gplvm_kernel(X, alpha, beta):
    """Linear-kernel covariance of the GP-LVM (provided).

    K = alpha X X^T + beta^{-1} I_N, symmetric positive definite for alpha, beta > 0.

    Inputs:
    - X: Latent points, one per row, of shape (N, q)
    - alpha: Positive scalar, the kernel variance
    - beta: Positive scalar, the noise precision (beta^{-1} is the noise variance)

    Returns:
    - K: Array of shape (N, N)
    """
    X, _ = _check_gplvm_args(X, None, alpha, beta, "gplvm_kernel")
    K = alpha * (X @ X.T)
    K[np.diag_indices_from(K)] += 1.0 / beta
    return K


def gplvm_loss(X, Y, alpha, beta):
    """Log marginal likelihood of the GP-LVM, INCLUDING the constant c (provided).

    L = -c - D/2 log|K| - 1/2 tr(K^{-1} Y Y^T),   c = N D / 2 log(2 pi),
    K = alpha X X^T + beta^{-1} I_N.

    L is to be maximised (it is a log-likelihood; -L is the quantity one minimises). It is
    computed through the Cholesky factor C of K (K = C C^T): log|K| = 2 sum(log diag C) and
    tr(K^{-1} Y Y^T) = ||C^{-1} Y||_F^2, without forming K^{-1}.

    Inputs:
    - X: Latent points, of shape (N, q)
    - Y: Observed data, one example per row, of shape (N, D)
    - alpha, beta: Positive scalars (see gplvm_kernel)

    Returns:
    - L: Scalar (a Python float)
    """
    X, Y = _check_gplvm_args(X, Y, alpha, beta, "gplvm_loss")
    N, D = Y.shape
    K = gplvm_kernel(X, alpha, beta)
    try:
        C = np.linalg.cholesky(K)
    except np.linalg.LinAlgError:
        raise ValueError("gplvm_loss (%s): K = alpha X X^T + I/beta is not numerically positive "
                         "definite; use a larger 1/beta or a smaller alpha" % _FILE) from None
    logdet = 2.0 * np.sum(np.log(np.diag(C)))
    Z = np.linalg.solve(C, Y)
    c = 0.5 * N * D * np.log(2 * np.pi)
    return float(-c - 0.5 * D * logdet - 0.5 * np.sum(Z * Z))


def gplvm_logdet_grad(X, Y, alpha, beta):
    """Gradient of L1 = -D/2 log|K| with respect to X, K = alpha X X^T + beta^{-1} I_N.

    Inputs:
    - X: Latent points, of shape (N, q)
    - Y: Observed data, of shape (N, D); only D = Y.shape[1] is used
    - alpha, beta: Positive scalars (see gplvm_kernel)

    Returns:
    - dX: Gradient of L1 with respect to X, of shape (N, q)
    """
    X, Y = _check_gplvm_args(X, Y, alpha, beta, "gplvm_logdet_grad")
    dX = None
    # TODO: Compute dL1/dX, of shape (N, q). Build K with gplvm_kernel and use np.linalg.solve
    # for products with K^{-1} instead of an explicit inverse.
    # YOUR CODE HERE
    raise NotImplementedError(
        "gplvm_logdet_grad in cs239/derivations.py is not implemented yet; "
        "it is asked for in Backprop.ipynb, section 'Problem 2: GP-LVM > (c) Code it'.")
    return dX


def gplvm_trace_grad(X, Y, alpha, beta):
    """Gradient of L2 = -1/2 tr(K^{-1} Y Y^T) with respect to X, K = alpha X X^T + beta^{-1} I_N.

    Inputs:
    - X: Latent points, of shape (N, q)
    - Y: Observed data, one example per row, of shape (N, D)
    - alpha, beta: Positive scalars (see gplvm_kernel)

    Returns:
    - dX: Gradient of L2 with respect to X, of shape (N, q)
    """
    X, Y = _check_gplvm_args(X, Y, alpha, beta, "gplvm_trace_grad")
    dX = None
    # TODO: Compute dL2/dX, of shape (N, q). Build K with gplvm_kernel and use np.linalg.solve
    # for products with K^{-1} instead of an explicit inverse.
    # YOUR CODE HERE
    raise NotImplementedError(
        "gplvm_trace_grad in cs239/derivations.py is not implemented yet; "
        "it is asked for in Backprop.ipynb, section 'Problem 2: GP-LVM > (c) Code it'.")
    return dX


def gplvm_grad(X, Y, alpha, beta):
    """Gradient of the GP-LVM log likelihood L = -c + L1 + L2 with respect to X.

    dL/dX = dL1/dX + dL2/dX (the constant c does not depend on X). Calling gplvm_logdet_grad
    and gplvm_trace_grad is allowed.

    Inputs:
    - X: Latent points, of shape (N, q)
    - Y: Observed data, one example per row, of shape (N, D)
    - alpha, beta: Positive scalars (see gplvm_kernel)

    Returns:
    - dX: Gradient of L with respect to X, of shape (N, q)
    """
    X, Y = _check_gplvm_args(X, Y, alpha, beta, "gplvm_grad")
    dX = None
    # TODO: Compute dL/dX, of shape (N, q), the sum of the gradients of its two terms.
    # YOUR CODE HERE
    raise NotImplementedError(
        "gplvm_grad in cs239/derivations.py is not implemented yet; "
        "it is asked for in Backprop.ipynb, section 'Problem 2: GP-LVM > (c) Code it'.")
    return dX
