"""Training step of FullyConnectedNet in numpy against the same network in PyTorch eager.

One step = loss + gradients + an Adam update of every parameter. Two numpy steps: the reference
(``model.loss(X, y)`` then ``cs239.optim.adam``, the textbook forms students write) and the
tuned forms of bench/tuned.py (Adam's bias corrections folded into scalars, no dX for layer 1,
np.vdot for the penalty); the torch side is forward, ``loss.backward()`` and
``torch.optim.Adam.step()``. Same initial weights, same data, float32, softmax cross-entropy plus
0.5 * reg * sum(W**2) over the weight matrices, on the CPU with the same number of threads for
both libraries. Reported: median ms/step of each and the ratios reference/torch and tuned/torch
(target <= 1.0), measured in the same run in alternating blocks (a pause between blocks lets
each library's spinning worker threads go to sleep before the other one runs), after a
warm-up. The step-0 losses are compared once as a sanity check.

    python -m bench train_step                       # through the runner (make bench)
    python -m bench.bench_train_step --profile       # also: where the reference step spends time

BENCH_THREADS=1 sets the number of threads of both libraries (default 2).
Needs torch (benchmark only, never a project dependency):
    .venv/bin/pip install torch==2.13.0
"""
import argparse
import ctypes
import os
import statistics
import time

import numpy as np

from bench.tuned import adam_tuned, fc_loss_tuned
from cs239.classifiers import FullyConnectedNet
from cs239.optim import adam

CASES = [  # (hidden dims, batch size)
    ([1024, 1024], 256),
    ([100, 100, 100], 200),
]
INPUT_DIM, NUM_CLASSES = 3 * 32 * 32, 10
REG, LR, WEIGHT_SCALE, SEED = 1e-3, 1e-3, 1e-2, 0
THREADS = int(os.environ.get("BENCH_THREADS", "2"))  # both libraries use this many threads
WARMUP, BLOCKS, STEPS_PER_BLOCK = 3, 5, 5
MIN_SAMPLE_S = 0.02  # time several steps per sample when one step is shorter than this
PAUSE_S = 0.3


# ------------------------------------------------------------------ BLAS introspection

def _openblas():
    """numpy's OpenBLAS as a ctypes library plus its symbol suffix, or (None, None)."""
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "openblas" in line.lower()
                            and line.split()[-1].startswith("/")})
    except OSError:
        return None, None
    for path in paths:
        lib = ctypes.CDLL(path)
        for prefix, suffix in (("scipy_", "64_"), ("", "64_"), ("scipy_", ""), ("", "")):
            if hasattr(lib, "%sopenblas_get_corename%s" % (prefix, suffix)):
                return lib, (prefix, suffix)
    return None, None


def blas_info(set_threads=None):
    """Which BLAS numpy uses at run time: {'blas': ..., 'kernel': ..., 'threads': ...}."""
    lib, affix = _openblas()
    if lib is None:
        cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return {"blas": cfg.get("name", "?"), "kernel": "?", "threads": None}
    prefix, suffix = affix

    def fn(name, restype=ctypes.c_int):
        f = getattr(lib, "%sopenblas_%s%s" % (prefix, name, suffix))
        f.restype = restype
        return f

    if set_threads is not None:
        fn("set_num_threads", None)(ctypes.c_int(set_threads))
    config = fn("get_config", ctypes.c_char_p)().decode()
    return {"blas": " ".join(config.split()[:2]),
            "kernel": fn("get_corename", ctypes.c_char_p)().decode(),
            "threads": fn("get_num_threads")()}


# ------------------------------------------------------------------ the two training steps

def make_problem(hidden_dims, batch):
    rng = np.random.default_rng(SEED)
    X = rng.standard_normal((batch, INPUT_DIM), dtype=np.float32)
    y = rng.integers(NUM_CLASSES, size=batch)
    state = np.random.get_state()
    model = FullyConnectedNet(hidden_dims, input_dim=INPUT_DIM, num_classes=NUM_CLASSES,
                              reg=REG, weight_scale=WEIGHT_SCALE, dtype=np.float32, seed=SEED)
    np.random.set_state(state)
    return model, X, y


