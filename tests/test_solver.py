"""cs239.solver.Solver: histories, per-epoch learning-rate decay, best params restored, keyword
checking, atomic checkpoints, every update rule, check_accuracy, printing."""
import os
import pickle

import numpy as np
import pytest

from cs239 import solver as solver_module
from cs239.classifiers import FullyConnectedNet
from cs239.solver import Solver

pytestmark = [pytest.mark.fast, pytest.mark.usefixtures("restore_global_seed")]


class ThresholdModel:
    """A model with one parameter w whose loss has gradient -1 (so sgd with learning rate lr
    adds lr to w at every step). It predicts class 0 for inputs x < w and class 1 otherwise."""

    def __init__(self):
        self.params = {"w": np.array([0.0])}
        self.score_calls = []

    def loss(self, X, y=None):
        w = self.params["w"][0]
        if y is None:
            self.score_calls.append(X.shape[0])
            scores = np.zeros((X.shape[0], 2))
            scores[:, 0] = (X[:, 0] < w).astype(float)
            scores[:, 1] = 0.5
            return scores
        return float(w), {"w": -np.ones(1)}


def _threshold_data(n_train=1):
    # val accuracy as a function of w: 3/6 (w <= 0), 4/6, 5/6, 6/6 (2 < w <= 3), 5/6, 4/6, 3/6
    return {"X_train": np.zeros((n_train, 1)), "y_train": np.zeros(n_train, dtype=int),
            "X_val": np.arange(6.0).reshape(6, 1), "y_val": np.array([0, 0, 0, 1, 1, 1])}


def _blob_data(seed=0, n=120, D=8, C=3):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((C, D)) * 3
    y = rng.integers(C, size=n)
    X = (centers[y] + rng.standard_normal((n, D))).astype(np.float32)
    return {"X_train": X[:80], "y_train": y[:80], "X_val": X[80:], "y_val": y[80:]}


def test_defaults():
    s = Solver(ThresholdModel(), _threshold_data())
    assert s.update_rule is solver_module.optim.sgd
    assert (s.lr_decay, s.batch_size, s.num_epochs) == (1.0, 100, 10)
    assert (s.num_train_samples, s.num_val_samples, s.checkpoint_name) == (1000, None, None)
    assert (s.print_every, s.verbose, s.optim_config) == (10, True, {})


def test_unknown_kwargs_and_rules_are_rejected():
    with pytest.raises(TypeError, match="learning_rate"):
        Solver(ThresholdModel(), _threshold_data(), learning_rate=1e-3)
    with pytest.raises(TypeError, match="epochs.*lr_decy|lr_decy.*epochs"):
        Solver(ThresholdModel(), _threshold_data(), lr_decy=0.9, epochs=3)
    with pytest.raises(ValueError, match="nesterov"):
        Solver(ThresholdModel(), _threshold_data(), update_rule="nesterov")


@pytest.mark.parametrize("n_train,batch_size,num_epochs", [(40, 10, 3), (45, 10, 3),
                                                           (5, 10, 4), (30, 7, 2)])
