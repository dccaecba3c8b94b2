"""The TA's nbgrader flow on a fresh course copy (README, "For instructors and TAs").

A small fixture course (tests/test_release.py: one notebook with a solution, a hidden test, a
visible test and a written answer with a rubric) goes through the real commands: release, two
submissions ("complete": the master's answers; "blank": the release untouched), `nbgrader
autograde`, a manual grade through nbgrader's gradebook API, `nbgrader generate_feedback`
(leak-checked), `nbgrader export`, and the kit's joined gradebook.
"""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from test_nbgrader_roundtrip import nbgrader
from test_release import HIDDEN, make_course
from tools import leakcheck
from tools.nbgrader_hooks import HIDDEN_NOTE, RUBRIC_KEY, HideHiddenTests, strip_regions
from tools.release import fill_in

ROOT = Path(__file__).resolve().parents[1]
STUDENTS = {"complete": True, "blank": False}


def submit(course, student, complete):
    dest = course / "submitted" / student / "hw3"
    release_dir = course / "assignments" / "hw3"
    if complete:
        fill_in(release_dir, dest, root=course)
    else:
        shutil.copytree(release_dir, dest)
    (dest / "timestamp.txt").write_text("2026-11-20 12:00:00.000000 UTC")
    return dest


@pytest.fixture(scope="module")
def flow(tmp_path_factory):
    """A fresh course (no gradebook.db, as in a clone) through release, submissions, autograde
    and feedback; returns (course, {command: log})."""
    course = make_course(tmp_path_factory.mktemp("ta") / "course")
    logs = {}
    proc = subprocess.run([sys.executable, "-m", "tools.release", "--root", str(course)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for student, complete in STUDENTS.items():
        submit(course, student, complete)
    logs["autograde"] = nbgrader(course, "autograde", "hw3")
    logs["generate_feedback"] = nbgrader(course, "generate_feedback", "hw3")
    return course, logs


def test_feedback_holds_no_hidden_test_nor_rubric(flow):
    course, _ = flow
    for student in STUDENTS:
        graded = course / "autograded" / student / "hw3"
        # what the formgrader shows: hidden tests restored and run, the rubric beside the answer
        found = leakcheck.check_feedback(graded, course, own=course / "submitted" / student)
        assert {p.kind for p in found} >= {"hidden test", "marker"}, found
        feedback = course / "feedback" / student / "hw3"
        assert (feedback / "Demo.html").is_file()
        assert leakcheck.check_feedback(feedback, course,
                                        own=course / "submitted" / student) == []
        html = (feedback / "Demo.html").read_text()
        assert "fixture-hidden-test" not in html and "HIDDEN TESTS" not in html
    # the blank submission fails the test cell: its error is there, the cell's code is not
    blank = (course / "feedback" / "blank" / "hw3" / "Demo.html").read_text()
    assert "NotImplementedError" in blank and HIDDEN_NOTE.split(":")[0][1:] in blank


def test_feedback_check_catches_what_plain_nbgrader_would_hand_out(flow, tmp_path):
    """Without HideHiddenTests, nbgrader 0.9 renders the hidden tests: the check says so."""
    course, _ = flow
    from nbconvert import HTMLExporter
    nb = nbformat.read(course / "autograded" / "blank" / "hw3" / "Demo.ipynb", as_version=4)
    plain = tmp_path / "plain.html"
    plain.write_text(HTMLExporter().from_notebook_node(nb)[0])
    found = leakcheck.check_feedback(plain, course, own=course / "submitted" / "blank")
    assert any(p.kind == "hidden test" and "fixture-hidden-test" in p.detail for p in found)
    assert any(p.kind == "solution" and "fixture-written-answer" in p.detail for p in found)
    cleaned, _ = HideHiddenTests().preprocess(nb, {})
    plain.write_text(HTMLExporter().from_notebook_node(cleaned)[0])
    assert leakcheck.check_feedback(plain, course, own=course / "submitted" / "blank") == []


def test_hidden_regions_are_stripped_even_when_unterminated():
    assert strip_regions("a\n### BEGIN HIDDEN TESTS\nb\n### END HIDDEN TESTS\nc") == ("a\nc", True)
    assert strip_regions("a\n### BEGIN HIDDEN TESTS\nsecret") == ("a", True)
    assert strip_regions("x\n### BEGIN MARK SCHEME\nrubric\n### END MARK SCHEME") == ("x", True)
    assert strip_regions("plain") == ("plain", False)


def test_rubric_cells_a_submission_brings_are_dropped_from_feedback():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("mine", metadata={RUBRIC_KEY: "a1"}),
        nbformat.v4.new_code_cell("x = 1\n### BEGIN HIDDEN TESTS\n%s\n### END HIDDEN TESTS"
                                  % HIDDEN)])
    nb.cells[1].outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="",
                                                  traceback=["---> 3 %s" % HIDDEN])]
    out, _ = HideHiddenTests().preprocess(nb, {})
    assert [c.source for c in out.cells] == ["x = 1"]
    assert out.cells[0].outputs[0]["traceback"] == ["AssertionError: ", HIDDEN_NOTE]
