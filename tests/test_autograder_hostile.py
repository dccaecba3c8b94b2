"""Hostile submissions: each is the reference package with one patched function (or module).
Each must earn exactly what its honest counterpart earns, and never affect the others graded in
the same batch (run with --jobs 2, an honest reference submission graded alongside)."""
import os
from pathlib import Path

import pytest

from autograder.sandbox.runtime import TEMP_DIRS
from tests.autograder_fixtures.build_submissions import (REPO, TcpListener, copy_suites, grade,
                                                         idle_slot_uids, make_submission, outputs,
                                                         results, scores, skip_without_netns)

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="root sandbox mode needs root")

CORRECT = "    return x.reshape(x.shape[0], -1) @ w + b, (x, w, b)\n"
STUB = "def affine_forward(x, w, b):\n    raise NotImplementedError\n"
WRONG = "def affine_forward(x, w, b):\n    return x.reshape(x.shape[0], -1)[:, :w.shape[1]] * 0, None\n"
BROKEN_IMPORT = 'raise ImportError("this module is broken")\n'


def attacks(out, suites, port=0):
    """name -> (code appended to layers.py, honest counterpart or None for the reference).
    PORT: a TCP listener of the test on 127.0.0.1, which the worker must not reach."""
    fake = '{"score": 1000, "tests": []}'
    return {
        "exit_at_import": ("import sys\nsys.exit(0)\n", BROKEN_IMPORT),
        "os_exit_at_import": ("import os\nos._exit(0)\n", BROKEN_IMPORT),
        "os_exit_in_function": ("def affine_forward(x, w, b):\n    import os\n    os._exit(0)\n",
                                STUB),
        "patches_numpy_pytest_builtins": (
            "import builtins, numpy\n"
            "numpy.allclose = lambda *a, **k: True\n"
            "numpy.testing.assert_allclose = lambda *a, **k: None\n"
            "builtins.AssertionError = type('AssertionError', (Exception,), {})\n"
            "try:\n    import pytest\n    pytest.approx = lambda *a, **k: True\n"
            "except ImportError:\n    pass\n" + WRONG, WRONG),
        "fake_results": (
            "def affine_forward(x, w, b):\n    import os, sys\n"
            f"    for p in [{str(out / 'victim' / 'results.json')!r},\n"
            f"              {str(out / 'fake' / 'results.json')!r}, {str(out / 'grades.csv')!r},\n"
            "              os.path.join(sys.path[0], 'two_layer_net_best.npz'),\n"
            "              os.path.join(sys.path[0], 'cs239', 'optim.py')]:\n"
            "        try:\n            os.makedirs(os.path.dirname(p), exist_ok=True)\n"
            f"            open(p, 'w').write({fake!r})\n"
            "        except OSError:\n            pass\n" + CORRECT, None),
        "inspects_frames_and_heap": (
            "def affine_forward(x, w, b):\n    import gc, sys, numpy as np\n"
            "    f, seen = sys._getframe(), []\n"
            "    while f is not None:\n        seen.extend(f.f_locals.values())\n"
            "        f = f.f_back\n"
            "    shape = (x.shape[0], w.shape[1])\n"
            "    for o in seen + gc.get_objects():\n"
            "        if isinstance(o, np.ndarray) and o.shape == shape:\n"
            "            return o, None\n"
            "    raise NotImplementedError\n", STUB),
        "infinite_loop": ("def affine_forward(x, w, b):\n    while True:\n        pass\n", STUB),
        "ignores_sigterm": (
            "def affine_forward(x, w, b):\n    import signal\n"
            "    for s in (signal.SIGTERM, signal.SIGXCPU, signal.SIGINT, signal.SIGHUP):\n"
            "        signal.signal(s, signal.SIG_IGN)\n"
            "    while True:\n        pass\n", STUB),
        "huge_memory": ("def affine_forward(x, w, b):\n    import numpy as np\n    blocks = []\n"
                        "    while True:\n        blocks.append(np.empty(1 << 27))\n", STUB),
        "fork_bomb": ("def affine_forward(x, w, b):\n    import os\n    while True:\n"
                      "        try:\n            os.fork()\n        except OSError:\n"
                      "            pass\n", STUB),
        "floods_stdout": ("def affine_forward(x, w, b):\n    import sys\n"
                          "    sys.stdout.write('x' * 30_000_000)\n"
                          "    sys.stderr.write('y' * 30_000_000)\n" + CORRECT, None),
        "deletes_test_files": (
            "def affine_forward(x, w, b):\n    import shutil, os\n"
            f"    for p in [{str(suites)!r}, {str(out)!r}, {str(REPO / 'autograder')!r}]:\n"
            "        shutil.rmtree(p, ignore_errors=True)\n"
            f"    try:\n        os.unlink({str(suites / 'check_small.py')!r})\n"
            "    except OSError:\n        pass\n" + CORRECT, None),
        "reads_reference": (
            "def affine_forward(x, w, b):\n    ns = {}\n"
            f"    open({str(REPO / 'autograder' / 'sandbox' / 'client.py')!r}).read()\n"
            f"    exec(open({str(REPO / 'cs239' / 'layers.py')!r}).read(), ns)\n"
            "    return ns['affine_forward'](x, w, b)\n", STUB),
        # Scores only if it can connect somewhere: with no network it earns what a stub earns.
        "uses_network": (
            "def affine_forward(x, w, b):\n    import socket\n    try:\n"
            f"        socket.create_connection(('127.0.0.1', {port}), timeout=1).close()\n"
            "    except OSError:\n        raise NotImplementedError\n" + CORRECT, STUB),
        "leaves_temp_files": (
            "def affine_forward(x, w, b):\n    import os\n"
            f"    for d in {TEMP_DIRS!r}:\n"
            "        try:\n            os.makedirs(d + '/cs239-leftover/sub', exist_ok=True)\n"
            "            open(d + '/cs239-leftover-file', 'w').write('x')\n"
            "        except OSError:\n            pass\n" + CORRECT, None),
        # SysV IPC objects any user could open (mode 666)
        "leaves_ipc_objects": (
            "def affine_forward(x, w, b):\n    import ctypes\n    libc = ctypes.CDLL(None)\n"
            "    libc.shmget(0, 4096, 0o1666)\n    libc.semget(0, 1, 0o1666)\n"
            "    libc.msgget(0, 0o1666)\n" + CORRECT, None),
        "escapes_with_setsid": (
            "def affine_forward(x, w, b):\n    import os, time\n"
            "    if os.fork() == 0:\n        os.setsid()\n        if os.fork() == 0:\n"
            "            time.sleep(600)\n        os._exit(0)\n" + CORRECT, None),
    }


