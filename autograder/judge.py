"""The trusted judge: one process per submission, started by the orchestrator (cli.py) as
``python -m autograder.judge CONFIG.json`` with cwd = the repo root (so ``import cs239`` is the
reference). Runs pytest on the suites with GradingPlugin, which drives the sandbox; writes
``{"tests": [...], "import_errors": ..., "log": ...}`` to the config's ``out`` path.
Exit status: 0 when the report was written, 3 when the suites themselves are broken.
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


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    cfg = json.loads(Path(argv[0]).read_text())
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    import pytest

    from .plugin import GradingPlugin
    from .sandbox import Runtime, harden_trusted_process, limits_from_dict

    harden_trusted_process()
    suites = Path(cfg["suites"]).resolve()
    plugin = GradingPlugin(cfg["submission"], cfg["scratch"], Runtime(**cfg["runtime"]),
                           limits_from_dict(cfg.get("limits", {})),
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
    report = {
        "tests": plugin.report(),
        "pytest_exit": int(code),
        "import_errors": {m: list(e) for m, e in (sb.import_errors.items() if sb else ())},
        "blocked": dict(sb.blocked) if sb else {},
        "log": plugin.log,
        "sandbox_errors": plugin.sandbox_errors,
    }
    tmp = Path(cfg["out"] + ".tmp")
    tmp.write_text(json.dumps(report))
    tmp.rename(cfg["out"])
    return 0 if int(code) in (0, 1) else 3


if __name__ == "__main__":
    sys.exit(main())
