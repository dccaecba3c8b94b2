"""Check a student release for leaks of anything a student must not receive.

    python -m tools.leakcheck assignments/<NAME> [--root REPO]

Fails (exit 1, one line per problem, naming the file and line) when the release contains:
- text of a solution region of the master copy: `### BEGIN SOLUTION` .. `### END SOLUTION` in the
  cs239 package, and nbgrader solution cells/regions of source/<assignment>/*.ipynb (whole solution
  cells when they have no markers, e.g. written answers);
- a hidden test (`### BEGIN HIDDEN TESTS` .. `### END HIDDEN TESTS`) or a mark scheme;
- any file or text of autograder/ (the hidden suites and the grading runner);
- a leftover marker line (a region the release step failed to strip);
- executed output in a notebook (outputs or execution counts), e.g. the master's plots and numbers;
- data or model files (.npz, .npy, pickles, archives, CIFAR batches, databases);
- master-only or unexpected files (tools/, tests/, nbgrader_config.py, gradebook, caches, ...).

Text is compared line by line after removing all whitespace; a master line counts as secret only
when it is non-trivial (at least 8 characters with a letter or digit) and does not also appear in
the public part of the master copy (outside every region), so provided code never trips it.
Also importable: check_release(release_dir, root) -> list of Problem.

    python -m tools.leakcheck --feedback feedback/alice/<name> [--own submitted/alice/<name>]

checks what a student receives after grading instead (nbgrader's feedback HTML, the grader's
feedback.md and results.json): no hidden test, mark scheme, rubric or autograder line, no marker,
and no solution line that is not the student's own (a line of the files under --own).
"""
import argparse
import fnmatch
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from cs239.tools import manifest

ROOT = Path(__file__).resolve().parents[1]

MARKER_RE = re.compile(r"#{2,}\s*(BEGIN|END)\s+(SOLUTION|HIDDEN TESTS|MARK SCHEME)", re.I)
REGION_MARKERS = {
    "solution": ("### BEGIN SOLUTION", "### END SOLUTION"),
    "hidden test": ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"),
    "mark scheme": ("### BEGIN MARK SCHEME", "### END MARK SCHEME"),
}
# Text that the release tools themselves write in place of a solution: public by construction.
TOOL_TEXT = ["# YOUR CODE HERE", "raise NotImplementedError()", "YOUR ANSWER HERE",
             "raise NotImplementedError("]

DATA_SUFFIXES = {".npz", ".npy", ".pkl", ".pickle", ".h5", ".hdf5", ".pt", ".pth", ".mat",
                 ".tar", ".gz", ".tgz", ".zip", ".bz2", ".xz", ".db", ".sqlite", ".sqlite3",
                 ".joblib", ".part", ".pdf", ".html"}
DATA_NAMES = ["data_batch_*", "test_batch", "batches.meta", "cifar-10-batches-py", "readme.html"]
# Master-only names at the top of a release (cs239/tools/, the student tools, is not tools/) ...
MASTER_ONLY = ["autograder", "tools", "tests", "bench", "source", "submitted", "autograded",
               "feedback", "release", "assignments", ".ci", ".venv", "nbgrader_config.py",
               "gradebook.db", "Makefile", "pyproject.toml", "environment.yml", "CONTRIBUTING.md",
               "timestamp.txt"]
# ... and anywhere in it.
NEVER_ANYWHERE = [".git", "__pycache__", ".ipynb_checkpoints", "*.pyc", "*.egg-info",
                  ".pytest_cache"]
# What a release may hold at all (relative paths, glob patterns); anything else is reported.
ALLOWED = ["README.md", "*.ipynb", "cs239/*.py", "cs239/*/*.py", "datasets/get_cifar10.py",
           "datasets/get_cifar10.sh"]
PUBLIC_FILES = ["datasets/get_cifar10.py", "datasets/get_cifar10.sh"]
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg"}


@dataclass(frozen=True)
class Problem:
    path: str      # file (relative to the release), with ":line" or ":cell N line M" when known
    kind: str      # solution / hidden test / autograder / marker / output / data / file
    detail: str

    def __str__(self):
        return "%s: %s: %s" % (self.path, self.kind, self.detail)


def normalize(line):
    """A line without any whitespace (so re-indented or re-wrapped copies still match)."""
    return re.sub(r"\s+", "", line)


def variants(line):
    """The normalized line, and its code without a trailing comment when that differs."""
    n = normalize(line)
    code = normalize(line.split("#", 1)[0]) if "#" in line else n
    return [n] if code == n or not code else [n, code]


