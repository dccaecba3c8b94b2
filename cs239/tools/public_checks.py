"""The public checks: one function per graded function, read like a test file.

`python -m cs239.tools.check` runs each check_<...> function below in its own process (see the
`check` field of each function in cs239/tools/manifest.py). They use small deterministic inputs,
agreement with centered finite differences, and the CS231n-style expected values the notebooks
print. Passing them is a good sign, not a grade: the graders run further tests.
"""
import numpy as np

from cs239.tools.expect import (CheckFailed, expect_close, expect_shape, expect_unchanged,
                                num_grad, num_grad_array, step)

# Every bound the checks below assert, in one place. The notebooks print the same bounds
# ("relative error: 3.1e-10 (should be < 1e-07)"): take them from here.
BOUNDS = {
    # relative errors against the expected values the notebooks print (float64)
    "affine_forward": 1e-7,
    "relu_forward": 1e-7,
    "sgd_momentum": 1e-7,
    "rmsprop": 1e-7,
    "adam": 1e-7,
    "swish_forward": 1e-7,
    "softmax_loss large scores": 1e-7,
    "TwoLayerNet scores": 1e-7,
    "TwoLayerNet loss": 1e-9,
    # relative errors against centered finite differences (h = 1e-5, float64)
    "affine_backward": 1e-7,
    "relu_backward": 1e-7,
    "swish_backward": 1e-7,
    "loss dx": 1e-6,
    "TwoLayerNet gradients": 1e-7,
    "FullyConnectedNet gradients": 1e-3,
    "autoencoder_grad": 1e-7,
    "autoencoder_grad_batch": 1e-7,
    "gplvm": 1e-6,
    # absolute differences
    "svm_loss value": 0.05,                   # from 9.0 for tiny random scores, 10 classes
    "softmax_loss value": 0.01,               # from log(10)
    "FullyConnectedNet initial loss": 0.05,   # from log(10) with small weights
    "FullyConnectedNet.__init__ weight std": 0.01,   # from weight_scale = 0.05
    "TwoLayerNet.train final loss": 0.05,     # an upper bound after 100 iterations on the toy net
}

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

def check_affine_forward():
    from cs239.layers import affine_forward
    step("output on the notebook's linspace input")
    x = np.linspace(-0.1, 0.5, num=240).reshape(2, 4, 5, 6)
    w = np.linspace(-0.2, 0.3, num=360).reshape(120, 3)
    b = np.linspace(-0.3, 0.1, num=3)
    x0 = x.copy()
    out, _ = affine_forward(x, w, b)
    expect_close("out", out, AFFINE_OUT, BOUNDS["affine_forward"])
    expect_unchanged("x", x0, x)


def check_affine_backward():
    from cs239.layers import affine_backward, affine_forward
    rng = np.random.default_rng(231)
    x = rng.standard_normal((10, 2, 3))
    w = rng.standard_normal((6, 5))
    b = rng.standard_normal(5)
    dout = rng.standard_normal((10, 5))
    step("dx, dw, db against finite differences of affine_forward")
    dx_num = num_grad_array(lambda x: affine_forward(x, w, b)[0], x, dout)
    dw_num = num_grad_array(lambda w: affine_forward(x, w, b)[0], w, dout)
    db_num = num_grad_array(lambda b: affine_forward(x, w, b)[0], b, dout)
    _, cache = affine_forward(x, w, b)
    dx, dw, db = affine_backward(dout, cache)
    expect_shape("dx", dx, x.shape)
    expect_close("dx", dx, dx_num, BOUNDS["affine_backward"])
    expect_close("dw", dw, dw_num, BOUNDS["affine_backward"])
    expect_close("db", db, db_num, BOUNDS["affine_backward"])


def check_relu_forward():
    from cs239.layers import relu_forward
    step("output on the notebook's linspace input")
    x = np.linspace(-0.5, 0.5, num=12).reshape(3, 4)
    x0 = x.copy()
    out, _ = relu_forward(x)
    expect_close("out", out, RELU_OUT, BOUNDS["relu_forward"])
    expect_unchanged("x", x0, x)


