"""Code similarity between submissions, for the instructor's report (never a penalty).

Two halves:
- ``student_code`` (the grade step, on the trusted side, right after the submission is
  unpacked and before any student code runs) keeps only what the student wrote: the lines of the stubbed
  ``cs239/`` files and of the notebooks' code solution cells that differ from the release
  (``difflib`` against ``assignments/hw3/``), labelled with their file and function or cell, in
  ``OUT/<name>/code.json``. Nothing else of the submission outlives its private job folder.
- ``find_pairs`` (the report) compares those passages with winnowing fingerprints from the
  ``copydetect`` package (the method of MOSS: Schleimer, Wilkerson and Aiken, SIGMOD 2003).
  copydetect tokenizes the code (names become V / F / O, strings S, comments and whitespace
  dropped, so renaming variables or reformatting changes nothing) and hashes every K-gram of
  tokens. Fingerprints of the release's starter code are boilerplate and dropped; so are those
  found in more than MAX_SHARED submissions (MOSS's ``-m``: a passage most of the class wrote is
  an idiom, not a copy). A pair is flagged when the matching passages cover at least THRESHOLD
  of either submission's remaining code and at least MIN_OVERLAP tokens.
"""
import dataclasses
import difflib
import functools
import html
import io
import json
import re
import stat
from pathlib import Path

from . import results as R

REPO = Path(__file__).resolve().parent.parent
RELEASE = REPO / "assignments" / "hw3"
CODE_FILE = "code.json"
CODE_FORMAT = 1

K = 25              # copydetect's noise threshold: shortest match, in filtered tokens (characters)
WINDOW = 1          # copydetect's default (guarantee = noise): every K-gram kept, so deterministic
THRESHOLD = 0.5     # flag when matches cover this share of either side's own code
MIN_OVERLAP = 150   # ... and at least this many tokens (about 4 to 6 lines of numpy)
MAX_SHARED = 10     # a fingerprint in more submissions than this is an idiom (MOSS's -m)

MAX_FILE_BYTES = 2 * 2**20      # larger student files are not compared (noted)
MAX_PASSAGES_CHARS = 400_000    # per submission

_DEF = re.compile(r"^\s*(?:async\s+)?(def|class)\s+([A-Za-z_]\w*)")


# ---------------------------------------------------------------- extraction (grade step)

def _release_sources(release):
    """{relative path: text} of the release's stubbed .py files, {notebook: {grade_id: text}}."""
    files, cells = {}, {}
    for p in sorted((release / "cs239").rglob("*.py")):
        text = p.read_text(encoding="utf-8")
        if "raise NotImplementedError(" in text:
            files[p.relative_to(release).as_posix()] = text
    for p in sorted(release.glob("*.ipynb")):
        cells[p.name] = dict(_solution_cells(json.loads(p.read_text(encoding="utf-8"))))
    return files, cells


def _solution_cells(nb):
    """(grade_id, source) of the code solution cells of a parsed notebook (any shape of JSON)."""
    for cell in nb.get("cells", []) if isinstance(nb, dict) else []:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata")
        meta = meta.get("nbgrader") if isinstance(meta, dict) else None
        if isinstance(meta, dict) and meta.get("solution") and isinstance(meta.get("grade_id"),
                                                                          str):
            src = cell.get("source", "")
            src = "".join(s for s in src if isinstance(s, str)) if isinstance(src, list) else src
            if isinstance(src, str):
                yield meta["grade_id"], src


def _new_lines(old, new):
    """Blocks (first line number, lines) of NEW that are not in OLD (a line diff)."""
    a, b = old.splitlines(), new.splitlines()
    out = []
    for tag, _, _, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag in ("replace", "insert"):
            block = b[j1:j2]
            if any(line.strip() for line in block):
                out.append((j1 + 1, block))
    return out


def _docstring_lines(text):
    """Line numbers (1-based) of the docstrings in Python TEXT; none when it does not parse.
    ast.parse only reads the text; nothing is executed."""
    import ast
    import warnings
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                out.update(range(body[0].lineno, (body[0].end_lineno or body[0].lineno) + 1))
    return out


