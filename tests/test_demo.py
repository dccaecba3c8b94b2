"""`make demo` (tools/demo.py), the README's first command: the instructor's whole pipeline runs
end to end, and its gradebook ranks the planted mistakes where they belong."""
import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

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
def gradebook(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    p = subprocess.run([sys.executable, "-m", "tools.demo", "--out", str(out)], cwd=ROOT,
                       capture_output=True, text=True, timeout=1200)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    rows = csv.DictReader(io.StringIO((out / "grades" / "grades.csv").read_text()))
    return {r["submission"]: r for r in rows}


def test_demo_grades_reference_bugs_and_untouched_release(gradebook):
    total = {name: float(r["total"]) for name, r in gradebook.items()}
    assert set(total) == {"reference", "untouched-release", *TARGETS}
    assert total["untouched-release"] == 0
    for bug, graded_name in TARGETS.items():
        assert 0 < total[bug] < total["reference"], bug
        assert float(gradebook[bug][graded_name]) < float(gradebook["reference"][graded_name])


def test_each_planted_bug_costs_points_in_exactly_one_column(gradebook):
    # dependency-aware scoring: the ReLU mask bug costs relu_backward, not the network that
    # calls it nor the notebook (whose test cells carry no points)
    ref = gradebook["reference"]
    for bug, graded_name in TARGETS.items():
        lost = {c for c, v in gradebook[bug].items() if c not in ("submission", "total")
                and float(v) < float(ref[c])}
        assert lost == {graded_name}, (bug, {c: (gradebook[bug][c], ref[c]) for c in lost})
