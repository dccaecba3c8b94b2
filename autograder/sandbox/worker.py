"""The untrusted side: a fork server that runs student code (copied next to wire.py and run as
``python -I -S worker.py CONFIG_JSON``; it never imports the ``autograder`` package).

Startup: set resource limits, build ``sys.path`` by hand (numpy's own directory only, then the
submission first), pre-import the submission's modules once (reporting each import on the control
socket, so the judge can restart the server without a module that exits or hangs at import).
Then loop: for every ``F`` request on the control socket (which carries a fresh socket and a pipe
for output through SCM_RIGHTS), fork a child that serves one test: its own process group, fresh
seeds, per-call CPU limit, plain-data requests/responses through ``wire`` on that socket.
Everything here is the student's to break: the judge trusts nothing it receives.
"""
import json
import os
import resource
import signal
import socket
import struct
import sys
import time
import traceback

CFG = json.loads(sys.argv[1])
SUB = CFG["submission"]


def _set_limits():
    for name, value in (("RLIMIT_AS", CFG["memory"]), ("RLIMIT_NPROC", CFG["nproc"]),
                        ("RLIMIT_FSIZE", CFG["fsize"]), ("RLIMIT_CORE", 0),
                        ("RLIMIT_NOFILE", 256)):
        if value is not None:
            resource.setrlimit(getattr(resource, name), (value, value))


_set_limits()
sys.path.append(CFG["site"])        # numpy (a copy or symlinks: nothing else from site-packages)
sys.path.insert(0, CFG["code_dir"])
import numpy as np  # noqa: E402
import wire  # noqa: E402
import importlib  # noqa: E402
import random  # noqa: E402
sys.path.remove(CFG["code_dir"])
sys.path.insert(0, SUB)   # after every import the worker itself needs: no shadowing them
sys.dont_write_bytecode = True

BLOCKED = dict(CFG["blocked"])       # module -> why it cannot be imported
IMPORT_ERRORS = {}                   # module -> (kind, message, where)


class _Blocker:
    def find_spec(self, name, path=None, target=None):
        if name in BLOCKED:
            raise ImportError(f"importing {name} {BLOCKED[name]}")
        return None


sys.meta_path.insert(0, _Blocker())


def _where(tb):
    where = ""
    for fs in traceback.extract_tb(tb):
        fn = os.path.abspath(fs.filename or "")
        if fn.startswith(SUB + os.sep):
            where = f"{os.path.relpath(fn, SUB)}:{fs.lineno}"
    return where


def _describe(e):
    """(kind, message, where) for an exception raised by student code."""
    try:
        kind = type(e).__name__[:100]
        if isinstance(e, SyntaxError) and e.filename:
            fn = os.path.relpath(os.path.abspath(e.filename), SUB)
            return kind, f"{e.msg} ({fn}, line {e.lineno})"[:2000], f"{fn}:{e.lineno}"
        try:
            msg = str(e)[:2000]
        except BaseException:
            msg = "<unprintable exception>"
        return kind, msg, _where(e.__traceback__)
    except BaseException:
        return "Exception", "<undescribable exception>", ""


def _send(sock, value, handles=None):
    sys.stdout.flush()
    sys.stderr.flush()

    def to_handle(obj):
        handles.append(obj)
        return len(handles) - 1, type(obj).__name__

    try:
        data = wire.encode(value, to_handle if handles is not None else None)
    except Exception as e:
        data = wire.encode({"ok": False, "kind": "TransferError",
                            "message": f"the returned value cannot be sent back: {e}",
                            "where": ""})
    sock.sendall(data)


# ---------------------------------------------------------------- one test (forked child)

def _resolve(qualname):
    module, _, attr = qualname.rpartition(".")
    if module in IMPORT_ERRORS:
        raise _ImportFailure(module)
    try:
        mod = importlib.import_module(module)
    except BaseException as e:
        IMPORT_ERRORS[module] = _describe(e)
        raise _ImportFailure(module)
    return getattr(mod, attr)


class _ImportFailure(Exception):
    pass


def _snapshot(v):
    if isinstance(v, np.ndarray):
        return v.copy()
    if type(v) in (list, tuple):
        return type(v)(_snapshot(x) for x in v)
    if type(v) is dict:
        return {k: _snapshot(x) for k, x in v.items()}
    return v