def check_relu_backward():
    from cs239.layers import relu_backward, relu_forward
    rng = np.random.default_rng(232)
    x = rng.standard_normal((10, 10))
    x[np.abs(x) < 1e-3] = 0.5                 # finite differences are wrong right at the kink
    dout = rng.standard_normal(x.shape)
    step("dx against finite differences of relu_forward")
    dx_num = num_grad_array(lambda x: relu_forward(x)[0], x, dout)
    _, cache = relu_forward(x)
    dx = relu_backward(dout, cache)
    expect_close("dx", dx, dx_num, BOUNDS["relu_backward"])


def _check_loss(loss_fn, name, expected, bound):
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
    dx_num = num_grad(lambda x: loss_fn(x, y)[0], x)
    expect_close("dx", dx, dx_num, BOUNDS["loss dx"])


def check_svm_loss():
    from cs239.layers import svm_loss
    _check_loss(svm_loss, "svm_loss", 9.0, BOUNDS["svm_loss value"])


def check_softmax_loss():
    from cs239.layers import softmax_loss
    _check_loss(softmax_loss, "softmax_loss", float(np.log(10)), BOUNDS["softmax_loss value"])
    step("no overflow with scores of 1000 and more")
    x = np.array([[1000.0, 0.0, -1000.0], [2000.0, 2000.0, 0.0]])
    with np.errstate(over="raise", invalid="raise"):
        loss, dx = softmax_loss(x, np.array([0, 1]))
    if not (np.isfinite(loss) and np.all(np.isfinite(dx))):
        raise CheckFailed("loss or dx not finite for large scores (shift each row by its max)")
    expect_close("loss for large scores", loss, np.log(2) / 2, BOUNDS["softmax_loss large scores"])


def check_sgd_momentum():
    from cs239.optim import sgd_momentum
    step("next_w and velocity on the notebook's linspace input")
    w, dw = _linspace_update_inputs()
    v = np.linspace(0.6, 0.9, num=20).reshape(4, 5)
    next_w, config = sgd_momentum(w, dw, {"learning_rate": 1e-3, "velocity": v})
    expect_close("next_w", next_w, MOMENTUM_NEXT_W, BOUNDS["sgd_momentum"])
    expect_close("config['velocity']", config.get("velocity"), MOMENTUM_VELOCITY,
                 BOUNDS["sgd_momentum"])


def check_rmsprop():
    from cs239.optim import rmsprop
    step("next_w and cache on the notebook's linspace input")
    w, dw = _linspace_update_inputs()
    cache = np.linspace(0.6, 0.9, num=20).reshape(4, 5)
    next_w, config = rmsprop(w, dw, {"learning_rate": 1e-2, "cache": cache})
    expect_close("next_w", next_w, RMSPROP_NEXT_W, BOUNDS["rmsprop"])
    expect_close("config['cache']", config.get("cache"), RMSPROP_CACHE, BOUNDS["rmsprop"])


def check_adam():
    from cs239.optim import adam
    step("next_w, m, v and t on the notebook's linspace input (t = 5)")
    w, dw = _linspace_update_inputs()
    m = np.linspace(0.6, 0.9, num=20).reshape(4, 5)
    v = np.linspace(0.7, 0.5, num=20).reshape(4, 5)
    next_w, config = adam(w, dw, {"learning_rate": 1e-2, "m": m, "v": v, "t": 5})
    expect_close("next_w", next_w, ADAM_NEXT_W, BOUNDS["adam"])
    expect_close("config['v']", config.get("v"), ADAM_V, BOUNDS["adam"])
    expect_close("config['m']", config.get("m"), ADAM_M, BOUNDS["adam"])
    if config.get("t") != 6:
        raise CheckFailed("config['t']: %r, expected 6 (increment t before using it)"
                          % config.get("t"))


