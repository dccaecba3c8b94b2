"""The corpus of submissions for testing the grader and the self-check: single-bug mutants of
every graded function and correct implementations in other styles, each a list of patches
applied to a copy of the reference package. The one place for both; used by the hidden suites'
tests (tests/test_suites.py), the fair-scoring tests (tests/test_fair_scores.py), the three
judges' agreement table (tests/corpus/judges.py: tests/test_mutants.py, `python -m bench
mutants`) and the report benchmark (bench/bench_report.py).

    from tests import corpus
    corpus.MUTANTS["relu_mask_dout"]    # Mutant(name, function, description, patches, expect, hint)
    corpus.VARIANTS["alt_independent"]  # Variant(name, function, description, patches)
    corpus.build(dest, "relu_mask_dout", notebooks=True)   # dest/cs239 (+ notebooks) patched
    corpus.stub(dest)                   # every solution region -> raise NotImplementedError()

A patch is (file under cs239/, old text occurring exactly once, new text); ``replace_def``
builds one that swaps a whole function or method, ``_region`` one that swaps a function's
solution region (bugs planted into a form the reference writes differently).

Mutant.function is the graded name (gradebook column) of the function that has the bug.
Mutant.expect (None where not measured) maps hidden-suite test-name prefixes that must fail to
a regex their diagnosis must match: all of them lie in that column, and every other test keeps
full marks. Mutant.hint (None where not measured) is a regex the self-check's message must
match: the likely cause it names. Variant.function is the one graded function a single-style
variant rewrites (None for a bundle of several styles): all three judges must pass those; the
hidden suites must pass every variant.
"""
import re
import shutil
from collections import namedtuple
from pathlib import Path
from cs239.tools import manifest

ROOT = Path(__file__).resolve().parents[2]
L, O, N, F, D = ("layers.py", "optim.py", "classifiers/neural_net.py",
                 "classifiers/fc_net.py", "derivations.py")
Mutant = namedtuple("Mutant", "name function description patches expect hint")
Variant = namedtuple("Variant", "name function description patches")


def _rewrite(rel, first, last, new):
    """A patch replacing the reference's lines from the one starting with FIRST through the next
    one starting with LAST (both included) by NEW; apply() checks that they occur once."""
    text = (ROOT / "cs239" / rel).read_text()
    start = text.index(first)
    end = text.index("\n", text.index(last, start)) + 1
    return (rel, text[start:end], new)


def _region(rel, function, new):
    """A patch replacing the body of the solution region of FUNCTION (a plain name or
    Class.method) in cs239/REL by NEW."""
    text = (ROOT / "cs239" / rel).read_text()
    at = re.search(r"^\s*def %s\(" % re.escape(function.split(".")[-1]), text, re.M).start()
    begin = text.index("### BEGIN SOLUTION\n", at) + len("### BEGIN SOLUTION\n")
    end = text.rindex("\n", 0, text.index("### END SOLUTION", begin)) + 1
    return (rel, text[begin:end], new)


def replace_def(rel, name, source):
    """A patch replacing the whole function (or method) NAME of cs239/REL, its docstring
    included, by SOURCE (written at the same indentation as the original)."""
    text = (ROOT / "cs239" / rel).read_text()
    m = re.search(r"^([ \t]*)def %s\(" % re.escape(name), text, re.M)
    lines = text[m.start():].splitlines(keepends=True)
    n = 1
    while n < len(lines) and (not lines[n].strip() or (
            len(lines[n]) - len(lines[n].lstrip()) > len(m.group(1)))):
        n += 1   # the body: blank lines and lines indented deeper than the def
    old = "".join(lines[:n]).rstrip("\n") + "\n"
    return (rel, old, source.rstrip("\n") + "\n")


def _by_name(items):
    out = {}
    for item in items:
        if item.name in out:
            raise ValueError("corpus: two entries named %s" % item.name)
        out[item.name] = item
    return out


def M(name, function, description, patches, expect=None, hint=None):
    cols = {prefix.split(":", 1)[0] for prefix in expect or {}}
    if cols - {function}:
        raise ValueError("single-bug mutant %s of %s: expected failures in %s"
                         % (name, function, sorted(cols)))
    return Mutant(name, function, description, patches, expect, hint)


