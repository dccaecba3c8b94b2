"""The student tools shipped in the release: `python -m cs239.tools.check` and
`python -m cs239.tools.submit`.

Both run as a student runs them: from a homework folder holding its own cs239/ package (a copy of
the reference, of the stubbed release, or of a broken variant), in a fresh process.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

from cs239.tools import check as check_mod
from cs239.tools import manifest
from cs239.tools import submit as submit_mod
from tools import stubify

ROOT = Path(__file__).resolve().parents[1]
GRADED = [f.name for f in manifest.FUNCTIONS]
ZIP = manifest.SUBMISSION_ZIP


def homework(folder, stubbed=False):
    """A homework folder with a copy of cs239 (the reference, or stubbed as in the release)."""
    folder = Path(folder)
    for py in sorted((ROOT / "cs239").rglob("*.py")):
        if "__pycache__" in py.parts:
            continue
        rel = py.relative_to(ROOT).as_posix()
        dest = folder / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if stubbed:
            stubify.stubify_file(py, dest, relpath=rel)
        else:
            shutil.copy(py, dest)
    return folder


def run(folder, module, *args, env=None, timeout=300):
    full_env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", **(env or {}))
    return subprocess.run([sys.executable, "-m", module, *args], cwd=folder, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def check_json(folder, *args, **kw):
    proc = run(folder, "cs239.tools.check", "--no-validate", "--json", "report.json", *args, **kw)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads((Path(folder) / "report.json").read_text()), proc.stdout


def replace_in(path, old, new):
    text = Path(path).read_text()
    assert old in text, old
    Path(path).write_text(text.replace(old, new))


# ------------------------------------------------------------------------------------------------
# cs239.tools.check
# ------------------------------------------------------------------------------------------------

def test_check_reference_passes_everything(tmp_path):
    report, out = check_json(homework(tmp_path))
    statuses = {n: r["status"] for n, r in report["functions"].items()}
    assert statuses == {n: "passes public checks" for n in GRADED}, out
    assert "%d of %d pass the public checks" % (len(GRADED), len(GRADED)) in out
    assert str(tmp_path / "cs239") in out          # it checks the folder's own package


def test_check_stubbed_release_is_not_started(tmp_path):
    report, out = check_json(homework(tmp_path, stubbed=True))
    statuses = {n: r["status"] for n, r in report["functions"].items()}
    assert statuses == {n: "not started" for n in GRADED}, out
    n = len(GRADED)
    assert "0 of %d pass the public checks, 0 fail, %d not started" % (n, n) in out
    # the notebooks are reported even when absent
    assert report["notebooks"]["TwoLayerNet.ipynb"][0]["text"].startswith("missing")


def test_check_reports_each_failure_in_isolation(tmp_path):
    hw = homework(tmp_path)
    # wrong gradient, endless loop, dead process, wrong shape, partly implemented, blocked
    replace_in(hw / "cs239/layers.py", "dx = np.where(x > 0, dout, 0)", "dx = dout")
    replace_in(hw / "cs239/optim.py", "    t = config[\"t\"] + 1\n",
               "    t = config[\"t\"] + 1\n    while True:\n        pass\n")
    replace_in(hw / "cs239/optim.py", "    next_w = w + v\n",
               "    next_w = w + v\n    import os; os._exit(3)\n")
    replace_in(hw / "cs239/derivations.py", "dW = np.outer(h, r) + np.outer(W @ r, x)",
               "dW = np.outer(h, r).T")
    replace_in(hw / "cs239/classifiers/neural_net.py",
               "        grads[\"b1\"] = dhidden.sum(axis=0)\n",
               "        grads[\"b1\"] = dhidden.sum(axis=0)\n        raise NotImplementedError("
               "'TwoLayerNet.loss in cs239/classifiers/neural_net.py is not implemented yet; "
               "it is asked for in TwoLayerNet.ipynb, section \\'Backward pass\\'.')\n")
    stubbed = stubify.stubify_source((ROOT / "cs239/layers.py").read_text(), "cs239/layers.py")
    layers = (hw / "cs239/layers.py").read_text()
    start = layers.index("def affine_forward")
    end = layers.index("def affine_backward")
    s_start, s_end = stubbed.index("def affine_forward"), stubbed.index("def affine_backward")
    (hw / "cs239/layers.py").write_text(layers[:start] + stubbed[s_start:s_end] + layers[end:])

    report, out = check_json(hw, *[n for n in GRADED if n != "adam"])
    desc = {n: check_mod.describe(r) for n, r in report["functions"].items()}
    assert desc["relu_backward"].startswith("fails: dx against finite differences of "
                                            "relu_forward (the notebook's input): dx: relative "
                                            "error")
    report_adam, _ = check_json(hw, "--timeout", "3", "adam")
    assert check_mod.describe(report_adam["functions"]["adam"]) == (
        "fails: timed out after 3 s (an endless loop, or very slow code?)")
    assert desc["sgd_momentum"].startswith("fails: the check process died (exit code 3)")
    assert desc["autoencoder_grad"].startswith("fails: dW against finite differences, W of shape "
                                               "(1, 2): dW: shape (2, 1), expected (1, 2)")
    assert desc["TwoLayerNet.loss"] == ("fails: loss of the toy network (reg = 0.05): part of "
                                        "it is not implemented yet "
                                        "(cs239/classifiers/neural_net.py:%d)"
                                        % _line_of(hw / "cs239/classifiers/neural_net.py",
                                                   "raise NotImplementedError("))
    assert desc["affine_forward"] == "not started"
    assert "needs affine_forward, which is not implemented yet" in desc["FullyConnectedNet.loss"]
    assert "needs affine_forward" in desc["affine_backward"]
    # everything else is unaffected
    changed = {"relu_backward", "sgd_momentum", "autoencoder_grad", "TwoLayerNet.loss",
               "TwoLayerNet.train", "TwoLayerNet.predict", "affine_forward", "affine_backward",
               "FullyConnectedNet.loss"}
    assert {n for n in set(report["functions"]) - changed if report["functions"][n]["status"] !=
            "passes public checks"} == set()


def _line_of(path, text):
    for i, line in enumerate(Path(path).read_text().splitlines(), 1):
        if text in line:
            return i
    raise AssertionError(text)


def test_check_exception_names_the_line(tmp_path):
    hw = homework(tmp_path)
    replace_in(hw / "cs239/layers.py", "    out = np.maximum(x, 0)\n",
               "    out = np.maximum(x, 0)\n    out = out + undefined_name\n")
    report, _ = check_json(hw, "relu_forward")
    line = _line_of(hw / "cs239/layers.py", "undefined_name")
    assert check_mod.describe(report["functions"]["relu_forward"]) == (
        "fails: output on the notebook's linspace input: NameError: name 'undefined_name' is "
        "not defined (at cs239/layers.py:%d)" % line)
    assert list(report["functions"]) == ["relu_forward"]


def test_check_syntax_error_is_reported_not_crashed(tmp_path):
    hw = homework(tmp_path)
    with open(hw / "cs239/optim.py", "a") as f:
        f.write("def broken(:\n")
    report, _ = check_json(hw, "adam", "affine_forward")
    assert "SyntaxError" in report["functions"]["adam"]["detail"]
    assert "optim.py" in report["functions"]["adam"]["detail"]
    assert report["functions"]["affine_forward"]["status"] == "passes public checks"


def test_check_unknown_function_is_its_own_error(tmp_path):
    proc = run(homework(tmp_path), "cs239.tools.check", "no_such_function")
    assert proc.returncode == 2 and "unknown function(s): no_such_function" in proc.stderr


# Notebook checks ----------------------------------------------------------------------------

def nbg(**kw):
    meta = {"grade": False, "solution": False, "locked": False, "schema_version": 3}
    meta.update(kw)
    return {"nbgrader": meta}


def small_notebook(body="return 2 * x", executed=True, error_in_test=False):
    """A tiny nbgrader notebook (solution cell + test cell), as saved after running it."""
    cells = [
        nbformat.v4.new_markdown_cell("# Tiny", metadata=nbg(locked=True, grade_id="t")),
        nbformat.v4.new_code_cell("def twice(x):\n    %s" % body,
                                  metadata=nbg(solution=True, grade_id="twice")),
        nbformat.v4.new_code_cell("assert twice(2) == 4",
                                  metadata=nbg(grade=True, grade_id="test_twice", points=1)),
    ]
    if executed:
        cells[1].execution_count, cells[2].execution_count = 1, 2
        cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="ok\n")]
        if error_in_test:
            cells[2].outputs = [nbformat.v4.new_output("error", ename="AssertionError",
                                                       evalue="", traceback=[])]
    nb = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    for i, c in enumerate(nb.cells):
        c["id"] = "tiny-%d" % i
    return nb


def save_models(folder):
    np.savez(folder / "two_layer_net_best.npz", W1=np.ones((4, 3)), b1=np.zeros(3),
             W2=np.ones((3, 2)), b2=np.zeros(2))
    np.savez(folder / "fc_net_best.npz", W1=np.ones((4, 3)), b1=np.zeros(3),
             activation=np.array("relu"))


def test_check_notebook_report(tmp_path):
    hw = homework(tmp_path)
    nbformat.write(small_notebook(), hw / "TwoLayerNet.ipynb")
    nbformat.write(small_notebook(executed=False, body="# YOUR CODE HERE\n    "
                                  "raise NotImplementedError()"), hw / "FullyConnectedNets.ipynb")
    nbformat.write(small_notebook(error_in_test=True), hw / "Backprop.ipynb")
    save_models(hw)
    (hw / "fc_net_best.npz").write_bytes(b"not a zip")
    report, out = check_json(hw, "--no-functions")
    assert report["functions"] == {}
    texts = {k: [f["text"] for f in v] for k, v in report["notebooks"].items()}
    assert texts["TwoLayerNet.ipynb"] == [
        "run top to bottom (2 code cells)", "test cells passed when last run (1)",
        "two_layer_net_best.npz saved (W1, W2, b1, b2)"]
    fc = texts["FullyConnectedNets.ipynb"]
    assert fc[0].startswith("not run") and fc[1] == "1 answer cell(s) not filled in yet (cells 1)"
    assert fc[2].startswith("fc_net_best.npz cannot be loaded")
    assert "1 of 1 test cells failed when last run (cells 2)" in texts["Backprop.ipynb"]
    assert "1 cell(s) raised an error, first cell 2: AssertionError" in texts["Backprop.ipynb"][1]


def test_check_runs_nbgrader_validate_on_a_copy(tmp_path):
    hw = homework(tmp_path)
    nbformat.write(small_notebook(), hw / "Backprop.ipynb")
    nbformat.write(small_notebook(body="return 3 * x"), hw / "TwoLayerNet.ipynb")
    before = {p: p.read_bytes() for p in hw.rglob("*") if p.is_file()}
    proc = run(hw, "cs239.tools.check", "--no-functions", "--json", "r.json",
               "--validate-timeout", "120")
    assert proc.returncode == 0, proc.stderr
    # says how long before it starts (no recorded run times here: the manifest's typical ones)
    assert re.search(r"Running nbgrader validate on TwoLayerNet.ipynb, Backprop.ipynb: each "
                     r"notebook re-runs in a fresh kernel, about \d+ (s|minutes)", proc.stdout)
    report = json.loads((hw / "r.json").read_text())["notebooks"]
    assert report["Backprop.ipynb"][-1]["ok"] is True
    assert report["Backprop.ipynb"][-1]["text"].startswith("nbgrader validate: passes")
    assert report["TwoLayerNet.ipynb"][-1]["ok"] is False
    assert report["TwoLayerNet.ipynb"][-1]["text"].startswith(
        "nbgrader validate: 1 test cell(s) fail when run from a fresh kernel, first: "
        "AssertionError")
    assert report["FullyConnectedNets.ipynb"][0]["text"].startswith("missing")
    after = {p: p.read_bytes() for p in hw.rglob("*") if p.is_file() and p.name != "r.json"}
    assert after == before                       # validation never touches the student's files


# ------------------------------------------------------------------------------------------------
# cs239.tools.submit
# ------------------------------------------------------------------------------------------------

def ready_folder(folder):
    hw = homework(folder)
    for name in submit_mod.NOTEBOOKS:
        nbformat.write(small_notebook(), hw / name)
    save_models(hw)
    (hw / "cs239/__pycache__").mkdir(exist_ok=True)
    (hw / "cs239/__pycache__/layers.cpython-311.pyc").write_bytes(b"junk")
    (hw / "datasets").mkdir()
    (hw / "datasets/big_data.bin").write_bytes(b"x" * 1000)
    return hw


def expected_names(hw):
    py = sorted(p.relative_to(hw).as_posix() for p in (hw / "cs239").rglob("*.py"))
    return submit_mod.NOTEBOOKS + submit_mod.MODELS + py


def test_submit_builds_the_zip_and_lists_it(tmp_path):
    hw = ready_folder(tmp_path)
    proc = run(hw, "cs239.tools.submit", "--no-pdf")
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(hw / ZIP) as z:
        names = z.namelist()
        assert sorted(names) == sorted(expected_names(hw))
        assert z.read("cs239/layers.py") == (hw / "cs239/layers.py").read_bytes()
        assert z.read("TwoLayerNet.ipynb") == (hw / "TwoLayerNet.ipynb").read_bytes()
        assert z.testzip() is None
    for name in ["TwoLayerNet.ipynb", "fc_net_best.npz", "cs239/classifiers/fc_net.py",
                 "total (zip)", "Upload " + ZIP]:
        assert name in proc.stdout
    assert not (hw / (ZIP + ".part")).exists()


def test_submit_refuses_missing_files(tmp_path):
    hw = ready_folder(tmp_path)
    (hw / "fc_net_best.npz").unlink()
    (hw / "Backprop.ipynb").unlink()
    proc = run(hw, "cs239.tools.submit", "--no-pdf")
    assert proc.returncode == 1
    assert "not submitted: missing from" in proc.stderr
    assert "  Backprop.ipynb" in proc.stderr and "  fc_net_best.npz" in proc.stderr
    assert "save the best models" in proc.stderr
    assert not (hw / ZIP).exists()


@pytest.mark.parametrize("how", ["never", "partly"])
def test_submit_refuses_notebooks_that_were_not_run(tmp_path, how):
    hw = ready_folder(tmp_path)
    nb = small_notebook(executed=(how == "partly"))
    if how == "partly":
        nb.cells[2].execution_count = None
    nbformat.write(nb, hw / "FullyConnectedNets.ipynb")
    proc = run(hw, "cs239.tools.submit", "--no-pdf")
    assert proc.returncode == 1
    expected = ("FullyConnectedNets.ipynb was not run" if how == "never"
                else "FullyConnectedNets.ipynb was only partly run: 1 of 2 code cells")
    assert expected in proc.stderr and "Restart & Run All" in proc.stderr
    assert not (hw / ZIP).exists()


def test_validate_estimate_uses_the_notebooks_own_run_times(tmp_path):
    nb = small_notebook()
    nb.cells[1].metadata["execution"] = {"iopub.execute_input": "2026-01-01T10:00:00.000Z",
                                         "shell.execute_reply": "2026-01-01T10:03:00.000Z"}
    nbformat.write(nb, tmp_path / "FullyConnectedNets.ipynb")
    nbformat.write(small_notebook(), tmp_path / "Backprop.ipynb")
    assert check_mod.run_seconds(tmp_path / "FullyConnectedNets.ipynb") == 180
    assert check_mod.run_seconds(tmp_path / "Backprop.ipynb") is None
    # 180 s measured (+10% and 10 s of start-up) alongside Backprop's typical 10 s
    assert check_mod.validate_estimate(tmp_path, ["FullyConnectedNets.ipynb", "Backprop.ipynb"],
                                       2) == "about 3 minutes"
    assert check_mod.validate_estimate(tmp_path, ["Backprop.ipynb"], 2) == "about 21 s"


def test_submit_reports_every_problem_at_once(tmp_path):
    hw = ready_folder(tmp_path)
    (hw / "fc_net_best.npz").unlink()
    nbformat.write(small_notebook(executed=False), hw / "TwoLayerNet.ipynb")
    nb = small_notebook()
    nb.cells[2].execution_count = None
    nbformat.write(nb, hw / "Backprop.ipynb")
    proc = run(hw, "cs239.tools.submit", "--no-pdf")
    assert proc.returncode == 1
    err = proc.stderr
    assert "not submitted: 3 problems:" in err
    assert "1. missing from" in err and "  fc_net_best.npz" in err
    assert "2. TwoLayerNet.ipynb was not run" in err
    assert "3. Backprop.ipynb was only partly run" in err
    assert not (hw / ZIP).exists()


def test_submit_warns_that_the_pdf_shows_tex_raw(tmp_path, monkeypatch):
    hw = ready_folder(tmp_path)
    nb = small_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("The loss is $L = \\frac{1}{2} r^T r$."))
    nb.cells[-1]["id"] = "tiny-math"
    nbformat.write(nb, hw / "Backprop.ipynb")
    warning = submit_mod.math_warning([hw / n for n in submit_mod.NOTEBOOKS])
    assert warning.startswith("the PDF shows the math of Backprop.ipynb (1 cells) as raw TeX")
    proc = run(hw, "cs239.tools.submit", env={"CS239_BROWSER": str(tmp_path / "no-browser")})
    assert proc.returncode == 0 and "warning: the PDF shows the math" in proc.stdout
    # no math, or a PDF module that typesets it: no warning
    assert submit_mod.math_warning([hw / "TwoLayerNet.ipynb"]) is None
    monkeypatch.setattr(submit_mod, "renders_math", lambda: True)
    assert submit_mod.math_warning([hw / n for n in submit_mod.NOTEBOOKS]) is None


def test_submit_warns_about_errors_but_submits(tmp_path):
    hw = ready_folder(tmp_path)
    nbformat.write(small_notebook(error_in_test=True), hw / "Backprop.ipynb")
    proc = run(hw, "cs239.tools.submit", "--no-pdf")
    assert proc.returncode == 0
    assert "warning: Backprop.ipynb: 1 cell(s) end in an error" in proc.stdout


def test_submit_refuses_a_zip_over_the_limit(tmp_path):
    hw = ready_folder(tmp_path)
    np.savez(hw / "fc_net_best.npz", W1=np.random.default_rng(0).standard_normal((400, 400)))
    proc = run(hw, "cs239.tools.submit", "--no-pdf", "--max-mb", "0.5")
    assert proc.returncode == 1
    assert "more than the 0 MB limit" in proc.stderr or "limit" in proc.stderr
    assert "fc_net_best.npz" in proc.stderr.split("Largest files:")[1]
    assert not list(hw.glob(ZIP + "*"))


def test_submit_without_a_browser_still_builds_the_zip(tmp_path):
    hw = ready_folder(tmp_path)
    proc = run(hw, "cs239.tools.submit", env={"CS239_BROWSER": str(tmp_path / "no-such-browser")})
    assert proc.returncode == 0, proc.stderr
    assert "WARNING: the zip has NO PDF" in proc.stdout
    assert "apt-get install chromium" in proc.stdout
    with zipfile.ZipFile(hw / ZIP) as z:
        assert sorted(z.namelist()) == sorted(expected_names(hw))


def test_submit_renders_the_pdf(tmp_path):
    browser = submit_mod.find_browser()
    if browser is None:
        pytest.skip("no Chromium/Chrome on this machine (CI installs the Debian package "
                    "`chromium`); the zip-without-PDF path is tested above")
    hw = ready_folder(tmp_path)
    proc = run(hw, "cs239.tools.submit")
    assert proc.returncode == 0, proc.stderr
    assert "PDF: %s (printed by" % manifest.NOTEBOOKS_PDF in proc.stdout
    with zipfile.ZipFile(hw / ZIP) as z:
        assert sorted(z.namelist()) == sorted(expected_names(hw) + [submit_mod.PDF_NAME])
        pdf = z.read(submit_mod.PDF_NAME)
    assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-1024:]
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") >= 3   # one page per notebook


def test_submission_zip_is_accepted_by_the_autograder(tmp_path):
    """The zip's layout is the one autograder/submission.py unpacks (files at the top)."""
    from autograder import submission
    hw = ready_folder(tmp_path / "student")
    proc = run(hw, "cs239.tools.submit", "--no-pdf")
    assert proc.returncode == 0, proc.stderr
    root = submission.unpack(hw / ZIP, tmp_path / "unpacked")
    for name in submit_mod.NOTEBOOKS + submit_mod.MODELS + ["cs239/layers.py"]:
        assert (root / name).is_file(), name
