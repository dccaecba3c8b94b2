"""Saved best models are hostile data (issue 9, finding 5): an .npz that declares gigabytes of
zeros is rejected from its headers with a clear message, and the judge's peak memory, read from
/proc while it grades, stays far below what decompressing it would take. Valid models are still
read and validated."""
import io
import os
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.autograder_fixtures.build_submissions import REPO, make_submission, results

SUITES = REPO / "autograder" / "suites"
LIMIT_KIB = 512 * 1024


def npz_bomb(path, shape=(3072, 1 << 18)):
    """An .npz whose W1 declares SHAPE float32 zeros (3 GiB by default), deflated to ~14 MB."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        with z.open("W1.npy", "w", force_zip64=True) as f:
            hdr = io.BytesIO()
            np.lib.format.write_array_header_1_0(
                hdr, {"descr": "<f4", "fortran_order": False, "shape": shape})
            f.write(hdr.getvalue())
            chunk = bytes(1 << 24)
            for _ in range(int(np.prod(shape)) * 4 >> 24):
                f.write(chunk)
        for name, a in (("b1", np.zeros(shape[1], np.float32)),
                        ("W2", np.zeros((shape[1], 10), np.float32)),
                        ("b2", np.zeros(10, np.float32))):
            with z.open(name + ".npy", "w") as f:
                np.lib.format.write_array(f, a)


def small_models(d, rng):
    H = 16
    np.savez(d / "two_layer_net_best.npz", W1=rng.standard_normal((3072, H)).astype(np.float32),
             b1=np.zeros(H, np.float32), W2=rng.standard_normal((H, 10)).astype(np.float32),
             b2=np.zeros(10, np.float32))
    np.savez(d / "fc_net_best.npz", W1=rng.standard_normal((3072, H)),
             b1=np.zeros(H), W2=rng.standard_normal((H, 10)), b2=np.zeros(10),
             activation=np.array("relu"))


def _descendants(pid):
    kids, found = {pid}, True
    while found:
        found = False
        for p in os.listdir("/proc"):
            if not p.isdigit() or int(p) in kids:
                continue
            try:
                ppid = int(open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid in kids:
                kids.add(int(p))
                found = True
    return kids


def _hwm_kib(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _is_judge(pid):
    try:
        return b"autograder.judge" in open(f"/proc/{pid}/cmdline", "rb").read()
    except OSError:
        return False


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    bomb = make_submission(root, "bomb")
    npz_bomb(bomb / "two_layer_net_best.npz")
    good = make_submission(root, "good")
    small_models(good, np.random.default_rng(0))
    out = root / "out"
    p = subprocess.Popen([sys.executable, "-m", "autograder", "grade", str(bomb), str(good),
                          "--out", str(out), "--suites", str(SUITES), "--no-notebooks",
                          "--quiet"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=dict(os.environ, CS239_CIFAR10_DIR=str(root / "no-data")))
    peak = {}
    done = threading.Event()

    def watch():        # the judges and everything they start, sampled until the batch ends
        while not done.is_set():
            for pid in _descendants(p.pid):
                if _is_judge(pid) or pid in peak:
                    peak[pid] = max(peak.get(pid, 0), _hwm_kib(pid))
            time.sleep(0.02)
    t = threading.Thread(target=watch)
    t.start()
    try:
        stdout, stderr = p.communicate(timeout=600)
    finally:
        done.set()
        t.join()
    assert p.returncode == 0, stderr.decode()[-3000:]
    return out, peak


def test_npz_bomb_rejected_from_its_headers(graded):
    out, _ = graded
    tests = {t["name"]: t for t in results(out, "bomb")["tests"]}
    valid = tests["best_model: two_layer_net_best.npz is present and valid"]
    assert valid["score"] == 0
    assert "two_layer_net_best.npz: too large" in valid["output"], valid["output"]


def test_judge_memory_stays_small(graded):
    _, peak = graded
    assert peak, "no judge process was seen"
    assert max(peak.values()) < LIMIT_KIB, peak


def test_valid_models_are_still_read(graded):
    out, _ = graded
    tests = {t["name"]: t for t in results(out, "good")["tests"]}
    for f in ("two_layer_net_best.npz", "fc_net_best.npz"):
        t = tests[f"best_model: {f} is present and valid"]
        assert t["score"] == t["max_score"], t["output"]
