"""The untrusted side of notebook grading: run ONE notebook's code cells in a fresh kernel and
report each graded cell's outcome. Copied next to worker.py and run by nbsession.py as the slot's
worker user, already inside the sandbox (network and mount namespaces, limits):
``python -I -S -B nbrunner.py`` with the judge's socket on fd $CS239_CHANNEL_FD (never inherited
by the kernel)
and stdout/stderr going to a log file. It never imports the ``autograder`` package.

Protocol on that socket: the judge sends one length-prefixed JSON request {site, python, submission,
cells: [{source, grade_id}], timeout, kernel_args}; the runner answers with one length-prefixed JSON
reply {outcomes: {grade_id: {status, ename, evalue}}, error}. The judge trusts none of it beyond
"which of the cells it designated passed": points, messages and ids are checked on its side.

The runner is not dumpable, so the kernel (student code, same user) cannot read its memory or
its fds through /proc or ptrace; it can kill it, which costs only this notebook.
"""
import ctypes
import json
import os
import shutil
import socket
import struct
import sys

def _recv_request(sock):
    n = struct.unpack("<Q", _exact(sock, 8))[0]
    if n > 64 << 20:
        raise ValueError("request too large")
    return json.loads(_exact(sock, n))


def _exact(sock, n):
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(min(n - len(data), 1 << 20))
        if not chunk:
            raise EOFError("the judge closed the channel")
        data += chunk
    return bytes(data)


def _send(sock, obj):
    data = json.dumps(obj).encode()
    sock.sendall(struct.pack("<Q", len(data)) + data)


def _kernel_spec(python, root, extra):
    spec = os.path.join(root, "jupyter", "kernels", "cs239")
    os.makedirs(spec)
    with open(os.path.join(spec, "kernel.json"), "w") as f:
        json.dump({"argv": [python, "-S", "-m", "ipykernel_launcher", "-f", "{connection_file}",
                            *extra],
                   "display_name": "cs239 sandbox", "language": "python"}, f)


def _copy_or_link(src, dst):
    if os.path.getsize(src) > 1 << 20:
        os.symlink(src, dst)
    else:
        shutil.copy2(src, dst)


def run(req):
    """Execute the cells of REQ in a fresh kernel; grade_id -> outcome."""
    sys.path.append(req["site"])
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError
    from jupyter_client import AsyncKernelManager

    home = os.getcwd()
    work = os.path.join(home, "nb")
    # a private, writable copy of the submission: the notebook's working directory (large
    # files, e.g. saved models, are linked: the file-size limit would stop copying them)
    shutil.copytree(req["submission"], work, symlinks=True, copy_function=_copy_or_link)
    _kernel_spec(req["python"], home, [str(a) for a in req.get("kernel_args", [])])
    cells, graded = [], {}
    for i, c in enumerate(req["cells"]):
        cells.append(nbformat.v4.new_code_cell(c["source"]))
        if c.get("grade_id"):
            graded[i] = c["grade_id"]
    nb = nbformat.v4.new_notebook(cells=cells)
    outcomes = {gid: {"status": "not_run"} for gid in graded.values()}

    def executed(cell, cell_index, execute_reply):
        if cell_index not in graded:
            return
        content = (execute_reply or {}).get("content", {})
        ok = content.get("status") == "ok" and not any(
            o.get("output_type") == "error" for o in cell.get("outputs", []))
        outcomes[graded[cell_index]] = (
            {"status": "passed"} if ok else
            {"status": "failed", "ename": str(content.get("ename", ""))[:200],
             "evalue": str(content.get("evalue", ""))[:2000]})

    km = AsyncKernelManager(kernel_name="cs239", transport="ipc", ip=os.path.join(home, "k"))
    client = NotebookClient(
        nb, km=km, timeout=req["timeout"], allow_errors=True, interrupt_on_timeout=True,
        error_on_timeout={"ename": "CellTimeout", "evalue": "timed out"},
        shutdown_kernel="immediate", on_cell_executed=executed,
        resources={"metadata": {"path": work}})
    error = None
    try:
        client.execute()
    except DeadKernelError:
        error = "dead_kernel"
    except Exception as e:      # noqa: BLE001 - the kernel's failures are the notebook's
        error = f"{type(e).__name__}: {str(e)[:300]}"
    return {"outcomes": outcomes, "error": error}


def main():
    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)      # PR_SET_DUMPABLE = 0 (see module docstring)
    fd = int(os.environ.pop("CS239_CHANNEL_FD"))
    os.set_inheritable(fd, False)
    sock = socket.socket(fileno=fd)
    req = _recv_request(sock)
    try:
        reply = run(req)
    except Exception as e:      # noqa: BLE001
        reply = {"outcomes": {}, "error": f"{type(e).__name__}: {str(e)[:300]}"}
    _send(sock, reply)
    sock.close()


if __name__ == "__main__":
    main()
