"""The trusted judge: one process per submission, started by the orchestrator (batch.py) as
``python -m autograder.judge CONFIG.json`` with cwd = the repo root (so ``import cs239`` is the
reference). Runs pytest on the suites with GradingPlugin, which drives the package worker, then
(if the config asks for it) each notebook in the sandbox (notebook_grading.py); writes
``{"tests": [...], "notebook_tests": [...], "import_errors": ..., "log": ...}`` to the config's
``out`` path. Exit status: 0 when the report was written, 3 when the suites themselves are broken.
"""
import json
import os
import sys
from pathlib import Path


def submission_modules(sub):
    """Module names of the submission's cs239 package, packages before their children."""
    root = Path(sub) / "cs239"
    mods = []
    for p in root.rglob("*.py"):
        rel = p.relative_to(root.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        if all(s.isidentifier() for s in parts):
            mods.append(".".join(parts))
    return sorted(set(mods), key=lambda m: (m.count("."), m))


def grade_notebooks(cfg, rt, limits, log):
    """Each master notebook on its own: its cells run in the sandbox (a fresh runner, kernel
    and working copy each), points from the master copy."""
    from .notebook_grading import BadNotebook, cells_to_run, master_plan, score
    from .notebook_parameters import kernel_arguments
    from .sandbox.nbsession import run_notebook
    from .sandbox.runtime import read_capped
    nb = cfg["notebooks"]
    sub = Path(cfg["submission"])
    tests = []
    for i, (name, master) in enumerate(sorted(master_plan(nb["source"]).items())):
        reply, problem = None, None
        try:
            cells = cells_to_run(name, read_capped(sub / name, 20 << 20, name), master, log)
        except FileNotFoundError:
            problem = f"{name} is missing from the submission"
        except OSError as e:
            problem = f"{name} cannot be read ({e})"
        except BadNotebook as e:
            problem = str(e)
        if problem is None:
            reply, runner_log = run_notebook(
                rt, nb["site"], sub, cells, Path(cfg["job"]) / f"nb{i}",
                limits.notebook_cell_seconds, limits.notebook_seconds, limits.memory_bytes,
                limits.fsize_bytes, limits.nproc, kernel_arguments())
            if isinstance(reply, dict) and reply.get("error"):
                log.append(f"{name}: the runner reported: {str(reply['error'])[:500]}")
            log.append(f"{name}: notebook runner log (tail):\n{runner_log}")
        tests += score(name, master, reply, limits.notebook_cell_seconds, log, problem)
    return tests


def _peak_kib():
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return -1


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    cfg = json.loads(Path(argv[0]).read_text())
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    import pytest

    from .plugin import GradingPlugin
    from .sandbox import Runtime, harden_trusted_process, limits_from_dict
    from .sandbox.runtime import die_with_parent

    if cfg.get("parent"):
        die_with_parent(cfg["parent"])
    harden_trusted_process()
    suites = Path(cfg["suites"]).resolve()
    limits = limits_from_dict(cfg.get("limits", {}))
    rt = Runtime(**cfg["runtime"])
    plugin = GradingPlugin(cfg["submission"], cfg["scratch"], rt, limits,
                           submission_modules(cfg["submission"]), cfg["repo"])
    args = [str(suites), "-q", "--assert=plain", "-p", "no:cacheprovider",
            "-p", "no:stepwise", "--rootdir", str(suites.parent), "--confcutdir", str(suites),
            "-c", os.devnull, "-o", "python_files=test_*.py check_*.py",
            "--tb=short", "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    args += cfg.get("pytest_args", [])
    try:
        code = pytest.main(args, plugins=[plugin])
    finally:
        plugin.close()
    sb = plugin.sandbox
    nb_log = []
    nb_tests = grade_notebooks(cfg, rt, limits, nb_log) if cfg.get("notebooks") else []
    report = {
        "tests": plugin.report(),
        "notebook_tests": nb_tests,
        "pytest_exit": int(code),
        "import_errors": {m: list(e) for m, e in (sb.import_errors.items() if sb else ())},
        "blocked": dict(sb.blocked) if sb else {},
        "log": plugin.log + nb_log + [f"judge peak memory: {_peak_kib()} KiB"],
        "sandbox_errors": plugin.sandbox_errors,
    }
    tmp = Path(cfg["out"] + ".tmp")
    tmp.write_text(json.dumps(report))
    tmp.rename(cfg["out"])
    return 0 if int(code) in (0, 1) else 3


if __name__ == "__main__":
    sys.exit(main())
