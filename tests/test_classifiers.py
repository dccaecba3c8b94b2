"""cs239.classifiers: TwoLayerNet (CS231n's toy model and published numbers, gradients, train,
predict) and FullyConnectedNet (init, any depth, relu/swish, regularization, CS231n's multilayer
gradient check, dtypes, overfitting 50 examples with the Solver)."""
import math

import numpy as np
import pytest

from cs239.classifiers import FullyConnectedNet, TwoLayerNet
from cs239.gradient_check import eval_numerical_gradient, rel_error
from cs239.solver import Solver

pytestmark = [pytest.mark.fast, pytest.mark.usefixtures("restore_global_seed")]

NUMPY2 = int(np.__version__.split(".")[0]) >= 2


# ================================================================ helpers (independent code)

def _log_softmax_rows(scores):
    out = []
    for row in scores.tolist():
        m = max(row)
        lse = m + math.log(sum(math.exp(v - m) for v in row))
        out.append([v - lse for v in row])
    return np.array(out)


def _data_loss(scores, y):
    lp = _log_softmax_rows(scores)
    return -sum(lp[i, c] for i, c in enumerate(y.tolist())) / len(y)


def _mlp_scores(params, X, L, act):
    """Independent forward pass of an L-layer net, written with einsum."""
    h = X.reshape(X.shape[0], -1).astype(np.float64)
    for i in range(1, L + 1):
        W = params["W%d" % i].astype(np.float64)
        b = params["b%d" % i].astype(np.float64)
        h = np.einsum("nd,dm->nm", h, W) + b
        if i < L:
            h = np.maximum(h, 0) if act == "relu" else h / (1 + np.exp(-h))
    return h


def _blobs(rng, n_per_class, D, C, sep=4.0):
    """An easy, linearly separable problem: one Gaussian blob per class."""
    centers = rng.standard_normal((C, D)) * sep
    y = np.repeat(np.arange(C), n_per_class)
    X = centers[y] + rng.standard_normal((len(y), D))
    perm = rng.permutation(len(y))
    return X[perm], y[perm]


# ================================================================ TwoLayerNet

def _toy_model_and_data():
    """CS231n's toy problem (two_layer_net.ipynb)."""
    input_size, hidden_size, num_classes, num_inputs = 4, 10, 3, 5
    np.random.seed(0)
    net = TwoLayerNet(input_size, hidden_size, num_classes, std=1e-1, dtype=np.float64)
    np.random.seed(1)
    X = 10 * np.random.randn(num_inputs, input_size)
    y = np.array([0, 1, 2, 2, 1])
    return net, X, y


CORRECT_SCORES = np.asarray([
    [-0.81233741, -1.27654624, -0.70335995],
    [-0.17129677, -1.18803311, -0.47310444],
    [-0.51590475, -1.01354314, -0.8504215],
    [-0.15419291, -0.48629638, -0.52901952],
    [-0.00618733, -0.12435261, -0.15226949]])


def test_two_layer_toy_scores_cs231n_published():
    net, X, _ = _toy_model_and_data()
    scores = net.loss(X)
    assert scores.shape == (5, 3)
    assert np.max(np.abs(scores - CORRECT_SCORES)) < 1e-7


def test_two_layer_toy_loss_cs231n_published():
    """CS231n publishes 1.30378789133 for reg * sum(W**2) at reg = 0.05 (2017+ notebooks),
    i.e. for our 0.5 * reg * sum(W**2) at reg = 0.1 (as in the 2016 notebook)."""
    net, X, y = _toy_model_and_data()
    loss, _ = net.loss(X, y, reg=0.1)
    assert abs(loss - 1.30378789133) < 1e-10


def test_two_layer_toy_loss_independent_at_reg_0_05():
    net, X, y = _toy_model_and_data()
    loss, _ = net.loss(X, y, reg=0.05)
    p = net.params
    expected = (_data_loss(CORRECT_SCORES, y)
                + 0.5 * 0.05 * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2)))
    assert abs(loss - expected) < 1e-7  # CORRECT_SCORES has 8 decimals
    loss0, _ = net.loss(X, y, reg=0.0)
    assert abs((loss - loss0) - 0.025 * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))) < 1e-12


