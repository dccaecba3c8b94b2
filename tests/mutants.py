"""Single-bug mutants of every graded function, and who catches each: the notebook's public
tests, the student self-check (cs239/tools/public_checks.py) and the hidden suites.

    python -m tests.mutants            # measure every mutant, print the agreement table
    python -m tests.mutants relu_ge    # only these mutants

A mutant is (name, graded function, description, file, old, new, hint): the reference file
`cs239/<file>` with the text `old` (it must occur exactly once) replaced by `new`. `old` may be
REGION, meaning the whole solution region of the graded function (for bugs planted into the
textbook form of a body the reference writes differently). `hint` is a regular expression the
self-check's message must match: the likely cause it names. tests/test_mutants.py holds the
goal (every mutant a hidden suite catches is flagged by the self-check, naming the cause) and
the exceptions kept, each with its reason (EXPECTED_DISAGREEMENTS).

The notebooks' public tests are the test cells of the committed release (assignments/), run
without CIFAR-10: cells that need the data set or train on it are skipped (they test nothing
the toy cells don't). The hidden suites run in-process through tests/test_suites_standin.py.
"""
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import namedtuple
from pathlib import Path

from cs239.tools import manifest

ROOT = Path(__file__).resolve().parents[1]
RELEASE = ROOT / "assignments" / manifest.NAME
REGION = object()

Mutant = namedtuple("Mutant", "name function description file old new hint")

L, O, N, F, D = ("layers.py", "optim.py", "classifiers/neural_net.py", "classifiers/fc_net.py",
                 "derivations.py")

ADAM_TEXTBOOK = (
    "    t = config['t'] + 1\n"
    "    m = config['beta1'] * config['m'] + (1 - config['beta1']) * dw\n"
    "    v = config['beta2'] * config['v'] + (1 - config['beta2']) * (dw * dw)\n"
    "    mt = m / (1 - config['beta1'] ** {t})\n"
    "    vt = v / (1 - config['beta2'] ** {t})\n"
    "    next_w = w - config['learning_rate'] * mt / (np.sqrt(vt) + config['epsilon'])\n"
    "    config.update({store})\n")


def _adam(t="t", store="m=m, v=v, t=t", mt=None, vt=None):
    body = ADAM_TEXTBOOK.format(t=t, store=store)
    if mt:
        body = body.replace("    mt = m / (1 - config['beta1'] ** %s)\n" % t, "    mt = %s\n" % mt)
    if vt:
        body = body.replace("    vt = v / (1 - config['beta2'] ** %s)\n" % t, "    vt = %s\n" % vt)
    return body


