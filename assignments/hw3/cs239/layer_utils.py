"""Convenience "sandwich" layers that chain an affine layer and an activation (provided)."""
from .layers import (affine_backward, affine_forward, relu_backward, relu_forward,
                     swish_backward, swish_forward)

ACTIVATIONS = {
    "relu": (relu_forward, relu_backward),
    "swish": (swish_forward, swish_backward),
}


def affine_act_forward(x, w, b, activation="relu"):
    """Affine layer followed by an activation ("relu" or "swish").

    Inputs:
    - x: Input to the affine layer, of shape (N, d_1, ..., d_k)
    - w: Weights, of shape (D, M); b: biases, of shape (M,)
    - activation: name of the activation, a key of ACTIVATIONS

    Returns a tuple of:
    - out: Output of the activation, of shape (N, M)
    - cache: Object to give to the backward pass
    """
    forward, _ = ACTIVATIONS[activation]
    a, fc_cache = affine_forward(x, w, b)
    out, act_cache = forward(a)
    return out, (fc_cache, act_cache, activation)


def affine_act_backward(dout, cache):
    """Backward pass of affine_act_forward.

    Inputs:
    - dout: Upstream gradient, of shape (N, M)
    - cache: The cache returned by affine_act_forward

    Returns a tuple (dx, dw, db) shaped like (x, w, b).
    """
    fc_cache, act_cache, activation = cache
    _, backward = ACTIVATIONS[activation]
    da = backward(dout, act_cache)
    return affine_backward(da, fc_cache)


def affine_relu_forward(x, w, b):
    """Affine layer followed by a ReLU: returns (out, cache), out of shape (N, M)."""
    return affine_act_forward(x, w, b, "relu")


def affine_relu_backward(dout, cache):
    """Backward pass of affine_relu_forward: returns (dx, dw, db)."""
    return affine_act_backward(dout, cache)
