"""Notebook autograded cells, graded like nbgrader's autograde but with every point decided on the
trusted side from the master copy (``source/<assignment>``), never from anything a submission produces.

Per notebook, in the judge:
1. ``master_plan``: from the master notebook, the cells nbgrader locks (their source replaces the
   student's, hidden tests included) and the autograded test cells with their points.
2. ``cells_to_run``: the student's code cells in order, locked cells overwritten from the master
   by grade_id (duplicates keep the first; unknown ids are ignored; both are logged). A notebook
   that is not a valid notebook costs only itself, with a message naming it.
3. ``sandbox.nbsession.run_notebook`` runs them as the worker user and returns, per grade_id,
   passed / failed / not run.
4. ``score``: each master test cell earns its master points if and only if it passed; replies
   about unknown or repeated grade ids are ignored and logged. The student sees a message built
   here: an assertion message only if it fits one of the test's own assert messages (values in
   it are restricted to numbers and short names), else the exception's class name. Never the
   evalue of an arbitrary exception, which student code controls and which could carry the test
   cell's source (hidden tests included).
Tests are named ``<Notebook>.ipynb: <grade_id>``.
"""
import ast
import json
import re
from pathlib import Path

MAX_NOTEBOOK = 20 << 20
MAX_CELLS = 2000
_SLOT = r"(?:[A-Za-z_][A-Za-z0-9_]{0,7}|[-+0-9.,:()\[\] eEnaif]{0,60})"
_FORMAT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[sdifgeExXrc]")


class BadNotebook(Exception):
    pass


def master_plan(source_dir):
    """{notebook name: {"ids": every grade_id, "locked": {grade_id: source},
    "tests": [(grade_id, points)], "messages": {grade_id: [regex]}}} from the master notebooks."""
    plan = {}
    for path in sorted(Path(source_dir).glob("*.ipynb")):
        nb = json.loads(path.read_text())
        ids, locked, tests, messages = set(), {}, [], {}
        for cell in nb.get("cells", []):
            meta = cell.get("metadata", {}).get("nbgrader", {})
            gid = meta.get("grade_id")
            ids.add(gid)
            if not gid or cell.get("cell_type") != "code":
                continue
            source = _text(cell.get("source", ""))
            if meta.get("locked") or (meta.get("grade") and not meta.get("solution")):
                locked[gid] = source
            if meta.get("grade") and not meta.get("solution"):
                tests.append((gid, float(meta.get("points", 0))))
                messages[gid] = _assert_messages(source)
        plan[path.name] = {"ids": ids, "locked": locked, "tests": tests, "messages": messages}
    return plan


def _text(source):
    return "".join(source) if isinstance(source, list) else str(source)


