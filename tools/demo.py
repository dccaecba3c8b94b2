"""`make demo`: the instructor's whole pipeline, end to end, on the embedded synthetic data set.

Steps (everything lands under build/demo/, nothing in the repository changes):
  1. data        generate the small synthetic CIFAR-10 in the real archive format and unpack it
                 with the real extraction code
  2. notebooks   execute the three master notebooks with the reference solution (small sizes)
                 and write them out as HTML
  3. release     generate the student release (nbgrader + stubbed package + leak check)
  4. student     fill the release with the reference solution, self-check it, build the
                 submission zip (with PDF when a browser is installed)
  5. grading     grade a handful of submissions (reference, untouched release, realistic bugs)
                 in the sandboxed autograder; print the gradebook and one feedback file, and
                 end with the path of the instructor's report (report.html)

Usage: python -m tools.demo [--out build/demo] [--only STEP ...]
"""
import argparse
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from autograder import notebook_parameters
from cs239.tools import manifest
from tools.notebook_runner import quick_parameters_for_all

ROOT = Path(__file__).resolve().parents[1]
NAME = manifest.NAME
# The quickest first, so that a broken notebook shows early.
NOTEBOOKS = sorted(manifest.NOTEBOOKS, key=lambda n: n != "Backprop.ipynb")
STEPS = ["data", "notebooks", "release", "student", "grading"]


def banner(text):
    print("\n== %s %s" % (text, "=" * max(0, 74 - len(text))), flush=True)


def shown(path):
    """PATH relative to the repository when it is inside it (the default --out), else as is."""
    path = Path(path)
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def run(cmd, cwd=ROOT, **kw):
    """Run a command, echoing it; stop the demo with its message if it fails."""
    print("$ %s" % " ".join(str(c) for c in cmd), flush=True)
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, **kw)
    if done.returncode != 0:
        sys.exit("demo: step failed: %s (exit %d)" % (" ".join(map(str, cmd)), done.returncode))
    return done


def step_data(out):
    banner("1. data: synthetic CIFAR-10 in the real archive format")
    run([sys.executable, ROOT / "datasets" / "get_cifar10.py", "--synthetic",
         "--dest", out / "data"])
    return out / "data" / "cifar-10-batches-py"


def step_notebooks(out, data_dir):
    banner("2. notebooks: run the master notebooks with the reference solution")
    from tools.notebook_runner import (extract_checks, extract_metrics, quick_parameters,
                                       run_notebook)

    work, html = out / "notebooks", out / "html"
    work.mkdir(parents=True, exist_ok=True)
    html.mkdir(parents=True, exist_ok=True)
    for name in NOTEBOOKS:
        path = ROOT / "source" / NAME / name
        start = time.perf_counter()
        nb = run_notebook(path, quick_parameters(path), cwd=work,
                          env={"CS239_CIFAR10_DIR": data_dir},
                          html_out=html / name.replace(".ipynb", ".html"))
        checks = extract_checks(nb)
        failed = [c for c in checks if not c["ok"]]
        print("%-22s %5.1f s  %d checks, %d failed  -> %s"
              % (name, time.perf_counter() - start, len(checks), len(failed),
                 shown(html / name.replace(".ipynb", ".html"))))
        for key, value in extract_metrics(nb).items():
            print("%24s %s: %s" % ("", key, value))
        if failed:
            sys.exit("demo: %s printed failing checks: %s" % (name, failed))
    return work


# Realistic mistakes from the course forums, each planted in a copy of the reference submission:
# (name, file, reference text, buggy text).
BUGS = [
    ("bug-softmax-no-mean", "cs239/layers.py",
     "    loss = -log_probs[rows, y].sum() / N\n", "    loss = -log_probs[rows, y].sum()\n"),
    ("bug-relu-mask-from-dout", "cs239/layers.py",
     "    dx = np.where(x > 0, dout, 0)\n", "    dx = np.where(dout > 0, dout, 0)\n"),
    ("bug-adam-no-bias-correction", "cs239/optim.py",
     "    mt = m / (1 - beta1**t)\n    vt = v / (1 - beta2**t)\n", "    mt = m\n    vt = v\n"),
]


