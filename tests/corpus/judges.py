"""Who catches each single-bug mutant of the corpus (tests/corpus): the notebook's public
tests, the student self-check (cs239/tools/public_checks.py) and the hidden suites.

    python -m tests.corpus.judges            # measure every mutant, print the agreement table
    python -m tests.corpus.judges relu_ge    # only these mutants

Measured: the mutants whose self-check hint is known (Mutant.hint: a regular expression the
self-check's message must match, the likely cause it names), and as controls the reference and
the single-style variants (Variant.function set), which all three judges must pass.
tests/test_mutants.py holds the goal (every mutant a hidden suite catches is flagged by the
self-check, naming the cause) and the exceptions kept, each with its reason
(EXPECTED_DISAGREEMENTS).

The notebooks' public tests are the test cells of the committed release (assignments/), run
without CIFAR-10: cells that need the data set or train on it are skipped (they test nothing
the toy cells don't). The hidden suites run in-process through tests/test_suites_standin.py.
"""
import ast
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from cs239.tools import manifest
from tests import corpus

ROOT = corpus.ROOT
RELEASE = ROOT / "assignments" / manifest.NAME


# ------------------------------------------------------------------------------------------------
# The three judges

SELF_CHECK = r"""
import json, sys
from cs239.tools.runner import run_one
out = {}
for name in sys.argv[1:]:
    out[name] = run_one(name)
print("@@mutants@@" + json.dumps(out))
"""


def self_check(folder, names):
    """{graded name: the self-check's result} in the mutant's folder (one process)."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-c", SELF_CHECK, *names], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)
    for line in proc.stdout.splitlines():
        if line.startswith("@@mutants@@"):
            return json.loads(line[len("@@mutants@@"):])
    return {n: {"status": "fails", "detail": "the self-check crashed: %s"
                % proc.stderr.strip()[-300:], "step": ""} for n in names}


# Cells that need CIFAR-10 or train on it: skipped (the data set is not needed by any test cell).
NEEDS_DATA = ("get_CIFAR10_data", "data[", "X_train", "Solver(", "best_net", "best_model",
              "solvers", "plot_stats", "show_net_weights")

NOTEBOOK_RUNNER = r"""
import json, sys, traceback
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
plt.show = lambda *a, **k: None
cells = json.load(open(sys.argv[1]))
ns = {"__name__": "__main__"}
failed = []
for cell in cells:
    src = "\n".join(l for l in cell["source"].splitlines() if not l.startswith("%"))
    try:
        exec(compile(src, cell["id"], "exec"), ns)
    except BaseException as e:
        if cell["test"]:
            failed.append([cell["id"], "%s: %s" % (type(e).__name__, str(e)[:200])])
    plt.close("all")
print("@@mutants@@" + json.dumps(failed))
"""


def _without_imports(src):
    tree = ast.parse("\n".join(l for l in src.splitlines() if not l.startswith("%")))
    return ast.unparse([n for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom))])


def notebook_cells(notebook):
    """The code cells of a release notebook that run without the data set: [{id, source, test}]."""
    nb = json.loads((RELEASE / notebook).read_text())
    cells = []
    for c in nb["cells"]:
        src = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        meta = c.get("metadata", {}).get("nbgrader", {})
        if c["cell_type"] != "code" or meta.get("solution") or \
                any(k in _without_imports(src) for k in NEEDS_DATA):
            continue
        cells.append({"id": c.get("id", "?"), "source": src, "test": bool(meta.get("grade"))})
    return cells


def notebook_tests(folder, notebooks):
    """[(cell id, error)] of the public test cells that fail in the mutant's folder."""
    failed = []
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg")
    for nb in notebooks:
        cells = Path(folder) / ("cells-%s.json" % nb)
        cells.write_text(json.dumps(notebook_cells(nb)))
        proc = subprocess.run([sys.executable, "-c", NOTEBOOK_RUNNER, str(cells)], cwd=folder,
                              env=env, capture_output=True, text=True, timeout=600)
        found = [l for l in proc.stdout.splitlines() if l.startswith("@@mutants@@")]
        if not found:
            failed.append([nb, "the notebook's cells crashed: %s" % proc.stderr[-300:]])
        else:
            failed += json.loads(found[0][len("@@mutants@@"):])
    return failed


