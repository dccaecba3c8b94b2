"""Process-level plumbing for the sandbox: sandbox modes, the worker's runtime (interpreter +
numpy it can read, per-slot users, machine-wide slot locks), entering the worker (namespaces,
then the slot's user), file protection, reading files a worker could have touched, and
killing/reaping/clearing everything a worker started or left.
"""
import ctypes
import fcntl
import hashlib
import os
import pwd
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import functools
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The code that runs as the worker user, copied into the runtime cache (it never imports us).
UNTRUSTED_FILES = ("worker.py", "wire.py", "nbrunner.py")


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


def die_with_parent(parent):
    """SIGKILL this process when its parent (pid PARENT, the orchestrator) dies: a judge must
    not outlive its run, or its final clear of the slot user would hit the next run's workers."""
    _libc.prctl(1, signal.SIGKILL, 0, 0, 0)     # PR_SET_PDEATHSIG
    if os.getppid() != parent:                  # it died before we asked
        os._exit(1)


# ------------------------------------------------------------------------------- runtime

@dataclass
class Runtime:
    """What a worker needs, all readable by the worker user: interpreter, numpy dir, our code."""
    mode: str
    python: str
    site: str
    code_dir: str         # the worker's own code (worker.py, wire.py, nbrunner.py)
    uid: int = None
    gid: int = None
    netns: bool = False   # root mode, where the kernel allows it: the worker has no network
    private_proc: bool = False  # root mode: own mount + IPC namespaces, /proc with hidepid=2


def _runtime_key():
    import numpy as np     # here, not at the top: only the runtime key needs it
    h = hashlib.sha256()
    for f in UNTRUSTED_FILES:
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


def cached_build(mode, name, fill):
    """CACHE/NAME, built once by FILL(folder) and shared by every job: built in a temporary
    folder, marked complete, made readable to the worker users, then renamed into place (when
    another job got there first, its copy is kept). Root mode: /var/cache/cs239-worker
    (world-readable); user mode: a private folder in the temp dir."""
    if mode == "root":
        cache = Path(os.environ.get("CS239_WORKER_CACHE", "/var/cache/cs239-worker"))
    else:
        cache = Path(tempfile.gettempdir()) / f"cs239-worker-{os.getuid()}"
    base = cache / name
    if not (base / ".complete").exists():
        cache.mkdir(parents=True, exist_ok=True)
        os.chmod(cache, 0o755 if mode == "root" else 0o700)
        tmp = Path(tempfile.mkdtemp(prefix=name + ".", dir=cache))
        fill(tmp)
        (tmp / ".complete").touch()
        subprocess.run(["chmod", "-R", "u=rwX,go=rX", str(tmp)], check=True)
        try:
            tmp.rename(base)
        except OSError:      # another job built it first
            shutil.rmtree(tmp, ignore_errors=True)
    return base


def prepare_runtime(mode, slot):
    """Build (once, cached) the worker runtime for job SLOT. Root mode: a world-readable copy of
    numpy under /var/cache/cs239-worker and a per-slot user; user mode: symlinks."""
    def fill(tmp):
        (tmp / "site").mkdir()
        for d in _numpy_dirs():
            if mode == "root":
                shutil.copytree(d, tmp / "site" / d.name, symlinks=True)
            else:
                (tmp / "site" / d.name).symlink_to(d)
        for f in UNTRUSTED_FILES:
            shutil.copy(HERE / f, tmp / f)

    base = cached_build(mode, _runtime_key(), fill)
    rt = Runtime(mode, "", str(base / "site"), str(base))
    if mode == "root":
        rt.uid, rt.gid = ensure_user(f"cs239-w{slot}")
        rt.netns = network_isolation_available()
        rt.private_proc = proc_isolation_available()
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

CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWIPC = 0x40000000, 0x00020000, 0x08000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 1 << 14, 1 << 18


def _unshare(flags, what):
    if _libc.unshare(flags) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"unshare({what}): " + os.strerror(err))


def unshare_network():
    _unshare(CLONE_NEWNET, "CLONE_NEWNET")


def private_proc():
    """A mount namespace of our own whose /proc hides every process of other users
    (hidepid=2: no argv, no environment, not even the pid), and an IPC namespace of our own
    (SysV shared memory, semaphores, queues and POSIX queues die with the worker). Root only;
    the worker, once de-privileged, cannot undo the mount."""
    _unshare(CLONE_NEWNS | CLONE_NEWIPC, "CLONE_NEWNS|CLONE_NEWIPC")
    for args in ((b"none", b"/", None, MS_REC | MS_PRIVATE, None),    # nothing propagates out
                 (b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, b"hidepid=2")):
        if _libc.mount(*args) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"mount {args[1].decode()}: " + os.strerror(err))