def _runs(first, block, skip):
    """Split BLOCK (lines from number FIRST) into runs of lines whose numbers are not in SKIP."""
    run, start = [], first
    for n, line in enumerate(block, first):
        if n in skip:
            if run:
                yield start, run
            run, start = [], n + 1
        else:
            run.append(line)
    if run:
        yield start, run


def _enclosing(lines, index):
    """Name of the def/class (Class.method) enclosing line INDEX, found by indentation only."""
    names, limit = [], None
    for line in reversed(lines[:index + 1]):
        m = _DEF.match(line)
        indent = len(line) - len(line.lstrip())
        if m and (limit is None or indent < limit):
            names.append(m.group(2))
            limit = indent
            if indent == 0:
                break
    return ".".join(reversed(names))


def _read_regular(path):
    """Bytes of a regular file (never a link or special file), or None with the reason."""
    try:
        st = path.lstat()
    except OSError:
        return None, "missing"
    if not stat.S_ISREG(st.st_mode):
        return None, "not a regular file"
    if st.st_size > MAX_FILE_BYTES:
        return None, f"larger than {MAX_FILE_BYTES >> 20} MiB"
    return path.read_bytes(), None


def file_passages(rel, starter, text):
    """The passages of TEXT (the student's REL) that are not in STARTER (the release's)."""
    lines, out = text.splitlines(), []
    docstrings = _docstring_lines(text)      # prose, not code: never compared
    for first, block in _new_lines(starter, text):
        for start, run in _runs(first, block, docstrings):
            if any(line.strip() for line in run):
                out.append({"file": rel, "line": start, "text": "\n".join(run),
                            "where": _enclosing(lines, start - 1) or "top level"})
    return out


def extract(root, release=RELEASE):
    """What the student wrote in ROOT (an unpacked submission): {"passages", "notes"}."""
    root, release = Path(root), Path(release)
    files, cells = _release_sources(release)
    passages, notes = [], []
    for rel, starter in files.items():
        data, why = _read_regular(root / rel)
        if data is None:
            notes.append(f"{rel}: {why}")
            continue
        passages += file_passages(rel, starter, data.decode("utf-8", errors="replace"))
    for name, starter_cells in cells.items():
        data, why = _read_regular(root / name)
        if data is None:
            notes.append(f"{name}: {why}")
            continue
        try:
            nb = json.loads(data)
        except (ValueError, RecursionError):
            notes.append(f"{name}: not valid JSON")
            continue
        for grade_id, src in _solution_cells(nb):
            for first, block in _new_lines(starter_cells.get(grade_id, ""), src):
                passages.append({"file": name, "where": f"cell {grade_id}", "line": first,
                                 "text": "\n".join(block)})
    total = 0
    for i, p in enumerate(passages):
        total += len(p["text"])
        if total > MAX_PASSAGES_CHARS:
            notes.append(f"only the first {MAX_PASSAGES_CHARS} characters are compared")
            del passages[i:]
            break
    return {"passages": passages, "notes": notes}


def student_code(root, sha256, release=RELEASE):
    """code.json's text for the unpacked submission ROOT (the grade step calls this on the
    trusted copy before any student code runs, and writes it next to results.json).

    The passages are tokenized here too (copydetect's filter, the slow part: about 0.1 s per
    submission), so the report only hashes."""
    # Never stops the grading of this submission: the similarity section is an extra.
    try:
        code = extract(root, release)
    except Exception as e:  # noqa: BLE001 - e.g. the release unreadable: say so, grade on
        code = {"passages": [], "notes": [f"not extracted: {type(e).__name__}: {e}"]}
    try:
        code["tokens"] = tokenize(code["passages"])
    except Exception as e:  # noqa: BLE001 - e.g. copydetect missing: the report tokenizes
        code["notes"].append(f"not tokenized: {type(e).__name__}: {e}")
    code.update(format=CODE_FORMAT, sha256=sha256)
    return json.dumps(code)


def save_code(root, dest, sha256, release=RELEASE):
    R.atomic_write(Path(dest) / CODE_FILE, student_code(root, sha256, release))


