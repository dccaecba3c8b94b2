"""Grading a batch: ``grade_batch`` (what ``python -m autograder grade`` and the Gradescope entry
point run). The orchestrator never runs student code: per submission it unpacks into a private
job dir, starts a judge process (judge.py) that drives the sandbox (package worker, then each
notebook) under a hard wall-clock budget, then writes results.json, feedback.md and the
instructor log atomically; grades.csv is rebuilt from every results.json in the output dir.
"""
import argparse
import hashlib
import importlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path

from cs239.tools import manifest

from . import results as R
from . import shards
from .sandbox import (Limits, SandboxError, acquire_slots, clear_user, harden_trusted_process,
                      prepare_runtime, protect, read_capped, sandbox_mode)
from .sandbox.nbsession import kernel_site
from .similarity import CODE_FILE, student_code
from .submission import (BadSubmission, check_notebooks, content_hash, set_worker_permissions,
                         stem_of, unpack)

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SUITES = REPO / "autograder" / "suites"
SOURCE = REPO / "source" / manifest.NAME       # the master notebooks
JUDGE_OUTPUT_CAP = 200000


def load_graded_names(suites):
    suites = Path(suites).resolve()
    if str(suites.parent) not in sys.path:
        sys.path.insert(0, str(suites.parent))
    try:
        mod = importlib.import_module(suites.name if suites != DEFAULT_SUITES.resolve()
                                      else "autograder.suites")
        return list(getattr(mod, "GRADED_NAMES", []))
    except Exception as e:
        raise SandboxError(f"cannot load GRADED_NAMES from {suites}: {e}")


def fingerprint(suites, limits, extra=""):
    """Changes whenever anything that decides a grade changes (suites, grader, reference)."""
    h = hashlib.sha256(R.GRADER_VERSION.encode() + json.dumps(asdict(limits)).encode()
                       + extra.encode())
    for base, pattern in ((Path(suites), "**/*.py"), (REPO / "autograder", "**/*.py"),
                          (REPO / "cs239", "**/*.py")):
        for p in sorted(base.glob(pattern)):
            if "__pycache__" not in p.parts:
                h.update(str(p.relative_to(base)).encode() + p.read_bytes())
    return h.hexdigest()[:24]


def _notebook_digest():
    h = hashlib.sha256()
    for p in sorted(SOURCE.glob("*.ipynb")):
        h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()[:16]


class Context:
    def __init__(self, args):
        self.out = Path(args.out).resolve()
        self.suites = Path(args.suites).resolve()
        self.force = args.force
        self.limits = Limits(call_seconds=args.timeout, cpu_seconds=int(args.timeout) + 5,
                             notebook_cell_seconds=args.notebook_timeout,
                             notebook_seconds=args.notebook_budget)
        self.notebooks = args.notebooks
        self.n_notebooks = len(list(SOURCE.glob("*.ipynb"))) if self.notebooks else 0
        self.site = None
        self.mode = sandbox_mode()
        self.fp = fingerprint(self.suites, self.limits, f"notebooks={self.notebooks} "
                              f"{_notebook_digest() if self.notebooks else ''}")
        self.base = None         # the private job area, created once the run starts
        self.runtimes = {}
        self.lock = threading.Lock()


def _stems(paths):
    seen, out = {}, []
    for p in paths:
        s = stem_of(p) or "submission"
        n = seen[s] = seen.get(s, 0) + 1
        out.append(s if n == 1 else f"{s}-{n}")
    return out