class NumpyStep:
    """The reference: FullyConnectedNet.loss + cs239.optim.adam on every parameter."""

    def __init__(self, model, X, y):
        self.model, self.X, self.y = model, X, y
        self.configs = {p: {"learning_rate": LR} for p in model.params}

    def loss(self):
        return self.model.loss(self.X, self.y)

    def rule(self, w, dw, config):
        return adam(w, dw, config)

    def __call__(self):
        loss, grads = self.loss()
        params = self.model.params
        for p in params:
            params[p], self.configs[p] = self.rule(params[p], grads[p], self.configs[p])
        return float(loss)


class TunedStep(NumpyStep):
    """The same step with the tuned forms of bench/tuned.py."""

    def loss(self):
        return fc_loss_tuned(self.model, self.X, self.y)

    def rule(self, w, dw, config):
        return adam_tuned(w, dw, config)


class TorchStep:
    """The same network, loss and optimizer in PyTorch eager (CPU, default Adam)."""

    def __init__(self, torch, model, X, y):
        self.torch = torch
        L = model.num_layers
        self.Ws = [torch.tensor(model.params["W%d" % i], requires_grad=True)
                   for i in range(1, L + 1)]
        self.bs = [torch.tensor(model.params["b%d" % i], requires_grad=True)
                   for i in range(1, L + 1)]
        self.X = torch.from_numpy(X)
        self.y = torch.from_numpy(y.astype(np.int64))
        self.opt = torch.optim.Adam([p for pair in zip(self.Ws, self.bs) for p in pair], lr=LR,
                                    betas=(0.9, 0.999), eps=1e-8)

    def __call__(self):
        torch = self.torch
        self.opt.zero_grad(set_to_none=True)
        h = self.X
        for W, b in zip(self.Ws[:-1], self.bs[:-1]):
            h = torch.relu(h @ W + b)
        scores = h @ self.Ws[-1] + self.bs[-1]
        loss = torch.nn.functional.cross_entropy(scores, self.y)
        loss = loss + 0.5 * REG * sum((W * W).sum() for W in self.Ws)
        loss.backward()
        self.opt.step()
        return float(loss.detach())


# ------------------------------------------------------------------ timing

def _sample(step, n):
    start = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - start) / n


def time_alternating(steps, warmup=WARMUP, blocks=BLOCKS, per_block=STEPS_PER_BLOCK):
    """(median, min) seconds per step of each callable in steps (a dict), measured in
    alternating blocks after a warm-up. The min is less sensitive to other processes."""
    inner = {}
    for name, step in steps.items():
        for _ in range(warmup):
            step()
        one = _sample(step, 1)
        inner[name] = max(1, int(MIN_SAMPLE_S / max(one, 1e-9)))
    samples = {name: [] for name in steps}
    for _ in range(blocks):
        for name, step in steps.items():
            time.sleep(PAUSE_S)
            samples[name].extend(_sample(step, inner[name]) for _ in range(per_block))
    return {name: (statistics.median(s), min(s)) for name, s in samples.items()}


def _case_name(hidden_dims, batch):
    return "hidden %s batch %d" % (hidden_dims, batch)


