"""Self-check for Homework 3: the public checks of every graded function, and the notebooks.

    python -m cs239.check                  # from the homework folder (the one with the notebooks)
    python -m cs239.check adam relu_forward        # only these functions
    python -m cs239.check --no-validate    # skip `nbgrader validate` (it re-runs each notebook)

The checks are the notebooks' own kind: small deterministic inputs, agreement with centered finite
differences, and the CS231n-style expected values the notebooks print. Each function is checked
in its own process with a time limit, so one failure, crash or endless loop never hides the
others. The table says, per function: not started / fails: <which check and how> / passes public
checks. Passing the public checks is a good sign, not a grade: the graders run further tests.

The exit code is 0 whatever the results (this is a report); it is non-zero only when the
self-check itself cannot run.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

PACKAGE_DIR = Path(__file__).resolve().parent
RESULT_TAG = "@@cs239-check-result@@"
NOTEBOOKS = ["TwoLayerNet.ipynb", "FullyConnectedNets.ipynb", "Backprop.ipynb"]
SAVED_MODELS = {"TwoLayerNet.ipynb": "two_layer_net_best.npz",
                "FullyConnectedNets.ipynb": "fc_net_best.npz"}

# Which function each check is about, where it lives, in the order of the homework.
FUNCTIONS = [
    ("TwoLayerNet.loss", "cs239/classifiers/neural_net.py"),
    ("TwoLayerNet.train", "cs239/classifiers/neural_net.py"),
    ("TwoLayerNet.predict", "cs239/classifiers/neural_net.py"),
    ("affine_forward", "cs239/layers.py"),
    ("affine_backward", "cs239/layers.py"),
    ("relu_forward", "cs239/layers.py"),
    ("relu_backward", "cs239/layers.py"),
    ("softmax_loss", "cs239/layers.py"),
    ("svm_loss", "cs239/layers.py"),
    ("FullyConnectedNet.__init__", "cs239/classifiers/fc_net.py"),
    ("FullyConnectedNet.loss", "cs239/classifiers/fc_net.py"),
    ("sgd_momentum", "cs239/optim.py"),
    ("rmsprop", "cs239/optim.py"),
    ("adam", "cs239/optim.py"),
    ("autoencoder_grad", "cs239/derivations.py"),
    ("autoencoder_grad_batch", "cs239/derivations.py"),
    ("gplvm_logdet_grad", "cs239/derivations.py"),
    ("gplvm_trace_grad", "cs239/derivations.py"),
    ("gplvm_grad", "cs239/derivations.py"),
    ("swish_forward", "cs239/layers.py"),
    ("swish_backward", "cs239/layers.py"),
]


class CheckFailed(Exception):
    """A public check did not hold: str() says which check and how."""


# ------------------------------------------------------------------------------------------------
# Helpers used by the checks (run in the child process)
# ------------------------------------------------------------------------------------------------

def _rel_error(x, y):
    from cs239.gradient_check import rel_error
    return rel_error(x, y)


def _expect_close(what, actual, expected, bound):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise CheckFailed("%s: shape %s, expected %s" % (what, actual.shape, expected.shape))
    if not np.all(np.isfinite(actual)):
        raise CheckFailed("%s: contains nan or inf" % what)
    err = _rel_error(actual, expected)
    if not err < bound:
        raise CheckFailed("%s: relative error %.2e (should be < %.0e)" % (what, err, bound))


def _expect_shape(what, value, shape):
    got = np.shape(value) if value is not None else None
    if value is None:
        raise CheckFailed("%s: is None (was it assigned?)" % what)
    if got != tuple(shape):
        raise CheckFailed("%s: shape %s, expected %s" % (what, got, tuple(shape)))


def _num_grad_array(f, x, df, h=1e-5):
    from cs239.gradient_check import eval_numerical_gradient_array
    return eval_numerical_gradient_array(f, x, df, h=h)


def _num_grad(f, x, h=1e-5):
    from cs239.gradient_check import eval_numerical_gradient
    return eval_numerical_gradient(f, x, verbose=False, h=h)


def _unchanged(what, before, after):
    if not np.array_equal(before, after):
        raise CheckFailed("%s was modified in place (work on a copy)" % what)


# Expected values printed by the notebooks (CS231n's public checks; L2 regularization
# 0.5 * reg * sum(W**2)).
AFFINE_OUT = [[1.4983496696, 1.7066013217, 1.9148529737],
              [3.2555319868, 3.5141327024, 3.7727334180]]
RELU_OUT = [[0., 0., 0., 0.],
            [0., 0., 0.0454545455, 0.1363636364],
            [0.2272727273, 0.3181818182, 0.4090909091, 0.5]]
MOMENTUM_NEXT_W = [[0.1406, 0.2073894737, 0.2741789474, 0.3409684211, 0.4077578947],
                   [0.4745473684, 0.5413368421, 0.6081263158, 0.6749157895, 0.7417052632],
                   [0.8084947368, 0.8752842105, 0.9420736842, 1.0088631579, 1.0756526316],
                   [1.1424421053, 1.2092315789, 1.2760210526, 1.3428105263, 1.4096]]
MOMENTUM_VELOCITY = [[0.5406, 0.5547578947, 0.5689157895, 0.5830736842, 0.5972315789],
                     [0.6113894737, 0.6255473684, 0.6397052632, 0.6538631579, 0.6680210526],
                     [0.6821789474, 0.6963368421, 0.7104947368, 0.7246526316, 0.7388105263],
                     [0.7529684211, 0.7671263158, 0.7812842105, 0.7954421053, 0.8096]]
RMSPROP_NEXT_W = [[-0.3922384948, -0.3403751330, -0.2884923885, -0.2365912082, -0.1846724720],
                  [-0.1327369983, -0.0807855504, -0.0288188405, 0.0231624656, 0.0751577444],
                  [0.1271664116, 0.1791879186, 0.2312217498, 0.2832674202, 0.3353244727],
                  [0.3873924763, 0.4394710241, 0.4915597314, 0.5436582343, 0.5957661882]]
RMSPROP_CACHE = [[0.5976, 0.6126277008, 0.6277108033, 0.6428493075, 0.6580432133],
                 [0.6732925208, 0.6885972299, 0.7039573407, 0.7193728532, 0.7348437673],
                 [0.7503700831, 0.7659518006, 0.7815889197, 0.7972814404, 0.8130293629],
                 [0.8288326870, 0.8446914127, 0.8606055402, 0.8765750693, 0.8926]]
ADAM_NEXT_W = [[-0.4009474717, -0.3483618690, -0.2957770321, -0.2431929884, -0.1906097663],
               [-0.1380273962, -0.0854459098, -0.0328653407, 0.0197142755, 0.0722929013],
               [0.1248704968, 0.1774470200, 0.2300224262, 0.2825966678, 0.3351696943],
               [0.3877414521, 0.4403118838, 0.4928809284, 0.5454485205, 0.5980145902]]
ADAM_V = [[0.69966, 0.6890838227, 0.6785131856, 0.6679480886, 0.6573885319],
          [0.6468345152, 0.6362860388, 0.6257431025, 0.6152057064, 0.6046738504],
          [0.5941475346, 0.5836267590, 0.5731115235, 0.5626018283, 0.5520976731],
          [0.5415990582, 0.5311059834, 0.5206184488, 0.5101364543, 0.49966]]
ADAM_M = [[0.48, 0.4994736842, 0.5189473684, 0.5384210526, 0.5578947368],
          [0.5773684211, 0.5968421053, 0.6163157895, 0.6357894737, 0.6552631579],
          [0.6747368421, 0.6942105263, 0.7136842105, 0.7331578947, 0.7526315789],
          [0.7721052632, 0.7915789474, 0.8110526316, 0.8305263158, 0.85]]
TOY_SCORES = [[-0.8123374131, -1.2765462406, -0.7033599478],
              [-0.1712967701, -1.1880331064, -0.4731044415],
              [-0.5159047524, -1.0135431410, -0.8504214959],
              [-0.1541929119, -0.4862963842, -0.5290195239],
              [-0.0061873252, -0.1243526097, -0.1522694932]]
TOY_LOSS = 1.2848224717   # reg = 0.05


def _linspace_update_inputs():
    N, D = 4, 5
    w = np.linspace(-0.4, 0.6, num=N * D).reshape(N, D)
    dw = np.linspace(-0.6, 0.4, num=N * D).reshape(N, D)
    return w, dw


def _toy_net():
    from cs239.classifiers.neural_net import TwoLayerNet
    np.random.seed(0)
    net = TwoLayerNet(4, 10, 3, std=1e-1)
    np.random.seed(1)
    X = 10 * np.random.randn(5, 4)
    y = np.array([0, 1, 2, 2, 1])
    return net, X, y


# ------------------------------------------------------------------------------------------------
# The checks: one function per graded function; each raises CheckFailed (or whatever the
# student's code raises). `step(name)` records which check is running, for the report.
# ------------------------------------------------------------------------------------------------

def check_affine_forward(step):
    from cs239.layers import affine_forward
    step("output on the notebook's linspace input")
    x = np.linspace(-0.1, 0.5, num=240).reshape(2, 4, 5, 6)
    w = np.linspace(-0.2, 0.3, num=360).reshape(120, 3)
    b = np.linspace(-0.3, 0.1, num=3)
    x0 = x.copy()
    out, _ = affine_forward(x, w, b)
    _expect_close("out", out, AFFINE_OUT, 1e-7)
    _unchanged("x", x0, x)


def check_affine_backward(step):
    from cs239.layers import affine_backward, affine_forward
    rng = np.random.default_rng(231)
    x = rng.standard_normal((10, 2, 3))
    w = rng.standard_normal((6, 5))
    b = rng.standard_normal(5)
    dout = rng.standard_normal((10, 5))
    step("dx, dw, db against finite differences of affine_forward")
    dx_num = _num_grad_array(lambda x: affine_forward(x, w, b)[0], x, dout)
    dw_num = _num_grad_array(lambda w: affine_forward(x, w, b)[0], w, dout)
    db_num = _num_grad_array(lambda b: affine_forward(x, w, b)[0], b, dout)
    _, cache = affine_forward(x, w, b)
    dx, dw, db = affine_backward(dout, cache)
    _expect_shape("dx", dx, x.shape)
    _expect_close("dx", dx, dx_num, 1e-7)
    _expect_close("dw", dw, dw_num, 1e-7)
    _expect_close("db", db, db_num, 1e-7)


def check_relu_forward(step):
    from cs239.layers import relu_forward
    step("output on the notebook's linspace input")
    x = np.linspace(-0.5, 0.5, num=12).reshape(3, 4)
    x0 = x.copy()
    out, _ = relu_forward(x)
    _expect_close("out", out, RELU_OUT, 1e-7)
    _unchanged("x", x0, x)


def check_relu_backward(step):
    from cs239.layers import relu_backward, relu_forward
    rng = np.random.default_rng(232)
    x = rng.standard_normal((10, 10))
    x[np.abs(x) < 1e-3] = 0.5                 # finite differences are wrong right at the kink
    dout = rng.standard_normal(x.shape)
    step("dx against finite differences of relu_forward")
    dx_num = _num_grad_array(lambda x: relu_forward(x)[0], x, dout)
    _, cache = relu_forward(x)
    dx = relu_backward(dout, cache)
    _expect_close("dx", dx, dx_num, 1e-7)


def _check_loss(step, loss_fn, name, expected, bound):
    rng = np.random.default_rng(233)
    num_classes, num_inputs = 10, 50
    x = 0.001 * rng.standard_normal((num_inputs, num_classes))
    y = rng.integers(num_classes, size=num_inputs)
    step("loss of small random scores (about %g)" % expected)
    loss, dx = loss_fn(x, y)
    if loss is None or not np.isfinite(loss) or abs(float(loss) - expected) > bound:
        raise CheckFailed("loss: %r, expected about %g (within %g); is it averaged over N?"
                          % (loss, expected, bound))
    step("dx against finite differences of the loss")
    dx_num = _num_grad(lambda x: loss_fn(x, y)[0], x)
    _expect_close("dx", dx, dx_num, 1e-6)


def check_svm_loss(step):
    from cs239.layers import svm_loss
    _check_loss(step, svm_loss, "svm_loss", 9.0, 0.05)


def check_softmax_loss(step):
    from cs239.layers import softmax_loss
    _check_loss(step, softmax_loss, "softmax_loss", float(np.log(10)), 0.01)
    step("no overflow with scores of 1000 and more")
    x = np.array([[1000.0, 0.0, -1000.0], [2000.0, 2000.0, 0.0]])
    with np.errstate(over="raise", invalid="raise"):
        loss, dx = softmax_loss(x, np.array([0, 1]))
    if not (np.isfinite(loss) and np.all(np.isfinite(dx))):
        raise CheckFailed("loss or dx not finite for large scores (shift each row by its max)")
    _expect_close("loss for large scores", loss, np.log(2) / 2, 1e-7)


def check_sgd_momentum(step):
    from cs239.optim import sgd_momentum
    step("next_w and velocity on the notebook's linspace input")
    w, dw = _linspace_update_inputs()
    v = np.linspace(0.6, 0.9, num=20).reshape(4, 5)
    next_w, config = sgd_momentum(w, dw, {"learning_rate": 1e-3, "velocity": v})
    _expect_close("next_w", next_w, MOMENTUM_NEXT_W, 1e-7)
    _expect_close("config['velocity']", config.get("velocity"), MOMENTUM_VELOCITY, 1e-7)


def check_rmsprop(step):
    from cs239.optim import rmsprop
    step("next_w and cache on the notebook's linspace input")
    w, dw = _linspace_update_inputs()
    cache = np.linspace(0.6, 0.9, num=20).reshape(4, 5)
    next_w, config = rmsprop(w, dw, {"learning_rate": 1e-2, "cache": cache})
    _expect_close("next_w", next_w, RMSPROP_NEXT_W, 1e-7)
    _expect_close("config['cache']", config.get("cache"), RMSPROP_CACHE, 1e-7)


def check_adam(step):
    from cs239.optim import adam
    step("next_w, m, v and t on the notebook's linspace input (t = 5)")
    w, dw = _linspace_update_inputs()
    m = np.linspace(0.6, 0.9, num=20).reshape(4, 5)
    v = np.linspace(0.7, 0.5, num=20).reshape(4, 5)
    next_w, config = adam(w, dw, {"learning_rate": 1e-2, "m": m, "v": v, "t": 5})
    _expect_close("next_w", next_w, ADAM_NEXT_W, 1e-7)
    _expect_close("config['v']", config.get("v"), ADAM_V, 1e-7)
    _expect_close("config['m']", config.get("m"), ADAM_M, 1e-7)
    if config.get("t") != 6:
        raise CheckFailed("config['t']: %r, expected 6 (increment t before using it)"
                          % config.get("t"))


def check_two_layer_loss(step):
    net, X, y = _toy_net()
    step("scores of the toy network")
    scores = net.loss(X)
    _expect_close("scores", scores, TOY_SCORES, 1e-7)
    step("loss of the toy network (reg = 0.05)")
    loss, grads = net.loss(X, y, reg=0.05)
    _expect_close("loss", loss, TOY_LOSS, 1e-9)
    step("gradients against finite differences (reg = 0.05)")
    for name in ["W1", "b1", "W2", "b2"]:
        num = _num_grad(lambda _: net.loss(X, y, reg=0.05)[0], net.params[name])
        if name not in grads:
            raise CheckFailed("grads has no %r" % name)
        _expect_close("grads[%r]" % name, grads[name], num, 1e-7)


def check_two_layer_train(step):
    net, X, y = _toy_net()
    step("train the toy network (100 iterations, learning rate 0.1)")
    np.random.seed(2)
    stats = net.train(X, y, X, y, learning_rate=1e-1, reg=5e-6, num_iters=100, batch_size=5)
    for key in ["loss_history", "train_acc_history", "val_acc_history"]:
        if key not in (stats or {}):
            raise CheckFailed("the returned dict has no %r" % key)
    if len(stats["loss_history"]) != 100:
        raise CheckFailed("loss_history has %d entries, expected one per iteration (100)"
                          % len(stats["loss_history"]))
    if len(stats["val_acc_history"]) != 100:    # 5 examples, batch 5: one epoch per iteration
        raise CheckFailed("val_acc_history has %d entries, expected one per epoch (100)"
                          % len(stats["val_acc_history"]))
    final = float(stats["loss_history"][-1])
    if not final < 0.05:
        raise CheckFailed("final training loss %.4f (should be < 0.05: the toy problem is "
                          "easy; are the parameters updated?)" % final)


def check_two_layer_predict(step):
    net, X, y = _toy_net()
    step("predict agrees with the argmax of the scores")
    pred = net.predict(X)
    _expect_shape("predict(X)", pred, (5,))
    expected = np.argmax(net.loss(X), axis=1)
    if not np.array_equal(np.asarray(pred), expected):
        raise CheckFailed("predict(X) = %s, but the highest scores are in columns %s"
                          % (np.asarray(pred).tolist(), expected.tolist()))


def check_fc_init(step):
    from cs239.classifiers.fc_net import FullyConnectedNet
    step("parameter names, shapes, dtypes and scale")
    model = FullyConnectedNet([300, 200], input_dim=500, num_classes=10, weight_scale=0.05,
                              dtype=np.float32, seed=0)
    dims = [500, 300, 200, 10]
    expected = {}
    for i in range(3):
        expected["W%d" % (i + 1)] = (dims[i], dims[i + 1])
        expected["b%d" % (i + 1)] = (dims[i + 1],)
    if sorted(model.params) != sorted(expected):
        raise CheckFailed("params has keys %s, expected %s" % (sorted(model.params),
                                                                 sorted(expected)))
    for name, shape in expected.items():
        _expect_shape("params[%r]" % name, model.params[name], shape)
        if model.params[name].dtype != np.float32:
            raise CheckFailed("params[%r] has dtype %s, expected the model's dtype float32"
                              % (name, model.params[name].dtype))
    for i in range(1, 4):
        if np.any(model.params["b%d" % i] != 0):
            raise CheckFailed("b%d is not all zeros" % i)
        std = float(np.std(model.params["W%d" % i]))
        if not 0.04 < std < 0.06:
            raise CheckFailed("W%d has standard deviation %.4f, expected weight_scale = 0.05"
                              % (i, std))


def check_fc_loss(step):
    from cs239.classifiers.fc_net import FullyConnectedNet
    rng = np.random.default_rng(234)
    N, D, H1, H2, C = 2, 15, 20, 30, 10
    X = rng.standard_normal((N, D))
    y = rng.integers(C, size=N)
    step("scores shape with y=None")
    model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, weight_scale=5e-2,
                              dtype=np.float64, seed=0)
    _expect_shape("loss(X)", model.loss(X), (N, C))
    step("initial loss of a small-weight network (about log 10)")
    small = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, weight_scale=1e-3,
                              dtype=np.float64, seed=0)
    loss, _ = small.loss(X, y)
    if not abs(float(loss) - np.log(C)) < 0.05:
        raise CheckFailed("initial loss %.4f, expected about log(10) = 2.3026" % loss)
    for reg in [0.0, 3.14]:
        for activation in ["relu", "swish"]:
            step("gradients against finite differences (reg = %g, %s)" % (reg, activation))
            model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=reg,
                                      weight_scale=5e-2, dtype=np.float64, seed=0,
                                      activation=activation)
            loss, grads = model.loss(X, y)
            for name in sorted(model.params):
                num = _num_grad(lambda _: model.loss(X, y)[0], model.params[name])
                if name not in grads:
                    raise CheckFailed("grads has no %r" % name)
                _expect_close("grads[%r]" % name, grads[name], num, 1e-3)


def check_autoencoder_grad(step):
    from cs239.derivations import autoencoder_grad, autoencoder_loss
    rng = np.random.default_rng(235)
    for m, n in [(1, 2), (3, 4), (4, 10)]:
        step("dW against finite differences, W of shape (%d, %d)" % (m, n))
        W, x = rng.standard_normal((m, n)), rng.standard_normal(n)
        num = _num_grad(lambda W: autoencoder_loss(W, x), W)
        _expect_close("dW", autoencoder_grad(W, x), num, 1e-7)


def check_autoencoder_grad_batch(step):
    from cs239.derivations import autoencoder_grad_batch, autoencoder_loss_batch
    rng = np.random.default_rng(236)
    for m, n in [(1, 2), (3, 4), (4, 10)]:
        step("dW against finite differences, W of shape (%d, %d), 7 examples" % (m, n))
        W, X = rng.standard_normal((m, n)), rng.standard_normal((n, 7))
        num = _num_grad(lambda W: autoencoder_loss_batch(W, X), W)
        _expect_close("dW", autoencoder_grad_batch(W, X), num, 1e-7)


GPLVM_ALPHA, GPLVM_BETA = 1.5, 2.0


def _gplvm_cases(seed):
    rng = np.random.default_rng(seed)
    for N, q, D in [(3, 1, 2), (6, 2, 3), (8, 3, 5)]:
        yield N, q, D, rng.standard_normal((N, q)), rng.standard_normal((N, D))


def check_gplvm_logdet_grad(step):
    from cs239.derivations import gplvm_kernel, gplvm_logdet_grad
    a, b = GPLVM_ALPHA, GPLVM_BETA
    for N, q, D, X, Y in _gplvm_cases(237):
        step("dX against finite differences of -D/2 log|K|, N=%d q=%d D=%d" % (N, q, D))
        num = _num_grad(lambda X: -0.5 * D * np.linalg.slogdet(gplvm_kernel(X, a, b))[1], X)
        _expect_close("dX", gplvm_logdet_grad(X, Y, a, b), num, 1e-6)


def check_gplvm_trace_grad(step):
    from cs239.derivations import gplvm_kernel, gplvm_trace_grad
    a, b = GPLVM_ALPHA, GPLVM_BETA
    for N, q, D, X, Y in _gplvm_cases(238):
        step("dX against finite differences of -1/2 tr(K^-1 Y Y^T), N=%d q=%d D=%d" % (N, q, D))
        num = _num_grad(lambda X: -0.5 * np.trace(np.linalg.solve(gplvm_kernel(X, a, b), Y @ Y.T)),
                        X)
        _expect_close("dX", gplvm_trace_grad(X, Y, a, b), num, 1e-6)


def check_gplvm_grad(step):
    from cs239.derivations import gplvm_grad, gplvm_loss
    a, b = GPLVM_ALPHA, GPLVM_BETA
    for N, q, D, X, Y in _gplvm_cases(239):
        step("dX against finite differences of the log likelihood, N=%d q=%d D=%d" % (N, q, D))
        num = _num_grad(lambda X: gplvm_loss(X, Y, a, b), X)
        _expect_close("dX", gplvm_grad(X, Y, a, b), num, 1e-6)


def check_swish_forward(step):
    from cs239.layers import swish_forward
    step("values at -1000, -1, 0, 1, 1000 without overflow")
    z = np.array([-1000.0, -1.0, 0.0, 1.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out, _ = swish_forward(z)
    expected = [0.0, -1 / (1 + np.e), 0.0, 1 / (1 + np.exp(-1.0)), 1000.0]
    _expect_close("out", out, expected, 1e-7)


def check_swish_backward(step):
    from cs239.layers import swish_backward, swish_forward
    rng = np.random.default_rng(240)
    x = 3 * rng.standard_normal((4, 5))
    dout = rng.standard_normal(x.shape)
    step("dx against finite differences of swish_forward")
    num = _num_grad_array(lambda x: swish_forward(x)[0], x, dout)
    _, cache = swish_forward(x)
    _expect_close("dx", swish_backward(dout, cache), num, 1e-7)


CHECKS = {
    "TwoLayerNet.loss": check_two_layer_loss,
    "TwoLayerNet.train": check_two_layer_train,
    "TwoLayerNet.predict": check_two_layer_predict,
    "affine_forward": check_affine_forward,
    "affine_backward": check_affine_backward,
    "relu_forward": check_relu_forward,
    "relu_backward": check_relu_backward,
    "softmax_loss": check_softmax_loss,
    "svm_loss": check_svm_loss,
    "FullyConnectedNet.__init__": check_fc_init,
    "FullyConnectedNet.loss": check_fc_loss,
    "sgd_momentum": check_sgd_momentum,
    "rmsprop": check_rmsprop,
    "adam": check_adam,
    "autoencoder_grad": check_autoencoder_grad,
    "autoencoder_grad_batch": check_autoencoder_grad_batch,
    "gplvm_logdet_grad": check_gplvm_logdet_grad,
    "gplvm_trace_grad": check_gplvm_trace_grad,
    "gplvm_grad": check_gplvm_grad,
    "swish_forward": check_swish_forward,
    "swish_backward": check_swish_backward,
}


# ------------------------------------------------------------------------------------------------
# Running one check (child process) and all of them (parent)
# ------------------------------------------------------------------------------------------------

def _where(tb):
    """'cs239/layers.py:42' for the innermost frame in the student's package, else ''."""
    found = ""
    for frame in traceback.extract_tb(tb):
        path = Path(frame.filename).resolve()
        if path.parent in (PACKAGE_DIR, PACKAGE_DIR / "classifiers") and path.name != "check.py":
            found = "%s:%d" % (path.relative_to(PACKAGE_DIR.parent).as_posix(), frame.lineno)
    return found