def grade_one(ctx, src, stem, slot, index):
    """Grade SRC into ctx.out/STEM; returns (status, results dict)."""
    t0 = time.monotonic()
    dest = ctx.out / stem
    sha = content_hash(src)
    key = hashlib.sha256(f"{sha} {ctx.fp}".encode()).hexdigest()[:24]
    meta = {"key": key, "sha256": sha, "source": str(src)}
    old = R.load(dest / "results.json")
    if (not ctx.force and old and old.get("extra_data", {}).get("cs239", {}).get("key") == key
            and old["extra_data"]["cs239"].get("status") != "internal_error"):
        return "cached", old
    job = ctx.base / f"j{index}"
    job.mkdir()
    os.chmod(job, 0o711)
    log = []
    try:
        try:
            root = unpack(src, job / "sub")
        except BadSubmission as e:
            res = R.bad_input(e.message, time.monotonic() - t0, meta)
            return _write(dest, stem, res, log, "bad input")
        code = student_code(root, sha)   # issue 14: for the report, before any worker runs
        rt = ctx.runtimes[slot]
        scratch = job / "scratch"
        scratch.mkdir()
        if rt.uid is not None:
            set_worker_permissions(job / "sub", rt.gid)
            os.chown(scratch, rt.uid, rt.gid)
        messages = []
        nb_problems = check_notebooks(root)
        report_path = job / "report.json"
        cfg = dict(submission=str(root), scratch=str(scratch), suites=str(ctx.suites),
                   runtime=asdict(rt), limits=asdict(ctx.limits), out=str(report_path),
                   repo=str(REPO), job=str(job), parent=os.getpid(),
                   notebooks=dict(source=str(SOURCE), site=ctx.site) if ctx.n_notebooks else None)
        (job / "judge.json").write_text(json.dumps(cfg))
        report = _run_judge(ctx, job, rt, log)
        if report is None:
            res = R.build([], ["Internal grader error: this submission could not be graded; "
                               "the course staff will re-run it."],
                          time.monotonic() - t0, dict(meta, status="internal_error"))
            res["score"] = 0
            return _write(dest, stem, res, log, "INTERNAL ERROR", code)
        log.extend(report.get("log", []))
        outputs = "\n".join(t["output"] for t in report["tests"])
        for module, (kind, msg, where) in sorted(report["import_errors"].items()):
            if kind == "SyntaxError" or f"import {module}:" in outputs:   # relevant ones only
                at = f" at {where}" if where and "line" not in msg else ""
                messages.append(f"Cannot import {module}: {kind}: {msg}{at}")
        for module, why in sorted(report["blocked"].items()):
            messages.append(f"Cannot import {module}: it {why}")
        for nb, problem in sorted(nb_problems.items()):
            messages.append(f"Notebook: {problem}")
        tests = report["tests"] + report.get("notebook_tests", [])
        if report.get("sandbox_errors"):
            res = R.build(tests, messages, time.monotonic() - t0,
                          dict(meta, status="internal_error"))
            return _write(dest, stem, res, log, "INTERNAL ERROR", code)
        res = R.build(tests, messages, time.monotonic() - t0, dict(meta, status="graded"))
        return _write(dest, stem, res, log, "graded", code)
    finally:
        if not os.environ.get("CS239_KEEP_JOBS"):      # debugging: keep the job dirs
            shutil.rmtree(job, ignore_errors=True)


def _run_judge(ctx, job, rt, log):
    """Run the judge on JOB within the submission's hard wall-clock budget; its report, or None.
    Its output goes to files (a pipe could be held open by anything it started); at the end,
    whatever it did, every process of the slot's user is killed."""
    budget = ctx.limits.submission_seconds(ctx.n_notebooks)
    report_path = job / "report.json"
    with open(job / "judge.out", "wb") as out:
        p = subprocess.Popen([sys.executable, "-m", "autograder.judge", str(job / "judge.json")],
                             cwd=REPO, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                             start_new_session=True,
                             env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    try:
        code = p.wait(timeout=budget)
    except subprocess.TimeoutExpired:
        log.append(f"judge stopped: the submission used up its {budget:g} s budget")
        code = None
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)     # the judge and anything left in its group
        except ProcessLookupError:
            pass
        p.wait()
        if rt.uid is not None:
            clear_user(rt.uid)
    try:
        log.append(read_capped(job / "judge.out", 64 << 20, "judge output")[-JUDGE_OUTPUT_CAP:]
                   .decode("utf-8", "replace"))
        return json.loads(read_capped(report_path, 256 << 20, "report")) if code == 0 else None
    except (OSError, ValueError) as e:
        log.append(f"judge report unreadable: {e}")
        return None


def _write(dest, stem, res, log, status, code=None):
    dest.mkdir(parents=True, exist_ok=True)
    if code is not None:                                  # issue 14: the report's code.json
        R.atomic_write(dest / CODE_FILE, code)
    R.atomic_write(dest / "grader.log", "\n".join(x for x in log if x))
    R.atomic_write(dest / "feedback.md", R.feedback_md(stem, res))
    R.atomic_write(dest / "results.json", json.dumps(res, indent=1))
    return status, res


def write_grades(ctx, graded_names):
    rows = []
    for d in sorted(p for p in ctx.out.iterdir() if p.is_dir()):
        r = R.load(d / "results.json")
        if r is not None:
            rows.append((d.name, r))
    R.atomic_write(ctx.out / "grades.csv", R.grades_csv(graded_names, rows))
    return rows


def _remove_stale_job_areas():
    """Job areas of grader runs that were killed (their pid is gone)."""
    for base in Path(tempfile.gettempdir()).glob("cs239-grade-*"):
        try:
            pid = int((base / "run.pid").read_text())
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(base, ignore_errors=True)
        except (OSError, ValueError):
            pass


