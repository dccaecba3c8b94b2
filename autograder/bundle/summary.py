"""What run_autograder prints for the course staff (Gradescope shows them its stdout; students
never see it: results.json sets stdout_visibility to hidden): one line with the score, the
failed tests with the first line of their message, the tests that were not scored and why
(grouped by reason), the submission-level messages, then the grader log."""
import platform
from collections import defaultdict

NOT_SCORED = "not scored: "
MAX_LISTED = 40
MAX_LOG_CHARS = 200_000


def _first_line(text, width=160):
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= width else line[:width - 3] + "..."


def summary(res, log_path=None):
    """The summary text of a results.json dict RES (None: the grader wrote none)."""
    out = [f"cs239 autograder on Python {platform.python_version()}"
           + _versions()]
    if res is None:
        out.append("NO RESULTS: the grader did not write results.json (see the log below); the "
                   "student was told to contact the course staff.")
        return "\n".join(out)
    tests = res.get("tests", [])
    meta = res.get("extra_data", {}).get("cs239", {})
    max_score = sum(t.get("max_score", 0) for t in tests)
    passed = sum(t["score"] >= t["max_score"] for t in tests)
    out.append(f"score {res.get('score', 0):g} / {max_score:g}: {passed} of {len(tests)} tests "
               f"passed in {res.get('execution_time', 0):g} s (status: "
               f"{meta.get('status', 'unknown')})")
    not_scored = defaultdict(list)
    failed = []
    for t in tests:
        if t["score"] >= t["max_score"]:
            continue
        if (t.get("output") or "").startswith(NOT_SCORED):
            not_scored[_first_line(t["output"][len(NOT_SCORED):], 300)].append(t["name"])
        else:
            failed.append(t)
    if failed:
        out.append(f"failed ({len(failed)}):")
        out += [f"  - {t['name']} [{t['score']:g}/{t['max_score']:g}]: "
                f"{_first_line(t.get('output')) or '(no message)'}" for t in failed[:MAX_LISTED]]
        if len(failed) > MAX_LISTED:
            out.append(f"  ... and {len(failed) - MAX_LISTED} more (results.json has them all)")
    for reason, names in not_scored.items():
        out.append(f"not scored, 0 points ({len(names)} test{'s' * (len(names) > 1)}): {reason}")
        out += [f"  - {n}" for n in names[:MAX_LISTED]]
    messages = [m for m in (res.get("output") or "").splitlines()
                if m.strip() and not m.startswith("Score:")]
    if messages:
        out.append("messages shown to the student:")
        out += [f"  {m}" for m in messages]
    if log_path:
        out.append(f"grader log: {log_path}")
    return "\n".join(out)


def log_tail(text):
    """The grader log, cut to its last MAX_LOG_CHARS characters."""
    if len(text) <= MAX_LOG_CHARS:
        return text
    return f"[... first {len(text) - MAX_LOG_CHARS} characters cut ...]\n" + text[-MAX_LOG_CHARS:]


def _versions():
    try:
        import numpy
        return f", numpy {numpy.__version__}"
    except ImportError:
        return ""
