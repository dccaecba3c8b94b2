"""The `python -m autograder grade` machinery on a tiny suite (tests/autograder_fixtures/suites):
scoring, messages, bad input, resumability, jobs, grades.csv, both sandbox modes."""
import csv
import io
import json
import os
import stat
import sys
import zipfile

import pytest

from tests.autograder_fixtures.build_submissions import (grade, make_submission, outputs,
                                                         results, scores)

STUB = 'def affine_forward(x, w, b):\n    raise NotImplementedError("fill me in")\n'
FULL = 11.0 - 1.0      # the fixture suite's points, minus the skipped best-model test


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """One batch graded once (jobs=2): reference, stub, syntax error, corrupt notebook, plus
    bad input of every kind."""
    root = tmp_path_factory.mktemp("batch")
    subs = [
        make_submission(root, "ref"),
        make_submission(root, "stub", {"layers.py": STUB}),
        make_submission(root, "syntax", {"optim.py": "def broken(:\n    pass"}),
        make_submission(root, "nbcorrupt", files={"TwoLayerNet.ipynb": "{not json",
                                                  "two_layer_net_best.npz": b"x"}),
    ]
    nested = make_submission(root / "nest", "inner")
    subs.append(nested.parent)          # everything inside one top folder
    good = make_submission(root / "z", "zipped")
    with zipfile.ZipFile(root / "zipped.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(good.rglob("*")):
            if p.is_file():
                z.write(p, p.relative_to(good))
    subs.append(root / "zipped.zip")
    (root / "notazip.zip").write_text("hello")
    subs.append(root / "notazip.zip")
    with zipfile.ZipFile(root / "empty.zip", "w"):
        pass
    subs.append(root / "empty.zip")
    with zipfile.ZipFile(root / "traversal.zip", "w") as z:
        z.writestr("cs239/__init__.py", "")
        z.writestr("../../escaped.py", "x = 1")
    subs.append(root / "traversal.zip")
    with zipfile.ZipFile(root / "symlink.zip", "w") as z:
        info = zipfile.ZipInfo("cs239/layers.py")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(info, "/etc/passwd")
    subs.append(root / "symlink.zip")
    with zipfile.ZipFile(root / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("cs239/__init__.py", "")
        z.writestr("cs239/big.bin", b"\0" * (20 << 20))
    subs.append(root / "bomb.zip")
    with zipfile.ZipFile(root / "many.zip", "w") as z:
        for i in range(2100):
            z.writestr(f"cs239/f{i}.py", "")
    subs.append(root / "many.zip")
    (root / "nopkg").mkdir()
    (root / "nopkg" / "Backprop.ipynb").write_text("{}")
    subs.append(root / "nopkg")
    linkdir = make_submission(root, "linkdir")
    os.symlink("/etc/passwd", linkdir / "cs239" / "passwd.py")
    subs.append(linkdir)
    subs.append(root / "does-not-exist")
    out = root / "out"
    p = grade(subs, out, jobs=2)
    return root, out, p


def test_reference_gets_full_marks_and_results_format(batch):
    root, out, p = batch
    r = results(out, "ref")
    assert r["score"] == FULL
    assert set(r) >= {"score", "execution_time", "output", "tests"}
    for t in r["tests"]:
        assert set(t) >= {"name", "score", "max_score", "output", "visibility"}
        assert t["visibility"] in ("visible", "after_due_date", "after_published", "hidden")
    skipped = [t for t in r["tests"] if t["output"].startswith("not scored")]
    assert skipped and skipped[0]["score"] == 0
    assert (out / "ref" / "feedback.md").read_text().startswith("# Feedback for ref")
    assert "ref" in p.stdout and "graded" in p.stdout       # the summary table


def test_stub_fails_only_its_tests_with_a_clear_message(batch):
    _, out, _ = batch
    r = results(out, "stub")
    ref = scores(results(out, "ref"))
    s = scores(r)
    for name, score in s.items():
        if name.startswith("affine_forward"):
            assert score == 0
            assert "not implemented yet (NotImplementedError at cs239/layers.py:" in \
                outputs(r)[name]
        elif not name.startswith("TwoLayerNet"):
            assert score == ref[name], name


def test_syntax_error_names_file_and_line(batch):
    _, out, _ = batch
    r = results(out, "syntax")
    assert "cs239/optim.py, line" in r["output"]
    o = outputs(r)["sgd_momentum: one step matches"]
    assert "SyntaxError" in o and "cs239/optim.py, line" in o
    assert scores(r)["affine_forward: output matches on 4-D input"] == 2


def test_corrupt_notebook_is_reported_and_package_still_graded(batch):
    _, out, _ = batch
    r = results(out, "nbcorrupt")
    assert "TwoLayerNet.ipynb is not a valid notebook" in r["output"]
    assert r["score"] == FULL + 1      # its (fake) model file exists: the skip test passes


def test_single_top_folder_and_zip_are_accepted(batch):
    _, out, _ = batch
    assert results(out, "nest")["score"] == FULL
    assert results(out, "zipped")["score"] == FULL


@pytest.mark.parametrize("stem,message", [
    ("notazip", "is not a zip file"),
    ("empty", "the zip file is empty"),
    ("traversal", "path traversal"),
    ("symlink", "symbolic links are not allowed"),
    ("bomb", "zip bomb"),
    ("many", "too many files"),
    ("nopkg", "missing package: no cs239/ folder"),
    ("linkdir", "symbolic links are not allowed"),
    ("does-not-exist", "does not exist"),
])
def test_bad_input_gets_zero_and_a_clear_message(batch, stem, message):
    root, out, _ = batch
    r = results(out, stem)
    assert r["score"] == 0 and r["tests"] == []
    assert message in r["output"], r["output"]
    assert message in (out / stem / "feedback.md").read_text()
    assert not (root.parent / "escaped.py").exists()


def test_grades_csv_has_one_row_per_submission_and_one_column_per_name(batch):
    _, out, p = batch
    assert p.returncode == 0
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text())))
    assert len(rows) == 15
    header = list(rows[0])
    assert header[0] == "submission" and header[-1] == "total"
    assert header[1:6] == ["affine_forward", "relu_forward", "softmax_loss", "sgd_momentum",
                           "TwoLayerNet.loss"]
    by = {r["submission"]: r for r in rows}
    assert float(by["ref"]["total"]) == FULL and float(by["stub"]["affine_forward"]) == 0
    assert float(by["notazip"]["total"]) == 0


