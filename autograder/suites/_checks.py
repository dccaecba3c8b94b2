"""Comparison and diagnosis helpers shared by the hidden suites (trusted side only).

Every check raises a plain ``AssertionError`` whose message is the whole feedback a student
sees: what was checked, how the answer differs (shape, dtype, max relative error and where),
and, when the answer matches a known mistake, what that mistake probably is. Messages never
contain reference values; only the student's own shapes/dtypes, error sizes and indices.

Never use a bare ``assert expr, msg`` in the suites: pytest's assertion rewriting appends an
explanation with the compared values to the message. Use ``fail()`` / the checks below.
"""
import numpy as np

__all__ = [
    "fail", "rng_for", "as_array", "check_array", "check_scalar", "check_dtype", "check_dict",
    "check_unmodified", "call_reporting_args", "numeric_grad", "check_grads_match_own_loss", "rel_err_max", "close",
    "fmt_index", "student_raised", "reg_mistakes",
]


def fail(msg):
    raise AssertionError(msg)


def rng_for(*key):
    """A numpy Generator seeded deterministically from a test-specific key (trusted side only:
    the suites never touch the global numpy RNG)."""
    seed = 0
    for part in key:
        for ch in str(part):
            seed = (seed * 131 + ord(ch)) % (2**32 - 1)
    return np.random.default_rng(seed)


def fmt_index(ix):
    ix = tuple(int(i) for i in ix)
    return str(ix[0]) if len(ix) == 1 else str(ix)


def _floor(expected, rel_floor):
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    return max(1e-12, rel_floor * scale)


def rel_err_map(got, expected, rel_floor=1e-4):
    """Elementwise |got - expected| / (|got| + |expected|), with entries much smaller than the
    largest expected one compared in absolute terms (so round-off on near-zeros never fails)."""
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    denom = np.maximum(np.abs(got) + np.abs(expected), _floor(expected, rel_floor))
    with np.errstate(invalid="ignore"):
        err = np.abs(got - expected) / denom
    return np.where(np.isnan(err), np.inf, err)


def rel_err_max(got, expected, rel_floor=1e-4):
    """(max relative error, index of the max)."""
    err = rel_err_map(got, expected, rel_floor)
    if err.size == 0:
        return 0.0, ()
    ix = np.unravel_index(int(np.argmax(err)), err.shape)
    return float(err[ix]), ix


def close(got, expected, tol, rel_floor=1e-4):
    try:
        got = np.asarray(got, dtype=np.float64)
        expected = np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if got.shape != expected.shape:
        return False
    if not np.all(np.isfinite(got)):
        return False
    return rel_err_max(got, expected, rel_floor)[0] < tol


def _type_name(v):
    return getattr(v, "type_name", None) or type(v).__name__


def as_array(got, what, hint_none=""):
    """The student's value as a numeric ndarray, or fail with a clear message."""
    if got is None:
        fail("%s: got None instead of an array%s" % (what, hint_none or
             " (did you store the result in the variable that is returned?)"))
    if isinstance(got, np.ndarray):
        arr = got
    elif isinstance(got, (list, tuple, int, float, np.number, np.bool_)):
        try:
            arr = np.asarray(got)
        except (TypeError, ValueError):
            fail("%s: expected a numeric array, got a %s" % (what, _type_name(got)))
    else:
        fail("%s: expected a numeric array, got a %s" % (what, _type_name(got)))
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                   or arr.dtype == np.bool_):
        fail("%s: expected a numeric array, got an array of dtype %s" % (what, arr.dtype))
    return arr


def check_dtype(got, dtype, what, why=""):
    got = np.asarray(got)
    if got.dtype != np.dtype(dtype):
        fail("%s: dtype expected %s, got %s%s" % (what, np.dtype(dtype).name, got.dtype.name,
                                                  why))


def _factor_hint(got, expected, tol, factors):
    """If got ~= k * expected for a scalar k, a sentence naming the likely mistake."""
    e = expected.astype(np.float64).ravel()
    g = got.astype(np.float64).ravel()
    ee = float(e @ e)
    if ee == 0.0 or not np.all(np.isfinite(g)):
        return None
    k = float(g @ e) / ee
    if not np.isfinite(k) or abs(k) < 1e-12 or not close(got, k * expected, max(tol, 1e-5) * 10):
        return None
    for value, hint in factors:
        if abs(k - value) <= 1e-3 * abs(value):
            return hint
    if e.size == 1:
        # any two numbers are a constant factor apart: for a scalar only the factors a known
        # mistake gives say anything (an additive error is not "off by a factor of 1.58")
        return None
    if abs(k + 1) < 1e-3:
        return "it has the wrong sign (it is exactly minus the right answer)"
    if abs(k - 2) < 1e-3:
        return "it is twice the right answer (a factor 2 or 1/2 is off)"
    if abs(k - 0.5) < 1e-3:
        return "it is half the right answer (a factor 2 or 1/2 is off)"
    return "it is off by a constant factor of about %.3g" % k


