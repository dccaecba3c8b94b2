"""The instructor's report (autograder/report.py) and code similarity (autograder/similarity.py).

- a batch folder with good, odd-named, corrupt, partial and missing results gives a page that
  lists what it skipped and why, escapes every name, and a tests.csv matrix; never a traceback;
- the page renders in headless Chromium and its DOM holds the histogram and the per-function
  table (skipped, with the reason, where no Chromium is installed);
- similarity flags a copy of the solution code under renamed variables, and not two
  independently written correct solutions nor two untouched releases;
- extraction keeps only what the student wrote and never follows a symlink out of a submission.
"""
import csv
import html
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import report as REP
from autograder import results as R
from autograder import similarity as S
from tests.report_fixtures.independent import BODIES, disguise, fill_stubs
from tools.release import fill_in

ROOT = Path(__file__).resolve().parents[1]
RELEASE = ROOT / "assignments" / "hw3"
ODD = '<b onclick="alert(1)">x<b> & Ünïcode \'q\' %20'   # a folder name: no slash
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _test(name, score, mx, output=""):
    return dict(name=name, score=float(score), max_score=float(mx), output=output,
                visibility="visible", status="passed" if score >= mx else "failed")


def _results(tests, seconds=3.0, status="graded", sha="s"):
    return R.build(tests, [], seconds, {"status": status, "sha256": sha})


def _write(out, name, res):
    (out / name).mkdir(parents=True)
    (out / name / "results.json").write_text(json.dumps(res))
    (out / name / "feedback.md").write_text(R.feedback_md(name, res))


HALF = "lacks the factor 0.5"


