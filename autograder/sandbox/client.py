"""The package worker's client: the judge's side of the fork server that runs the submission's
package, the ``student`` fixture API the suites use, limits and student-facing errors.

(Process plumbing, i.e. worker users, namespaces, runtime cache, killing and reaping, is in
runtime.py; the untrusted side is worker.py, the wire format wire.py; notebooks: nbsession.py.)

Model
-----
* The *judge* (trusted: expected values, scoring) never imports or calls student code. It drives
  one *fork server* per submission (``worker.py``, run as ``python -I -S``): the server imports
  numpy and the submission once, then forks a fresh child per test (``Student``), so tests cannot
  leak state into each other and a crash or hang costs one test.
* Only plain data crosses, both ways, through ``wire`` (JSON header + raw array bytes) on
  dedicated sockets, never the worker's stdout (student prints go to a separate, capped pipe).
  Any other object a student function returns stays in the worker and comes back as a ``Handle``.
  Nothing is ever unpickled.
* Limits: wall clock and CPU per call (``Limits``), per-test CPU, address space, processes, file
  size, output size, and a total time budget per submission. On a timeout the child's process
  group is SIGKILLed and the next call forks a new child; after grading, everything the worker
  started is SIGKILLed (its process group, every orphan reparented to the judge, which is a child
  subreaper, and in root mode every process of the worker's user).

Modes (``CS239_SANDBOX_MODE=root|user``; default ``root`` when running as root)
------------------------------------------------------------------------------
* ``root``: the worker runs as a dedicated unprivileged user per job slot (``cs239-w0``, ...,
  created if missing), with no supplementary groups, a minimal environment, its own scratch dir
  as cwd/HOME/TMPDIR, an interpreter and a numpy *copy* it can read (it needs nothing from the
  repo or .venv). The grader makes the repo root (hence ``autograder/`` and the reference), the
  output dir and every submission input unreadable to other users (``chmod o-rwx``), and the
  submission copy read-only to that slot's user. So the worker cannot read the suites, the
  reference or results, other submissions, cannot write results or the graded files, cannot
  signal or trace the judge, and cannot exhaust another slot's process limit. Where the machine
  allows it (``Runtime.netns``), the worker starts in a network namespace of its own: no
  network. After grading, what the slot's user left in /tmp, /var/tmp, /dev/shm is deleted.
* ``user`` (not root): same process structure, limits, minimal environment, scratch dir and
  ``-I -S`` interpreter with only numpy on ``sys.path``; the judge is non-dumpable (no ptrace or
  /proc/PID/mem from the same user). But the worker runs as the grading user: a *deliberate*
  attacker can read or write whatever that user can (reference files, the output dir), kill the
  user's processes, and escape the final kill with ``setsid`` + double fork only until the sweep
  of orphans (the judge is their subreaper). Use it for development and honest batches; grade
  untrusted submissions as root (or on Gradescope, which runs as root).
"""
import json
import os
import select
import signal
import socket
import struct
import subprocess
import time
from collections import namedtuple
from dataclasses import asdict, dataclass

from . import wire
from .runtime import (Runtime, SandboxError, _wait_group_gone, acquire_slots,  # noqa: F401
                      as_isolated_worker, clear_user, harden_trusted_process, prepare_runtime,
                      protect, sandbox_mode, sweep_orphans)
from .wire import Handle, WireError  # noqa: F401  (re-exported for the suites)

# ------------------------------------------------------------------------------------ errors

class StudentFault(Exception):
    """Something in student code went wrong; ``describe()`` is what the student sees."""

    def describe(self):
        return str(self)


class StudentError(StudentFault):
    def __init__(self, kind, message, where):
        super().__init__(kind, message, where)
        self.kind, self.message, self.where = kind, message, where

    def describe(self):
        at = f" at {self.where}" if self.where else ""
        if self.kind == "NotImplementedError":
            return f"not implemented yet (NotImplementedError{at})"
        msg = f": {self.message}" if self.message else ""
        return f"your code raised {self.kind}{msg}{' (' + at.strip() + ')' if at else ''}"


class StudentTimeout(StudentFault):
    def __init__(self, seconds, budget=False):
        super().__init__(seconds)
        self.seconds, self.budget = seconds, budget

    def describe(self):
        if self.budget:
            return "not run: this submission used up its total time budget (earlier calls hung)"
        return (f"did not finish within {self.seconds:g} s (an infinite loop, or far too slow: "
                "is it vectorized?); the call was stopped")


