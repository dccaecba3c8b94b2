"""Build the student release of an assignment from the master copy (`make release`).

    python -m tools.release [--out DIR] [--root REPO] [--db URL] [--assignment hw3]

1. `nbgrader generate_assignment hw3` (the real command, this repository's nbgrader_config.py)
   turns source/hw3/*.ipynb into student notebooks: solutions replaced by nbgrader's
   `# YOUR CODE HERE` prompts, hidden tests removed, outputs cleared; it also records the
   assignment in the gradebook, which `nbgrader autograde` needs later.
2. cs239/*.py is copied through tools/stubify.py (every solution region becomes a
   NotImplementedError naming the function, file and notebook section); no caches.
3. datasets/get_cifar10.py and .sh (the script, never data), and a short student README.
4. tools/leakcheck.py checks the result; only a clean release replaces --out (default
   assignments/hw3): changed files are rewritten, stale files removed, unchanged files left alone.

Everything is built in a staging folder and is deterministic (same sources, same bytes), so
tests/test_release.py can rebuild into a temporary folder and compare with the committed release.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tools import leakcheck, stubify

ROOT = Path(__file__).resolve().parents[1]
DATASET_FILES = ["datasets/get_cifar10.py", "datasets/get_cifar10.sh"]
NOTEBOOK_ORDER = ["TwoLayerNet.ipynb", "FullyConnectedNets.ipynb", "Backprop.ipynb"]


class ReleaseError(RuntimeError):
    pass


def _nbgrader_cmd():
    exe = Path(sys.executable).with_name("nbgrader")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "nbgrader"]


def generate_notebooks(root, assignment, dest, db_url):
    """Run `nbgrader generate_assignment` for root/source/<assignment> into dest/<assignment>."""
    cmd = _nbgrader_cmd() + [
        "generate_assignment", assignment, "--force",
        "--CourseDirectory.root=%s" % root,
        "--CourseDirectory.release_directory=%s" % dest,
        "--CourseDirectory.db_url=%s" % db_url,
    ]
    # nbgrader runs `alembic` from PATH: put this interpreter's bin/ first (make calls
    # .venv/bin/python without activating the environment)
    env = dict(os.environ, PYTHONHASHSEED="0",
               PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise ReleaseError("nbgrader generate_assignment %s failed (exit %d):\n%s"
                           % (assignment, proc.returncode, (proc.stdout + proc.stderr).strip()))
    out = Path(dest) / assignment
    if not out.is_dir():
        raise ReleaseError("nbgrader generate_assignment wrote nothing to %s:\n%s"
                           % (out, (proc.stdout + proc.stderr).strip()))
    return out


def _canonical_notebook(path, master):
    """Rewrite a generated notebook in one canonical form, with the master's cell ids.

    nbformat invents random ids for cells that have none (nbformat >= 4.5), which would make
    every release differ; ids are taken from the master when it has them, else numbered.
    """
    nb = json.loads(path.read_text(encoding="utf-8"))
    master_cells = json.loads(master.read_text(encoding="utf-8")).get("cells", [])
    for i, cell in enumerate(nb.get("cells", [])):
        mid = master_cells[i].get("id") if i < len(master_cells) else None
        if "id" in cell or mid:
            cell["id"] = mid or "cell-%d" % i
    text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")


def student_readme(root, assignment, notebooks, functions):
    """The release's README.md (setup, data, notebooks, self-check, submission)."""
    nb_lines = "\n".join("%d. `%s`" % (i + 1, n) for i, n in enumerate(notebooks))
    rows = "\n".join("| `%s` | `%s` | %s, *%s* |" % (q, f, nb, sec)
                     for f, q, nb, sec in functions)
    return """# Homework 3: backpropagation

Everything you need is in this folder: the notebooks, the `cs239` package you complete, and a
script that downloads CIFAR-10. Work in this folder; run every command below from it.

## Set up

Python 3.10 to 3.13 (numpy 1.26 or 2.x):

```bash
python3 -m venv .venv && . .venv/bin/activate
pip install numpy matplotlib jupyter nbgrader tqdm
```

(or `conda create -n cs239 python=3.12 numpy matplotlib jupyter nbgrader -c conda-forge`).

## Data

```bash
bash datasets/get_cifar10.sh        # or: python datasets/get_cifar10.py
```

downloads CIFAR-10 (163 MB, checked by MD5) into `datasets/cifar-10-batches-py/`. Offline with the
archive already at hand: `python datasets/get_cifar10.py --from cifar-10-python.tar.gz`. To keep the
data elsewhere, set `CS239_CIFAR10_DIR` to its `cifar-10-batches-py` folder.

## Notebooks

Start `jupyter notebook` here and work through, in this order:

{nb_lines}

Each cell marked `# YOUR CODE HERE` and each `YOUR ANSWER HERE` is yours. The package functions
you implement start as stubs: calling one raises `NotImplementedError` telling you which function
in which file is still missing and which notebook section asks for it. Do not rename, delete or
copy the notebooks' test cells. Keep your code vectorized; loops over examples are slow.

| function | file | notebook, section |
| --- | --- | --- |
{rows}

## Check your work

```bash
python -m cs239.check
```

runs the public checks of every function above, each on its own (one failure never hides the
rest), and prints a table: *not started*, *fails* (which check and how) or *passes public checks*.
It also looks at your notebooks: run top to bottom, saved models present, and `nbgrader validate`
when nbgrader is installed (`--no-validate` skips that step, which re-runs each notebook).
Passing the public checks is a good sign, not a grade: the graders run further tests.

## Submit

Restart each notebook and run all cells (*Kernel > Restart & Run All*), save it, then

```bash
python -m cs239.submit
```

It builds `hw3_submission.zip` with the three notebooks, your `cs239/` code, the saved models
(`two_layer_net_best.npz`, `fc_net_best.npz`) and `hw3_notebooks.pdf`, a PDF of your executed
notebooks, and lists what it packed. It refuses, saying why, when a notebook was not run, a file
is missing or the zip would exceed 50 MB. The PDF is printed by a headless Chromium or Chrome
browser; without one the zip is still built (without the PDF) and the tool says how to install
one. Upload `hw3_submission.zip` (and the PDF, if your course asks for it separately) to
Gradescope.
""".format(nb_lines=nb_lines, rows=rows)