def hidden_suites(folders):
    """{folder name: [(test name, message)] of the failing hidden tests} (in-process stand-in;
    best-model and notebook-work tests are left out: the mutants change no saved model and no
    notebook, and the judged folders hold the package only)."""
    with tempfile.TemporaryDirectory(prefix="cs239-mutants-") as tmp:
        out = Path(tmp) / "results.json"
        cmd = [sys.executable, "-m", "pytest", str(ROOT / "autograder" / "suites"),
               "-p", "tests.test_suites_standin", "-q", "-p", "no:cacheprovider",
               "--results", str(out), "-o", "addopts=", "-k", "not best_model"]
        for f in folders:
            cmd += ["--submission", str(f)]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1200,
                              env=dict(os.environ, CS239_CIFAR10_DIR=str(Path(tmp) / "none")))
        if not out.exists():
            raise RuntimeError("the hidden suites did not run: %s" % proc.stdout[-2000:])
        by = {Path(f).name: [] for f in folders}
        for r in json.loads(out.read_text()):
            if r["status"] != "passed" and not r["name"].startswith("best_model") \
                    and ".ipynb: " not in r["name"]:
                by.setdefault(r["submission"], []).append((r["name"], r["message"]))
        return by


# ------------------------------------------------------------------------------------------------

def notebooks_for(function):
    nbs = [manifest.function(function).notebook]
    if function.startswith("swish"):           # Backprop.ipynb checks Swish again
        nbs.append("Backprop.ipynb")
    return nbs


JUDGED = [m for m in corpus.MUTANTS.values() if m.hint is not None]
CONTROLS = [v for v in corpus.VARIANTS.values() if v.function]


def measure(mutants=JUDGED, blame=corpus.BLAME, correct=CONTROLS, workdir=None):
    """(rows, control): rows = [{mutant, notebook, self_check, hidden, blame}] for every mutant;
    control = {"reference" or a correct alternative's name: what each judge finds wrong with it
    (nothing, when the judges are sound)}."""
    from cs239.tools import manifest
    own = tempfile.TemporaryDirectory(prefix="cs239-mutants-") if workdir is None else None
    base = Path(workdir or own.name)
    try:
        folders = {m.name: corpus.build(base / m.name, m.name) for m in mutants}
        controls = {"reference": base / "reference"}
        corpus.build(controls["reference"])
        controls.update((v.name, corpus.build(base / v.name, v.name)) for v in correct)
        hidden = hidden_suites(list(folders.values()) + list(controls.values()))
        graded = [f.name for f in manifest.FUNCTIONS]
        control = {}
        for name, folder in controls.items():
            alt = [m for m in correct if m.name == name]
            control[name] = {
                "notebook": notebook_tests(folder, notebooks_for(alt[0].function) if alt
                                           else list(manifest.NOTEBOOKS)),
                "self_check": {n: r for n, r in self_check(folder, graded).items()
                               if r["status"] != "passes public checks"},
                "hidden": hidden[name]}
        rows = []
        blamed = {name: [f for n, f in blame if n == name] for name in folders}
        for m in mutants:
            checks = self_check(folders[m.name], [m.function] + blamed[m.name])
            rows.append({"mutant": m, "notebook": notebook_tests(folders[m.name],
                                                                 notebooks_for(m.function)),
                         "self_check": checks[m.function], "hidden": hidden[m.name],
                         "blame": {f: checks[f] for f in blamed[m.name]}})
        return rows, control
    finally:
        if own:
            own.cleanup()


def describe_result(result):
    from cs239.tools.runner import describe
    return describe(result)


def caught(row):
    """(notebook, self-check, hidden suites) flags of a measured row."""
    return (bool(row["notebook"]), row["self_check"]["status"] != "passes public checks",
            bool(row["hidden"]))


def table(rows):
    """The agreement table (Markdown)."""
    yes = {True: "yes", False: "-"}
    lines = ["| mutant | function | notebook tests | self-check | hidden suites | self-check says |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        nb, sc, hs = caught(r)
        lines.append("| %s | %s | %s | %s | %s | %s |" % (
            r["mutant"].name, r["mutant"].function, yes[nb], yes[sc], yes[hs],
            describe_result(r["self_check"]).replace("|", "/")))
    n = len(rows)
    counts = [sum(caught(r)[i] for r in rows) for i in range(3)]
    lines.append("")
    lines.append("%d mutants: the notebooks' public tests catch %d, the self-check %d, the hidden "
                 "suites %d." % (n, *counts))
    return "\n".join(lines)


def main(argv=None):
    names = sys.argv[1:] if argv is None else argv
    chosen = [m for m in JUDGED if not names or m.name in names]
    rows, control = measure(chosen)
    print(table(rows))
    print("\ncontrols (the reference and correct alternatives; should find nothing): %s"
          % json.dumps(control))
    return 0


if __name__ == "__main__":
    sys.exit(main())
