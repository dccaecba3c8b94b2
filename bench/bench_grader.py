"""Autograder throughput: seconds per submission for the package suites alone, for a batch of
40 submissions with --jobs 1 and --jobs 2, and per extra submission, the reference package and
notebooks graded in the sandbox (package suites + notebooks) against bare `nbgrader autograde`
of the same notebooks (ratio: sandboxed / bare).

Submissions are the reference package, the stubbed release and realistic buggy variants (each
made distinct so nothing is served from the resume cache). CS239_BENCH_GRADER_N changes the
batch size (default 40). Everything is written under a temporary directory.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cs239.tools.manifest import NAME

REPO = Path(__file__).resolve().parent.parent
REGION = re.compile(r"^([ \t]*)### BEGIN SOLUTION[^\n]*\n.*?^[ \t]*### END SOLUTION[^\n]*\n",
                    re.S | re.M)

BUGS = {
    "reference": {},
    "stub": None,     # every solution region replaced by NotImplementedError
    "db_not_summed": {"layers.py": (
        "_ab = affine_backward\n"
        "def affine_backward(dout, cache):\n"
        "    dx, dw, db = _ab(dout, cache)\n"
        "    return dx, dw, dout[0]\n")},
    "softmax_unstable": {"layers.py": (
        "def softmax_loss(x, y):\n"
        "    p = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)\n"
        "    n = x.shape[0]\n"
        "    loss = -np.log(p[np.arange(n), y]).sum() / n\n"
        "    dx = p.copy(); dx[np.arange(n), y] -= 1\n"
        "    return loss, dx\n")},
    "momentum_sign": {"optim.py": (
        "_m = sgd_momentum\n"
        "def sgd_momentum(w, dw, config=None):\n"
        "    return _m(w, -dw, config)\n")},
    "relu_inplace": {"layers.py": (
        "def relu_forward(x):\n"
        "    x[x < 0] = 0\n"
        "    return x, x\n")},
    "slow_loop": {"layers.py": (
        "import time as _t\n"
        "_af = affine_forward\n"
        "def affine_forward(x, w, b):\n"
        "    _t.sleep(0.05)\n"
        "    return _af(x, w, b)\n")},
}


def make_submissions(root, n):
    subs = []
    names = list(BUGS)
    for i in range(n):
        kind = names[i % len(names)]
        d = root / f"s{i:02d}_{kind}"
        shutil.copytree(REPO / "cs239", d / "cs239",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        if BUGS[kind] is None:
            for p in (d / "cs239").rglob("*.py"):
                p.write_text(REGION.sub(lambda m: f"{m.group(1)}raise NotImplementedError\n",
                                        p.read_text()))
        else:
            for rel, code in BUGS[kind].items():
                with open(d / "cs239" / rel, "a") as f:
                    f.write("\n\n" + code)
        with open(d / "cs239" / "__init__.py", "a") as f:
            f.write(f"\n# submission {i}\n")
        subs.append(d)
    return subs


def grade(subs, out, jobs, notebooks=False):
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "autograder", "grade", *map(str, subs),
                        "--out", str(out), "--jobs", str(jobs), "--quiet",
                        "--notebooks" if notebooks else "--no-notebooks"],
                       cwd=REPO, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"grader failed ({p.returncode}):\n{p.stderr[-2000:]}")
    return dt


def nbgrader_autograde(root, n_students):
    """Seconds of one `nbgrader autograde` run over the master notebooks as submitted by
    N_STUDENTS identical students with the reference package (no isolation)."""
    notebooks = sorted((REPO / "source" / NAME).glob("*.ipynb"))
    course = root / f"course{n_students}"
    (course / "source" / NAME).mkdir(parents=True)
    for nb in notebooks:
        shutil.copy(nb, course / "source" / NAME)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.root = %r\nc.CourseDirectory.course_id = 'bench'\n"
        "c.CourseDirectory.db_url = 'sqlite:///%s/gradebook.db'\nc.Execute.timeout = 1800\n"
        % (str(course), str(course)))
    nbgrader = [sys.executable, "-m", "nbgrader"]
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    subprocess.run(nbgrader + ["generate_assignment", NAME, "--force"], cwd=course, env=env,
                   check=True, capture_output=True)
    for s in range(n_students):
        dest = course / "submitted" / f"student{s}" / NAME
        shutil.copytree(course / "source" / NAME, dest)
        shutil.copytree(REPO / "cs239", dest / "cs239",
                        ignore=shutil.ignore_patterns("__pycache__"))
        subprocess.run(nbgrader + ["db", "student", "add", f"student{s}"], cwd=course,
                       env=env, check=True, capture_output=True)
    t0 = time.perf_counter()
    p = subprocess.run(nbgrader + ["autograde", NAME], cwd=course, env=env,
                       capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"nbgrader autograde failed:\n{p.stderr[-2000:]}")
    return dt, len(notebooks)


def reference_with_notebooks(root, n):
    """N submissions of the reference package plus the master notebooks (all cells run)."""
    subs = []
    for i in range(n):
        d = root / f"nbref{i}"
        shutil.copytree(REPO / "cs239", d / "cs239",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for nb in sorted((REPO / "source" / NAME).glob("*.ipynb")):
            shutil.copy(nb, d)
        subs.append(d)
    return subs


def per_extra_submission(case, time_of, small=1, large=3):
    """A result row: seconds per extra submission and one-off seconds, from TIME_OF(k), the
    seconds of one run over k submissions, for k = SMALL and LARGE."""
    t_small, t_large = time_of(small), time_of(large)
    per = (t_large - t_small) / (large - small)
    once = t_small - small * per
    print(f"{case}: {per:.2f} s per extra submission, {once:.1f} s once per run")
    return {"case": f"{case}, per extra submission", "submissions": large, "jobs": 1,
            "s_per_submission": round(per, 2), "grading_s_inside": None, "speedup": None,
            "one_off_s": round(once, 1)}


def main():
    n = int(os.environ.get("CS239_BENCH_GRADER_N", "40"))
    rows = []
    root = Path(tempfile.mkdtemp(prefix="bench-grader-"))
    try:
        subs = make_submissions(root, n)
        one = subs[:3]
        dt = grade(one, root / "out_single", 1)
        per = [json.loads((root / "out_single" / s.name / "results.json").read_text())
               ["execution_time"] for s in one]
        rows.append({"case": "package suites, one submission at a time", "submissions": 3,
                     "jobs": 1, "s_per_submission": round(dt / 3, 2),
                     "grading_s_inside": round(sum(per) / 3, 2), "speedup": None})
        print(f"package suites alone: {dt / 3:.2f} s per submission "
              f"({sum(per) / 3:.2f} s of it grading)")
        base = None
        for jobs in (1, 2):
            dt = grade(subs, root / f"out_j{jobs}", jobs)
            base = base or dt
            rows.append({"case": f"batch of {n}", "submissions": n, "jobs": jobs,
                         "s_per_submission": round(dt / n, 2), "grading_s_inside": None,
                         "speedup": round(base / dt, 2)})
            print(f"batch of {n}, --jobs {jobs}: {dt:.1f} s, {dt / n:.2f} s per submission, "
                  f"speed-up {base / dt:.2f}x")
        # Notebooks: the same submissions (reference package, master notebooks) both ways;
        # per-submission cost from runs over 1 and 3, so one-off set-up is not counted in it.
        notebooks = sorted((REPO / "source" / NAME).glob("*.ipynb"))
        if notebooks:
            nbsubs = reference_with_notebooks(root, 3)
            rows.append(per_extra_submission(
                f"package suites + {len(notebooks)} notebooks, sandboxed",
                lambda k: grade(nbsubs[:k], root / f"out_nb{k}", 1, notebooks=True)))
        try:
            rows.append(per_extra_submission(
                f"nbgrader autograde ({len(notebooks)} notebooks, no isolation)",
                lambda k: nbgrader_autograde(root, k)[0]))
            if notebooks:   # the figure of merit: sandboxed grading against bare nbgrader
                ratio = rows[-2]["s_per_submission"] / rows[-1]["s_per_submission"]
                rows[-2]["ratio_vs_bare_nbgrader"] = round(ratio, 2)
                print(f"sandboxed / bare nbgrader, per extra submission: {ratio:.2f}")
        except (FileNotFoundError, RuntimeError, subprocess.CalledProcessError) as e:
            msg = str(e).strip().splitlines()[-1][:120] if str(e).strip() else type(e).__name__
            rows.append({"case": f"nbgrader autograde: not run ({msg})", "submissions": 0,
                         "jobs": None, "s_per_submission": None, "grading_s_inside": None,
                         "speedup": None})
            print(f"nbgrader autograde: not run ({msg})")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return rows


if __name__ == "__main__":
    for r in main():
        print(r)