M = Mutant
MUTANTS = [
    # -- layers.py
    M("affine_no_reshape", "affine_forward", "input not flattened", L,
      "out = x.reshape(x.shape[0], -1) @ w + b", "out = x @ w + b", r"shape|matmul|mismatch"),
    M("affine_no_bias", "affine_forward", "bias not added", L,
      "out = x.reshape(x.shape[0], -1) @ w + b", "out = x.reshape(x.shape[0], -1) @ w",
      r"bias b is not added"),
    M("affine_db_mean", "affine_backward", "db is the mean of dout", L,
      "db = dout.sum(axis=0)", "db = dout.mean(axis=0)", r"db is the mean"),
    M("affine_dx_flat", "affine_backward", "dx not reshaped to x's shape", L,
      "dx = (dout @ w.T).reshape(x.shape)", "dx = dout @ w.T", r"dx: shape"),
    M("affine_dw_transposed", "affine_backward", "dw transposed", L,
      "dw = x.reshape(x.shape[0], -1).T @ dout", "dw = dout.T @ x.reshape(x.shape[0], -1)",
      r"dw: shape .*transpose"),
    M("relu_inplace", "relu_forward", "modifies x in place", L,
      "    out = np.maximum(x, 0)\n", "    x[x < 0] = 0\n    out = x\n", r"modified in place"),
    M("relu_min", "relu_forward", "np.minimum instead of np.maximum", L,
      "    out = np.maximum(x, 0)\n", "    out = np.minimum(x, 0)\n", r"np\.maximum\(x, 0\)"),
    M("relu_ge", "relu_backward", "x >= 0: gradient 1 at x == 0", L,
      "dx = np.where(x > 0, dout, 0)", "dx = np.where(x >= 0, dout, 0)", r"x > 0 \(not x >= 0\)"),
    M("relu_mask_dout", "relu_backward", "mask taken from dout", L,
      "dx = np.where(x > 0, dout, 0)", "dx = np.where(dout > 0, dout, 0)", r"mask was taken from dout"),
    M("relu_mask_only", "relu_backward", "mask without dout", L,
      "dx = np.where(x > 0, dout, 0)", "dx = (x > 0) * 1.0", r"mask alone"),
    M("swish_unstable", "swish_forward", "sigmoid as exp(x) / (1 + exp(x))", L,
      "    sig = np.where(x >= 0, 1 / (1 + e), e / (1 + e))\n",
      "    sig = np.exp(x) / (1 + np.exp(x))\n", r"overflow.*np\.exp"),
    M("swish_where_both", "swish_forward", "np.where with exp(x) in one branch", L,
      "    sig = np.where(x >= 0, 1 / (1 + e), e / (1 + e))\n",
      "    sig = np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))\n",
      r"np\.where\(cond, a, b\) evaluates BOTH"),
    M("swish_sigmoid_only", "swish_forward", "returns sigmoid(x), not x * sigmoid(x)", L,
      "    out = x * sig\n", "    out = sig\n", r"returns sigmoid\(x\)"),
    M("swish_bwd_partial", "swish_backward", "only the sigmoid term", L,
      "dx = dout * (sig + x * sig * (1 - sig))", "dx = dout * sig", r"only the sigmoid\(x\) term"),
    M("swish_bwd_no_dout", "swish_backward", "dout not multiplied", L,
      "dx = dout * (sig + x * sig * (1 - sig))", "dx = sig + x * sig * (1 - sig)",
      r"not multiplied by dout"),
    M("svm_count_correct", "svm_loss", "correct class's own margin counted", L,
      "    margins[rows, y] = 0\n", "", r"own margin"),
    M("svm_dx_noN", "svm_loss", "dx not divided by N", L,
      "    dx /= N\n    ### END SOLUTION\n    return loss, dx\n\n\ndef softmax_loss",
      "    ### END SOLUTION\n    return loss, dx\n\n\ndef softmax_loss", r"not divided by N"),
    M("softmax_noshift", "softmax_loss", "no shift by the maximum", L,
      "shifted = x - x.max(axis=1, keepdims=True)", "shifted = x", r"ROW's maximum"),
    M("softmax_global_max", "softmax_loss", "shift by the global maximum", L,
      "shifted = x - x.max(axis=1, keepdims=True)", "shifted = x - x.max()", r"ROW's maximum"),
    M("softmax_sum", "softmax_loss", "loss summed over the examples", L,
      "loss = -log_probs[rows, y].sum() / N", "loss = -log_probs[rows, y].sum()",
      r"summed over the examples"),
    M("softmax_dx_noN", "softmax_loss", "dx not divided by N", L,
      "    dx[rows, y] -= 1\n    dx /= N\n", "    dx[rows, y] -= 1\n", r"not divided by N"),
    # -- optim.py
    M("momentum_sign", "sgd_momentum", "gradient added", O,
      'v = config["momentum"] * v - config["learning_rate"] * dw',
      'v = config["momentum"] * v + config["learning_rate"] * dw', r"gradient is added"),
    M("momentum_nosave", "sgd_momentum", "velocity not stored", O,
      '    config["velocity"] = v\n', "", r"not stored in config\['velocity'\]"),
    M("rmsprop_nosquare", "rmsprop", "gradient not squared", O,
      '(1 - config["decay_rate"]) * dw**2', '(1 - config["decay_rate"]) * dw', r"not squared"),
    M("rmsprop_nosave", "rmsprop", "cache not stored", O,
      '    config["cache"] = cache\n', "", r"not stored in config\['cache'\]"),
    M("rmsprop_no_sqrt", "rmsprop", "no square root", O,
      '/ (np.sqrt(cache) + config["epsilon"])', '/ (cache + config["epsilon"])', r"no square root"),
    M("adam_t_after", "adam", "t incremented after it is used", O, REGION,
      _adam(t="config['t']").replace("    t = config['t'] + 1\n", "").replace(
          "    config.update(m=m, v=v, t=t)\n", "    config.update(m=m, v=v, t=config['t'] + 1)\n"),
      r"incremented after it is used"),
    M("adam_no_bias_correction", "adam", "no bias correction", O, REGION,
      _adam(mt="m", vt="v"), r"no bias correction"),
    M("adam_store_corrected", "adam", "corrected moments stored", O, REGION,
      _adam(store="m=mt, v=vt, t=t"), r"bias-corrected moment was stored"),
    M("adam_t_not_saved", "adam", "t not stored", O, REGION, _adam(store="m=m, v=v"),
      r"config\['t'\]"),
    # -- classifiers/neural_net.py
    M("tln_relu_scores", "TwoLayerNet.loss", "ReLU on the scores", N,
      "        scores = hidden @ W2 + b2\n", "        scores = np.maximum(hidden @ W2 + b2, 0)\n",
      r"ReLU is applied to the scores"),
    M("tln_no_b1", "TwoLayerNet.loss", "first bias forgotten", N,
      "hidden = np.maximum(X @ W1 + b1, 0)", "hidden = np.maximum(X @ W1, 0)",
      r"does not change with b1"),
    M("tln_reg_no_half", "TwoLayerNet.loss", "regularization without 0.5", N,
      "loss += 0.5 * reg * (", "loss += reg * (", r"lacks the factor 0.5"),
    M("tln_no_reg", "TwoLayerNet.loss", "no regularization in the loss", N,
      "        loss += 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))\n", "",
      r"regularization term is missing"),
    M("tln_bias_reg_loss", "TwoLayerNet.loss", "biases regularized in loss and gradients", N,
      "        loss += 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))\n",
      "        loss += 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(b1 * b1)"
      " + np.sum(b2 * b2))\n", r"biases are regularized"),
    M("tln_bias_reg_grad", "TwoLayerNet.loss", "bias gradient regularized", N,
      'grads["b2"] = dscores.sum(axis=0)', 'grads["b2"] = dscores.sum(axis=0) + reg * b2',
      r"bias b2 is regularized"),
    M("tln_no_reg_grad", "TwoLayerNet.loss", "reg * W2 missing from the gradient", N,
      'grads["W2"] = hidden.T @ dscores + reg * W2', 'grads["W2"] = hidden.T @ dscores',
      r"reg \* W2, is missing"),
    M("tln_grad_sum", "TwoLayerNet.loss", "gradient not divided by N", N,
      "        dscores /= N\n", "", r"not divided by N"),
    M("tln_train_noreg", "TwoLayerNet.train", "reg not passed on to loss", N,
      "loss, grads = self.loss(X_batch, y=y_batch, reg=reg)",
      "loss, grads = self.loss(X_batch, y=y_batch)", r"instead of the reg it was given"),
    M("tln_same_batch", "TwoLayerNet.train", "same minibatch every iteration", N,
      "idx = np.random.choice(num_train, batch_size, replace=True)",
      "idx = np.arange(batch_size) % num_train", r"same minibatch"),
    M("tln_no_replacement", "TwoLayerNet.train", "sampling without replacement", N,
      "idx = np.random.choice(num_train, batch_size, replace=True)",
      "idx = np.random.choice(num_train, batch_size, replace=False)", r"WITH replacement"),
    M("tln_train_wrong_sign", "TwoLayerNet.train", "step of the wrong sign", N,
      "self.params[name] - learning_rate * grad", "self.params[name] + learning_rate * grad",
      r"sign"),
    M("tln_train_no_update", "TwoLayerNet.train", "parameters not updated", N,
      "                self.params[name] = self.params[name] - learning_rate * grad\n",
      "                pass\n", r"updated"),
    M("tln_float_ipe", "TwoLayerNet.train", "iterations per epoch as a float", N,
      "iterations_per_epoch = max(num_train // batch_size, 1)",
      "iterations_per_epoch = max(num_train / batch_size, 1)", r"not decayed after each epoch"),
    M("tln_no_decay", "TwoLayerNet.train", "learning rate never decayed", N,
      "                learning_rate *= learning_rate_decay\n", "", r"not decayed"),
    M("tln_acc_start_of_epoch", "TwoLayerNet.train", "epoch bookkeeping at the start", N,
      "if (it + 1) % iterations_per_epoch == 0:", "if it % iterations_per_epoch == 0:",
      r"START of each epoch"),
    M("tln_predict_argmin", "TwoLayerNet.predict", "argmin", N,
      "y_pred = np.argmax(self.loss(X), axis=1)", "y_pred = np.argmin(self.loss(X), axis=1)",
      r"argmin"),
    # -- classifiers/fc_net.py
    M("fc_init_uniform", "FullyConnectedNet.__init__", "uniform weights", F,
      "weight_scale * np.random.randn(dims[i], dims[i + 1])",
      "weight_scale * np.random.rand(dims[i], dims[i + 1])", r"uniform"),
    M("fc_init_no_scale", "FullyConnectedNet.__init__", "weight_scale ignored", F,
      "weight_scale * np.random.randn(dims[i], dims[i + 1])", "np.random.randn(dims[i], dims[i + 1])",
      r"standard deviation"),
    M("fc_init_bias_ones", "FullyConnectedNet.__init__", "biases of ones", F,
      'self.params["b%d" % (i + 1)] = np.zeros(dims[i + 1])',
      'self.params["b%d" % (i + 1)] = np.ones(dims[i + 1])', r"zeros"),
    M("fc_ignores_activation", "FullyConnectedNet.loss", "activation argument ignored", F,
      'self.params["b%d" % i],\n                                            self.activation)',
      'self.params["b%d" % i],\n                                            "relu")',
      r"activation argument is ignored"),
    M("fc_reg_skip_last", "FullyConnectedNet.loss", "last layer not regularized", F,
      "for i in range(1, L + 1):\n            W = ", "for i in range(1, L):\n            W = ",
      r"W2 is not regularized"),
    M("fc_reg_no_half", "FullyConnectedNet.loss", "regularization without 0.5", F,
      "loss += 0.5 * self.reg * np.sum(W**2)", "loss += self.reg * np.sum(W**2)",
      r"lacks the factor 0.5"),
    M("fc_bias_reg", "FullyConnectedNet.loss", "biases regularized", F,
      "            loss += 0.5 * self.reg * np.sum(W**2)",
      '            b = self.params["b%d" % i]\n'
      "            loss += 0.5 * self.reg * (np.vdot(W, W) + np.vdot(b, b))\n"
      '            grads["b%d" % i] += self.reg * b', r"biases are regularized"),
    M("fc_no_reg_grad", "FullyConnectedNet.loss", "reg * W missing from the gradients", F,
      '            grads["W%d" % i] += self.reg * W\n', "",
      r"reg \* W\d, is missing"),
    M("fc_float64_leak", "FullyConnectedNet.loss", "computes in float64", F,
      "        X = X.astype(self.dtype, copy=False)\n", "        X = X.astype(np.float64)\n",
      r"float32"),
    M("fc_relu_on_scores", "FullyConnectedNet.loss", "ReLU after the last layer", F,
      '        scores, cache = affine_forward(out, self.params["W%d" % L], self.params["b%d" % L])\n',
      '        scores, cache = affine_forward(out, self.params["W%d" % L], self.params["b%d" % L])\n'
      '        scores = np.maximum(scores, 0)\n', r"applied to the scores"),
    # -- derivations.py
    M("ae_decoder_only", "autoencoder_grad", "only the decoder path", D,
      "dW = np.outer(h, r) + np.outer(W @ r, x)", "dW = np.outer(h, r)", r"only the decoder path"),
    M("ae_encoder_only", "autoencoder_grad", "only the encoder path", D,
      "dW = np.outer(h, r) + np.outer(W @ r, x)", "dW = np.outer(W @ r, x)",
      r"only the encoder path"),
    M("ae_transposed", "autoencoder_grad", "transposed", D,
      "dW = np.outer(h, r) + np.outer(W @ r, x)", "dW = np.outer(r, h) + np.outer(x, W @ r)",
      r"transpose"),
    M("ae_batch_sum", "autoencoder_grad_batch", "summed, not averaged", D,
      "dW = (H @ R.T + (W @ R) @ X.T) / N", "dW = H @ R.T + (W @ R) @ X.T",
      r"summed over the N columns"),
    M("gp_logdet_no_alpha", "gplvm_logdet_grad", "alpha missing", D,
      "dX = -D * alpha * np.linalg.solve(K, X)", "dX = -D * np.linalg.solve(K, X)",
      r"factor alpha"),
    M("gp_logdet_no_D", "gplvm_logdet_grad", "D missing", D,
      "dX = -D * alpha * np.linalg.solve(K, X)", "dX = -alpha * np.linalg.solve(K, X)",
      r"factor D"),
    M("gp_logdet_half", "gplvm_logdet_grad", "factor 2 missing", D,
      "dX = -D * alpha * np.linalg.solve(K, X)", "dX = -D / 2 * alpha * np.linalg.solve(K, X)",
      r"factor 2"),
    M("gp_trace_sign", "gplvm_trace_grad", "wrong sign", D,
      "dX = alpha * (A @ (A.T @ X))", "dX = -alpha * (A @ (A.T @ X))", r"sign"),
    M("gp_trace_one_kinv", "gplvm_trace_grad", "one K^-1 missing", D,
      "dX = alpha * (A @ (A.T @ X))", "dX = alpha * (A @ (Y.T @ X))", r"one K\^-1 is missing"),
    M("gp_grad_logdet_only", "gplvm_grad", "only the log-determinant term", D,
      "dX = gplvm_logdet_grad(X, Y, alpha, beta) + gplvm_trace_grad(X, Y, alpha, beta)",
      "dX = gplvm_logdet_grad(X, Y, alpha, beta)", r"only the log-determinant term"),
]