def step_release(out):
    banner("3. release: nbgrader + stubbed package + leak check")
    from tools.release import release

    dest = out / "release" / NAME
    release(ROOT, NAME, dest, quiet=True)
    print("student release in %s:" % shown(dest))
    for path in sorted(p for p in dest.rglob("*") if p.is_file()):
        print("   %s" % path.relative_to(dest))
    return dest


def step_student(out, release_dir, data_dir):
    banner("4. student: fill in the release, run the notebooks, self-check, submit")
    import nbformat

    from tools.notebook_runner import quick_parameters, run_notebook
    from tools.release import fill_in

    student = out / "student" / NAME
    if student.exists():
        shutil.rmtree(student)
    fill_in(release_dir, student)
    for name in NOTEBOOKS:
        path = student / name
        nb = run_notebook(path, quick_parameters(path), cwd=student,
                          env={"CS239_CIFAR10_DIR": data_dir})
        nbformat.write(nb, str(path))
        print("ran %s" % path.name)
    env = dict(os.environ, CS239_CIFAR10_DIR=str(data_dir))
    run([sys.executable, "-m", "cs239.tools.check", "--no-validate"], cwd=student, env=env)
    run([sys.executable, "-m", "cs239.tools.submit"], cwd=student, env=env)
    return student / manifest.SUBMISSION_ZIP


def step_grading(out, release_dir, submission_zip, data_dir):
    banner("5. grading: a batch of submissions in the sandboxed autograder")
    subs = out / "submissions"
    if subs.exists():
        shutil.rmtree(subs)
    subs.mkdir(parents=True)
    batch = [shutil.copy(submission_zip, subs / "reference.zip")]
    shutil.copytree(release_dir, subs / "untouched-release")
    batch.append(subs / "untouched-release")
    with zipfile.ZipFile(submission_zip) as zf:
        zf.extractall(subs / "_reference")
    for name, rel, good, bad in BUGS:
        shutil.copytree(subs / "_reference", subs / name)
        target = subs / name / rel
        text = target.read_text()
        if good not in text:
            sys.exit("demo: cannot plant %s: reference text not found in %s" % (name, rel))
        target.write_text(text.replace(good, bad))
        batch.append(subs / name)
    shutil.rmtree(subs / "_reference")

    grades = out / "grades"
    env = dict(os.environ, CS239_CIFAR10_DIR=str(data_dir),
               **notebook_parameters.environment(quick_parameters_for_all()))
    # Exit status 0 means every submission got a results.json, whatever its score.
    run([sys.executable, "-m", "autograder", "grade", *batch, "--out", grades, "--jobs", "2",
         "--force"], env=env)
    print("\ngradebook (%s):" % shown(grades / "grades.csv"))
    print((grades / "grades.csv").read_text())
    feedback = grades / BUGS[0][0] / "feedback.md"
    print("feedback for %s (%s), first 40 lines:" % (BUGS[0][0], shown(feedback)))
    print("\n".join(feedback.read_text().splitlines()[:40]))
    print("\ninstructor's report: %s" % shown(grades / "report.html"))  # issue 14


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tools.demo", description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(ROOT / "build" / "demo"))
    ap.add_argument("--only", nargs="+", choices=STEPS, help="run only these steps")
    args = ap.parse_args(argv)
    out = Path(args.out).resolve()
    steps = args.only or STEPS
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()

    data_dir = step_data(out)
    if "notebooks" in steps:
        step_notebooks(out, data_dir)
    release_dir = out / "release" / NAME
    if "release" in steps or not release_dir.is_dir():
        release_dir = step_release(out)
    submission = out / "student" / NAME / manifest.SUBMISSION_ZIP
    if "student" in steps or not submission.is_file():
        submission = step_student(out, release_dir, data_dir)
    if "grading" in steps:
        step_grading(out, release_dir, submission, data_dir)
    banner("done in %.0f s; everything is under %s" % (time.perf_counter() - start, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
