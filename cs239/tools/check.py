"""Self-check of the homework: the public checks of every graded function, and the notebooks.

    python -m cs239.tools.check                     # from the homework folder (with the notebooks)
    python -m cs239.tools.check adam relu_forward   # only these functions
    python -m cs239.tools.check --no-validate       # skip `nbgrader validate` (re-runs each)

The checks (cs239/tools/public_checks.py) are the notebooks' own kind: small deterministic inputs,
agreement with centered finite differences, and the CS231n-style expected values the notebooks
print. Each function is checked in its own process with a time limit (cs239/tools/runner.py), so
one failure, crash or endless loop never hides the others. The table says, per function: not
started / fails: <which check and how> / passes public checks. Passing the public checks is a good
sign, not a grade: the graders run further tests.

The exit code is 0 whatever the results (this is a report); it is non-zero only when the
self-check itself cannot run.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from cs239.tools import manifest, validate
from cs239.tools.notebook_status import read_status, run_seconds, was_run
from cs239.tools.runner import PACKAGE_DIR, describe, run_in_process

__all__ = ["describe", "main", "notebook_report", "run_seconds", "saved_model_report",
           "validate_estimate", "validate_notebook"]


def notebook_report(path):
    """Static checks of a saved notebook: list of (ok, text)."""
    s = read_status(path)
    if s.error:
        return [(False, "cannot be read: %s" % s.error)]
    findings = []
    if not was_run(s):
        findings.append((False, "not run (no cell has been executed; run all cells and save)"))
    elif s.not_run:
        findings.append((False, "partly run: %d of %d code cells (cell %d onwards not run?)"
                         % (len(s.code_cells) - len(s.not_run), len(s.code_cells), s.not_run[0])))
    elif not s.in_order:
        findings.append((False, "cells were run out of order: restart the kernel and run all"))
    else:
        findings.append((True, "run top to bottom (%d code cells)" % len(s.code_cells)))
    if s.errors:
        cell, ename, evalue = s.errors[0]
        findings.append((False, "%d cell(s) raised an error, first cell %d: %s: %s"
                         % (len(s.errors), cell, ename, evalue[:120])))
    if s.unanswered:
        findings.append((False, "%d answer cell(s) not filled in yet (cells %s)"
                         % (len(s.unanswered), ", ".join(map(str, s.unanswered[:8])))))
    if s.tests and was_run(s):
        if s.failed_tests:
            findings.append((False, "%d of %d test cells failed when last run (cells %s)"
                             % (len(s.failed_tests), len(s.tests),
                                ", ".join(map(str, s.failed_tests[:8])))))
        else:
            findings.append((True, "test cells passed when last run (%d)" % len(s.tests)))
    for model, notebook in manifest.MODELS.items():
        if notebook == path.name:
            findings.append(saved_model_report(path.parent / model))
    return findings


def saved_model_report(path):
    if not path.is_file():
        return (False, "%s missing (run the cell that saves the best model)" % path.name)
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = sorted(data.files)
            weights = [k for k in keys if k.startswith("W")]
            ok = weights and all(np.all(np.isfinite(data[k])) for k in weights)
    except Exception as e:                                 # a damaged or foreign file
        return (False, "%s cannot be loaded: %s" % (path.name, e))
    if not ok:
        return (False, "%s has no finite weights (keys: %s)" % (path.name, ", ".join(keys)))
    return (True, "%s saved (%s)" % (path.name, ", ".join(keys)))


def validate_notebook(path, timeout):
    """Run nbgrader's validator on a copy of the notebook's folder (so nothing is overwritten)."""
    try:
        import nbgrader  # noqa: F401
    except ImportError:
        return (None, "nbgrader validate skipped: nbgrader is not installed (pip install nbgrader)")
    env = dict(os.environ, MPLBACKEND="Agg",
               PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    data = path.parent / "datasets" / "cifar-10-batches-py"
    if "CS239_CIFAR10_DIR" not in env and data.is_dir():
        env["CS239_CIFAR10_DIR"] = str(data.resolve())
    with tempfile.TemporaryDirectory(prefix="cs239-validate-") as tmp:
        work = Path(tmp)
        shutil.copytree(PACKAGE_DIR, work / "cs239",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        shutil.copy(path, work / path.name)
        start = time.time()
        try:
            proc = subprocess.run([sys.executable, "-m", "cs239.tools.validate",
                                   str(work / path.name), str(int(timeout))],
                                  capture_output=True, text=True, timeout=timeout, cwd=tmp,
                                  env=env)
        except subprocess.TimeoutExpired:
            return (None, "nbgrader validate stopped after %d s (the notebook takes longer; "
                          "`--validate-timeout` gives it more time)" % timeout)
    found = [json.loads(line[len(validate.RESULT_TAG):]) for line in proc.stdout.splitlines()
             if line.startswith(validate.RESULT_TAG)]
    if not found:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return (False, "nbgrader validate could not run: %s" % last[:200])
    s, text = found[0]["counts"], found[0]["first_error"].strip()
    took = time.time() - start
    if s.get("type_changed"):
        return (False, "nbgrader validate: %d cell(s) changed type (e.g. code to markdown); "
                       "change them back" % s["type_changed"])
    if s.get("changed"):
        return (False, "nbgrader validate: %d read-only cell(s) were edited; restore them from "
                       "the original notebook" % s["changed"])
    if s.get("failed"):
        err = text.splitlines()[-1].rstrip(":") if text else ""
        return (False, "nbgrader validate: %d test cell(s) fail when run from a fresh kernel%s"
                % (s["failed"], (", first: " + err[:160]) if err else ""))
    return (True, "nbgrader validate: passes (fresh kernel, %.0f s)" % took)


def validate_estimate(folder, notebooks, jobs):
    """'about N minutes' for validating notebooks, from their own recorded run times (or the
    manifest's typical ones), jobs at a time."""
    times = sorted((run_seconds(folder / n) or manifest.RUN_SECONDS.get(n, 60)) * 1.1 + 10
                   for n in notebooks)
    lanes = [0.0] * jobs
    for t in reversed(times):          # longest first, each on the least busy lane
        lanes[lanes.index(min(lanes))] += t
    total = max(lanes)
    return ("about %d s" % total) if total < 90 else ("about %d minutes" % round(total / 60))


# ------------------------------------------------------------------------------------------------

def _table(rows, headers):
    width = max(len(headers[0]), *(len(r[0]) for r in rows)) if rows else len(headers[0])
    out = ["%-*s  %s" % (width, headers[0], headers[1]), "%s  %s" % ("-" * width, "-" * 40)]
    for name, status in rows:
        wrapped = textwrap.wrap(status, width=max(40, 100 - width)) or [""]
        out.append("%-*s  %s" % (width, name, wrapped[0]))
        out.extend("%s  %s" % (" " * width, more) for more in wrapped[1:])
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m cs239.tools.check",
                                 description="Public self-check of %s (a report: exit code 0 "
                                             "whatever the results)." % manifest.TITLE)
    ap.add_argument("functions", nargs="*", metavar="FUNCTION",
                    help="only these graded functions (default: all)")
    ap.add_argument("--timeout", type=float, default=60,
                    help="seconds allowed for each function's checks (default 60)")
    ap.add_argument("--no-notebooks", action="store_true", help="skip the notebook checks")
    ap.add_argument("--no-functions", action="store_true",
                    help="skip the function checks (only look at the notebooks)")
    ap.add_argument("--no-validate", action="store_true",
                    help="skip `nbgrader validate` (which re-runs every notebook)")
    ap.add_argument("--validate-timeout", type=float, default=900,
                    help="seconds allowed for `nbgrader validate` of one notebook (default 900)")
    ap.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1))
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = ap.parse_args(argv)

    graded = [f.name for f in manifest.FUNCTIONS]
    unknown = [f for f in args.functions if f not in graded]
    if unknown:
        print("cs239.tools.check: unknown function(s): %s\nknown: %s"
              % (", ".join(unknown), ", ".join(graded)), file=sys.stderr)
        return 2
    names = [] if args.no_functions else (args.functions or graded)
    folder = Path.cwd()
    print("Checking %s (public checks only; the graders run further tests)\n" % PACKAGE_DIR)
    if PACKAGE_DIR.parent != folder.resolve():
        print("note: this is not the cs239 folder inside %s; run the command from your homework "
              "folder\n" % folder)
    results = {}
    if names:
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            results = dict(zip(names, pool.map(lambda n: run_in_process(n, args.timeout),
                                               names)))
        rows = [(n, describe(results[n])) for n in names]
        print(_table(rows, ("function", "status")))
        counts = {s: sum(1 for r in results.values() if r["status"] == s)
                  for s in ("passes public checks", "fails", "not started")}
        print("\n%d of %d pass the public checks, %d fail, %d not started."
              % (counts["passes public checks"], len(names), counts["fails"],
                 counts["not started"]))

    report = {"functions": results, "notebooks": {}}
    if not args.no_notebooks and not args.functions:
        findings, to_validate = {}, []
        for name in manifest.NOTEBOOKS:
            path = folder / name
            if not path.is_file():
                findings[name] = [(False, "missing from %s" % folder)]
                continue
            findings[name] = notebook_report(path)
            if args.no_validate:
                continue
            if findings[name][0][0]:
                to_validate.append(name)
            else:
                findings[name].append((None, "nbgrader validate skipped: run the notebook first"))
        if to_validate:
            jobs = max(1, min(args.jobs, 2))
            print("\nRunning nbgrader validate on %s: each notebook re-runs in a fresh kernel, "
                  "%s (--no-validate skips this) ..."
                  % (", ".join(to_validate), validate_estimate(folder, to_validate, jobs)),
                  flush=True)
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                done = pool.map(lambda n: validate_notebook(folder / n, args.validate_timeout),
                                to_validate)
                for name, result in zip(to_validate, done):
                    findings[name].append(result)
        print()
        for name in manifest.NOTEBOOKS:
            report["notebooks"][name] = [{"ok": ok, "text": t} for ok, t in findings[name]]
            print(name)
            for ok, t in [(f["ok"], f["text"]) for f in report["notebooks"][name]]:
                print("  %-4s %s" % ({True: "ok", False: "TODO", None: "--"}[ok], t))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    print("\nWhen everything is done: python -m cs239.tools.submit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
