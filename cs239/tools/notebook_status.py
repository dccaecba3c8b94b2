"""What a saved notebook says about how it was run: one reading shared by the self-check (which
reports it) and the submission tool (which refuses a notebook that was not run).

It only reads the file's JSON (never executes anything), so it also works without Jupyter.
"""
import json
from collections import namedtuple

# error: why the file cannot be read as a notebook (then everything else is empty);
# code_cells: indices of the non-empty code cells; not_run: those without an execution count;
# in_order: the execution counts increase down the notebook, each once; has_output: any output;
# errors: [(cell, ename, evalue)] of error outputs; unanswered: nbgrader answer cells still
# holding their prompt; tests: nbgrader test cells; failed_tests: test cells ending in an error.
Status = namedtuple("Status", "error code_cells not_run in_order has_output errors unanswered "
                              "tests failed_tests")


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _nbgrader(cell):
    meta = cell.get("metadata") or {}
    return meta.get("nbgrader") or {} if isinstance(meta, dict) else {}


def _errors(cell):
    return [o for o in cell.get("outputs") or [] if o.get("output_type") == "error"]


def _unanswered(cell):
    src = _source(cell)
    return bool(_nbgrader(cell).get("solution")) and (
        "YOUR CODE HERE" in src and "raise NotImplementedError()" in src
        or "YOUR ANSWER HERE" in src)


def read_status(path):
    """The Status of the notebook saved at path (a pathlib.Path)."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = nb.get("cells", [])
        if not isinstance(cells, list):
            raise ValueError("no list of cells")
    except (OSError, ValueError, AttributeError) as e:
        return Status(str(e), [], [], False, False, [], [], [], [])
    code = [i for i, c in enumerate(cells)
            if c.get("cell_type") == "code" and _source(c).strip()]
    counts = [cells[i].get("execution_count") for i in code]
    run = [n for n in counts if n is not None]
    tests = [i for i in code if _nbgrader(cells[i]).get("grade")]
    return Status(
        error=None,
        code_cells=code,
        not_run=[i for i, n in zip(code, counts) if n is None],
        in_order=run == sorted(run) and len(set(run)) == len(run),
        has_output=any(cells[i].get("outputs") for i in code),
        errors=[(i, o.get("ename", "?"), o.get("evalue", "")) for i in code
                for o in _errors(cells[i])],
        unanswered=[i for i, c in enumerate(cells) if _unanswered(c)],
        tests=tests,
        failed_tests=[i for i in tests if _errors(cells[i])],
    )


def was_run(status):
    """Whether the notebook was run at all (some cell has an execution count and an output)."""
    return len(status.not_run) < len(status.code_cells) and status.has_output


def run_seconds(path):
    """Seconds the saved notebook's cells took when it was last run, from the timings Jupyter
    and nbclient record in each cell's metadata; None when the notebook has none."""
    from datetime import datetime
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return None
    total, found = 0.0, False
    for cell in cells:
        timing = (cell.get("metadata") or {}).get("execution") if isinstance(cell, dict) else None
        if not isinstance(timing, dict):
            continue
        start = timing.get("iopub.execute_input") or timing.get("shell.execute_reply.started")
        end = timing.get("shell.execute_reply")
        try:
            total += (datetime.fromisoformat(str(end).replace("Z", "+00:00"))
                      - datetime.fromisoformat(str(start).replace("Z", "+00:00"))).total_seconds()
            found = True
        except (TypeError, ValueError):
            continue
    return total if found else None