def check_array(got, expected, what, *, tol=1e-6, rel_floor=1e-4, dtype=None, mistakes=(),
                factors=(), dtype_why="", extra=""):
    """Compare a student's array with the expected one.

    - expected: the right answer (float64 ndarray, computed on the trusted side).
    - mistakes: iterable of (hint, candidate) pairs; candidate is the answer under a known
      mistake (an array, or a zero-argument callable computing it lazily). The first candidate
      the student's answer matches is named in the message.
    - factors: iterable of (k, hint) for "answer == k * expected" diagnoses (e.g. (N, "...")).
    - dtype: if given, the dtype the answer must have.
    Returns the student's answer as an ndarray.
    """
    expected = np.asarray(expected)
    arr = as_array(got, what)
    if arr.shape != expected.shape:
        msg = "%s: shape expected %s, got %s" % (what, expected.shape, arr.shape)
        if arr.shape == expected.shape[::-1] and arr.ndim >= 2 and close(arr.T, expected, tol):
            msg += "; it is the transpose of the right answer"
        elif arr.size == expected.size and close(arr.reshape(expected.shape), expected, tol):
            msg += "; the values are right, but it must be reshaped to %s" % (expected.shape,)
        else:
            for hint, cand in mistakes:
                cand = cand() if callable(cand) else cand
                if cand is not None and np.shape(cand) == arr.shape and close(arr, cand, tol):
                    msg += "; looks like %s" % hint
                    break
        fail(msg + extra)
    if dtype is not None:
        check_dtype(arr, dtype, what, dtype_why)
    bad = ~np.isfinite(arr) if np.issubdtype(arr.dtype, np.inexact) else np.zeros(arr.shape, bool)
    if bad.any():
        ix = np.argwhere(bad)[0]
        msg = "%s: contains %s at index %s (should be finite)" % (
            what, "NaN" if np.isnan(arr[tuple(ix)]) else "inf", fmt_index(ix))
        for hint, cand in mistakes:
            if isinstance(cand, str) and cand == "nonfinite":
                msg += "; %s" % hint
                break
        fail(msg + extra)
    tol_eff = tol if arr.dtype != np.float32 else max(tol, 1e-4)
    err, ix = rel_err_max(arr, expected, rel_floor)
    if err < tol_eff:
        return arr
    where = (" at index %s" % fmt_index(ix)) if arr.ndim else ""
    msg = "%s: max relative error %.1e%s (should be < %.0e)" % (what, err, where, tol_eff)
    frac = float(np.mean(rel_err_map(arr, expected, rel_floor) >= tol_eff)) if arr.ndim else 1.0
    if arr.ndim and frac < 1.0:
        msg += "; %d%% of the entries are wrong" % max(1, round(100 * frac))
    hint = None
    for h, cand in mistakes:
        if isinstance(cand, str):
            continue
        cand = cand() if callable(cand) else cand
        if cand is not None and np.shape(cand) == arr.shape and close(arr, cand, max(tol, 1e-5)
                                                                        * 10, rel_floor):
            hint = h
            break
    if hint is None:
        hint = _factor_hint(arr, expected, tol, factors)
    if hint is None and arr.ndim == 2 and arr.shape[0] == arr.shape[1] and close(
            arr.T, expected, tol):
        hint = "it is the transpose of the right answer"
    if hint:
        msg += "; looks like %s" % hint
    fail(msg + extra)


def check_scalar(got, expected, what, *, tol=1e-6, mistakes=(), factors=(), extra=""):
    """Compare a student's scalar (Python or numpy number, or a 0-d / size-1 array)."""
    if got is None:
        fail("%s: got None instead of a number" % what)
    if isinstance(got, np.ndarray):
        if got.size != 1:
            fail("%s: expected a scalar, got an array of shape %s" % (what, got.shape))
        got = got.reshape(())
    elif not isinstance(got, (int, float, np.number)) or isinstance(got, bool):
        fail("%s: expected a number, got a %s" % (what, _type_name(got)))
    arr = np.asarray(got, dtype=np.float64).reshape(())
    check_array(arr, np.asarray(expected, dtype=np.float64).reshape(()), what, tol=tol,
                mistakes=[(h, (np.asarray(c, dtype=np.float64).reshape(())
                               if not callable(c) and not isinstance(c, str) else c))
                          for h, c in mistakes],
                factors=factors, extra=extra)
    return float(arr)


