"""The TA's nbgrader flow on a fresh course copy (README, "For instructors and TAs").

A small fixture course (tests/test_release.py: one notebook with a solution, a hidden test, a
visible test and a written answer with a rubric) goes through the real commands: release, two
submissions ("complete": the master's answers; "blank": the release untouched), `nbgrader
autograde`, a manual grade through nbgrader's gradebook API, `nbgrader generate_feedback`
(leak-checked), `nbgrader export`, and the kit's joined gradebook.
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from cs239.tools.manifest import NAME

from tests.course_fixture import HIDDEN, make_course, nbgrader
from tools import leakcheck
from tools.nbgrader_hooks import HIDDEN_NOTE, RUBRIC_KEY, HideHiddenTests, strip_regions
from tools.release import fill_in

ROOT = Path(__file__).resolve().parents[1]
STUDENTS = {"complete": True, "blank": False}


def make_zips(course, dest):
    """dest/complete.zip (the master's answers) and dest/blank.zip (the release untouched), as
    `python -m cs239.submit` would build them."""
    dest.mkdir()
    release_dir = course / "assignments" / NAME
    for student, complete in STUDENTS.items():
        folder = dest / student
        if complete:
            fill_in(release_dir, folder, root=course)
        else:
            shutil.copytree(release_dir, folder)
        with zipfile.ZipFile(dest / ("%s.zip" % student), "w") as z:
            for f in sorted(folder.rglob("*")):
                if f.is_file():
                    z.write(f, f.relative_to(folder).as_posix())
        shutil.rmtree(folder)
    return sorted(dest.glob("*.zip"))


def run(*cmd, cwd=ROOT, timeout=600):
    proc = subprocess.run([sys.executable, *map(str, cmd)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, "%s failed:\n%s%s" % (cmd, proc.stdout, proc.stderr)
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def flow(tmp_path_factory):
    """A fresh course through the README's TA commands; returns (course, {step: log}, zips)."""
    base = tmp_path_factory.mktemp("ta")
    course = make_course(base / "course")
    # a cell that shows which data folder the notebooks get during autograde
    nb = nbformat.read(course / "source" / NAME / "Demo.ipynb", as_version=4)
    nb.cells.insert(2, nbformat.v4.new_code_cell(
        "import os\nprint('data:', os.environ.get('CS239_CIFAR10_DIR'))"))
    nb.cells[2]["id"] = "demo-data"
    nbformat.write(nb, course / "source" / NAME / "Demo.ipynb")
    logs = {"release": run("-m", "tools.release", "--root", course)}
    # a fresh clone: the release is committed, the gradebook (git-ignored) is not
    (course / "gradebook.db").unlink()
    zips = make_zips(course, base / "submissions")
    logs["collect"] = run("-m", "tools.collect", *zips, "--root", course)
    logs["autograde"] = nbgrader(course, "autograde", NAME, env={"CS239_CIFAR10_DIR": None})
    logs["generate_feedback"] = nbgrader(course, "generate_feedback", NAME)
    return course, logs, zips


def test_feedback_holds_no_hidden_test_nor_rubric(flow):
    course, *_ = flow
    for student in STUDENTS:
        graded = course / "autograded" / student / NAME
        # what the formgrader shows: hidden tests restored and run, the rubric beside the answer
        found = leakcheck.check_feedback(graded, course, own=course / "submitted" / student)
        assert {p.kind for p in found} >= {"hidden test", "marker"}, found
        feedback = course / "feedback" / student / NAME
        assert (feedback / "Demo.html").is_file()
        assert leakcheck.check_feedback(feedback, course,
                                        own=course / "submitted" / student) == []
        html = (feedback / "Demo.html").read_text()
        assert "fixture-hidden-test" not in html and "HIDDEN TESTS" not in html
    # feedback generated before the TA graded the complete student's written answer says so
    assert "feedback for complete, Demo: 1 answer(s) not graded yet (a1)" in \
        flow[1]["generate_feedback"]
    assert "feedback for blank" not in flow[1]["generate_feedback"]
    # the blank submission fails the test cell: its error is there, the cell's code is not
    blank = (course / "feedback" / "blank" / NAME / "Demo.html").read_text()
    assert "NotImplementedError" in blank and HIDDEN_NOTE.split(":")[0][1:] in blank


def test_feedback_check_catches_what_plain_nbgrader_would_hand_out(flow, tmp_path):
    """Without HideHiddenTests, nbgrader 0.9 renders the hidden tests: the check says so."""
    course, *_ = flow
    from nbconvert import HTMLExporter
    nb = nbformat.read(course / "autograded" / "blank" / NAME / "Demo.ipynb", as_version=4)
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


def test_collect_puts_each_zip_where_nbgrader_looks(flow):
    course, logs, _ = flow
    for student in STUDENTS:
        folder = course / "submitted" / student / NAME
        assert (folder / "Demo.ipynb").is_file() and (folder / "cs239" / "layers.py").is_file()
        assert (folder / "timestamp.txt").read_text().endswith(" UTC")


def test_autograde_on_a_fresh_clone_registers_the_assignment_and_is_quiet(flow):
    course, logs, _ = flow
    log = logs["autograde"]
    assert "registering it" in log          # no gradebook.db before: registered on first use
    for noise in ["has changed!", "without encryption", "SAWarning", "Traceback"]:
        assert noise not in log, noise
    assert not (course / "assignments" / NAME / "gradebook.db").exists()


def test_autograde_gives_the_notebooks_the_course_data(flow):
    course, *_ = flow
    nb = nbformat.read(course / "autograded" / "blank" / NAME / "Demo.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                      for o in c.get("outputs", []))
    assert "data: %s" % (course / "datasets" / "cifar-10-batches-py") in printed


def test_formgrader_notebook_shows_the_rubric_beside_each_written_answer(flow):
    course, *_ = flow
    for student in STUDENTS:
        cells = nbformat.read(course / "autograded" / student / NAME / "Demo.ipynb",
                              as_version=4).cells
        at = [i for i, c in enumerate(cells)
              if c.metadata.get("nbgrader", {}).get("grade_id") == "a1"]
        assert len(at) == 1
        rubric = cells[at[0] + 1]
        assert rubric.metadata.get(RUBRIC_KEY) == "a1"
        assert "fixture-written-answer" in rubric.source and "graders only" in rubric.source
        assert "nbgrader" not in rubric.metadata      # not a graded cell of its own


def manual_grade(course, student, grade_id, score):
    """What the formgrader's score box does, through nbgrader's gradebook API."""
    from nbgrader.api import Gradebook
    with Gradebook("sqlite:///%s" % (course / "gradebook.db")) as gb:
        grade = gb.find_grade(grade_id, "Demo", NAME, student)
        grade.manual_score = score
        grade.needs_manual_grade = False
        gb.db.commit()


def table(path, key=None):
    with open(path) as f:
        return {row[key or next(iter(row))]: row for row in csv.DictReader(f)}


def test_one_gradebook_joins_the_written_answers_with_the_kits_scores(flow, tmp_path):
    course, _, zips = flow
    grades = tmp_path / "grades"
    db = "sqlite:///%s" % (course / "gradebook.db")
    run("-m", "autograder", "grade", *zips, "--out", grades, "--no-notebooks", "-q")
    kit = table(grades / "grades.csv")
    assert float(kit["blank"]["total"]) == 0 < float(kit["complete"]["total"])
    # before any TA grading: the complete student's written answer is marked, not zero
    log = run("-m", "autograder", "gradebook", grades, "--db", db)
    assert "1 written (1 answers" in log and "complete: 1 written answer(s) ungraded" in log
    rows = table(grades / "grades.csv")
    assert rows["complete"]["Demo: a1"] == "ungraded"
    assert rows["complete"]["status"] == "1 written answer(s) ungraded"
    assert rows["blank"]["Demo: a1"] == "0"            # the untouched prompt: nbgrader's 0
    assert table(grades / "lms.csv")["complete"][NAME] == ""   # incomplete: not exported
    # a TA grades it (the formgrader's score box), and a re-run of `grade` stays joined
    manual_grade(course, "complete", "a1", 1.0)
    run("-m", "autograder", "grade", *zips, "--out", grades, "--no-notebooks", "-q")
    rows = table(grades / "grades.csv")
    auto = float(kit["complete"]["total"])
    assert rows["complete"]["Demo: a1"] == "1" and rows["complete"]["status"] == "complete"
    assert float(rows["complete"]["autograded"]) == auto
    assert float(rows["complete"]["total"]) == auto + 1
    assert float(rows["complete"]["max_total"]) == float(kit_max(grades)) + 1
    assert float(rows["blank"]["total"]) == 0 and rows["blank"]["status"] == "complete"
    lms = table(grades / "lms.csv")
    assert lms["complete"] == {"Student": "complete", "SIS Login ID": "complete",
                               NAME: "%g" % (auto + 1)}
    assert lms["blank"][NAME] == "0"
    # nbgrader's own export agrees on the written answer
    nbgrader(course, "export")
    exported = table(course / "grades.csv", key="student_id")
    assert float(exported["complete"]["raw_score"]) >= 1
    # what the kit hands the students holds nothing secret either
    for student in STUDENTS:
        for name in ["feedback.md", "results.json"]:
            found = leakcheck.check_feedback(grades / student / name, ROOT,
                                             own=course / "submitted" / student)
            assert found == [], found


def kit_max(grades):
    r = json.loads((grades / "complete" / "results.json").read_text())
    return r["extra_data"]["cs239"]["max_score"]


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_formgrader_in_a_browser_lists_the_written_answer_with_its_rubric(flow, tmp_path):
    """`jupyter server` started in the course root serves the formgrader at /formgrader; its
    manual-grading page for a submission shows the written answer's score box, then the rubric."""
    import time
    import urllib.request

    browser = next((shutil.which(b) for b in ["chromium", "chromium-browser", "google-chrome"]
                    if shutil.which(b)), None)
    if browser is None:
        pytest.skip("no Chromium (apt-get install chromium): the formgrader page is not checked")
    course, *_ = flow
    from nbgrader.api import Gradebook
    with Gradebook("sqlite:///%s" % (course / "gradebook.db")) as gb:
        sub_id = gb.find_submission_notebook("Demo", NAME, "complete").id
    port = _free_port()
    jupyter = Path(sys.executable).with_name("jupyter")
    log = open(tmp_path / "server.log", "w")
    server = subprocess.Popen(
        [str(jupyter), "server", "--no-browser", "--port=%d" % port, "--ServerApp.ip=127.0.0.1",
         "--IdentityProvider.token=", "--ServerApp.password=", "--allow-root"],
        cwd=course, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env=dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime")))
    try:
        base = "http://127.0.0.1:%d" % port
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(base + "/formgrader", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, \
                (tmp_path / "server.log").read_text()[-3000:]
            time.sleep(0.5)
        cmd = [browser, "--headless", "--disable-gpu", "--virtual-time-budget=5000",
               "--user-data-dir=%s" % (tmp_path / "profile"), "--dump-dom",
               "%s/formgrader/submissions/%s/" % (base, sub_id)]
        if os.geteuid() == 0:
            cmd.insert(1, "--no-sandbox")
        dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
        log.close()
    assert "/formgrader/static/" in dom and "<title>Demo</title>" in dom
    answer = dom.find('id="a1"')                     # the written answer's score box
    assert answer > 0, dom[:2000]
    rubric = dom.find("graders only", answer)
    assert rubric > answer and "fixture-written-answer" in dom[rubric:]
    server_log = (tmp_path / "server.log").read_text()
    assert "Unwritable directory" not in server_log      # the course's own exchange folder
