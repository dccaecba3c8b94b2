"""A corpus of submissions for testing the grader: correct implementations in many styles and
single-bug mutants, each a list of patches applied to a copy of the reference package.

Reused by the hidden suites' tests (tests/test_suites.py), the fair-scoring tests
(tests/test_fair_scores.py) and any later work that needs realistic submissions.

    from tests import corpus
    corpus.MUTANTS["relu_mask_dout"]    # Mutant(column, patches, expect)
    corpus.VARIANTS["alt_independent"]  # patches (correct code: full marks everywhere)
    corpus.build(dest, "relu_mask_dout", notebooks=True)   # dest/cs239 (+ notebooks) patched
    corpus.stub(dest)                   # every solution region -> raise NotImplementedError()

A patch is (file under cs239/, old text occurring exactly once, new text); ``replace_def``
builds one that swaps a whole function or method for an independently written one.
Mutant.column is the graded name (gradebook column) of the function that has the bug, and
Mutant.expect maps test-name prefixes that must fail to a regex their diagnosis must match;
all of them lie in that column, and every other test must keep full marks.
"""
import re
import shutil
from collections import namedtuple
from pathlib import Path
from cs239.tools import manifest

ROOT = Path(__file__).resolve().parents[2]
L, O, N, F, D = ("layers.py", "optim.py", "classifiers/neural_net.py",
                 "classifiers/fc_net.py", "derivations.py")
Mutant = namedtuple("Mutant", "column patches expect")


