"""cs239.optim: CS231n's published linspace checks, several steps against plain-Python
implementations of the formulas, defaults, state kept in config, dtypes and no mutation."""
import math

import numpy as np
import pytest

from cs239 import optim
from cs239.optim import adam, rmsprop, sgd, sgd_momentum

pytestmark = pytest.mark.fast

N, D = 4, 5
RULES = [sgd, sgd_momentum, rmsprop, adam]


def _lin(a, b):
    return np.linspace(a, b, num=N * D).reshape(N, D)


def _max_abs(a, b):
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


# ------------------------------------------------ plain-Python references (one scalar at a time)

def _ref_momentum(w, dw, v, lr, mu):
    v = mu * v - lr * dw
    return w + v, v


def _ref_rmsprop(w, dw, cache, lr, decay, eps):
    cache = decay * cache + (1 - decay) * dw * dw
    return w - lr * dw / (math.sqrt(cache) + eps), cache


def _ref_adam(w, dw, m, v, t, lr, b1, b2, eps):
    t += 1
    m = b1 * m + (1 - b1) * dw
    v = b2 * v + (1 - b2) * dw * dw
    mt, vt = m / (1 - b1 ** t), v / (1 - b2 ** t)
    return w - lr * mt / (math.sqrt(vt) + eps), m, v, t


def _elementwise(fn, *arrays, **kw):
    """Apply a scalar reference to every element; returns one array per output."""
    flat = [np.asarray(a, np.float64).ravel().tolist() for a in arrays]
    outs = [fn(*vals, **kw) for vals in zip(*flat)]
    return [np.array(col).reshape(arrays[0].shape) for col in zip(*outs)]


# ---------------------------------------------------------------- sgd

def test_sgd_default_and_value():
    w, dw = _lin(-0.4, 0.6), _lin(-0.6, 0.4)
    next_w, config = sgd(w, dw)
    assert config["learning_rate"] == 1e-2
    assert _max_abs(next_w, w - 1e-2 * dw) < 1e-15
    next_w, _ = sgd(w, dw, {"learning_rate": 0.5})
    assert _max_abs(next_w, w - 0.5 * dw) < 1e-15


# ---------------------------------------------------------------- sgd_momentum

def test_sgd_momentum_cs231n_published_values():
    w, dw, v = _lin(-0.4, 0.6), _lin(-0.6, 0.4), _lin(0.6, 0.9)
    config = {"learning_rate": 1e-3, "velocity": v}
    next_w, config = sgd_momentum(w, dw, config=config)
    expected_next_w = np.asarray([
        [0.1406, 0.20738947, 0.27417895, 0.34096842, 0.40775789],
        [0.47454737, 0.54133684, 0.60812632, 0.67491579, 0.74170526],
        [0.80849474, 0.87528421, 0.94207368, 1.00886316, 1.07565263],
        [1.14244211, 1.20923158, 1.27602105, 1.34281053, 1.4096]])
    expected_velocity = np.asarray([
        [0.5406, 0.55475789, 0.56891579, 0.58307368, 0.59723158],
        [0.61138947, 0.62554737, 0.63970526, 0.65386316, 0.66802105],
        [0.68217895, 0.69633684, 0.71049474, 0.72465263, 0.73881053],
        [0.75296842, 0.76712632, 0.78128421, 0.79544211, 0.8096]])
    assert _max_abs(next_w, expected_next_w) < 1e-8
    assert _max_abs(config["velocity"], expected_velocity) < 1e-8


