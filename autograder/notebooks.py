"""Notebook autograded cells through nbgrader, with the kernel inside the sandbox.

Once per run (trusted, root-only dir): copy source/hw3/*.ipynb into a private nbgrader course
and ``nbgrader generate_assignment`` it, which records every graded cell (and hidden tests) in
its gradebook. Per submission: a private copy of that course, the student's notebooks, package
and models under ``submitted/student/hw3``, then ``nbgrader autograde`` with
``Execute.kernel_name=cs239-sandbox``: the kernel spec runs ``autograder/kernel.py``, which starts
the kernel as the slot's worker user with limits (see kernel.py). nbgrader itself (restoring
locked and hidden test cells by checksum, scoring) stays on the trusted side. Scores come from
the gradebook; a failing cell shows only ``ErrorName: message`` (never the test cell's code).
Tests are named ``<Notebook>.ipynb: <grade_id>``.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from .requirements import closure as _closure
from .runtime import clear_user

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "source" / "hw3"
KERNEL = "cs239-sandbox"
# What a notebook kernel may import besides the stdlib and the student's own cs239 package
# (with their dependencies): the packages the homework notebooks use.
KERNEL_PACKAGES = ["ipykernel", "numpy", "matplotlib", "tqdm", "ipywidgets"]
_lock = threading.Lock()


def kernel_site(mode):
    """A folder with KERNEL_PACKAGES and their dependencies only (copies in root mode, readable
    by the worker users; symlinks otherwise). Cached."""
    dists = _closure(KERNEL_PACKAGES)
    tops = set()
    for d in dists.values():
        for f in d.files or []:
            if f.parts[0] not in ("..", "__pycache__") and not f.parts[0].endswith(".pth"):
                tops.add(str(d.locate_file(f.parts[0])))
    recipe = "byte-compiled\n"     # change when the way the site is built changes
    key = hashlib.sha256((recipe + "\n".join(sorted(tops)) + sys.version).encode())
    key = key.hexdigest()[:16]
    cache = (Path(os.environ.get("CS239_WORKER_CACHE", "/var/cache/cs239-worker"))
             if mode == "root" else Path(tempfile.gettempdir()) / f"cs239-worker-{os.getuid()}")
    base = cache / f"kernel-{key}"
    if not (base / ".complete").exists():
        cache.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=base.name + ".", dir=cache))
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
        (tmp / ".complete").touch()
        subprocess.run(["chmod", "-R", "u=rwX,go=rX", str(tmp)], check=True)
        try:
            tmp.rename(base)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
    return str(base)


def _env(course):
    env = dict(os.environ, JUPYTER_PATH=str(course / "jupyter"),
               PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    env.pop("PYTHONPATH", None)
    return env


def _config(course, timeout, ipc_dir=None):
    """nbgrader_config.py of a course copy. IPC_DIR: the kernel talks to nbgrader over Unix
    sockets there instead of TCP on localhost, so that it can live in a network namespace of
    its own (no network at all) and still be reached."""
    ipc = ("c.KernelManager.transport = 'ipc'\n"
           f"c.KernelManager.ip = {str(Path(ipc_dir) / 'k')!r}\n") if ipc_dir else ""
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        "c.CourseDirectory.course_id = 'cs239'\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{course}/gradebook.db'\n"
        f"c.Execute.timeout = {int(timeout)}\n"
        f"c.Execute.kernel_name = {KERNEL!r}\n"
        "c.Execute.interrupt_on_timeout = True\n"
        "c.ExecutePreprocessor.kernel_name = 'cs239-sandbox'\n" + ipc)


def prepare_course(ctx):
    """Once per run: the generated nbgrader course (None when there are no notebooks)."""
    with _lock:
        if hasattr(ctx, "nb_course"):
            return ctx.nb_course
        notebooks = sorted(SOURCE.glob("*.ipynb"))
        ctx.nb_course = None
        if not notebooks:
            return None
        course = ctx.base / "nbcourse"
        (course / "source" / "hw3").mkdir(parents=True)
        for nb in notebooks:
            shutil.copy(nb, course / "source" / "hw3")
        _config(course, ctx.nb_timeout)
        p = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "hw3",
                            "--force"], cwd=course, env=_env(course), capture_output=True,
                           text=True)
        if p.returncode != 0:
            raise RuntimeError(f"nbgrader generate_assignment failed:\n{p.stderr[-3000:]}")
        from nbgrader.api import Gradebook
        cells = {}
        with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
            for nb in gb.find_assignment("hw3").notebooks:
                cells[nb.name] = [(c.name, c.max_score) for c in nb.grade_cells
                                  if c.cell_type == "code"]
        ctx.nb_course = (course, cells, kernel_site(ctx.mode))
        return ctx.nb_course


def grade_notebooks(ctx, root, rt, job, nb_problems, log):
    prepared = prepare_course(ctx)
    if prepared is None:
        return []
    course, cells, site = prepared
    jc = job / "nb"
    shutil.copytree(course, jc, ignore=shutil.ignore_patterns("jupyter"))
    os.chmod(jc, 0o711)
    ipc = None
    if rt.netns:
        ipc = job / "nbipc"
        ipc.mkdir()
        os.chown(ipc, rt.uid, rt.gid)
    _config(jc, ctx.nb_timeout, ipc)
    hw = jc / "submitted" / "student" / "hw3"
    hw.mkdir(parents=True)
    for p in Path(root).iterdir():
        if p.name.endswith(".ipynb") and p.name not in nb_problems:
            shutil.copy(p, hw / p.name)
        elif p.is_dir() or p.suffix in (".npz", ".py"):
            (shutil.copytree if p.is_dir() else shutil.copy)(p, hw / p.name)
    scratch = job / "nbscratch"
    scratch.mkdir()
    lim = ctx.limits
    kcfg = dict(python=rt.python, site=site, uid=rt.uid, gid=rt.gid, netns=rt.netns,
                scratch=str(scratch),
                job=str(job), memory=lim.memory_bytes, fsize=lim.fsize_bytes,
                nproc=lim.nproc if rt.uid is not None else None,
                cpu=int(ctx.nb_timeout * 3))
    if rt.uid is not None:
        os.chown(scratch, rt.uid, rt.gid)
    (jc / "kernel_cfg.json").write_text(json.dumps(kcfg))
    kdir = jc / "jupyter" / "kernels" / KERNEL
    kdir.mkdir(parents=True)
    (kdir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "autograder.kernel", "{connection_file}",
                 str(jc / "kernel_cfg.json")],
        "display_name": "cs239 sandbox", "language": "python"}))
    env = _env(jc)
    env["PYTHONPATH"] = str(REPO)          # for `-m autograder.kernel` (trusted launcher)
    try:
        p = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", "hw3", "--student",
                            "student", "--force", "--create"], cwd=jc, env=env,
                           capture_output=True, text=True,
                           timeout=ctx.nb_timeout * max(1, sum(map(len, cells.values()))) + 300)
        log.append("nbgrader autograde:\n" + p.stdout[-20000:] + p.stderr[-20000:])
    except subprocess.TimeoutExpired:
        log.append("nbgrader autograde timed out")
    finally:
        if rt.uid is not None:
            clear_user(rt.uid)
    return _scores(jc, cells, nb_problems)


def _scores(jc, cells, nb_problems):
    from nbgrader.api import Gradebook, MissingEntry
    tests = []
    with Gradebook(f"sqlite:///{jc}/gradebook.db") as gb:
        for nb, graded in sorted(cells.items()):
            name = f"{nb}.ipynb"
            errors = _errors(jc / "autograded" / "student" / "hw3" / name)
            for grade_id, max_score in graded:
                score, output = 0.0, ""
                if name in nb_problems:          # missing or corrupt: never executed
                    tests.append(dict(name=f"{name}: {grade_id}", score=0.0,
                                      max_score=float(max_score), output=nb_problems[name],
                                      visibility="visible", status="failed"))
                    continue
                try:
                    g = gb.find_grade(grade_id, nb, "hw3", "student")
                    score = float(g.auto_score or 0.0)
                    if score < max_score:
                        output = errors.get(grade_id, "this check failed")
                except MissingEntry:
                    output = nb_problems.get(name, f"{name} was not graded (missing, corrupt, "
                                                   "or its kernel died)")
                tests.append(dict(name=f"{name}: {grade_id}", score=score,
                                  max_score=float(max_score), output=output,
                                  visibility="visible",
                                  status="passed" if score >= max_score else "failed"))
    return tests


def _errors(path):
    """grade_id -> 'ErrorName: message' of the failing cells of an autograded notebook."""
    out = {}
    try:
        nb = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return out
    for cell in nb.get("cells", []):
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        for o in cell.get("outputs", []):
            if gid and o.get("output_type") == "error":
                msg = f"{o.get('ename', 'Error')}: {o.get('evalue', '')}".strip()
                out[gid] = re.sub(r"\x1b\[[0-9;]*m", "", msg)[:1500]
    return out


__all__ = ["grade_notebooks", "prepare_course", "kernel_site", "KERNEL_PACKAGES"]
