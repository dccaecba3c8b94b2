"""tools/release.py (`make release`): real nbgrader generate_assignment, stubbed package, leak check.

Fixture course trees (small notebook, the real cs239 package) test the mechanics; the real tree
tests that the committed release (assignments/<manifest NAME>) is up to date and that released
notebooks stop at the first stub with the pointer.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cs239.tools import manifest
from tests.course_fixture import NAME, make_course
from tools import release as release_mod
from tools.release import ReleaseError, release

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "assignments" / NAME


def tree(folder):
    """{relative path: bytes} of every file under folder."""
    folder = Path(folder)
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def diff_trees(expected, actual):
    """Human-readable differences between two {path: bytes} trees (empty when identical)."""
    out = ["missing: %s" % p for p in sorted(set(expected) - set(actual))]
    out += ["unexpected: %s" % p for p in sorted(set(actual) - set(expected))]
    out += ["differs: %s" % p for p in sorted(set(expected) & set(actual))
            if expected[p] != actual[p]]
    return out


@pytest.fixture(scope="module")
def built(course, tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / NAME
    release(course, NAME, out, quiet=True)
    return out


# ------------------------------------------------------------------------------------------------
# Fixture course
# ------------------------------------------------------------------------------------------------

def test_release_holds_exactly_the_student_files(course, built):
    package = sorted(p.relative_to(course).as_posix() for p in (course / "cs239").rglob("*.py"))
    expected = sorted(["Demo.ipynb", "README.md", "datasets/get_cifar10.py",
                       "datasets/get_cifar10.sh"] + package)
    assert sorted(tree(built)) == expected
    assert os.access(built / "datasets/get_cifar10.sh", os.X_OK)
    assert not (course / "gradebook.db").exists()   # a release elsewhere uses a throwaway db


def test_released_notebook_is_nbgraders_student_version(built):
    nb = json.loads((built / "Demo.ipynb").read_text())
    sources = ["".join(c["source"]) for c in nb["cells"]]
    text = "\n".join(sources)
    assert "secret_value" not in text and "fixture-hidden-test" not in text
    assert "fixture-written-answer" not in text
    assert "# YOUR CODE HERE\n    raise NotImplementedError()" in sources[2]
    assert sources[3] == "assert twice(2) == 4"
    assert sources[7] == "YOUR ANSWER HERE"
    assert all(c.get("outputs", []) == [] and c.get("execution_count") is None
               for c in nb["cells"] if c["cell_type"] == "code")
    assert [c["id"] for c in nb["cells"]] == ["demo-%d" % i for i in range(8)]
    assert nb["cells"][3]["metadata"]["nbgrader"]["checksum"]   # nbgrader's own metadata


def test_released_package_is_stubbed(built):
    layers = (built / "cs239/layers.py").read_text()
    assert "np.maximum(x, 0)" not in layers and "### BEGIN" not in layers
    assert ("relu_forward in cs239/layers.py is not implemented yet; " in layers)
    assert "# TODO: Implement the ReLU forward pass." in layers      # the TODOs stay
    assert (built / "cs239/solver.py").read_bytes() == (ROOT / "cs239/solver.py").read_bytes()


def test_student_readme(built):
    readme = (built / "README.md").read_text()
    for part in ["## Set up", "## Data", "## Notebooks", "## Check your work", "## Submit",
                 "python -m cs239.tools.check", "python -m cs239.tools.submit", "`Demo.ipynb`",
                 "`TwoLayerNet.loss`", "`gplvm_grad`", "datasets/get_cifar10.sh"]:
        assert part in readme, part


def test_release_is_deterministic(course, built, tmp_path):
    again = tmp_path / NAME
    release(course, NAME, again, quiet=True)
    assert diff_trees(tree(built), tree(again)) == []


def test_sync_rewrites_only_what_changed_and_removes_strays(built, tmp_path):
    out = tmp_path / NAME
    shutil.copytree(built, out)
    (out / "stray.txt").write_text("old")
    (out / "old_pkg").mkdir()
    (out / "old_pkg" / "old_module.py").write_text("x = 1\n")
    (out / "README.md").write_text("edited by hand")
    (out / "datasets/get_cifar10.sh").chmod(0o644)
    written, removed, unchanged = release_mod.sync(built, out)
    assert written == ["README.md"]
    assert removed == ["old_pkg/old_module.py", "stray.txt"]
    assert len(unchanged) == len(tree(built)) - 1
    assert diff_trees(tree(built), tree(out)) == []
    assert not (out / "old_pkg").exists()
    assert os.access(out / "datasets/get_cifar10.sh", os.X_OK)


def test_a_leaking_release_is_refused_and_leaves_the_output_alone(course, tmp_path, monkeypatch):
    out = tmp_path / NAME
    out.mkdir()
    (out / "README.md").write_text("previous release")

    def copy_verbatim(src, dest=None, relpath=None):   # a broken stubify: solutions leak
        Path(dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, dest)

    monkeypatch.setattr(release_mod.stubify, "stubify_file", copy_verbatim)
    with pytest.raises(ReleaseError) as e:
        release(course, NAME, out, quiet=True)
    assert "leak check failed" in str(e.value)
    assert "cs239/layers.py:" in str(e.value) and "solution" in str(e.value)
    assert tree(out) == {"README.md": b"previous release"}


def test_release_errors_are_clear(tmp_path):
    course = make_course(tmp_path / "c")
    (course / "datasets/get_cifar10.py").unlink()
    proc = subprocess.run([sys.executable, "-m", "tools.release", "--root", str(course),
                           "--out", str(tmp_path / "out")], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 1
    assert "datasets/get_cifar10.py is missing" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_check_mode_reports_staleness_and_writes_nothing(course, built, tmp_path):
    out = tmp_path / NAME
    shutil.copytree(built, out)
    cmd = [sys.executable, "-m", "tools.release", "--root", str(course), "--out", str(out),
           "--check"]
    (out / "README.md").write_text("edited")
    (out / "extra.py").write_text("")
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 1
    assert "differs: README.md" in proc.stdout and "unexpected: extra.py" in proc.stdout
    assert (out / "README.md").read_text() == "edited"


def test_fixture_release_passes_the_leak_check_command(course, built):
    proc = subprocess.run([sys.executable, "-m", "tools.leakcheck", str(built), "--root",
                           str(course), "--assignment", NAME], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "leak check passed" in proc.stdout


# ------------------------------------------------------------------------------------------------
# The real tree
# ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory):
    """The release rebuilt from the current sources into a temporary folder."""
    out = tmp_path_factory.mktemp("fresh") / NAME
    release(ROOT, NAME, out, quiet=True)
    return out


def test_committed_release_is_up_to_date(fresh_release):
    assert COMMITTED.is_dir(), "%s does not exist: run `make release`" % COMMITTED
    problems = release_mod.stale_files(fresh_release, COMMITTED)
    assert not problems, ("%s is stale against the sources; run `make release` and commit the "
                          "result:\n  %s" % (COMMITTED, "\n  ".join(problems)))


def test_real_release_contents(fresh_release):
    files = tree(fresh_release)
    notebooks = sorted(p.name for p in (ROOT / "source" / NAME).glob("*.ipynb"))
    assert sorted(p for p in files if p.endswith(".ipynb")) == notebooks
    for name in ["cs239/tools/check.py", "cs239/tools/submit.py", "cs239/layers.py", "README.md",
                 "datasets/get_cifar10.py", "datasets/get_cifar10.sh"]:
        assert name in files, name
    assert not [p for p in files if p.endswith((".npz", ".pyc")) or "__pycache__" in p]


def _synthetic_data(tmp_path_factory):
    dest = tmp_path_factory.mktemp("synthetic")
    subprocess.run([sys.executable, str(ROOT / "datasets/get_cifar10.py"), "--synthetic",
                    "--dest", str(dest), "-q"], check=True, cwd=ROOT)
    return dest / "cifar-10-batches-py"


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    return _synthetic_data(tmp_path_factory)


@pytest.mark.parametrize("name", [n[:-len(".ipynb")] for n in manifest.NOTEBOOKS])
def test_released_notebook_stops_at_the_first_stub_with_the_pointer(name, fresh_release,
                                                                    synthetic, tmp_path):
    """Run top to bottom with the stubs: the first error is a clear NotImplementedError."""
    from tools.notebook_runner import NotebookCellError, quick_parameters, run_notebook

    path = fresh_release / ("%s.ipynb" % name)
    work = tmp_path / NAME                     # a student's copy of the release
    shutil.copytree(fresh_release, work)
    with pytest.raises(NotebookCellError) as e:
        run_notebook(work / path.name, quick_parameters(path), cwd=work, timeout=300,
                     env={"CS239_CIFAR10_DIR": str(synthetic)})
    err = e.value
    assert err.ename == "NotImplementedError", "first error: %s: %s in cell %d:\n%s" % (
        err.ename, err.evalue, err.cell_index, err.source)
    if "YOUR CODE HERE" in err.source:          # a notebook cell of the student's
        return
    assert "is not implemented yet; it is asked for in " in err.evalue, err.evalue
    assert "section '" in err.evalue
    assert str(work / "cs239") in err.traceback_text or "cs239/" in err.traceback_text