def load_code(folder, sha256):
    """(code dict, None) from FOLDER/code.json when it belongs to SHA256, else (None, reason)."""
    data = R.load(Path(folder) / CODE_FILE)
    if data is None:
        return None, "no code.json (graded before the report existed? regrade with --force)"
    ok = (isinstance(data, dict) and data.get("format") == CODE_FORMAT
          and isinstance(data.get("passages"), list)
          and all(isinstance(p, dict) and all(isinstance(p.get(k), str)
                                              for k in ("file", "where", "text"))
                  for p in data["passages"]))
    if not ok:
        return None, "code.json is malformed"
    if data.get("sha256") != sha256:
        return None, "code.json belongs to another version of the submission"
    return data, None


# ---------------------------------------------------------------- comparison (report)

@dataclasses.dataclass
class Pair:
    a: str
    b: str
    sim_a: float         # share of a's own code covered by the matches
    sim_b: float
    overlap: int         # matching tokens
    html_a: str          # a's matching passages, matches marked
    html_b: str


class _Doc:
    """One submission's passages joined into one document, with each passage's span."""

    def __init__(self, passages):
        parts, self.spans, pos = [], [], 0
        for p in passages:
            text = p["text"] + "\n"
            self.spans.append((pos, pos + len(text), p))
            parts.append(text)
            pos += len(text)
        self.text = "".join(parts)


@functools.lru_cache(maxsize=None)
def _copydetect_version():
    from importlib.metadata import version
    return version("copydetect")


def tokenize(passages, filtered=None):
    """copydetect's token filter (names to V/F/O, strings to S, no comments or spaces) of each
    passage on its own (a fragment's open quote cannot swallow the next passage), joined as
    one filtered document with copydetect's offsets into the _Doc text. FILTERED: the
    (filtered, offsets) of each passage when already known (the benchmark's cache)."""
    from copydetect.utils import filter_code
    if filtered is None:
        filtered = [filter_code(p["text"] + "\n", "code.py") for p in passages]
    parts, offsets, raw, pos = [], [], 0, 0
    for p, (f, off) in zip(passages, filtered):
        offsets += [[pos + int(a), raw - pos + int(b)] for a, b in off]
        parts.append(f)
        pos += len(f)
        raw += len(p["text"]) + 1
    return {"copydetect": _copydetect_version(), "filtered": "".join(parts),
            "offsets": offsets}


def _fingerprint(passages, tokens=None):
    """A copydetect CodeFingerprint of PASSAGES, from their saved TOKENS when usable."""
    import numpy as np
    from copydetect import CodeFingerprint
    ok = (isinstance(tokens, dict) and tokens.get("copydetect") == _copydetect_version()
          and isinstance(tokens.get("filtered"), str) and isinstance(tokens.get("offsets"), list))
    if ok:
        try:
            offsets = np.array(tokens["offsets"], dtype=np.int64).reshape(-1, 2)
        except (ValueError, TypeError):
            ok = False
    if not ok:
        tokens = tokenize(passages)
        offsets = np.array(tokens["offsets"], dtype=np.int64).reshape(-1, 2)
    fp = CodeFingerprint("code.py", K, WINDOW, filter=False, fp=io.StringIO(tokens["filtered"]))
    fp.raw_code, fp.offsets = _Doc(passages).text, offsets
    return fp


def _without(fp, drop):
    """A copy of copydetect fingerprint FP without the hashes in DROP (coverage recomputed)."""
    from copydetect.utils import get_token_coverage
    out = object.__new__(type(fp))
    out.__dict__.update(fp.__dict__)
    out.hashes = fp.hashes - drop
    out.hash_idx = {h: i for h, i in fp.hash_idx.items() if h not in drop}
    out.token_coverage = get_token_coverage(out.hash_idx, fp.k, len(fp.filtered_code))
    return out


def boilerplate_hashes(release=RELEASE):
    """Fingerprints of every starter text a student receives (stubbed files, solution cells)."""
    files, cells = _release_sources(Path(release))
    texts = list(files.values()) + [t for c in cells.values() for t in c.values()]
    return set().union(*(_fingerprint([{"text": t}]).hashes for t in texts)) if texts else set()