def graded_functions(root, notebooks=NOTEBOOK_ORDER):
    """[(file, qualname, notebook, section)] for every stubbed function, by notebook order."""
    seen, out = set(), []
    for py in sorted((root / "cs239").rglob("*.py")):
        if "__pycache__" in py.parts:
            continue
        rel = py.relative_to(root).as_posix()
        text = py.read_text(encoding="utf-8")
        for _, qualname in stubify.region_functions(text, rel):
            if qualname in seen or qualname not in stubify.SECTIONS:
                continue
            seen.add(qualname)
            nb, sec = stubify.section_for(qualname)
            out.append((rel, qualname, nb, sec))
    order = {n: i for i, n in enumerate(notebooks)}
    return sorted(out, key=lambda f: order.get(f[2], len(order)))


def build(root, assignment, staging, db_url):
    """Build the complete release in staging (which must not exist yet); return it."""
    root = Path(root)
    source = root / "source" / assignment
    if not source.is_dir() or not list(source.glob("*.ipynb")):
        raise ReleaseError("no master notebooks in %s" % source)
    for rel in DATASET_FILES:           # fail before the slow part
        if not (root / rel).is_file():
            raise ReleaseError("%s is missing from the master copy" % rel)
    with tempfile.TemporaryDirectory(prefix="nbgrader-release-") as tmp:
        generated = generate_notebooks(root, assignment, tmp, db_url)
        shutil.copytree(generated, staging)
    for nb in staging.glob("*.ipynb"):
        _canonical_notebook(nb, source / nb.name)
    add_student_files(root, staging)
    return staging


