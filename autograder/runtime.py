"""Process-level plumbing for the sandbox (autograder/sandbox.py): sandbox modes, the worker's
runtime (interpreter + numpy it can read, per-slot users, machine-wide slot locks), file
protection, and killing/reaping everything a worker started.
"""
import ctypes
import fcntl
import hashlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import functools
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


class SandboxError(RuntimeError):
    """The sandbox itself cannot run (a grader problem, never the student's)."""


def sandbox_mode():
    mode = os.environ.get("CS239_SANDBOX_MODE") or ("root" if os.geteuid() == 0 else "user")
    if mode not in ("root", "user"):
        raise SandboxError(f"CS239_SANDBOX_MODE must be 'root' or 'user', not {mode!r}")
    if mode == "root" and os.geteuid() != 0:
        raise SandboxError("CS239_SANDBOX_MODE=root needs root")
    return mode


_libc = ctypes.CDLL(None, use_errno=True)


def harden_trusted_process():
    """Judge/orchestrator: not dumpable (no ptrace, no /proc/PID/mem for the same user) and the
    subreaper of every orphan its children leave (so the final sweep finds them)."""
    _libc.prctl(4, 0, 0, 0, 0)     # PR_SET_DUMPABLE = 0
    _libc.prctl(36, 1, 0, 0, 0)    # PR_SET_CHILD_SUBREAPER = 1


# ------------------------------------------------------------------------------- runtime

@dataclass
class Runtime:
    """What a worker needs, all readable by the worker user: interpreter, numpy dir, our code."""
    mode: str
    python: str
    site: str
    runtime: str
    uid: int = None
    gid: int = None
    netns: bool = False   # root mode, where the kernel allows it: the worker has no network


def _runtime_key():
    import numpy as np     # here, not at the top: kernel.py imports this module per kernel
    h = hashlib.sha256()
    for f in ("worker.py", "wire.py"):
        h.update((HERE / f).read_bytes())
    h.update(f"{np.__version__} {np.__file__} {sys.version}".encode())
    return h.hexdigest()[:16]


def _numpy_dirs():
    import numpy as np
    site = Path(np.__file__).resolve().parent.parent
    return [p for p in (site / "numpy", site / "numpy.libs") if p.exists()]


def ensure_user(name):
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                        "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name],
                       check=True, capture_output=True)
        pw = pwd.getpwnam(name)
    return pw.pw_uid, pw.pw_gid


def acquire_slots(mode, n):
    """N job slots not used by any other grader run on this machine (root mode: each slot is
    a worker user, and kill_user must never hit another run). Returns [(slot, lock file)]."""
    if mode != "root":
        return [(i, None) for i in range(n)]
    locks = Path(os.environ.get("CS239_WORKER_CACHE", "/var/cache/cs239-worker")) / "slots"
    locks.mkdir(parents=True, exist_ok=True)
    got = []
    for slot in range(256):
        f = open(locks / f"{slot}.lock", "w")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            continue
        got.append((slot, f))
        if len(got) == n:
            return got
    raise SandboxError("no free worker slot (256 grader jobs already running?)")


def prepare_runtime(mode, slot):
    """Build (once, cached) the worker runtime for job SLOT. Root mode: a world-readable copy of
    numpy under /var/cache/cs239-worker and a per-slot user; user mode: symlinks."""
    key = _runtime_key()
    if mode == "root":
        cache = Path(os.environ.get("CS239_WORKER_CACHE", "/var/cache/cs239-worker"))
    else:
        cache = Path(tempfile.gettempdir()) / f"cs239-worker-{os.getuid()}"
    base = cache / key
    if not (base / ".complete").exists():
        cache.mkdir(parents=True, exist_ok=True)
        os.chmod(cache, 0o755 if mode == "root" else 0o700)
        tmp = Path(tempfile.mkdtemp(prefix=key + ".", dir=cache))
        (tmp / "site").mkdir()
        for d in _numpy_dirs():
            if mode == "root":
                shutil.copytree(d, tmp / "site" / d.name, symlinks=True)
            else:
                (tmp / "site" / d.name).symlink_to(d)
        for f in ("worker.py", "wire.py"):
            shutil.copy(HERE / f, tmp / f)
        (tmp / ".complete").touch()
        subprocess.run(["chmod", "-R", "u=rwX,go=rX", str(tmp)], check=True)
        try:
            tmp.rename(base)
        except OSError:      # another job built it first
            shutil.rmtree(tmp, ignore_errors=True)
    rt = Runtime(mode, "", str(base / "site"), str(base))
    if mode == "root":
        rt.uid, rt.gid = ensure_user(f"cs239-w{slot}")
        rt.netns = network_isolation_available()
    rt.python = _find_python(rt)
    return rt