def _still_a_stub(name):
    """Whether the graded function's source still holds its release stub."""
    import importlib
    import inspect
    module = dict(FUNCTIONS)[name][:-3].replace("/", ".")
    try:
        obj = importlib.import_module(module)
        for part in name.split("."):
            obj = getattr(obj, part)
        return ("%s in %s is not implemented yet" % (name, dict(FUNCTIONS)[name])) in \
            " ".join(inspect.getsource(obj).replace('"\n', "").split())
    except Exception:                            # cannot tell: report what the check saw
        return False


def run_one(name):
    """Run the checks of one function in this process; return a result dict."""
    steps = []
    try:
        CHECKS[name](steps.append)
    except CheckFailed as e:
        return {"status": "fails", "detail": "%s" % e, "step": steps[-1] if steps else ""}
    except NotImplementedError as e:
        msg = str(e)
        here = dict(FUNCTIONS)[name]
        own = msg.startswith(name + " in ") or (not msg and
                                                 _where(e.__traceback__).startswith(here))
        if own and len(steps) <= 1:
            return {"status": "not started", "detail": msg, "step": ""}
        if own:
            return {"status": "fails", "step": steps[-1],
                    "detail": "part of it is not implemented yet (%s)" % _where(e.__traceback__)}
        other = msg.split(" in ", 1)[0] if " is not implemented yet" in msg else "a function"
        if _still_a_stub(name):                 # its own stub is untouched too
            return {"status": "not started", "detail": "also needs %s" % other, "step": ""}
        return {"status": "fails", "step": steps[-1] if steps else "",
                "detail": "needs %s, which is not implemented yet" % other}
    except Exception as e:                                  # the student's code raised
        where = _where(e.__traceback__)
        text = "%s: %s" % (type(e).__name__, str(e).strip().splitlines()[0][:160]
                           if str(e).strip() else "")
        return {"status": "fails", "step": steps[-1] if steps else "",
                "detail": text.rstrip(": ") + (" (at %s)" % where if where else "")}
    return {"status": "passes public checks", "detail": "", "step": ""}


