"""The whole nbgrader round trip with the real tools, in a temporary course directory.

release (real `nbgrader generate_assignment`, through tools.release and plain) -> two students in
submitted/<student>/<NAME>/: "reference" (the released notebooks with their solution cells filled in
from the master, and the reference cs239) and "stubs" (the release untouched) -> real
`nbgrader autograde <NAME>` (quiet: no checksum, transport or SQLAlchemy warnings) -> real
`nbgrader generate_feedback <NAME>` (leak-checked: no hidden test reaches a student) -> real
`nbgrader export` -> scores of the autograded cells: full marks for the reference, zero for the
stubs.

Runs on a small fixture course and on the real master notebooks (source/<NAME>),
at tools/notebook_runner.py's quick sizes and on the generated synthetic data set.
"""
import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import notebook_parameters
from cs239.tools import manifest
from tests.course_fixture import NAME, make_course, nbgrader
from tools.leakcheck import check_feedback
from tools.notebook_runner import quick_parameters_for_all
from tools.release import fill_in

ROOT = Path(__file__).resolve().parents[1]


def make_students(course, notebooks):
    """submitted/reference/<NAME> and submitted/stubs/<NAME> from the course's release."""
    release_dir = course / "assignments" / NAME
    for student in ["reference", "stubs"]:
        dest = course / "submitted" / student / NAME
        if student == "reference":
            fill_in(release_dir, dest, root=course)
        else:
            shutil.copytree(release_dir, dest)
        (dest / "timestamp.txt").write_text("2026-11-20 12:00:00.000000 UTC")


def autograded_scores(course):
    """{student: {(notebook, grade_id): (auto_score, max_score)}} of the autograded code cells."""
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook("sqlite:///%s" % (course / "gradebook.db"), "cs239") as gb:
        for student in ["reference", "stubs"]:
            sub = gb.find_submission(NAME, student)
            scores = {}
            for nb in sub.notebooks:
                for grade in nb.grades:
                    if grade.cell.cell_type == "code":       # tests; markdown = by hand
                        scores[(nb.name, grade.name)] = (grade.auto_score, grade.max_score)
            out[student] = scores
    return out


def check_plain_generate_assignment(course):
    made = {p.relative_to(course).as_posix(): p.read_bytes()
            for p in (course / "assignments").rglob("*") if p.is_file()}
    # nbgrader's own command works unchanged in the course directory (nbgrader_config.py), and
    # its post-convert hook makes the same complete release (package, scripts, README)
    log = nbgrader(course, "generate_assignment", NAME, "--force")
    assert "leak check passed" in log
    again = {p.relative_to(course).as_posix(): p.read_bytes()
             for p in (course / "assignments").rglob("*") if p.is_file()}
    assert sorted(again) == sorted(made)
    assert {k for k in made if made[k] != again[k]} <= {k for k in made if k.endswith(".ipynb")}