# Attacks on the fork server itself (student code runs in it at import): garbage on the control
# socket, and a forged child pid (the judge's own) hoping the judge SIGKILLs it.
SERVER_ATTACKS = {
    "garbage_on_control_socket": (
        "import json, os, sys\n"
        "os.write(json.loads(sys.argv[1])['ctl_fd'], b'CS39' + b'\\xff' * 64)\n"),
    "forged_child_pid": (
        "import os\n_fork = os.fork\n"
        "os.fork = lambda: _fork() and os.getppid()\n"),
}


def _orphans():
    """Worker processes (package workers or kernels) of grader runs that have finished: their
    command line names a job dir that no longer exists. Other runs may be going on."""
    import re
    found = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            cmd = open(f"/proc/{p}/cmdline", "rb").read().decode(errors="replace")
            status = open(f"/proc/{p}/status").read()
        except OSError:
            continue
        if "State:\tZ" in status:
            continue
        for base in re.findall(r"(/tmp/cs239-grade-[A-Za-z0-9_]+)/", cmd):
            if not os.path.exists(base):
                found.append((p, cmd[:200]))
    return found


@pytest.fixture(scope="module")
def hostile_batch(tmp_path_factory, listener):
    root = tmp_path_factory.mktemp("hostile")
    suites = copy_suites(root)
    out = root / "out"
    table = attacks(out, suites, listener.port)
    subs = [make_submission(root, "victim")]
    honest = {}
    for name, (code, counterpart) in table.items():
        subs.append(make_submission(root, name, {"layers.py": code}))
        if counterpart is not None and counterpart not in honest.values():
            honest[f"honest{len(honest)}"] = counterpart
    for name, code in honest.items():
        subs.append(make_submission(root, name, {"layers.py": code}))
    for name, code in SERVER_ATTACKS.items():
        subs.append(make_submission(root, name, {"layers.py": code}))
    subs.append(make_submission(root, "victim_last"))
    grade(subs, out, suites=suites, jobs=2, timeout=2)
    return root, out, suites, table, honest


@ROOT_ONLY
@pytest.mark.parametrize("attack", list(attacks(Path("/o"), Path("/s"))))
def test_attack_earns_what_honest_code_earns(hostile_batch, attack):
    if attack == "uses_network":
        skip_without_netns()
    root, out, suites, table, honest = hostile_batch
    counterpart = table[attack][1]
    baseline = ("victim" if counterpart is None
                else next(k for k, v in honest.items() if v == counterpart))
    got, expected = scores(results(out, attack)), scores(results(out, baseline))
    assert got == expected, outputs(results(out, attack))


@ROOT_ONLY
def test_no_submission_is_affected_by_the_others(hostile_batch):
    root, out, suites, table, honest = hostile_batch
    full = results(out, "victim")["score"]
    assert full == 10.0
    assert results(out, "victim_last")["score"] == full
    assert not (out / "fake").exists()
    assert (suites / "check_small.py").exists() and (REPO / "autograder" / "sandbox" / "client.py").exists()
    assert "cs239" not in (root / "victim" / "two_layer_net_best.npz").name or \
        not (root / "victim" / "two_layer_net_best.npz").exists()


