"""Hidden tests: update rules sgd_momentum, rmsprop, adam (cs239/optim.py).

Updates are compared as steps (next_w - w) with a relative tolerance, so reasonable variants
(epsilon inside the square root, in-place arithmetic on copies) get full marks. Mistakes are
recognised by comparing with the step a known mistake would give (implemented below, trusted
side only).
"""
import numpy as np
import pytest

from ._checks import (call_reporting_args, check_array, check_dtype, check_unmodified, fail,
                      rng_for)

graded = pytest.mark.graded
TOL = 1e-5


def _wdw(key, shape=(4, 5)):
    rng = rng_for("optim", key)
    w = rng.standard_normal(shape)
    # gradients away from 0, so that every rule's step is well defined and distinguishable
    dw = rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.3, 2.0, size=shape)
    return w, dw


def _call(student, rule, w, dw, config):
    """One step of the student's RULE; fails if it changed the caller's w or dw (every
    optimizer test checks this: the docstring promises rules never modify them)."""
    res, after = call_reporting_args(student, "cs239.optim." + rule, w, dw, config)
    check_unmodified(rule, ["w", "dw"], (w, dw), None if after is None else after[:2])
    return _pair(res, rule)


def _pair(res, rule):
    if not isinstance(res, tuple) or len(res) != 2:
        fail("%s must return a tuple (next_w, config), got a %s"
             % (rule, getattr(res, "type_name", None) or type(res).__name__))
    next_w, cfg = res
    if not isinstance(cfg, dict):
        fail("%s must return the config dict as its second value, got a %s"
             % (rule, getattr(cfg, "type_name", None) or type(cfg).__name__))
    return next_w, cfg


def _check_step(rule, step_no, w, next_w, exp_next, mistakes):
    what = "%s step %d: the update next_w - w" % (rule, step_no)
    if next_w is None:
        fail("%s step %d: next_w is None (store the updated weights in next_w)" % (rule, step_no))
    arr = np.asarray(next_w) if isinstance(next_w, np.ndarray) else next_w
    if isinstance(arr, np.ndarray) and arr.shape == w.shape:
        arr = arr - w
    cands = []
    for h, c in mistakes:
        if isinstance(c, str):
            cands.append((h, c))
        elif callable(c):
            cands.append((h, lambda c=c: _minus(c(), w)))
        else:
            cands.append((h, _minus(c, w)))
    check_array(arr, exp_next - w, what, tol=TOL, mistakes=cands)


def _minus(a, w):
    return None if a is None else a - w


def _check_state(rule, step_no, cfg, key, expected, wrong=()):
    if key not in cfg:
        fail("%s step %d: config has no %r after the step: write the updated state back into "
             "config[%r] so the next call continues from it" % (rule, step_no, key, key))
    what = "%s step %d: config[%r]" % (rule, step_no, key)
    got = cfg[key]
    if isinstance(expected, (int, np.integer)):
        if not isinstance(got, (int, np.integer, float, np.floating)) or got != expected:
            msg = "%s: expected %d after %d step(s) from the config given, got %r" % (
                what, expected, step_no, got)
            for h, v in wrong:
                if got == v:
                    msg += "; looks like %s" % h
                    break
            fail(msg)
        return
    check_array(got, expected, what, tol=TOL, mistakes=wrong)


# --------------------------------------------------------------------------- momentum
def _momentum(w, dw, cfg, sign=1):
    v = cfg.get("velocity", np.zeros_like(w))
    v = cfg["momentum"] * v - sign * cfg["learning_rate"] * dw
    return w + v, dict(cfg, velocity=v)


def _momentum_alt(w, dw, cfg):
    # the other convention: v = mu v + dw; w -= lr v  (a different algorithm for lr changes)
    v = cfg.get("velocity", np.zeros_like(w))
    v = cfg["momentum"] * v + dw
    return w - cfg["learning_rate"] * v, dict(cfg, velocity=v)