def add_student_files(root, dest):
    """Add the stubbed package, the data scripts and the README to a folder of notebooks."""
    root, dest = Path(root), Path(dest)
    pkg = root / "cs239"
    for py in sorted(pkg.rglob("*.py")):
        if "__pycache__" in py.parts:
            continue
        rel = py.relative_to(root).as_posix()
        try:
            stubify.stubify_file(py, dest / rel, relpath=rel)
        except stubify.StubifyError as e:
            raise ReleaseError(str(e)) from None
    for rel in DATASET_FILES:
        src = root / rel
        if not src.is_file():
            raise ReleaseError("%s is missing from the master copy" % rel)
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes(src.read_bytes())
    present = [n.name for n in sorted(dest.glob("*.ipynb"))]
    ordered = [n for n in NOTEBOOK_ORDER if n in present] + \
              [n for n in present if n not in NOTEBOOK_ORDER]
    (dest / "README.md").write_text(
        student_readme(root, dest.name, ordered,
                       graded_functions(root, NOTEBOOK_ORDER + ordered)),
        encoding="utf-8")
    for f in dest.rglob("*"):
        if f.is_file():
            f.chmod(0o755 if f.suffix == ".sh" else 0o644)
        else:
            f.chmod(0o755)


def nbgrader_post_convert_hook(assignment, student, notebooks):
    """nbgrader_config.py's GenerateAssignment.post_convert_hook.

    Makes a plain `nbgrader generate_assignment hw3` (or formgrader's Generate button) write the
    whole student release, not only the notebooks: the stubbed package, data scripts and README
    are added to the folder nbgrader just wrote, then the leak check runs. nbgrader only logs a
    failing hook, so problems are printed to stderr in capitals as well.
    """
    from nbgrader.apps.generateassignmentapp import GenerateAssignmentApp

    if not GenerateAssignmentApp.initialized():
        return
    coursedir = GenerateAssignmentApp.instance().coursedir
    dest = Path(coursedir.format_path(coursedir.release_directory, ".", assignment))
    root = Path(coursedir.root)
    try:
        add_student_files(root, dest)
        problems = leakcheck.check_release(dest, root, assignment)
    except ReleaseError as e:
        problems = [e]
    if problems:
        print("RELEASE PROBLEM (do not hand %s out):\n%s"
              % (dest, "\n".join("  %s" % p for p in problems)), file=sys.stderr)
    else:
        print("[cs239] added the stubbed cs239 package, data scripts and README to %s; leak "
              "check passed (`make release` also rewrites it deterministically)" % dest,
              file=sys.stderr)


