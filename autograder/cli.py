"""``python -m autograder SUBCOMMAND ...``: argument parsing only; the work is elsewhere.

    grade           grade submissions (batch.py)
    gradescope      build the Gradescope autograder bundle (gradescope.py)
    gradescope-run  (inside the bundle) grade /autograder/submission (gradescope.py)
    report          the instructor's report of a graded batch (report.py)
    merge           join the --out folders of `grade --shard K/N` runs (shards.py)
    gradebook       join nbgrader's written-answer scores into grades.csv, lms.csv (gradebook.py)

To add a subcommand: a parser in ``main`` and one line in ``COMMANDS`` calling your module.
"""
import argparse
import os
import sys
from pathlib import Path

from . import shards
from .batch import DEFAULT_SUITES, REPO, add_grade_arguments, grade_batch
from .sandbox import SandboxError


def _gradescope(args):
    from . import gradescope
    return gradescope.build(Path(args.out), Path(args.suites))


def _gradescope_run(args):
    from . import gradescope
    return gradescope.run(Path(args.root))


def _gradebook(args):
    from . import gradebook
    from .batch import load_graded_names
    return gradebook.main(args, load_graded_names(DEFAULT_SUITES))


def _report(args):                          # issue 14
    from .report import main as report_main
    return report_main(args)


COMMANDS = {"grade": grade_batch, "gradescope": _gradescope, "gradescope-run": _gradescope_run,
            "report": _report, "merge": lambda args: shards.merge(args.shards, args.out),
            "gradebook": _gradebook}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m autograder",
                                 description="cs239 sandboxed autograder")
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("grade", help="grade submissions (.zip files or folders)")
    add_grade_arguments(g)
    shards.add_arguments(g, sub)                # grade --shard K/N, and merge
    gs = sub.add_parser("gradescope", help="build the Gradescope autograder bundle")
    gs.add_argument("--out", default="autograder.zip")
    gs.add_argument("--suites", default=str(DEFAULT_SUITES), metavar="DIR")
    gr = sub.add_parser("gradescope-run", help="(inside the bundle) grade /autograder/submission")
    gr.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    rp = sub.add_parser("report", help="write OUT/report.html and OUT/tests.csv")  # issue 14
    rp.add_argument("out", metavar="OUT", help="the --out folder of a graded batch")
    rp.add_argument("--no-similarity", dest="similarity", action="store_false")
    from . import gradebook
    gradebook.add_parser(sub, REPO)
    args = ap.parse_args(argv)
    try:
        return COMMANDS[args.cmd](args)
    except SandboxError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
