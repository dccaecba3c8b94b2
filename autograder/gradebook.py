"""One gradebook: the kit's scores joined with the written answers graded in nbgrader.

    python -m autograder gradebook GRADES_DIR [--db sqlite:///gradebook.db] [--assignment NAME]

The point split, once: a student's total is
- the kit's score from GRADES_DIR/<student>/results.json (hidden package suites, best models and
  the notebook work the suites re-run; the notebooks' test cells carry no points), plus
- the written answers (manually graded cells of nbgrader: solution cells that are also grade
  cells, and task cells) with the score a TA gave in the formgrader.
nbgrader's own scores for the autograded test cells are never added: the kit has counted those
cells already (in its sandbox), so no point counts twice. Points are read from results.json and
from the gradebook, never hard-coded here.

Students are matched by name: the submission folder GRADES_DIR/<student>/ (from <student>.zip)
and nbgrader's student id (submitted/<student>/<name>). A written answer nobody has graded yet is
"ungraded" in grades.csv; the row's status says how many are left, and its LMS score stays empty
until none are.

Writes GRADES_DIR/grades.csv (the kit's columns, one column per written answer, then
`autograded`, `written`, `total`, `max_total`, `status`) and GRADES_DIR/lms.csv
(`Student`, `SIS Login ID`, `<assignment>`: Canvas's gradebook import; the login id is nbgrader's
lms_user_id when set, else the student id). The join is remembered in GRADES_DIR/gradebook.json,
so `python -m autograder grade` keeps grades.csv joined when it re-runs into the same folder.
"""
import csv
import io
import json
import sys
from pathlib import Path

from cs239.tools import manifest

from . import results as R

JOIN_FILE = "gradebook.json"
UNGRADED = "ungraded"


def written_grades(db_url, assignment):
    """{student: {"name": ..., "lms": ..., "answers": {column: (score or None, max)}}} and the
    ordered answer columns, from nbgrader's gradebook (the formgrader's scores)."""
    from nbgrader.api import Gradebook, MissingEntry

    out, columns = {}, []
    with Gradebook(db_url) as gb:
        try:
            a = gb.find_assignment(assignment)
        except MissingEntry:
            raise SystemExit(f"gradebook: {db_url} has no assignment {assignment!r}: run "
                             f"`make release` (or `nbgrader autograde {assignment}`) first")
        manual = {}
        for nb in a.notebooks:
            answers = {c.name for c in nb.solution_cells}    # graded solution cells: by hand
            manual[nb.name] = ([c.name for c in nb.grade_cells if c.name in answers]
                               + [c.name for c in nb.task_cells])
            columns += [f"{nb.name}: {n}" for n in manual[nb.name]]
        for sub in a.submissions:
            student = sub.student
            name = ", ".join(x for x in (student.last_name, student.first_name) if x)
            row = {"name": name or student.id, "lms": student.lms_user_id or student.id,
                   "answers": {}}
            for snb in sub.notebooks:
                for g in snb.grades:
                    if g.name not in manual.get(snb.name, ()):
                        continue
                    graded = g.manual_score is not None or (
                        g.auto_score is not None and not g.needs_manual_grade)
                    row["answers"][f"{snb.name}: {g.name}"] = (
                        float(g.score) if graded else None, float(g.max_score))
            out[student.id] = row
    return out, columns


def _kit_results(grades_dir):
    rows = {}
    for d in sorted(p for p in Path(grades_dir).iterdir() if p.is_dir()):
        r = R.load(d / "results.json")
        if r is not None:
            rows[d.name] = r
    return rows


def split(results):
    """(package suites, best models, notebook cells) maxima of one results.json."""
    parts = [0.0, 0.0, 0.0]
    for t in results.get("tests", []):
        name = R.graded_name(t["name"])
        i = 2 if ".ipynb" in name else 1 if name == "best_model" else 0
        parts[i] += t["max_score"]
    return parts


