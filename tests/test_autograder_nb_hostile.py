"""Hostile notebooks (issue 9), graded for real as root: each attack is a cell added to the master
Backprop.ipynb (or a patch to the package), graded in one batch with honest counterparts and a
victim. What matters is asserted: root-owned canaries keep owner, mode and content; nobody earns
more than their honest code; every submission gets a results.json and a grades.csv row within
its budget; no hidden-test text reaches any feedback; nothing a worker made survives."""
import csv
import io
import json
import os
import re
import stat
import time
from pathlib import Path

import pytest

from cs239.tools import manifest
from tests.autograder_fixtures.build_submissions import (REPO, grade, idle_slot_uids,
                                                         make_submission, results)

SOURCE = REPO / "source" / manifest.NAME
MASTER = SOURCE / "Backprop.ipynb"
pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="root sandbox mode needs root (CI runs as root)"),
    pytest.mark.skipif(not MASTER.exists(), reason="no Backprop.ipynb"),
]
CELL_TIMEOUT, NB_BUDGET = 15, 60
CANARY = b"canary: must not change\n"
STUB_DERIVATIONS = {"derivations.py": (
    "def autoencoder_grad(W, x):\n    raise NotImplementedError\n"
    "def autoencoder_grad_batch(W, X):\n    raise NotImplementedError\n")}


def with_cell(code, position=3):
    """The master notebook with CODE as a new (student) cell after the set-up cells."""
    nb = json.loads(MASTER.read_text())
    nb["cells"].insert(position, {"cell_type": "code", "metadata": {}, "outputs": [],
                                  "execution_count": None, "source": code})
    return json.dumps(nb)


def canary_paths(root, out):
    cache = Path(os.environ.get("CS239_WORKER_CACHE", "/var/cache/cs239-worker"))
    return [out / "victim" / "canary", root / "victim" / "canary.txt",
            cache / "canary-test-issue9", root / "outside" / "canary"]


ATTACKS = {
    # Plants symlinks to every canary wherever it can write: its working
    # directory, its home, its temp dirs, under every name a grader might open or chown.
    # (Only canaries: run against a vulnerable grader, this test really chowns its targets.)
    "symlinks": """
import os
targets = {canaries!r}     # canaries only: never a real system file
names = ['Backprop.ipynb', 'TwoLayerNet.ipynb', 'FullyConnectedNets.ipynb', 'results.json',
         'report.json', 'gradebook.db', 'x', 'kernel.json']
for d in [os.getcwd(), os.path.dirname(os.getcwd()), os.environ.get('HOME', '.'), '/tmp',
          '/dev/shm', '/var/tmp', '/run/lock']:
    for i, t in enumerate(targets):
        for n in names + ['link%d' % i]:
            try:
                os.symlink(t, os.path.join(d, n + '.%d' % i if n in names else n))
            except OSError:
                pass
        for t in targets:
            try:
                open(t, 'w').write('pwned')
            except OSError:
                pass
""",
    # Stub code plus a detached process that forges results everywhere it might be read:
    # notebooks with 100 points per cell, FIFOs, and forged runner replies on every fd.
    "forged": """
import json, os, struct, time
forged = {{"outcomes": {{g: {{"status": "passed"}} for g in {grade_ids!r} + ["bogus"]}},
          "error": None}}
data = json.dumps(forged).encode()
for fd in (0, 1, 2):    # its own sockets to the runner are the kernel's: not these
    try:
        os.write(fd, struct.pack("<Q", len(data)) + data)
    except OSError:
        pass
for pid in os.listdir('/proc'):
    if not pid.isdigit() or int(pid) == os.getpid():
        continue
    try:
        for fd in os.listdir('/proc/%s/fd' % pid):
            try:
                f = os.open('/proc/%s/fd/%s' % (pid, fd), os.O_WRONLY | os.O_NONBLOCK)
                os.write(f, struct.pack("<Q", len(data)) + data)
                os.close(f)
            except OSError:
                pass
    except OSError:
        pass
nb = json.loads(open('Backprop.ipynb').read())
for c in nb['cells']:
    c.setdefault('metadata', {{}}).setdefault('nbgrader', {{}})['points'] = 100
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for _ in range(600):
            for d in [os.getcwd(), os.path.dirname(os.getcwd())]:
                for n in ['Backprop.ipynb', 'autograded', 'forged.ipynb']:
                    p = os.path.join(d, n)
                    try:
                        os.mkfifo(p + '.fifo')
                        open(p, 'w').write(json.dumps(nb))
                    except OSError:
                        pass
            time.sleep(0.1)
    os._exit(0)
""",
    # Looks for other processes' command lines (the grader's names every submission); kills its
    # own kernel if it sees one, which would cost it every later cell.
    "reads_argv": """
import os
seen = []
for pid in os.listdir('/proc'):
    try:
        if pid.isdigit() and int(pid) != os.getpid():
            cmd = open('/proc/%s/cmdline' % pid, 'rb').read()
            if b'cs239' in cmd or b'autograder' in cmd or b'victim' in cmd:
                seen.append(cmd)
    except OSError:
        pass
if seen:
    os._exit(1)
""",
    # A detached orphan that holds every inherited fd open for 10 minutes.
    "orphan": """
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(600)
    os._exit(0)
""",
    # Raises the calling test cell's source (hidden tests included) as an exception message.
    "leaks_tests": """
import inspect
def _leak(*args, **kwargs):
    ip = get_ipython()
    text = '\\n'.join(ip.user_ns.get('_ih', [])[-1:])
    for f in inspect.stack():
        text += ''.join(f.code_context or [])
    raise AssertionError(text)
def _leak_value(*args, **kwargs):
    raise ValueError('\\n'.join(get_ipython().user_ns.get('_ih', [])[-1:]))
autoencoder_grad = _leak
autoencoder_grad_batch = _leak_value
gplvm_logdet_grad = gplvm_trace_grad = gplvm_grad = _leak
swish_forward = _leak_value
""",
    # Leaves state everywhere a user can: lock dir, temp dirs, SysV IPC (mode 666).
    "leaves_state": """
import ctypes, os
for d in ['/run/lock', '/tmp', '/var/tmp', '/dev/shm']:
    try:
        open(os.path.join(d, 'cs239-nb-leftover'), 'w').write('x')
    except OSError:
        pass
libc = ctypes.CDLL(None)
libc.shmget(0, 4096, 0o1666)
libc.semget(0, 1, 0o1666)
libc.msgget(0, 0o1666)
""",
}