# Single-bug mutants, grouped by file. Adam's mistakes are planted into the textbook form
# (mt, vt), which is what students write; float32-in, float64-out bugs are charged to the
# function that does it, never to its callers.
MUTANTS = _by_name([
    M("affine_no_reshape", "affine_forward", "input not flattened",
      [(L, "out = x.reshape(x.shape[0], -1) @ w + b", "out = x @ w + b")],
      {"affine_forward: output matches on 3-D": "flatten each example first",
       "affine_forward": "(matmul|shape|mismatch)"},
      "shape|matmul|mismatch"),
    M("affine_no_bias", "affine_forward", "bias not added",
      [(L, "out = x.reshape(x.shape[0], -1) @ w + b", "out = x.reshape(x.shape[0], -1) @ w")],
      None,
      "bias b is not added"),
    M("affine_db_mean", "affine_backward", "db is the mean of dout",
      [(L, "db = dout.sum(axis=0)", "db = dout.mean(axis=0)")],
      {"affine_backward": "db uses the mean"},
      "db is the mean"),
    M("affine_dx_flat", "affine_backward", "dx not reshaped to x's shape",
      [(L, "dx = (dout @ w.T).reshape(x.shape)", "dx = dout @ w.T")],
      {"affine_backward": r"must be reshaped to \(3, 2, 3, 2\)"},
      "dx: shape"),
    M("affine_dw_transposed", "affine_backward", "dw transposed",
      [(L, "dw = x.reshape(x.shape[0], -1).T @ dout", "dw = dout.T @ x.reshape(x.shape[0], -1)")],
      {"affine_backward": "transpose of the right answer"},
      "dw: shape .*transpose"),
    M("relu_inplace", "relu_forward", "modifies x in place",
      [(L, "    out = np.maximum(x, 0)\n", "    x[x < 0] = 0\n    out = x\n")],
      {"relu_forward: does not modify": "modified its input x in place"},
      "modified in place"),
    M("relu_min", "relu_forward", "np.minimum instead of np.maximum",
      [(L, "    out = np.maximum(x, 0)\n", "    out = np.minimum(x, 0)\n")],
      None,
      r"np\.maximum\(x, 0\)"),
    M("relu_ge", "relu_backward", "x >= 0: gradient 1 at x == 0",
      [(L, "dx = np.where(x > 0, dout, 0)", "dx = np.where(x >= 0, dout, 0)")],
      {"relu_backward: gradient is 0 where x == 0": r"use x > 0 \(not x >= 0\)"},
      r"x > 0 \(not x >= 0\)"),
    M("relu_mask_dout", "relu_backward", "mask taken from dout",
      [(L, "dx = np.where(x > 0, dout, 0)", "dx = np.where(dout > 0, dout, 0)")],
      {"relu_backward": "mask was taken from dout"},
      "mask was taken from dout"),
    M("relu_mask_only", "relu_backward", "mask without dout",
      [(L, "dx = np.where(x > 0, dout, 0)", "dx = (x > 0) * 1.0")],
      {"relu_backward": "without multiplying by dout"},
      "mask alone"),
    M("swish_unstable", "swish_forward", "sigmoid as exp(x) / (1 + exp(x))",
      [(L, "    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows\n    sig = np.where(x >= 0, 1 / (1 + e), e / (1 + e))\n",
        "    sig = np.exp(x) / (1 + np.exp(x))\n")],
      {"swish_forward: finite": "exp overflows"},
      r"overflow.*np\.exp"),
    M("swish_where_both", "swish_forward", "np.where with exp(x) in one branch",
      [(L, "    sig = np.where(x >= 0, 1 / (1 + e), e / (1 + e))\n",
        "    sig = np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))\n")],
      None,
      r"np\.where\(cond, a, b\) evaluates BOTH"),
    M("swish_sigmoid_only", "swish_forward", "returns sigmoid(x), not x * sigmoid(x)",
      [(L, "    out = x * sig\n", "    out = sig\n")],
      None,
      r"returns sigmoid\(x\)"),
    M("swish_bwd_partial", "swish_backward", "only the sigmoid term",
      [(L, "dx = dout * (sig + x * sig * (1 - sig))", "dx = dout * sig")],
      {"swish_backward": r"only the sigmoid\(x\) term"},
      r"only the sigmoid\(x\) term"),
    M("swish_bwd_no_dout", "swish_backward", "dout not multiplied",
      [(L, "dx = dout * (sig + x * sig * (1 - sig))", "dx = sig + x * sig * (1 - sig)")],
      None,
      "not multiplied by dout"),
    M("svm_count_correct", "svm_loss", "correct class's own margin counted",
      [(L, "    margins[rows, y] = 0\n", "")],
      {"svm_loss": "correct class's own margin"},
      "own margin"),
    M("svm_dx_noN", "svm_loss", "dx not divided by N",
      [(L, "    dx /= N\n    ### END SOLUTION\n    return loss, dx\n\n\ndef softmax_loss",
        "    ### END SOLUTION\n    return loss, dx\n\n\ndef softmax_loss")],
      None,
      "not divided by N"),
    M("softmax_noshift", "softmax_loss", "no shift by the maximum",
      [(L, "shifted = x - x.max(axis=1, keepdims=True)", "shifted = x")],
      {"softmax_loss: stable": "subtract each ROW's maximum"},
      "ROW's maximum"),
    M("softmax_global_max", "softmax_loss", "shift by the global maximum",
      [(L, "shifted = x - x.max(axis=1, keepdims=True)", "shifted = x - x.max()")],
      {"softmax_loss: stable": "global maximum"},
      "ROW's maximum"),
    M("softmax_sum", "softmax_loss", "loss summed over the examples",
      [(L, "loss = -log_probs[rows, y].sum() / N", "loss = -log_probs[rows, y].sum()")],
      {"softmax_loss: loss": "summed over the examples",
       "softmax_loss: two classes": r"loss for N=\d.*summed over",
       "softmax_loss: stable": "summed over the examples"},
      "summed over the examples"),
    M("softmax_dx_noN", "softmax_loss", "dx not divided by N",
      [(L, "    dx[rows, y] -= 1\n    dx /= N\n", "    dx[rows, y] -= 1\n")],
      {"softmax_loss: dx": "dx is not divided by N",
       "softmax_loss: stable": "dx for scores around 1000.*not divided by N",
       "softmax_loss: two classes": r"dx for N=\d.*not divided by N"},
      "not divided by N"),
    M("momentum_sign", "sgd_momentum", "gradient added",
      [(O, 'v = config["momentum"] * v - config["learning_rate"] * dw',
        'v = config["momentum"] * v + config["learning_rate"] * dw')],
      {"sgd_momentum": "added instead of subtracted|max relative error"},
      "gradient is added"),
    M("momentum_nosave", "sgd_momentum", "velocity not stored",
      [(O, '    config["velocity"] = v\n', "")],
      {"sgd_momentum: velocity saved": "config has no 'velocity'"},
      r"not stored in config\['velocity'\]"),
    M("rmsprop_nosquare", "rmsprop", "gradient not squared",
      [(O, '(1 - config["decay_rate"]) * dw**2', '(1 - config["decay_rate"]) * dw')],
      {"rmsprop": "squared"},
      "not squared"),
    M("rmsprop_nosave", "rmsprop", "cache not stored",
      [(O, '    config["cache"] = cache\n', "")],
      {"rmsprop: cache saved": r"config\['cache'\]|not saved"},
      r"not stored in config\['cache'\]"),
    M("rmsprop_no_sqrt", "rmsprop", "no square root",
      [(O, '/ (np.sqrt(cache) + config["epsilon"])', '/ (cache + config["epsilon"])')],
      None,
      "no square root"),
    M("adam_t_after", "adam", "t incremented after it is used",
      [(O, "\n    mt = m / (1 - beta1**t)\n", "\n    mt = m / (1 - beta1**config['t'])\n"),
       (O, "\n    vt = v / (1 - beta2**t)\n", "\n    vt = v / (1 - beta2**config['t'])\n")],
      {"adam": "t is incremented after it is used"},
      "incremented after it is used"),
    M("adam_no_bias_correction", "adam", "no bias correction",
      [(O, "\n    mt = m / (1 - beta1**t)\n", "\n    mt = m\n"),
       (O, "\n    vt = v / (1 - beta2**t)\n", "\n    vt = v\n")],
      {"adam": "no bias correction"},
      "no bias correction"),
    M("adam_store_corrected", "adam", "corrected moments stored",
      [(O, "config.update(m=m, v=v, t=t)", "config.update(m=mt, v=vt, t=t)")],
      {"adam: t incremented": "bias-corrected moment",
       "adam: state saved": "bias-corrected moment"},
      "bias-corrected moment was stored"),
    M("adam_t_not_saved", "adam", "t not stored",
      [(O, "config.update(m=m, v=v, t=t)", "config.update(m=m, v=v)")],
      {"adam: t incremented": "expected 1 after 1 step.*not incremented",
       "adam: state saved": r"config\['t'\]|max relative error"},
      r"config\['t'\]"),
    M("tln_relu_scores", "TwoLayerNet.loss", "ReLU on the scores",
      [(N, "        scores = hidden @ W2 + b2\n",
        "        scores = np.maximum(hidden @ W2 + b2, 0)\n")],
      {"TwoLayerNet.loss: scores": "ReLU is applied to the scores",
       "TwoLayerNet.loss: loss and": "ReLU is applied to the scores",
       "TwoLayerNet.loss": ""},
      "ReLU is applied to the scores"),
    M("tln_no_b1", "TwoLayerNet.loss", "first bias forgotten",
      [(N, "hidden = np.maximum(X @ W1 + b1, 0)", "hidden = np.maximum(X @ W1, 0)")],
      None,
      "does not change with b1"),
    M("tln_reg_no_half", "TwoLayerNet.loss", "regularization without 0.5",
      [(N, "loss += 0.5 * reg * (", "loss += reg * (")],
      {"TwoLayerNet.loss: loss with": "lacks the factor 0.5",
       "TwoLayerNet.loss: gradients agree": "disagrees with finite"},
      "lacks the factor 0.5"),
    M("tln_no_reg", "TwoLayerNet.loss", "no regularization in the loss",
      [(N, "        loss += 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))\n", "")],
      None,
      "regularization term is missing"),
    M("tln_bias_reg_loss", "TwoLayerNet.loss", "biases regularized in loss and gradients",
      [(N, "        loss += 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))\n",
        "        loss += 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(b1 * b1) + np.sum(b2 * b2))\n")],
      None,
      "biases are regularized"),
    M("tln_bias_reg_grad", "TwoLayerNet.loss", "bias gradient regularized",
      [(N, 'grads["b2"] = dscores.sum(axis=0)', 'grads["b2"] = dscores.sum(axis=0) + reg * b2')],
      {"TwoLayerNet.loss: gradients with": "bias 'b2'|bias b2 is regularized",
       "TwoLayerNet.loss: gradients agree": "disagrees"},
      "bias b2 is regularized"),
    M("tln_no_reg_grad", "TwoLayerNet.loss", "reg * W2 missing from the gradient",
      [(N, 'grads["W2"] = hidden.T @ dscores + reg * W2', 'grads["W2"] = hidden.T @ dscores')],
      {"TwoLayerNet.loss: gradients with": r"reg \* W2 is missing",
       "TwoLayerNet.loss: gradients agree": "disagrees"},
      r"reg \* W2, is missing"),
    M("tln_grad_sum", "TwoLayerNet.loss", "gradient not divided by N",
      [(N, "        dscores /= N\n", "")],
      {"TwoLayerNet.loss: loss and": "not divided by N",
       "TwoLayerNet.loss: gradients": "not divided by N|disagrees"},
      "not divided by N"),
    M("tln_train_noreg", "TwoLayerNet.train", "reg not passed on to loss",
      [(N, "loss, grads = self.loss(X_batch, y=y_batch, reg=reg)",
        "loss, grads = self.loss(X_batch, y=y_batch)")],
      {"TwoLayerNet.train: reg": "without reg",
       "TwoLayerNet.train: parameters": "max relative error"},
      "instead of the reg it was given"),
    M("tln_same_batch", "TwoLayerNet.train", "same minibatch every iteration",
      [(N, "idx = np.random.choice(num_train, batch_size, replace=True)",
        "idx = np.arange(batch_size) % num_train")],
      {"TwoLayerNet.train: each iteration": "same minibatch"},
      "same minibatch"),
    M("tln_no_replacement", "TwoLayerNet.train", "sampling without replacement",
      [(N, "idx = np.random.choice(num_train, batch_size, replace=True)",
        "idx = np.random.choice(num_train, batch_size, replace=False)")],
      None,
      "WITH replacement"),
    M("tln_train_wrong_sign", "TwoLayerNet.train", "step of the wrong sign",
      [(N, "self.params[name] - learning_rate * grad",
        "self.params[name] + learning_rate * grad")],
      {"TwoLayerNet.train: parameters": "wrong sign",
       "TwoLayerNet.train: the loss goes down": "halve|accuracy"},
      "sign"),
    M("tln_train_no_update", "TwoLayerNet.train", "parameters not updated",
      [(N, "                self.params[name] = self.params[name] - learning_rate * grad\n",
        "                pass\n")],
      None,
      "updated"),
    M("tln_float_ipe", "TwoLayerNet.train", "iterations per epoch as a float",
      [(N, "iterations_per_epoch = max(num_train // batch_size, 1)",
        "iterations_per_epoch = max(num_train / batch_size, 1)")],
      {"TwoLayerNet.train: accuracy": "float",
       "TwoLayerNet.train: parameters": "not decayed"},
      "not decayed after each epoch"),
    M("tln_no_decay", "TwoLayerNet.train", "learning rate never decayed",
      [(N, "                learning_rate *= learning_rate_decay\n", "")],
      None,
      "not decayed"),
    M("tln_acc_start_of_epoch", "TwoLayerNet.train", "epoch bookkeeping at the start",
      [(N, "if (it + 1) % iterations_per_epoch == 0:", "if it % iterations_per_epoch == 0:")],
      {"TwoLayerNet.train: accuracy": "start of each epoch",
       "TwoLayerNet.train: parameters": ""},
      "START of each epoch"),
    M("tln_predict_argmin", "TwoLayerNet.predict", "argmin",
      [(N, "y_pred = np.argmax(self.loss(X), axis=1)",
        "y_pred = np.argmin(self.loss(X), axis=1)")],
      {"TwoLayerNet.predict: labels": "argmin",
       "TwoLayerNet.predict: N = 1": "argmin|differ"},
      "argmin"),
    M("fc_init_uniform", "FullyConnectedNet.__init__", "uniform weights",
      [(F, "weight_scale * np.random.randn(dims[i], dims[i + 1])",
        "weight_scale * np.random.rand(dims[i], dims[i + 1])")],
      {"FullyConnectedNet.__init__: weights": "uniform"},
      "uniform"),
    M("fc_init_no_scale", "FullyConnectedNet.__init__", "weight_scale ignored",
      [(F, "weight_scale * np.random.randn(dims[i], dims[i + 1])",
        "np.random.randn(dims[i], dims[i + 1])")],
      None,
      "standard deviation"),
    M("fc_init_bias_ones", "FullyConnectedNet.__init__", "biases of ones",
      [(F, 'self.params["b%d" % (i + 1)] = np.zeros(dims[i + 1])',
        'self.params["b%d" % (i + 1)] = np.ones(dims[i + 1])')],
      {"FullyConnectedNet.__init__: biases": "zero"},
      "zeros"),
    M("fc_ignores_activation", "FullyConnectedNet.loss", "activation argument ignored",
      [(F, 'self.params["b%d" % i],\n                                            self.activation)',
        'self.params["b%d" % i],\n                                            "relu")')],
      {"FullyConnectedNet.loss: activation='swish'": "activation argument is ignored"},
      "activation argument is ignored"),
    M("fc_reg_skip_last", "FullyConnectedNet.loss", "last layer not regularized",
      [(F, "for i in range(1, L + 1):\n            W = ",
        "for i in range(1, L):\n            W = ")],
      {"FullyConnectedNet.loss: loss and gradients with": r"W\d is not regularized|only W\d is regularized",
       "FullyConnectedNet.loss: activation='swish'": "not regularized",
       "FullyConnectedNet.loss: a float32": "loss of a float32"},
      "W2 is not regularized"),
    M("fc_reg_no_half", "FullyConnectedNet.loss", "regularization without 0.5",
      [(F, "loss += 0.5 * self.reg * np.sum(W**2)", "loss += self.reg * np.sum(W**2)")],
      None,
      "lacks the factor 0.5"),
    M("fc_bias_reg", "FullyConnectedNet.loss", "biases regularized",
      [(F, "            loss += 0.5 * self.reg * np.sum(W**2)",
        '            b = self.params["b%d" % i]\n            loss += 0.5 * self.reg * (np.vdot(W, W) + np.vdot(b, b))\n            grads["b%d" % i] += self.reg * b')],
      None,
      "biases are regularized"),
    M("fc_no_reg_grad", "FullyConnectedNet.loss", "reg * W missing from the gradients",
      [(F, '            grads["W%d" % i] += self.reg * W\n', "")],
      None,
      r"reg \* W\d, is missing"),
    M("fc_float64_leak", "FullyConnectedNet.loss", "computes in float64",
      [(F, "        X = X.astype(self.dtype, copy=False)\n",
        "        X = X.astype(np.float64)\n")],
      {"FullyConnectedNet.loss: a float32": "dtype expected float32, got float64"},
      "float32"),
    M("fc_relu_on_scores", "FullyConnectedNet.loss", "ReLU after the last layer",
      [(F, '        scores, cache = affine_forward(out, self.params["W%d" % L], self.params["b%d" % L])\n',
        '        scores, cache = affine_forward(out, self.params["W%d" % L], self.params["b%d" % L])\n        scores = np.maximum(scores, 0)\n')],
      None,
      "applied to the scores"),
    M("ae_decoder_only", "autoencoder_grad", "only the decoder path",
      [(D, "dW = np.outer(h, r) + np.outer(W @ r, x)", "dW = np.outer(h, r)")],
      {"autoencoder_grad: dL/dW": "only the decoder path",
       "autoencoder_grad: agrees": "only the decoder path"},
      "only the decoder path"),
    M("ae_encoder_only", "autoencoder_grad", "only the encoder path",
      [(D, "dW = np.outer(h, r) + np.outer(W @ r, x)", "dW = np.outer(W @ r, x)")],
      {"autoencoder_grad: dL/dW": "only the encoder path",
       "autoencoder_grad: agrees": "only the encoder path"},
      "only the encoder path"),
    M("ae_transposed", "autoencoder_grad", "transposed",
      [(D, "dW = np.outer(h, r) + np.outer(W @ r, x)",
        "dW = np.outer(r, h) + np.outer(x, W @ r)")],
      {"autoencoder_grad: dL/dW": "transpose of the right answer",
       "autoencoder_grad: agrees": "transpose of the right answer"},
      "transpose"),
    M("ae_batch_sum", "autoencoder_grad_batch", "summed, not averaged",
      [(D, "dW = (H @ R.T + (W @ R) @ X.T) / N", "dW = H @ R.T + (W @ R) @ X.T")],
      {"autoencoder_grad_batch": "summed over the N columns"},
      "summed over the N columns"),
    M("gp_logdet_no_alpha", "gplvm_logdet_grad", "alpha missing",
      [(D, "dX = -D * alpha * np.linalg.solve(K, X)", "dX = -D * np.linalg.solve(K, X)")],
      {"gplvm_logdet_grad": "factor alpha"},
      "factor alpha"),
    M("gp_logdet_no_D", "gplvm_logdet_grad", "D missing",
      [(D, "dX = -D * alpha * np.linalg.solve(K, X)", "dX = -alpha * np.linalg.solve(K, X)")],
      {"gplvm_logdet_grad": "factor D is missing"},
      "factor D"),
    M("gp_logdet_half", "gplvm_logdet_grad", "factor 2 missing",
      [(D, "dX = -D * alpha * np.linalg.solve(K, X)",
        "dX = -D / 2 * alpha * np.linalg.solve(K, X)")],
      {"gplvm_logdet_grad": "factor 2 is missing"},
      "factor 2"),
    M("gp_trace_sign", "gplvm_trace_grad", "wrong sign",
      [(D, "dX = alpha * (A @ (A.T @ X))", "dX = -alpha * (A @ (A.T @ X))")],
      {"gplvm_trace_grad": "sign is wrong"},
      "sign"),
    M("gp_trace_one_kinv", "gplvm_trace_grad", "one K^-1 missing",
      [(D, "dX = alpha * (A @ (A.T @ X))", "dX = alpha * (A @ (Y.T @ X))")],
      {"gplvm_trace_grad": r"one K\^\{-1\} is missing"},
      r"one K\^-1 is missing"),
    M("gp_grad_logdet_only", "gplvm_grad", "only the log-determinant term",
      [(D, "dX = gplvm_logdet_grad(X, Y, alpha, beta) + gplvm_trace_grad(X, Y, alpha, beta)",
        "dX = gplvm_logdet_grad(X, Y, alpha, beta)")],
      {"gplvm_grad": "only the log-determinant term"},
      "only the log-determinant term"),
    M("relu_returns_object", "relu_forward", "returns an object, not an array",
      [(L, "    out = np.maximum(x, 0)\n", "    out = object()\n")],
      {"relu_forward": "expected a numeric array, got a object"},
      None),
    M("softmax_log_p", "softmax_loss", "log of the probabilities: -inf once the correct class trails by ~745",
      [(L, "    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))\n",
        "    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)\n    log_probs = np.log(p)\n")],
      {"softmax_loss: stable": "log-sum-exp"},
      None),
    M("softmax_log_eps", "softmax_loss", "log(p + 1e-20): each example's loss capped near 46",
      [(L, "    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))\n",
        "    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)\n    log_probs = np.log(p + 1e-20)\n")],
      {"softmax_loss: stable": "epsilon.*log-sum-exp"},
      None),
    M("softmax_C_from_labels", "softmax_loss", "number of classes taken from the labels (wrong without the top class)",
      [(L, "    dx[rows, y] -= 1\n    dx /= N\n",
        "    dx = dx - np.eye(y.max() + 1, dtype=x.dtype)[y]\n    dx /= N\n")],
      {"softmax_loss: two classes": "highest class",
       "softmax_loss: stable": "ValueError"},
      None),
    M("tln_C_from_labels", "TwoLayerNet.loss", "number of classes taken from the labels (wrong without the top class)",
      [(N, "        dscores[np.arange(N), y] -= 1\n",
        "        dscores -= np.eye(y.max() + 1)[y]\n")],
      {"TwoLayerNet.loss": "highest class"},
      None),
    M("tln_reg_no_half_bias", "TwoLayerNet.loss", "regularization without 0.5 and with the biases",
      [(N, "loss += 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))",
        "loss += reg * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(b1 * b1) + np.sum(b2 * b2))")],
      {"TwoLayerNet.loss: loss with": "lacks the factor 0.5.* and the biases are regularized",
       "TwoLayerNet.loss: gradients agree": "disagrees"},
      None),
    M("adam_t_never", "adam", "t never incremented",
      [(O, '    t = config["t"] + 1\n', '    t = config["t"]\n')],
      {"adam": "never incremented"},
      None),
    M("momentum_inplace_w", "sgd_momentum", "updates the caller's w in place",
      [(O, "    next_w = w + v\n", "    w += v\n    next_w = w\n")],
      {"sgd_momentum": "modified its input w in place"},
      None),
    M("rmsprop_inplace_w", "rmsprop", "updates the caller's w in place",
      [(O, 'next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])',
        'w -= config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])\n    next_w = w')],
      {"rmsprop": "modified its input w in place"},
      None),
    M("adam_inplace_w", "adam", "updates the caller's w in place",
      [(O, '    next_w = w - config["learning_rate"] * mt / (np.sqrt(vt) + config["epsilon"])\n',
        '    w -= config["learning_rate"] * mt / (np.sqrt(vt) + config["epsilon"])\n    next_w = w\n')],
      {"adam": "modified its input w in place"},
      None),
    M("relu_backward_float64", "relu_backward", "float32 in, float64 out",
      [(L, "dx = np.where(x > 0, dout, 0)", "dx = np.where(x > 0, dout, 0).astype(np.float64)")],
      {"relu_backward: 4-D": "dtype expected float32"},
      None),
    M("softmax_dx_float64", "softmax_loss", "float32 in, float64 out",
      [(L, "    dx = np.exp(log_probs)\n", "    dx = np.exp(log_probs).astype(np.float64)\n")],
      {"softmax_loss: two classes": "dtype expected float32"},
      None),
    M("svm_dx_float64", "svm_loss", "float32 in, float64 out",
      [(L, "dx = (margins > 0).astype(x.dtype)", "dx = (margins > 0).astype(float)")],
      {"svm_loss: two classes": "dtype expected float32"},
      None),
])

