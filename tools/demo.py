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
                 in the sandboxed autograder; print the gradebook and one feedback file

Usage: python -m tools.demo [--out build/demo] [--only STEP ...]
"""
import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ["Backprop", "TwoLayerNet", "FullyConnectedNets"]
STEPS = ["data", "notebooks", "release", "student", "grading"]


def banner(text):
    print("\n== %s %s" % (text, "=" * max(0, 74 - len(text))), flush=True)


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
    from tools.notebooks import extract_checks, extract_metrics, quick_parameters, run_notebook

    work, html = out / "notebooks", out / "html"
    work.mkdir(parents=True, exist_ok=True)
    html.mkdir(parents=True, exist_ok=True)
    for name in NOTEBOOKS:
        path = ROOT / "source" / "hw3" / ("%s.ipynb" % name)
        start = time.perf_counter()
        nb = run_notebook(path, quick_parameters(path), cwd=work,
                          env={"CS239_CIFAR10_DIR": data_dir}, html_out=html / ("%s.html" % name))
        checks = extract_checks(nb)
        failed = [c for c in checks if not c["ok"]]
        print("%-22s %5.1f s  %d checks, %d failed  -> %s"
              % (name + ".ipynb", time.perf_counter() - start, len(checks), len(failed),
                 (html / ("%s.html" % name)).relative_to(ROOT)))
        for key, value in extract_metrics(nb).items():
            print("%24s %s: %s" % ("", key, value))
        if failed:
            sys.exit("demo: %s printed failing checks: %s" % (name, failed))
    return work


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
    banner("done in %.0f s; everything is under %s" % (time.perf_counter() - start, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