def roundtrip(course, notebooks, data_dir=None, plain_nbgrader=True):
    env = {"CS239_CIFAR10_DIR": str(data_dir)} if data_dir else {}
    # the instructor's release command (real nbgrader inside), into the course's assignments/
    proc = subprocess.run([sys.executable, "-m", "tools.release", "--root", str(course)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (course / "gradebook.db").is_file()        # the gradebook knows the assignment
    if plain_nbgrader:
        check_plain_generate_assignment(course)
    make_students(course, notebooks)
    # at the quick sizes: plain nbgrader with the kernel hook the grader and the runner use
    env.update(notebook_parameters.environment(quick_parameters_for_all()))
    log = nbgrader(course, "autograde", NAME, *["--Execute.extra_arguments=%s" % a
                                                for a in notebook_parameters.kernel_arguments()],
                   env=env)
    # quiet: hidden tests go back into unchanged test cells without a checksum warning per
    # cell, kernels talk over Unix sockets, no SQLAlchemy warnings on a new student
    for noise in ["has changed!", "without encryption", "SAWarning"]:
        assert noise not in log, noise
    nbgrader(course, "generate_feedback", NAME)
    for student in ["reference", "stubs"]:     # nothing hidden reaches a student
        feedback = course / "feedback" / student / NAME
        assert sorted(p.stem for p in feedback.glob("*.html")) == \
            sorted(Path(n).stem for n in notebooks)
        assert check_feedback(feedback, course, own=course / "submitted" / student) == []
    nbgrader(course, "export")
    with open(course / "grades.csv") as f:
        grades = {row["student_id"]: row for row in csv.DictReader(f)}
    return autograded_scores(course), grades


def test_roundtrip_on_the_fixture_course(tmp_path):
    course = make_course(tmp_path / "course")
    scores, grades = roundtrip(course, ["Demo.ipynb"])
    assert scores["reference"] == {("Demo", "test_twice"): (1.0, 1.0),
                                   ("Demo", "test_relu"): (2.0, 2.0)}
    assert scores["stubs"] == {("Demo", "test_twice"): (0.0, 1.0),
                               ("Demo", "test_relu"): (0.0, 2.0)}
    # the exported grades: autograded points only (the written answer waits for a grader)
    assert float(grades["reference"]["raw_score"]) == 3.0
    assert float(grades["stubs"]["raw_score"]) == 0.0
    assert float(grades["reference"]["max_score"]) == 4.0
    # the hidden test was restored and run at autograde time
    graded = json.loads((course / "autograded/reference" / NAME / "Demo.ipynb").read_text())
    assert "fixture-hidden-test" in "".join(graded["cells"][3]["source"])


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    dest = tmp_path_factory.mktemp("synthetic")
    subprocess.run([sys.executable, str(ROOT / "datasets/get_cifar10.py"), "--synthetic",
                    "--dest", str(dest), "-q"], check=True, cwd=ROOT)
    return dest / "cifar-10-batches-py"


def test_roundtrip_on_the_real_notebooks(tmp_path, synthetic):
    notebooks = sorted(p.name for p in (ROOT / "source" / NAME).glob("*.ipynb"))
    assert sorted(manifest.NOTEBOOKS) == notebooks
    course = tmp_path / "course"
    for part in ["cs239", "source", "datasets", "tools"]:
        shutil.copytree(ROOT / part, course / part, ignore=shutil.ignore_patterns(
            "__pycache__", "*.npz", "cifar-10-batches-py", "synthetic", "*.tar.gz",
            ".ipynb_checkpoints"))
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "autograder", course / "autograder",
                    ignore=shutil.ignore_patterns("__pycache__"))
    scores, grades = roundtrip(course, notebooks, synthetic, plain_nbgrader=False)
    ref, stub = scores["reference"], scores["stubs"]
    assert ref and set(ref) == set(stub)
    assert {k: v for k, v in ref.items() if v[0] != v[1]} == {}, "reference lost points"
    assert {k: v for k, v in stub.items() if v[0] != 0} == {}, "stubs earned points"
    assert float(grades["stubs"]["raw_score"]) == 0.0
    assert float(grades["reference"]["raw_score"]) == sum(v[1] for v in ref.values())
    student_tools_on_the_graded_reference(course / "autograded" / "reference" / NAME)


def student_tools_on_the_graded_reference(folder):
    """autograded/reference/<NAME> holds the executed reference notebooks and the saved models:
    what a finished student has. The self-check passes it and submit packs it."""
    import zipfile

    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, "-m", "cs239.tools.check", "--no-validate", "--json",
                           "check.json"], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((folder / "check.json").read_text())
    assert {r["status"] for r in report["functions"].values()} == {"passes public checks"}
    for name, findings in report["notebooks"].items():
        assert all(f["ok"] for f in findings), (name, findings)
    proc = subprocess.run([sys.executable, "-m", "cs239.tools.submit", "--no-pdf"], cwd=folder,
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with zipfile.ZipFile(folder / manifest.SUBMISSION_ZIP) as z:
        names = set(z.namelist())
    assert set(manifest.NOTEBOOKS) | set(manifest.MODELS) <= names and "cs239/layers.py" in names