@pytest.mark.parametrize("reg", [0.0, 0.05])
def test_two_layer_gradients_numerical(reg):
    net, X, y = _toy_model_and_data()
    loss, grads = net.loss(X, y, reg=reg)
    assert set(grads) == {"W1", "b1", "W2", "b2"}
    for name in grads:
        assert grads[name].shape == net.params[name].shape
        f = lambda _: net.loss(X, y, reg=reg)[0]  # noqa: E731
        num = eval_numerical_gradient(f, net.params[name], verbose=False)
        assert rel_error(num, grads[name]) < 1e-7, name


def test_two_layer_init_shapes_std_and_zero_biases():
    np.random.seed(3)
    net = TwoLayerNet(300, 200, 7, std=0.05)
    p = net.params
    assert p["W1"].shape == (300, 200) and p["b1"].shape == (200,)
    assert p["W2"].shape == (200, 7) and p["b2"].shape == (7,)
    assert not p["b1"].any() and not p["b2"].any()
    assert abs(p["W1"].std() - 0.05) < 0.002 and abs(p["W1"].mean()) < 0.002
    np.random.seed(3)
    assert abs(TwoLayerNet(300, 200, 7).params["W1"].std() - 1e-4) < 5e-6  # default std


def test_two_layer_parameters_are_float32_by_default_to_match_the_data():
    """CIFAR-10 arrives as float32: float64 weights would upcast every product (about 2x
    slower). The toy checks ask for float64, for finite differences."""
    np.random.seed(0)
    net = TwoLayerNet(12, 5, 3)
    assert all(v.dtype == np.float32 for v in net.params.values())
    X = np.random.randn(4, 12).astype(np.float32)
    loss, grads = net.loss(X, np.array([0, 1, 2, 0]), reg=0.1)
    assert all(g.dtype == np.float32 for g in grads.values())
    net.train(X, np.array([0, 1, 2, 0]), X, np.array([0, 1, 2, 0]), num_iters=3, batch_size=2)
    assert all(v.dtype == np.float32 for v in net.params.values())
    assert all(v.dtype == np.float64
               for v in TwoLayerNet(12, 5, 3, dtype=np.float64).params.values())


def test_two_layer_loss_does_not_mutate_inputs():
    net, X, y = _toy_model_and_data()
    X0, y0 = X.copy(), y.copy()
    params0 = {k: v.copy() for k, v in net.params.items()}
    net.loss(X, y, reg=0.1)
    net.predict(X)
    assert np.array_equal(X, X0) and np.array_equal(y, y0)
    for k in params0:
        assert np.array_equal(net.params[k], params0[k])


def test_two_layer_predict():
    net, X, _ = _toy_model_and_data()
    pred = net.predict(X)
    assert pred.shape == (5,)
    assert np.array_equal(pred, np.argmax(CORRECT_SCORES, axis=1))
    assert np.issubdtype(pred.dtype, np.integer)


class _Spy:
    """Wraps net.loss to record the batch shapes and the reg it is called with."""

    def __init__(self, net):
        self.net, self.inner, self.calls = net, net.loss, []
        net.loss = self

    def __call__(self, X, y=None, reg=0.0):
        if y is not None:
            self.calls.append((X.shape, y.shape, reg))
        return self.inner(X, y, reg=reg)


@pytest.mark.parametrize("N,batch_size,num_iters,epochs", [
    (50, 10, 23, 4),   # iterations_per_epoch = 5: accuracies at it 5, 10, 15, 20
    (50, 10, 4, 0),    # fewer iterations than one epoch: no accuracy yet (end of epoch only)
    (7, 10, 3, 3),     # batch larger than the data: iterations_per_epoch = max(0, 1) = 1
    (30, 7, 9, 2),     # 30 // 7 = 4 iterations per epoch (integer division)
])
def test_two_layer_train_history_lengths_batches_and_reg(rng, N, batch_size, num_iters, epochs):
    np.random.seed(0)
    net = TwoLayerNet(6, 5, 3, std=1e-1)
    X, y = rng.standard_normal((N, 6)), rng.integers(3, size=N)
    spy = _Spy(net)
    stats = net.train(X, y, X[:4], y[:4], learning_rate=1e-2, reg=0.123,
                      num_iters=num_iters, batch_size=batch_size)
    assert set(stats) == {"loss_history", "train_acc_history", "val_acc_history"}
    assert len(stats["loss_history"]) == num_iters
    assert len(stats["train_acc_history"]) == epochs
    assert len(stats["val_acc_history"]) == epochs
    assert spy.calls == [((batch_size, 6), (batch_size,), 0.123)] * num_iters
    for acc in stats["train_acc_history"] + stats["val_acc_history"]:
        assert 0.0 <= acc <= 1.0


