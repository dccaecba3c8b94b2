"""The Gradescope bundle: build it, unpack it into a temporary /autograder-like tree, run
run_autograder on a sample submission and validate results/results.json."""
import json
import os
import shutil
import subprocess
import sys
import zipfile

from cs239.tools import manifest
from tests.autograder_fixtures.build_submissions import FIXTURE_SUITES, REPO, make_submission


def test_bundle_runs_and_writes_valid_results(tmp_path):
    bundle = tmp_path / "autograder.zip"
    p = subprocess.run([sys.executable, "-m", "autograder", "gradescope", "--out", str(bundle),
                        "--suites", str(FIXTURE_SUITES)], cwd=REPO, capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr
    with zipfile.ZipFile(bundle) as z:
        names = set(z.namelist())
        assert {"setup.sh", "run_autograder", "requirements.txt", "autograder/sandbox/client.py",
                "autograder/suites/__init__.py", "autograder/suites/check_small.py",
                "cs239/layers.py"} <= names
        assert not any("__pycache__" in n or n.startswith("tests/") for n in names)
        masters = sorted(p.name for p in (REPO / "source" / manifest.NAME).glob("*.ipynb"))
        assert {f"source/{manifest.NAME}/{m}" for m in masters} <= names
        reqs = z.read("requirements.txt").decode()
        assert "numpy==" in reqs and "pytest==" in reqs
        assert z.getinfo("run_autograder").external_attr >> 16 & 0o111
        root = tmp_path / "autograder"
        z.extractall(root / "source")
    assert subprocess.run(["bash", "-n", str(root / "source" / "setup.sh")]).returncode == 0
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    os.chmod(root / "run_autograder", 0o755)
    sample = make_submission(tmp_path, "student", {
        "layers.py": "def relu_forward(x):\n    raise NotImplementedError\n"})
    shutil.copytree(sample, root / "submission")
    # notebooks are graded in the bundle too (see test_autograder_notebooks.py for that path)
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=sys.executable,
               CS239_GRADE_ARGS="--no-notebooks")
    p = subprocess.run([str(root / "run_autograder")], env=env, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    res = json.loads((root / "results" / "results.json").read_text())
    assert set(res) >= {"score", "execution_time", "output", "tests"}
    assert res["score"] == sum(t["score"] for t in res["tests"]) == 8.0
    relu = [t for t in res["tests"] if t["name"].startswith("relu_forward: ")]
    assert relu and all(t["score"] == 0 and "NotImplementedError" in t["output"]
                        for t in relu)
    for t in res["tests"]:
        assert set(t) >= {"name", "score", "max_score", "output", "visibility"}
