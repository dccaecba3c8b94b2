"""Execute the course notebooks with size overrides, for tests, demo and bench.

Every master notebook (source/<assignment>/) that trains anything has one code cell tagged
``parameters`` near the top that holds every size and iteration knob at homework-scale defaults.
``run_notebook`` executes a notebook with nbclient, the overrides applied right after that cell
by the kernel hook of autograder/notebook_parameters.py (the grader uses the same hook; the
notebook itself is not changed):

    from tools.notebook_runner import QUICK_PARAMETERS, run_notebook, extract_checks
    nb = run_notebook(path, QUICK_PARAMETERS["TwoLayerNet"], cwd=workdir,
                      env={"CS239_CIFAR10_DIR": data_dir}, html_out="out.html")
    bad = [c for c in extract_checks(nb) if not c["ok"]]

The notebook runs in ``cwd`` (default: its own folder), which is where it writes its saved
models (``two_layer_net_best.npz``, ``fc_net_best.npz``): point ``cwd`` at a scratch folder to
keep source/ clean. A failing cell raises ``NotebookCellError`` naming the notebook, the cell
and the error.

Checks printed by the notebooks follow one format, which ``extract_checks`` parses:

    <what is compared>: <value> (should be < <bound>)

and final results are printed as ``Final <name>: <value>`` (``extract_metrics``).

Command line (prints the checks and metrics; HTML next to the output notebook):
    python -m tools.notebook_runner NOTEBOOK.ipynb --quick --cwd /tmp/run --html out.html
"""
import math
import os
import re
from pathlib import Path

import nbformat
from nbconvert.filters import strip_ansi

from autograder import notebook_parameters

__all__ = [
    "QUICK_PARAMETERS", "NotebookCellError", "run_notebook", "parameters_cell_index",
    "export_html", "notebook_output_text", "extract_checks",
    "extract_metrics", "quick_parameters", "quick_parameters_for_all",
]

DEFAULT_TIMEOUT = 1800  # seconds per cell; homework-scale training cells take a few minutes

# Small overrides for the generated synthetic data set (tests, demo): each notebook in seconds.
QUICK_PARAMETERS = {
    "TwoLayerNet": {
        "num_training": 1000,
        "num_validation": 200,
        "num_test": 200,
        "num_iters": 100,
        "search_num_iters": 100,
        "search_max_configs": 2,
        "show_progress": False,
    },
    "FullyConnectedNets": {
        "num_training": 1000,
        "num_validation": 200,
        "num_test": 200,
        "num_train_small": 500,
        "compare_epochs": 1,
        "two_layer_epochs": 1,
        "swish_epochs": 1,
        "best_epochs": 1,
        "show_progress": False,
    },
}

_CHECK_RE = re.compile(
    r"^(?P<label>[^\n]*?):\s*(?P<value>[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|nan|inf))\s*"
    r"\(should be < (?P<bound>[-+]?\d+\.?\d*(?:[eE][-+]?\d+)?)\)", re.MULTILINE)
_METRIC_RE = re.compile(r"^Final (?P<name>[^:\n]+):\s*(?P<value>[-+]?\d+\.?\d*(?:[eE][-+]?\d+)?)",
                        re.MULTILINE)


class NotebookCellError(RuntimeError):
    """A cell of an executed notebook raised. Attributes: path, cell_index (index in the
    notebook file), ename, evalue, source, nb (the partly executed notebook)."""

    def __init__(self, path, cell_index, ename, evalue, source, traceback_text, nb):
        self.path, self.cell_index, self.ename, self.evalue = path, cell_index, ename, evalue
        self.source, self.traceback_text, self.nb = source, traceback_text, nb
        first = source.strip().splitlines()[0] if source.strip() else ""
        super().__init__("%s: cell %d (%r...) failed with %s: %s\n%s"
                         % (path, cell_index, first[:60], ename, evalue, traceback_text))


def quick_parameters(path):
    """The QUICK_PARAMETERS entry for a notebook path (by file stem); {} if there is none."""
    return dict(QUICK_PARAMETERS.get(Path(path).stem, {}))


def quick_parameters_for_all():
    """One set of small sizes for every notebook, for runs that cannot tell the notebooks apart
    (the grader and nbgrader pass one CS239_NOTEBOOK_PARAMETERS to every kernel)."""
    merged = {}
    for params in QUICK_PARAMETERS.values():
        for key, value in params.items():
            if merged.get(key, value) != value:
                raise ValueError("QUICK_PARAMETERS disagree on %r" % key)
            merged[key] = value
    return merged


def parameters_cell_index(nb):
    """Index of the code cell tagged ``parameters``; ValueError if there is not exactly one."""
    found = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(found) != 1:
        raise ValueError("expected exactly one code cell tagged 'parameters', found %d"
                         % len(found))
    return found[0]


