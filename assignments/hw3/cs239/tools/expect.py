"""The assertions of the public checks (cs239/tools/public_checks.py).

Each raises CheckFailed with a message that says what was compared and how it differs, in the
notebooks' own words ("relative error 3.1e-05 (should be < 1e-07)"). step() records which part
of a check is running, so that the report can say where a failure or a crash happened.
"""
import numpy as np

STEPS = []


class CheckFailed(Exception):
    """A public check did not hold: str() says which check and how."""


def step(description):
    """Record that the check now does `description` (shown with a failure)."""
    STEPS.append(description)


def expect_close(what, actual, expected, bound):
    """actual has expected's shape, is finite, and its relative error to expected is < bound."""
    from cs239.gradient_check import rel_error

    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise CheckFailed("%s: shape %s, expected %s" % (what, actual.shape, expected.shape))
    if not np.all(np.isfinite(actual)):
        raise CheckFailed("%s: contains nan or inf" % what)
    err = rel_error(actual, expected)
    if not err < bound:
        raise CheckFailed("%s: relative error %.2e (should be < %.0e)" % (what, err, bound))


def expect_shape(what, value, shape):
    if value is None:
        raise CheckFailed("%s: is None (was it assigned?)" % what)
    if np.shape(value) != tuple(shape):
        raise CheckFailed("%s: shape %s, expected %s" % (what, np.shape(value), tuple(shape)))


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