def hidden_lines():
    """Lines of the master's hidden test blocks that are long enough to be telling."""
    out = set()
    for nb in SOURCE.glob("*.ipynb"):
        for cell in json.loads(nb.read_text())["cells"]:
            src = "".join(cell["source"])
            for block in re.findall(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", src, re.S):
                out |= {ln.strip() for ln in block.splitlines() if len(ln.strip()) >= 16}
    return out


@pytest.fixture(scope="module")
def nb_hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("nbhostile")
    out = root / "out"
    canaries = canary_paths(root, out)
    master = json.loads(MASTER.read_text())
    grade_ids = [c["metadata"]["nbgrader"]["grade_id"] for c in master["cells"]
                 if c["metadata"].get("nbgrader", {}).get("grade")]
    subs = [make_submission(root, "victim", files={"Backprop.ipynb": MASTER.read_text()}),
            make_submission(root, "honest_stub", STUB_DERIVATIONS,
                            files={"Backprop.ipynb": MASTER.read_text()})]
    for name, code in ATTACKS.items():
        code = code.format(canaries=[str(c) for c in canaries], grade_ids=grade_ids) \
            if name in ("symlinks", "forged") else code
        files = {"Backprop.ipynb": with_cell(code)}
        if name == "symlinks":     # a second notebook graded after the one planting links
            files["TwoLayerNet.ipynb"] = (MASTER.parent / "TwoLayerNet.ipynb").read_text()
        subs.append(make_submission(root, name, STUB_DERIVATIONS if name == "forged" else None,
                                    files=files))
    # a package that sleeps at import holds nothing beyond the budget either
    subs.append(make_submission(root, "sleeps_at_import",
                                {"__init__.py": "import time\ntime.sleep(600)\n"},
                                files={"Backprop.ipynb": MASTER.read_text()}))
    # malformed: valid JSON, not a notebook; its sibling notebook must still be graded
    subs.append(make_submission(root, "malformed", files={
        "Backprop.ipynb": MASTER.read_text(),
        "FullyConnectedNets.ipynb": json.dumps({"nbformat": 4, "cells": [{"source": 42}]})}))
    out.mkdir()
    (out / "victim").mkdir()
    (root / "outside").mkdir()
    for c in canaries:
        c.parent.mkdir(parents=True, exist_ok=True)
        c.write_bytes(CANARY)
        os.chown(c, 0, 0)
        os.chmod(c, 0o600)
    t0 = time.monotonic()
    try:
        p = grade(subs, out, "--notebooks", "--notebook-timeout", str(CELL_TIMEOUT),
                  "--notebook-budget", str(NB_BUDGET), jobs=2, timeout=2, check=False)
        elapsed = time.monotonic() - t0
        states = {c: (c.lstat().st_uid, stat.S_IMODE(c.lstat().st_mode), c.read_bytes())
                  for c in canaries}
    finally:
        canaries[2].unlink(missing_ok=True)
    return dict(root=root, out=out, p=p, subs=subs, elapsed=elapsed, canaries=states)


def nb_scores(res, prefix="Backprop.ipynb: "):
    """{test: (score, passed)}: the notebooks' test cells carry no points (the point split), so
    whether each passed is what an attack must not change."""
    return {t["name"]: (t["score"], t.get("status") != "failed")
            for t in res["tests"] if t["name"].startswith(prefix)}


def test_canaries_keep_owner_mode_and_content(nb_hostile):
    for path, state in nb_hostile["canaries"].items():
        assert state == (0, 0o600, CANARY), path


def test_batch_completes_with_every_result_and_grades_csv(nb_hostile):
    out, p = nb_hostile["out"], nb_hostile["p"]
    assert p.returncode == 0, p.stderr[-3000:]
    stems = [s.name for s in nb_hostile["subs"]]
    for stem in stems:
        assert (out / stem / "results.json").exists(), stem
    rows = {r["submission"]: r for r in csv.DictReader(io.StringIO(
        (out / "grades.csv").read_text()))}
    assert set(stems) <= set(rows)
    for stem in stems:
        assert float(rows[stem]["total"]) == results(out, stem)["score"]


def test_within_the_budget_whatever_the_notebook_does(nb_hostile):
    """The orphan holding pipes, the FIFOs and the sleeping import cost at most their budget."""
    out = nb_hostile["out"]
    for stem in ("orphan", "forged", "sleeps_at_import"):
        t = results(out, stem)["execution_time"]
        assert t < 600 + 3 * NB_BUDGET, (stem, t)     # the package budget + 3 notebooks
        assert t < 4 * NB_BUDGET, (stem, t)


def test_no_score_above_its_maximum_and_forgery_earns_what_stub_code_earns(nb_hostile):
    out = nb_hostile["out"]
    for s in nb_hostile["subs"]:
        for t in results(out, s.name)["tests"]:
            assert 0 <= t["score"] <= t["max_score"], (s.name, t)
    assert (nb_scores(results(out, "forged"), "") ==
            nb_scores(results(out, "honest_stub"), ""))
    assert any(not passed for _, passed in nb_scores(results(out, "honest_stub")).values())


def test_attacks_cost_only_the_attacker(nb_hostile):
    out = nb_hostile["out"]
    ref = nb_scores(results(out, "victim"))
    assert ref and all(passed for _, passed in ref.values())
    for stem in ("symlinks", "reads_argv", "orphan", "leaves_state"):
        assert nb_scores(results(out, stem)) == ref, stem


def test_workers_see_no_other_process(nb_hostile):
    """reads_argv kills its kernel if it can read any grader command line."""
    out = nb_hostile["out"]
    assert nb_scores(results(out, "reads_argv")) == nb_scores(results(out, "victim"))


def test_malformed_notebook_costs_only_itself(nb_hostile):
    out = nb_hostile["out"]
    r = results(out, "malformed")
    assert nb_scores(r) == nb_scores(results(out, "victim"))
    fc = [t for t in r["tests"] if t["name"].startswith("FullyConnectedNets.ipynb: ")]
    assert fc and all(t["score"] == 0 and "FullyConnectedNets.ipynb is not a valid notebook"
                      in t["output"] for t in fc)


def test_no_hidden_test_text_in_any_feedback(nb_hostile):
    lines = hidden_lines()
    assert lines
    for s in nb_hostile["subs"]:
        text = (nb_hostile["out"] / s.name / "feedback.md").read_text()
        text += json.dumps(results(nb_hostile["out"], s.name))
        leaked = [ln for ln in lines if ln in text]
        assert not leaked, (s.name, leaked[:3])
    # the attack did reach the hidden tests: they failed
    r = results(nb_hostile["out"], "leaks_tests")
    assert any(t["score"] == 0 for t in r["tests"] if t["name"].startswith("Backprop"))


def test_nothing_a_worker_made_survives(nb_hostile):
    with idle_slot_uids() as uids:
        assert uids
        for d in ("/run/lock", "/tmp", "/var/tmp", "/dev/shm"):
            left = [e.path for e in os.scandir(d)
                    if e.stat(follow_symlinks=False).st_uid in uids]
            assert not left, left
        for kind in ("shm", "sem", "msg"):
            lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
            head = lines[0].split()
            owners = [int(dict(zip(head, ln.split()))["uid"]) for ln in lines[1:]]
            assert not set(owners) & uids, kind
        procs = []
        for p in os.listdir("/proc"):
            try:
                if p.isdigit() and os.stat(f"/proc/{p}").st_uid in uids:
                    procs.append(p)
            except OSError:
                pass
        assert not procs
