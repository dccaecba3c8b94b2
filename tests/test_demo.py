"""`make demo` (tools/demo.py), the README's first command: the instructor's whole pipeline runs
end to end, and its gradebook ranks the planted mistakes where they belong."""
import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cs239.tools import manifest
from tools import demo

ROOT = Path(__file__).resolve().parents[1]
# planted bug -> the graded name it must cost points in
TARGETS = {"bug-softmax-no-mean": "softmax_loss", "bug-relu-mask-from-dout": "relu_backward",
           "bug-adam-no-bias-correction": "adam"}


def test_every_planted_bug_applies_to_the_reference():
    assert sorted(name for name, *_ in demo.BUGS) == sorted(TARGETS)
    for name, rel, good, bad in demo.BUGS:
        assert (ROOT / rel).read_text().count(good) == 1, (name, rel, good)
        assert good != bad


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    p = subprocess.run([sys.executable, "-m", "tools.demo", "--out", str(out)], cwd=ROOT,
                       capture_output=True, text=True, timeout=1200)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    return out, p.stdout


@pytest.fixture(scope="module")
def gradebook(demo_run):
    out, _ = demo_run
    rows = csv.DictReader(io.StringIO((out / "grades" / "grades.csv").read_text()))
    return {r["submission"]: r for r in rows}, out / "grades"


def test_demo_ends_with_the_report(demo_run):
    """Issue 14: the demo's last lines name the instructor's report, which shows the planted
    bugs' causes and flags the bug copies of the reference as similar pairs."""
    out, stdout = demo_run
    report = out / "grades" / "report.html"
    assert f"instructor's report: {report}" in stdout.splitlines()[-5:]
    page = report.read_text()
    assert "looks like the loss is summed over the examples" in page
    sim = page[page.index('id="similarity"'):]
    assert "<td>reference</td>" in sim and "untouched-release</td>" not in sim


def test_demo_grades_reference_bugs_and_untouched_release(gradebook):
    gradebook, grades = gradebook
    total = {name: float(r["total"]) for name, r in gradebook.items()}
    assert set(total) == {"reference", "untouched-release", *TARGETS}
    assert total["untouched-release"] == 0
    for bug, graded_name in TARGETS.items():
        assert 0 < total[bug] < total["reference"], bug
        assert float(gradebook[bug][graded_name]) < float(gradebook["reference"][graded_name])


def test_reference_notebooks_earn_every_autograded_point(gradebook):
    """The notebooks are re-run in the sandboxed kernel at the quick sizes (the parameters hook)
    and the reference passes every autograded cell."""
    _, grades = gradebook
    tests = json.loads((grades / "reference" / "results.json").read_text())["tests"]
    cells = [t for t in tests if t["name"].split(": ", 1)[0] in manifest.NOTEBOOKS]
    assert cells and all(t["score"] == t["max_score"] > 0 for t in cells), [
        (t["name"], t["output"]) for t in cells if t["score"] < t["max_score"]]