def test_two_layer_train_sgd_steps_and_per_epoch_decay(rng):
    """With constant unit gradients each parameter moves by exactly the current learning rate,
    which is multiplied by the decay at the end of every epoch (N // batch = 2 iterations)."""
    np.random.seed(0)
    net = TwoLayerNet(3, 4, 2, std=1e-1)
    start = {k: v.copy() for k, v in net.params.items()}
    seen = []

    def fake_loss(X, y=None, reg=0.0):
        if y is None:
            return np.zeros((X.shape[0], 2))
        seen.append(net.params["b1"][0])
        return 1.0, {k: np.ones_like(v) for k, v in net.params.items()}

    net.loss = fake_loss
    X, y = rng.standard_normal((8, 3)), rng.integers(2, size=8)
    net.train(X, y, X, y, learning_rate=0.1, learning_rate_decay=0.5, num_iters=6, batch_size=4)
    steps = -np.diff(seen + [net.params["b1"][0]])
    assert np.allclose(steps, [0.1, 0.1, 0.05, 0.05, 0.025, 0.025], atol=1e-15)
    assert np.allclose(start["W2"] - net.params["W2"], 0.35, atol=1e-15)


def test_two_layer_train_loss_decreases_on_easy_problem(rng):
    X, y = _blobs(rng, 40, 5, 3)
    np.random.seed(1)
    net = TwoLayerNet(5, 20, 3, std=1e-1)
    stats = net.train(X, y, X, y, learning_rate=5e-2, learning_rate_decay=0.95, reg=1e-4,
                      num_iters=150, batch_size=30)
    losses = stats["loss_history"]
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:10])
    assert (net.predict(X) == y).mean() >= 0.95
    assert stats["val_acc_history"][-1] >= 0.95


# ================================================================ FullyConnectedNet

@pytest.mark.parametrize("hidden_dims", [[], [7], [7, 6, 5], [4] * 5])
def test_fc_init_shapes_dtypes_std_zero_biases(hidden_dims):
    net = FullyConnectedNet(hidden_dims, input_dim=12, num_classes=3, seed=0)
    dims = [12, *hidden_dims, 3]
    L = len(dims) - 1
    assert net.num_layers == L
    assert set(net.params) == {"%s%d" % (p, i) for p in "Wb" for i in range(1, L + 1)}
    for i in range(1, L + 1):
        W, b = net.params["W%d" % i], net.params["b%d" % i]
        assert W.shape == (dims[i - 1], dims[i]) and b.shape == (dims[i],)
        assert W.dtype == np.float32 and b.dtype == np.float32
        assert not b.any()


def test_fc_init_weight_scale_and_dtype64():
    net = FullyConnectedNet([400], input_dim=500, num_classes=10, weight_scale=0.03,
                            dtype=np.float64, seed=5)
    W1 = net.params["W1"]
    assert W1.dtype == np.float64 and net.params["b1"].dtype == np.float64
    assert abs(W1.std() - 0.03) < 0.001 and abs(W1.mean()) < 0.001


def test_fc_seed_reproducibility():
    a = FullyConnectedNet([5, 4], input_dim=6, num_classes=3, seed=42)
    b = FullyConnectedNet([5, 4], input_dim=6, num_classes=3, seed=42)
    c = FullyConnectedNet([5, 4], input_dim=6, num_classes=3, seed=43)
    for k in a.params:
        assert np.array_equal(a.params[k], b.params[k])
    assert not np.array_equal(a.params["W1"], c.params["W1"])


def test_fc_draws_weight_scale_times_randn_in_layer_order():
    """Documented init: Wi = weight_scale * randn(dims[i-1], dims[i]), in layer order."""
    net = FullyConnectedNet([5, 4], input_dim=6, num_classes=3, weight_scale=0.1,
                            dtype=np.float64, seed=7)
    np.random.seed(7)
    for i, (d_in, d_out) in enumerate([(6, 5), (5, 4), (4, 3)], start=1):
        assert np.array_equal(net.params["W%d" % i], 0.1 * np.random.randn(d_in, d_out))