def export_html(nb, html_out):
    """Write an executed notebook as a standalone HTML page."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nb)
    Path(html_out).parent.mkdir(parents=True, exist_ok=True)
    Path(html_out).write_text(body, encoding="utf-8")


def run_notebook(path, parameters=None, cwd=None, timeout=DEFAULT_TIMEOUT, env=None,
                 html_out=None, kernel_name="python3"):
    """Execute the notebook at ``path`` top to bottom and return the executed NotebookNode.

    - parameters: dict of overrides applied after the ``parameters`` cell (None: defaults).
    - cwd: working directory of the kernel (default: the notebook's folder); saved models
      land there.
    - timeout: seconds allowed per cell.
    - env: extra environment variables for the kernel (added to os.environ), e.g.
      {"CS239_CIFAR10_DIR": ...}.
    - html_out: if given, also write the executed notebook (even a failed one) as HTML there.

    Raises NotebookCellError naming the notebook, the cell and the error if a cell fails, and
    FileNotFoundError if the notebook does not exist. The file itself is never modified.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError("notebook not found: %s" % path)
    nb = nbformat.read(path, as_version=4)
    cwd = Path(cwd) if cwd is not None else path.resolve().parent
    kernel_env = dict(os.environ)
    kernel_env.update({k: str(v) for k, v in (env or {}).items()})
    kernel_env.update(notebook_parameters.environment(parameters or {}))
    kernel_env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name, allow_errors=False,
                            resources={"metadata": {"path": str(cwd)}},
                            extra_arguments=notebook_parameters.kernel_arguments())
    try:
        client.execute(env=kernel_env, cwd=str(cwd))
    except CellExecutionError:
        for i, cell in enumerate(nb.cells):
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            if errors:
                if html_out:
                    export_html(nb, html_out)
                tb = strip_ansi("\n".join(errors[0].get("traceback", [])))
                raise NotebookCellError(str(path), i, errors[0].get("ename", "?"),
                                        errors[0].get("evalue", ""), cell.source,
                                        tb[-3000:], nb) from None
        raise
    if html_out:
        export_html(nb, html_out)
    return nb


def notebook_output_text(nb, cell_index=None):
    """The text a notebook printed (stream outputs and text/plain results), one string.
    With cell_index, only that cell's."""
    cells = nb.cells if cell_index is None else [nb.cells[cell_index]]
    parts = []
    for cell in cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            elif out.get("output_type") in ("execute_result", "display_data"):
                text = out.get("data", {}).get("text/plain")
                if text and not text.startswith(("<Figure", "HBox(", "<IPython")):
                    parts.append(text + "\n")
    return strip_ansi("".join(parts))


def extract_checks(nb):
    """Every printed check ``<label>: <value> (should be < <bound>)`` of an executed notebook,
    as dicts {cell, label, value, bound, ok} in order; ok is False for nan and inf."""
    checks = []
    for i, cell in enumerate(nb.cells):
        for m in _CHECK_RE.finditer(notebook_output_text(nb, i)):
            value, bound = float(m.group("value")), float(m.group("bound"))
            checks.append({"cell": i, "label": m.group("label").strip(), "value": value,
                           "bound": bound, "ok": math.isfinite(value) and value < bound})
    return checks


def extract_metrics(nb):
    """Final results printed as ``Final <name>: <value>``, e.g. {"validation accuracy": 0.52}."""
    return {m.group("name").strip(): float(m.group("value"))
            for m in _METRIC_RE.finditer(notebook_output_text(nb))}


def main(argv=None):
    import argparse
    import json
    import time

    parser = argparse.ArgumentParser(description="Execute a course notebook with overrides.")
    parser.add_argument("notebook")
    parser.add_argument("--quick", action="store_true", help="use QUICK_PARAMETERS")
    parser.add_argument("-p", "--parameters", default="{}", help="JSON dict of overrides")
    parser.add_argument("--cwd", help="working directory (default: the notebook's folder)")
    parser.add_argument("--html", help="write the executed notebook as HTML here")
    parser.add_argument("--out", help="write the executed notebook (.ipynb) here")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT)
    args = parser.parse_args(argv)
    params = quick_parameters(args.notebook) if args.quick else {}
    params.update(json.loads(args.parameters))
    if args.cwd:
        Path(args.cwd).mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        nb = run_notebook(args.notebook, params, cwd=args.cwd, timeout=args.timeout,
                          html_out=args.html)
    except NotebookCellError as exc:
        print(exc)
        return 1
    if args.out:
        nbformat.write(nb, args.out)
    checks = extract_checks(nb)
    for c in checks:
        print("%-4s cell %-3d %s: %.3g (bound %.3g)"
              % ("ok" if c["ok"] else "FAIL", c["cell"], c["label"], c["value"], c["bound"]))
    for name, value in extract_metrics(nb).items():
        print("Final %s: %.4f" % (name, value))
    print("%s ran in %.1f s" % (args.notebook, time.perf_counter() - start))
    return 0 if all(c["ok"] for c in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