def check_two_layer_loss():
    net, X, y = _toy_net()
    step("scores of the toy network")
    scores = net.loss(X)
    expect_close("scores", scores, TOY_SCORES, BOUNDS["TwoLayerNet scores"])
    step("loss of the toy network (reg = 0.05)")
    loss, grads = net.loss(X, y, reg=0.05)
    expect_close("loss", loss, TOY_LOSS, BOUNDS["TwoLayerNet loss"])
    step("gradients against finite differences (reg = 0.05)")
    for name in ["W1", "b1", "W2", "b2"]:
        num = num_grad(lambda _: net.loss(X, y, reg=0.05)[0], net.params[name])
        if name not in grads:
            raise CheckFailed("grads has no %r" % name)
        expect_close("grads[%r]" % name, grads[name], num, BOUNDS["TwoLayerNet gradients"])


def check_two_layer_train():
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
    bound = BOUNDS["TwoLayerNet.train final loss"]
    if not final < bound:
        raise CheckFailed("final training loss %.4f (should be < %g: the toy problem is "
                          "easy; are the parameters updated?)" % (final, bound))


def check_two_layer_predict():
    net, X, y = _toy_net()
    step("predict agrees with the argmax of the scores")
    pred = net.predict(X)
    expect_shape("predict(X)", pred, (5,))
    expected = np.argmax(net.loss(X), axis=1)
    if not np.array_equal(np.asarray(pred), expected):
        raise CheckFailed("predict(X) = %s, but the highest scores are in columns %s"
                          % (np.asarray(pred).tolist(), expected.tolist()))


def check_fc_init():
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
        expect_shape("params[%r]" % name, model.params[name], shape)
        if model.params[name].dtype != np.float32:
            raise CheckFailed("params[%r] has dtype %s, expected the model's dtype float32"
                              % (name, model.params[name].dtype))
    for i in range(1, 4):
        if np.any(model.params["b%d" % i] != 0):
            raise CheckFailed("b%d is not all zeros" % i)
        std = float(np.std(model.params["W%d" % i]))
        if not abs(std - 0.05) < BOUNDS["FullyConnectedNet.__init__ weight std"]:
            raise CheckFailed("W%d has standard deviation %.4f, expected weight_scale = 0.05"
                              % (i, std))


def check_fc_loss():
    from cs239.classifiers.fc_net import FullyConnectedNet
    rng = np.random.default_rng(234)
    N, D, H1, H2, C = 2, 15, 20, 30, 10
    X = rng.standard_normal((N, D))
    y = rng.integers(C, size=N)
    step("scores shape with y=None")
    model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, weight_scale=5e-2,
                              dtype=np.float64, seed=0)
    expect_shape("loss(X)", model.loss(X), (N, C))
    step("initial loss of a small-weight network (about log 10)")
    small = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, weight_scale=1e-3,
                              dtype=np.float64, seed=0)
    loss, _ = small.loss(X, y)
    if not abs(float(loss) - np.log(C)) < BOUNDS["FullyConnectedNet initial loss"]:
        raise CheckFailed("initial loss %.4f, expected about log(10) = 2.3026 (within %g)"
                          % (loss, BOUNDS["FullyConnectedNet initial loss"]))
    for reg in [0.0, 3.14]:
        for activation in ["relu", "swish"]:
            step("gradients against finite differences (reg = %g, %s)" % (reg, activation))
            model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=reg,
                                      weight_scale=5e-2, dtype=np.float64, seed=0,
                                      activation=activation)
            loss, grads = model.loss(X, y)
            for name in sorted(model.params):
                num = num_grad(lambda _: model.loss(X, y)[0], model.params[name])
                if name not in grads:
                    raise CheckFailed("grads has no %r" % name)
                expect_close("grads[%r]" % name, grads[name], num,
                             BOUNDS["FullyConnectedNet gradients"])


