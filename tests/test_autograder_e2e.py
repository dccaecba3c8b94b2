"""End to end on the real suites (autograder/suites): the reference earns every package point,
the committed student release (what students receive) earns none, with a clear message for each
test."""
import csv
import io
import shutil

from autograder.suites import GRADED_NAMES
from cs239.tools import manifest
from tests.autograder_fixtures.build_submissions import REPO, grade, make_submission, results

SUITES = REPO / "autograder" / "suites"
RELEASE = REPO / "assignments" / manifest.NAME


def test_reference_and_the_committed_release_on_the_real_suites(tmp_path):
    ref = make_submission(tmp_path, "reference")
    stub = tmp_path / "release"
    shutil.copytree(RELEASE, stub)
    out = tmp_path / "out"
    grade([ref, stub], out, suites=SUITES, jobs=2, timeout=20)
    r, s = results(out, "reference"), results(out, "release")
    package = [t for t in r["tests"] if not t["name"].startswith(manifest.MODELS_GRADED_AS)]
    assert package and all(t["score"] == t["max_score"] for t in package), \
        [(t["name"], t["output"]) for t in package if t["score"] < t["max_score"]]
    assert s["score"] == 0
    assert all(t["output"] for t in s["tests"])
    assert sum("not implemented yet" in t["output"] for t in s["tests"]) >= len(package) // 2
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text())))
    assert list(rows[0])[1:-1][:len(GRADED_NAMES)] == GRADED_NAMES
