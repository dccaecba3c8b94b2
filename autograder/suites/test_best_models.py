"""Hidden tests: the saved best models, scored by CIFAR-10 test accuracy.

`two_layer_net_best.npz` (np.savez of TwoLayerNet.params) and `fc_net_best.npz`
(FullyConnectedNet.params, plus `activation` as a 0-d str array) are read from the top of the
submission on the TRUSTED side with allow_pickle=False, validated, and evaluated with the
REFERENCE forward pass on the CIFAR-10 test set, preprocessed like the notebooks do
(cs239.data_utils.get_CIFAR10_data defaults: float32 images of shape (N, 3, 32, 32) minus the
mean training image; the two-layer net sees each image flattened to 3072 values). No student
code runs here. Without the data set on the grading machine these tests are skipped (scored 0,
with a clear reason), never passed.

A saved model is hostile data: each file is checked from the archive's headers (number of
members, declared sizes, each array's dtype and shape from its .npy header) before anything is
decompressed, read once, and validated and scored in a forked child with a memory limit and a
deadline, so that neither a decompression bomb nor a huge model can take the judge down.
"""
import json
import os
import resource
import select
import signal
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ._checks import fail

graded = pytest.mark.graded
D_IN, C = 3 * 32 * 32, 10
MAX_PARAMS = 50_000_000          # entries; a larger "model" is refused, not evaluated
MAX_MEMBERS = 64                 # arrays in one .npz
MAX_BYTES = 8 * MAX_PARAMS + (1 << 20)   # declared uncompressed bytes of one .npz
SCORER_MEMORY = 3 << 30          # address space the scoring child may add to the judge's
SCORER_SECONDS = 600
TLN_FILE, FC_FILE = "two_layer_net_best.npz", "fc_net_best.npz"
# Accuracy tiers (points each); the top tier is the notebooks' stated target.
TLN_TIERS = [(0.35, 1), (0.42, 1), (0.48, 2)]
FC_TIERS = [(0.40, 1), (0.45, 1), (0.50, 2)]

_DATA = {}
_ACC = {}


def _test_data(ref):
    if "test" not in _DATA:
        try:
            _DATA["test"] = _load_test_set(ref.data_utils)
        except (FileNotFoundError, AttributeError, ImportError) as e:
            _DATA["test"] = e
    if isinstance(_DATA["test"], Exception):
        pytest.skip("not scored: CIFAR-10 test data missing on the grading machine (set "
                    "CS239_CIFAR10_DIR to a cifar-10-batches-py folder, or put it in "
                    "datasets/cifar-10-batches-py, and regrade)")
    return _DATA["test"]


