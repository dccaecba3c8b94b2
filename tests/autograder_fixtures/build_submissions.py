"""Helpers for tests/test_autograder_*.py: build submissions from the reference package (one
patched function at a time) and run the grader CLI on them."""
import contextlib
import fcntl
import json
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURE_SUITES = REPO / "tests" / "autograder_fixtures" / "suites"


def make_submission(root, name, patches=None, files=None):
    """ROOT/NAME laid out like the release with the reference cs239; PATCHES maps a module path
    (e.g. "layers.py") to code appended to it (a later def overrides the reference's)."""
    d = Path(root) / name
    shutil.copytree(REPO / "cs239", d / "cs239",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for rel, code in (patches or {}).items():
        with open(d / "cs239" / rel, "a") as f:
            f.write("\n\n" + code.strip("\n") + "\n")
    for rel, content in (files or {}).items():
        p = d / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        (p.write_bytes if isinstance(content, bytes) else p.write_text)(content)
    return d


def copy_suites(root):
    """A private copy of the machinery suite (attacks on test files hit this copy)."""
    dest = Path(root) / "suites_copy" / "suites"
    shutil.copytree(FIXTURE_SUITES, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def grade(subs, out, *extra, suites=FIXTURE_SUITES, jobs=1, timeout=3, env=None, check=True):
    cmd = [sys.executable, "-m", "autograder", "grade", *map(str, subs), "--out", str(out),
           "--jobs", str(jobs), "--suites", str(suites), "--timeout", str(timeout), *extra]
    if "--notebooks" not in extra:
        cmd.append("--no-notebooks")
    p = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env, timeout=600)
    if check and p.returncode != 0:
        raise AssertionError(f"grader exited {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def results(out, stem):
    return json.loads((Path(out) / stem / "results.json").read_text())


def scores(res):
    return {t["name"]: t["score"] for t in res["tests"]}


def outputs(res):
    return {t["name"]: t["output"] for t in res["tests"]}


class TcpListener:
    """A TCP server on 127.0.0.1 (the grader's network namespace) that counts the connections
    it accepts: sandboxed student code must never reach it."""

    def __init__(self):
        import socket
        import threading
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self):
        self.server.close()


def skip_without_netns():
    import pytest
    from autograder.sandbox.runtime import network_isolation_available
    if not network_isolation_available():
        pytest.skip("this machine refuses unshare(CLONE_NEWNET) (e.g. Docker's default "
                    "seccomp profile): workers keep the network; see autograder/README.md")


@contextlib.contextmanager
def idle_slot_uids():
    """The uids of the worker users (cs239-w<slot>) whose slot no grader run holds now; their
    slot locks are held until the block ends. Under `make test` another test module may be
    grading at the same time on another slot: what its workers have now is not a leftover."""
    locks = Path(os.environ.get("CS239_WORKER_CACHE", "/var/cache/cs239-worker")) / "slots"
    held, uids = [], set()
    try:
        for user in pwd.getpwall():
            slot = user.pw_name[len("cs239-w"):]
            if not (user.pw_name.startswith("cs239-w") and slot.isdigit()):
                continue
            locks.mkdir(parents=True, exist_ok=True)
            f = open(locks / f"{slot}.lock", "w")
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:          # a grader run is using this slot right now
                f.close()
                continue
            held.append(f)
            uids.add(user.pw_uid)
        yield uids
    finally:
        for f in held:
            f.close()

