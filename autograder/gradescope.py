"""Gradescope: build ``autograder.zip`` and run inside it.

Bundle layout (Gradescope unpacks it into /autograder/source and runs setup.sh once per image):
    setup.sh          installs Python + pinned requirements into /autograder/venv
    run_autograder    grades /autograder/submission into /autograder/results/results.json
    requirements.txt  pinned from the building .venv's versions
    autograder/       grader code and the hidden suites
    cs239/            the reference package (solutions: it never reaches students)
    source/hw3/       the master notebooks (nbgrader's source, hidden tests included)
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

REPO = Path(__file__).resolve().parent.parent
TOP_LEVEL = ["numpy", "pytest", "tqdm", "nbgrader", "nbconvert", "nbclient", "nbformat",
             "ipykernel", "jupyter_client", "matplotlib", "ipywidgets",
             "copydetect"]    # issue 14: the grade step tokenizes the student-written code

SETUP_SH = """#!/usr/bin/env bash
# Gradescope image setup (runs once, as root, with network).
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
if ! command -v python3 >/dev/null || ! python3 -m venv --help >/dev/null 2>&1; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y python3 python3-venv python3-pip
fi
python3 -m venv "$ROOT/venv"
"$ROOT/venv/bin/pip" install --no-cache-dir -r "$ROOT/source/requirements.txt"
# CIFAR-10 for scoring the saved best models and running the notebooks, outside the source
# tree and readable by the sandbox's worker users (skipped with a message if absent).
if [ -f "$ROOT/source/datasets/get_cifar10.py" ]; then
    "$ROOT/venv/bin/python" "$ROOT/source/datasets/get_cifar10.py" --dest "$ROOT/data" || \\
        echo "warning: CIFAR-10 download failed; best-model tests will not be scored"
    chmod -R a+rX "$ROOT/data" 2>/dev/null || true
fi
# Nothing in the source tree is readable by other users (the sandbox's worker users).
chmod -R o= "$ROOT/source"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope entry point: grade $ROOT/submission, write $ROOT/results/results.json.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PY="${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
if [ -z "${CS239_CIFAR10_DIR:-}" ] && [ -d "$ROOT/data/cifar-10-batches-py" ]; then
    export CS239_CIFAR10_DIR="$ROOT/data/cifar-10-batches-py"
fi
cd "$ROOT/source" || exit 1
exec "$PY" -m autograder gradescope-run --root "$ROOT"
"""


def _files(suites):
    yield REPO / "autograder", "autograder", lambda p: p.suffix == ".py"   # suites: below
    yield Path(suites), "autograder/suites", lambda p: "__pycache__" not in p.parts
    yield REPO / "cs239", "cs239", lambda p: p.suffix == ".py"
    yield REPO / "source" / "hw3", "source/hw3", lambda p: p.suffix == ".ipynb"


def requirements():
    """Every package the grader and the notebook kernels need, with its dependencies, pinned
    to the versions installed here."""
    from .sandbox.nbsession import RUNNER_PACKAGES, _closure
    dists = _closure(TOP_LEVEL + RUNNER_PACKAGES)
    return "".join(sorted(f"{d.metadata['Name']}=={d.version}\n" for d in dists.values()))


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
        add(z, "setup.sh", SETUP_SH, 0o755)
        add(z, "run_autograder", RUN_AUTOGRADER, 0o755)
        add(z, "requirements.txt", requirements())
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
          "autograder (Ubuntu base image)")
    return 0


def run(root):
    """Inside the bundle: grade ROOT/submission into ROOT/results/results.json."""
    import argparse
    from .batch import add_grade_arguments, grade_batch
    root = Path(root)
    results_dir = root / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="cs239-gs-"))
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
        else:
            data = {"score": 0, "output": "The autograder failed to run; please tell the "
                    "course staff.", "tests": []}
        tmp = results_dir / "results.json.tmp"
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, results_dir / "results.json")
        return 0 if res.exists() else (code or 1)
    finally:
        shutil.rmtree(work, ignore_errors=True)
