"""Runs the public checks (cs239/tools/public_checks.py), each in its own process with a time
limit, so that one failure, crash or endless loop never hides the others.

    python -m cs239.tools.runner NAME      # one check in this process; prints its result as JSON

A result is {"status": "passes public checks" | "fails" | "not started", "step", "detail"}.
"""
import json
import os
import subprocess
import sys
import traceback
from pathlib import Path

from cs239.tools import manifest

PACKAGE_DIR = Path(__file__).resolve().parents[1]      # the folder's own cs239/
RESULT_TAG = "@@cs239-check-result@@"


def _where(tb):
    """'cs239/layers.py:42' for the innermost frame in the student's files, else ''."""
    found = ""
    for frame in traceback.extract_tb(tb):
        path = Path(frame.filename).resolve()
        if path.parent in (PACKAGE_DIR, PACKAGE_DIR / "classifiers"):
            found = "%s:%d" % (path.relative_to(PACKAGE_DIR.parent).as_posix(), frame.lineno)
    return found


def _still_a_stub(graded):
    """Whether the graded function's source still holds its release stub."""
    import importlib
    import inspect
    try:
        obj = importlib.import_module(graded.file[:-3].replace("/", "."))
        for part in graded.name.split("."):
            obj = getattr(obj, part)
        return ("%s in %s is not implemented yet" % (graded.name, graded.file)) in \
            " ".join(inspect.getsource(obj).replace('"\n', "").split())
    except Exception:                            # cannot tell: report what the check saw
        return False


def run_one(name, blame=True):
    """Run the public check of graded function `name` in this process; return its result.
    When it fails and a function it uses (manifest.USES) fails its own check, the detail
    names that function first: it is the likely cause."""
    result = _run_check(name)
    if blame and result["status"] == "fails" and not result["detail"].startswith("needs "):
        for used in manifest.USES.get(name, ()):
            other = _run_check(used)
            if other["status"] != "passes public checks":
                result["detail"] = ("likely cause: %s %s (%s); fix it first. Here: %s"
                                    % (used, "is not implemented yet" if other["status"] ==
                                       "not started" else "fails its own check",
                                       describe(other) if other["status"] == "fails"
                                       else "its stub raises NotImplementedError",
                                       result["detail"]))
                break
    return result


def _run_check(name):
    from cs239.tools import expect, public_checks

    graded = manifest.function(name)
    steps = expect.STEPS
    del steps[:]
    try:
        getattr(public_checks, graded.check)()
    except expect.CheckFailed as e:
        return {"status": "fails", "detail": "%s" % e, "step": steps[-1] if steps else ""}
    except NotImplementedError as e:
        msg = str(e)
        own = msg.startswith(name + " in ") or (not msg and
                                                 _where(e.__traceback__).startswith(graded.file))
        if own and len(steps) <= 1:
            return {"status": "not started", "detail": msg, "step": ""}
        if own:
            return {"status": "fails", "step": steps[-1],
                    "detail": "part of it is not implemented yet (%s)" % _where(e.__traceback__)}
        other = msg.split(" in ", 1)[0] if " is not implemented yet" in msg else "a function"
        if _still_a_stub(graded):                # its own stub is untouched too
            return {"status": "not started", "detail": "also needs %s" % other, "step": ""}
        return {"status": "fails", "step": steps[-1] if steps else "",
                "detail": "needs %s, which is not implemented yet" % other}
    except Exception as e:                                  # the student's code raised
        where = _where(e.__traceback__)
        text = "%s: %s" % (type(e).__name__, str(e).strip().splitlines()[0][:160]
                           if str(e).strip() else "")
        return {"status": "fails", "step": steps[-1] if steps else "",
                "detail": text.rstrip(": ") + (" (at %s)" % where if where else "")}
    return {"status": "passes public checks", "detail": "", "step": ""}


def run_in_process(name, timeout):
    """Run one function's public check in a fresh process (same interpreter, same folder)."""
    cmd = [sys.executable, "-m", "cs239.tools.runner", name]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                              cwd=str(PACKAGE_DIR.parent))
    except subprocess.TimeoutExpired:
        return {"status": "fails", "step": "",
                "detail": "timed out after %g s (an endless loop, or very slow code?)" % timeout}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG):])
    last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"status": "fails", "step": "",
            "detail": "the check process died (exit code %s): %s" % (proc.returncode, last[:160])}


def describe(result):
    """One line for the report: the status, and for a failure which step failed and how."""
    if result["status"] == "fails":
        return "fails: " + (result["step"] + ": " if result.get("step") else "") + result["detail"]
    return result["status"]


def main(argv=None):
    import warnings
    warnings.simplefilter("ignore")
    (name,) = sys.argv[1:] if argv is None else argv
    result = run_one(name)
    sys.stdout.flush()
    print("\n" + RESULT_TAG + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