def _batch(out):
    """A small graded batch: varied scores, a diagnosed cause, a timeout, a crash, a missing
    model, an odd name; plus corrupt, partial, wrongly typed and missing results."""
    for i in range(8):
        ok = i % 3 != 0
        _write(out, f"student{i:02d}", _results([
            _test("affine_forward: output matches", 4 if i != 5 else 0, 4,
                  "" if i != 5 else "did not finish within 20 s (an infinite loop...)"),
            _test("relu_backward: dx matches", 3 if i % 2 else 0, 3,
                  "" if i % 2 else "dx: max relative error 1.0e+00 (should be < 1e-06); "
                                   "looks like the mask was taken from dout"),
            _test("TwoLayerNet.loss: loss with regularization", 8 if ok else 0, 8,
                  "" if ok else f"loss: max relative error 3.1e-0{i} (should be < 1e-06); "
                                f"looks like the regularization {HALF}; note: x"),
            _test("best_model: fc_net_best.npz is present and valid", 1 if i != 2 else 0, 1,
                  "" if i != 2 else "fc_net_best.npz not found in the submission: run ..."),
            _test("TwoLayerNet.ipynb: two-layer-loss", 2 if i != 7 else 0, 2,
                  "" if i != 7 else "the worker process died (it exited, was killed, or ran "
                                    "out of memory)"),
        ], seconds=2.0 + i))
    _write(out, ODD, _results([_test("affine_forward: output matches", 0, 4,
                                     "<b>raised</b> ValueError: <img src=x onerror=alert(1)>")]))
    (out / "corrupt").mkdir()
    (out / "corrupt" / "results.json").write_text("{not json")
    (out / "partial").mkdir()
    (out / "partial" / "results.json").write_text(json.dumps(_results([]))[:40])
    (out / "wrong-types").mkdir()
    (out / "wrong-types" / "results.json").write_text(json.dumps({"score": "ten", "tests": []}))
    (out / "killed").mkdir()
    (out / "killed" / "grader.log").write_text("")
    (out / "grades.csv").write_text("submission,affine_forward,written answers,total\n"
                                    + "".join(f"student{i:02d},4,{i},10\n" for i in range(8)))


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    out = tmp_path_factory.mktemp("graded")
    _batch(out)
    p = subprocess.run([sys.executable, "-m", "autograder", "report", str(out)], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr and f"report: {out / 'report.html'}" in p.stdout
    return out, (out / "report.html").read_text()


def test_bad_results_are_listed_as_skipped_with_the_reason(batch):
    _, page = batch
    skipped = page[page.index('id="skipped-list"'):]
    for name, why in (("corrupt", "not valid JSON"), ("partial", "not valid JSON"),
                      ("wrong-types", "no numeric &#x27;score&#x27;"),
                      ("killed", "no results.json")):
        assert re.search(rf"<li>{name}: [^<]*{why}", skipped), name


def test_odd_names_and_student_text_are_escaped(batch):
    _, page = batch
    assert "<b onclick" not in page and "<img src=x" not in page and "<b>raised" not in page
    assert html.escape(ODD) in page
    assert 'href="%3Cb%20onclick%3D%22alert%281%29%22%3Ex%3Cb%3E%20%26%20' in page  # quoted


def test_per_name_table_counts_causes_and_links_an_example(batch):
    out, page = batch
    table = page[page.index('id="per-function"'):page.index("</table>",
                                                               page.index('id="per-function"'))]
    row = table[table.index("<td>TwoLayerNet.loss</td>"):].split("</tr>")[0]
    # students 0, 3, 6 lack the 0.5: one cause, counted once each, numbers left out
    assert f"3 of 8: looks like the regularization {HALF} (e.g. " in row
    assert '<a href="student00/feedback.md">' in row
    assert (out / "student00" / "feedback.md").is_file()
    assert '<td class="num">62%</td>' in row      # pass rate 5 of 8
    relu = table[table.index("<td>relu_backward</td>"):].split("</tr>")[0]
    assert "4 of 8: looks like the mask was taken from dout" in relu


def test_health_lists_timeouts_crashes_and_what_was_not_scored(batch):
    _, page = batch
    health = page[page.index('id="health"'):page.index('id="similarity"')]
    assert "Timeouts (tests stopped for time): 1 submissions" in health
    assert '<a href="student05/feedback.md">student05</a>: 1 tests' in health
    assert "Crashes" in health and "student07" in health
    assert re.search(r"student02</a></td><td>fc_net_best.npz</td><td>model file missing", health)
    assert "median" in health and 'id="grading-times"' in health


def test_manual_column_of_the_gradebook_joins_the_spread(batch):
    _, page = batch
    assert "manual part" in page and 'id="component-spread"' in page


def test_tests_csv_is_the_submission_by_test_matrix(batch):
    out, _ = batch
    rows = list(csv.reader(io.StringIO((out / "tests.csv").read_text())))
    header, maxes = rows[0], rows[1]
    col = header.index("relu_backward: dx matches")
    assert header[col + 1] == "relu_backward: dx matches [passed]" and maxes[col] == "3"
    by = {r[0]: r for r in rows[2:]}
    assert len(by) == 9 and ODD in by
    assert by["student01"][col:col + 2] == ["3", "1"]
    assert by["student02"][col:col + 2] == ["0", "0"]
    assert by[ODD][col:col + 2] == ["", ""]            # not run for that one: left empty


def test_report_of_a_missing_folder_is_a_clear_error(tmp_path):
    p = subprocess.run([sys.executable, "-m", "autograder", "report", str(tmp_path / "nope")],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "is not a folder of graded submissions" in p.stderr
    assert "Traceback" not in p.stderr


def _browser():
    return next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)


def test_page_renders_in_headless_chromium(batch, tmp_path):
    browser = _browser()
    if browser is None:
        pytest.skip("no Chromium installed (apt-get install chromium); the page was not rendered")
    out, _ = batch
    p = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                        f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                        (out / "report.html").as_uri()],
                       capture_output=True, text=True, timeout=120)
    dom = p.stdout
    assert p.returncode == 0 and "</html>" in dom, p.stderr[-2000:]
    img = re.search(r'<img id="score-histogram"[^>]*>', dom)
    assert img and 'src="data:image/png;base64,' in img.group(0)
    table = re.search(r'<table id="per-function">(.*?)</table>', dom, re.S)
    assert table
    names = re.findall(r"<tr><td>([^<]+)</td>", table.group(1))
    assert names == ["affine_forward", "relu_backward", "TwoLayerNet.loss", "best_model",
                     "TwoLayerNet.ipynb"]
    # self-contained: nothing is fetched (no remote src/href, no script, no stylesheet link)
    assert not re.search(r'(src|href)="(https?:)?//', dom) and "<script" not in dom
    assert "<link" not in dom


