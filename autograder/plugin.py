"""pytest plugin run by the judge: fixtures ``student``, ``ref``, ``submission_dir``, the
``graded`` marker, and scoring (the contract is in autograder/README.md).

Only the AssertionError message (pytest runs with ``--assert=plain``, so no introspection of suite
code), a StudentFault description or a skip reason ever reaches the student. Anything else is a
bug in a suite: the student sees a neutral message, the instructor log gets the traceback.
"""
import importlib
import pkgutil
import traceback
from pathlib import Path

import pytest

from .sandbox import Sandbox, SandboxError, StudentFault

VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")


def load_reference(repo):
    """The master ``cs239`` (from REPO, never the submission) with every submodule imported."""
    import cs239
    where = Path(cs239.__file__).resolve().parent
    if where != (Path(repo) / "cs239").resolve():
        raise RuntimeError(f"the reference cs239 resolved to {where}, not {repo}/cs239")
    for m in pkgutil.walk_packages(cs239.__path__, "cs239."):
        importlib.import_module(m.name)
    return cs239


def _student_message(excinfo):
    e = excinfo.value
    if isinstance(e, StudentFault):
        return e.describe(), True
    if isinstance(e, AssertionError):
        msg = str(e).strip()
        return msg or "check failed", True
    cause = e.__cause__ or e.__context__
    if isinstance(cause, StudentFault):
        return cause.describe(), True
    if isinstance(e, SandboxError):
        return ("the grader could not run this test (sandbox error); it will be re-graded",
                False)
    return (f"internal error in this grading test ({type(e).__name__}); this is not your fault "
            "and has been logged for the course staff"), False


class GradingPlugin:
    def __init__(self, submission_dir, scratch_dir, runtime, limits, modules, repo):
        self._subdir = Path(submission_dir)
        self._sandbox_args = (submission_dir, scratch_dir, runtime, limits, modules)
        self.repo = repo
        self.sandbox = None
        self.results = {}      # nodeid -> dict
        self.order = []
        self.students = {}
        self._notes = {}       # nodeid -> notes a passing test leaves for the student
        self.log = []
        self.sandbox_errors = 0
        self._ref = None

    # -- sandbox, created on first use and kept for the whole session
    def get_sandbox(self):
        if self.sandbox is None:
            self.sandbox = Sandbox(*self._sandbox_args)
            self.sandbox.start()
        return self.sandbox

    def close(self):
        if self.sandbox is not None:
            self.sandbox.close()

    # -- fixtures
    @pytest.fixture
    def student(self, request):
        st = self.get_sandbox().student()
        self.students[request.node.nodeid] = st
        try:
            yield st
        finally:
            st.close()

    @pytest.fixture
    def notes(self, request):
        """A list a test appends feedback to that is shown even when it passes (e.g. "checked
        with your own relu_backward, which is wrong: fix it first")."""
        return self._notes.setdefault(request.node.nodeid, [])

    @pytest.fixture
    def ref(self):
        if self._ref is None:
            self._ref = load_reference(self.repo)
        return self._ref

    @pytest.fixture
    def submission_dir(self):
        return self._subdir

    # -- hooks
    def pytest_configure(self, config):
        config.addinivalue_line(
            "markers", "graded(name, points=1, visibility='visible'): a scored test")

    def pytest_collection_modifyitems(self, session, config, items):
        seen = {}
        for item in items:
            m = item.get_closest_marker("graded")
            if m is None:
                self.log.append(f"not graded (no @pytest.mark.graded): {item.nodeid}")
                continue
            name = m.args[0] if m.args else m.kwargs.get("name")
            points = m.kwargs.get("points", m.args[1] if len(m.args) > 1 else 1)
            vis = m.kwargs.get("visibility", "visible")
            if not isinstance(name, str) or ": " not in name or vis not in VISIBILITIES:
                raise pytest.UsageError(f"{item.nodeid}: bad graded marker {m}")
            n = seen[name] = seen.get(name, 0) + 1
            if n > 1:
                name = f"{name} ({n})"
            self.order.append(item.nodeid)
            self.results[item.nodeid] = dict(name=name, score=0.0, max_score=float(points),
                                             output="", visibility=vis, status="failed",
                                             _state="passed")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        rep = outcome.get_result()
        r = self.results.get(item.nodeid)
        if r is None or r["_state"] != "passed":
            return
        if rep.skipped:
            reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
            reason = reason.removeprefix("Skipped: ").removeprefix("not scored: ")
            r.update(_state="skipped", output=f"not scored: {reason}")
        elif rep.failed:
            msg, student_facing = (_student_message(call.excinfo) if call.excinfo
                                   else ("check failed", True))
            r.update(_state="failed", output=msg)
            if not student_facing:
                if call.excinfo and isinstance(call.excinfo.value, SandboxError):
                    self.sandbox_errors += 1
                self.log.append(f"INTERNAL ERROR in {item.nodeid} ({rep.when}):\n"
                                + "".join(traceback.format_exception(call.excinfo.value)))
        if call.when == "teardown":
            left = self._notes.pop(item.nodeid, None)
            if r["_state"] == "passed":
                r.update(score=r["max_score"], status="passed",
                         output="\n".join(dict.fromkeys(map(str, left or ())))[:4000])
            else:
                r["status"] = "failed"
            st = self.students.pop(item.nodeid, None)
            printed = st.output.strip() if st is not None else ""
            if printed and r["_state"] == "failed":
                r["output"] += "\n\nYour code printed:\n" + printed[:2000]

    def report(self):
        out = []
        for nodeid in self.order:
            r = dict(self.results[nodeid])
            r.pop("_state")
            out.append(r)
        return out