def _candidates(names, prints, max_shared):
    """{(i, j): shared fingerprint count} over fingerprints in 2..max_shared submissions."""
    import numpy as np
    hashes = [np.fromiter(prints[n], dtype=np.int64, count=len(prints[n])) for n in names]
    if not hashes:
        return {}, set()
    h = np.concatenate(hashes)
    d = np.concatenate([np.full(len(x), i, dtype=np.int64) for i, x in enumerate(hashes)])
    order = np.lexsort((d, h))
    h, d = h[order], d[order]
    uniq, first, counts = np.unique(h, return_index=True, return_counts=True)
    common = set(uniq[counts > max_shared].tolist())
    keep = np.repeat(counts <= max_shared, counts)
    h, d = h[keep], d[keep]
    n, keys = len(names), []
    for step in range(1, max_shared):
        same = h[step:] == h[:-step]
        if not same.any():
            break
        keys.append(d[:-step][same] * n + d[step:][same])
    if not keys:
        return {}, common
    pair, shared = np.unique(np.concatenate(keys), return_counts=True)
    return {(int(p // n), int(p % n)): int(c) for p, c in zip(pair, shared)}, common


def _marked(doc, slices):
    """HTML of DOC's passages that hold a match (start/end arrays), matches in <mark>."""
    out = []
    starts, ends = slices
    for lo, hi, p in doc.spans:
        cuts = [(max(int(s), lo), min(int(e), hi)) for s, e in zip(starts, ends)
                if s < hi and e > lo]
        if not cuts:
            continue
        pieces, pos = [], lo
        for s, e in cuts:
            pieces.append(html.escape(doc.text[pos:s]))
            pieces.append("<mark>" + html.escape(doc.text[s:e]) + "</mark>")
            pos = e
        pieces.append(html.escape(doc.text[pos:hi]))
        out.append('<div class="passage"><div class="where">%s &middot; %s</div><pre>%s</pre>'
                   "</div>" % (html.escape(p["file"]), html.escape(p["where"]),
                               "".join(pieces).rstrip("\n")))
    return "".join(out)


def find_pairs(codes, boilerplate=None, threshold=THRESHOLD, min_overlap=MIN_OVERLAP,
               max_shared=MAX_SHARED):
    """Flagged pairs among CODES ({name: code.json dict or passage list}), most similar first.

    Returns (pairs, stats) where stats counts submissions compared and candidate pairs."""
    from copydetect.detector import compare_files
    if boilerplate is None:
        boilerplate = boilerplate_hashes()
    codes = {n: c if isinstance(c, dict) else {"passages": c} for n, c in codes.items()}
    docs = {n: _Doc(c["passages"]) for n, c in codes.items()}
    fps = {n: _fingerprint(codes[n]["passages"], codes[n].get("tokens"))
           for n, d in docs.items() if d.text.strip()}
    names = sorted(fps)
    prints = {n: fps[n].hashes - boilerplate for n in names}
    shared, common = _candidates(names, prints, max_shared)
    drop = boilerplate | common
    stripped, pairs = {}, []
    for (i, j), count in sorted(shared.items()):
        a, b = names[i], names[j]
        # cheap bound first: too few shared fingerprints cannot reach the threshold
        if count < threshold * 0.5 * min(len(prints[a]), len(prints[b])) or count < K // 5:
            continue
        for n in (a, b):
            if n not in stripped:
                stripped[n] = _without(fps[n], drop)
        overlap, (sim_a, sim_b), (sl_a, sl_b) = compare_files(stripped[a], stripped[b])
        if overlap >= min_overlap and max(sim_a, sim_b) >= threshold:
            pairs.append(Pair(a, b, float(sim_a), float(sim_b), int(overlap),
                              _marked(docs[a], sl_a), _marked(docs[b], sl_b)))
    pairs.sort(key=lambda p: (-max(p.sim_a, p.sim_b), -p.overlap, p.a, p.b))
    stats = {"compared": len(names), "without_code": len(docs) - len(names),
             "candidates": len(shared), "common_fingerprints": len(common)}
    return pairs, stats