def test_sgd_momentum_defaults_and_several_steps(rng):
    w = rng.standard_normal((3, 4))
    next_w, config = sgd_momentum(w, np.zeros_like(w))
    assert config["learning_rate"] == 1e-2 and config["momentum"] == 0.9
    assert np.array_equal(config["velocity"], np.zeros_like(w)) and np.array_equal(next_w, w)

    config, ref_w, ref_v = None, w.copy(), np.zeros_like(w)
    for _ in range(4):
        dw = rng.standard_normal(w.shape)
        w, config = sgd_momentum(w, dw, config)
        ref_w, ref_v = _elementwise(_ref_momentum, ref_w, dw, ref_v, lr=1e-2, mu=0.9)
    assert _max_abs(w, ref_w) < 1e-14
    assert _max_abs(config["velocity"], ref_v) < 1e-14


def test_sgd_momentum_zero_momentum_is_sgd(rng):
    w, dw = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    next_w, _ = sgd_momentum(w, dw, {"learning_rate": 0.1, "momentum": 0.0})
    assert _max_abs(next_w, w - 0.1 * dw) < 1e-15


# ---------------------------------------------------------------- rmsprop

def test_rmsprop_cs231n_published_values():
    w, dw, cache = _lin(-0.4, 0.6), _lin(-0.6, 0.4), _lin(0.6, 0.9)
    config = {"learning_rate": 1e-2, "cache": cache}
    next_w, config = rmsprop(w, dw, config=config)
    expected_next_w = np.asarray([
        [-0.39223849, -0.34037513, -0.28849239, -0.23659121, -0.18467247],
        [-0.132737, -0.08078555, -0.02881884, 0.02316247, 0.07515774],
        [0.12716641, 0.17918792, 0.23122175, 0.28326742, 0.33532447],
        [0.38739248, 0.43947102, 0.49155973, 0.54365823, 0.59576619]])
    expected_cache = np.asarray([
        [0.5976, 0.6126277, 0.6277108, 0.64284931, 0.65804321],
        [0.67329252, 0.68859723, 0.70395734, 0.71937285, 0.73484377],
        [0.75037008, 0.7659518, 0.78158892, 0.79728144, 0.81302936],
        [0.82883269, 0.84469141, 0.86060554, 0.87657507, 0.8926]])
    assert _max_abs(next_w, expected_next_w) < 1e-8
    assert _max_abs(config["cache"], expected_cache) < 1e-8


def test_rmsprop_defaults_and_several_steps(rng):
    w = rng.standard_normal((3, 4))
    config, ref_w, ref_c = None, w.copy(), np.zeros_like(w)
    for _ in range(5):
        dw = rng.standard_normal(w.shape)
        w, config = rmsprop(w, dw, config)
        ref_w, ref_c = _elementwise(_ref_rmsprop, ref_w, dw, ref_c,
                                    lr=1e-2, decay=0.99, eps=1e-8)
    assert (config["learning_rate"], config["decay_rate"], config["epsilon"]) == (1e-2, 0.99, 1e-8)
    assert _max_abs(w, ref_w) < 1e-13
    assert _max_abs(config["cache"], ref_c) < 1e-14


# ---------------------------------------------------------------- adam

def test_adam_cs231n_published_values():
    w, dw = _lin(-0.4, 0.6), _lin(-0.6, 0.4)
    m, v = _lin(0.6, 0.9), _lin(0.7, 0.5)
    config = {"learning_rate": 1e-2, "m": m, "v": v, "t": 5}
    next_w, config = adam(w, dw, config=config)
    expected_next_w = np.asarray([
        [-0.40094747, -0.34836187, -0.29577703, -0.24319299, -0.19060977],
        [-0.1380274, -0.08544591, -0.03286534, 0.01971428, 0.0722929],
        [0.1248705, 0.17744702, 0.23002243, 0.28259667, 0.33516969],
        [0.38774145, 0.44031188, 0.49288093, 0.54544852, 0.59801459]])
    expected_v = np.asarray([
        [0.69966, 0.68908382, 0.67851319, 0.66794809, 0.65738853],
        [0.64683452, 0.63628604, 0.6257431, 0.61520571, 0.60467385],
        [0.59414753, 0.58362676, 0.57311152, 0.56260183, 0.55209767],
        [0.54159906, 0.53110598, 0.52061845, 0.51013645, 0.49966]])
    expected_m = np.asarray([
        [0.48, 0.49947368, 0.51894737, 0.53842105, 0.55789474],
        [0.57736842, 0.59684211, 0.61631579, 0.63578947, 0.65526316],
        [0.67473684, 0.69421053, 0.71368421, 0.73315789, 0.75263158],
        [0.77210526, 0.79157895, 0.81105263, 0.83052632, 0.85]])
    assert _max_abs(next_w, expected_next_w) < 1e-8
    assert _max_abs(config["v"], expected_v) < 1e-8
    assert _max_abs(config["m"], expected_m) < 1e-8
    assert config["t"] == 6