def _load_test_set(du):
    """(X_test (N, 3, 32, 32) float32 minus the training mean image, y_test), exactly as
    get_CIFAR10_data's defaults prepare it, with the whole test batch."""
    try:
        data = du.get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=10000,
                                   num_dev=0)
        return np.asarray(data["X_test"], dtype=np.float32), np.asarray(data["y_test"])
    except ValueError:
        pass  # a smaller data set (tests, demo): same preprocessing, proportional split
    Xtr, _, Xte, yte = du.load_CIFAR10(du.default_cifar10_dir())
    ntr = min(49000, len(Xtr) - min(1000, len(Xtr) // 10))
    mean = Xtr[:ntr].transpose(0, 3, 1, 2).mean(axis=0, dtype=np.float64).astype(np.float32)
    X = np.ascontiguousarray(Xte.transpose(0, 3, 1, 2), dtype=np.float32) - mean
    return X, np.asarray(yte)


def _load(submission_dir, filename, notebook):
    path = Path(submission_dir) / filename
    if not path.is_file():
        # the submission may sit inside one top folder: look one level down, no further
        found = [p / filename for p in Path(submission_dir).iterdir()
                 if p.is_dir() and not p.name.startswith(".") and (p / filename).is_file()]
        if len(found) != 1:
            fail("%s not found in the submission: run the last cells of %s, which save it next "
                 "to the notebook, and include it in the zip" % (filename, notebook))
        path = found[0]
    try:
        return _read_npz(path, filename)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError, KeyError) as e:
        msg = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        fail("%s cannot be read as an .npz of plain numeric arrays (saved with np.savez; "
             "object arrays are not allowed): %s" % (filename, msg))


def _read_npz(path, filename):
    """{name: array}, checked from the zip and .npy headers before decompressing any data."""
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            fail("%s: %d arrays, more than %d; save only the model's params"
                 % (filename, len(infos), MAX_MEMBERS))
        if sum(i.file_size for i in infos) > MAX_BYTES:
            fail("%s: too large (declares more than %d MB once decompressed); save only the "
                 "model's params" % (filename, MAX_BYTES >> 20))
        headers, count = [], 0
        for info in infos:
            if not info.filename.endswith(".npy"):
                raise ValueError("%s is not an array" % info.filename[:80])
            with zf.open(info) as f:
                version = np.lib.format.read_magic(f)
                shape, fortran, dtype = (np.lib.format.read_array_header_1_0(f)
                                         if version == (1, 0)
                                         else np.lib.format.read_array_header_2_0(f))
                offset = f.tell()
            if dtype.hasobject or dtype.kind not in "biufcSU":
                raise ValueError("%s has dtype %s" % (info.filename[:80], dtype))
            n = int(np.prod(shape, dtype=np.int64)) if shape else 1
            count += n
            if count > MAX_PARAMS:
                fail("%s: too large (more than %d numbers); save only the model's params"
                     % (filename, MAX_PARAMS))
            if offset + n * dtype.itemsize != info.file_size:
                raise ValueError("%s: its header does not match its size" % info.filename[:80])
            headers.append((info, shape, fortran, dtype, offset, n * dtype.itemsize))
        out = {}
        for info, shape, fortran, dtype, offset, nbytes in headers:
            with zf.open(info) as f:
                f.read(offset)
                data = f.read(nbytes)
            if len(data) != nbytes:
                raise ValueError("%s is truncated" % info.filename[:80])
            out[info.filename[:-4]] = np.frombuffer(data, dtype).reshape(
                shape, order="F" if fortran else "C").copy()
        return out


def _check_float(filename, name, a):
    if not np.issubdtype(a.dtype, np.floating):
        fail("%s: %s has dtype %s, expected a floating point array" % (filename, name, a.dtype))
    if not np.all(np.isfinite(a)):
        fail("%s: %s contains NaN or inf" % (filename, name))


def _validate_tln(z):
    f = TLN_FILE
    keys = sorted(z)
    if keys != ["W1", "W2", "b1", "b2"]:
        fail("%s: keys expected ['W1', 'W2', 'b1', 'b2'] (np.savez(path, **net.params)), got %s"
             % (f, keys))
    W1, b1, W2, b2 = (z[k] for k in ("W1", "b1", "W2", "b2"))
    if W1.ndim != 2 or W1.shape[0] != D_IN:
        fail("%s: W1 has shape %s, expected (3072, H)" % (f, W1.shape))
    H = W1.shape[1]
    for name, a, shape in (("b1", b1, (H,)), ("W2", W2, (H, C)), ("b2", b2, (C,))):
        if a.shape != shape:
            fail("%s: %s has shape %s, expected %s (H = %d from W1)" % (f, name, a.shape,
                                                                          shape, H))
    for k in ("W1", "b1", "W2", "b2"):
        _check_float(f, k, z[k])
    return {k: z[k].astype(np.float32) for k in ("W1", "b1", "W2", "b2")}


def _validate_fc(z):
    f = FC_FILE
    act = "relu"
    if "activation" in z:
        a = z["activation"]
        if a.dtype.kind not in "US" or a.size != 1:
            fail("%s: activation must be a 0-d string array (np.array('relu')), got dtype %s "
                 "and shape %s" % (f, a.dtype, a.shape))
        act = str(a.reshape(()).item())
        if isinstance(a.reshape(()).item(), bytes):
            act = a.reshape(()).item().decode("ascii", "replace")
        if act not in ("relu", "swish"):
            fail("%s: activation must be 'relu' or 'swish', got %r" % (f, act[:20]))
    L = sum(1 for k in z if k.startswith("W"))
    want = ["W%d" % i for i in range(1, L + 1)] + ["b%d" % i for i in range(1, L + 1)]
    have = sorted(k for k in z if k != "activation")
    if L == 0 or sorted(want) != have:
        fail("%s: keys expected W1..WL and b1..bL (and 'activation'), got %s" % (f, have[:20]))
    dims = [D_IN]
    for i in range(1, L + 1):
        W, b = z["W%d" % i], z["b%d" % i]
        if W.ndim != 2 or W.shape[0] != dims[-1]:
            fail("%s: W%d has shape %s, expected (%d, ...)" % (f, i, W.shape, dims[-1]))
        if b.shape != (W.shape[1],):
            fail("%s: b%d has shape %s, expected (%d,)" % (f, i, b.shape, W.shape[1]))
        _check_float(f, "W%d" % i, W)
        _check_float(f, "b%d" % i, b)
        dims.append(W.shape[1])
    if dims[-1] != C:
        fail("%s: the last layer W%d has %d outputs, expected %d classes" % (f, L, dims[-1], C))
    return {k: z[k].astype(np.float32) for k in want}, dims[1:-1], act


def _evaluate(ref, kind, submission_dir):
    """In the scoring child: ("ok", accuracy), ("fail", message) or ("skip", reason)."""
    try:
        if kind == "tln":
            params = _validate_tln(_load(submission_dir, TLN_FILE, "TwoLayerNet.ipynb"))
            X, y = _test_data(ref)
            H = params["W1"].shape[1]
            net = ref.classifiers.TwoLayerNet(D_IN, H, C)
            net.params = params
            pred = np.concatenate([net.predict(X[i:i + 2000].reshape(len(X[i:i + 2000]), -1))
                                   for i in range(0, len(X), 2000)])
        else:
            params, hidden, act = _validate_fc(_load(submission_dir, FC_FILE,
                                                     "FullyConnectedNets.ipynb"))
            X, y = _test_data(ref)
            net = ref.classifiers.FullyConnectedNet(hidden, input_dim=D_IN, num_classes=C,
                                                    dtype=np.float32, activation=act)
            net.params = params
            pred = np.concatenate([np.argmax(net.loss(X[i:i + 2000]), axis=1)
                                   for i in range(0, len(X), 2000)])
        return "ok", float(np.mean(pred == y))
    except AssertionError as e:
        return "fail", str(e)
    except pytest.skip.Exception as e:
        return "skip", str(e.msg)
    except MemoryError:
        return "fail", ("%s could not be evaluated within the grader's memory limit"
                        % (TLN_FILE if kind == "tln" else FC_FILE))


def _scores(ref, submission_dir):
    """{kind: outcome} for both models, computed once per submission in a forked child with a
    memory limit (on top of what the judge already maps) and a deadline."""
    key = str(submission_dir)
    if key in _ACC:
        return _ACC[key]
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:     # the child: never returns into pytest
        try:
            os.close(r)
            extra = SCORER_MEMORY
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("VmSize:"):
                        extra += int(line.split()[1]) * 1024
            resource.setrlimit(resource.RLIMIT_AS, (extra, extra))
            try:
                out = {kind: _evaluate(ref, kind, submission_dir) for kind in ("tln", "fc")}
            except Exception as e:    # a bug of this suite, not the student's: see the log
                out = {"error": repr(e)[:2000]}
            os.write(w, json.dumps(out).encode())
        finally:
            os._exit(0)
    os.close(w)
    data, deadline = b"", time.monotonic() + SCORER_SECONDS
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([r], [], [], deadline - time.monotonic())
            chunk = os.read(r, 1 << 16) if ready else b""
            if not chunk:
                break
            data += chunk
    finally:
        os.close(r)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
    try:
        got = json.loads(data)
    except ValueError:
        got = None
    if isinstance(got, dict) and "error" in got:
        raise RuntimeError("best-model scoring failed: " + got["error"])
    if got is not None:
        _ACC[key] = {k: tuple(v) for k, v in got.items()}
    else:
        why = ("the saved models could not be evaluated (the scoring process ran out of "
               "memory or time)")
        _ACC[key] = {"tln": ("fail", why), "fc": ("fail", why)}
    return _ACC[key]


def _outcome(ref, submission_dir, kind, need_data):
    status, value = _scores(ref, submission_dir)[kind]
    if status == "fail":
        fail(value)
    if status == "skip" and need_data:
        pytest.skip(value)
    return value


def _tier(ref, submission_dir, kind, threshold, tiers):
    acc = _outcome(ref, submission_dir, kind, need_data=True)
    if acc < threshold:
        fail("test accuracy %.1f%% is below %.0f%% (full points from %.0f%%)"
             % (100 * acc, 100 * threshold, 100 * tiers[-1][0]))


@graded("best_model: two_layer_net_best.npz is present and valid", points=1)
def test_tln_valid(ref, submission_dir):
    _outcome(ref, submission_dir, "tln", need_data=False)


@graded("best_model: fc_net_best.npz is present and valid", points=1)
def test_fc_valid(ref, submission_dir):
    _outcome(ref, submission_dir, "fc", need_data=False)


# One graded test per accuracy tier of each model, in the order of the tiers.
_TIER_CASES = [
    pytest.param(kind, threshold, tiers,
                 marks=graded("best_model: %s test accuracy >= %d%%" % (label, round(100 * threshold)),
                              points=points),
                 id="%s-%d" % (kind, round(100 * threshold)))
    for kind, label, tiers in (("tln", "two-layer net", TLN_TIERS),
                               ("fc", "fully-connected net", FC_TIERS))
    for threshold, points in tiers
]


@pytest.mark.parametrize("kind, threshold, tiers", _TIER_CASES)
def test_accuracy_tier(ref, submission_dir, kind, threshold, tiers):
    _tier(ref, submission_dir, kind, threshold, tiers)
