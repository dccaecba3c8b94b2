"""The hidden suites (autograder/suites) judge submissions correctly.

One pytest subprocess runs every suite against a set of generated submissions through the
in-process stand-in plugin (tests/test_suites_standin.py):
- the reference package: every test passes (best models included, on a small fake CIFAR-10);
- a stub (every solution region replaced by ``raise NotImplementedError``): every test fails;
- realistic buggy variants (one common mistake each, patched into a copy of the reference):
  exactly the expected graded names lose points, with the expected diagnosis in the message;
- correct alternative styles (einsum, logsumexp, np.where, sampling without replacement,
  epsilon inside the RMSProp square root, textbook Adam with mt and vt, explicit inverse,
  ...): full marks.
"""
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parents[1]
SUITES = ROOT / "autograder" / "suites"
L, O, N, F, D = ("layers.py", "optim.py", "classifiers/neural_net.py",
                 "classifiers/fc_net.py", "derivations.py")


def _rewrite(rel, first, last, new):
    """A patch replacing the reference's lines from the one starting with FIRST through the next
    one starting with LAST (both included) by NEW; _patch checks that they occur once."""
    text = (ROOT / "cs239" / rel).read_text()
    start = text.index(first)
    end = text.index("\n", text.index(last, start)) + 1
    return (rel, text[start:end], new)


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