# A wrong function under another's check: the self-check of the second names the first.
BLAME = [("tln_grad_sum", "TwoLayerNet.train"),
         ("affine_dw_transposed", "FullyConnectedNet.loss"),
         ("relu_mask_dout", "FullyConnectedNet.loss"),
         ("softmax_dx_noN", "FullyConnectedNet.loss"),
         ("gp_trace_sign", "gplvm_grad")]


# The reference is in the textbook form of its docstrings; the tuned forms of bench/tuned.py
# (Adam's bias corrections folded into two scalars, layer 1 skipping its unused dX) must get the
# same marks.
ADAM_FOLDED = _rewrite(
    O, "    m = beta1 * config[\"m\"]", "    next_w = w - config",
    '    m = beta1 * config["m"]\n'
    "    m += (1 - beta1) * dw\n"
    '    v = beta2 * config["v"]\n'
    "    v += (1 - beta2) * (dw * dw)\n"
    "    c1, sqrt_c2 = 1 - beta1**t, (1 - beta2**t) ** 0.5\n"
    "    denom = np.sqrt(v)\n"
    '    denom += config["epsilon"] * sqrt_c2\n'
    '    next_w = w - config["learning_rate"] * sqrt_c2 / c1 * (m / denom)\n')
FC_SKIP_LAYER1_DX = _rewrite(
    F, "        for i in range(L - 1, 0, -1):", "            dout, grads[",
    "        for i in range(L - 1, 1, -1):\n"
    '            dout, grads["W%d" % i], grads["b%d" % i] = affine_act_backward(\n'
    "                dout, caches[i - 1])\n"
    "        if L > 1:\n"
    "            _, act_cache, activation = caches[0]\n"
    "            da = ACTIVATIONS[activation][1](dout, act_cache)\n"
    '            grads["W1"] = X.reshape(X.shape[0], -1).T @ da\n'
    '            grads["b1"] = da.sum(axis=0)\n')