# Correct code in other reasonable styles (same format; hint unused): the self-check and the
# notebooks' public tests must pass them, as the hidden suites do (tests/test_suites.py).
CORRECT = [
    M("alt_affine_dot", "affine_forward", "np.dot and np.prod", L,
      "out = x.reshape(x.shape[0], -1) @ w + b",
      "out = np.dot(x.reshape(len(x), np.prod(x.shape[1:], dtype=int)), w) + b", ""),
    M("alt_affine_einsum", "affine_backward", "einsum for dw", L,
      "dw = x.reshape(x.shape[0], -1).T @ dout",
      "dw = np.einsum('nd,nm->dm', x.reshape(x.shape[0], -1), dout)", ""),
    M("alt_relu_mask", "relu_forward", "x * (x > 0)", L,
      "    out = np.maximum(x, 0)\n", "    out = x * (x > 0)\n", ""),
    M("alt_relu_backward_mul", "relu_backward", "dout * (x > 0)", L,
      "dx = np.where(x > 0, dout, 0)", "dx = dout * (x > 0)", ""),
    M("alt_swish_tanh", "swish_forward", "sigmoid through tanh", L,
      "    sig = np.where(x >= 0, 1 / (1 + e), e / (1 + e))\n",
      "    sig = 0.5 * (1 + np.tanh(0.5 * x))\n", ""),
    M("alt_softmax_logaddexp", "softmax_loss", "np.logaddexp.reduce", L,
      "    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))\n",
      "    log_probs = x - np.logaddexp.reduce(x, axis=1, keepdims=True)\n", ""),
    M("alt_rmsprop_eps_inside", "rmsprop", "epsilon inside the square root", O,
      'next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])',
      'next_w = w - config["learning_rate"] * dw / np.sqrt(cache + config["epsilon"])', ""),
    M("alt_adam_textbook", "adam", "textbook Adam with mt and vt", O, REGION, _adam(), ""),
    M("alt_randint_sampling", "TwoLayerNet.train", "np.random.randint", N,
      "idx = np.random.choice(num_train, batch_size, replace=True)",
      "idx = np.random.randint(0, num_train, size=batch_size)", ""),
    M("alt_gplvm_inv", "gplvm_logdet_grad", "explicit inverse", D,
      "dX = -D * alpha * np.linalg.solve(K, X)", "dX = -D * alpha * np.linalg.inv(K) @ X", ""),
    M("alt_ae_factored", "autoencoder_grad", "W (x r^T + r x^T)", D,
      "dW = np.outer(h, r) + np.outer(W @ r, x)", "dW = W @ (np.outer(x, r) + np.outer(r, x))", ""),
]