# name -> (patches [(file, old, new)], {graded-name prefix: message regex} expected to FAIL).
# Every graded name not listed must keep full marks.
BUGS = {
    "affine_db_mean": ([(L, "db = dout.sum(axis=0)", "db = dout.mean(axis=0)")],
                       {"affine_backward": r"db uses the mean",
                        "FullyConnectedNet.loss": r"affine_backward is wrong.*fix it first"}),
    "affine_dx_flat": ([(L, "dx = (dout @ w.T).reshape(x.shape)", "dx = dout @ w.T")],
                       {"affine_backward": r"must be reshaped to \(3, 2, 3, 2\)"}),
    "affine_no_reshape": ([(L, "out = x.reshape(x.shape[0], -1) @ w + b", "out = x @ w + b")],
                          {"affine_forward: output matches on 3-D": r"flatten each example first",
                           "affine_forward": r"(matmul|shape|mismatch)",
                        "FullyConnectedNet.loss": r"mismatch"}),
    "affine_dw_transposed": ([(L, "dw = x.reshape(x.shape[0], -1).T @ dout",
                               "dw = dout.T @ x.reshape(x.shape[0], -1)")],
                             {"affine_backward": r"transpose of the right answer",
                              "FullyConnectedNet.loss": r"affine_backward is wrong|shape"}),
    "relu_inplace": ([(L, "    out = np.maximum(x, 0)\n",
                       "    x[x < 0] = 0\n    out = x\n")],
                     {"relu_forward: does not modify": r"modified its input x in place"}),
    "relu_returns_object": ([(L, "    out = np.maximum(x, 0)\n", "    out = object()\n")],
                            {"relu_forward": r"expected a numeric array, got a object",
                             "FullyConnectedNet.loss": r"relu_forward is wrong|fault|object"}),
    "relu_ge": ([(L, "dx = np.where(x > 0, dout, 0)", "dx = np.where(x >= 0, dout, 0)")],
                {"relu_backward: gradient is 0 where x == 0": r"use x > 0 \(not x >= 0\)"}),
    "relu_mask_dout": ([(L, "dx = np.where(x > 0, dout, 0)", "dx = np.where(dout > 0, dout, 0)")],
                       {"relu_backward": r"mask was taken from dout",
                        "FullyConnectedNet.loss": r"relu_backward is wrong"}),
    "relu_mask_only": ([(L, "dx = np.where(x > 0, dout, 0)", "dx = (x > 0) * 1.0")],
                       {"relu_backward": r"without multiplying by dout",
                        "FullyConnectedNet.loss": r"relu_backward is wrong"}),
    "softmax_noshift": ([(L, "shifted = x - x.max(axis=1, keepdims=True)", "shifted = x")],
                        {"softmax_loss: stable": r"subtract each ROW's maximum"}),
    "softmax_global_max": ([(L, "shifted = x - x.max(axis=1, keepdims=True)",
                             "shifted = x - x.max()")],
                           {"softmax_loss: stable": r"global maximum"}),
    "softmax_sum": ([(L, "loss = -log_probs[rows, y].sum() / N", "loss = -log_probs[rows, y].sum()")],
                    {"softmax_loss: loss": r"summed over the examples",
                     "softmax_loss: two classes": r"loss for N=5",
                     "softmax_loss: stable": r"summed over the examples",
                     "FullyConnectedNet.loss": r"softmax_loss is wrong"}),
    "softmax_dx_noN": ([(L, "    dx[rows, y] -= 1\n    dx /= N\n", "    dx[rows, y] -= 1\n")],
                       {"softmax_loss: dx": r"dx is not divided by N",
                        "softmax_loss: stable": r"dx with large",
                        "softmax_loss: two classes": r"dx for N=5",
                        "FullyConnectedNet.loss": r"softmax_loss is wrong"}),
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
    # Adam's mistakes are planted into the textbook form (mt, vt) of the reference.
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
                         "TwoLayerNet.loss": r"",
                         "TwoLayerNet.train: parameters": r"fix TwoLayerNet.loss first"}),
    "tln_reg_no_half": ([(N, "loss += 0.5 * reg * (", "loss += reg * (")],
                        {"TwoLayerNet.loss: loss with": r"lacks the factor 0.5",
                         "TwoLayerNet.loss: gradients agree": r"disagrees with finite"}),
    "tln_bias_reg": ([(N, 'grads["b2"] = dscores.sum(axis=0)',
                       'grads["b2"] = dscores.sum(axis=0) + reg * b2')],
                     {"TwoLayerNet.loss: gradients with": r"bias 'b2'|bias b2 is regularized",
                      "TwoLayerNet.loss: gradients agree": r"disagrees",
                      "TwoLayerNet.train: parameters": r"fix TwoLayerNet.loss first"}),
    "tln_no_reg_grad": ([(N, 'grads["W2"] = hidden.T @ dscores + reg * W2',
                          'grads["W2"] = hidden.T @ dscores')],
                        {"TwoLayerNet.loss: gradients with": r"reg \* W2 is missing",
                         "TwoLayerNet.loss: gradients agree": r"disagrees",
                         "TwoLayerNet.train: parameters": r"fix TwoLayerNet.loss first"}),
    "tln_grad_sum": ([(N, "        dscores /= N\n", "")],
                     {"TwoLayerNet.loss: loss and": r"not divided by N",
                      "TwoLayerNet.loss: gradients": r"not divided by N|disagrees",
                      "TwoLayerNet.train": r""}),
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
                         {"FullyConnectedNet.loss: loss and gradients with": r"W\d is not regularized",
                          "FullyConnectedNet.loss: activation='swish'": r"not regularized",
                          "FullyConnectedNet.loss: a float32": r"loss of a float32"}),
    "fc_float64_leak": ([(F, "        X = X.astype(self.dtype, copy=False)\n", "        X = X.astype(np.float64)\n")],
                        {"FullyConnectedNet.loss: a float32": r"dtype expected float32, got float64"}),
    "swish_unstable": ([(L, "    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows\n"
                            "    sig = np.where(x >= 0, 1 / (1 + e), e / (1 + e))\n",
                         "    sig = np.exp(x) / (1 + np.exp(x))\n")],
                       {"swish_forward: finite": r"exp overflows",
                        "swish_backward: finite": r"exp overflows"}),
    "swish_bwd_partial": ([(L, "dx = dout * (sig + x * sig * (1 - sig))", "dx = dout * sig")],
                          {"swish_backward": r"only the sigmoid\(x\) term",
                           "FullyConnectedNet.loss: activation='swish'": r"swish_forward/swish_backward is wrong"}),
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
                           {"gplvm_logdet_grad": r"factor alpha", "gplvm_grad": r"alpha"}),
    "gp_logdet_no_D": ([(D, "dX = -D * alpha * np.linalg.solve(K, X)", "dX = -alpha * np.linalg.solve(K, X)")],
                       {"gplvm_logdet_grad": r"factor D is missing", "gplvm_grad": r"factor D"}),
    "gp_logdet_half": ([(D, "dX = -D * alpha * np.linalg.solve(K, X)", "dX = -D / 2 * alpha * np.linalg.solve(K, X)")],
                       {"gplvm_logdet_grad": r"factor 2 is missing", "gplvm_grad": r""}),
    "gp_trace_sign": ([(D, "dX = alpha * (A @ (A.T @ X))", "dX = -alpha * (A @ (A.T @ X))")],
                      {"gplvm_trace_grad": r"sign is wrong", "gplvm_grad": r"trace term has the wrong sign"}),
    "gp_trace_one_kinv": ([(D, "dX = alpha * (A @ (A.T @ X))", "dX = alpha * (A @ (Y.T @ X))")],
                          {"gplvm_trace_grad": r"one K\^\{-1\} is missing", "gplvm_grad": r""}),
    "gp_grad_logdet_only": ([(D, "dX = gplvm_logdet_grad(X, Y, alpha, beta) + gplvm_trace_grad(X, Y, alpha, beta)",
                              "dX = gplvm_logdet_grad(X, Y, alpha, beta)")],
                            {"gplvm_grad": r"only the log-determinant term"}),
}