def test_fc_rejects_unknown_activation():
    with pytest.raises(ValueError, match="activation"):
        FullyConnectedNet([3], input_dim=4, num_classes=2, activation="tanh")


@pytest.mark.parametrize("activation", ["relu", "swish"])
@pytest.mark.parametrize("hidden_dims", [[], [8], [8, 7, 6]])
def test_fc_scores_and_loss_match_independent_forward(rng, activation, hidden_dims):
    net = FullyConnectedNet(hidden_dims, input_dim=2 * 3 * 2, num_classes=4, weight_scale=0.3,
                            dtype=np.float64, seed=1, activation=activation, reg=0.7)
    X = rng.standard_normal((5, 2, 3, 2))
    y = rng.integers(4, size=5)
    scores = net.loss(X)
    expected = _mlp_scores(net.params, X, net.num_layers, activation)
    assert scores.shape == (5, 4)
    assert rel_error(scores, expected) < 1e-10
    loss, _ = net.loss(X, y)
    reg_term = 0.5 * 0.7 * sum(np.sum(net.params["W%d" % i] ** 2)
                               for i in range(1, net.num_layers + 1))
    assert abs(loss - (_data_loss(expected, y) + reg_term)) < 1e-10


def test_fc_initial_loss_is_about_log_c(rng):
    """CS231n sanity check: small weights, no regularization: loss ~ log(C)."""
    net = FullyConnectedNet([20, 30], input_dim=15, num_classes=10, weight_scale=5e-2,
                            dtype=np.float64, seed=0)
    X, y = rng.standard_normal((2, 15)), rng.integers(10, size=2)
    loss, _ = net.loss(X, y)
    assert abs(loss - math.log(10)) < 0.1


def test_fc_reg_term_and_its_gradient(rng):
    kwargs = dict(input_dim=6, num_classes=3, weight_scale=0.2, dtype=np.float64, seed=2)
    plain = FullyConnectedNet([5, 4], **kwargs)
    regd = FullyConnectedNet([5, 4], reg=2.5, **kwargs)
    X, y = rng.standard_normal((4, 6)), rng.integers(3, size=4)
    l0, g0 = plain.loss(X, y)
    l1, g1 = regd.loss(X, y)
    W2sum = sum(np.sum(regd.params["W%d" % i] ** 2) for i in (1, 2, 3))
    assert abs((l1 - l0) - 0.5 * 2.5 * W2sum) < 1e-12
    for i in (1, 2, 3):
        assert np.allclose(g1["W%d" % i] - g0["W%d" % i], 2.5 * regd.params["W%d" % i],
                           atol=1e-14)
        assert np.array_equal(g1["b%d" % i], g0["b%d" % i])  # biases are not regularized


@pytest.mark.parametrize("reg", [0.0, 3.14])
def test_fc_cs231n_multilayer_gradient_check(reg):
    N, D, H1, H2, C = 2, 15, 20, 30, 10
    np.random.seed(231)
    X = np.random.randn(N, D)
    y = np.random.randint(C, size=(N,))
    model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=reg,
                              weight_scale=5e-2, dtype=np.float64, seed=0)
    loss, grads = model.loss(X, y)
    assert set(grads) == set(model.params)
    for name in sorted(grads):
        f = lambda _: model.loss(X, y)[0]  # noqa: E731
        num = eval_numerical_gradient(f, model.params[name], verbose=False, h=1e-5)
        # elementwise: relative 1e-7, or absolute 1e-9 for entries that are ~0
        assert np.allclose(num, grads[name], rtol=1e-7, atol=1e-9), name
        assert grads[name].shape == model.params[name].shape


@pytest.mark.parametrize("activation", ["relu", "swish"])
@pytest.mark.parametrize("hidden_dims", [[], [6], [6, 5, 4]])
def test_fc_gradient_check_any_depth(rng, activation, hidden_dims):
    model = FullyConnectedNet(hidden_dims, input_dim=8, num_classes=3, reg=0.3,
                              weight_scale=0.3, dtype=np.float64, seed=4, activation=activation)
    X, y = rng.standard_normal((3, 2, 4)), rng.integers(3, size=3)
    _, grads = model.loss(X, y)
    for name in grads:
        num = eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[name],
                                      verbose=False)
        assert np.allclose(num, grads[name], rtol=1e-7, atol=1e-9), name