# name -> (patches, {test-name prefix: message regex} expected to FAIL). Every prefix lies in
# the column of the function that has the bug; every other test keeps full marks.
ADAM_TEXTBOOK = (
    "    t = config['t'] + 1\n"
    "    m = config['beta1'] * config['m'] + (1 - config['beta1']) * dw\n"
    "    v = config['beta2'] * config['v'] + (1 - config['beta2']) * (dw * dw)\n"
    "    mt = m / (1 - config['beta1'] ** t)\n"
    "    vt = v / (1 - config['beta2'] ** t)\n"
    "    next_w = w - config['learning_rate'] * mt / (np.sqrt(vt) + config['epsilon'])\n"
    "    config.update(m=m, v=v, t=t)\n")

V = Variant
# Correct code in other reasonable styles: full marks everywhere. One style each, judged by
# the notebooks, the self-check and the hidden suites:
_SINGLE = [
    V("alt_affine_dot", "affine_forward", "np.dot and np.prod",
      [(L, "out = x.reshape(x.shape[0], -1) @ w + b",
        "out = np.dot(x.reshape(len(x), np.prod(x.shape[1:], dtype=int)), w) + b")]),
    V("alt_affine_einsum", "affine_backward", "einsum for dw",
      [(L, "dw = x.reshape(x.shape[0], -1).T @ dout",
        "dw = np.einsum('nd,nm->dm', x.reshape(x.shape[0], -1), dout)")]),
    V("alt_relu_mask", "relu_forward", "x * (x > 0)",
      [(L, "    out = np.maximum(x, 0)\n", "    out = x * (x > 0)\n")]),
    V("alt_relu_backward_mul", "relu_backward", "dout * (x > 0)",
      [(L, "dx = np.where(x > 0, dout, 0)", "dx = dout * (x > 0)")]),
    V("alt_swish_tanh", "swish_forward", "sigmoid through tanh",
      [(L, "    sig = np.where(x >= 0, 1 / (1 + e), e / (1 + e))\n",
        "    sig = 0.5 * (1 + np.tanh(0.5 * x))\n")]),
    V("alt_softmax_logaddexp", "softmax_loss", "np.logaddexp.reduce",
      [(L, "    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))\n",
        "    log_probs = x - np.logaddexp.reduce(x, axis=1, keepdims=True)\n")]),
    V("alt_rmsprop_eps_inside", "rmsprop", "epsilon inside the square root",
      [(O, 'next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])',
        'next_w = w - config["learning_rate"] * dw / np.sqrt(cache + config["epsilon"])')]),
    V("alt_adam_textbook", "adam", "textbook Adam with mt and vt, config[...] throughout",
      [_region(O, "adam", ADAM_TEXTBOOK)]),
    V("alt_randint_sampling", "TwoLayerNet.train", "np.random.randint",
      [(N, "idx = np.random.choice(num_train, batch_size, replace=True)",
        "idx = np.random.randint(0, num_train, size=batch_size)")]),
    V("alt_gplvm_inv", "gplvm_logdet_grad", "explicit inverse",
      [(D, "dX = -D * alpha * np.linalg.solve(K, X)", "dX = -D * alpha * np.linalg.inv(K) @ X")]),
    V("alt_ae_factored", "autoencoder_grad", "W (x r^T + r x^T)",
      [(D, "dW = np.outer(h, r) + np.outer(W @ r, x)",
        "dW = W @ (np.outer(x, r) + np.outer(r, x))")]),
]
_S = {v.name: v.patches for v in _SINGLE}