def _assert_messages(source):
    """Regexes for the messages the test's own asserts can produce: string literals, and
    'literal % values' with each value restricted to a number-like text or a short name."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assert) or node.msg is None:
            continue
        msg = node.msg
        if isinstance(msg, ast.BinOp) and isinstance(msg.op, ast.Mod):
            msg = msg.left
        if isinstance(msg, ast.Constant) and isinstance(msg.value, str):
            parts = _FORMAT.split(msg.value) if msg is not node.msg else [msg.value]
            out.append("".join(re.escape(p) + (_SLOT if i < len(parts) - 1 else "")
                               for i, p in enumerate(parts)))
    return out


def cells_to_run(name, data, master, log):
    """The cells to execute for the student's notebook NAME (bytes DATA):
    [{"source", "grade_id" (graded test cells only)}]. BadNotebook names what is wrong."""
    try:
        if len(data) > MAX_NOTEBOOK:
            raise ValueError(f"larger than {MAX_NOTEBOOK >> 20} MiB")
        nb = json.loads(data)
        if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
            raise ValueError("no list of cells")
        if nb.get("nbformat") != 4:
            raise ValueError(f"nbformat {nb.get('nbformat')!r}, expected 4")
        if len(nb["cells"]) > MAX_CELLS:
            raise ValueError(f"more than {MAX_CELLS} cells")
        cells = []
        for i, cell in enumerate(nb["cells"]):
            if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
                raise ValueError(f"cell {i} is not a notebook cell")
            source = cell.get("source", "")
            if not (isinstance(source, str) or (isinstance(source, list) and all(
                    isinstance(s, str) for s in source))):
                raise ValueError(f"cell {i} has a source that is not text")
            meta = cell.get("metadata", {})
            meta = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
            gid = meta.get("grade_id") if isinstance(meta, dict) else None
            cells.append((cell["cell_type"], _text(source), gid if isinstance(gid, str) else None))
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise BadNotebook(f"{name} is not a valid notebook ({str(e)[:200]})")
    tests = dict(master["tests"])
    seen, run = set(), []
    for kind, source, gid in cells:
        if gid is not None and gid in seen:
            log.append(f"{name}: grade_id {gid!r} appears more than once; only the first counts")
            gid = None
        elif gid is not None and gid not in master["locked"]:
            if gid not in master["ids"]:
                log.append(f"{name}: unknown grade_id {gid[:80]!r} ignored")
            gid = None
        if gid is not None:
            seen.add(gid)
            source, kind = master["locked"].get(gid, source), "code"
        if kind == "code":
            run.append({"source": source, "grade_id": gid if gid in tests else None})
    for gid in tests:
        if gid not in seen:
            log.append(f"{name}: test cell {gid!r} is missing from the submission")
    return run


def score(name, master, reply, cell_timeout, log, problem=None):
    """Test dicts for notebook NAME, from the runner's REPLY (untrusted; None if there is
    none) or, when the notebook could not run at all, the message PROBLEM."""
    outcomes = reply.get("outcomes") if isinstance(reply, dict) else None
    if not isinstance(outcomes, dict):
        outcomes = {}
    for gid in getattr(outcomes, "duplicates", []):
        log.append(f"{name}: the runner reported {gid!r} more than once; ignored")
        outcomes.pop(gid, None)
    for gid in outcomes:
        if gid not in dict(master["tests"]):
            log.append(f"{name}: the runner reported unknown grade_id {str(gid)[:80]!r}; ignored")
    error = reply.get("error") if isinstance(reply, dict) else None
    tests = []
    for gid, points in master["tests"]:
        o = outcomes.get(gid)
        o = o if isinstance(o, dict) else {}
        passed = o.get("status") == "passed" and problem is None
        if passed:
            output = ""
        elif problem is not None:
            output = problem
        elif reply is None:
            output = (f"{name} was not graded: it did not finish within its time budget, or "
                      "its kernel took the grader down with it")
        elif o.get("status") == "failed":
            output = _message(o, master["messages"].get(gid, []), cell_timeout)
        elif gid not in outcomes and error is None:
            output = (f"this test cell was not found in your {name} (was it deleted, or its "
                      "metadata changed?)")
        else:
            output = (f"not run: the kernel died or stopped before this cell "
                      f"({'it exited or crashed' if error == 'dead_kernel' else 'see above'})")
        tests.append(dict(name=f"{name}: {gid}", score=points if passed else 0.0,
                          max_score=points, output=output, visibility="visible",
                          status="passed" if passed else "failed"))
    return tests


def _message(outcome, templates, cell_timeout):
    ename = str(outcome.get("ename", ""))
    # colour codes only; not nbconvert's strip_ansi: importing nbconvert costs the judge ~1 s
    evalue = re.sub(r"\x1b\[[0-9;]*m", "", str(outcome.get("evalue", ""))).strip()
    if ename == "CellTimeout":
        return (f"did not finish within {cell_timeout:g} s (an infinite loop, or far too "
                "slow?); the cell was interrupted")
    if ename == "AssertionError":
        if not evalue:
            return "AssertionError: check failed"
        if any(re.fullmatch(t, evalue) for t in templates):
            return f"AssertionError: {evalue}"
        return "AssertionError (message not shown: it is not one of this test's messages)"
    kind = ename if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]{0,80}", ename) else "an exception"
    if kind == "NotImplementedError":
        return "not implemented yet (NotImplementedError)"
    return (f"your code raised {kind} in this test cell (run the notebook to see the "
            "message; messages from your code are not shown here)")
