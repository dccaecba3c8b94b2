"""results.json (Gradescope's format), the student feedback file and grades.csv; atomic writes."""
import csv
import io
import json
import os
import tempfile
from pathlib import Path

GRADER_VERSION = "cs239-autograder 1"


def atomic_write(path, text):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _umask():
    m = os.umask(0)
    os.umask(m)
    return m


def graded_name(test_name):
    return test_name.split(": ", 1)[0]


def build(tests, messages, seconds, meta):
    """A Gradescope results dict. TESTS: dicts with name/score/max_score/output/visibility."""
    score = round(sum(t["score"] for t in tests), 4)
    max_score = round(sum(t["max_score"] for t in tests), 4)
    lines = list(messages)
    if tests:
        lines.append(f"Score: {score:g} / {max_score:g} "
                     f"({sum(t['score'] >= t['max_score'] for t in tests)} of {len(tests)} "
                     "tests passed).")
    return {
        "score": score,
        "execution_time": round(seconds, 2),
        "output": "\n".join(lines),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [{k: t[k] for k in ("name", "score", "max_score", "output", "visibility",
                                     "status") if k in t} for t in tests],
        "extra_data": {"cs239": dict(meta, max_score=max_score, grader=GRADER_VERSION)},
    }


def bad_input(message, seconds, meta):
    r = build([], [f"Submission rejected: {message}", "Score: 0."], seconds,
              dict(meta, status="bad_input"))
    r["score"] = 0
    return r


def feedback_md(stem, results):
    """Readable feedback for the student (hidden tests are left out)."""
    meta = results.get("extra_data", {}).get("cs239", {})
    out = [f"# Feedback for {stem}", "",
           f"**Score: {results['score']:g} / {meta.get('max_score', 0):g}**", ""]
    if results.get("output"):
        out += [results["output"], ""]
    tests = [t for t in results["tests"] if t.get("visibility") != "hidden"]
    hidden = len(results["tests"]) - len(tests)
    groups = {}
    for t in tests:
        groups.setdefault(graded_name(t["name"]), []).append(t)
    for name, ts in groups.items():
        got = sum(t["score"] for t in ts)
        tot = sum(t["max_score"] for t in ts)
        out += [f"## {name}: {got:g} / {tot:g}", ""]
        for t in ts:
            mark = ("PASS" if t["score"] >= t["max_score"] and t.get("status") != "failed"
                    else "FAIL")
            title = t["name"].split(": ", 1)[-1]
            out.append(f"- {mark} {title} ({t['score']:g}/{t['max_score']:g})")
            if t.get("output"):   # a failure's message, or a passing test's note
                out += ["", "  ```", *["  " + ln for ln in t["output"].splitlines()],
                        "  ```", ""]
        out.append("")
    if hidden:
        out += [f"({hidden} hidden tests are not shown here.)", ""]
    return "\n".join(out)


def columns(graded_names, all_results):
    cols = list(graded_names)
    for r in all_results:
        for t in r["tests"]:
            n = graded_name(t["name"])
            if n not in cols:
                cols.append(n)
    return cols


def grades_csv(graded_names, rows):
    """ROWS: (stem, results dict) pairs. One column per graded name, then total."""
    cols = columns(graded_names, [r for _, r in rows])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["submission", *cols, "total"])
    for stem, r in rows:
        per = dict.fromkeys(cols, 0.0)
        for t in r["tests"]:
            per[graded_name(t["name"])] += t["score"]
        w.writerow([stem, *(f"{per[c]:g}" for c in cols), f"{r['score']:g}"])
    return buf.getvalue()


def load(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
