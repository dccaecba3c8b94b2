"""Put submission zips where nbgrader looks for them: submitted/<student>/<assignment>/.

    python -m tools.collect submissions/*.zip [--assignment NAME] [--root COURSE] [--force]

<student> is the zip's name without .zip (alice.zip -> submitted/alice/<name>/), the same name
`python -m autograder grade` gives the submission's grades folder, so the two gradebooks join
(`python -m autograder gradebook`). Zips are unpacked with the grader's checks (no links, no
paths out of the folder, size and file-count limits); a bad zip is reported and skipped, the
others are still collected. An existing submitted/<student>/<assignment> is left alone unless
--force is given. The zip's modification time becomes nbgrader's timestamp.txt.
"""
import argparse
import datetime
import shutil
import sys
import tempfile
from pathlib import Path

from cs239.tools import manifest

ROOT = Path(__file__).resolve().parents[1]


def collect(zips, root=ROOT, assignment=manifest.NAME, force=False):
    """{student: problem or None} for every zip."""
    from autograder.submission import BadSubmission, stem_of, unpack

    out = {}
    for z in map(Path, zips):
        student = stem_of(z)
        dest = Path(root) / "submitted" / student / assignment
        if dest.exists() and not force:
            out[student] = "already collected (--force replaces it)"
            continue
        with tempfile.TemporaryDirectory(prefix="cs239-collect-") as tmp:
            try:
                top = unpack(z, Path(tmp) / "sub")
            except BadSubmission as e:
                out[student] = e.message
                continue
            if dest.exists():
                shutil.rmtree(dest)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(top, dest)
        when = datetime.datetime.fromtimestamp(z.stat().st_mtime, datetime.timezone.utc)
        (dest / "timestamp.txt").write_text(when.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
        out[student] = None
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tools.collect",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("zips", nargs="+", metavar="ZIP")
    ap.add_argument("--assignment", default=manifest.NAME)
    ap.add_argument("--root", default=str(ROOT), help="the course directory (default: here)")
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args(argv)
    done = collect(args.zips, args.root, args.assignment, args.force)
    for student, problem in sorted(done.items()):
        print("%-24s %s" % (student, problem or "-> submitted/%s/%s" % (student, args.assignment)))
    bad = [s for s, p in done.items() if p and not p.startswith("already")]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
