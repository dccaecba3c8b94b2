"""Dependency-aware judging of composites (trusted side only).

A composite calls other graded functions: FullyConnectedNet.loss calls the layer functions,
TwoLayerNet.train and .predict call TwoLayerNet.loss, gplvm_grad calls the two term functions.
A composite is judged against two answers, and matching either one earns its points:
- the reference's answer (a correct composite written in any style, e.g. inline numpy);
- what a correct composite computes WITH THE STUDENT'S OWN BUILDING BLOCKS: the reference
  algorithm runs here, on the trusted side, and calls the student's functions in the worker
  (``student.call``); what they return comes back as plain data, or stays in the worker as a
  handle (e.g. a cache object) that the next call hands back. No reference code enters the
  worker.
So a bug costs points in the function that has it, once; the composite's feedback says which
building block is wrong ("fix it first"). When a building block crashes, a composite that stops
with the same error at the same place has done what a correct one would have done.
"""
import functools

import numpy as np

from ._checks import close

ACTIVATIONS = {"relu": ("relu_forward", "relu_backward"),
               "swish": ("swish_forward", "swish_backward")}


class BlockError(Exception):
    """A building block returned something a correct composite cannot use (wrong type)."""


class StudentLayers:
    """The student's cs239.layers functions, called in the worker: ``layers.affine_forward(x,
    w, b)`` here is ``student.call("cs239.layers.affine_forward", x, w, b)``."""

    def __init__(self, student):
        self._student = student

    def __getattr__(self, name):
        return functools.partial(self._student.call, "cs239.layers." + name)


def _tuple(value, n, what):
    if not isinstance(value, tuple) or len(value) != n:
        raise BlockError("%s did not return a tuple of %d" % (what, n))
    return value


def fc_loss(layers, params, X, y=None, reg=0.0, activation="relu", dtype=np.float64):
    """FullyConnectedNet.loss as the reference computes it, with the layer functions LAYERS
    (``ref.layers`` or ``StudentLayers(student)``). Every layer goes back through
    affine_backward (the textbook form); ``alt`` holds the other correct form of layer 1's
    gradients (computed from the activation's gradient and X directly, as the reference does).

    Returns the scores when y is None, else (loss, grads, alt)."""
    act_fwd, act_bwd = (getattr(layers, n) for n in ACTIVATIONS[activation])
    L = sum(1 for k in params if k.startswith("W"))
    X = np.asarray(X).astype(dtype)
    out, caches = X, []
    for i in range(1, L):
        a, fc_cache = _tuple(layers.affine_forward(out, params["W%d" % i], params["b%d" % i]),
                             2, "affine_forward")
        out, act_cache = _tuple(act_fwd(a), 2, ACTIVATIONS[activation][0])
        caches.append((fc_cache, act_cache))
    scores, last = _tuple(layers.affine_forward(out, params["W%d" % L], params["b%d" % L]), 2,
                          "affine_forward")
    if y is None:
        return scores
    loss, dscores = _tuple(layers.softmax_loss(scores, y), 2, "softmax_loss")
    grads, alt = {}, {}
    dout, grads["W%d" % L], grads["b%d" % L] = _tuple(layers.affine_backward(dscores, last), 3,
                                                      "affine_backward")
    for i in range(L - 1, 0, -1):
        fc_cache, act_cache = caches[i - 1]
        da = act_bwd(dout, act_cache)
        if i == 1 and isinstance(da, np.ndarray) and da.ndim == 2 and da.shape[0] == len(X):
            alt["W1"], alt["b1"] = X.reshape(len(X), -1).T @ da, da.sum(axis=0)
        dout, grads["W%d" % i], grads["b%d" % i] = _tuple(layers.affine_backward(da, fc_cache),
                                                          3, "affine_backward")
    for i in range(1, L + 1):
        W = params["W%d" % i]
        loss = loss + 0.5 * reg * np.sum(W * W)
        for g in (grads, alt):
            if "W%d" % i in g:
                g["W%d" % i] = np.asarray(g["W%d" % i]) + reg * W
    return loss, grads, alt


def run(fn, *args, **kwargs):
    """(value, None), or (None, the exception) when the student's code fails or returns
    something unusable: a building block that does not work is information, not an error."""
    try:
        return fn(*args, **kwargs), None
    except Exception as e:  # a student fault, a BlockError, or numpy refusing a bad value
        return None, e


def same_fault(got, own):
    """True when the student's composite failed (GOT, a fault of the student's code) the way a
    correct composite fails with the student's building blocks (OWN): the same exception at
    the same place, e.g. inside the same broken block; or OWN is the trusted side refusing
    what a block returned (a BlockError, or numpy's TypeError / ValueError, e.g. adding
    reg * W to a transposed gradient) and GOT is that kind of error too."""
    kind = getattr(got, "kind", None)
    if kind is None or own is None:
        return False
    if getattr(own, "kind", None) is not None:
        return own.kind == kind and getattr(own, "where", None) == getattr(got, "where", "")
    if isinstance(own, BlockError):
        return kind in ("TypeError", "ValueError", "AttributeError", "IndexError")
    return type(own).__name__ == kind and isinstance(own, (TypeError, ValueError))


def raised_in(fault, submission_dir, rel, cls, method):
    """True when FAULT (a fault of the student's code) was raised inside CLS.METHOD of
    cs239/REL: the last frame in the submission is one of that method's lines (read from the
    submission's source with ast, on the trusted side; nothing is executed)."""
    where = str(getattr(fault, "where", "") or "")
    path, _, line = where.rpartition(":")
    if not line.isdigit() or not (path == "cs239/" + rel or path == rel.rsplit("/", 1)[-1]):
        return False
    import ast
    try:
        src = (submission_dir / "cs239" / rel).read_text()
        if len(src) > 1_000_000:
            return False
        tree = ast.parse(src)
    except (OSError, ValueError, SyntaxError, RecursionError, MemoryError):
        return False
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == cls:
            for f in node.body:
                if isinstance(f, ast.FunctionDef) and f.name == method:
                    return f.lineno <= int(line) <= f.end_lineno
    return False


def _dtype(v):
    return np.asarray(v).dtype if isinstance(v, (np.ndarray, np.generic)) else None


def same_array(got, own, tol):
    """GOT equals OWN (a value computed with the student's blocks): same shape, close values,
    and the same dtype (so a dtype a building block introduced is charged to that block)."""
    if not isinstance(got, (np.ndarray, np.generic, float, int)) or isinstance(got, bool):
        return False
    if isinstance(own, np.ndarray) and _dtype(got) != own.dtype:
        return False
    return close(got, own, tol)


def same_loss_grads(got, own, tol):
    """The student's (loss, grads) equals own = (loss, grads, alt) from fc_loss."""
    if not isinstance(got, tuple) or len(got) != 2 or not isinstance(got[1], dict):
        return False
    loss, grads = got
    o_loss, o_grads, o_alt = own
    if not close(loss, o_loss, tol) or set(grads) != set(o_grads):
        return False
    return all(any(same_array(grads[k], cand[k], tol) for cand in (o_grads, o_alt)
                   if k in cand) for k in o_grads)


def fix_first(names, what):
    """The feedback sentence naming the student's wrong building blocks."""
    if not names:
        return ""
    are = "is" if len(names) == 1 else "are"
    return ("%s is right given your own building blocks, but your %s %s wrong (see %s own "
            "tests): fix %s first" % (what, " and ".join(names), are,
                                      "its" if len(names) == 1 else "their",
                                      "it" if len(names) == 1 else "them"))
