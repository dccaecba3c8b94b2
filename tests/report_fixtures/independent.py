"""A second, independently written correct solution of cs239/layers.py and cs239/optim.py
(CS231n-forum style: np.dot, explicit loops over steps, sigmoid via np.exp with clipping),
for the similarity tests: it must never be flagged against the reference."""

BODIES = {
    "affine_forward": """\
    num_examples = x.shape[0]
    flat = x.reshape(num_examples, np.prod(x.shape[1:]))
    out = np.dot(flat, w) + b[np.newaxis, :]
""",
    "affine_backward": """\
    n = x.shape[0]
    x2d = np.reshape(x, (n, -1))
    db = np.sum(dout, axis=0)
    dw = np.dot(x2d.T, dout)
    dx = np.reshape(np.dot(dout, w.T), x.shape)
""",
    "relu_forward": """\
    out = x * (x > 0)
""",
    "relu_backward": """\
    mask = (x > 0).astype(dout.dtype)
    dx = mask * dout
""",
    "swish_forward": """\
    z = np.clip(x, -60.0, 60.0)
    s = 1.0 / (1.0 + np.exp(-z))
    out = s * x
    cache = (x, s)
""",
    "swish_backward": """\
    inputs, sigma = cache
    local = sigma * (1.0 + inputs * (1.0 - sigma))
    dx = local * dout
""",
    "svm_loss": """\
    num = x.shape[0]
    idx = np.arange(num)
    correct = x[idx, y].reshape(-1, 1)
    margin = x - correct + 1.0
    margin[idx, y] = 0.0
    margin[margin < 0] = 0.0
    loss = np.sum(margin) / num
    positive = (margin > 0).astype(x.dtype)
    counts = np.sum(positive, axis=1)
    positive[idx, y] = -counts
    dx = positive / num
""",
    "softmax_loss": """\
    num = x.shape[0]
    z = x - np.max(x, axis=1)[:, np.newaxis]
    log_probs = z - np.log(np.sum(np.exp(z), axis=1))[:, np.newaxis]
    probs = np.exp(log_probs)
    loss = -np.mean(log_probs[np.arange(num), y])
    dx = probs.copy()
    dx[np.arange(num), y] = dx[np.arange(num), y] - 1.0
    dx = dx / num
""",
    "sgd_momentum": """\
    mu = config.get("momentum")
    lr = config.get("learning_rate")
    v = mu * v - lr * dw
    next_w = w + v
    config["velocity"] = v
""",
    "rmsprop": """\
    rho = config["decay_rate"]
    grad_sq = config["cache"] * rho + (1.0 - rho) * np.square(dw)
    config["cache"] = grad_sq
    next_w = w - config["learning_rate"] * dw / (np.sqrt(grad_sq) + config["epsilon"])
""",
    "adam": """\
    config["t"] += 1
    b1 = config["beta1"]
    b2 = config["beta2"]
    first = b1 * config["m"] + (1 - b1) * dw
    second = b2 * config["v"] + (1 - b2) * np.square(dw)
    config["m"] = first
    config["v"] = second
    first_hat = first / (1 - b1 ** config["t"])
    second_hat = second / (1 - b2 ** config["t"])
    next_w = w - config["learning_rate"] * first_hat / (np.sqrt(second_hat) + config["epsilon"])
""",
}


def fill_stubs(text, bodies):
    """TEXT (a released cs239 file) with the stubs of the functions in BODIES replaced."""
    lines, out, i = text.splitlines(keepends=True), [], 0
    while i < len(lines):
        line = lines[i]
        if line.strip() == "raise NotImplementedError(":
            name = lines[i + 1].split('"', 1)[1].split(" in cs239/")[0]
            if name in bodies:
                j = i + 1
                while not lines[j].rstrip().endswith('")'):
                    j += 1
                out.append(bodies[name])
                i = j + 1
                continue
        out.append(line)
        i += 1
    return "".join(out)


RENAMES = {"dout": "upstream", "x": "inp", "w": "weights", "out": "result", "cache": "store",
           "dx": "grad_in", "dw": "grad_w", "db": "grad_b", "N": "count", "rows": "ridx",
           "margins": "marg", "shifted": "z", "log_probs": "logp", "v": "vel", "m": "mom",
           "next_w": "updated", "sig": "gate", "e": "expo", "config": "cfg", "dscores": "dsc",
           "hidden": "h1", "scores": "logits", "caches": "stack", "dims": "sizes"}


def disguise(text):
    """TEXT with variables renamed, comments dropped and blank lines added: a hidden copy."""
    import re
    out = []
    for line in text.splitlines():
        if line.strip().startswith("#"):
            continue
        line = re.sub(r"\b(%s)\b" % "|".join(RENAMES), lambda m: RENAMES[m.group(1)], line)
        out.append(line)
        if line.strip().startswith(("return", "for ")):
            out.append("")
    return "\n".join(out) + "\n"