# A wrong function under another's check: the self-check of the second names the first.
BLAME = [("tln_grad_sum", "TwoLayerNet.train"),
         ("affine_dw_transposed", "FullyConnectedNet.loss"),
         ("relu_mask_dout", "FullyConnectedNet.loss"),
         ("softmax_dx_noN", "FullyConnectedNet.loss"),
         ("gp_trace_sign", "gplvm_grad")]


# ------------------------------------------------------------------------------------------------
# Building a mutant

def _region(text, function):
    """(start, end) offsets of the body of the solution region of `function` (a plain name or
    Class.method) in text."""
    name = function.split(".")[-1]
    at = re.search(r"^\s*def %s\(" % re.escape(name), text, re.M).start()
    begin = text.index("### BEGIN SOLUTION\n", at) + len("### BEGIN SOLUTION\n")
    end = text.rindex("\n", 0, text.index("### END SOLUTION", begin)) + 1
    return begin, end


def apply(mutant, dest):
    """Copy the reference package into dest/cs239 and plant the mutant's bug."""
    shutil.copytree(ROOT / "cs239", dest / "cs239",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    p = dest / "cs239" / mutant.file
    text = p.read_text()
    if mutant.old is REGION:
        start, end = _region(text, mutant.function)
        text = text[:start] + mutant.new + text[end:]
    else:
        count = text.count(mutant.old)
        if count != 1:
            raise ValueError("mutant %s: its text occurs %d times in cs239/%s (expected once): "
                             "update it to the reference" % (mutant.name, count, mutant.file))
        text = text.replace(mutant.old, mutant.new)
    p.write_text(text)
    return dest


# ------------------------------------------------------------------------------------------------
# The three judges

SELF_CHECK = r"""
import json, sys
from cs239.tools.runner import run_one
out = {}
for name in sys.argv[1:]:
    out[name] = run_one(name)
print("@@mutants@@" + json.dumps(out))
"""


def self_check(folder, names):
    """{graded name: the self-check's result} in the mutant's folder (one process)."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-c", SELF_CHECK, *names], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)
    for line in proc.stdout.splitlines():
        if line.startswith("@@mutants@@"):
            return json.loads(line[len("@@mutants@@"):])
    return {n: {"status": "fails", "detail": "the self-check crashed: %s"
                % proc.stderr.strip()[-300:], "step": ""} for n in names}


# Cells that need CIFAR-10 or train on it: skipped (the data set is not needed by any test cell).
NEEDS_DATA = ("get_CIFAR10_data", "data[", "X_train", "Solver(", "best_net", "best_model",
              "solvers", "plot_stats", "show_net_weights")

NOTEBOOK_RUNNER = r"""
import json, sys, traceback
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
plt.show = lambda *a, **k: None
cells = json.load(open(sys.argv[1]))
ns = {"__name__": "__main__"}
failed = []
for cell in cells:
    src = "\n".join(l for l in cell["source"].splitlines() if not l.startswith("%"))
    try:
        exec(compile(src, cell["id"], "exec"), ns)
    except BaseException as e:
        if cell["test"]:
            failed.append([cell["id"], "%s: %s" % (type(e).__name__, str(e)[:200])])
    plt.close("all")
print("@@mutants@@" + json.dumps(failed))
"""


def _without_imports(src):
    tree = ast.parse("\n".join(l for l in src.splitlines() if not l.startswith("%")))
    return ast.unparse([n for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom))])


def notebook_cells(notebook):
    """The code cells of a release notebook that run without the data set: [{id, source, test}]."""
    nb = json.loads((RELEASE / notebook).read_text())
    cells = []
    for c in nb["cells"]:
        src = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        meta = c.get("metadata", {}).get("nbgrader", {})
        if c["cell_type"] != "code" or meta.get("solution") or \
                any(k in _without_imports(src) for k in NEEDS_DATA):
            continue
        cells.append({"id": c.get("id", "?"), "source": src, "test": bool(meta.get("grade"))})
    return cells


def notebook_tests(folder, notebooks):
    """[(cell id, error)] of the public test cells that fail in the mutant's folder."""
    failed = []
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg")
    for nb in notebooks:
        cells = Path(folder) / ("cells-%s.json" % nb)
        cells.write_text(json.dumps(notebook_cells(nb)))
        proc = subprocess.run([sys.executable, "-c", NOTEBOOK_RUNNER, str(cells)], cwd=folder,
                              env=env, capture_output=True, text=True, timeout=600)
        found = [l for l in proc.stdout.splitlines() if l.startswith("@@mutants@@")]
        if not found:
            failed.append([nb, "the notebook's cells crashed: %s" % proc.stderr[-300:]])
        else:
            failed += json.loads(found[0][len("@@mutants@@"):])
    return failed


def hidden_suites(folders):
    """{folder name: [(test name, message)] of the failing hidden tests} (in-process stand-in;
    best-model and notebook-work tests are left out: the mutants change no saved model and no
    notebook)."""
    with tempfile.TemporaryDirectory(prefix="cs239-mutants-") as tmp:
        out = Path(tmp) / "results.json"
        cmd = [sys.executable, "-m", "pytest", str(ROOT / "autograder" / "suites"),
               "-p", "tests.test_suites_standin", "-q", "-p", "no:cacheprovider",
               "--results", str(out), "-o", "addopts=", "-k", "not best_model and not notebook_work"]
        for f in folders:
            cmd += ["--submission", str(f)]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1200,
                              env=dict(os.environ, CS239_CIFAR10_DIR=str(Path(tmp) / "none")))
        if not out.exists():
            raise RuntimeError("the hidden suites did not run: %s" % proc.stdout[-2000:])
        by = {Path(f).name: [] for f in folders}
        for r in json.loads(out.read_text()):
            if r["status"] != "passed" and not r["name"].startswith(
                    (manifest.MODELS_GRADED_AS,) + tuple(manifest.NOTEBOOK_WORK)):
                by.setdefault(r["submission"], []).append((r["name"], r["message"]))
        return by


