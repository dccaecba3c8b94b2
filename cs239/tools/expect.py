"""The assertions of the public checks (cs239/tools/public_checks.py).

Each raises CheckFailed with a message that says what was compared and how it differs, in the
notebooks' own words ("relative error 3.1e-05 (should be < 1e-07)"), and, when the answer
matches a common mistake, which one ("likely cause: ..."). step() records which part of a check
is running, so that the report can say where a failure or a crash happened.
"""
import numpy as np

STEPS = []


class CheckFailed(Exception):
    """A public check did not hold: str() says which check and how."""


def step(description):
    """Record that the check now does `description` (shown with a failure)."""
    STEPS.append(description)


def _rel_error(x, y):
    from cs239.gradient_check import rel_error
    return rel_error(x, y)


def likely_cause(actual, mistakes, tol=1e-6):
    """The description of the first (description, wrong_answer) that actual matches, or None."""
    try:
        actual = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    for description, wrong in mistakes:
        wrong = np.asarray(wrong, dtype=np.float64)
        if wrong.shape == actual.shape and np.all(np.isfinite(actual)):
            # relative to the whole array: entries that are 0 in one and finite-difference noise
            # in the other must not hide a match
            scale = np.linalg.norm(actual) + np.linalg.norm(wrong)
            if np.linalg.norm(actual - wrong) <= tol * max(scale, 1e-12):
                return description
    return None


def _fail(message, actual=None, mistakes=()):
    cause = likely_cause(actual, mistakes) if mistakes else None
    raise CheckFailed(message + ("; likely cause: %s" % cause if cause else ""))


def _as_array(what, actual, expected):
    if actual is None:
        raise CheckFailed("%s: is None (was it assigned?)" % what)
    try:
        actual = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        raise CheckFailed("%s: expected a numeric array, got a %s" % (what, type(actual).__name__))
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        hint = " (the transpose of the expected shape)" if actual.shape == expected.T.shape \
            and actual.ndim == 2 else ""
        raise CheckFailed("%s: shape %s, expected %s%s" % (what, actual.shape, expected.shape, hint))
    if not np.all(np.isfinite(actual)):
        raise CheckFailed("%s: contains nan or inf" % what)
    return actual, expected


def expect_close(what, actual, expected, bound, mistakes=()):
    """actual has expected's shape, is finite, and its relative error to expected is < bound.
    mistakes: [(description, wrong answer)] named as the likely cause when actual matches one."""
    actual, expected = _as_array(what, actual, expected)
    err = _rel_error(actual, expected)
    if not err < bound:
        _fail("%s: relative error %.2e (should be < %g)" % (what, err, bound), actual, mistakes)


def expect_difference(what, actual, expected, bound, mistakes=()):
    """The sum of absolute differences between actual and expected is < bound (the measure the
    notebooks print for scores and losses)."""
    actual, expected = _as_array(what, actual, expected)
    diff = float(np.sum(np.abs(actual - expected)))
    if not diff < bound:
        value = ("%.10g, expected %.10g: " % (float(actual), float(expected))
                 if actual.size == 1 else "")
        _fail("%s: %sdifference %.3g (should be < %g)" % (what, value, diff, bound),
              actual, mistakes)


def expect_shape(what, value, shape):
    if value is None:
        raise CheckFailed("%s: is None (was it assigned?)" % what)
    if np.shape(value) != tuple(shape):
        hint = " (the transpose of the expected shape)" \
            if len(shape) == 2 and np.shape(value) == tuple(shape)[::-1] else ""
        raise CheckFailed("%s: shape %s, expected %s%s" % (what, np.shape(value), tuple(shape),
                                                          hint))


def expect_unchanged(what, before, after):
    if not np.array_equal(before, after):
        raise CheckFailed("%s was modified in place (work on a copy)" % what)


def num_grad_array(f, x, df, h=1e-5):
    """Centered finite differences of an array-valued f at x, contracted with df."""
    from cs239.gradient_check import eval_numerical_gradient_array
    return eval_numerical_gradient_array(f, x, df, h=h)


def num_grad(f, x, h=1e-5):
    """Centered finite differences of a scalar f at x."""
    from cs239.gradient_check import eval_numerical_gradient
    return eval_numerical_gradient(f, x, verbose=False, h=h)