@pytest.mark.parametrize("activation", ["relu", "swish"])
@pytest.mark.parametrize("x_dtype", [np.float32, np.float64])
def test_fc_float32_model_gives_float32_loss_scores_and_grads(rng, activation, x_dtype):
    model = FullyConnectedNet([16, 8], input_dim=12, num_classes=5, reg=0.1, seed=3,
                              activation=activation)
    X = rng.standard_normal((6, 3, 4)).astype(x_dtype)
    y = rng.integers(5, size=6)
    X0 = X.copy()
    assert model.loss(X).dtype == np.float32
    loss, grads = model.loss(X, y)
    # numpy 1.x promotes a float32 scalar times a Python number to float64 (NEP 50 ended that)
    assert np.asarray(loss).dtype == (np.float32 if NUMPY2 else np.float64)
    for name, g in grads.items():
        assert g.dtype == np.float32, name
    assert np.array_equal(X, X0) and X.dtype == x_dtype


def test_fc_float32_agrees_with_float64(rng):
    kwargs = dict(input_dim=12, num_classes=5, reg=0.2, weight_scale=0.1, seed=9)
    m32 = FullyConnectedNet([16, 8], **kwargs)
    m64 = FullyConnectedNet([16, 8], dtype=np.float64, **kwargs)
    X, y = rng.standard_normal((6, 12)), rng.integers(5, size=6)
    l32, g32 = m32.loss(X, y)
    l64, g64 = m64.loss(X, y)
    assert abs(float(l32) - l64) < 1e-5
    for k in g64:
        assert np.allclose(g32[k], g64[k], rtol=1e-3, atol=1e-5), k


def test_fc_loss_does_not_mutate_params_or_inputs(rng):
    model = FullyConnectedNet([5], input_dim=4, num_classes=3, reg=0.5, seed=0,
                              dtype=np.float64)
    params0 = {k: v.copy() for k, v in model.params.items()}
    X, y = rng.standard_normal((3, 4)), rng.integers(3, size=3)
    X0, y0 = X.copy(), y.copy()
    model.loss(X, y)
    model.loss(X)
    for k in params0:
        assert np.array_equal(model.params[k], params0[k])
    assert np.array_equal(X, X0) and np.array_equal(y, y0)


def test_fc_single_example_and_two_classes(rng):
    model = FullyConnectedNet([4], input_dim=3, num_classes=2, dtype=np.float64, seed=0,
                              weight_scale=0.5)
    X, y = rng.standard_normal((1, 3)), np.array([1])
    loss, grads = model.loss(X, y)
    assert model.loss(X).shape == (1, 2)
    for name in grads:
        num = eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[name],
                                      verbose=False)
        assert np.allclose(num, grads[name], rtol=1e-7, atol=1e-9), name


@pytest.mark.parametrize("hidden_dims,update_rule,optim_config,weight_scale", [
    ([100, 100], "sgd", {"learning_rate": 1e-1}, 5e-2),
    ([100] * 4, "adam", {"learning_rate": 1e-3}, 5e-2),
])
def test_fc_overfits_50_examples_with_solver(rng, hidden_dims, update_rule, optim_config,
                                            weight_scale):
    """CS231n: overfit 50 training examples to 100% in 20 epochs with batch size 25 (with
    hyperparameters that work; the notebook starts from deliberately bad ones)."""
    X = rng.standard_normal((50, 3, 32, 32)).astype(np.float32)
    y = rng.integers(10, size=50)
    data = {"X_train": X, "y_train": y, "X_val": X, "y_val": y}
    model = FullyConnectedNet(hidden_dims, weight_scale=weight_scale, seed=0)
    solver = Solver(model, data, update_rule=update_rule, optim_config=dict(optim_config),
                    num_epochs=20, batch_size=25, verbose=False, num_train_samples=None)
    solver.train()
    assert solver.train_acc_history[-1] == 1.0
    assert solver.check_accuracy(X, y) == 1.0  # the restored best params (val = train here)