def _probe(fn):
    pid = os.fork()
    if pid == 0:
        try:
            fn()
            os._exit(0)
        except BaseException:
            os._exit(1)
    return os.waitpid(pid, 0)[1] == 0


@functools.lru_cache(maxsize=None)
def network_isolation_available():
    """Whether this machine lets root give a process a network namespace of its own (not in
    every container: Docker's default seccomp profile refuses unshare). Probed once."""
    return _probe(unshare_network)


@functools.lru_cache(maxsize=None)
def proc_isolation_available():
    """Whether root may give a process a private /proc (mount namespace). Probed once."""
    return os.geteuid() == 0 and _probe(private_proc)


def enter_worker(uid, gid, netns, proc=False):
    """Become the worker (the preexec_fn of the package worker and of the notebook runner):
    with NETNS, a new network namespace whose only interface is a loopback that is down, so no
    connection can be made anywhere; with PROC, a private /proc and IPC namespace
    (private_proc); then, if UID is not None, the slot's user with no supplementary groups."""
    if netns:
        unshare_network()
    if proc:
        private_proc()
    if uid is not None:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)


def set_limits(limits):
    """Resource limits (name -> value or None) for this process and its children."""
    for name, value in limits.items():
        if value is not None:
            resource.setrlimit(getattr(resource, name), (value, value))


def as_isolated_worker(rt, limits=None):
    """Popen keyword arguments that start a process as the worker of runtime RT: its
    namespaces (no network, private /proc) where available, then its user; LIMITS (rlimit
    name -> value) set first. Only from a single-threaded process (a preexec_fn is unsafe
    with threads): the judge."""
    if rt.uid is None and not limits:
        return {}

    def enter():
        set_limits(limits or {})
        enter_worker(rt.uid, rt.gid, rt.netns, rt.private_proc)
    return {"preexec_fn": enter}


# Every world-writable place a slot user can leave files in (deleted after each submission),
# and the spools where it could leave crontab / at jobs.
TEMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
SPOOL_DIRS = ("/var/spool/cron/crontabs", "/var/spool/cron/atjobs", "/var/spool/cron/atspool",
              "/var/spool/at", "/var/spool/cron")
SYSV_IPC = (("shm", "shmctl"), ("sem", "semctl"), ("msg", "msgctl"))
IPC_RMID = 0


def remove_ipc_objects(uid):
    """Root mode: delete the SysV shared memory segments, semaphore sets and message queues
    that UID owns or created (in the host's IPC namespace, where workers without a private
    namespace put them). Returns how many."""
    n = 0
    for kind, ctl in SYSV_IPC:
        try:
            lines = open(f"/proc/sysvipc/{kind}").read().splitlines()
        except OSError:
            continue
        head = lines[0].split() if lines else []
        for line in lines[1:]:
            row = dict(zip(head, line.split()))
            try:
                if uid in (int(row["uid"]), int(row["cuid"])):
                    fn = getattr(_libc, ctl)
                    args = (int(row[{"shm": "shmid", "sem": "semid", "msg": "msqid"}[kind]]),)
                    args += (0, IPC_RMID) if kind == "sem" else (IPC_RMID, None)
                    n += fn(*args) == 0
            except (KeyError, ValueError):
                continue
    return n


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


def read_capped(path, cap, what="file"):
    """Bytes of PATH if it is a regular file of at most CAP bytes (never following a symlink,
    never blocking on a FIFO): the trusted side's only way to read a file that a worker could
    have touched. Raises OSError with a message otherwise."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(f"{what} is not a regular file")
        if st.st_size > cap:
            raise OSError(f"{what} is larger than {cap} bytes")
        data = os.read(fd, cap + 1)
        if len(data) > cap:
            raise OSError(f"{what} is larger than {cap} bytes")
        return data
    finally:
        os.close(fd)


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
    """Root mode, between submissions on a slot: no process of UID is left, nor anything it
    can leave behind: files in the world-writable dirs, SysV IPC objects, crontab/at entries,
    files in its home directory (if it has a real one)."""
    kill_user(uid)
    remove_user_files(uid)
    remove_user_files(uid, SPOOL_DIRS)
    remove_ipc_objects(uid)
    try:
        home = pwd.getpwuid(uid).pw_dir
        if home not in ("/", "/nonexistent") and os.lstat(home).st_uid == uid:
            remove_user_files(uid, (home,))
    except (KeyError, OSError):
        pass


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