def _rewrite(rel, first, last, new):
    """A patch replacing the reference's lines from the one starting with FIRST through the next
    one starting with LAST (both included) by NEW; apply() checks that they occur once."""
    text = (ROOT / "cs239" / rel).read_text()
    start = text.index(first)
    end = text.index("\n", text.index(last, start)) + 1
    return (rel, text[start:end], new)


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
_MUTANTS = {
    "affine_db_mean": ([(L, "db = dout.sum(axis=0)", "db = dout.mean(axis=0)")],
                       {"affine_backward": r"db uses the mean"}),
    "affine_dx_flat": ([(L, "dx = (dout @ w.T).reshape(x.shape)", "dx = dout @ w.T")],
                       {"affine_backward": r"must be reshaped to \(3, 2, 3, 2\)"}),
    "affine_no_reshape": ([(L, "out = x.reshape(x.shape[0], -1) @ w + b", "out = x @ w + b")],
                          {"affine_forward: output matches on 3-D": r"flatten each example first",
                           "affine_forward": r"(matmul|shape|mismatch)"}),
    "affine_dw_transposed": ([(L, "dw = x.reshape(x.shape[0], -1).T @ dout",
                               "dw = dout.T @ x.reshape(x.shape[0], -1)")],
                             {"affine_backward": r"transpose of the right answer"}),
    "relu_inplace": ([(L, "    out = np.maximum(x, 0)\n",
                       "    x[x < 0] = 0\n    out = x\n")],
                     {"relu_forward: does not modify": r"modified its input x in place"}),
    "relu_returns_object": ([(L, "    out = np.maximum(x, 0)\n", "    out = object()\n")],
                            {"relu_forward": r"expected a numeric array, got a object"}),
    "relu_ge": ([(L, "dx = np.where(x > 0, dout, 0)", "dx = np.where(x >= 0, dout, 0)")],
                {"relu_backward: gradient is 0 where x == 0": r"use x > 0 \(not x >= 0\)"}),
    "relu_mask_dout": ([(L, "dx = np.where(x > 0, dout, 0)", "dx = np.where(dout > 0, dout, 0)")],
                       {"relu_backward": r"mask was taken from dout"}),
    "relu_mask_only": ([(L, "dx = np.where(x > 0, dout, 0)", "dx = (x > 0) * 1.0")],
                       {"relu_backward": r"without multiplying by dout"}),
    "softmax_noshift": ([(L, "shifted = x - x.max(axis=1, keepdims=True)", "shifted = x")],
                        {"softmax_loss: stable": r"subtract each ROW's maximum"}),
    "softmax_global_max": ([(L, "shifted = x - x.max(axis=1, keepdims=True)",
                             "shifted = x - x.max()")],
                           {"softmax_loss: stable": r"global maximum"}),
    "softmax_sum": ([(L, "loss = -log_probs[rows, y].sum() / N", "loss = -log_probs[rows, y].sum()")],
                    {"softmax_loss: loss": r"summed over the examples",
                     "softmax_loss: two classes": r"loss for N=\d.*summed over",
                     "softmax_loss: stable": r"summed over the examples"}),
    "softmax_dx_noN": ([(L, "    dx[rows, y] -= 1\n    dx /= N\n", "    dx[rows, y] -= 1\n")],
                       {"softmax_loss: dx": r"dx is not divided by N",
                        "softmax_loss: stable": r"dx for scores around 1000.*not divided by N",
                        "softmax_loss: two classes": r"dx for N=\d.*not divided by N"}),
    "svm_count_correct": ([(L, "    margins[rows, y] = 0\n", "")],
                          {"svm_loss": r"correct class's own margin"}),
    "momentum_sign": ([(O, 'v = config["momentum"] * v - config["learning_rate"] * dw',
                        'v = config["momentum"] * v + config["learning_rate"] * dw')],
                      {"sgd_momentum": r"added instead of subtracted|max relative error"}),
    "momentum_nosave": ([(O, '    config["velocity"] = v\n', "")],
                        {"sgd_momentum: velocity saved": r"config has no 'velocity'"}),
    "rmsprop_nosquare": ([(O, '(1 - config["decay_rate"]) * dw**2',
                           '(1 - config["decay_rate"]) * dw')],
                         {"rmsprop": r"squared"}),
    "rmsprop_nosave": ([(O, '    config["cache"] = cache\n', "")],
                       {"rmsprop: cache saved": r"config\['cache'\]|not saved"}),
    # Adam's mistakes are planted into the textbook form (mt, vt), which is what students write.
    "adam_t_after": ([
                      (O, "\n    mt = m / (1 - beta1**t)\n", "\n    mt = m / (1 - beta1**config['t'])\n"),
                      (O, "\n    vt = v / (1 - beta2**t)\n", "\n    vt = v / (1 - beta2**config['t'])\n")],
                     {"adam": r"t is incremented after it is used"}),
    "adam_no_bias_correction": ([
                                 (O, "\n    mt = m / (1 - beta1**t)\n", "\n    mt = m\n"),
                                 (O, "\n    vt = v / (1 - beta2**t)\n", "\n    vt = v\n")],
                                {"adam": r"no bias correction"}),
    "adam_store_corrected": ([
                              (O, "config.update(m=m, v=v, t=t)", "config.update(m=mt, v=vt, t=t)")],
                             {"adam: t incremented": r"bias-corrected moment",
                              "adam: state saved": r"bias-corrected moment"}),
    "adam_t_not_saved": ([(O, "config.update(m=m, v=v, t=t)", "config.update(m=m, v=v)")],
                         {"adam: t incremented": r"expected 1 after 1 step.*not incremented",
                          "adam: state saved": r"config\['t'\]|max relative error"}),
    "tln_relu_scores": ([(N, "        scores = hidden @ W2 + b2\n",
                          "        scores = np.maximum(hidden @ W2 + b2, 0)\n")],
                        {"TwoLayerNet.loss: scores": r"ReLU is applied to the scores",
                         "TwoLayerNet.loss: loss and": r"ReLU is applied to the scores",
                         "TwoLayerNet.loss": r""}),
    "tln_reg_no_half": ([(N, "loss += 0.5 * reg * (", "loss += reg * (")],
                        {"TwoLayerNet.loss: loss with": r"lacks the factor 0.5",
                         "TwoLayerNet.loss: gradients agree": r"disagrees with finite"}),
    "tln_bias_reg": ([(N, 'grads["b2"] = dscores.sum(axis=0)',
                       'grads["b2"] = dscores.sum(axis=0) + reg * b2')],
                     {"TwoLayerNet.loss: gradients with": r"bias 'b2'|bias b2 is regularized",
                      "TwoLayerNet.loss: gradients agree": r"disagrees"}),
    "tln_no_reg_grad": ([(N, 'grads["W2"] = hidden.T @ dscores + reg * W2',
                          'grads["W2"] = hidden.T @ dscores')],
                        {"TwoLayerNet.loss: gradients with": r"reg \* W2 is missing",
                         "TwoLayerNet.loss: gradients agree": r"disagrees"}),
    "tln_grad_sum": ([(N, "        dscores /= N\n", "")],
                     {"TwoLayerNet.loss: loss and": r"not divided by N",
                      "TwoLayerNet.loss: gradients": r"not divided by N|disagrees"}),
    "tln_train_noreg": ([(N, "loss, grads = self.loss(X_batch, y=y_batch, reg=reg)",
                          "loss, grads = self.loss(X_batch, y=y_batch)")],
                        {"TwoLayerNet.train: reg": r"without reg",
                         "TwoLayerNet.train: parameters": r"max relative error"}),
    "tln_same_batch": ([(N, "idx = np.random.choice(num_train, batch_size, replace=True)",
                         "idx = np.arange(batch_size)")],
                       {"TwoLayerNet.train: each iteration": r"same minibatch"}),
    "tln_float_ipe": ([(N, "iterations_per_epoch = max(num_train // batch_size, 1)",
                        "iterations_per_epoch = max(num_train / batch_size, 1)")],
                      {"TwoLayerNet.train: accuracy": r"float",
                       "TwoLayerNet.train: parameters": r"not decayed"}),
    "tln_acc_start_of_epoch": ([(N, "if (it + 1) % iterations_per_epoch == 0:",
                                 "if it % iterations_per_epoch == 0:")],
                               {"TwoLayerNet.train: accuracy": r"start of each epoch",
                                "TwoLayerNet.train: parameters": r""}),
    "tln_train_wrong_sign": ([(N, "self.params[name] - learning_rate * grad",
                               "self.params[name] + learning_rate * grad")],
                             {"TwoLayerNet.train: parameters": r"wrong sign",
                              "TwoLayerNet.train: the loss goes down": r"halve|accuracy"}),
    "tln_predict_argmin": ([(N, "y_pred = np.argmax(self.loss(X), axis=1)",
                             "y_pred = np.argmin(self.loss(X), axis=1)")],
                           {"TwoLayerNet.predict: labels": r"argmin",
                            "TwoLayerNet.predict: N = 1": r"argmin|differ"}),
    "fc_init_uniform": ([(F, "weight_scale * np.random.randn(dims[i], dims[i + 1])",
                          "weight_scale * np.random.rand(dims[i], dims[i + 1])")],
                        {"FullyConnectedNet.__init__: weights": r"uniform"}),
    "fc_init_bias_ones": ([(F, 'self.params["b%d" % (i + 1)] = np.zeros(dims[i + 1])',
                            'self.params["b%d" % (i + 1)] = np.ones(dims[i + 1])')],
                          {"FullyConnectedNet.__init__: biases": r"zero"}),
    "fc_ignores_activation": ([(F, 'self.params["b%d" % i],\n                                            self.activation)',
                                'self.params["b%d" % i],\n                                            "relu")')],
                              {"FullyConnectedNet.loss: activation='swish'": r"activation argument is ignored"}),
    "fc_reg_skip_last": ([(F, "for i in range(1, L + 1):\n            W = ", "for i in range(1, L):\n            W = ")],
                         {"FullyConnectedNet.loss: loss and gradients with": r"W\d is not regularized|only W\d is regularized",
                          "FullyConnectedNet.loss: activation='swish'": r"not regularized",
                          "FullyConnectedNet.loss: a float32": r"loss of a float32"}),
    "fc_float64_leak": ([(F, "        X = X.astype(self.dtype, copy=False)\n", "        X = X.astype(np.float64)\n")],
                        {"FullyConnectedNet.loss: a float32": r"dtype expected float32, got float64"}),
    "swish_unstable": ([(L, "    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows\n"
                            "    sig = np.where(x >= 0, 1 / (1 + e), e / (1 + e))\n",
                         "    sig = np.exp(x) / (1 + np.exp(x))\n")],
                       {"swish_forward: finite": r"exp overflows"}),
    "swish_bwd_partial": ([(L, "dx = dout * (sig + x * sig * (1 - sig))", "dx = dout * sig")],
                          {"swish_backward": r"only the sigmoid\(x\) term"}),
    "ae_decoder_only": ([(D, "dW = np.outer(h, r) + np.outer(W @ r, x)", "dW = np.outer(h, r)")],
                        {"autoencoder_grad: dL/dW": r"only the decoder path",
                         "autoencoder_grad: agrees": r"only the decoder path"}),
    "ae_encoder_only": ([(D, "dW = np.outer(h, r) + np.outer(W @ r, x)", "dW = np.outer(W @ r, x)")],
                        {"autoencoder_grad: dL/dW": r"only the encoder path",
                         "autoencoder_grad: agrees": r"only the encoder path"}),
    "ae_transposed": ([(D, "dW = np.outer(h, r) + np.outer(W @ r, x)",
                        "dW = np.outer(r, h) + np.outer(x, W @ r)")],
                      {"autoencoder_grad: dL/dW": r"transpose of the right answer",
                       "autoencoder_grad: agrees": r"transpose of the right answer"}),
    "ae_batch_sum": ([(D, "dW = (H @ R.T + (W @ R) @ X.T) / N", "dW = H @ R.T + (W @ R) @ X.T")],
                     {"autoencoder_grad_batch": r"summed over the N columns"}),
    "gp_logdet_no_alpha": ([(D, "dX = -D * alpha * np.linalg.solve(K, X)", "dX = -D * np.linalg.solve(K, X)")],
                           {"gplvm_logdet_grad": r"factor alpha"}),
    "gp_logdet_no_D": ([(D, "dX = -D * alpha * np.linalg.solve(K, X)", "dX = -alpha * np.linalg.solve(K, X)")],
                       {"gplvm_logdet_grad": r"factor D is missing"}),
    "gp_logdet_half": ([(D, "dX = -D * alpha * np.linalg.solve(K, X)", "dX = -D / 2 * alpha * np.linalg.solve(K, X)")],
                       {"gplvm_logdet_grad": r"factor 2 is missing"}),
    "gp_trace_sign": ([(D, "dX = alpha * (A @ (A.T @ X))", "dX = -alpha * (A @ (A.T @ X))")],
                      {"gplvm_trace_grad": r"sign is wrong"}),
    "gp_trace_one_kinv": ([(D, "dX = alpha * (A @ (A.T @ X))", "dX = alpha * (A @ (Y.T @ X))")],
                          {"gplvm_trace_grad": r"one K\^\{-1\} is missing"}),
    "gp_grad_logdet_only": ([(D, "dX = gplvm_logdet_grad(X, Y, alpha, beta) + gplvm_trace_grad(X, Y, alpha, beta)",
                              "dX = gplvm_logdet_grad(X, Y, alpha, beta)")],
                            {"gplvm_grad": r"only the log-determinant term"}),
    # softmax that subtracts the row max but takes log(p): inf once the correct class trails
    # by more than ~745; with an epsilon, each example's loss is capped near 46
    "softmax_log_p": ([(L, "    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))\n",
                        "    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)\n"
                        "    log_probs = np.log(p)\n")],
                      {"softmax_loss: stable": r"log-sum-exp"}),
    "softmax_log_eps": ([(L, "    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))\n",
                          "    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)\n"
                          "    log_probs = np.log(p + 1e-20)\n")],
                        {"softmax_loss: stable": r"epsilon.*log-sum-exp"}),
    # the number of classes taken from the labels: wrong on a minibatch without the top class
    "softmax_C_from_labels": ([(L, "    dx[rows, y] -= 1\n    dx /= N\n",
                                "    dx = dx - np.eye(y.max() + 1, dtype=x.dtype)[y]\n    dx /= N\n")],
                              {"softmax_loss: two classes": r"highest class",
                               "softmax_loss: stable": r"ValueError"}),
    "tln_C_from_labels": ([(N, "        dscores[np.arange(N), y] -= 1\n",
                            "        dscores -= np.eye(y.max() + 1)[y]\n")],
                          {"TwoLayerNet.loss": r"highest class"}),
    "tln_reg_no_half_bias": ([(N, "loss += 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))",
                               "loss += reg * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(b1 * b1)"
                               " + np.sum(b2 * b2))")],
                             {"TwoLayerNet.loss: loss with": r"lacks the factor 0.5.* and the biases are regularized",
                              "TwoLayerNet.loss: gradients agree": r"disagrees"}),
    "adam_t_never": ([(O, '    t = config["t"] + 1\n', '    t = config["t"]\n')],
                     {"adam": r"never incremented"}),
    # in-place updates of the caller's weights
    "momentum_inplace_w": ([(O, "    next_w = w + v\n", "    w += v\n    next_w = w\n")],
                           {"sgd_momentum": r"modified its input w in place"}),
    "rmsprop_inplace_w": ([(O, 'next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])',
                            'w -= config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])\n'
                            "    next_w = w")],
                          {"rmsprop": r"modified its input w in place"}),
    "adam_inplace_w": ([(O, '    next_w = w - config["learning_rate"] * mt / (np.sqrt(vt) + config["epsilon"])\n',
                         '    w -= config["learning_rate"] * mt / (np.sqrt(vt) + config["epsilon"])\n'
                         "    next_w = w\n")],
                       {"adam": r"modified its input w in place"}),
    # float32 in, float64 out: charged to the function that does it, never to its callers
    "relu_backward_float64": ([(L, "dx = np.where(x > 0, dout, 0)",
                                "dx = np.where(x > 0, dout, 0).astype(np.float64)")],
                              {"relu_backward: 4-D": r"dtype expected float32"}),
    "softmax_dx_float64": ([(L, "    dx = np.exp(log_probs)\n",
                             "    dx = np.exp(log_probs).astype(np.float64)\n")],
                           {"softmax_loss: two classes": r"dtype expected float32"}),
    "svm_dx_float64": ([(L, "dx = (margins > 0).astype(x.dtype)", "dx = (margins > 0).astype(float)")],
                       {"svm_loss: two classes": r"dtype expected float32"}),
}