# ... and bundles of several styles in one submission, judged by the hidden suites (the
# notebook and the self-check ask for sampling WITH replacement: see tests/test_mutants.py).
_BUNDLES = [
    V("alt_styles", None, "the single styles above at once, and more",
      [p for n in ("alt_affine_dot", "alt_affine_einsum", "alt_relu_mask",
                   "alt_relu_backward_mul", "alt_swish_tanh", "alt_softmax_logaddexp",
                   "alt_rmsprop_eps_inside", "alt_gplvm_inv", "alt_ae_factored") for p in _S[n]] + [
          (L, "db = dout.sum(axis=0)", "db = np.sum(dout, axis=0)"),
          (O, 'v = beta2 * config["v"] + (1 - beta2) * dw**2',
           'v = beta2 * config["v"] + (1 - beta2) * np.square(dw)'),
          (N, "idx = np.random.choice(num_train, batch_size, replace=True)",
           "idx = np.random.choice(num_train, batch_size, replace=False)"),
          (N, "y_pred = np.argmax(self.loss(X), axis=1)", "y_pred = self.loss(X).argmax(1)"),
          (D, "dX = alpha * (A @ (A.T @ X))",
           "Ki = np.linalg.inv(K)\n    dX = alpha * Ki @ Y @ Y.T @ Ki.T @ X")]),
    V("alt_adam_folded", None, "bench/tuned.py's Adam", [ADAM_FOLDED]),
    V("alt_fc_skip_layer1_dx", None, "bench/tuned.py's FC backward", [FC_SKIP_LAYER1_DX]),
    V("alt_randint_where_copy", None, "randint sampling, np.where ReLU, momentum on a copy",
      _S["alt_randint_sampling"] + [
          (L, "out = np.maximum(x, 0)", "out = np.where(x > 0, x, 0.0).astype(x.dtype)"),
          (O, "v = config[\"momentum\"] * v - config[\"learning_rate\"] * dw\n    next_w = w + v",
           "v = v * config[\"momentum\"]\n    v = v - config[\"learning_rate\"] * dw\n"
           "    next_w = w.copy()\n    next_w += v")]),
# Correct code written independently of the reference, in the styles students use (loops,
# np.dot, boolean masks, one-hot labels, config updated in place, the CS231n FC loop).
    V("alt_independent", None, "every function written independently", [
    replace_def(L, "affine_forward", '''def affine_forward(x, w, b):
    N = x.shape[0]
    x_rows = np.reshape(x, (N, int(np.prod(x.shape[1:]))))
    out = np.dot(x_rows, w) + b
    return out, (x, w, b)'''),
    replace_def(L, "affine_backward", '''def affine_backward(dout, cache):
    x, w, b = cache
    x_rows = x.reshape(x.shape[0], -1)
    dx = np.dot(dout, w.T).reshape(*x.shape)
    dw = np.dot(x_rows.T, dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db'''),
    replace_def(L, "relu_forward", '''def relu_forward(x):
    out = x.copy()
    out[out < 0] = 0
    return out, x'''),
    replace_def(L, "relu_backward", '''def relu_backward(dout, cache):
    dx = dout.copy()
    dx[cache <= 0] = 0
    return dx'''),
    replace_def(L, "swish_forward", '''def swish_forward(x):
    sig = np.empty_like(x)
    pos = x >= 0
    sig[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    sig[~pos] = ex / (1.0 + ex)
    return x * sig, (x, sig)'''),
    replace_def(L, "swish_backward", '''def swish_backward(dout, cache):
    x, s = cache
    return dout * s * (1 + x * (1 - s))'''),
    replace_def(L, "svm_loss", '''def svm_loss(x, y):
    N, C = x.shape
    loss = 0.0
    dx = np.zeros_like(x)
    for i in range(N):
        for j in range(C):
            if j == y[i]:
                continue
            margin = x[i, j] - x[i, y[i]] + 1
            if margin > 0:
                loss += margin
                dx[i, j] += 1
                dx[i, y[i]] -= 1
    return loss / N, dx / N'''),
    replace_def(L, "softmax_loss", '''def softmax_loss(x, y):
    N = len(y)
    z = x - np.max(x, axis=1, keepdims=True)
    log_p = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    loss = -np.mean(log_p[np.arange(N), y])
    probs = np.exp(log_p)
    probs[np.arange(N), y] -= 1
    return loss, probs / N'''),
    replace_def(O, "sgd_momentum", '''def sgd_momentum(w, dw, config=None):
    config = {} if config is None else config
    lr = config.setdefault("learning_rate", 1e-2)
    mu = config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = mu * v - lr * dw
    config["velocity"] = v
    return w + v, config'''),
    replace_def(O, "rmsprop", '''def rmsprop(w, dw, config=None):
    config = config or {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    cache = config.get("cache", np.zeros_like(w))
    cache = config["decay_rate"] * cache + (1 - config["decay_rate"]) * np.square(dw)
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config'''),
    replace_def(O, "adam", '''def adam(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)
    config["t"] += 1
    config["m"] = config["beta1"] * config["m"] + (1 - config["beta1"]) * dw
    config["v"] = config["beta2"] * config["v"] + (1 - config["beta2"]) * dw ** 2
    m_hat = config["m"] / (1 - config["beta1"] ** config["t"])
    v_hat = config["v"] / (1 - config["beta2"] ** config["t"])
    next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])
    return next_w, config'''),
    replace_def(N, "loss", '''    def loss(self, X, y=None, reg=0.0):
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
        N = X.shape[0]
        z1 = X.dot(W1) + b1
        a1 = np.maximum(0, z1)
        scores = a1.dot(W2) + b2
        if y is None:
            return scores
        shifted = scores - np.max(scores, axis=1, keepdims=True)
        exp_scores = np.exp(shifted)
        sums = np.sum(exp_scores, axis=1, keepdims=True)
        probs = exp_scores / sums
        Y = np.zeros_like(probs)
        Y[np.arange(N), y] = 1
        loss = -np.sum(Y * (shifted - np.log(sums))) / N
        loss += 0.5 * reg * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
        dscores = (probs - Y) / N
        grads = {"W2": a1.T.dot(dscores) + reg * W2, "b2": dscores.sum(axis=0)}
        dz1 = dscores.dot(W2.T) * (z1 > 0)
        grads["W1"] = X.T.dot(dz1) + reg * W1
        grads["b1"] = dz1.sum(axis=0)
        return loss, grads'''),
    replace_def(F, "loss", '''    def loss(self, X, y=None):
        X = X.astype(self.dtype)
        caches = {}
        h = X
        for i in range(1, self.num_layers):
            h, caches[i] = affine_act_forward(h, self.params["W%d" % i],
                                              self.params["b%d" % i], self.activation)
        L = self.num_layers
        scores, caches[L] = affine_forward(h, self.params["W%d" % L], self.params["b%d" % L])
        if y is None:
            return scores
        loss, dout = softmax_loss(scores, y)
        grads = {}
        dout, grads["W%d" % L], grads["b%d" % L] = affine_backward(dout, caches[L])
        for i in reversed(range(1, L)):
            dout, grads["W%d" % i], grads["b%d" % i] = affine_act_backward(dout, caches[i])
        for i in range(1, L + 1):
            W = self.params["W%d" % i]
            loss += 0.5 * self.reg * np.sum(W ** 2)
            grads["W%d" % i] += self.reg * W
        return loss, grads'''),
    ]),
]
VARIANTS = _by_name(_SINGLE + _BUNDLES)