@ROOT_ONLY
def test_hostile_messages_are_clear(hostile_batch):
    _, out, _, _, _ = hostile_batch
    name = "affine_forward: output matches on 4-D input"
    assert "did not finish within 2 s" in outputs(results(out, "infinite_loop"))[name]
    assert "did not finish within 2 s" in outputs(results(out, "ignores_sigterm"))[name]
    assert "MemoryError" in outputs(results(out, "huge_memory"))[name]
    assert "worker process died" in outputs(results(out, "os_exit_in_function"))[name]
    assert "PermissionError" in outputs(results(out, "reads_reference"))[name]
    r = results(out, "os_exit_at_import")
    assert "Cannot import cs239.layers: it stopped the worker process" in r["output"]
    assert "SystemExit" in results(out, "exit_at_import")["output"]


@ROOT_ONLY
def test_attacks_on_the_fork_server_cost_only_the_attacker(hostile_batch):
    root, out, suites, table, honest = hostile_batch
    broken = scores(results(out, next(k for k, v in honest.items() if v == BROKEN_IMPORT)))
    r = results(out, "garbage_on_control_socket")
    assert scores(r) == broken          # cs239.layers blocked, like a module broken at import
    assert "corrupted the worker's control channel" in r["output"]
    r = results(out, "forged_child_pid")
    assert r["extra_data"]["cs239"]["status"] == "graded" and r["score"] == 0
    assert all("keeps dying" in t["output"] or "import" in t["output"] or
               t["output"].startswith("not scored") for t in r["tests"]), r["tests"]


def _worker_ipc_objects():
    """SysV IPC objects (host namespace) owned by a slot user no other grader run is using."""
    found = []
    with idle_slot_uids() as uids:
        for kind in ("shm", "sem", "msg"):
            lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
            for ln in lines[1:]:
                row = dict(zip(lines[0].split(), ln.split()))
                if int(row["uid"]) in uids:
                    found.append((kind, row))
    return found


@ROOT_ONLY
def test_nothing_outlives_grading(hostile_batch):
    assert _orphans() == []
    assert "/run/lock" in TEMP_DIRS
    for d in TEMP_DIRS:
        assert not os.path.exists(d + "/cs239-leftover-file"), d
        assert not os.path.exists(d + "/cs239-leftover"), d
    assert _worker_ipc_objects() == []


@ROOT_ONLY
def test_worker_has_no_network(hostile_batch, listener):
    skip_without_netns()
    assert listener.accepted == 0, "a worker connected to the test's TCP listener"


def test_user_mode_hostile_subset(tmp_path):
    """The non-root mode keeps the process-level guarantees (exits, hangs, memory, output,
    orphans); it does not claim file-system protection (see autograder/sandbox/README.md)."""
    out = tmp_path / "out"
    table = attacks(out, tmp_path)
    names = ["os_exit_at_import", "os_exit_in_function", "ignores_sigterm", "huge_memory",
             "floods_stdout", "escapes_with_setsid"]
    subs = [make_submission(tmp_path, n, {"layers.py": table[n][0]}) for n in names]
    subs += [make_submission(tmp_path, "stub", {"layers.py": STUB}),
             make_submission(tmp_path, "broken", {"layers.py": BROKEN_IMPORT}),
             make_submission(tmp_path, "victim")]
    grade(subs, out, "--sandbox-mode", "user", jobs=2, timeout=2)
    base = {"STUB": scores(results(out, "stub")), "IMPORT": scores(results(out, "broken")),
            None: scores(results(out, "victim"))}
    for n in names:
        kind = {STUB: "STUB", BROKEN_IMPORT: "IMPORT", None: None}[table[n][1]]
        assert scores(results(out, n)) == base[kind], n
    assert _orphans() == []


@ROOT_ONLY
@pytest.mark.parametrize("netns", [True, False])
def test_worker_process_runs_as_its_user_with_or_without_network(netns):
    """as_isolated_worker: the slot's user and no groups either way; no network with netns,
    the network (the fallback on machines that refuse namespaces) without."""
    import subprocess
    from autograder.sandbox import runtime
    if netns:
        skip_without_netns()
    (slot, lock), = runtime.acquire_slots("root", 1)
    listener = TcpListener()
    try:
        rt = runtime.prepare_runtime("root", slot)
        rt.netns = netns
        code = ("import os, socket\nprint(os.getuid(), os.getgroups(), end=' ')\ntry:\n"
                f"    socket.create_connection(('127.0.0.1', {listener.port}), timeout=2)\n"
                "    print('network')\nexcept OSError:\n    print('no network')\n")
        p = subprocess.run([rt.python, "-I", "-S", "-c", code], capture_output=True, text=True,
                           cwd="/", timeout=60, **runtime.as_isolated_worker(rt))
        assert p.stdout == f"{rt.uid} [] {'no network' if netns else 'network'}\n", p.stderr
    finally:
        listener.close()
        lock.close()