class StudentCrash(StudentFault):
    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def describe(self):
        return self.message


class ImportFailure(StudentFault):
    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def describe(self):
        return self.message


SpyResult = namedtuple("SpyResult", "value calls")


@dataclass
class Limits:
    call_seconds: float = 20.0        # CPU seconds per call (wall clock: 3x + 2 s)
    cpu_seconds: int = 25             # CPU per call, hard backstop inside the worker
    test_cpu_seconds: int = 60        # CPU per test (hard limit of the child)
    memory_bytes: int = 2 << 30       # address space per process
    nproc: int = 32                   # processes of the worker user (root mode)
    fsize_bytes: int = 16 << 20       # largest file the worker may write
    output_bytes: int = 16 << 10      # student output kept per test (the rest is drained)
    import_seconds: float = 30.0      # per module at startup
    budget_seconds: float = 600.0     # all student calls of one submission
    notebook_cell_seconds: float = 600.0   # per notebook cell (then it is interrupted)
    notebook_seconds: float = 900.0   # wall clock per notebook, whatever it does

    def submission_seconds(self, notebooks):
        """The hard wall-clock budget of one submission with NOTEBOOKS notebooks: after it the
        orchestrator kills the judge and every process of the slot's user."""
        return self.budget_seconds + notebooks * self.notebook_seconds + 120


# ------------------------------------------------------------------------------- sandbox