def _find_python(rt):
    """An interpreter of our Python version that the worker user can run with numpy."""
    v = f"{sys.version_info[0]}.{sys.version_info[1]}"
    candidates = [os.path.realpath(sys.executable), f"/usr/bin/python{v}",
                  f"/usr/local/bin/python{v}", shutil.which(f"python{v}") or ""]
    probe = (f"import sys; sys.path.append({rt.site!r}); import numpy; "
             f"assert sys.version_info[:2] == {tuple(sys.version_info[:2])!r}")
    for exe in dict.fromkeys(c for c in candidates if c and os.path.exists(c)):
        try:
            r = subprocess.run([exe, "-I", "-S", "-c", probe], capture_output=True, cwd="/",
                               **_as_worker(rt), timeout=120)
        except OSError:     # e.g. not executable by the worker user
            continue
        if r.returncode == 0:
            return exe
    raise SandboxError(f"no Python {v} that the worker user can run with numpy "
                       f"(tried {', '.join(candidates)}); install python{v}")


def _as_worker(rt):
    """Popen keyword arguments that start a process as the slot's worker user (root mode)."""
    if rt.uid is None:
        return {}
    return {"user": rt.uid, "group": rt.gid, "extra_groups": []}


# ------------------------------------------------------------------ network isolation

CLONE_NEWNET = 0x40000000


def unshare_network():
    if _libc.unshare(CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "unshare(CLONE_NEWNET): " + os.strerror(err))


@functools.lru_cache(maxsize=None)
def network_isolation_available():
    """Whether this machine lets root give a process a network namespace of its own (not in
    every container: Docker's default seccomp profile refuses unshare). Probed once."""
    pid = os.fork()
    if pid == 0:
        try:
            unshare_network()
            os._exit(0)
        except BaseException:
            os._exit(1)
    return os.waitpid(pid, 0)[1] == 0


def enter_worker(uid, gid, netns):
    """Become the worker (the package worker's preexec_fn, and kernel.py before it execs the
    kernel): with NETNS, a new network namespace whose only interface is a loopback that is
    down, so no connection can be made anywhere; then, if UID is not None, the slot's user with
    no supplementary groups."""
    if netns:
        unshare_network()
    if uid is not None:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)


def as_isolated_worker(rt):
    """Like _as_worker, plus no network when the runtime has it (rt.netns). For the judge's
    worker only: a preexec_fn is unsafe in a process with threads (the batch orchestrator)."""
    if rt.uid is None or not rt.netns:
        return _as_worker(rt)
    return {"preexec_fn": lambda: enter_worker(rt.uid, rt.gid, True)}


TEMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm")


def remove_user_files(uid, dirs=TEMP_DIRS):
    """Root mode: delete what the worker user left in the world-writable temp dirs, so nothing
    outlives its submission (or reaches the next one on this slot). Directories of other users
    are not entered."""
    for top in dirs:
        try:
            entries = list(os.scandir(top))
        except OSError:
            continue
        for e in entries:
            try:
                st = e.stat(follow_symlinks=False)
            except OSError:
                continue
            if st.st_uid != uid:
                continue
            try:
                if e.is_dir(follow_symlinks=False):
                    shutil.rmtree(e.path, ignore_errors=True)
                else:
                    os.unlink(e.path)
            except OSError:
                pass


def protect(paths):
    """Root mode: make PATHS unreadable to other users (the worker users among them)."""
    for p in paths:
        try:
            p = Path(p)
            if p.exists() and not p.is_symlink():
                os.chmod(p, os.stat(p).st_mode & ~0o007)
        except OSError:
            pass


def kill_user(uid):
    """SIGKILL every process of UID (root mode: a per-slot user, so nothing else is hit)."""
    for _ in range(100):
        _reap()
        if not any(_proc_uid(p) == uid for p in os.listdir("/proc") if p.isdigit()):
            return
        pid = os.fork()
        if pid == 0:
            try:
                os.setresgid(65534, 65534, 65534)
                os.setresuid(uid, uid, uid)
                os.kill(-1, signal.SIGKILL)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        time.sleep(0.01)


def clear_user(uid):
    """Root mode, between submissions on a slot: no process and no temp file of UID is left."""
    kill_user(uid)
    remove_user_files(uid)


def _proc_uid(pid):
    """Real uid of a live (non-zombie) process, else None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("State:") and line.split()[1] in "ZX":
                    return None
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except OSError:
        return None


def _reap():
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


def _wait_group_gone(pgid, seconds=2.0):
    """Reap the killed group's orphans (reparented to us, the subreaper) until no process of
    the group is left, so they do not count against the worker's process limit."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        _reap()
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        except PermissionError:
            pass
        time.sleep(0.001)


def sweep_orphans():
    """SIGKILL and reap every remaining child of this (subreaper) process."""
    me = str(os.getpid())
    for _ in range(200):
        found = False
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open(f"/proc/{p}/stat") as f:
                    ppid = f.read().rsplit(")", 1)[1].split()[1]
            except (OSError, IndexError):
                continue
            if ppid == me:
                found = True
                try:
                    os.kill(int(p), signal.SIGKILL)
                except ProcessLookupError:
                    pass
        _reap()
        if not found:
            return
        time.sleep(0.005)
