"""tools/leakcheck.py: every kind of leak planted in a clean release is caught (file and line)."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.course_fixture import ANSWER, HIDDEN, NAME, SECRET_PY
from tools import leakcheck
from tools.release import release

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def clean(course, tmp_path_factory):
    out = tmp_path_factory.mktemp("rel") / NAME
    release(course, NAME, out, quiet=True)
    return course, out


@pytest.fixture
def planted(clean, tmp_path):
    course, out = clean
    copy = tmp_path / NAME
    shutil.copytree(out, copy)
    return course, copy


def problems(course, release_dir):
    return leakcheck.check_release(release_dir, course, NAME)


def edit_cell(path, index, fn):
    nb = json.loads(path.read_text())
    fn(nb["cells"][index])
    path.write_text(json.dumps(nb, indent=1))


def test_clean_release_passes(clean):
    course, out = clean
    assert problems(course, out) == []


def test_package_solution_line(planted):
    course, rel = planted
    layers = rel / "cs239/layers.py"
    text = layers.read_text().splitlines()
    # a student-visible copy of one reference line, re-indented: still caught
    text.insert(5, "        dx = np.where(x > 0, dout, 0)")
    layers.write_text("\n".join(text) + "\n")
    found = problems(course, rel)
    assert [str(p) for p in found] == [
        "cs239/layers.py:6: solution: line of cs239/layers.py: 'dx = np.where(x > 0, dout, 0)'"]


def test_unstripped_package_file(planted):
    course, rel = planted
    shutil.copy(course / "cs239/optim.py", rel / "cs239/optim.py")
    found = problems(course, rel)
    kinds = {p.kind for p in found}
    assert kinds == {"solution", "marker"}
    assert all(p.path.startswith("cs239/optim.py:") for p in found)


def test_notebook_solution_in_another_file(planted):
    course, rel = planted
    with open(rel / "README.md", "a") as f:
        f.write("\nHint:\n\n    %s\n" % SECRET_PY.split("#")[0].strip())
    found = problems(course, rel)
    assert len(found) == 1 and found[0].kind == "solution"
    assert found[0].path.startswith("README.md:") and "Demo.ipynb cell 2" in found[0].detail


def test_hidden_test_in_notebook(planted):
    course, rel = planted
    edit_cell(rel / "Demo.ipynb", 3,
              lambda c: c.update(source="".join(c["source"]) + "\n" + HIDDEN))
    found = problems(course, rel)
    assert [(p.path, p.kind) for p in found] == [("Demo.ipynb:cell 3 line 2", "hidden test")]


def test_written_answer(planted):
    course, rel = planted
    edit_cell(rel / "Demo.ipynb", 7, lambda c: c.update(source=ANSWER))
    found = problems(course, rel)
    assert [(p.path, p.kind) for p in found] == [("Demo.ipynb:cell 7 line 1", "solution")]


def test_leftover_marker(planted):
    course, rel = planted
    edit_cell(rel / "Demo.ipynb", 2, lambda c: c.update(
        source="def twice(x):\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION"))
    found = problems(course, rel)
    assert {(p.path, p.kind) for p in found} == {("Demo.ipynb:cell 2 line 2", "marker"),
                                                  ("Demo.ipynb:cell 2 line 4", "marker")}


def test_executed_output(planted):
    course, rel = planted

    def run(cell):
        cell["execution_count"] = 4
        cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "[0. 2.]\n"}]
    edit_cell(rel / "Demo.ipynb", 4, run)
    found = problems(course, rel)
    assert {(p.path, p.kind) for p in found} == {("Demo.ipynb:cell 4", "output")}
    assert len(found) == 2       # the outputs and the execution count


def test_autograder_file_and_text(planted):
    course, rel = planted
    shutil.copy(course / "autograder/suite.py", rel / "cs239/helpers.py")
    (rel / "autograder").mkdir()
    (rel / "autograder/suite.py").write_text("x = 1\n")
    found = problems(course, rel)
    got = {(p.path, p.kind) for p in found}
    assert ("cs239/helpers.py", "autograder") in got
    assert ("autograder/", "file") in got and ("autograder/suite.py", "file") in got
    (rel / "cs239/helpers.py").write_text("from autograder import sandbox\n"
                                          "    assert fixture_autograder_secret_line == 1\n")
    found = problems(course, rel)
    assert {(p.path, p.kind) for p in found if p.path.startswith("cs239")} == {
        ("cs239/helpers.py:1", "autograder"), ("cs239/helpers.py:2", "autograder")}


@pytest.mark.parametrize("name", ["two_layer_net_best.npz", "datasets/cifar-10-batches-py/"
                                  "data_batch_1", "cs239/weights.npy", "model.pkl",
                                  "gradebook.db", "datasets/cifar-10-python.tar.gz"])
def test_data_files(planted, name):
    course, rel = planted
    (rel / name).parent.mkdir(parents=True, exist_ok=True)
    (rel / name).write_bytes(b"\x93NUMPY data")
    found = problems(course, rel)
    assert any(p.path == name and p.kind in ("data", "file") for p in found), found


@pytest.mark.parametrize("name", ["nbgrader_config.py", "tools/release.py", "tests/test_x.py",
                                  "source/%s/Demo.ipynb" % NAME,
                                  "cs239/__pycache__/x.cpython-311.pyc", "Makefile",
                                  "timestamp.txt", "notes.txt"])
def test_master_only_and_unexpected_files(planted, name):
    course, rel = planted
    (rel / name).parent.mkdir(parents=True, exist_ok=True)
    (rel / name).write_text("nothing secret\n")
    found = problems(course, rel)
    assert any(p.path == name and p.kind == "file" for p in found), found


def test_command_line_names_file_and_line(planted):
    course, rel = planted
    with open(rel / "cs239/optim.py", "a") as f:
        f.write("    next_w = w + v\n")
    proc = subprocess.run([sys.executable, "-m", "tools.leakcheck", str(rel), "--root",
                           str(course)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 1
    n = len((rel / "cs239/optim.py").read_text().splitlines())
    assert "leak: cs239/optim.py:%d: solution: line of cs239/optim.py" % n in proc.stdout
    assert "leak check FAILED: 1 problem(s)" in proc.stdout


def test_provided_code_never_trips_it():
    """Every line outside the regions is public: the master package itself has no 'leak'."""
    secrets = leakcheck.collect_secrets(ROOT)
    for py in sorted((ROOT / "cs239").rglob("*.py")):
        if "__pycache__" in py.parts:
            continue
        lines = py.read_text().splitlines()
        inside = set(leakcheck.split_regions(lines, "### BEGIN SOLUTION", "### END SOLUTION")[0])
        for i, line in enumerate(lines, 1):
            if line not in inside and "SOLUTION" not in line:
                assert secrets.lookup(line) is None, "%s:%d %r" % (py, i, line)