@graded("sgd_momentum: one step from a given velocity", points=1)
def test_momentum_one_step(student, ref):
    w, dw = _wdw("mom1")
    v = rng_for("mom1v").standard_normal(w.shape) * 0.1
    cfg = {"learning_rate": 1e-2, "momentum": 0.8, "velocity": v}
    next_w, _ = _call(student, "sgd_momentum", w, dw, dict(cfg))
    exp, _ = ref.optim.sgd_momentum(w, dw, dict(cfg))
    _check_step("sgd_momentum", 1, w, next_w, exp, [
        ("the gradient is added instead of subtracted (v = mu * v - lr * dw)",
         _momentum(w, dw, cfg, sign=-1)[0]),
        ("the velocity is not used (plain SGD)", w - cfg["learning_rate"] * dw),
        ("the velocity in config is ignored (it starts from zeros every step)",
         _momentum(w, dw, {k: cfg[k] for k in ("learning_rate", "momentum")})[0]),
        ("the other momentum convention (v = mu * v + dw; w -= lr * v); use "
         "v = mu * v - lr * dw; next_w = w + v", _momentum_alt(w, dw, cfg)[0])])


@graded("sgd_momentum: velocity saved in config and used over several steps", points=2)
def test_momentum_steps(student, ref):
    w, _ = _wdw("momN")
    cfg = {"learning_rate": 5e-2, "momentum": 0.9}
    rcfg = dict(cfg)
    for step in range(1, 5):
        dw = _wdw(("momN", step))[1]
        prev_v = rcfg.get("velocity", np.zeros_like(w))
        next_w, cfg = _call(student, "sgd_momentum", w, dw, cfg)
        exp, rcfg = ref.optim.sgd_momentum(w, dw, rcfg)
        _check_step("sgd_momentum", step, w, next_w, exp, [
            ("the velocity was not saved in config between steps",
             lambda: _momentum(w, dw, {k: rcfg[k] for k in ("learning_rate", "momentum")})[0]),
        ])
        _check_state("sgd_momentum", step, cfg, "velocity", rcfg["velocity"], wrong=[
            ("config['velocity'] was not updated: store the new velocity in it",
             prev_v)])
        w = exp


@graded("sgd_momentum: default config (learning_rate 1e-2, momentum 0.9)", points=1)
def test_momentum_defaults(student, ref):
    w, dw = _wdw("momd")
    next_w, cfg = _call(student, "sgd_momentum", w, dw, None)
    _check_float32(student, "sgd_momentum")
    exp, rcfg = ref.optim.sgd_momentum(w, dw, None)
    _check_defaults("sgd_momentum", cfg, {"learning_rate": 1e-2, "momentum": 0.9})
    _check_step("sgd_momentum", 1, w, next_w, exp, [])


def _check_float32(student, rule):
    """The dtype rule of every graded function: float32 w and dw give a float32 next_w."""
    w, dw = (a.astype(np.float32) for a in _wdw(("f32", rule)))
    next_w, _ = _call(student, rule, w, dw, None)
    if isinstance(next_w, np.ndarray) and next_w.shape == w.shape:
        check_dtype(next_w, np.float32, "%s(w, dw) for float32 w and dw: next_w" % rule,
                    " (float32 inputs must give a float32 result: start the state with "
                    "np.zeros_like(w), not np.zeros(w.shape), and keep scalar factors Python "
                    "numbers: numpy 2 turns an array times np.power(beta1, t) or np.float64(...) "
                    "into float64)")


def _check_defaults(rule, cfg, defaults):
    if not isinstance(cfg, dict):
        fail("%s(w, dw, None) must return (next_w, config) with config a dict" % rule)
    for k, v in defaults.items():
        if k not in cfg:
            fail("%s(w, dw, None): the returned config has no %r (default %g)" % (rule, k, v))
        if not isinstance(cfg[k], (int, float, np.number)) or abs(cfg[k] - v) > 1e-12 * abs(v):
            fail("%s(w, dw, None): config[%r] should default to %g, got %r" % (rule, k, v, cfg[k]))


