"""Trusted side of notebook execution: run one notebook's cells as the slot's worker user and
bring back per-grade_id outcomes (scoring is not done here: see autograder/notebook_grading.py).

Per notebook, in the judge (single-threaded, a subreaper): a fresh working directory owned by
the worker user, a log file the judge created and passes as an open fd, a socket pair; then
``nbrunner.py`` starts as the worker (same namespaces and user as the package worker, rlimits
set before the privilege drop) and runs the cells in a kernel it starts itself. The judge sends
the cells over the socket and waits for one reply with a hard wall-clock deadline, whatever the
notebook does (orphans, held pipes, a stopped runner: nothing extends it). Then every process of
the slot's user is killed (by uid; in user mode: the runner's group and every orphan) and the
working directory is removed. The judge never opens a path inside that directory.
"""
import hashlib
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

from ..requirements import closure as _closure
from .runtime import as_isolated_worker, cached_build, clear_user, read_capped, sweep_orphans

# What a notebook kernel may import besides the stdlib and the student's own cs239 package
# (with their dependencies): the packages the homework notebooks use.
KERNEL_PACKAGES = ["ipykernel", "numpy", "matplotlib", "tqdm", "ipywidgets"]
# ... and what the runner needs to drive the kernel.
RUNNER_PACKAGES = KERNEL_PACKAGES + ["nbclient", "nbformat"]
REPLY_CAP = 1 << 20
LOG_CAP = 64 << 10


def kernel_site(mode):
    """A folder with RUNNER_PACKAGES and their dependencies only (copies in root mode, readable
    by the worker users; symlinks otherwise). Cached."""
    dists = _closure(RUNNER_PACKAGES)
    tops = set()
    for d in dists.values():
        for f in d.files or []:
            if f.parts[0] not in ("..", "__pycache__") and not f.parts[0].endswith(".pth"):
                tops.add(str(d.locate_file(f.parts[0])))
    recipe = "byte-compiled\n"     # change when the way the site is built changes
    key = hashlib.sha256((recipe + "\n".join(sorted(tops)) + sys.version).encode())
    key = key.hexdigest()[:16]

    def fill(tmp):
        for t in sorted(tops):
            src = Path(t)
            if not src.exists() or "cs239" in src.name or "editable" in src.name:
                continue
            dest = tmp / src.name
            if mode != "root":
                dest.symlink_to(src)
            elif src.is_dir():
                shutil.copytree(src, dest, symlinks=True,
                                ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(src, dest)
        if mode == "root":
            # The worker user cannot write bytecode here: without it every kernel start would
            # compile IPython, ipykernel, matplotlib... from source again (seconds per kernel).
            subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", str(tmp)],
                           capture_output=True)

    base = cached_build(mode, f"kernel-{key}", fill)
    return str(base)


def run_notebook(rt, site, submission, cells, workdir, cell_timeout, seconds, memory, fsize,
                 nproc, kernel_args=()):
    """Run CELLS ([{source, grade_id}]) in a kernel, as the worker of runtime RT, with the
    submission folder SUBMISSION (read-only to the worker) copied as the working directory.
    KERNEL_ARGS: extra ipykernel arguments (the notebook-parameters hook).
    WORKDIR: a path that does not exist yet, in a directory only root can write.
    Returns (reply dict or None, log text); None when the runner sent nothing usable within
    SECONDS of wall clock."""
    workdir = Path(workdir)
    workdir.mkdir(mode=0o700)
    if rt.uid is not None:
        os.chown(workdir, rt.uid, rt.gid)   # just created by us: nothing to follow yet
    logpath = workdir.with_name(workdir.name + ".log")
    logfd = os.open(logpath, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
    mine, theirs = socket.socketpair()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(workdir), "TMPDIR": str(workdir),
           "LANG": "C.UTF-8", "PYTHONPATH": site, "PYTHONHASHSEED": "0",
           "IPYTHONDIR": str(workdir / ".ipython"), "JUPYTER_PATH": str(workdir / "jupyter"),
           "JUPYTER_RUNTIME_DIR": str(workdir), "JUPYTER_CONFIG_DIR": str(workdir / ".jupyter"),
           "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(workdir / ".mpl"),
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "NBGRADER_EXECUTION": "autograde", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    # The instructor's data folder, and size overrides for the notebooks' parameters cell
    # (e.g. grade at a reduced scale; applied by the hook of autograder/notebook_parameters.py);
    # both are set by whoever runs the grader, never a student.
    for name in ("CS239_CIFAR10_DIR", "CS239_NOTEBOOK_PARAMETERS"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    limits = {"RLIMIT_AS": memory, "RLIMIT_FSIZE": fsize, "RLIMIT_CORE": 0,
              "RLIMIT_CPU": int(seconds) + 1,
              "RLIMIT_NPROC": nproc if rt.uid is not None else None}
    deadline = time.monotonic() + seconds
    reply, proc = None, None
    try:
        env["CS239_CHANNEL_FD"] = str(theirs.fileno())
        proc = subprocess.Popen(
            [rt.python, "-I", "-S", "-B", os.path.join(rt.code_dir, "nbrunner.py")],
            stdin=subprocess.DEVNULL, stdout=logfd, stderr=logfd, cwd=workdir, env=env,
            pass_fds=(theirs.fileno(),), start_new_session=True,
            **as_isolated_worker(rt, limits))
        theirs.close()
        req = dict(site=site, python=rt.python, submission=str(submission), cells=cells,
                   timeout=int(cell_timeout), kernel_args=list(kernel_args))
        data = json.dumps(req).encode()
        mine.settimeout(max(1.0, deadline - time.monotonic()))
        mine.sendall(struct.pack("<Q", len(data)) + data)
        reply = _receive(mine, deadline)
    except (OSError, socket.timeout, subprocess.SubprocessError) as e:
        os.write(logfd, f"grader: the runner could not be run: {e!r}\n".encode())
        reply = None
    finally:
        mine.close()
        theirs.close()
        os.close(logfd)
        if proc is not None:
            _kill(rt, proc)
        try:
            log = read_capped(logpath, 64 << 20, "the runner's log")[-LOG_CAP:]
            log = log.decode("utf-8", "replace")
        except OSError as e:
            log = f"(runner log unreadable: {e})"
        os.unlink(logpath)
        shutil.rmtree(workdir, ignore_errors=True)   # no worker process is left (_kill)
    return reply, log


def _receive(sock, deadline):
    """One length-prefixed JSON object, read with a deadline and a size cap; None otherwise."""
    buf = bytearray()
    need = None
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            return None
        chunk = sock.recv(1 << 16)
        if not chunk:
            return None
        buf += chunk
        if need is None and len(buf) >= 8:
            need = struct.unpack("<Q", bytes(buf[:8]))[0]
            if need > REPLY_CAP:
                return None
        if need is not None and len(buf) >= 8 + need:
            try:
                return json.loads(bytes(buf[8:8 + need]), object_pairs_hook=_no_duplicates)
            except (ValueError, RecursionError):
                return None


class DuplicateKeys(dict):
    """A JSON object that repeated a key (its value is None for each repeated key)."""


def _no_duplicates(pairs):
    d = {}
    dup = set()
    for k, v in pairs:
        if k in d:
            dup.add(k)
        d[k] = v
    if dup:
        d = DuplicateKeys(d)
        d.duplicates = sorted(dup)
    return d


def _kill(rt, proc):
    if rt.uid is not None:
        clear_user(rt.uid)
    else:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        sweep_orphans()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