def _child(name):
    import warnings
    warnings.simplefilter("ignore")
    result = run_one(name)
    sys.stdout.flush()
    print("\n" + RESULT_TAG + json.dumps(result), flush=True)
    return 0


def check_function(name, timeout):
    """Run one function's checks in a fresh process (same interpreter, same folder)."""
    cmd = [sys.executable, "-m", "cs239.check", "--child", name]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                              cwd=str(PACKAGE_DIR.parent))
    except subprocess.TimeoutExpired:
        return {"status": "fails", "step": "",
                "detail": "timed out after %g s (an endless loop, or very slow code?)" % timeout}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG):])
    last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"status": "fails", "step": "",
            "detail": "the check process died (exit code %s): %s" % (proc.returncode, last[:160])}


def describe(result):
    if result["status"] == "fails":
        return "fails: " + (result["step"] + ": " if result.get("step") else "") + result["detail"]
    return result["status"]


# ------------------------------------------------------------------------------------------------
# Notebooks
# ------------------------------------------------------------------------------------------------

def _cells(nb):
    return nb.get("cells", [])


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def notebook_report(path):
    """Static checks of a saved notebook: list of (ok, text)."""
    findings = []
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return [(False, "cannot be read: %s" % e)]
    code = [(i, c) for i, c in enumerate(_cells(nb))
            if c.get("cell_type") == "code" and _source(c).strip()]
    counts = [c.get("execution_count") for _, c in code]
    run = [n for n in counts if n is not None]
    if not run:
        findings.append((False, "not run (no cell has been executed; run all cells and save)"))
    elif len(run) < len(counts):
        first = next(i for (i, c), n in zip(code, counts) if n is None)
        findings.append((False, "partly run: %d of %d code cells (cell %d onwards not run?)"
                         % (len(run), len(counts), first)))
    elif run != sorted(run) or len(set(run)) != len(run):
        findings.append((False, "cells were run out of order: restart the kernel and run all"))
    else:
        findings.append((True, "run top to bottom (%d code cells)" % len(run)))
    errors = [(i, o) for i, c in code for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    if errors:
        i, o = errors[0]
        findings.append((False, "%d cell(s) raised an error, first cell %d: %s: %s"
                         % (len(errors), i, o.get("ename", "?"), o.get("evalue", "")[:120])))
    todo = [i for i, c in enumerate(_cells(nb))
            if (c.get("metadata", {}).get("nbgrader") or {}).get("solution")
            and ("YOUR CODE HERE" in _source(c) and "raise NotImplementedError()" in _source(c)
                 or "YOUR ANSWER HERE" in _source(c))]
    if todo:
        findings.append((False, "%d answer cell(s) not filled in yet (cells %s)"
                         % (len(todo), ", ".join(map(str, todo[:8])))))
    tests = [(i, c) for i, c in code if (c.get("metadata", {}).get("nbgrader") or {}).get("grade")]
    if tests and run:
        failed = [i for i, c in tests
                  if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
        if failed:
            findings.append((False, "%d of %d test cells failed when last run (cells %s)"
                             % (len(failed), len(tests), ", ".join(map(str, failed[:8])))))
        else:
            findings.append((True, "test cells passed when last run (%d)" % len(tests)))
    model = SAVED_MODELS.get(path.name)
    if model:
        findings.append(saved_model_report(path.parent / model))
    return findings


def saved_model_report(path):
    if not path.is_file():
        return (False, "%s missing (run the cell that saves the best model)" % path.name)
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = sorted(data.files)
            weights = [k for k in keys if k.startswith("W")]
            ok = weights and all(np.all(np.isfinite(data[k])) for k in weights)
    except Exception as e:                                 # a damaged or foreign file
        return (False, "%s cannot be loaded: %s" % (path.name, e))
    if not ok:
        return (False, "%s has no finite weights (keys: %s)" % (path.name, ", ".join(keys)))
    return (True, "%s saved (%s)" % (path.name, ", ".join(keys)))


_VALIDATE = r"""
import json, sys
from nbgrader.validator import Validator
from traitlets.config import Config
c = Config()
c.Execute.timeout = int(sys.argv[2])
results = Validator(config=c).validate(sys.argv[1])
print("@@validate@@" + json.dumps({k: len(v) for k, v in results.items()}))
for cell in results.get("failed", [])[:1]:
    print("@@first@@" + json.dumps(cell.get("raw_error", "")[-600:]))
"""


def validate_notebook(path, timeout):
    """Run nbgrader's validator on a copy of the notebook's folder (so nothing is overwritten)."""
    try:
        import nbgrader  # noqa: F401
    except ImportError:
        return (None, "nbgrader validate skipped: nbgrader is not installed (pip install nbgrader)")
    env = dict(os.environ, MPLBACKEND="Agg",
               PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    data = path.parent / "datasets" / "cifar-10-batches-py"
    if "CS239_CIFAR10_DIR" not in env and data.is_dir():
        env["CS239_CIFAR10_DIR"] = str(data.resolve())
    with tempfile.TemporaryDirectory(prefix="cs239-validate-") as tmp:
        work = Path(tmp)
        shutil.copytree(PACKAGE_DIR, work / "cs239",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        shutil.copy(path, work / path.name)
        start = time.time()
        try:
            proc = subprocess.run([sys.executable, "-c", _VALIDATE, str(work / path.name),
                                   str(int(timeout))], capture_output=True, text=True,
                                  timeout=timeout, cwd=tmp, env=env)
        except subprocess.TimeoutExpired:
            return (None, "nbgrader validate stopped after %d s (the notebook takes longer; "
                          "`--validate-timeout` gives it more time)" % timeout)
    lines = proc.stdout.splitlines()
    summary = [json.loads(l[12:]) for l in lines if l.startswith("@@validate@@")]
    first = [json.loads(l[9:]) for l in lines if l.startswith("@@first@@")]
    if not summary:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return (False, "nbgrader validate could not run: %s" % last[:200])
    s = summary[0]
    took = time.time() - start
    if s.get("type_changed"):
        return (False, "nbgrader validate: %d cell(s) changed type (e.g. code to markdown); "
                       "change them back" % s["type_changed"])
    if s.get("changed"):
        return (False, "nbgrader validate: %d read-only cell(s) were edited; restore them from "
                       "the original notebook" % s["changed"])
    if s.get("failed"):
        text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", first[0]).strip() if first else ""
        err = text.splitlines()[-1].rstrip(":") if text else ""
        return (False, "nbgrader validate: %d test cell(s) fail when run from a fresh kernel%s"
                % (s["failed"], (", first: " + err[:160]) if err else ""))
    return (True, "nbgrader validate: passes (fresh kernel, %.0f s)" % took)


# ------------------------------------------------------------------------------------------------

def _table(rows, headers):
    width = max(len(headers[0]), *(len(r[0]) for r in rows)) if rows else len(headers[0])
    out = ["%-*s  %s" % (width, headers[0], headers[1]), "%s  %s" % ("-" * width, "-" * 40)]
    for name, status in rows:
        wrapped = textwrap.wrap(status, width=max(40, 100 - width)) or [""]
        out.append("%-*s  %s" % (width, name, wrapped[0]))
        out.extend("%s  %s" % (" " * width, more) for more in wrapped[1:])
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m cs239.check",
                                 description="Public self-check of Homework 3 (a report: exit "
                                             "code 0 whatever the results).")
    ap.add_argument("functions", nargs="*", metavar="FUNCTION",
                    help="only these graded functions (default: all)")
    ap.add_argument("--timeout", type=float, default=60,
                    help="seconds allowed for each function's checks (default 60)")
    ap.add_argument("--no-notebooks", action="store_true", help="skip the notebook checks")
    ap.add_argument("--no-functions", action="store_true",
                    help="skip the function checks (only look at the notebooks)")
    ap.add_argument("--no-validate", action="store_true",
                    help="skip `nbgrader validate` (which re-runs every notebook)")
    ap.add_argument("--validate-timeout", type=float, default=900,
                    help="seconds allowed for `nbgrader validate` of one notebook (default 900)")
    ap.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1))
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return _child(args.child)

    unknown = [f for f in args.functions if f not in CHECKS]
    if unknown:
        print("cs239.check: unknown function(s): %s\nknown: %s"
              % (", ".join(unknown), ", ".join(CHECKS)), file=sys.stderr)
        return 2
    names = [] if args.no_functions else (args.functions or list(CHECKS))
    folder = Path.cwd()
    print("Checking %s (public checks only; the graders run further tests)\n" % PACKAGE_DIR)
    if PACKAGE_DIR.parent != folder.resolve():
        print("note: this is not the cs239 folder inside %s; run the command from your homework "
              "folder\n" % folder)
    results = {}
    if names:
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            results = dict(zip(names, pool.map(lambda n: check_function(n, args.timeout),
                                               names)))
        rows = [(n, describe(results[n])) for n in names]
        print(_table(rows, ("function", "status")))
        counts = {s: sum(1 for r in results.values() if r["status"] == s)
                  for s in ("passes public checks", "fails", "not started")}
        print("\n%d of %d pass the public checks, %d fail, %d not started."
              % (counts["passes public checks"], len(names), counts["fails"],
                 counts["not started"]))

    report = {"functions": results, "notebooks": {}}
    if not args.no_notebooks and not args.functions:
        findings, to_validate = {}, []
        for name in NOTEBOOKS:
            path = folder / name
            if not path.is_file():
                findings[name] = [(False, "missing from %s" % folder)]
                continue
            findings[name] = notebook_report(path)
            if args.no_validate:
                continue
            if findings[name][0][0]:
                to_validate.append(name)
            else:
                findings[name].append((None, "nbgrader validate skipped: run the notebook first"))
        if to_validate:
            print("\nRunning nbgrader validate on %s (each notebook re-runs in a fresh kernel; "
                  "--no-validate skips this) ..." % ", ".join(to_validate), flush=True)
            with ThreadPoolExecutor(max_workers=max(1, min(args.jobs, 2))) as pool:
                done = pool.map(lambda n: validate_notebook(folder / n, args.validate_timeout),
                                to_validate)
                for name, result in zip(to_validate, done):
                    findings[name].append(result)
        print()
        for name in NOTEBOOKS:
            report["notebooks"][name] = [{"ok": ok, "text": t} for ok, t in findings[name]]
            print(name)
            for ok, t in [(f["ok"], f["text"]) for f in report["notebooks"][name]]:
                print("  %-4s %s" % ({True: "ok", False: "TODO", None: "--"}[ok], t))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    print("\nWhen everything is done: python -m cs239.submit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