def _handle_request(req, handles):
    op = req["op"]
    args, kwargs = tuple(req.get("args", ())), dict(req.get("kwargs", {}))
    if op == "seed":
        np.random.seed(args[0])
        random.seed(args[0])
        return None
    if op in ("call", "new"):
        fn = _resolve(req["name"])
        value = fn(*args, **kwargs)
        if op == "new":
            handles.append(value)
            return wire.Handle(len(handles) - 1, type(value).__name__)
        if req.get("report_args"):
            return {"value": value, "args": args, "kwargs": kwargs}
        return value
    obj = req["h"]
    if op == "get_attr":
        return getattr(obj, req["name"])
    if op == "set_attr":
        setattr(obj, req["name"], args[0])
        return None
    if op == "method":
        spies, saved = {}, {}
        for name in req.get("spy") or ():
            log = spies[name] = []
            saved[name] = obj.__dict__.get(name, _MISSING)
            original = getattr(obj, name)

            def spy(*a, _original=original, _log=log, **k):
                if len(_log) < 1000:
                    _log.append((_snapshot(a), _snapshot(k)))
                return _original(*a, **k)
            setattr(obj, name, spy)
        try:
            value = getattr(obj, req["name"])(*args, **kwargs)
        finally:
            for name, old in saved.items():
                if old is _MISSING:
                    obj.__dict__.pop(name, None)
                else:
                    obj.__dict__[name] = old
        if req.get("spy"):
            return {"value": value, "calls": spies}
        return value
    raise ValueError(f"unknown op {op!r}")


_MISSING = object()


def _serve_test(conn):
    np.random.seed(0)
    random.seed(0)
    handles = []
    cpu = CFG["cpu"]
    while True:
        try:
            data = wire.recv_blocking(conn)
        except EOFError:
            os._exit(0)
        req = wire.decode(data, resolve_handle=lambda h: handles[h.id])
        used = resource.getrusage(resource.RUSAGE_SELF)
        used = int(used.ru_utime + used.ru_stime) + 1
        hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
        soft = used + cpu if hard == resource.RLIM_INFINITY else min(used + cpu, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
        try:
            value = _handle_request(req, handles)
            reply = {"ok": True, "value": value}
        except _ImportFailure as e:
            kind, msg, where = IMPORT_ERRORS[e.args[0]]
            reply = {"ok": False, "import": e.args[0], "kind": kind, "message": msg,
                     "where": where}
        except BaseException as e:   # SystemExit and KeyboardInterrupt included
            kind, msg, where = _describe(e)
            reply = {"ok": False, "kind": kind, "message": msg, "where": where}
        _send(conn, reply, handles)


# ---------------------------------------------------------------- the fork server

def main():
    ctl = socket.socket(fileno=CFG["ctl_fd"])
    for module in CFG["modules"]:
        if module in BLOCKED:
            continue
        _send(ctl, {"importing": module})
        try:
            importlib.import_module(module)
            _send(ctl, {"imported": module})
        except BaseException as e:
            IMPORT_ERRORS[module] = _describe(e)
            _send(ctl, {"imported": module, "error": list(IMPORT_ERRORS[module])})
    _send(ctl, {"ready": True})
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)     # children are reaped automatically
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    while True:
        msg, fds, _, _ = socket.recv_fds(ctl, 1, 2)
        if not msg:
            os._exit(0)
        pid = -1
        for attempt in range(50):      # the process limit may be full of dying processes
            try:
                pid = os.fork()
                break
            except OSError:
                time.sleep(0.02)
        if pid == 0:
            try:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                ctl.close()
                os.setpgid(0, 0)
                resource.setrlimit(resource.RLIMIT_CPU, (CFG["cpu_test"], CFG["cpu_test"]))
                os.dup2(fds[1], 1)
                os.dup2(fds[1], 2)
                os.close(fds[1])
                _serve_test(socket.socket(fileno=fds[0]))
            finally:
                os._exit(0)
        for fd in fds:
            os.close(fd)
        ctl.sendall(struct.pack("<q", pid))


if __name__ == "__main__":
    main()