def join(grades_dir, db_url, assignment=manifest.NAME, graded_names=()):
    """(grades.csv text, lms.csv text, summary lines)."""
    kit = _kit_results(grades_dir)
    written, wcols = written_grades(db_url, assignment)
    kcols = R.columns(graded_names, list(kit.values()))
    written_max = {}
    for row in written.values():
        for col, (_, mx) in row["answers"].items():
            written_max[col] = mx
    buf, lms = io.StringIO(), io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["submission", *kcols, *wcols, "autograded", "written", "total", "max_total",
                "status"])
    lw = csv.writer(lms, lineterminator="\n")
    lw.writerow(["Student", "SIS Login ID", assignment])
    incomplete = []
    kit_max = max((r.get("extra_data", {}).get("cs239", {}).get("max_score", 0)
                   for r in kit.values()), default=0)
    for student in sorted(set(kit) | set(written)):
        r, wr = kit.get(student), written.get(student)
        per = dict.fromkeys(kcols, 0.0)
        for t in (r or {}).get("tests", []):
            per[R.graded_name(t["name"])] += t["score"]
        answers = (wr or {}).get("answers", {})
        cells, left = [], 0
        for col in wcols:
            score = answers.get(col, (None, 0))[0]
            left += score is None
            cells.append(UNGRADED if score is None else f"{score:g}")
        auto = float(r["score"]) if r else 0.0
        wsum = sum(s for s, _ in answers.values() if s is not None)
        status = []
        if r is None:
            status.append("no autograder results")
        if wr is None:
            status.append("not in the nbgrader gradebook (written answers ungraded)")
            left = len(wcols)
        elif left:
            status.append(f"{left} written answer(s) ungraded")
        total = auto + wsum
        w.writerow([student, *(f"{per[c]:g}" if r else "" for c in kcols), *cells, f"{auto:g}",
                    f"{wsum:g}", f"{total:g}", f"{kit_max + sum(written_max.values()):g}",
                    "; ".join(status) or "complete"])
        if status:
            incomplete.append(f"{student}: {'; '.join(status)}")
        lw.writerow([(wr or {}).get("name", student), (wr or {}).get("lms", student),
                     "" if status else f"{total:g}"])
    some = next(iter(kit.values()), {})
    code, models, cells = split(some)
    summary = [f"points: {kit_max:g} autograded (package suites {code:g}, best models "
               f"{models:g}, notebook test cells {cells:g}: results.json) + "
               f"{sum(written_max.values()):g} written ({len(wcols)} answers, graded in the "
               f"formgrader) = {kit_max + sum(written_max.values()):g}"]
    if incomplete:
        summary.append(f"{len(incomplete)} student(s) not complete yet (empty in lms.csv):")
        summary += [f"  {x}" for x in incomplete]
    return buf.getvalue(), lms.getvalue(), summary


def write(grades_dir, db_url, assignment=manifest.NAME, graded_names=(), quiet=False):
    grades_dir = Path(grades_dir)
    table, lms, summary = join(grades_dir, db_url, assignment, graded_names)
    R.atomic_write(grades_dir / "grades.csv", table)
    R.atomic_write(grades_dir / "lms.csv", lms)
    R.atomic_write(grades_dir / JOIN_FILE, json.dumps({"db": db_url, "assignment": assignment}))
    if not quiet:
        print("\n".join(summary))
        print(f"wrote {grades_dir / 'grades.csv'} and {grades_dir / 'lms.csv'}")
    return summary


def rejoin(grades_dir, graded_names=()):
    """After `grade` rewrote grades.csv: join again when this folder was joined before."""
    try:
        cfg = json.loads((Path(grades_dir) / JOIN_FILE).read_text())
    except (OSError, ValueError):
        return
    try:
        write(grades_dir, cfg["db"], cfg.get("assignment", manifest.NAME), graded_names, quiet=True)
    except (SystemExit, Exception) as e:      # the kit's grades.csv stays as it is
        print(f"note: grades.csv not joined with {cfg.get('db')}: {e}", file=sys.stderr)


def add_parser(sub, repo):
    p = sub.add_parser("gradebook", help="join the kit's grades with nbgrader's written-answer "
                       "scores into GRADES_DIR/grades.csv and an LMS export")
    p.add_argument("grades", metavar="GRADES_DIR", help="the --out folder of `grade`")
    p.add_argument("--db", default=f"sqlite:///{Path(repo) / 'gradebook.db'}",
                   help="nbgrader gradebook URL (default: the course's gradebook.db)")
    p.add_argument("--assignment", default=manifest.NAME)
    return p


def main(args, graded_names=()):
    if not Path(args.grades).is_dir():
        print(f"error: {args.grades} is not a folder of graded submissions", file=sys.stderr)
        return 2
    if args.db.startswith("sqlite:///") and not Path(args.db[len("sqlite:///"):]).is_file():
        print(f"error: no nbgrader gradebook at {args.db[len('sqlite:///'):]} (run `make "
              f"release` and `nbgrader autograde {manifest.NAME}` in the course first)",
              file=sys.stderr)
        return 2
    write(args.grades, args.db, args.assignment, graded_names)
    return 0