def sync(staging, out):
    """Make out identical to staging; return (written, removed, unchanged) relative paths."""
    out.mkdir(parents=True, exist_ok=True)
    want = {p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file()}
    have = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    written, removed, unchanged = [], [], []
    for rel in sorted(have - want):
        (out / rel).unlink()
        removed.append(rel)
    for d in sorted((p for p in out.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(d.iterdir()):
            d.rmdir()
    for rel in sorted(want):
        src, dst = staging / rel, out / rel
        data = src.read_bytes()
        if dst.is_file() and dst.read_bytes() == data:
            unchanged.append(rel)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(data)
            written.append(rel)
        if (dst.stat().st_mode & 0o777) != (src.stat().st_mode & 0o777):
            dst.chmod(src.stat().st_mode & 0o777)
    return written, removed, unchanged


def release(root=ROOT, assignment="hw3", out=None, db_url=None, quiet=False):
    """Build, leak-check and write the release; return the list of written files.

    db_url defaults to the course gradebook (root/gradebook.db) when writing the course's own
    release folder, and to a throwaway database otherwise (e.g. a test's temporary folder).
    """
    root = Path(root).resolve()
    default_out = root / "assignments" / assignment
    out = Path(out).resolve() if out else default_out
    say = (lambda *a: None) if quiet else print
    with tempfile.TemporaryDirectory(prefix="cs239-release-") as tmp:
        if db_url is None:
            db_url = ("sqlite:///%s" % (root / "gradebook.db") if out == default_out
                      else "sqlite:///%s" % (Path(tmp) / "gradebook.db"))
        staging = build(root, assignment, Path(tmp) / assignment, db_url)
        problems = leakcheck.check_release(staging, root, assignment)
        if problems:
            raise ReleaseError("leak check failed, %s left unchanged:\n%s"
                               % (out, "\n".join("  %s" % p for p in problems)))
        written, removed, unchanged = sync(staging, out)
    say("release %s -> %s: %d files written, %d removed, %d unchanged; leak check passed"
        % (assignment, out, len(written), len(removed), len(unchanged)))
    for rel in written:
        say("  wrote   %s" % rel)
    for rel in removed:
        say("  removed %s" % rel)
    return written


def fill_in(release_dir, dest, root=ROOT, assignment="hw3"):
    """Copy a release to dest as a student who solved everything would have it (demo, tests).

    The released notebooks get every nbgrader solution cell back from the master copy (marker
    lines dropped, as a student would write it; matched by grade_id), and cs239/ is replaced by
    the reference package. Outputs stay empty: run the notebooks to get a submittable folder.
    Returns dest.
    """
    import nbformat

    release_dir, dest, root = Path(release_dir), Path(dest), Path(root)
    shutil.copytree(release_dir, dest, dirs_exist_ok=True)
    markers = ("### BEGIN SOLUTION", "### END SOLUTION")
    for nb_path in sorted(dest.glob("*.ipynb")):
        master_path = root / "source" / assignment / nb_path.name
        if not master_path.is_file():
            continue
        master = nbformat.read(str(master_path), as_version=4)
        by_id = {(c.metadata.get("nbgrader") or {}).get("grade_id"): c for c in master.cells}
        nb = nbformat.read(str(nb_path), as_version=4)
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader") or {}
            if meta.get("solution") and meta.get("grade_id") in by_id:
                src = by_id[meta["grade_id"]].source
                cell.source = "\n".join(line for line in src.splitlines()
                                        if line.strip() not in markers)
        nbformat.write(nb, str(nb_path))
    shutil.rmtree(dest / "cs239", ignore_errors=True)
    shutil.copytree(root / "cs239", dest / "cs239",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tools.release", description=__doc__.split("\n")[0])
    ap.add_argument("--assignment", default="hw3")
    ap.add_argument("--root", default=str(ROOT), help="the master copy (default: this repository)")
    ap.add_argument("--out", default=None, help="release folder (default: ROOT/assignments/hw3)")
    ap.add_argument("--db", default=None, help="nbgrader gradebook URL (default: ROOT/gradebook.db "
                    "for the default --out, a throwaway database otherwise)")
    ap.add_argument("--check", action="store_true",
                    help="only report whether --out is up to date with the sources (exit 1 "
                         "and the differing files when it is stale); writes nothing")
    args = ap.parse_args(argv)
    try:
        if args.check:
            return check_up_to_date(args.root, args.assignment, args.out)
        release(args.root, args.assignment, args.out, args.db)
    except ReleaseError as e:
        print("release: error: %s" % e, file=sys.stderr)
        return 1
    return 0


def stale_files(fresh, current):
    """Differences between a freshly built release and an existing one, as readable lines."""
    def files(d):
        d = Path(d)
        return {p.relative_to(d).as_posix(): p.read_bytes()
                for p in sorted(d.rglob("*")) if p.is_file()} if d.is_dir() else {}
    a, b = files(fresh), files(current)
    return (["missing: %s" % p for p in sorted(set(a) - set(b))]
            + ["unexpected: %s" % p for p in sorted(set(b) - set(a))]
            + ["differs: %s" % p for p in sorted(set(a) & set(b)) if a[p] != b[p]])


def check_up_to_date(root=ROOT, assignment="hw3", out=None):
    root = Path(root).resolve()
    out = Path(out) if out else root / "assignments" / assignment
    with tempfile.TemporaryDirectory(prefix="cs239-release-check-") as tmp:
        fresh = Path(tmp) / assignment
        release(root, assignment, fresh, quiet=True)
        problems = stale_files(fresh, out)
    if problems:
        print("%s is stale against the sources (run `make release`):\n  %s"
              % (out, "\n  ".join(problems)))
        return 1
    print("%s is up to date" % out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
