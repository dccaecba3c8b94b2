"""Sandboxed Jupyter kernel launcher (the argv of the ``cs239-sandbox`` kernel spec that
notebooks.py gives nbgrader): ``python -m autograder.kernel CONNECTION_FILE CONFIG.json``.

Runs briefly as the trusted user, then becomes the kernel: copies the connection file into the
worker's scratch dir, hands the notebook's working copy to the worker user (root mode), sets the
same resource limits as the package worker plus a CPU limit for the whole notebook, becomes the
worker like the package worker does (``runtime.enter_worker``: its own network namespace where
the machine allows it, then the slot's user) and execs ``python -S -m ipykernel_launcher`` with
only the kernel's own packages (ipykernel, numpy, matplotlib and their dependencies: never the
reference or the grader) on the path and a minimal environment.
"""
import json
import os
import resource
import shutil
import sys

from autograder.notebook_parameters import kernel_arguments
from autograder.runtime import enter_worker


def main():
    conn, cfg_path = sys.argv[1], sys.argv[2]
    cfg = json.loads(open(cfg_path).read())
    scratch = cfg["scratch"]
    uid, gid = cfg.get("uid"), cfg.get("gid")
    conn_copy = os.path.join(scratch, "kernel-%d.json" % os.getpid())
    shutil.copyfile(conn, conn_copy)
    cwd = os.getcwd()
    if uid is not None:
        os.chown(conn_copy, uid, gid)
        os.chmod(conn_copy, 0o600)
        for dirpath, dirs, files in os.walk(cwd):
            os.chown(dirpath, uid, gid)
            for f in files:
                os.chown(os.path.join(dirpath, f), uid, gid)
        d = cwd
        while d != cfg["job"] and d != "/":         # traversable, not listable
            d = os.path.dirname(d)
            os.chmod(d, os.stat(d).st_mode | 0o111)
    for name, value in (("RLIMIT_AS", cfg["memory"]), ("RLIMIT_NPROC", cfg.get("nproc")),
                        ("RLIMIT_FSIZE", cfg["fsize"]), ("RLIMIT_CORE", 0),
                        ("RLIMIT_CPU", cfg["cpu"])):
        if value is not None:
            resource.setrlimit(getattr(resource, name), (value, value))
    env = {"PATH": "/usr/bin:/bin", "HOME": scratch, "TMPDIR": scratch, "LANG": "C.UTF-8",
           "IPYTHONDIR": os.path.join(scratch, ".ipython"), "JUPYTER_RUNTIME_DIR": scratch,
           "MPLBACKEND": "Agg", "MPLCONFIGDIR": os.path.join(scratch, ".mpl"),
           "PYTHONPATH": cfg["site"], "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NBGRADER_EXECUTION": "autograde",
           "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    # The instructor's data folder, and size overrides for the notebooks' parameters cell
    # (e.g. grade at a reduced scale; applied by autograder/notebook_parameters.py's hook); both
    # are set by whoever runs the grader, never a student.
    for name in ("CS239_CIFAR10_DIR", "CS239_NOTEBOOK_PARAMETERS"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    argv = [cfg["python"], "-S", "-m", "ipykernel_launcher", "-f", conn_copy,
            *kernel_arguments()]           # read here: the worker cannot read the grader
    # With netns, no network: nbgrader reaches the kernel over Unix sockets.
    enter_worker(uid, gid, cfg.get("netns"))
    os.execve(cfg["python"], argv, env)


if __name__ == "__main__":
    main()
