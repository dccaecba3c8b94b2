"""Run the benchmarks and print a summary table: ``python -m bench [NAME ...]``.

``make bench`` runs every benchmark; ``python -m bench train_step`` (or ``bench_train_step``)
runs only the ones named; ``python -m bench --list`` lists them.

Convention for benchmark modules (add a file, nothing to register):

- A benchmark is a module ``bench/bench_<name>.py`` that defines ``main()``, called with no
  arguments. ``main()`` prints its own progress and result lines as it goes and returns a list
  of result rows, each a dict mapping column names to values (str, int, float or None). The
  summary table has one line per row, the column ``bench`` (the module's short name) first, then
  the union of the rows' keys in order of first appearance. Put the figure of merit in the row
  (e.g. ``ratio`` against a baseline measured in the same run); no timed assertions anywhere.
- Optional requirements (torch, the real CIFAR-10, ...) are imported or opened inside
  ``main()`` (or at module level). If one is missing, let the ``ModuleNotFoundError`` or
  ``FileNotFoundError`` propagate, or raise one with a message saying how to get it
  (e.g. ``raise ModuleNotFoundError("torch is not installed: .venv/bin/pip install
  torch==2.13.0 (benchmarks only)", name="torch")``): the runner then prints
  ``SKIPPED: <reason>`` for that module and goes on. A missing *project* module (cs239, tools,
  autograder, bench) or any other exception is a failure: the runner prints the traceback, goes
  on with the other modules, and exits with status 1 at the end.
- A benchmark must not change global state it does not restore (cwd, environment variables,
  numpy's global random state) and writes files only under a temporary directory.
"""
import argparse
import importlib
import pkgutil
import sys
import time
import traceback
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_MODULES = {"cs239", "tools", "autograder", "bench", "datasets"}


def discover():
    """Short names ("train_step", ...) of the bench/bench_*.py modules, sorted."""
    return sorted(m.name[len("bench_"):] for m in pkgutil.iter_modules([str(PACKAGE_DIR)])
                  if m.name.startswith("bench_"))


def _skip_reason(exc):
    """The reason to print if exc means "optional requirement missing", else None."""
    if isinstance(exc, ModuleNotFoundError):
        top = (exc.name or "").split(".")[0]
        if top and top not in PROJECT_MODULES:
            return str(exc) if "install" in str(exc) else (
                "optional dependency %r is not installed (%s)" % (top, exc))
        return None
    if isinstance(exc, FileNotFoundError):
        return str(exc)
    return None


def run_one(name):
    """Import bench.bench_<name> and run its main(). Returns (status, rows, seconds, note)."""
    start = time.perf_counter()
    try:
        module = importlib.import_module("bench.bench_%s" % name)
        rows = module.main()
    except Exception as exc:  # noqa: BLE001 - one benchmark must not stop the others
        reason = _skip_reason(exc)
        if reason is not None:
            print("SKIPPED: %s" % reason)
            return "skipped", [], time.perf_counter() - start, reason
        traceback.print_exc()
        return "failed", [], time.perf_counter() - start, "%s: %s" % (type(exc).__name__, exc)
    if rows is None:
        rows = []
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        msg = "main() must return a list of dicts, got %r" % type(rows).__name__
        print("FAILED: %s" % msg)
        return "failed", [], time.perf_counter() - start, msg
    return "ok", rows, time.perf_counter() - start, ""


def _fmt(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        if value == 0 or 1e-3 <= abs(value) < 1e5:
            return "%.4g" % value
        return "%.3e" % value
    return str(value)


def format_table(rows):
    """Format a list of dicts as an aligned text table (keys in order of first appearance)."""
    columns = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    cells = [[_fmt(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)),
             "  ".join("-" * w for w in widths)]
    for r in cells:
        lines.append("  ".join(v.ljust(w) for v, w in zip(r, widths)))
    return "\n".join(line.rstrip() for line in lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all), e.g. "
                        "train_step or bench_train_step")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)

    available = discover()
    if args.list:
        print("\n".join(available))
        return 0
    wanted = [n[len("bench_"):] if n.startswith("bench_") else n for n in args.names]
    wanted = [n[:-3] if n.endswith(".py") else n for n in wanted]
    unknown = [n for n in wanted if n not in available]
    if unknown:
        parser.error("unknown benchmark(s) %s; available: %s"
                     % (", ".join(unknown), ", ".join(available) or "none"))
    names = wanted or available

    results, table_rows = [], []
    for name in names:
        print("=" * 20, "bench_%s" % name, "=" * 20, flush=True)
        status, rows, seconds, note = run_one(name)
        results.append((name, status, seconds, note))
        for row in rows:
            table_rows.append({"bench": name, **row})
        print(flush=True)

    print("=" * 20, "summary", "=" * 20)
    for name, status, seconds, note in results:
        print("%-16s %-8s %7.1f s  %s" % (name, status, seconds, note))
    if table_rows:
        print()
        print(format_table(table_rows))
    return 1 if any(status == "failed" for _, status, _, _ in results) else 0


if __name__ == "__main__":
    sys.exit(main())