# --------------------------------------------------------------------------- rmsprop
def _rmsprop(w, dw, cfg, square=True, keep=True):
    c = cfg.get("cache", np.zeros_like(w)) if keep else np.zeros_like(w)
    g2 = dw * dw if square else dw
    c = cfg["decay_rate"] * c + (1 - cfg["decay_rate"]) * g2
    with np.errstate(invalid="ignore"):
        step = cfg["learning_rate"] * dw / (np.sqrt(c) + cfg["epsilon"])
    return w - step, dict(cfg, cache=c)


RMS_NAN = ("looks like a square root of a negative number: the cache must accumulate squared "
           "gradients (dw**2)", "nonfinite")
def _adam_t_hint(t_before, cfg):
    """Why the step used the old t: t incremented after its use, or never incremented (the
    returned config tells them apart)."""
    t_after = cfg.get("t") if isinstance(cfg, dict) else None
    if isinstance(t_after, (int, float, np.number)) and t_after == t_before:
        return ("t is never incremented (config['t'] is still %d after the step, and the "
                "bias correction used t = %d): do t = t + 1 first, use that t, and store it in "
                "config['t']" % (t_before, t_before))
    return ("t is incremented after it is used: increment t first, then use it in the bias "
            "correction")


def _adam_nan(cfg):
    """The hint for a first step (from t = 0) that gives NaN or inf: 1 - beta1**0 = 0."""
    return ("looks like " + _adam_t_hint(0, cfg) + " (1 - beta1**0 = 0 divides by zero)",
            "nonfinite")


def _rmsprop_mistakes(w, dw, cfg):
    c0 = cfg.get("cache", np.zeros_like(w))
    return [RMS_NAN,
        ("the gradient is not squared in the cache update (use dw**2)",
         lambda: _rmsprop(w, dw, cfg, square=False)[0]),
        ("the cache from config is ignored (it starts from zeros every step)",
         lambda: _rmsprop(w, dw, cfg, keep=False)[0]),
        ("the square root is missing (divide by sqrt(cache) + epsilon)",
         lambda: w - cfg["learning_rate"] * dw / (
             cfg["decay_rate"] * c0 + (1 - cfg["decay_rate"]) * dw * dw + cfg["epsilon"])),
        ("decay_rate and 1 - decay_rate are swapped",
         lambda: _rmsprop(w, dw, dict(cfg, decay_rate=1 - cfg["decay_rate"]))[0]),
        ("the update has the wrong sign", lambda: 2 * w - _rmsprop(w, dw, cfg)[0]),
    ]


@graded("rmsprop: one step from a given cache", points=1)
def test_rmsprop_one_step(student, ref):
    w, dw = _wdw("rms1")
    cache = rng_for("rms1c").uniform(0.1, 1.0, size=w.shape)
    cfg = {"learning_rate": 1e-2, "decay_rate": 0.9, "epsilon": 1e-8, "cache": cache}
    next_w, _ = _call(student, "rmsprop", w, dw, dict(cfg))
    exp, _ = ref.optim.rmsprop(w, dw, dict(cfg))
    _check_step("rmsprop", 1, w, next_w, exp, _rmsprop_mistakes(w, dw, cfg))


@graded("rmsprop: cache saved in config and used over several steps", points=2)
def test_rmsprop_steps(student, ref):
    w, _ = _wdw("rmsN")
    cfg = {"learning_rate": 1e-2, "decay_rate": 0.95}
    rcfg = dict(cfg)
    for step in range(1, 5):
        dw = _wdw(("rmsN", step))[1]
        next_w, cfg = _call(student, "rmsprop", w, dw, cfg)
        prev = dict(rcfg)
        exp, rcfg = ref.optim.rmsprop(w, dw, rcfg)
        if step > 1:
            prev.setdefault("epsilon", 1e-8)
        _check_step("rmsprop", step, w, next_w, exp, [RMS_NAN,
            ("the cache was not saved in config between steps",
             lambda: _rmsprop(w, dw, dict(prev, epsilon=1e-8), keep=False)[0])])
        _check_state("rmsprop", step, cfg, "cache", rcfg["cache"], wrong=[
            ("config['cache'] was not updated: store the new cache in config['cache']",
             prev.get("cache", np.zeros_like(w)))])
        w = exp