class Sandbox:
    """The fork server of one submission (the judge holds exactly one)."""

    def __init__(self, submission_dir, scratch_dir, runtime, limits=None, modules=()):
        self.sub, self.scratch = str(submission_dir), str(scratch_dir)
        self.rt, self.limits = runtime, limits or Limits()
        self.modules = list(modules)
        self.blocked = {}          # module -> why (exited / hung at import)
        self.import_errors = {}    # module -> (kind, message, where)
        self.spent = 0.0
        self.proc = self.ctl = None
        self.restarts = 0

    # -- server lifecycle
    def start(self):
        if self.proc is None and self.restarts == 0 and self.rt.uid is not None:
            clear_user(self.rt.uid)    # leftovers of a killed run on this slot, if any
        for attempt in range(4):
            try:
                current = self._spawn()
                break
            except SandboxError:      # e.g. the process limit still full of dying processes
                self._kill_server()
                if attempt == 3:
                    raise
                time.sleep(0.3)
        while True:
            if current is None:
                return
            self._kill_server()
            self.restarts += 1
            if self.restarts > len(self.modules) + 2:
                raise SandboxError("the worker cannot start")
            current = self._spawn()

    def _spawn(self):
        """Start the server and pre-import; return the module it died/hung on, or None."""
        ctl, theirs = socket.socketpair()
        lim = self.limits
        cfg = dict(submission=self.sub, site=self.rt.site, code_dir=self.rt.code_dir,
                   ctl_fd=theirs.fileno(), modules=self.modules, blocked=self.blocked,
                   memory=lim.memory_bytes, fsize=lim.fsize_bytes, cpu=lim.cpu_seconds,
                   cpu_test=lim.test_cpu_seconds,
                   nproc=lim.nproc if self.rt.uid is not None else None)
        env = {"PATH": "/usr/bin:/bin", "HOME": self.scratch, "TMPDIR": self.scratch,
               "LANG": "C.UTF-8", "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg",
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        try:
            self.proc = subprocess.Popen(
                [self.rt.python, "-I", "-S", "-B", os.path.join(self.rt.code_dir, "worker.py"),
                 json.dumps(cfg)], pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=self.scratch, env=env,
                start_new_session=True, **as_isolated_worker(self.rt))
        finally:
            theirs.close()
        self.ctl = ctl
        out = self.proc.stdout.fileno()
        current, deadline = None, time.monotonic() + self.limits.import_seconds
        buf = bytearray()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.blocked[current or "cs239"] = (
                    f"did not finish within {self.limits.import_seconds:g} s")
                return current or "cs239"
            r, _, _ = select.select([ctl, out] if out is not None else [ctl], [], [], remaining)
            if out in r and not os.read(out, 65536):
                out = None
            if ctl not in r:
                continue
            chunk = ctl.recv(1 << 20)
            if not chunk:
                if current is None:
                    raise SandboxError("the worker exited before importing anything")
                self.blocked[current] = "stopped the worker process (exit or crash at import)"
                return current
            buf += chunk
            while len(buf) >= 12:
                try:      # once student code has run, it could write anything here
                    n = wire.frame_length(bytes(buf[:12]))
                    if len(buf) < n:
                        break
                    msg, buf = wire.decode(bytes(buf[:n])), buf[n:]
                    if not isinstance(msg, dict):
                        raise WireError("not a status message")
                except WireError:
                    self.blocked[current or "cs239"] = "corrupted the worker's control channel"
                    return current or "cs239"
                if msg.get("ready"):
                    return None
                if "importing" in msg:
                    current = str(msg["importing"])
                    deadline = time.monotonic() + self.limits.import_seconds
                elif msg.get("error") and len(msg["error"]) == 3:
                    self.import_errors[str(msg.get("imported"))] = tuple(
                        str(x)[:2000] for x in msg["error"])

    def _kill_server(self):
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.proc.stdout.close()
            self.ctl.close()
            self.proc = None

    def fork(self):
        """A fresh child for one test: (pid, connection socket, output pipe read end)."""
        for attempt in range(2):
            if self.proc is None or self.proc.poll() is not None:
                self._kill_server()
                self.start()
            mine, theirs = socket.socketpair()
            r, w = os.pipe()
            try:
                socket.send_fds(self.ctl, [b"F"], [theirs.fileno(), w])
                self.ctl.settimeout(10)
                pid = struct.unpack("<q", _recv_exact(self.ctl, 8))[0]
                self.ctl.settimeout(None)
                if not self._is_our_child(pid):   # never signal a pid the worker made up
                    raise OSError(f"bad pid {pid} from the worker")
                return pid, mine, r
            except (OSError, EOFError, struct.error):
                mine.close()
                os.close(r)
                self._kill_server()
            finally:
                theirs.close()
                os.close(w)
        raise StudentCrash("the worker process keeps dying; this test could not run")

    def _is_our_child(self, pid):
        """PID is in the server's session (and, in root mode, runs as the worker user)."""
        try:
            with open(f"/proc/{pid}/stat") as f:
                session = int(f.read().rsplit(")", 1)[1].split()[3])
            with open(f"/proc/{pid}/status") as f:
                uid = int(f.read().split("Uid:")[1].split()[0])
        except (OSError, IndexError, ValueError):
            return False
        return (pid > 1 and session == self.proc.pid
                and (self.rt.uid is None or uid == self.rt.uid))

    def close(self):
        """Kill everything the worker started (call once grading is over)."""
        self._kill_server()
        if self.rt.uid is not None:
            clear_user(self.rt.uid)
        sweep_orphans()

    def budget_left(self):
        return self.limits.budget_seconds - self.spent

    def student(self):
        return Student(self)


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid):
    """User + system CPU time of process PID (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def _recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


# ------------------------------------------------------------------------------- student

class Student:
    """The ``student`` fixture: calls into the submission, in a child forked for this test."""

    def __init__(self, sandbox):
        self._sb = sandbox
        self._pid = self._conn = self._out = None
        self._output = bytearray()
        self._output_total = 0

    # -- public API (autograder/suites use only these)
    def call(self, qualname, *args, **kwargs):
        return self._request(dict(op="call", name=qualname, args=list(args), kwargs=kwargs),
                             qualname)

    def call_reporting_args(self, qualname, *args, **kwargs):
        r = self._request(dict(op="call", name=qualname, args=list(args), kwargs=kwargs,
                               report_args=True), qualname)
        return r["value"], tuple(r["args"]), dict(r["kwargs"])

    def new(self, qualname, *args, **kwargs):
        return self._request(dict(op="new", name=qualname, args=list(args), kwargs=kwargs),
                             qualname)

    def call_method(self, handle, name, *args, spy=None, **kwargs):
        r = self._request(dict(op="method", h=handle, name=name, args=list(args),
                               kwargs=kwargs, spy=list(spy or ())),
                          f"{handle.type_name}.{name}")
        if spy:
            return SpyResult(r["value"], {k: [(tuple(a), dict(kw)) for a, kw in v]
                                          for k, v in r["calls"].items()})
        return r

    def get_attr(self, handle, name):
        return self._request(dict(op="get_attr", h=handle, name=name), f"reading .{name}")

    def set_attr(self, handle, name, value):
        return self._request(dict(op="set_attr", h=handle, name=name, args=[value]),
                             f"setting .{name}")

    def seed(self, n):
        return self._request(dict(op="seed", args=[int(n)]), "seed")

    @property
    def output(self):
        """What the student's code printed in this test (capped)."""
        text = self._output.decode("utf-8", "replace")
        if self._output_total > len(self._output):
            text += f"\n... ({self._output_total - len(self._output)} more bytes not shown)"
        return text

    # -- machinery
    def _request(self, req, what):
        for key in ("name",):
            if key in req and not isinstance(req[key], str):
                raise TypeError(f"{key} must be a str")
        limit = min(self._sb.limits.call_seconds, self._sb.budget_left())
        if limit <= 0:
            raise StudentTimeout(0, budget=True)
        if self._pid is None:
            self._pid, self._conn, self._out = self._sb.fork()
        data = wire.encode(req)
        t0 = time.monotonic()
        try:
            reply = self._exchange(data, limit)
        finally:
            self._sb.spent += time.monotonic() - t0
        if reply is None:
            self.close()
            raise StudentTimeout(round(limit, 1), budget=limit < self._sb.limits.call_seconds)
        if isinstance(reply, str):
            self.close()
            raise StudentCrash(f"{what}: {reply}")
        if reply.get("ok") is True:
            return reply.get("value")
        s = lambda k: str(reply.get(k) or "")[:2000]  # noqa: E731
        if reply.get("import"):
            where = f" ({s('where')})" if s("where") and "line" not in s("message") else ""
            raise ImportFailure(f"cannot import {s('import')}: {s('kind')}: {s('message')}{where}")
        raise StudentError(s("kind") or "Exception", s("message"), s("where"))

    def _exchange(self, data, limit):
        """Send DATA, wait for one reply; None on timeout, a str on crash, else the reply.
        Timeout: LIMIT seconds of the child's CPU time, or 3 * LIMIT + 2 s of wall clock (so a
        busy machine, e.g. another job's hostile code, does not make honest code time out)."""
        try:
            return self._exchange_inner(data, limit)
        except OSError as e:
            return f"the worker process died ({type(e).__name__})"

    def _exchange_inner(self, data, limit):
        conn, out = self._conn, self._out
        t0 = time.monotonic()
        deadline = t0 + 3 * limit + 2
        cpu0 = _cpu_seconds(self._pid)
        try:
            conn.settimeout(max(deadline - time.monotonic(), 0.001))
            conn.sendall(data)
        except socket.timeout:
            return None
        buf, need = bytearray(), None
        watch = [conn, out] if out is not None else [conn]
        while True:
            now = time.monotonic()
            if now >= deadline:
                return None
            if now - t0 > min(limit, 0.2) and _cpu_seconds(self._pid) - cpu0 > limit:
                return None
            r, _, _ = select.select(watch, [], [], min(deadline - now, 0.1))
            if out is not None and out in r:
                chunk = os.read(out, 65536)
                if not chunk:
                    watch.remove(out)
                    out = None
                else:
                    self._keep(chunk)
            if conn in r:
                chunk = conn.recv(1 << 22)
                if not chunk:
                    return ("the worker process died (it exited, was killed, or ran out of "
                            "memory)")
                buf += chunk
                try:
                    if need is None and len(buf) >= 12:
                        need = wire.frame_length(bytes(buf[:12]))
                    if need is not None and len(buf) >= need:
                        if len(buf) > need:
                            raise WireError("extra data")
                        reply = wire.decode(bytes(buf))
                        if not isinstance(reply, dict):
                            raise WireError("bad reply")
                        return reply
                except WireError as e:
                    return f"the worker sent malformed data ({e})"

    def _keep(self, chunk):
        self._output_total += len(chunk)
        room = self._sb.limits.output_bytes - len(self._output)
        if room > 0:
            self._output += chunk[:room]

    def close(self):
        if self._pid is not None:
            for kill in (os.killpg, os.kill):   # the group, and the child in case it had no
                try:                            # time to make its own group yet
                    kill(self._pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            _wait_group_gone(self._pid)
            self._conn.close()
            if self._out is not None:
                try:
                    for _ in range(64):   # whatever is already in the pipe, without waiting
                        r, _, _ = select.select([self._out], [], [], 0)
                        chunk = os.read(self._out, 65536) if r else b""
                        if not chunk:
                            break
                        self._keep(chunk)
                finally:
                    os.close(self._out)
            self._pid = self._conn = self._out = None


def limits_from_dict(d):
    return Limits(**{k: v for k, v in d.items() if k in asdict(Limits())})