def test_adam_first_step_closed_form(rng):
    """From zero state, t = 1: mt = dw and vt = dw**2, so the step is lr * dw / (|dw| + eps)."""
    w, dw = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    next_w, config = adam(w, dw)
    assert config["t"] == 1
    assert _max_abs(next_w, w - 1e-3 * dw / (np.abs(dw) + 1e-8)) < 1e-15
    # the stored moments are the uncorrected ones
    assert _max_abs(config["m"], 0.1 * dw) < 1e-15
    assert _max_abs(config["v"], 0.001 * dw ** 2) < 1e-15


def test_adam_defaults_and_several_steps(rng):
    w = rng.standard_normal((3, 4))
    config, ref = None, (w.copy(), np.zeros_like(w), np.zeros_like(w), np.zeros_like(w))
    for step in range(1, 7):
        dw = rng.standard_normal(w.shape)
        w, config = adam(w, dw, config)
        ref_w, ref_m, ref_v, ref_t = _elementwise(
            _ref_adam, ref[0], dw, ref[1], ref[2], ref[3],
            lr=1e-3, b1=0.9, b2=0.999, eps=1e-8)
        ref = (ref_w, ref_m, ref_v, ref_t)
        assert config["t"] == step
    assert (config["learning_rate"], config["beta1"], config["beta2"], config["epsilon"]) == (
        1e-3, 0.9, 0.999, 1e-8)
    assert _max_abs(w, ref[0]) < 1e-14
    assert _max_abs(config["m"], ref[1]) < 1e-15
    assert _max_abs(config["v"], ref[2]) < 1e-15


# ---------------------------------------------------------------- common contract

@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_rules_float32_in_float32_out_over_steps(rng, rule):
    w = rng.standard_normal((5, 3)).astype(np.float32)
    config = None
    for _ in range(3):
        dw = rng.standard_normal((5, 3)).astype(np.float32)
        w, config = rule(w, dw, config)
        assert w.dtype == np.float32 and w.shape == (5, 3)
        for key in ("velocity", "cache", "m", "v"):
            if key in config:
                assert config[key].dtype == np.float32, key


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_rules_do_not_mutate_w_or_dw(rng, rule):
    w, dw = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    w0, dw0 = w.copy(), dw.copy()
    config = None
    for _ in range(2):
        next_w, config = rule(w, dw, config)
        assert not np.shares_memory(next_w, w)
    assert np.array_equal(w, w0) and np.array_equal(dw, dw0)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_rules_write_state_back_into_the_callers_config(rng, rule):
    w, dw = rng.standard_normal(6), rng.standard_normal(6)
    config = {"learning_rate": 1e-2}
    _, returned = rule(w, dw, config)
    assert returned is config


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_rules_descend_a_quadratic(rule):
    """On f(w) = 0.5 * |w|^2 (gradient w) every rule moves towards 0."""
    w = np.full(4, 3.0)
    config = {"learning_rate": 1e-1}
    for _ in range(200):
        w, config = rule(w, w, config)
    assert np.all(np.abs(w) < 1.0)


def test_module_exports_the_four_rules():
    for name in ("sgd", "sgd_momentum", "rmsprop", "adam"):
        assert callable(getattr(optim, name))