@graded("rmsprop: default config (learning_rate 1e-2, decay_rate 0.99, epsilon 1e-8)",
        points=1)
def test_rmsprop_defaults(student, ref):
    w, dw = _wdw("rmsd")
    next_w, cfg = _call(student, "rmsprop", w, dw, None)
    _check_float32(student, "rmsprop")
    _check_defaults("rmsprop", cfg, {"learning_rate": 1e-2, "decay_rate": 0.99,
                                     "epsilon": 1e-8})
    exp, _ = ref.optim.rmsprop(w, dw, None)
    _check_step("rmsprop", 1, w, next_w, exp, _rmsprop_mistakes(
        w, dw, {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8}))


# --------------------------------------------------------------------------- adam
def _adam(w, dw, cfg, t_used_offset=1, correct=True, store_corrected=False, t_fixed=None):
    b1, b2, lr, eps = cfg["beta1"], cfg["beta2"], cfg["learning_rate"], cfg["epsilon"]
    t = cfg["t"] + 1
    tu = cfg["t"] + t_used_offset if t_fixed is None else t_fixed
    m = b1 * cfg["m"] + (1 - b1) * dw
    v = b2 * cfg["v"] + (1 - b2) * dw * dw
    with np.errstate(divide="ignore", invalid="ignore"):
        mt = m / (1 - b1**tu) if correct else m
        vt = v / (1 - b2**tu) if correct else v
        next_w = w - lr * mt / (np.sqrt(vt) + eps)
    new = dict(cfg, m=mt if store_corrected else m, v=vt if store_corrected else v, t=t)
    return next_w, new


def _adam_mistakes(w, dw, cfg, returned=None):
    return [
        (_adam_t_hint(cfg["t"], returned), lambda: _adam(w, dw, cfg, t_used_offset=0)[0]),
        ("there is no bias correction (mt = m / (1 - beta1**t), vt = v / (1 - beta2**t))",
         lambda: _adam(w, dw, cfg, correct=False)[0]),
        ("the update has the wrong sign", lambda: 2 * w - _adam(w, dw, cfg)[0]),
    ]


def _adam_cfg(key, t):
    rng = rng_for("adamcfg", key)
    shape = (4, 5)
    return {"learning_rate": 1e-2, "beta1": 0.9, "beta2": 0.99, "epsilon": 1e-8,
            "m": 0.1 * rng.standard_normal(shape), "v": rng.uniform(0.01, 0.1, size=shape),
            "t": t}


@graded("adam: one step from a given state (m, v, t = 5)", points=1)
def test_adam_one_step(student, ref):
    w, dw = _wdw("adam1")
    cfg = _adam_cfg("adam1", 5)
    next_w, scfg = _call(student, "adam", w, dw, dict(cfg))
    exp, _ = ref.optim.adam(w, dw, dict(cfg))
    _check_step("adam", 1, w, next_w, exp, _adam_mistakes(w, dw, cfg, scfg))


@graded("adam: t incremented before use (first step from t = 0), m, v, t saved in config",
        points=1)