def check_autoencoder_grad():
    from cs239.derivations import autoencoder_grad, autoencoder_loss
    rng = np.random.default_rng(235)
    for m, n in [(1, 2), (3, 4), (4, 10)]:
        step("dW against finite differences, W of shape (%d, %d)" % (m, n))
        W, x = rng.standard_normal((m, n)), rng.standard_normal(n)
        num = num_grad(lambda W: autoencoder_loss(W, x), W)
        expect_close("dW", autoencoder_grad(W, x), num, BOUNDS["autoencoder_grad"])


def check_autoencoder_grad_batch():
    from cs239.derivations import autoencoder_grad_batch, autoencoder_loss_batch
    rng = np.random.default_rng(236)
    for m, n in [(1, 2), (3, 4), (4, 10)]:
        step("dW against finite differences, W of shape (%d, %d), 7 examples" % (m, n))
        W, X = rng.standard_normal((m, n)), rng.standard_normal((n, 7))
        num = num_grad(lambda W: autoencoder_loss_batch(W, X), W)
        expect_close("dW", autoencoder_grad_batch(W, X), num, BOUNDS["autoencoder_grad_batch"])


GPLVM_ALPHA, GPLVM_BETA = 1.5, 2.0


def _gplvm_cases(seed):
    rng = np.random.default_rng(seed)
    for N, q, D in [(3, 1, 2), (6, 2, 3), (8, 3, 5)]:
        yield N, q, D, rng.standard_normal((N, q)), rng.standard_normal((N, D))


def check_gplvm_logdet_grad():
    from cs239.derivations import gplvm_kernel, gplvm_logdet_grad
    a, b = GPLVM_ALPHA, GPLVM_BETA
    for N, q, D, X, Y in _gplvm_cases(237):
        step("dX against finite differences of -D/2 log|K|, N=%d q=%d D=%d" % (N, q, D))
        num = num_grad(lambda X: -0.5 * D * np.linalg.slogdet(gplvm_kernel(X, a, b))[1], X)
        expect_close("dX", gplvm_logdet_grad(X, Y, a, b), num, BOUNDS["gplvm"])


def check_gplvm_trace_grad():
    from cs239.derivations import gplvm_kernel, gplvm_trace_grad
    a, b = GPLVM_ALPHA, GPLVM_BETA
    for N, q, D, X, Y in _gplvm_cases(238):
        step("dX against finite differences of -1/2 tr(K^-1 Y Y^T), N=%d q=%d D=%d" % (N, q, D))
        num = num_grad(lambda X: -0.5 * np.trace(np.linalg.solve(gplvm_kernel(X, a, b), Y @ Y.T)),
                        X)
        expect_close("dX", gplvm_trace_grad(X, Y, a, b), num, BOUNDS["gplvm"])


def check_gplvm_grad():
    from cs239.derivations import gplvm_grad, gplvm_loss
    a, b = GPLVM_ALPHA, GPLVM_BETA
    for N, q, D, X, Y in _gplvm_cases(239):
        step("dX against finite differences of the log likelihood, N=%d q=%d D=%d" % (N, q, D))
        num = num_grad(lambda X: gplvm_loss(X, Y, a, b), X)
        expect_close("dX", gplvm_grad(X, Y, a, b), num, BOUNDS["gplvm"])


def check_swish_forward():
    from cs239.layers import swish_forward
    step("values at -1000, -1, 0, 1, 1000 without overflow")
    z = np.array([-1000.0, -1.0, 0.0, 1.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out, _ = swish_forward(z)
    expected = [0.0, -1 / (1 + np.e), 0.0, 1 / (1 + np.exp(-1.0)), 1000.0]
    expect_close("out", out, expected, BOUNDS["swish_forward"])


def check_swish_backward():
    from cs239.layers import swish_backward, swish_forward
    rng = np.random.default_rng(240)
    x = 3 * rng.standard_normal((4, 5))
    dout = rng.standard_normal(x.shape)
    step("dx against finite differences of swish_forward")
    num = num_grad_array(lambda x: swish_forward(x)[0], x, dout)
    _, cache = swish_forward(x)
    expect_close("dx", swish_backward(dout, cache), num, BOUNDS["swish_backward"])