# ------------------------------------------------------------------------------------------------

def notebooks_for(function):
    nbs = [manifest.function(function).notebook]
    if function.startswith("swish"):           # Backprop.ipynb checks Swish again
        nbs.append("Backprop.ipynb")
    return nbs


def measure(mutants=MUTANTS, blame=BLAME, correct=CORRECT, workdir=None):
    """(rows, control): rows = [{mutant, notebook, self_check, hidden, blame}] for every mutant;
    control = {"reference" or a correct alternative's name: what each judge finds wrong with it
    (nothing, when the judges are sound)}."""
    from cs239.tools import manifest
    own = tempfile.TemporaryDirectory(prefix="cs239-mutants-") if workdir is None else None
    base = Path(workdir or own.name)
    try:
        folders = {m.name: apply(m, base / m.name) for m in mutants}
        controls = {"reference": base / "reference"}
        shutil.copytree(ROOT / "cs239", controls["reference"] / "cs239",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        controls.update((m.name, apply(m, base / m.name)) for m in correct)
        hidden = hidden_suites(list(folders.values()) + list(controls.values()))
        graded = [f.name for f in manifest.FUNCTIONS]
        control = {}
        for name, folder in controls.items():
            alt = [m for m in correct if m.name == name]
            control[name] = {
                "notebook": notebook_tests(folder, notebooks_for(alt[0].function) if alt
                                           else list(manifest.NOTEBOOKS)),
                "self_check": {n: r for n, r in self_check(folder, graded).items()
                               if r["status"] != "passes public checks"},
                "hidden": hidden[name]}
        rows = []
        blamed = {name: [f for n, f in blame if n == name] for name in folders}
        for m in mutants:
            checks = self_check(folders[m.name], [m.function] + blamed[m.name])
            rows.append({"mutant": m, "notebook": notebook_tests(folders[m.name],
                                                                 notebooks_for(m.function)),
                         "self_check": checks[m.function], "hidden": hidden[m.name],
                         "blame": {f: checks[f] for f in blamed[m.name]}})
        return rows, control
    finally:
        if own:
            own.cleanup()


def describe_result(result):
    from cs239.tools.runner import describe
    return describe(result)


def caught(row):
    """(notebook, self-check, hidden suites) flags of a measured row."""
    return (bool(row["notebook"]), row["self_check"]["status"] != "passes public checks",
            bool(row["hidden"]))


def table(rows):
    """The agreement table (Markdown)."""
    yes = {True: "yes", False: "-"}
    lines = ["| mutant | function | notebook tests | self-check | hidden suites | self-check says |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        nb, sc, hs = caught(r)
        lines.append("| %s | %s | %s | %s | %s | %s |" % (
            r["mutant"].name, r["mutant"].function, yes[nb], yes[sc], yes[hs],
            describe_result(r["self_check"]).replace("|", "/")))
    n = len(rows)
    counts = [sum(caught(r)[i] for r in rows) for i in range(3)]
    lines.append("")
    lines.append("%d mutants: the notebooks' public tests catch %d, the self-check %d, the hidden "
                 "suites %d." % (n, *counts))
    return "\n".join(lines)


def main(argv=None):
    names = sys.argv[1:] if argv is None else argv
    chosen = [m for m in MUTANTS if not names or m.name in names]
    rows, control = measure(chosen)
    print(table(rows))
    print("\ncontrols (the reference and correct alternatives; should find nothing): %s"
          % json.dumps(control))
    return 0


if __name__ == "__main__":
    sys.exit(main())