def test_adam_first_step(student, ref):
    w, dw = _wdw("adam0")
    cfg = {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
    next_w, scfg = _call(student, "adam", w, dw, dict(cfg))
    exp, rcfg = ref.optim.adam(w, dw, dict(cfg))
    arr = np.asarray(next_w) if isinstance(next_w, np.ndarray) else None
    if arr is not None and arr.shape == w.shape and not np.all(np.isfinite(arr)):
        fail("adam step 1 (from t = 0): next_w contains NaN or inf; " + _adam_nan(scfg)[0])
    zero = dict(cfg, m=np.zeros_like(w), v=np.zeros_like(w), t=0)
    _check_step("adam", 1, w, next_w, exp, [_adam_nan(scfg)] + _adam_mistakes(w, dw, zero,
                                                                                scfg))
    _check_state("adam", 1, scfg, "t", 1, wrong=[
        ("t was not incremented", 0), ("t was incremented twice", 2)])
    _check_state("adam", 1, scfg, "m", rcfg["m"], wrong=[
        ("the bias-corrected moment mt was stored instead of m (keep m uncorrected)",
         rcfg["m"] / (1 - 0.9))])
    _check_state("adam", 1, scfg, "v", rcfg["v"], wrong=[
        ("the bias-corrected moment vt was stored instead of v (keep v uncorrected)",
         rcfg["v"] / (1 - 0.999))])


@graded("adam: state saved and used over several steps (uncorrected m and v stored)",
        points=2)
def test_adam_steps(student, ref):
    w, _ = _wdw("adamN")
    cfg = {"learning_rate": 1e-2}
    rcfg = dict(cfg)
    hist = []
    for step in range(1, 6):
        dw = _wdw(("adamN", step))[1]
        hist.append((w, dw))
        prev = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in rcfg.items()}
        next_w, cfg = _call(student, "adam", w, dw, cfg)
        exp, rcfg = ref.optim.adam(w, dw, rcfg)
        mistakes = [_adam_nan(cfg)] + _adam_mistakes(
            w, dw, {"learning_rate": 1e-2, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8,
                    "m": np.zeros_like(w), "v": np.zeros_like(w), "t": 0}, cfg)
        if step > 1:
            mistakes = [
                ("the bias-corrected moments were stored in config (keep m and v "
                 "uncorrected; mt and vt are only used for the update)",
                 lambda: _adam_replay(hist, store_corrected=True)),
                ("the state (m, v, t) was not saved in config between steps",
                 lambda: _adam(w, dw, dict(prev, m=np.zeros_like(w), v=np.zeros_like(w),
                                           t=0))[0]),
                (_adam_t_hint(step - 1, cfg), lambda: _adam_replay(hist, t_used_offset=0)),
                ("t is not carried over between steps (the bias correction uses t = 1 at "
                 "every step): store the incremented t in config['t']",
                 lambda: _adam_replay(hist, t_fixed=1)),
                ("there is no bias correction (mt = m / (1 - beta1**t), "
                 "vt = v / (1 - beta2**t))", lambda: _adam_replay(hist, correct=False)),
            ]
        _check_step("adam", step, w, next_w, exp, mistakes)
        t = rcfg["t"]
        _check_state("adam", step, cfg, "t", t, wrong=[("t was not incremented", t - 1)])
        for key, beta in (("m", 0.9), ("v", 0.999)):
            _check_state("adam", step, cfg, key, rcfg[key], wrong=[
                ("the bias-corrected moment was stored in config[%r] (keep %s uncorrected; the "
                 "corrected one is only used for the update)" % (key, key),
                 rcfg[key] / (1 - beta**t))])
        w = exp


def _adam_replay(hist, **mistake):
    """next_w at the last step of hist if every step made the given mistake."""
    w0 = hist[0][0]
    cfg = {"learning_rate": 1e-2, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8,
           "m": np.zeros_like(w0), "v": np.zeros_like(w0), "t": 0}
    out = None
    for w, dw in hist:
        out, cfg = _adam(w, dw, cfg, **mistake)
    return out


@graded("adam: default config (learning_rate 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-8)",
        points=1)
def test_adam_defaults(student, ref):
    w, dw = _wdw("adamd")
    next_w, cfg = _call(student, "adam", w, dw, None)
    _check_float32(student, "adam")
    _check_defaults("adam", cfg, {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999,
                                  "epsilon": 1e-8})
    exp, _ = ref.optim.adam(w, dw, None)
    zero = {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8,
            "m": np.zeros_like(w), "v": np.zeros_like(w), "t": 0}
    _check_step("adam", 1, w, next_w, exp, [_adam_nan(cfg)] + _adam_mistakes(w, dw, zero, cfg))