# ------------------------------------------------------------------ similarity

@pytest.fixture(scope="module")
def subs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("subs")
    ref = fill_in(RELEASE, tmp / "reference")
    ind = tmp / "independent"
    shutil.copytree(RELEASE, ind)
    for f in ("layers.py", "optim.py"):
        (ind / "cs239" / f).write_text(fill_stubs((RELEASE / "cs239" / f).read_text(), BODIES))
    # the reference's layers and optimizers, independently written: the only shared code
    ref_part = tmp / "reference-part"
    shutil.copytree(RELEASE, ref_part)
    for f in ("layers.py", "optim.py"):
        shutil.copy(ref / "cs239" / f, ref_part / "cs239" / f)
    copy = tmp / "copy"
    shutil.copytree(ref, copy)
    for p in (copy / "cs239").rglob("*.py"):
        p.write_text(disguise(p.read_text()))
    for n in ("untouched-1", "untouched-2"):
        shutil.copytree(RELEASE, tmp / n)
    return tmp


def _pairs(subs, names):
    pairs, _ = S.find_pairs({n: S.extract(subs / n) for n in names})
    return {frozenset((p.a, p.b)): p for p in pairs}


def test_renamed_copy_of_the_solution_is_flagged(subs):
    assert "inp" in (subs / "copy" / "cs239" / "layers.py").read_text()   # really renamed
    pairs = _pairs(subs, ["reference", "copy", "independent"])
    p = pairs.get(frozenset(("reference", "copy")))
    assert p is not None, pairs
    assert max(p.sim_a, p.sim_b) > 0.9
    assert "<mark>" in p.html_a and "<mark>" in p.html_b
    assert "cs239/layers.py &middot; affine_backward" in p.html_a + p.html_b


def test_independent_correct_solutions_are_not_flagged(subs):
    pairs = _pairs(subs, ["reference-part", "independent"])
    assert pairs == {}
    # the same two with the threshold at zero: they do share idioms, which stay below it
    low, _ = S.find_pairs({n: S.extract(subs / n) for n in ("reference-part", "independent")},
                          threshold=0, min_overlap=0)
    assert low and max(low[0].sim_a, low[0].sim_b) < S.THRESHOLD / 2


def test_untouched_releases_have_no_code_and_are_never_flagged(subs):
    for n in ("untouched-1", "untouched-2"):
        assert S.extract(subs / n) == {"passages": [], "notes": []}
    pairs, stats = S.find_pairs({n: S.extract(subs / n)
                                 for n in ("untouched-1", "untouched-2", "reference")})
    assert pairs == [] and stats["without_code"] == 2


def test_only_student_written_code_is_kept(subs):
    code = S.extract(subs / "reference-part")
    files = {p["file"] for p in code["passages"]}
    assert files == {"cs239/layers.py", "cs239/optim.py"}
    text = "\n".join(p["text"] for p in code["passages"])
    assert "out = x.reshape(x.shape[0], -1) @ w + b" in text
    assert "def affine_forward" not in text and "Inputs:" not in text   # starter, docstrings
    assert {p["where"] for p in code["passages"]} >= {"affine_forward", "adam"}


def test_extraction_never_follows_a_symlink(subs, tmp_path):
    secret = tmp_path / "secret.py"
    secret.write_text("TOP_SECRET = 'reference solution of the grader'\n")
    sub = tmp_path / "linked"
    shutil.copytree(subs / "reference-part", sub)
    (sub / "cs239" / "layers.py").unlink()
    (sub / "cs239" / "layers.py").symlink_to(secret)
    (sub / "Backprop.ipynb").unlink()
    (sub / "Backprop.ipynb").symlink_to(secret)
    code = S.extract(sub)
    assert "TOP_SECRET" not in json.dumps(code)
    assert "cs239/layers.py: not a regular file" in code["notes"]
    assert "Backprop.ipynb: not a regular file" in code["notes"]


