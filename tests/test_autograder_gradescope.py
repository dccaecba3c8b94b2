"""The Gradescope bundle: build it, unpack it into a temporary /autograder-like tree, run
run_autograder on a sample submission, validate results/results.json and the summary it prints
for the staff. (The locks: test_bundle_locks.py; a real image: `make image-test`.)"""
import json
import os
import shutil
import subprocess
import sys
import zipfile

from autograder.bundle.spec import problems
from cs239.tools import manifest
from tests.autograder_fixtures.build_submissions import FIXTURE_SUITES, REPO, make_submission

BUNDLE_TEMPLATES = REPO / "autograder" / "bundle"


def _bundle(tmp_path):
    """Build the bundle with the fixture suites and unpack it as Gradescope does; ROOT."""
    bundle = tmp_path / "autograder.zip"
    p = subprocess.run([sys.executable, "-m", "autograder", "gradescope", "--out", str(bundle),
                        "--suites", str(FIXTURE_SUITES)], cwd=REPO, capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr
    with zipfile.ZipFile(bundle) as z:
        names = set(z.namelist())
        assert {"setup.sh", "run_autograder", "autograder/sandbox/client.py",
                "autograder/bundle/summary.py", "autograder/suites/__init__.py",
                "autograder/suites/check_small.py", "cs239/layers.py",
                *[f"requirements/py3.{m}.txt" for m in range(10, 14)]} <= names
        assert not any("__pycache__" in n or n.startswith("tests/") for n in names)
        masters = sorted(p.name for p in (REPO / "source" / manifest.NAME).glob("*.ipynb"))
        assert {f"source/{manifest.NAME}/{m}" for m in masters} <= names
        for script in ("setup.sh", "run_autograder"):      # the template files, verbatim
            assert z.read(script) == (BUNDLE_TEMPLATES / script).read_bytes()
            assert z.getinfo(script).external_attr >> 16 & 0o111
        root = tmp_path / "autograder"
        z.extractall(root / "source")
    for script in ("setup.sh", "run_autograder"):
        assert subprocess.run(["bash", "-n", str(root / "source" / script)]).returncode == 0
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    os.chmod(root / "run_autograder", 0o755)
    return root


def _run_autograder(root):
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=sys.executable,
               CS239_GRADE_ARGS="--no-notebooks")
    return subprocess.run([str(root / "run_autograder")], env=env, capture_output=True,
                          text=True, timeout=300)


def test_bundle_runs_and_writes_valid_results(tmp_path):
    root = _bundle(tmp_path)
    sample = make_submission(tmp_path, "student", {
        "layers.py": "def relu_forward(x):\n    raise NotImplementedError\n"})
    shutil.copytree(sample, root / "submission")
    # notebooks are graded in the bundle too (see test_autograder_notebooks.py for that path)
    p = _run_autograder(root)
    assert p.returncode == 0, p.stdout + p.stderr
    res = json.loads((root / "results" / "results.json").read_text())
    assert problems(res) == []
    assert set(res) >= {"score", "execution_time", "output", "tests"}
    assert res["stdout_visibility"] == "hidden"     # the log below is for the staff only
    assert res["score"] == sum(t["score"] for t in res["tests"]) == 8.0
    relu = [t for t in res["tests"] if t["name"].startswith("relu_forward: ")]
    assert relu and all(t["score"] == 0 and "NotImplementedError" in t["output"]
                        for t in relu)
    for t in res["tests"]:
        assert set(t) >= {"name", "score", "max_score", "output", "visibility"}
    skipped = [t for t in res["tests"] if t["name"].startswith("TwoLayerNet.loss: data-dep")]
    assert [t["output"] for t in skipped] == [
        "not scored: no two_layer_net_best.npz in the submission"]   # the prefix once

    # the staff's summary on stdout: score, each failed test with its message, what was not
    # scored and why, then the grader log (also kept in the results folder)
    out = p.stdout
    max_score = sum(t["max_score"] for t in res["tests"])
    assert f"score 8 / {max_score:g}: " in out
    failed = [t for t in res["tests"] if t["score"] < t["max_score"] and t not in skipped]
    assert f"failed ({len(failed)}):" in out
    for t in failed:
        assert f"  - {t['name']} [0/{t['max_score']:g}]: " in out
    assert ("not scored, 0 points (1 test): no two_layer_net_best.npz in the submission\n"
            "  - TwoLayerNet.loss: data-dependent skip") in out
    log = (root / "results" / "grader.log").read_text()
    assert log.strip() and out.index("----- grader log") > out.index("score 8")
    assert log.strip()[-200:] in out


def test_run_autograder_explains_a_grader_failure(tmp_path):
    """No submission folder (a broken image): the student gets a results.json saying so, the
    staff a summary and the traceback, and the exit status is not 0."""
    root = _bundle(tmp_path)
    p = _run_autograder(root)
    assert p.returncode != 0
    res = json.loads((root / "results" / "results.json").read_text())
    assert problems(res) == []
    assert res["score"] == 0 and "tell the course staff" in res["output"]
    assert res["stdout_visibility"] == "hidden"
    assert "NO RESULTS" in p.stdout and "Traceback" in p.stdout
    assert "submission" in (root / "results" / "grader.log").read_text()


def test_results_spec_checker_rejects_what_gradescope_rejects():
    good = {"score": 1.5, "execution_time": 2, "output": "", "visibility": "visible",
            "stdout_visibility": "hidden", "extra_data": {},
            "tests": [{"name": "a", "score": 1.5, "max_score": 2, "status": "failed",
                       "output": "x", "visibility": "after_published", "tags": ["t"]}]}
    assert problems(good) == []
    bad = json.loads(json.dumps(good))
    bad["visibility"] = "public"
    bad["tests"][0].update(score="1.5", status="ok", tags=[1], colour="red")
    bad["tests"].append({"name": "no score"})
    del bad["score"]
    found = "\n".join(problems(bad))
    for what in ("results.visibility", "tests[0].score", "tests[0].status", "tests[0].tags",
                 "unknown key 'colour'", "no top-level score"):
        assert what in found, (what, found)
    assert problems([]) == ["results: not an object"]
    assert problems({"score": float("nan")}) != []
