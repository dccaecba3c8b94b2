"""Gradescope: build ``autograder.zip`` and run inside it.

Bundle layout (Gradescope unpacks it into /autograder/source and runs setup.sh once per image):
    setup.sh          picks the image's Python and installs its lock into /autograder/venv
    run_autograder    grades /autograder/submission into /autograder/results/results.json and
                      prints a summary and the grader log for the staff
    requirements/     py3.10.txt ... py3.13.txt: one lock per Python (autograder/bundle/lock.py)
(setup.sh and run_autograder are the files of the same names in autograder/bundle/.)
    autograder/       grader code and the hidden suites
    cs239/            the reference package (solutions: it never reaches students)
    source/<name>/    the master notebooks (nbgrader's source, hidden tests included)
    datasets/         the CIFAR-10 download script, when present (setup.sh puts the data in
                      /autograder/data, readable by the worker users)
Paths are overridable: AUTOGRADER_ROOT (default /autograder), AUTOGRADER_PYTHON.
"""
import json
import os
import shutil
import stat
import sys
import tempfile
import zipfile
from pathlib import Path

from cs239.tools import manifest

REPO = Path(__file__).resolve().parent.parent
BUNDLE = Path(__file__).resolve().parent / "bundle"     # templates and per-Python locks


def _files(suites):
    yield REPO / "autograder", "autograder", lambda p: p.suffix == ".py"
    yield Path(suites), "autograder/suites", lambda p: "__pycache__" not in p.parts
    yield REPO / "cs239", "cs239", lambda p: p.suffix == ".py"
    yield REPO / "source" / manifest.NAME, f"source/{manifest.NAME}", lambda p: p.suffix == ".ipynb"


def requirements():
    """{arcname: text} of the per-Python locks (autograder/bundle/lock.py makes them)."""
    return {f"requirements/{p.name}": p.read_text()
            for p in sorted((BUNDLE / "requirements").glob("py3.*.txt"))}


def build(out, suites):
    """Write the bundle to OUT; returns 0."""
    out = Path(out).resolve()
    suites = Path(suites).resolve()
    if not (suites / "__init__.py").exists():
        print(f"error: {suites} is not a suites package", file=sys.stderr)
        return 2

    def add(z, arcname, data, mode=0o644):
        info = zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = (stat.S_IFREG | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, data)

    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w") as z:
        for script in ("setup.sh", "run_autograder"):
            add(z, script, (BUNDLE / script).read_bytes(), 0o755)
        for arcname, text in requirements().items():
            add(z, arcname, text)
        for base, prefix, keep in _files(suites):
            for p in sorted(base.rglob("*")):
                rel = p.relative_to(base)
                if (p.is_file() and keep(p) and "__pycache__" not in rel.parts
                        and ".ipynb_checkpoints" not in rel.parts
                        and (prefix != "autograder" or rel.parts[0] != "suites")):
                    add(z, f"{prefix}/{rel.as_posix()}", p.read_bytes())
        script = REPO / "datasets" / "get_cifar10.py"
        if script.exists():
            add(z, "datasets/get_cifar10.py", script.read_bytes())
    os.replace(tmp, out)
    print(f"wrote {out} ({out.stat().st_size // 1024} KiB): upload it as the Gradescope "
          "autograder (base image Ubuntu 22.04 or 24.04)")
    return 0


def run(root):
    """Inside the bundle: grade ROOT/submission into ROOT/results/results.json; print a summary
    and the grader log for the staff (a copy of the log goes to ROOT/results/grader.log)."""
    import argparse
    import traceback

    from .batch import add_grade_arguments, grade_batch
    from .bundle.summary import log_tail, summary
    root = Path(root)
    results_dir = root / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="cs239-gs-"))
    data, log, code = None, "", 1
    try:
        sub = work / "submission"
        shutil.copytree(root / "submission", sub, symlinks=True)
        entries = [e for e in sub.iterdir() if not e.name.startswith(".")]
        if len(entries) == 1 and entries[0].suffix.lower() == ".zip":   # an uploaded zip
            sub = entries[0].rename(work / "submission.zip")
        args = add_grade_arguments(argparse.ArgumentParser(prog="gradescope-run")).parse_args(
            [str(sub), "--out", str(work / "out"), "--quiet",
             *os.environ.get("CS239_GRADE_ARGS", "").split()])
        code = grade_batch(args)
        res = work / "out" / "submission" / "results.json"
        if res.exists():
            data = json.loads(res.read_text())
        grader_log = work / "out" / "submission" / "grader.log"
        log = grader_log.read_text(errors="replace") if grader_log.exists() else ""
    except Exception:                 # the staff must see why, and the student get a result
        log += "\nrun_autograder: the grader raised:\n" + traceback.format_exc()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    failed = data is None
    if failed and not log.strip():
        log = (f"(the grader exited with status {code} before writing a log: its error message "
               "is the stderr line above)")
    if failed:
        data = {"score": 0, "output": "The autograder failed to run; please tell the "
                "course staff.", "stdout_visibility": "hidden", "tests": []}
    (results_dir / "grader.log").write_text(log)
    tmp = results_dir / "results.json.tmp"
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, results_dir / "results.json")
    print(summary(None if failed else data, results_dir / "grader.log"))
    print("----- grader log " + "-" * 60)
    print(log_tail(log) or "(empty)", flush=True)
    return (code or 1) if failed else 0
