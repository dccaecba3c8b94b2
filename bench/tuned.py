"""Tuned forms of the reference's training step, kept for `make bench` (never in the reference,
which stays in the textbook form its docstrings state and TAs publish).

Each gives the reference's results to float32 rounding; bench_train_step.py times both against
PyTorch in the same run.
- adam_tuned: the bias corrections are scalars, so they are folded into the step size and
  epsilon (Kingma & Ba, end of Section 2): lr * mt / (sqrt(vt) + eps) equals
  lr * (sqrt(c2) / c1) * m / (sqrt(v) + eps * sqrt(c2)) with c1 = 1 - beta1**t,
  c2 = 1 - beta2**t; fresh arrays are updated in place. Two fewer passes over arrays the size
  of w, and fewer temporaries.
- fc_loss_tuned: layer 1 skips its input gradient dX = da @ W1.T (nothing upstream needs it; it
  is the largest matrix product of the backward pass, N x D x H1; autograd frameworks skip it
  too), and the penalty uses np.vdot(W, W) (no temporary W**2).
"""
import numpy as np

from cs239.layer_utils import ACTIVATIONS, affine_act_backward, affine_act_forward
from cs239.layers import affine_backward, affine_forward, softmax_loss


def adam_tuned(w, dw, config):
    """cs239.optim.adam with the bias corrections folded into two scalars."""
    for key, default in (("learning_rate", 1e-3), ("beta1", 0.9), ("beta2", 0.999),
                         ("epsilon", 1e-8), ("t", 0)):
        config.setdefault(key, default)
    beta1, beta2 = config["beta1"], config["beta2"]
    t = config["t"] + 1
    m = beta1 * config["m"] if "m" in config else np.zeros_like(w)
    m += (1 - beta1) * dw
    v = beta2 * config["v"] if "v" in config else np.zeros_like(w)
    v += (1 - beta2) * (dw * dw)
    c1, sqrt_c2 = 1 - beta1**t, (1 - beta2**t) ** 0.5
    denom = np.sqrt(v)
    denom += config["epsilon"] * sqrt_c2
    step = m / denom
    step *= config["learning_rate"] * sqrt_c2 / c1
    next_w = w - step
    config.update(m=m, v=v, t=t)
    return next_w, config


def fc_loss_tuned(model, X, y):
    """FullyConnectedNet.loss(X, y) without layer 1's dX and with np.vdot for the penalty."""
    P, L = model.params, model.num_layers
    X = X.astype(model.dtype, copy=False)
    caches, out = [], X
    for i in range(1, L):
        out, cache = affine_act_forward(out, P["W%d" % i], P["b%d" % i], model.activation)
        caches.append(cache)
    scores, cache = affine_forward(out, P["W%d" % L], P["b%d" % L])
    loss, dscores = softmax_loss(scores, y)
    grads = {}
    dout, grads["W%d" % L], grads["b%d" % L] = affine_backward(dscores, cache)
    for i in range(L - 1, 1, -1):
        dout, grads["W%d" % i], grads["b%d" % i] = affine_act_backward(dout, caches[i - 1])
    if L > 1:
        _, act_cache, activation = caches[0]
        da = ACTIVATIONS[activation][1](dout, act_cache)
        grads["W1"] = X.reshape(X.shape[0], -1).T @ da
        grads["b1"] = da.sum(axis=0)
    for i in range(1, L + 1):
        W = P["W%d" % i]
        loss += 0.5 * model.reg * np.vdot(W, W)
        grads["W%d" % i] += model.reg * W
    return loss, grads