def main():
    try:
        import torch
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError("torch is not installed, so there is no baseline: "
                                  ".venv/bin/pip install torch==2.13.0 (benchmarks only)",
                                  name="torch") from exc
    torch.set_num_threads(THREADS)
    info = blas_info(set_threads=THREADS)
    env = {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS", "OMP_", "MKL_"))}
    print("numpy %s, %s, kernel %s, %s threads; torch %s (%s), %d threads; env %s; load %s"
          % (np.__version__, info["blas"], info["kernel"], info["threads"], torch.__version__,
             "MKL" if torch.backends.mkl.is_available() else "no MKL",
             torch.get_num_threads(), env or "(no OPENBLAS_*/OMP_*/MKL_* variables)",
             "%.1f" % os.getloadavg()[0]))

    rows = []
    for hidden_dims, batch in CASES:
        # each step trains its own copy of the same network
        steps = {"reference": NumpyStep(*make_problem(hidden_dims, batch)),
                 "tuned": TunedStep(*make_problem(hidden_dims, batch)),
                 "torch": TorchStep(torch, *make_problem(hidden_dims, batch))}
        loss0 = {name: step() for name, step in steps.items()}  # step 0, identical weights
        sane = all(abs(loss0[n] - loss0["torch"]) < 1e-5 * abs(loss0["torch"])
                   for n in ("reference", "tuned"))
        times = time_alternating(steps)
        med = {name: t[0] * 1e3 for name, t in times.items()}
        row = {"case": _case_name(hidden_dims, batch), "reference_ms": med["reference"],
               "tuned_ms": med["tuned"], "torch_ms": med["torch"],
               "ratio": med["reference"] / med["torch"],
               "ratio_tuned": med["tuned"] / med["torch"],
               "ratio_of_mins": times["reference"][1] / times["torch"][1],
               "loss0_reference": loss0["reference"], "loss0_tuned": loss0["tuned"],
               "loss0_torch": loss0["torch"], "loss0_ok": sane, "kernel": info["kernel"],
               "threads": THREADS, "load": round(os.getloadavg()[0], 1)}
        print("%-32s reference %8.2f  tuned %8.2f  torch %8.2f ms/step; ratio to torch: "
              "reference %.2f, tuned %.2f (target <= 1.0)  step-0 losses %.6f %.6f %.6f %s"
              % (row["case"], med["reference"], med["tuned"], med["torch"], row["ratio"],
                 row["ratio_tuned"], loss0["reference"], loss0["tuned"], loss0["torch"],
                 "ok" if sane else "MISMATCH"), flush=True)
        rows.append(row)
    return rows


# ------------------------------------------------------------------ profile (--profile)

def _median_ms(fn, n=15):
    for _ in range(3):
        fn()
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1e3


def profile(hidden_dims, batch):
    """Where the numpy step spends its time, op by op (each op timed on its own)."""
    from cs239.layers import affine_backward, affine_forward, relu_backward, relu_forward
    from cs239.layers import softmax_loss

    model, X, y = make_problem(hidden_dims, batch)
    step = NumpyStep(model, X, y)
    for _ in range(2):
        step()
    P, L = model.params, model.num_layers
    rng = np.random.default_rng(1)
    print("profile of the numpy step, %s (ms, median of 15)" % _case_name(hidden_dims, batch))
    total = _median_ms(step)
    parts = []
    h = X
    acts = [X]
    for i in range(1, L + 1):
        W, b = P["W%d" % i], P["b%d" % i]
        parts.append(("affine_forward  L%d %s" % (i, W.shape),
                      _median_ms(lambda h=h, W=W, b=b: affine_forward(h, W, b))))
        a = affine_forward(h, W, b)[0]
        if i < L:
            parts.append(("relu_forward    L%d" % i, _median_ms(lambda a=a: relu_forward(a))))
            h = relu_forward(a)[0]
            acts.append(h)
    scores = h @ P["W%d" % L] + P["b%d" % L]
    parts.append(("softmax_loss", _median_ms(lambda: softmax_loss(scores, y))))
    for i in range(L, 0, -1):
        W, b = P["W%d" % i], P["b%d" % i]
        dout = rng.standard_normal((batch, W.shape[1]), dtype=np.float32)
        cache = (acts[i - 1], W, b)
        xT, dT = acts[i - 1].T, dout
        # the reference computes every layer's dx (the tuned form skips layer 1's)
        parts.append(("affine_backward L%d  dx=dout@W.T" % i, _median_ms(lambda: dout @ W.T)))
        parts.append(("affine_backward L%d  dW=x.T@dout" % i, _median_ms(lambda: xT @ dT)))
        parts.append(("affine_backward L%d  total" % i,
                      _median_ms(lambda c=cache, d=dout: affine_backward(d, c))))
        if i > 1:
            a = acts[i - 1]
            parts.append(("relu_backward   L%d" % (i - 1),
                          _median_ms(lambda a=a, d=rng.standard_normal(a.shape, dtype=np.float32):
                                     relu_backward(d, a))))
    parts.append(("reg: sum(W**2) + reg*W, all W",
                  _median_ms(lambda: [(np.sum(P[k]**2), REG * P[k]) for k in P
                                      if k.startswith("W")])))
    cfgs = {k: dict(c) for k, c in step.configs.items()}
    grads = {k: rng.standard_normal(v.shape, dtype=np.float32) for k, v in P.items()}
    parts.append(("adam, all params",
                  _median_ms(lambda: [adam(P[k], grads[k], cfgs[k]) for k in P])))
    print("  %-40s %8.2f" % ("whole step", total))
    for name, ms in parts:
        if "total" in name:
            continue
        print("  %-40s %8.2f  %5.1f%%" % (name, ms, 100 * ms / total))
    return total, parts


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", action="store_true",
                        help="also print where the numpy step spends its time")
    args = parser.parse_args()
    main()
    if args.profile:
        for hd, bs in CASES:
            profile(hd, bs)