def check_dict(got, expected_keys, what):
    if not isinstance(got, dict):
        fail("%s: expected a dict, got a %s" % (what, _type_name(got)))
    missing = [k for k in expected_keys if k not in got]
    extra = sorted(str(k) for k in got if k not in expected_keys)
    if missing or extra:
        msg = "%s: keys expected %s" % (what, sorted(expected_keys))
        if missing:
            msg += "; missing %s" % missing
        if extra:
            msg += "; unexpected %s" % extra
        fail(msg)
    return got


def student_raised(exc, *kinds):
    """True if exc is a contract StudentError whose kind (the exception type name raised by
    the student's code) is one of kinds."""
    return getattr(exc, "kind", None) in kinds


def call_reporting_args(student, qualname, *args, **kwargs):
    """(value, args_after or None): the worker's copies of the arguments after the call, when
    the grader supports reporting them (contract: student.call_reporting_args)."""
    fn = getattr(student, "call_reporting_args", None)
    if fn is None:
        return student.call(qualname, *args, **kwargs), None
    value, args_after, _ = fn(qualname, *args, **kwargs)
    return value, args_after


def check_unmodified(func, names, before, after):
    """Fail if any argument came back changed (after is None: nothing to check)."""
    if after is None:
        return
    for name, b, a in zip(names, before, after):
        if not isinstance(b, np.ndarray):
            continue
        a = np.asarray(a)
        if a.shape != b.shape or not np.array_equal(a, b, equal_nan=True):
            fail("%s modified its input %s in place; it must not change its arguments "
                 "(work on a copy, e.g. np.maximum(x, 0) or x.copy())" % (func, name))


def numeric_grad(f, x, h=1e-6):
    """Centered finite differences of a scalar function f at x (trusted side)."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        fp = f(x)
        x[ix] = old - h
        fm = f(x)
        x[ix] = old
        grad[ix] = (fp - fm) / (2 * h)
    return grad


def check_grads_match_own_loss(grads, params, keys, loss_at, seed, hint=""):
    """Each grads[name] (name in keys, in order) must agree with centered finite differences of
    the student's own loss along one random direction in that parameter only.

    loss_at(params) returns the student's loss (a float) at those parameters; the directions and
    the comparison stay on the trusted side. hint is appended to the failure message.
    """
    rng = rng_for(seed)
    eps = 1e-5
    for name in keys:
        g = np.asarray(grads[name], dtype=np.float64)
        if g.shape != params[name].shape:
            fail("grads[%r]: shape expected %s, got %s" % (name, params[name].shape, g.shape))
        d = rng.standard_normal(params[name].shape)
        vals = []
        for sgn in (1, -1):
            p = {k: a.copy() for k, a in params.items()}
            p[name] = p[name] + sgn * eps * d
            vals.append(float(loss_at(p)))
        num = (vals[0] - vals[1]) / (2 * eps)
        ana = float(np.sum(g * d))
        err = abs(num - ana) / max(abs(num) + abs(ana), 1e-8)
        if err > 1e-5:
            fail("grads[%r] disagrees with finite differences of your own loss (relative "
                 "error %.1e along a random direction, should be < 1e-5): the gradient and "
                 "the loss you compute do not match%s" % (name, err, hint))


def reg_mistakes(loss0, sq, reg, weights, biases):
    """Known mistakes in the L2 term 0.5 * reg * sum(W**2) over every weight matrix (biases
    excluded), alone AND combined, so that a hint names every cause it finds: a list of
    (hint, the loss the mistakes give). loss0: the data loss; sq: name -> sum(param**2)."""
    weights, biases = list(weights), list(biases)
    subsets = [(weights, [])]
    for w in (weights if len(weights) > 1 else []):
        rest = [x for x in weights if x != w]
        subsets.append((rest, ["only %s is regularized (add the term for %s too)" % (rest[0], w)
                               if len(rest) == 1 else
                               "%s is not regularized (add 0.5 * reg * sum(W**2) for every "
                               "layer)" % w]))
    if len(weights) > 2:
        subsets.append((weights[-1:], ["only the last layer is regularized"]))
    factors = [(0.5, []), (1.0, ["the regularization term lacks the factor 0.5 (use 0.5 * "
                                 "reg * sum(W**2))"])]
    with_biases = [([], []), (biases, ["the biases are regularized too (only the weight "
                                       "matrices are)"])]
    out = [("the regularization term is missing", loss0)]
    combos = []
    for names, why in subsets:
        for f, why_f in factors:
            for extra, why_b in with_biases:
                causes = why_f + why + why_b
                if causes:
                    value = loss0 + f * reg * sum(sq[n] for n in names + extra)
                    combos.append((len(causes), " and ".join(causes), value))
    out += [(hint, value) for _, hint, value in sorted(combos, key=lambda c: c[0])]
    return out