# Correct code in other reasonable styles: full marks everywhere.
VARIANTS = {
    "alt_styles": [
        (L, "out = x.reshape(x.shape[0], -1) @ w + b",
         "out = np.dot(x.reshape(len(x), np.prod(x.shape[1:], dtype=int)), w) + b"),
        (L, "dw = x.reshape(x.shape[0], -1).T @ dout",
         "dw = np.einsum('nd,nm->dm', x.reshape(x.shape[0], -1), dout)"),
        (L, "db = dout.sum(axis=0)", "db = np.sum(dout, axis=0)"),
        (L, "    out = np.maximum(x, 0)\n", "    out = x * (x > 0)\n"),
        (L, "dx = np.where(x > 0, dout, 0)", "dx = dout * (x > 0)"),
        (L, "    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))\n",
         "    log_probs = x - np.logaddexp.reduce(x, axis=1, keepdims=True)\n"),
        (L, "    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows\n"
            "    sig = np.where(x >= 0, 1 / (1 + e), e / (1 + e))\n",
         "    sig = 0.5 * (1 + np.tanh(0.5 * x))\n"),
        (O, "next_w = w - config[\"learning_rate\"] * dw / (np.sqrt(cache) + config[\"epsilon\"])",
         "next_w = w - config[\"learning_rate\"] * dw / np.sqrt(cache + config[\"epsilon\"])"),
        (O, 'v = beta2 * config["v"] + (1 - beta2) * dw**2',
         'v = beta2 * config["v"] + (1 - beta2) * np.square(dw)'),
        (N, "idx = np.random.choice(num_train, batch_size, replace=True)",
         "idx = np.random.choice(num_train, batch_size, replace=False)"),
        (N, "y_pred = np.argmax(self.loss(X), axis=1)", "y_pred = self.loss(X).argmax(1)"),
        (D, "dW = np.outer(h, r) + np.outer(W @ r, x)",
         "dW = W @ (np.outer(x, r) + np.outer(r, x))"),
        (D, "dX = -D * alpha * np.linalg.solve(K, X)", "dX = -D * alpha * np.linalg.inv(K) @ X"),
        (D, "dX = alpha * (A @ (A.T @ X))",
         "Ki = np.linalg.inv(K)\n    dX = alpha * Ki @ Y @ Y.T @ Ki.T @ X"),
    ],
    "alt_adam_folded": [ADAM_FOLDED],
    "alt_fc_skip_layer1_dx": [FC_SKIP_LAYER1_DX],
    "alt_randint_sampling": [
        (N, "idx = np.random.choice(num_train, batch_size, replace=True)",
         "idx = np.random.randint(0, num_train, size=batch_size)"),
        (L, "out = np.maximum(x, 0)", "out = np.where(x > 0, x, 0.0).astype(x.dtype)"),
        (O, "v = config[\"momentum\"] * v - config[\"learning_rate\"] * dw\n    next_w = w + v",
         "v = v * config[\"momentum\"]\n    v = v - config[\"learning_rate\"] * dw\n"
         "    next_w = w.copy()\n    next_w += v"),
    ],
}




def _column(expect):
    cols = {prefix.split(":", 1)[0] for prefix in expect}
    if len(cols) != 1:
        raise ValueError("a single-bug mutant's expected failures span %s" % sorted(cols))
    return cols.pop()


MUTANTS = {name: Mutant(_column(expect), patches, expect)
           for name, (patches, expect) in _MUTANTS.items()}

# Correct code written independently of the reference, in the styles students use (loops,
# np.dot, boolean masks, one-hot labels, config updated in place, the CS231n FC loop).
VARIANTS["alt_independent"] = [
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
]


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
    patches = (MUTANTS[name].patches if name in MUTANTS else VARIANTS[name]) if name else []
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
