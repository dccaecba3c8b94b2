"""Layers of a fully-connected network, each as a forward and a backward function.

Conventions (the same as CS231n's): a forward function takes the layer's inputs and returns
``(out, cache)``; the matching backward function takes the upstream gradient ``dout`` and that
``cache`` and returns the gradients with respect to the forward inputs, in the same order.
Loss functions return ``(loss, dx)``. No function here modifies its inputs.
"""
import numpy as np


def affine_forward(x, w, b):
    """Computes the forward pass of an affine (fully-connected) layer.

    Each example x[i] of shape (d_1, ..., d_k) is flattened into a vector of dimension
    D = d_1 * ... * d_k and mapped to a vector of dimension M.

    Inputs:
    - x: A numpy array containing input data, of shape (N, d_1, ..., d_k)
    - w: A numpy array of weights, of shape (D, M)
    - b: A numpy array of biases, of shape (M,)

    Returns a tuple of:
    - out: output, of shape (N, M)
    - cache: (x, w, b)
    """
    out = None
    # TODO: Implement the affine forward pass and store the result in out. You will need to
    # reshape the input into rows.
    ### BEGIN SOLUTION
    out = x.reshape(x.shape[0], -1) @ w + b
    ### END SOLUTION
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    """Computes the backward pass of an affine layer.

    Inputs:
    - dout: Upstream derivative, of shape (N, M)
    - cache: Tuple of:
      - x: Input data, of shape (N, d_1, ..., d_k)
      - w: Weights, of shape (D, M)
      - b: Biases, of shape (M,)

    Returns a tuple of:
    - dx: Gradient with respect to x, of shape (N, d_1, ..., d_k)
    - dw: Gradient with respect to w, of shape (D, M)
    - db: Gradient with respect to b, of shape (M,)
    """
    x, w, b = cache
    dx, dw, db = None, None, None
    # TODO: Implement the affine backward pass. dx must have the shape of x.
    ### BEGIN SOLUTION
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    ### END SOLUTION
    return dx, dw, db


def relu_forward(x):
    """Computes the forward pass of a layer of rectified linear units (ReLUs).

    Input:
    - x: Inputs, of any shape

    Returns a tuple of:
    - out: Output, of the same shape as x
    - cache: x
    """
    out = None
    # TODO: Implement the ReLU forward pass. Do not modify x in place.
    ### BEGIN SOLUTION
    out = np.maximum(x, 0)
    ### END SOLUTION
    cache = x
    return out, cache


def relu_backward(dout, cache):
    """Computes the backward pass of a layer of ReLUs.

    Input:
    - dout: Upstream derivatives, of any shape
    - cache: Input x, of the same shape as dout

    Returns:
    - dx: Gradient with respect to x, of the same shape as x. At x == 0 exactly, the
      gradient is taken to be 0 (only inputs that are strictly positive pass the gradient).
    """
    x = cache
    dx = None
    # TODO: Implement the ReLU backward pass.
    ### BEGIN SOLUTION
    dx = np.where(x > 0, dout, 0)
    ### END SOLUTION
    return dx


def swish_forward(x):
    """Computes the forward pass of a layer of Swish units, swish(x) = x * sigmoid(x).

    The sigmoid must stay finite and accurate for large |x| (e.g. x = -1000 or x = 1000):
    never evaluate exp of a large positive number. Note that np.where(cond, a, b) evaluates
    both a and b for every element, so an exp(x) in the branch that is not selected still
    overflows: compute exp(-|x|), which is at most 1, and build both branches from it.

    Input:
    - x: Inputs, of any shape

    Returns a tuple of:
    - out: Output, of the same shape as x
    - cache: Whatever swish_backward needs
    """
    out, cache = None, None
    # TODO: Implement the Swish forward pass with a numerically stable sigmoid.
    ### BEGIN SOLUTION
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    sig = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    out = x * sig
    cache = (x, sig)
    ### END SOLUTION
    return out, cache


def swish_backward(dout, cache):
    """Computes the backward pass of a layer of Swish units.

    Input:
    - dout: Upstream derivatives, of any shape
    - cache: The cache returned by swish_forward

    Returns:
    - dx: Gradient with respect to x, of the same shape as x
    """
    dx = None
    # TODO: Implement the Swish backward pass. Hint: sigmoid'(x) = sigmoid(x) (1 - sigmoid(x)).
    ### BEGIN SOLUTION
    x, sig = cache
    dx = dout * (sig + x * sig * (1 - sig))
    ### END SOLUTION
    return dx


def svm_loss(x, y):
    """Computes the loss and gradient of the multiclass SVM (hinge) loss with margin 1.

    Inputs:
    - x: Input data, of shape (N, C), where x[i, j] is the score for the jth class of the
      ith input.
    - y: Vector of labels, of shape (N,), where y[i] is the label of x[i] and
      0 <= y[i] < C

    Returns a tuple of:
    - loss: Scalar giving the loss, averaged over the N examples
    - dx: Gradient of the loss with respect to x, of shape (N, C)
    """
    loss, dx = None, None
    # TODO: Implement the SVM loss and its gradient, averaged over the minibatch.
    ### BEGIN SOLUTION
    N = x.shape[0]
    rows = np.arange(N)
    margins = np.maximum(0, x - x[rows, y][:, None] + 1)
    margins[rows, y] = 0
    loss = margins.sum() / N
    dx = (margins > 0).astype(x.dtype)
    dx[rows, y] -= dx.sum(axis=1)
    dx /= N
    ### END SOLUTION
    return loss, dx


def softmax_loss(x, y):
    """Computes the loss and gradient of softmax classification (cross-entropy).

    Must be numerically stable: scores of 1000 or more must not overflow.

    Inputs:
    - x: Input data, of shape (N, C), where x[i, j] is the score for the jth class of the
      ith input.
    - y: Vector of labels, of shape (N,), where y[i] is the label of x[i] and
      0 <= y[i] < C

    Returns a tuple of:
    - loss: Scalar giving the loss, averaged over the N examples
    - dx: Gradient of the loss with respect to x, of shape (N, C)
    """
    loss, dx = None, None
    # TODO: Implement the softmax loss and its gradient, averaged over the minibatch.
    # Shift each row of scores by its maximum before exponentiating.
    ### BEGIN SOLUTION
    N = x.shape[0]
    rows = np.arange(N)
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[rows, y].sum() / N
    dx = np.exp(log_probs)
    dx[rows, y] -= 1
    dx /= N
    ### END SOLUTION
    return loss, dx