def add_grade_arguments(g):
    """The options of ``grade`` (shared by the CLI and the Gradescope entry point)."""
    g.add_argument("submissions", nargs="+", metavar="SUBMISSION")
    g.add_argument("--out", required=True, metavar="DIR")
    g.add_argument("--jobs", type=int, default=1, metavar="N")
    g.add_argument("--force", action="store_true", help="re-grade even if already graded")
    g.add_argument("--suites", default=str(DEFAULT_SUITES), metavar="DIR")
    g.add_argument("--timeout", type=float, default=Limits.call_seconds,
                   help="CPU seconds per call into student code (default %(default)s)")
    g.add_argument("--notebooks", action=argparse.BooleanOptionalAction, default=True,
                   help="also grade the notebooks' autograded cells (default)")
    g.add_argument("--notebook-timeout", type=float, default=Limits.notebook_cell_seconds,
                   metavar="S", help="seconds per notebook cell (default %(default)s)")
    g.add_argument("--notebook-budget", type=float, default=Limits.notebook_seconds,
                   metavar="S", help="wall-clock seconds per notebook, whatever it does "
                   "(default %(default)s)")
    g.add_argument("--sandbox-mode", choices=["root", "user"],
                   help="override CS239_SANDBOX_MODE (default: root when running as root)")
    g.add_argument("-q", "--quiet", action="store_true")
    return g


def grade_batch(args):
    """Grade ARGS.submissions (namespace of add_grade_arguments); the exit status."""
    os.umask(0o077)
    harden_trusted_process()
    if args.sandbox_mode:
        os.environ["CS239_SANDBOX_MODE"] = args.sandbox_mode
    ctx = Context(args)
    if not ctx.suites.is_dir():
        print(f"error: suites folder {ctx.suites} does not exist", file=sys.stderr)
        return 2
    graded_names = load_graded_names(ctx.suites)
    ctx.out.mkdir(parents=True, exist_ok=True)
    srcs = [Path(s).absolute() for s in args.submissions]
    stems = _stems(srcs)
    if getattr(args, "shard", None):            # one slice of the batch (autograder/shards.py)
        srcs, stems = shards.select(srcs, args.shard, ctx, graded_names, _stems)
    jobs = max(1, min(args.jobs, len(srcs)))
    _remove_stale_job_areas()
    ctx.base = Path(tempfile.mkdtemp(prefix="cs239-grade-"))
    os.chmod(ctx.base, 0o711)
    (ctx.base / "run.pid").write_text(str(os.getpid()))
    try:
        ctx.slot_locks = acquire_slots(ctx.mode, jobs)     # held until we exit
        for i, (slot, _) in enumerate(ctx.slot_locks):
            ctx.runtimes[i] = prepare_runtime(ctx.mode, slot)
        if ctx.n_notebooks:
            ctx.site = kernel_site(ctx.mode)
        if ctx.mode == "root":
            os.chmod(ctx.out, 0o700)
            protect([REPO, ctx.suites, *srcs])
            if not ctx.runtimes[0].netns:
                print("note: this machine refuses network namespaces (unshare(CLONE_NEWNET); "
                      "e.g. Docker's default seccomp profile), so student code keeps network "
                      "access; everything else is isolated as usual", file=sys.stderr)
        slots = queue.Queue()
        for slot in range(jobs):
            slots.put(slot)

        def work(i):
            slot = slots.get()
            try:
                return grade_one(ctx, srcs[i], stems[i], slot, i)
            finally:
                slots.put(slot)

        outcomes = {}
        try:
            from tqdm import tqdm
            bar = tqdm(total=len(srcs), unit="sub", desc="grading", file=sys.stderr,
                       disable=args.quiet or None)
        except ImportError:  # pragma: no cover
            bar = None
        with ThreadPoolExecutor(jobs) as pool:
            futures = {pool.submit(work, i): i for i in range(len(srcs))}
            for f in as_completed(futures):
                i = futures[f]
                outcomes[i] = f.result()
                if bar is not None:
                    bar.set_postfix_str(stems[i][:30])
                    bar.update()
        if bar is not None:
            bar.close()
        write_grades(ctx, graded_names)
        from .gradebook import rejoin          # keeps a grades.csv joined with nbgrader's
        rejoin(ctx.out, graded_names)
        from .report import after_grade    # issue 14: the instructor's report
        after_grade(ctx.out)
    finally:
        if not os.environ.get("CS239_KEEP_JOBS"):
            shutil.rmtree(ctx.base, ignore_errors=True)
    internal = 0
    if not args.quiet:
        w = max([10] + [len(s) for s in stems])
        print(f"\n{'submission':<{w}}  {'score':>14}  {'time':>7}  status")
        for i, stem in enumerate(stems):
            status, res = outcomes[i]
            mx = res.get("extra_data", {}).get("cs239", {}).get("max_score", 0)
            print(f"{stem:<{w}}  {res['score']:>6g} / {mx:<5g}  "
                  f"{res.get('execution_time', 0):>6.1f}s  {status}")
        print(f"\nresults in {ctx.out}/<submission>/results.json, grades in {ctx.out}/grades.csv")
    for status, _ in outcomes.values():
        internal += status == "INTERNAL ERROR"
    if internal:
        print(f"{internal} submission(s) hit an internal grader error (see their grader.log)",
              file=sys.stderr)
        return 3
    return 0