# Correct code in other reasonable styles: full marks everywhere.
ALTERNATIVES = {
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
        (O, "config[\"v\"] + (1 - beta2) * dw**2", "config[\"v\"] + (1 - beta2) * np.square(dw)"),
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


def _copy_reference(dest):
    shutil.copytree(ROOT / "cs239", dest / "cs239",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def _patch(dest, patches):
    for rel, old, new in patches:
        p = dest / "cs239" / rel
        text = p.read_text()
        assert text.count(old) == 1, "variant patch no longer applies to %s: %r" % (rel, old)
        p.write_text(text.replace(old, new))


def _stubify(dest, body="raise NotImplementedError()"):
    pat = re.compile(r"^([ \t]*)### BEGIN SOLUTION\n.*?^[ \t]*### END SOLUTION\n", re.M | re.S)
    for p in (dest / "cs239").rglob("*.py"):
        text = p.read_text()
        p.write_text(pat.sub(lambda m: m.group(1) + body + "\n", text))


def _fake_cifar(root, rng):
    """A tiny CIFAR-10-format data set whose labels are easy to read off the images."""
    d = root / "cifar-10-batches-py"
    d.mkdir(parents=True)
    templates = rng.integers(0, 256, size=(10, 3072)).astype(np.float64)

    def batch(n):
        y = rng.integers(0, 10, size=n)
        X = np.clip(0.7 * templates[y] + 0.3 * rng.integers(0, 256, size=(n, 3072)), 0, 255)
        return {b"data": X.astype(np.uint8), b"labels": [int(v) for v in y]}
    for name in ["data_batch_%d" % i for i in range(1, 6)] + ["test_batch"]:
        with open(d / name, "wb") as f:
            pickle.dump(batch(200), f)
    return d, templates


def _good_models(dest, templates):
    """Models that classify the fake data set perfectly, with the reference's own preprocessing
    (mean image subtracted): a linear layer matching the class templates."""
    T = templates - templates.mean(axis=0)
    W1 = np.concatenate([T.T, -T.T], axis=1) / 1e4          # relu(z) - relu(-z) = z
    W2 = np.concatenate([np.eye(10), -np.eye(10)], axis=0)
    np.savez(dest / "two_layer_net_best.npz", W1=W1, b1=np.zeros(20), W2=W2, b2=np.zeros(10))
    np.savez(dest / "fc_net_best.npz", W1=W1.astype(np.float32), b1=np.zeros(20, np.float32),
             W2=W2.astype(np.float32), b2=np.zeros(10, np.float32), activation=np.array("relu"))


def _start(submissions, out, env_extra):
    cmd = [sys.executable, "-m", "pytest", str(SUITES), "-p", "tests.test_suites_standin",
           "-q", "-p", "no:cacheprovider", "--results", str(out), "-o", "addopts="]
    for s in submissions:
        cmd += ["--submission", str(s)]
    return subprocess.Popen(cmd, cwd=ROOT, env=dict(os.environ, **env_extra),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _run(jobs):
    """Run the stand-in on [(submissions, results file, env)], each job in its own process, all
    at once (the machine's cores); {submission name: [records]} of all of them together."""
    procs = [(_start(*job), job[1]) for job in jobs]
    by = {}
    for proc, out in procs:
        printed, _ = proc.communicate(timeout=600)
        assert out.exists(), printed[-3000:]
        for r in json.loads(out.read_text()):
            by.setdefault(r["submission"], []).append(r)
    return by


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("suites")
    cifar, templates = _fake_cifar(base / "data", np.random.default_rng(5))
    subs = []
    ref_dir = base / "reference"
    _copy_reference(ref_dir)
    _good_models(ref_dir, templates)
    subs.append(ref_dir)
    stub = base / "stub"
    _copy_reference(stub)
    _stubify(stub)
    subs.append(stub)
    blank = base / "blank"
    _copy_reference(blank)
    _stubify(blank, "pass")
    subs.append(blank)
    for name, patches in list(ALTERNATIVES.items()):
        d = base / name
        _copy_reference(d)
        _patch(d, patches)
        subs.append(d)
    for name, (patches, _) in BUGS.items():
        d = base / name
        _copy_reference(d)
        _patch(d, patches)
        subs.append(d)
    data = {"CS239_CIFAR10_DIR": str(cifar)}
    by = _run([(subs[0::2], base / "results-a.json", data),      # two halves, two processes
               (subs[1::2], base / "results-b.json", data)])
    nodata = _run([([ref_dir], base / "results_nodata.json",
                    {"CS239_CIFAR10_DIR": str(base / "no-such-dir")})])
    return by, nodata["reference"], {d.name: d for d in subs}, cifar


def _names():
    from autograder.suites import GRADED_NAMES
    return GRADED_NAMES


def _fmt(recs):
    return "\n".join("%s [%s] %s" % (r["name"], r["status"], r["message"][:300]) for r in recs)


def test_reference_gets_full_marks(graded):
    recs = graded[0]["reference"]
    bad = [r for r in recs if r["status"] != "passed"]
    assert not bad, _fmt(bad)
    assert sum(r["points"] for r in recs) == 110


def test_suite_points_are_the_manifests(graded):
    """Each graded name's tests add up to the points the assignment manifest gives it."""
    from cs239.tools import manifest
    points = {}
    for r in graded[0]["reference"]:
        name = r["name"].split(":", 1)[0]
        points[name] = points.get(name, 0) + r["points"]
    expected = {f.name: f.points for f in manifest.FUNCTIONS}
    expected[manifest.MODELS_GRADED_AS] = manifest.MODELS_POINTS
    assert points == expected


def test_every_graded_name_has_tests_and_only_known_names(graded):
    names = _names()
    seen = {r["name"].split(":", 1)[0] for r in graded[0]["reference"]}
    assert seen == set(names)
    for r in graded[0]["reference"]:
        assert re.match(r"^[^:]+: \S", r["name"]), r["name"]
    full = [r["name"] for r in graded[0]["reference"]]
    assert len(full) == len(set(full)), "duplicate test names"


def test_stub_fails_every_test(graded):
    recs = graded[0]["stub"]
    passed = [r for r in recs if r["status"] == "passed"]
    assert not passed, _fmt(passed)
    # code tests fail through the student's NotImplementedError, best models: missing files
    for r in recs:
        if r["name"].startswith("best_model"):
            assert "not found in the submission" in r["message"], _fmt([r])
        else:
            assert r["status"] == "fault" and "NotImplementedError" in r["message"], _fmt([r])


def test_blank_solutions_fail_every_test_cleanly(graded):
    # every solution region replaced by `pass`: functions return None, empty dicts, ...
    recs = graded[0]["blank"]
    passed = [r for r in recs if r["status"] == "passed"]
    assert not passed, _fmt(passed)
    errors = [r for r in recs if r["status"] == "error"]
    assert not errors, _fmt(errors)


@pytest.mark.parametrize("name", sorted(ALTERNATIVES))
def test_correct_alternatives_get_full_marks(graded, name):
    recs = graded[0][name]
    bad = [r for r in recs if r["status"] != "passed" and not r["name"].startswith("best_model")]
    assert not bad, _fmt(bad)


@pytest.mark.parametrize("name", sorted(BUGS))
def test_bug_is_caught_and_diagnosed(graded, name):
    recs = [r for r in graded[0][name] if not r["name"].startswith("best_model")]
    expected = BUGS[name][1]
    for r in recs:
        match = [p for p in expected if r["name"].startswith(p)]
        if not match:
            assert r["status"] == "passed", "unexpected failure:\n" + _fmt([r])
    for prefix, regex in expected.items():
        hits = [r for r in recs if r["name"].startswith(prefix)]
        assert hits, prefix
        failed = [r for r in hits if r["status"] != "passed"]
        assert failed, "%s: no test of %r failed" % (name, prefix)
        assert any(re.search(regex, r["message"]) for r in failed), _fmt(failed)
    for r in recs:
        assert r["status"] != "error", _fmt([r])


def test_missing_cifar_is_a_skip_with_reason_never_a_pass(graded):
    recs = [r for r in graded[1] if r["name"].startswith("best_model")]
    tiers = [r for r in recs if "accuracy" in r["name"]]
    assert tiers and all(r["status"] == "skipped" for r in tiers), _fmt(tiers)
    assert all("not scored: CIFAR-10 test data missing" in r["message"] for r in tiers)
    assert all(r["score"] == 0 for r in tiers)


def test_messages_never_show_suite_code_or_tracebacks(graded):
    for name, recs in graded[0].items():
        for r in recs:
            assert "Traceback" not in r["message"] and "def test_" not in r["message"], (name, r)
            assert "\nassert " not in r["message"], (name, r)  # no rewritten-assert dumps


# Through the real machinery (the grader's CLI, judge, plugin and sandbox): a few submissions
# get exactly the scores and messages the stand-in run gave them.
REAL = ["reference", "stub", "alt_styles", "relu_inplace", "tln_float_ipe"]


def _real_grade(names, dirs, out, cifar):
    cmd = [sys.executable, "-m", "autograder", "grade", *[str(dirs[n]) for n in names],
           "--out", str(out), "--jobs", "1", "-q", "--force", "--no-notebooks"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, CS239_CIFAR10_DIR=str(cifar)))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return {n: json.loads((out / n / "results.json").read_text()) for n in names}


@pytest.mark.slow      # the sandboxed grader: run it under the grading lock
def test_real_grader_agrees_with_the_stand_in(graded, tmp_path):
    by, _, dirs, cifar = graded
    out = tmp_path / "out"
    results = _real_grade(REAL, dirs, out, cifar)
    for name in REAL:
        res = results[name]
        # only the package suites' tests (the grader may add notebook tests of its own)
        real = {t["name"]: t for t in res["tests"]
                if t["name"].split(":", 1)[0] in _names()}
        standin = {r["name"]: r for r in by[name]}
        assert set(real) == set(standin), name
        for tname, r in standin.items():
            t = real[tname]
            assert (t["score"] == t["max_score"]) == (r["status"] == "passed"), (
                name, tname, t["output"], r["message"])
            assert t["max_score"] == r["points"]
            if r["status"] == "failed":
                assert t["output"].startswith(r["message"]), (name, tname, t["output"],
                                                              r["message"])
            if r["status"] == "fault":
                assert "NotImplementedError" in t["output"] or name != "stub", t["output"]
    header = (out / "grades.csv").read_text().splitlines()[0].split(",")
    assert [c for c in header if c in _names()] == _names()
