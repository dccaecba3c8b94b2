"""The public checks: one function per graded function, read like a test file.

`python -m cs239.tools.check` runs each check_<...> function below in its own process (see the
`check` field of each function in cs239/tools/manifest.py). They use small deterministic inputs,
agreement with centered finite differences, and the CS231n-style expected values the notebooks
print. Passing them is a good sign, not a grade: the graders run further tests.
"""
import numpy as np

from cs239.tools.expect import (CheckFailed, expect_close, expect_difference, expect_shape,
                                expect_unchanged, num_grad, num_grad_array, step)

# Every bound of the public checks, in one place: the notebooks import this dictionary and
# print and assert these same entries ("relative error: 3.1e-10 (should be < 1e-08)"), and the
# checks below assert them on the notebooks' own inputs, so the three cannot disagree
# (tests/test_bounds.py checks it).
BOUNDS = {
    # TwoLayerNet.ipynb (float64 toy network)
    "TwoLayerNet scores": 1e-7,              # sum of absolute differences from the expected
    "TwoLayerNet loss": 1e-10,               # absolute difference from the expected loss
    "TwoLayerNet regularization": 1e-10,     # loss(reg) - loss(0) against 0.5 reg sum(W**2)
    "TwoLayerNet gradients": 1e-7,           # relative error against finite differences
    "TwoLayerNet toy training loss": 0.02,   # final loss after 100 iterations on the toy data
    # FullyConnectedNets.ipynb: relative errors against expected values (float64) ...
    "affine_forward": 1e-7,
    "relu_forward": 1e-7,
    "swish_forward": 1e-7,
    "sgd_momentum": 1e-7,
    "rmsprop": 1e-6,
    "adam": 1e-6,
    # ... and against centered finite differences (h = 1e-5, float64)
    "affine_backward": 1e-8,
    "relu_backward": 1e-8,
    "swish_backward": 1e-7,
    "affine_relu sandwich": 1e-8,
    "svm_loss dx": 1e-8,
    "softmax_loss dx": 1e-7,
    "FullyConnectedNet gradients": 1e-6,             # the two-layer network
    # deeper, reg 0: entries of W2's gradient near 0 make the elementwise relative error noisy
    # (the reference gets 2e-5, a correct logsumexp softmax 2e-4; real bugs give 1e-2 to 1)
    "FullyConnectedNet multilayer gradients": 1e-3,
    # absolute differences from the expected values
    "svm_loss value": 1e-9,
    "softmax_loss value": 1e-9,
    "softmax_loss large scores": 1e-7,       # relative, scores of 1000 and more (self-check)
    "FullyConnectedNet scores": 1e-6,        # sum of absolute differences
    "FullyConnectedNet loss": 1e-10,
    "FullyConnectedNet.__init__ weight std": 0.1,    # relative to weight_scale
    # Backprop.ipynb: relative errors against finite differences (h = 1e-5, float64)
    "autoencoder_grad": 1e-7,
    "autoencoder_grad_batch": 1e-7,
    "gplvm": 1e-6,
    # ... and between a function and the sum or mean of its parts
    "autoencoder_grad_batch vs mean": 1e-12,
    "gplvm_grad vs sum": 1e-12,
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
TOY_LOSS = 1.284822471724   # reg = 0.05
SVM_LOSS, SOFTMAX_LOSS = 8.999602749096, 2.302545844501   # the notebook's random scores
FC_LOSS, FC_LOSS_REG = 3.470224355595, 26.594842695239     # the two-layer FC net, reg 0 and 1
FC_SCORES = [[11.53165108, 12.2917344, 13.05181771, 13.81190102, 14.57198434, 15.33206765,
              16.09215096],
             [12.05769098, 12.74614105, 13.43459113, 14.1230412, 14.81149128, 15.49994135,
              16.18839143],
             [12.58373087, 13.20054771, 13.81736455, 14.43418138, 15.05099822, 15.66781506,
              16.2846319]]


def _linspace_update_inputs():
    N, D = 4, 5
    w = np.linspace(-0.4, 0.6, num=N * D).reshape(N, D)
    dw = np.linspace(-0.6, 0.4, num=N * D).reshape(N, D)
    return w, dw


def _reg_mistakes(loss0, reg, params):
    """Known wrong regularization terms, as (description, wrong total loss)."""
    sq = {k: float(np.sum(np.asarray(v, dtype=np.float64) ** 2)) for k, v in params.items()}
    weights = sum(v for k, v in sq.items() if k.startswith("W"))
    return [("the regularization term is missing", loss0),
            ("the regularization term lacks the factor 0.5 (use 0.5 * reg * sum(W**2))",
             loss0 + reg * weights),
            ("the biases are regularized too (only the weight matrices are)",
             loss0 + 0.5 * reg * sum(sq.values()))] + [
        ("%s is not regularized (add 0.5 * reg * sum(W**2) for every weight matrix)" % k,
         loss0 + 0.5 * reg * (weights - v)) for k, v in sorted(sq.items()) if k.startswith("W")]


def _expect_grad(name, grad, num, bound, reg, param, N):
    """grads[name] against its finite differences, naming the likely mistake."""
    if np.all(np.asarray(num) == 0) and np.any(np.asarray(grad, dtype=np.float64) != 0):
        raise CheckFailed("grads[%r] is not zero, but the loss does not change with %s at all: "
                          "is %s used in the forward pass?" % (name, name, name))
    expect_close("grads[%r]" % name, grad, num, bound,
                 mistakes=_grad_mistakes(name, num, reg, param, N))


def _grad_mistakes(name, num, reg, param, N):
    """Known wrong gradients of a parameter, as (description, wrong gradient)."""
    num, param = np.asarray(num, dtype=np.float64), np.asarray(param, dtype=np.float64)
    if name.startswith("b"):
        return [("the bias %s is regularized (biases get no reg term)" % name, num + reg * param),
                ("the gradient is not divided by N (the loss is an average)", N * num)]
    return [("the gradient of the regularization term, reg * %s, is missing" % name,
             num - reg * param),
            ("the data gradient is not divided by N (the loss is an average)",
             N * (num - reg * param) + reg * param)]


def _toy_data():
    np.random.seed(1)
    X = 10 * np.random.randn(5, 4)
    y = np.array([0, 1, 2, 2, 1])
    return X, y


def _toy_net(biases=False):
    """The toy network of TwoLayerNet.ipynb (float64); biases=True gives it non-zero biases, so
    that a regularized bias changes the loss and the gradients."""
    from cs239.classifiers.neural_net import TwoLayerNet
    np.random.seed(0)
    net = TwoLayerNet(4, 10, 3, std=1e-1, dtype=np.float64)
    if biases:
        net.params["b1"] = np.linspace(-0.5, 0.5, num=10)
        net.params["b2"] = np.linspace(-0.3, 0.3, num=3)
    return net


# ------------------------------------------------------------------------------------------------
# The checks: one function per graded function; each raises CheckFailed (or whatever the
# student's code raises). `step(name)` records which check is running, for the report.
# They run the notebooks' own inputs with the notebooks' own bounds, plus the cases a notebook
# cannot show well (a zero input to ReLU, non-zero biases, large inputs, defaults).
# ------------------------------------------------------------------------------------------------

def check_affine_forward():
    from cs239.layers import affine_forward
    step("output on the notebook's linspace input")
    x = np.linspace(-0.1, 0.5, num=240).reshape(2, 4, 5, 6)
    w = np.linspace(-0.2, 0.3, num=360).reshape(120, 3)
    b = np.linspace(-0.3, 0.1, num=3)
    x0 = x.copy()
    out, _ = affine_forward(x, w, b)
    expect_shape("out", out, (2, 3))
    expect_close("out", out, AFFINE_OUT, BOUNDS["affine_forward"], mistakes=[
        ("the bias b is not added", np.asarray(AFFINE_OUT) - b)])
    expect_unchanged("x", x0, x)


def check_affine_backward():
    from cs239.layers import affine_backward, affine_forward
    rs = np.random.RandomState(231)
    x, w, b, dout = rs.randn(10, 2, 3), rs.randn(6, 5), rs.randn(5), rs.randn(10, 5)
    step("dx, dw, db against finite differences of affine_forward (the notebook's input)")
    dx_num = num_grad_array(lambda x: affine_forward(x, w, b)[0], x, dout)
    dw_num = num_grad_array(lambda w: affine_forward(x, w, b)[0], w, dout)
    db_num = num_grad_array(lambda b: affine_forward(x, w, b)[0], b, dout)
    _, cache = affine_forward(x, w, b)
    dx, dw, db = affine_backward(dout, cache)
    expect_shape("dx", dx, x.shape)
    expect_shape("dw", dw, w.shape)
    expect_shape("db", db, b.shape)
    bound = BOUNDS["affine_backward"]
    expect_close("dx", dx, dx_num, bound)
    expect_close("dw", dw, dw_num, bound)
    expect_close("db", db, db_num, bound, mistakes=[
        ("db is the mean of dout over the examples; it is their sum", db_num / len(x))])


def check_relu_forward():
    from cs239.layers import relu_forward
    step("output on the notebook's linspace input")
    x = np.linspace(-0.5, 0.5, num=12).reshape(3, 4)
    x0 = x.copy()
    out, _ = relu_forward(x)
    expect_close("out", out, RELU_OUT, BOUNDS["relu_forward"], mistakes=[
        ("it keeps the negative inputs and zeroes the positive ones: use np.maximum(x, 0)",
         np.minimum(x, 0))])
    expect_unchanged("x", x0, x)


def check_relu_backward():
    from cs239.layers import relu_backward, relu_forward
    rs = np.random.RandomState(231)
    x, dout = rs.randn(10, 10), rs.randn(10, 10)
    step("dx against finite differences of relu_forward (the notebook's input)")
    dx_num = num_grad_array(lambda x: relu_forward(x)[0], x, dout)
    dx = relu_backward(dout, relu_forward(x)[1])
    expect_close("dx", dx, dx_num, BOUNDS["relu_backward"], mistakes=[
        ("the mask was taken from dout; it comes from the input x", dout * (dout > 0)),
        ("dx is the mask alone, without multiplying by dout", (x > 0) * 1.0)])
    step("dx where x == 0 exactly (the docstring: the gradient is 0 there)")
    x = np.array([[-1.5, 0.0, 2.0], [0.0, 3.0, -0.0]])
    dx = relu_backward(np.ones_like(x), relu_forward(x)[1])
    expect_shape("dx", dx, x.shape)
    if np.any(np.asarray(dx)[x == 0] != 0):
        raise CheckFailed("dx is not 0 where x == 0 (got %s for x = %s); use x > 0 (not x >= 0)"
                          % (np.asarray(dx).tolist(), x.tolist()))


def _check_loss(loss_fn, name, expected, mistakes_of):
    """The notebook's check of a loss layer: its value on small random scores (np.random.seed
    (231)) and dx against finite differences, with the notebook's bounds."""
    np.random.seed(231)
    num_classes, num_inputs = 10, 50
    x = 0.001 * np.random.randn(num_inputs, num_classes)
    y = np.random.randint(num_classes, size=num_inputs)
    step("loss of the notebook's small random scores (%.12g)" % expected)
    loss, dx = loss_fn(x, y)
    if loss is None:
        raise CheckFailed("loss: is None (was it assigned?)")
    expect_difference("loss", loss, expected, BOUNDS[name + " value"], mistakes=[
        ("the loss is summed over the examples; average it (divide by N)", expected * num_inputs)
    ] + mistakes_of(x, y))
    step("dx against finite differences of the loss")
    dx_num = num_grad(lambda x: loss_fn(x, y)[0], x)
    expect_close("dx", dx, dx_num, BOUNDS[name + " dx"], mistakes=[
        ("dx is not divided by N (the loss is an average)", dx_num * num_inputs)])
    return x, y


def check_svm_loss():
    from cs239.layers import svm_loss

    def mistakes(x, y):
        return [("the correct class's own margin (always 1) is counted", SVM_LOSS + 1)]
    _check_loss(svm_loss, "svm_loss", SVM_LOSS, mistakes)
    step("margins that are all satisfied give zero loss and gradient")
    x = np.zeros((3, 4))
    y = np.array([0, 1, 2])
    x[np.arange(3), y] = 5.0
    loss, dx = svm_loss(x, y)
    if not (float(loss) == 0 and np.all(np.asarray(dx) == 0)):
        raise CheckFailed("loss %r and dx not all zero where every margin is satisfied"
                          % (loss,))


def check_softmax_loss():
    from cs239.layers import softmax_loss
    _check_loss(softmax_loss, "softmax_loss", SOFTMAX_LOSS, lambda x, y: [])
    step("no overflow with scores of 1000 and more")
    x = np.array([[1000.0, 0.0, -1000.0], [2000.0, 2000.0, 0.0]])
    with np.errstate(over="raise", invalid="raise"):
        try:
            loss, dx = softmax_loss(x, np.array([0, 1]))
        except FloatingPointError as e:
            raise CheckFailed("%s for scores of 1000 and more: subtract each ROW's maximum "
                              "score before np.exp" % e)
    if not (np.isfinite(loss) and np.all(np.isfinite(dx))):
        raise CheckFailed("loss or dx not finite for large scores (subtract each ROW's maximum "
                          "score, not the maximum of the whole array)")
    expect_close("loss for large scores", loss, np.log(2) / 2, BOUNDS["softmax_loss large scores"])


def check_sgd_momentum():
    from cs239.optim import sgd_momentum
    step("next_w and velocity on the notebook's linspace input")
    w, dw = _linspace_update_inputs()
    v = np.linspace(0.6, 0.9, num=20).reshape(4, 5)
    next_w, config = sgd_momentum(w, dw, {"learning_rate": 1e-3, "velocity": v})
    expect_close("next_w", next_w, MOMENTUM_NEXT_W, BOUNDS["sgd_momentum"], mistakes=[
        ("the gradient is added: v = momentum * v - learning_rate * dw",
         w + 0.9 * v + 1e-3 * dw)])
    expect_close("config['velocity']", config.get("velocity"), MOMENTUM_VELOCITY,
                 BOUNDS["sgd_momentum"], mistakes=[
                     ("the new velocity is not stored in config['velocity']", v)])
    step("two steps from the default config (velocity starts at zero and carries over)")
    w, dw = _linspace_update_inputs()
    w1, config = sgd_momentum(w, dw)
    w2, _ = sgd_momentum(w1, dw, config)
    expect_close("second step", w2, w1 + 0.9 * (-1e-2 * dw) - 1e-2 * dw, BOUNDS["sgd_momentum"])


def check_rmsprop():
    from cs239.optim import rmsprop
    step("next_w and cache on the notebook's linspace input")
    w, dw = _linspace_update_inputs()
    cache = np.linspace(0.6, 0.9, num=20).reshape(4, 5)
    next_w, config = rmsprop(w, dw, {"learning_rate": 1e-2, "cache": cache})
    unsquared = 0.99 * cache + 0.01 * dw
    expect_close("next_w", next_w, RMSPROP_NEXT_W, BOUNDS["rmsprop"], mistakes=[
        ("the gradient is not squared in the cache update",
         w - 1e-2 * dw / (np.sqrt(unsquared) + 1e-8)),
        ("no square root of the cache", w - 1e-2 * dw / (0.99 * cache + 0.01 * dw**2 + 1e-8))])
    expect_close("config['cache']", config.get("cache"), RMSPROP_CACHE, BOUNDS["rmsprop"],
                 mistakes=[("the gradient is not squared in the cache update",
                            0.99 * cache + 0.01 * dw),
                           ("the new cache is not stored in config['cache']", cache)])


def check_adam():
    from cs239.optim import adam
    step("next_w, m, v and t on the notebook's linspace input (t = 5)")
    w, dw = _linspace_update_inputs()
    m = np.linspace(0.6, 0.9, num=20).reshape(4, 5)
    v = np.linspace(0.7, 0.5, num=20).reshape(4, 5)
    next_w, config = adam(w, dw, {"learning_rate": 1e-2, "m": m, "v": v, "t": 5})
    expect_close("next_w", next_w, ADAM_NEXT_W, BOUNDS["adam"], mistakes=[
        ("t is incremented after it is used (increment it first)",
         _adam_step(w, dw, m, v, 5, t_used=5)),
        ("no bias correction (divide m and v by 1 - beta**t)",
         _adam_step(w, dw, m, v, 5, corrected=False))])
    corrected = [("the bias-corrected moment was stored; store v (and m) uncorrected",
                  np.asarray(ADAM_V) / (1 - 0.999 ** 6)),
                 ("the bias-corrected moment was stored; store m (and v) uncorrected",
                  np.asarray(ADAM_M) / (1 - 0.9 ** 6))]
    expect_close("config['v']", config.get("v"), ADAM_V, BOUNDS["adam"], mistakes=corrected)
    expect_close("config['m']", config.get("m"), ADAM_M, BOUNDS["adam"], mistakes=corrected)
    if config.get("t") != 6:
        raise CheckFailed("config['t']: %r, expected 6 (increment t before using it, and store "
                          "it in config)" % config.get("t"))
    step("the first step from the default config")
    w1, config = adam(w, dw)
    expect_close("config['m'] after one step", config.get("m"), 0.1 * dw, BOUNDS["adam"],
                 mistakes=[("the bias-corrected moment was stored; store m uncorrected", dw)])


def _adam_step(w, dw, m, v, t, t_used=None, corrected=True):
    t_used = t + 1 if t_used is None else t_used
    m = 0.9 * m + 0.1 * dw
    v = 0.999 * v + 0.001 * dw * dw
    if corrected:
        m, v = m / (1 - 0.9 ** t_used), v / (1 - 0.999 ** t_used)
    return w - 1e-2 * m / (np.sqrt(v) + 1e-8)


def check_two_layer_loss():
    X, y = _toy_data()
    net = _toy_net()
    step("scores of the toy network")
    scores = net.loss(X)
    expect_shape("scores", scores, (5, 3))
    expect_difference("scores", scores, TOY_SCORES, BOUNDS["TwoLayerNet scores"], mistakes=[
        ("a ReLU is applied to the scores (only to the hidden layer)",
         np.maximum(TOY_SCORES, 0))])
    step("loss of the toy network (reg = 0.05)")
    loss, grads = net.loss(X, y, reg=0.05)
    loss0 = net.loss(X, y, reg=0.0)[0]
    expect_difference("loss", loss, TOY_LOSS, BOUNDS["TwoLayerNet loss"],
                      mistakes=_reg_mistakes(loss0, 0.05, net.params))
    biased = _toy_net(biases=True)
    step("the regularization term of a toy network with non-zero biases (reg = 0.05)")
    loss0 = biased.loss(X, y, reg=0.0)[0]
    expect_difference("loss(reg=0.05) - loss(reg=0)", biased.loss(X, y, reg=0.05)[0] - loss0,
                      0.5 * 0.05 * sum(np.sum(biased.params[k] ** 2) for k in ("W1", "W2")),
                      BOUNDS["TwoLayerNet regularization"],
                      mistakes=[(d, m - loss0) for d, m in _reg_mistakes(loss0, 0.05,
                                                                          biased.params)])
    for which, model in [("the toy network", net), ("non-zero biases", biased)]:
        step("gradients against finite differences (reg = 0.05, %s)" % which)
        _, grads = model.loss(X, y, reg=0.05)
        if sorted(grads) != ["W1", "W2", "b1", "b2"]:
            raise CheckFailed("grads has keys %s, expected W1, W2, b1, b2" % sorted(grads))
        for name in ["W1", "b1", "W2", "b2"]:
            num = num_grad(lambda _: model.loss(X, y, reg=0.05)[0], model.params[name])
            _expect_grad(name, grads[name], num, BOUNDS["TwoLayerNet gradients"], 0.05,
                         model.params[name], len(X))


SAMPLING_HINT = ("sample the minibatch WITH replacement, np.random.choice(num_train, batch_size, "
                 "replace=True) as the docstring says: batch_size may exceed the number of "
                 "examples (the notebook's toy set has 5, its batch_size is 200)")


def check_two_layer_train():
    X, y = _toy_data()
    net = _toy_net()
    step("train the toy network as the notebook does (100 iterations, learning rate 0.1, "
         "default batch_size 200 from 5 examples)")
    try:
        stats = net.train(X, y, X, y, learning_rate=1e-1, reg=5e-6, num_iters=100)
    except ValueError as e:
        if "larger sample than population" in str(e):
            raise CheckFailed("ValueError: %s: %s" % (e, SAMPLING_HINT))
        raise
    for key in ["loss_history", "train_acc_history", "val_acc_history"]:
        if key not in (stats or {}):
            raise CheckFailed("the returned dict has no %r" % key)
    if len(stats["loss_history"]) != 100:
        raise CheckFailed("loss_history has %d entries, expected one per iteration (100)"
                          % len(stats["loss_history"]))
    if len(stats["val_acc_history"]) != 100:    # 5 examples: one epoch per iteration
        raise CheckFailed("val_acc_history has %d entries, expected one per epoch (100)"
                          % len(stats["val_acc_history"]))
    if all(np.array_equal(net.params[k], _toy_net().params[k]) for k in net.params):
        raise CheckFailed("the parameters were not updated (self.params[name] -= "
                          "learning_rate * grads[name], for every parameter)")
    final = float(stats["loss_history"][-1])
    first = float(stats["loss_history"][0])
    bound = BOUNDS["TwoLayerNet toy training loss"]
    if not final < bound:
        cause = ("the loss went up: is the step's sign right (params -= learning_rate * grad)?"
                 if final > first else "are all the parameters updated, with the gradients of "
                 "this iteration's minibatch?")
        raise CheckFailed("final training loss %.4g (should be < %g); %s" % (final, bound, cause))
    _check_train_steps(_toy_net())


def _check_train_steps(net):
    """Spy on the loss calls of a short training run (45 examples, batch 10: 4 iterations per
    epoch): a new minibatch each iteration, reg passed on, plain SGD steps whose learning rate
    decays at the end of each epoch, one accuracy entry per epoch."""
    step("SGD steps, minibatches, reg and learning-rate decay of a 12-iteration run "
         "(45 examples, batch_size 10: 4 iterations per epoch)")
    calls, original = [], net.loss

    def spy(X, y=None, reg=0.0):
        res = original(X, y, reg)
        if y is not None:
            calls.append((np.asarray(X).tobytes(), reg, {k: np.array(v, dtype=np.float64)
                                                         for k, v in net.params.items()},
                          {k: np.array(v, dtype=np.float64) for k, v in res[1].items()}))
        return res
    net.loss = spy
    rs = np.random.RandomState(3)
    X, y = rs.randn(45, 4), rs.randint(3, size=45)
    lr, decay, reg = 1e-2, 0.5, 0.03
    np.random.seed(4)
    stats = net.train(X, y, X[:9], y[:9], learning_rate=lr, learning_rate_decay=decay, reg=reg,
                      num_iters=12, batch_size=10)
    del net.loss
    if len(calls) != 12:
        raise CheckFailed("train called self.loss(X_batch, y_batch, reg) %d times for 12 "
                          "iterations (once per iteration)" % len(calls))
    if len(set(c[0] for c in calls)) == 1:
        raise CheckFailed("every iteration used the same minibatch: sample a new one each "
                          "iteration (np.random.choice)")
    if any(c[1] != reg for c in calls):
        raise CheckFailed("train called self.loss with reg=%r instead of the reg it was given "
                          "(%g): pass reg=reg on" % (calls[0][1], reg))
    final = {k: np.array(v, dtype=np.float64) for k, v in net.params.items()}
    after = [c[2] for c in calls[1:]] + [final]
    for k, (_, _, before, grads) in enumerate(calls):
        taken = after[k]["W1"] - before["W1"]
        expected = -lr * decay ** (k // 4) * grads["W1"]
        mistakes = [("the step has the wrong sign (params -= learning_rate * grads)", -expected),
                    ("the parameters were not updated", 0 * expected),
                    ("the learning rate is not decayed after each epoch",
                     -lr * grads["W1"]),
                    ("the learning rate decays at the START of each epoch (decay after the "
                     "epoch's last iteration, (it + 1) %% iterations_per_epoch == 0)",
                     -lr * decay ** (k // 4 + (k % 4 != 0)) * grads["W1"])]
        expect_close("the step of W1 at iteration %d" % k, taken, expected, 1e-6,
                     mistakes=mistakes)
    epochs = 12 // (45 // 10)
    for key in ["train_acc_history", "val_acc_history"]:
        if len(stats[key]) != epochs:
            raise CheckFailed("%s has %d entries for 12 iterations of 4 (= 45 // 10) per epoch, "
                              "expected %d: one at the end of each epoch (integer division for "
                              "the iterations per epoch)" % (key, len(stats[key]), epochs))


def check_two_layer_predict():
    X, _ = _toy_data()
    net = _toy_net()
    step("predict agrees with the argmax of the scores")
    pred = net.predict(X)
    expect_shape("predict(X)", pred, (5,))
    expected = np.argmax(net.loss(X), axis=1)
    if not np.array_equal(np.asarray(pred), expected):
        how = " (argmin instead of argmax?)" if np.array_equal(
            np.asarray(pred), np.argmin(net.loss(X), axis=1)) else ""
        raise CheckFailed("predict(X) = %s, but the highest scores are in columns %s%s"
                          % (np.asarray(pred).tolist(), expected.tolist(), how))


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
    bound = BOUNDS["FullyConnectedNet.__init__ weight std"]
    for i in range(1, 4):
        if np.any(model.params["b%d" % i] != 0):
            raise CheckFailed("b%d is not all zeros" % i)
        W = model.params["W%d" % i]
        if abs(float(np.mean(W))) > 0.1 * 0.05:
            raise CheckFailed("W%d has mean %.4f, expected 0: draw from np.random.randn (a "
                              "normal distribution), not np.random.rand (uniform on [0, 1))"
                              % (i, float(np.mean(W))))
        std = float(np.std(W))
        if not abs(std - 0.05) < bound * 0.05:
            raise CheckFailed("W%d has standard deviation %.4f, expected weight_scale = 0.05"
                              % (i, std))


def _fc_two_layer(FullyConnectedNet):
    """The two-layer network of the notebook's section 'Two-layer network', with its linspace
    parameters (non-zero biases) and input."""
    N, D, H, C = 3, 5, 50, 7
    model = FullyConnectedNet([H], input_dim=D, num_classes=C, weight_scale=1e-3,
                              dtype=np.float64)
    model.params["W1"] = np.linspace(-0.7, 0.3, num=D * H).reshape(D, H)
    model.params["b1"] = np.linspace(-0.1, 0.9, num=H)
    model.params["W2"] = np.linspace(-0.3, 0.4, num=H * C).reshape(H, C)
    model.params["b2"] = np.linspace(-0.9, 0.1, num=C)
    X = np.linspace(-5.5, 4.5, num=N * D).reshape(D, N).T
    return model, X, np.asarray([0, 5, 1])


def check_fc_loss():
    from cs239.classifiers.fc_net import FullyConnectedNet
    model, X, y = _fc_two_layer(FullyConnectedNet)
    step("scores of the notebook's two-layer network (y=None)")
    scores = model.loss(X)
    expect_shape("loss(X)", scores, (3, 7))
    expect_difference("scores", scores, FC_SCORES, BOUNDS["FullyConnectedNet scores"])
    step("scores of the same network with the last biases lowered by 100 (negative scores)")
    low, _, _ = _fc_two_layer(FullyConnectedNet)
    low.params["b2"] = low.params["b2"] - 100
    expect_difference("scores", low.loss(X), np.asarray(FC_SCORES) - 100,
                      100 * BOUNDS["FullyConnectedNet scores"], mistakes=[
                          ("an activation (ReLU) is applied to the scores: the last layer is "
                           "affine only", np.zeros((3, 7)))])
    step("loss of the two-layer network (reg = 0)")
    loss0, _ = model.loss(X, y)
    expect_difference("loss", loss0, FC_LOSS, BOUNDS["FullyConnectedNet loss"])
    step("loss of the two-layer network (reg = 1.0; its biases are not zero)")
    model.reg = 1.0
    loss, _ = model.loss(X, y)
    expect_difference("loss", loss, FC_LOSS_REG, BOUNDS["FullyConnectedNet loss"],
                      mistakes=_reg_mistakes(FC_LOSS, 1.0, model.params))
    for reg in [0.0, 0.7]:
        step("gradients of the two-layer network against finite differences (reg = %g)" % reg)
        model.reg = reg
        _check_fc_grads(model, X, y, reg, BOUNDS["FullyConnectedNet gradients"])
    np.random.seed(231)
    N, D, H1, H2, C = 2, 15, 20, 30, 10
    X = np.random.randn(N, D)
    y = np.random.randint(C, size=(N,))
    bound = BOUNDS["FullyConnectedNet multilayer gradients"]
    for reg in [0.0, 3.14]:            # the notebook's check (its models continue the seed)
        step("gradients of the notebook's network with two hidden layers (reg = %g)" % reg)
        model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=reg,
                                  weight_scale=5e-2, dtype=np.float64)
        _check_fc_grads(model, X, y, reg, bound)
    losses = {}
    for activation in ["relu", "swish"]:   # larger weights: small swish gradients are noisy
        for reg in [0.0, 3.14]:
            step("gradients of a network with two hidden layers (reg = %g, %s)"
                 % (reg, activation))
            model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=reg,
                                      weight_scale=0.2, dtype=np.float64, seed=0,
                                      activation=activation)
            losses[activation, reg] = _check_fc_grads(model, X, y, reg, bound)
    if losses["relu", 0.0] == losses["swish", 0.0]:
        raise CheckFailed("activation='swish' gives exactly the loss of activation='relu': "
                          "the activation argument is ignored (pass self.activation to "
                          "affine_act_forward)")
    step("a float32 network stays float32")
    model = FullyConnectedNet([H1], input_dim=D, num_classes=C, seed=0)
    loss, grads = model.loss(X, y)
    for name, g in sorted(grads.items()):
        if np.asarray(g).dtype != np.float32:
            raise CheckFailed("grads[%r] has dtype %s for a float32 network: keep the model's "
                              "dtype (X is cast to self.dtype)" % (name, np.asarray(g).dtype))


def _check_fc_grads(model, X, y, reg, bound):
    loss, grads = model.loss(X, y)
    if sorted(grads) != sorted(model.params):
        raise CheckFailed("grads has keys %s, expected those of params, %s"
                          % (sorted(grads), sorted(model.params)))
    for name in sorted(model.params):
        num = num_grad(lambda _: model.loss(X, y)[0], model.params[name])
        _expect_grad(name, grads[name], num, bound, reg, model.params[name], len(X))
    return float(loss)


def check_autoencoder_grad():
    from cs239.derivations import autoencoder_grad, autoencoder_loss
    rng = np.random.default_rng(235)
    for m, n in [(1, 2), (3, 4), (4, 10)]:
        step("dW against finite differences, W of shape (%d, %d)" % (m, n))
        W, x = rng.standard_normal((m, n)), rng.standard_normal(n)
        num = num_grad(lambda W: autoencoder_loss(W, x), W)
        h, r = W @ x, W.T @ W @ x - x
        expect_close("dW", autoencoder_grad(W, x), num, BOUNDS["autoencoder_grad"], mistakes=[
            ("only the decoder path W x r^T (add the encoder path W r x^T)", np.outer(h, r)),
            ("only the encoder path W r x^T (add the decoder path W x r^T)",
             np.outer(W @ r, x))])


def check_autoencoder_grad_batch():
    from cs239.derivations import autoencoder_grad, autoencoder_grad_batch, autoencoder_loss_batch
    rng = np.random.default_rng(236)
    for m, n in [(1, 2), (3, 4), (4, 10)]:
        step("dW against finite differences, W of shape (%d, %d), 7 examples" % (m, n))
        W, X = rng.standard_normal((m, n)), rng.standard_normal((n, 7))
        num = num_grad(lambda W: autoencoder_loss_batch(W, X), W)
        dW = autoencoder_grad_batch(W, X)
        expect_close("dW", dW, num, BOUNDS["autoencoder_grad_batch"],
                     mistakes=[("the gradient is summed over the N columns; the loss is their "
                                "MEAN", 7 * num)])
        step("dW against the mean of autoencoder_grad over the columns, W of shape (%d, %d)"
             % (m, n))
        parts = _if_implemented(lambda: [autoencoder_grad(W, X[:, k]) for k in range(7)])
        if parts is not None and _agrees(parts[0], num_grad(
                lambda W: autoencoder_loss_batch(W, X[:, :1]), W), BOUNDS["autoencoder_grad"]):
            # (a wrong autoencoder_grad is reported under its own name, not here)
            expect_close("dW", dW, np.mean(parts, axis=0),
                         BOUNDS["autoencoder_grad_batch vs mean"])


def _agrees(x, y, bound):
    """Whether x has y's shape and a relative error to it below bound (never raises)."""
    from cs239.gradient_check import rel_error
    try:
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        return x.shape == y.shape and bool(rel_error(x, y) < bound)
    except (TypeError, ValueError):
        return False


def _if_implemented(compute):
    """compute(), or None when it calls a function that is still a stub (checked on its own)."""
    try:
        return compute()
    except NotImplementedError:
        return None


GPLVM_ALPHA, GPLVM_BETA = 1.5, 2.0


def _gplvm_cases(seed):
    rng = np.random.default_rng(seed)
    for N, q, D in [(3, 1, 3), (6, 2, 4), (8, 3, 5)]:     # D != 2: a missing D or 2 differ
        yield N, q, D, rng.standard_normal((N, q)), rng.standard_normal((N, D))


def check_gplvm_logdet_grad():
    from cs239.derivations import gplvm_kernel, gplvm_logdet_grad
    a, b = GPLVM_ALPHA, GPLVM_BETA
    for N, q, D, X, Y in _gplvm_cases(237):
        step("dX against finite differences of -D/2 log|K|, N=%d q=%d D=%d" % (N, q, D))
        num = num_grad(lambda X: -0.5 * D * np.linalg.slogdet(gplvm_kernel(X, a, b))[1], X)
        expect_close("dX", gplvm_logdet_grad(X, Y, a, b), num, BOUNDS["gplvm"], mistakes=[
            ("the factor alpha is missing", num / a), ("the factor D is missing", num / D),
            ("the factor 2 is missing (X enters K twice)", num / 2)])


def check_gplvm_trace_grad():
    from cs239.derivations import gplvm_kernel, gplvm_trace_grad
    a, b = GPLVM_ALPHA, GPLVM_BETA
    for N, q, D, X, Y in _gplvm_cases(238):
        step("dX against finite differences of -1/2 tr(K^-1 Y Y^T), N=%d q=%d D=%d" % (N, q, D))
        num = num_grad(lambda X: -0.5 * np.trace(np.linalg.solve(gplvm_kernel(X, a, b), Y @ Y.T)),
                       X)
        K = gplvm_kernel(X, a, b)
        expect_close("dX", gplvm_trace_grad(X, Y, a, b), num, BOUNDS["gplvm"], mistakes=[
            ("the sign is wrong (d(K^-1) = -K^-1 dK K^-1 flips it twice)", -num),
            ("the factor alpha is missing", num / a),
            ("one K^-1 is missing (dL2/dK = 1/2 K^-1 Y Y^T K^-1)",
             a * np.linalg.solve(K, Y) @ (Y.T @ X))])


def check_gplvm_grad():
    from cs239.derivations import (gplvm_grad, gplvm_kernel, gplvm_logdet_grad, gplvm_loss,
                                   gplvm_trace_grad)
    a, b = GPLVM_ALPHA, GPLVM_BETA
    for N, q, D, X, Y in _gplvm_cases(239):
        step("dX against finite differences of the log likelihood, N=%d q=%d D=%d" % (N, q, D))
        num = num_grad(lambda X: gplvm_loss(X, Y, a, b), X)
        K = gplvm_kernel(X, a, b)
        logdet = -D * a * np.linalg.solve(K, X)
        dX = gplvm_grad(X, Y, a, b)
        expect_close("dX", dX, num, BOUNDS["gplvm"], mistakes=[
            ("only the log-determinant term (add the trace term)", logdet),
            ("only the trace term (add the log-determinant term)", num - logdet),
            ("the trace term has the wrong sign", 2 * logdet - num)])
        step("dX against gplvm_logdet_grad + gplvm_trace_grad, N=%d q=%d D=%d" % (N, q, D))
        parts = _if_implemented(lambda: gplvm_logdet_grad(X, Y, a, b) + gplvm_trace_grad(X, Y, a, b))
        if parts is not None and _agrees(parts, num, BOUNDS["gplvm"]):
            # (wrong parts are reported under their own names, not here)
            expect_close("dX", dX, parts, BOUNDS["gplvm_grad vs sum"])


SWISH_WHERE_HINT = ("np.where(cond, a, b) evaluates BOTH a and b for every element, so "
                    "np.exp(x) overflows even where its branch is not selected: compute "
                    "e = np.exp(-np.abs(x)) once and build both branches from it")


def check_swish_forward():
    from cs239.layers import swish_forward
    step("the notebook's linspace input")
    x = np.linspace(-5, 5, num=12).reshape(3, 4)
    x0 = x.copy()
    out, _ = swish_forward(x)
    expect_close("out", out, x / (1 + np.exp(-x)), BOUNDS["swish_forward"], mistakes=[
        ("it returns sigmoid(x); swish(x) = x * sigmoid(x)", 1 / (1 + np.exp(-x)))])
    expect_unchanged("x", x0, x)
    step("values at -1000, -1, 0, 1, 1000 without overflow")
    z = np.array([-1000.0, -1.0, 0.0, 1.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        try:
            out, _ = swish_forward(z)
        except FloatingPointError as e:
            raise CheckFailed("%s for x = +-1000: never evaluate np.exp of a large positive "
                              "number; %s" % (e, SWISH_WHERE_HINT))
    expected = [0.0, -1 / (1 + np.e), 0.0, 1 / (1 + np.exp(-1.0)), 1000.0]
    expect_close("out", out, expected, BOUNDS["swish_forward"])
    step("a float32 input gives a float32 output")
    out32, _ = swish_forward(x.astype(np.float32))
    if np.asarray(out32).dtype != np.float32:
        raise CheckFailed("swish_forward turned float32 input into %s" % np.asarray(out32).dtype)


def check_swish_backward():
    from cs239.layers import swish_backward, swish_forward
    for seed, scale in [(231, 1.0), (240, 3.0)]:
        rs = np.random.RandomState(seed)
        x, dout = scale * rs.randn(10, 10), rs.randn(10, 10)
        step("dx against finite differences of swish_forward (x = %g * randn)" % scale)
        num = num_grad_array(lambda x: swish_forward(x)[0], x, dout)
        _, cache = swish_forward(x)
        sig = 1 / (1 + np.exp(-x))
        expect_close("dx", swish_backward(dout, cache), num, BOUNDS["swish_backward"], mistakes=[
            ("only the sigmoid(x) term: add x * sigmoid(x) * (1 - sigmoid(x))", dout * sig),
            ("dx is not multiplied by dout (the chain rule)", num / dout)])
    step("dx at x = -1000 and 1000 without overflow")
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        try:
            dx = swish_backward(np.ones(2), swish_forward(np.array([-1000.0, 1000.0]))[1])
        except FloatingPointError as e:
            raise CheckFailed("%s for x = +-1000; %s" % (e, SWISH_WHERE_HINT))
    expect_close("dx at -1000 and 1000", dx, [0.0, 1.0], BOUNDS["swish_backward"])