def test_saved_code_drives_the_report_and_stale_code_is_not_used(subs, tmp_path):
    out = tmp_path / "out"
    for n in ("reference", "copy", "untouched-1"):
        _write(out, n, _results([_test("affine_forward: output matches", 4, 4)], sha=n))
        S.save_code(subs / n, out / n, n)
    code = json.loads((out / "copy" / "code.json").read_text())
    assert code["tokens"]["filtered"] and code["sha256"] == "copy"
    (out / "stale").mkdir()
    shutil.copy(out / "copy" / "code.json", out / "stale" / "code.json")
    (out / "stale" / "results.json").write_text(json.dumps(_results([], sha="other")))
    page = REP.write_report(out).read_text()
    sim = page[page.index('id="similarity"'):page.index('id="skipped"')]
    assert "leads for a person to read, never a penalty" in sim
    assert re.search(r"<td>copy</td><td class=\"num\">\d+%</td><td>reference</td>", sim)
    assert "stale: code.json belongs to another version" in sim
    assert 'id="pair-1"' in sim and "pair-2" not in sim


def test_notebook_solution_cells_are_compared_without_their_starter_lines(subs):
    code = S.extract(subs / "reference")
    cells = [p for p in code["passages"] if p["file"].endswith(".ipynb")]
    assert {p["where"] for p in cells} >= {"cell fc-solver", "cell two-layer-search"}
    starter = "best_net = None  # store the best model into this"
    assert not any(starter in p["text"] for p in cells)


def test_a_huge_student_file_is_capped(subs, tmp_path):
    sub = tmp_path / "huge"
    shutil.copytree(subs / "untouched-1", sub)
    layers = sub / "cs239" / "layers.py"
    layers.write_text(layers.read_text() + "    x = x + 1\n" * 60_000)     # 780 kB
    (sub / "cs239" / "optim.py").write_text("y = 2\n" * 400_000)          # 2.4 MB
    code = S.extract(sub)
    assert sum(len(p["text"]) for p in code["passages"]) <= S.MAX_PASSAGES_CHARS
    assert "cs239/optim.py: larger than 2 MiB" in code["notes"]
    assert any("only the first" in n for n in code["notes"])


def test_report_of_an_empty_or_odd_folder(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "results.json").write_text("[]")
    (tmp_path / "grades.csv").write_text("x,y\n")
    page = REP.write_report(tmp_path).read_text()
    assert "No graded submission." in page
    assert "<li>a: results.json: not a JSON object</li>" in page


def test_saving_code_never_stops_grading(subs, tmp_path, monkeypatch):
    def broken(passages, filtered=None):
        raise ImportError("No module named 'copydetect'")
    monkeypatch.setattr(S, "tokenize", broken)
    code = json.loads(S.student_code(subs / "reference-part", "x"))
    assert code["passages"] and "not tokenized: ImportError" in code["notes"][0]
    code = json.loads(S.student_code(subs / "reference-part", "x", release=tmp_path / "none"))
    assert code["passages"] == [] and code["sha256"] == "x"


def test_the_independent_solution_is_correct(subs, tmp_path):
    """The negative similarity example is a real correct solution: the hidden suites of its
    functions pass through the in-process stand-in (tests/test_suites_standin.py)."""
    suites = ROOT / "autograder" / "suites"
    out = tmp_path / "results.json"
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        *(str(suites / f"test_{m}.py") for m in ("layers", "losses", "optim",
                                                                  "swish")),
                        "-p", "tests.test_suites_standin", "--submission",
                        str(subs / "independent"), "--results", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-2000:]
    recs = json.loads(out.read_text())
    assert len(recs) > 30 and all(r["status"] == "passed" for r in recs)