GENERIC_RE = re.compile(r"^(import[\w.,]+|from[\w.]+import[\w.,()*]+|"
                        r"(return|raise|yield|continue|break|pass|else|finally|try|while|"
                        r"except)\b.{0,12}|if__name__==[\"']__main__[\"']:)$")


def nontrivial(norm, kind="solution"):
    """Whether a normalized line is distinctive enough to count as secret.

    Solution lines: 8+ characters with a letter or digit. autograder/ text is mostly ordinary
    code, so there only lines of 16+ characters that are not imports or bare keywords count.
    """
    if len(norm) < 8 or re.search(r"[A-Za-z0-9]", norm) is None:
        return False
    return kind != "autograder" or (len(norm) >= 16 and not GENERIC_RE.match(norm))


def split_regions(lines, begin, end):
    """(inside, outside): lists of lines strictly inside begin/end marker lines, and the rest."""
    inside, outside, depth = [], [], 0
    for line in lines:
        s = line.strip()
        if s == begin:
            depth += 1
        elif s == end:
            depth = max(depth - 1, 0)
        elif depth:
            inside.append(line)
        else:
            outside.append(line)
    return inside, outside


def _cell_source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _read_notebook(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


class Secrets:
    """Normalized secret lines of the master copy, each with where it came from."""

    def __init__(self):
        self.secret = {}      # normalized line -> (kind, origin)
        self.public = set()   # normalized lines that appear outside every region
        self.autograder_files = {}   # file bytes -> origin, for copies under another name

    def add_secret(self, line, kind, origin):
        for n in variants(line):
            if nontrivial(n, kind) and n not in self.secret:
                self.secret[n] = (kind, origin)

    def add_public(self, line):
        self.public.update(variants(line))

    def finish(self):
        for n in self.public:
            self.secret.pop(n, None)
        return self

    def lookup(self, line):
        for n in variants(line):
            if n in self.secret:
                return self.secret[n]
        return None


def _add_text(secrets, text, origin):
    """Secret regions of a master text (a .py file or a notebook cell); the rest is public."""
    lines = text.splitlines()
    rest = lines
    for kind, (begin, end) in REGION_MARKERS.items():
        inside, rest = split_regions(rest, begin, end)
        for line in inside:
            secrets.add_secret(line, kind, origin)
    for line in rest:
        secrets.add_public(line)


def collect_secrets(root, assignment=manifest.NAME):
    """Secret lines of the master copy at root: cs239 regions, notebook solutions, autograder/."""
    root = Path(root)
    secrets = Secrets()
    for line in TOOL_TEXT:
        secrets.add_public(line)
    for name in PUBLIC_FILES:     # shipped as they are: public by definition
        f = root / name
        if f.is_file():
            for line in f.read_text(encoding="utf-8", errors="replace").splitlines():
                secrets.add_public(line)
    for py in sorted((root / "cs239").rglob("*.py")):
        if "__pycache__" in py.parts:
            continue
        _add_text(secrets, py.read_text(encoding="utf-8"), py.relative_to(root).as_posix())
    for nb_path in sorted((root / "source" / assignment).glob("*.ipynb")):
        nb = _read_notebook(nb_path)
        rel = nb_path.relative_to(root).as_posix()
        for i, cell in enumerate(nb.get("cells", [])):
            src = _cell_source(cell)
            origin = "%s cell %d" % (rel, i)
            meta = _nbgrader(cell)
            if meta.get("solution") and "### BEGIN SOLUTION" not in src:
                # a whole solution cell (e.g. a written answer): nbgrader replaces all of it
                for line in src.splitlines():
                    secrets.add_secret(line, "solution", origin)
            else:
                _add_text(secrets, src, origin)
            # The master's outputs may print reference values too: any output in a released
            # notebook is reported as executed output, so their text is not needed here.
    grader = root / "autograder"
    if grader.is_dir():
        for f in sorted(grader.rglob("*")):
            if not f.is_file() or "__pycache__" in f.parts:
                continue
            rel = f.relative_to(root).as_posix()
            data = f.read_bytes()
            secrets.autograder_files[data] = rel
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                continue
            for line in text.splitlines():
                secrets.add_secret(line, "autograder", rel)
    return secrets.finish()


def _matches(rel, patterns):
    parts = rel.split("/")
    return any(fnmatch.fnmatch(rel, p) or any(fnmatch.fnmatch(part, p) for part in parts)
               for p in patterns)


def _master_only(rel):
    return _matches(rel, NEVER_ANYWHERE) or any(fnmatch.fnmatch(rel.split("/")[0], p)
                                                for p in MASTER_ONLY)


def _check_lines(rel, lines, secrets, where, problems):
    for j, line in enumerate(lines, 1):
        if MARKER_RE.search(line):
            problems.append(Problem(where(j), "marker",
                                    "nbgrader/solution marker left in the release: %r"
                                    % line.strip()[:80]))
            continue
        hit = secrets.lookup(line)
        if hit:
            kind, origin = hit
            problems.append(Problem(where(j), kind, "line of %s: %r" % (origin, line.strip()[:80])))
        if re.search(r"^\s*(from|import)\s+autograder\b", line):
            problems.append(Problem(where(j), "autograder", "imports autograder: %r"
                                    % line.strip()[:80]))


def check_release(release, root=ROOT, assignment=manifest.NAME):
    """Every leak in the release folder, as a list of Problem (empty: clean)."""
    release, root = Path(release), Path(root)
    if not release.is_dir():
        return [Problem(str(release), "file", "release folder does not exist")]
    secrets = collect_secrets(root, assignment)
    source = root / "source" / assignment
    problems = []
    for f in sorted(p for p in release.rglob("*")):
        rel = f.relative_to(release).as_posix()
        if f.is_dir():
            if _master_only(rel) or _matches(rel, DATA_NAMES):
                problems.append(Problem(rel + "/", "file", "folder must not be in a release"))
            continue
        data = f.read_bytes()
        if _matches(rel, DATA_NAMES) or f.suffix.lower() in DATA_SUFFIXES:
            problems.append(Problem(rel, "data", "data/model/output file (%d bytes) must not be "
                                    "in a release" % len(data)))
            continue
        if data in secrets.autograder_files:
            problems.append(Problem(rel, "autograder", "copy of %s"
                                    % secrets.autograder_files[data]))
            continue
        if _master_only(rel):
            problems.append(Problem(rel, "file", "master-only file"))
            continue
        from_source = (source / rel).is_file()
        if not (_matches_exact(rel, ALLOWED) or from_source):
            problems.append(Problem(rel, "file", "unexpected file (a release holds only %s and "
                                    "files of %s)" % (", ".join(ALLOWED),
                                                       source.relative_to(root).as_posix())))
            continue
        if f.suffix.lower() in IMAGE_SUFFIXES and f.suffix.lower() != ".svg":
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(Problem(rel, "data", "binary file"))
            continue
        if f.suffix == ".ipynb":
            problems.extend(_check_notebook(rel, text, secrets))
        else:
            _check_lines(rel, text.splitlines(), secrets, lambda j, rel=rel: "%s:%d" % (rel, j),
                         problems)
    return problems


def _matches_exact(rel, patterns):
    return any(fnmatch.fnmatch(rel, p) and rel.count("/") == p.count("/") for p in patterns)


def _check_notebook(rel, text, secrets):
    problems = []
    try:
        nb = json.loads(text)
    except ValueError as e:
        return [Problem(rel, "file", "not a readable notebook: %s" % e)]
    for i, cell in enumerate(nb.get("cells", [])):
        def where(j, i=i):
            return "%s:cell %d line %d" % (rel, i, j)
        _check_lines(rel, _cell_source(cell).splitlines(), secrets, where, problems)
        if cell.get("cell_type") == "code":
            if cell.get("outputs"):
                problems.append(Problem("%s:cell %d" % (rel, i), "output",
                                        "%d executed output(s) in the release"
                                        % len(cell["outputs"])))
            if cell.get("execution_count") is not None:
                problems.append(Problem("%s:cell %d" % (rel, i), "output",
                                        "execution count %s in the release"
                                        % cell["execution_count"]))
        for name, att in (cell.get("attachments") or {}).items():
            problems.append(Problem("%s:cell %d" % (rel, i), "data",
                                    "attachment %r (check it holds no solution)" % name))
    return problems


# ------------------------------------------------------------------------------------------------
# Feedback: what a student receives after grading
# ------------------------------------------------------------------------------------------------

def _loose(norm):
    """Letters and digits only: rendered Markdown drops list bullets, emphasis and backslashes."""
    return re.sub(r"[\W_]", "", norm)


def html_text(html):
    """The text lines of an HTML page (scripts and styles removed, tags dropped, unescaped)."""
    import html as html_mod
    html = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", "\n", html)
    html = re.sub(r"(?i)<br\s*/?>|</(p|div|li|tr|h[1-6]|pre)>", "\n", html)
    return html_mod.unescape(re.sub(r"<[^>]*>", "", html)).splitlines()


def _json_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _json_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _json_strings(v)


def _text_lines(path):
    data = Path(path).read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".html":
        return html_text(data)
    if path.suffix == ".json":
        try:
            return [ln for s in _json_strings(json.loads(data)) for ln in s.splitlines()]
        except ValueError:
            pass
    if path.suffix == ".ipynb":
        try:
            return [ln for c in json.loads(data).get("cells", [])
                    for ln in _cell_source(c).splitlines()]
        except ValueError:
            pass
    return data.splitlines()


def own_lines(folder):
    """Loose forms of every line of a student's submitted files (their own work)."""
    out = set()
    for f in sorted(Path(folder).rglob("*")) if folder else []:
        if f.is_file() and f.suffix in (".py", ".ipynb", ".md", ".txt"):
            out.update(_loose(normalize(ln)) for ln in _text_lines(f))
    return out


def check_feedback(folder, root=ROOT, assignment=manifest.NAME, own=None):
    """Every leak in the files of a feedback folder (or one file), as a list of Problem.

    Solution lines count only when they are not in the student's own submission (OWN: its
    folder): a student who solved a function sees their own code in the feedback."""
    folder, root = Path(folder), Path(root)
    secrets = collect_secrets(root, assignment)
    public = {_loose(n) for n in secrets.public}
    loose = {}
    for n, hit in secrets.secret.items():
        key = _loose(n)
        if len(key) >= 12 and key not in public:
            loose.setdefault(key, hit)
    mine = own_lines(own)
    problems = []
    files = [folder] if folder.is_file() else sorted(p for p in folder.rglob("*") if p.is_file())
    for f in files:
        rel = f.name if f == folder else f.relative_to(folder).as_posix()
        if f.suffix.lower() in IMAGE_SUFFIXES | {".npz", ".npy", ".pdf", ".zip"}:
            continue
        for j, line in enumerate(_text_lines(f), 1):
            key = _loose(normalize(line))
            if MARKER_RE.search(line):
                if key not in mine:
                    problems.append(Problem("%s:%d" % (rel, j), "marker", "nbgrader marker: %r"
                                            % line.strip()[:80]))
                continue
            hit = secrets.lookup(line) or loose.get(key)
            if hit and not (hit[0] == "solution" and key in mine):
                problems.append(Problem("%s:%d" % (rel, j), hit[0], "line of %s: %r"
                                        % (hit[1], line.strip()[:80])))
    return problems


def guess_assignment(release, root):
    """The release folder's name when source/ has it, else the only assignment in source/."""
    name = Path(release).resolve().name
    source = Path(root) / "source"
    if (source / name).is_dir():
        return name
    found = sorted(p.name for p in source.iterdir() if p.is_dir()) if source.is_dir() else []
    if len(found) == 1:
        return found[0]
    raise SystemExit("leakcheck: error: cannot tell which assignment of %s %s is; pass "
                     "--assignment" % (source, release))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tools.leakcheck",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("release", nargs="?", help="the release folder, e.g. assignments/%s" % manifest.NAME)
    ap.add_argument("--feedback", metavar="DIR", help="check a student's feedback folder (or "
                    "file) instead, e.g. feedback/alice/<name> or grades/alice")
    ap.add_argument("--own", metavar="DIR", help="with --feedback: the student's submission "
                    "(their own solution lines are not leaks)")
    ap.add_argument("--root", default=str(ROOT), help="the master copy (repository root)")
    ap.add_argument("--assignment", default=None,
                    help="assignment id (default: the release folder's name)")
    args = ap.parse_args(argv)
    if args.feedback:
        problems = check_feedback(args.feedback, args.root, args.assignment or manifest.NAME, args.own)
        for p in problems:
            print("leak: %s" % p)
        print("feedback leak check %s: %s" % ("FAILED (%d problems)" % len(problems)
                                              if problems else "passed", args.feedback))
        return 1 if problems else 0
    if not args.release:
        ap.error("give a release folder or --feedback DIR")
    assignment = args.assignment or guess_assignment(args.release, args.root)
    problems = check_release(args.release, args.root, assignment)
    for p in problems:
        print("leak: %s" % p)
    if problems:
        print("leak check FAILED: %d problem(s) in %s" % (len(problems), args.release))
        return 1
    n = sum(1 for p in Path(args.release).rglob("*") if p.is_file())
    print("leak check passed: %d files in %s, nothing secret" % (n, args.release))
    return 0


if __name__ == "__main__":
    sys.exit(main())