def test_resumable_by_content_hash(tmp_path):
    a = make_submission(tmp_path, "a")
    b = make_submission(tmp_path, "b", {"layers.py": STUB})
    out = tmp_path / "out"
    grade([a, b], out)
    first = (out / "a" / "results.json").stat().st_mtime_ns
    p = grade([a, b], out)
    assert p.stdout.count("cached") == 2
    assert (out / "a" / "results.json").stat().st_mtime_ns == first
    with open(b / "cs239" / "layers.py", "a") as f:       # b changed: regraded
        f.write("\n# edited\n")
    p = grade([a, b], out)
    assert p.stdout.count("cached") == 1
    p = grade([a], out, "--force")
    assert "cached" not in p.stdout
    assert (out / "a" / "results.json").stat().st_mtime_ns != first
    rows = (out / "grades.csv").read_text().splitlines()
    assert len(rows) == 3            # every submission graded into DIR so far


def test_grader_failure_exits_nonzero(tmp_path):
    p = grade([make_submission(tmp_path, "a")], tmp_path / "out",
              suites=tmp_path / "no-suites", check=False)
    assert p.returncode != 0 and "does not exist" in p.stderr


def test_user_mode(tmp_path):
    """The non-root mode (forced): same results, limits and timeouts still apply."""
    subs = [make_submission(tmp_path, "ref"), make_submission(tmp_path, "stub",
                                                              {"layers.py": STUB}),
            make_submission(tmp_path, "loop", {"layers.py": "def affine_forward(x, w, b):\n"
                                                             "    while True:\n        pass"})]
    out = tmp_path / "out"
    grade(subs, out, "--sandbox-mode", "user", timeout=1.5)
    assert results(out, "ref")["score"] == FULL
    assert scores(results(out, "loop")) == scores(results(out, "stub"))
    assert "did not finish within 1.5 s" in outputs(results(out, "loop"))[
        "affine_forward: output matches on 4-D input"]


def test_killed_batch_loses_nothing_already_graded(tmp_path):
    import signal
    import subprocess
    import time
    from tests.autograder_fixtures.build_submissions import FIXTURE_SUITES, REPO
    a = make_submission(tmp_path, "a")
    slow = make_submission(tmp_path, "slow", {"layers.py": "def affine_forward(x, w, b):\n"
                                                           "    while True:\n        pass"})
    out = tmp_path / "out"
    p = subprocess.Popen([sys.executable, "-m", "autograder", "grade", str(a), str(slow),
                          "--out", str(out), "--suites", str(FIXTURE_SUITES), "--timeout", "2",
                          "--no-notebooks", "-q"], cwd=REPO, start_new_session=True)
    deadline = time.time() + 60
    while not (out / "a" / "results.json").exists() and time.time() < deadline:
        time.sleep(0.1)
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    assert (out / "a" / "results.json").exists() and not (out / "slow").exists()
    first = results(out, "a")
    q = grade([a, slow], out, timeout=2)
    assert "cached" in q.stdout and results(out, "a") == first
    assert set(scores(results(out, "slow"))) == set(scores(first))
    assert not list(out.rglob(".results.json.*"))        # no half-written files


def test_grade_ends_with_the_report_and_keeps_student_code(batch):
    """Issue 14: every grade writes report.html and tests.csv, and code.json (what the student
    wrote, for the similarity section) next to each results.json; none for rejected input."""
    _, out, p = batch
    assert f"report: {out / 'report.html'}" in p.stdout
    page = (out / "report.html").read_text()
    assert 'id="per-function"' in page and "Traceback" not in page
    assert (out / "tests.csv").read_text().count("\n") == 15 + 2
    code = json.loads((out / "ref" / "code.json").read_text())
    assert code["sha256"] == results(out, "ref")["extra_data"]["cs239"]["sha256"]
    assert not (out / "notazip" / "code.json").exists()