def test_history_lengths(n_train, batch_size, num_epochs):
    s = Solver(ThresholdModel(), _threshold_data(n_train), batch_size=batch_size,
               num_epochs=num_epochs, optim_config={"learning_rate": 0.0}, verbose=False)
    s.train()
    ipe = max(n_train // batch_size, 1)
    assert len(s.loss_history) == num_epochs * ipe
    # accuracies: after the first iteration, then at the end of every epoch (the first
    # iteration is itself the end of an epoch when there is one iteration per epoch)
    expected = num_epochs + (1 if ipe > 1 else 0)
    assert len(s.train_acc_history) == len(s.val_acc_history) == expected
    assert s.epoch == num_epochs
    assert all(isinstance(v, float) for v in s.loss_history + s.val_acc_history)


def test_lr_decay_is_applied_once_per_epoch():
    """2 iterations per epoch, decay 0.5: steps of 1, 1, .5, .5, .25, .25 (w moves by lr)."""
    model = ThresholdModel()
    s = Solver(model, _threshold_data(4), batch_size=2, num_epochs=3, lr_decay=0.5,
               optim_config={"learning_rate": 1.0}, verbose=False)
    s.train()
    steps = np.diff(s.loss_history)  # the loss is w before each step
    assert np.allclose(steps, [1.0, 1.0, 0.5, 0.5, 0.25], atol=0)
    assert s.loss_history[0] == 0.0
    assert s.loss_history[-1] == 3.25  # w before the last step; w is 3.5 at the end
    assert model.params["w"][0] == 3.0  # restored: the best val accuracy is at w = 3
    assert s.optim_configs["w"]["learning_rate"] == 0.125


def test_lr_decay_with_rule_default_learning_rate():
    data = _blob_data()
    model = FullyConnectedNet([5], input_dim=8, num_classes=3, seed=0)
    s = Solver(model, data, update_rule="adam", lr_decay=0.9, num_epochs=2, batch_size=40,
               verbose=False)
    s.train()
    for cfg in s.optim_configs.values():
        assert cfg["learning_rate"] == pytest.approx(1e-3 * 0.9 ** 2, rel=1e-12)


def test_best_params_are_restored_and_are_copies():
    model = ThresholdModel()
    s = Solver(model, _threshold_data(1), batch_size=1, num_epochs=6,
               optim_config={"learning_rate": 1.0}, verbose=False, num_train_samples=None)
    s.train()
    # w after each step: 1 .. 6; val accuracy peaks (6/6) at w = 3 and then falls again
    assert s.val_acc_history == pytest.approx([4 / 6, 5 / 6, 1.0, 5 / 6, 4 / 6, 3 / 6])
    assert s.best_val_acc == 1.0
    assert model.params["w"][0] == 3.0
    assert s.loss_history[-1] == 5.0  # training did go on past the best point


def test_best_params_on_a_real_model():
    data = _blob_data()
    model = FullyConnectedNet([10], input_dim=8, num_classes=3, seed=0)
    s = Solver(model, data, update_rule="sgd", optim_config={"learning_rate": 0.05},
               num_epochs=5, batch_size=20, verbose=False)
    s.train()
    assert model.params is s.best_params or all(
        np.array_equal(model.params[k], s.best_params[k]) for k in model.params)
    assert s.best_val_acc == max(s.val_acc_history)
    assert s.check_accuracy(data["X_val"], data["y_val"]) == s.best_val_acc


@pytest.mark.parametrize("rule,lr,state", [
    ("sgd", 0.05, []),
    ("sgd_momentum", 0.01, ["velocity"]),
    ("rmsprop", 1e-3, ["cache"]),
    ("adam", 1e-2, ["m", "v", "t"]),
])
def test_every_update_rule_trains(rule, lr, state):
    data = _blob_data()
    model = FullyConnectedNet([20], input_dim=8, num_classes=3, weight_scale=0.1, seed=1)
    user_config = {"learning_rate": lr}
    s = Solver(model, data, update_rule=rule, optim_config=user_config, num_epochs=10,
               batch_size=20, verbose=False)
    s.train()
    assert user_config == {"learning_rate": lr}, "the caller's optim_config must not change"
    assert np.mean(s.loss_history[-4:]) < 0.5 * np.mean(s.loss_history[:4])
    assert s.best_val_acc >= 0.9
    configs = list(s.optim_configs.values())
    assert len({id(c) for c in configs}) == len(configs), "one config per parameter"
    for p, cfg in s.optim_configs.items():
        for key in state:
            assert key in cfg
            if key != "t":
                assert cfg[key].shape == model.params[p].shape
    for v in model.params.values():
        assert v.dtype == np.float32


def test_checkpoints_are_written_atomically(tmp_path, monkeypatch):
    replaced = []
    real_replace = os.replace

    def spy_replace(src, dst):
        assert os.path.exists(src) and str(src).endswith(".part")
        replaced.append((str(src), str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(solver_module.os, "replace", spy_replace)
    data = _blob_data()
    model = FullyConnectedNet([4], input_dim=8, num_classes=3, seed=0)
    name = str(tmp_path / "ck")
    s = Solver(model, data, num_epochs=3, batch_size=40, checkpoint_name=name, verbose=False)
    s.train()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["ck_epoch_%d.pkl" % e for e in range(4)]
    assert all(dst.endswith(".pkl") and src == dst + ".part" for src, dst in replaced)
    for e in range(4):
        with open(tmp_path / ("ck_epoch_%d.pkl" % e), "rb") as f:
            ck = pickle.load(f)
        assert ck["epoch"] == e
        assert len(ck["loss_history"]) == (1 if e == 0 else 2 * e)
        assert set(ck["model"].params) == set(model.params)
        assert ck["batch_size"] == 40


def test_no_checkpoint_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Solver(ThresholdModel(), _threshold_data(2), num_epochs=2, batch_size=1, verbose=False).train()
    assert list(tmp_path.iterdir()) == []


def test_check_accuracy_batches_and_subsamples():
    model = ThresholdModel()
    model.params["w"][0] = 100.0  # predicts class 0 everywhere
    s = Solver(model, _threshold_data())
    X, y = np.zeros((250, 1)), np.array([0] * 200 + [1] * 50)
    assert s.check_accuracy(X, y) == 0.8
    assert model.score_calls == [100, 100, 50]
    model.score_calls.clear()
    assert s.check_accuracy(X, y, batch_size=64) == 0.8
    assert model.score_calls == [64, 64, 64, 58]
    model.score_calls.clear()
    acc = s.check_accuracy(X, y, num_samples=30)
    assert sum(model.score_calls) == 30 and 0.0 <= acc <= 1.0


def test_4d_inputs_train(rng):
    X = rng.standard_normal((30, 3, 4, 4)).astype(np.float32)
    y = rng.integers(3, size=30)
    model = FullyConnectedNet([6], input_dim=48, num_classes=3, seed=0)
    s = Solver(model, {"X_train": X, "y_train": y, "X_val": X, "y_val": y}, num_epochs=1,
               batch_size=10, verbose=False)
    s.train()
    assert len(s.loss_history) == 3


def test_verbose_output(capsys):
    Solver(ThresholdModel(), _threshold_data(4), num_epochs=2, batch_size=1, verbose=False,
           optim_config={"learning_rate": 0.0}).train()
    assert capsys.readouterr().out == ""
    Solver(ThresholdModel(), _threshold_data(4), num_epochs=2, batch_size=1, print_every=3,
           optim_config={"learning_rate": 0.0}).train()
    out = capsys.readouterr().out
    assert out.count("(Iteration") == 3  # t = 0, 3, 6 of 8
    assert out.count("(Epoch") == 3      # first iteration + 2 epoch ends