def copy_reference(dest):
    dest = Path(dest)
    shutil.copytree(ROOT / "cs239", dest / "cs239",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest


def apply(dest, patches):
    """Apply PATCHES to the package copy in DEST (each old text must occur exactly once)."""
    for rel, old, new in patches:
        p = Path(dest) / "cs239" / rel
        text = p.read_text()
        if text.count(old) != 1:
            raise ValueError("corpus patch no longer applies to %s: %r" % (rel, old[:200]))
        p.write_text(text.replace(old, new))


def build(dest, name=None, notebooks=False):
    """A submission folder DEST: the reference package with the mutant or variant NAME applied
    (None: the reference itself) and, with NOTEBOOKS, the master notebooks next to it (their
    answers and hyperparameters filled in)."""
    dest = copy_reference(dest)
    patches = (MUTANTS[name] if name in MUTANTS else VARIANTS[name]).patches if name else []
    apply(dest, patches)
    if notebooks:
        for nb in sorted((ROOT / "source" / manifest.NAME).glob("*.ipynb")):
            shutil.copy(nb, dest / nb.name)
    return dest


def stub(dest, body="raise NotImplementedError()"):
    """Replace every solution region of the package in DEST by BODY (the release's stubs)."""
    pat = re.compile(r"^([ \t]*)### BEGIN SOLUTION\n.*?^[ \t]*### END SOLUTION\n", re.M | re.S)
    for p in (Path(dest) / "cs239").rglob("*.py"):
        text = p.read_text()
        p.write_text(pat.sub(lambda m: m.group(1) + body + "\n", text))
