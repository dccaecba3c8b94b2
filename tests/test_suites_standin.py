"""An in-process stand-in for the grader's pytest plugin (autograder/plugin.py), to test the
suites alone.

Implements the contract's fixtures (`student`, `ref`, `submission_dir`) and the `graded` marker
WITHOUT any isolation: the submission's `cs239` directory is imported in this process under a
unique module name, and values are deep-copied both ways so that the suites see what they would
see across the real boundary (plain data, Handles for anything else). Used as
    python -m pytest autograder/suites -p tests.test_suites_standin --submission DIR --results OUT
and writes OUT (JSON): one record per test with name, points, outcome and the message a student
would see. Never used for real grading.
"""
import hashlib
import importlib
import importlib.util
import json
import sys
import traceback
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


class StudentFault(Exception):
    pass


class StudentError(StudentFault):
    def __init__(self, kind, message, where):
        super().__init__("%s: %s (at %s)" % (kind, message, where))
        self.kind, self.message, self.where = kind, message, where


class Handle:
    def __init__(self, id_, type_name):
        self.id, self.type_name = id_, type_name

    def __repr__(self):
        return "<Handle %d %s>" % (self.id, self.type_name)


class SpyResult:
    def __init__(self, value, calls):
        self.value, self.calls = value, calls


def _load_package(cs239_dir):
    cs239_dir = Path(cs239_dir).resolve()
    name = "_student_" + hashlib.sha1(str(cs239_dir).encode()).hexdigest()[:12]
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, cs239_dir / "__init__.py", submodule_search_locations=[str(cs239_dir)])
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return name


class InProcessStudent:
    def __init__(self, pkg):
        self.pkg = pkg
        self.objects = {}

    # -- boundary conversions ------------------------------------------------------------
    def _out(self, v):
        if isinstance(v, np.ndarray):
            if v.dtype == object:
                return self._handle(v)
            return v.copy()
        if isinstance(v, (bool, int, float, str, type(None), np.generic)):
            return v
        if isinstance(v, (list, tuple)):
            return type(v)(self._out(x) for x in v)
        if isinstance(v, dict) and all(isinstance(k, (str, int)) for k in v):
            return {k: self._out(x) for k, x in v.items()}
        return self._handle(v)

    def _handle(self, obj):
        h = Handle(len(self.objects) + 1, type(obj).__name__)
        self.objects[h.id] = obj
        return h

    def _in(self, v):
        if isinstance(v, Handle):
            return self.objects[v.id]
        if isinstance(v, np.ndarray):
            return v.copy()
        if isinstance(v, (list, tuple)):
            return type(v)(self._in(x) for x in v)
        if isinstance(v, dict):
            return {k: self._in(x) for k, x in v.items()}
        return v

    def _run(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as e:  # a student fault
            tb = traceback.extract_tb(e.__traceback__)
            where = "%s:%d" % (Path(tb[-1].filename).name, tb[-1].lineno) if tb else "?"
            raise StudentError(type(e).__name__, str(e), where) from None

    def _resolve(self, qualname):
        assert qualname.startswith("cs239."), qualname
        mod, attr = qualname.rsplit(".", 1)
        mod = self.pkg + mod[len("cs239"):]
        try:
            return getattr(importlib.import_module(mod), attr)
        except Exception as e:
            raise StudentError(type(e).__name__, str(e), mod) from None

    # -- contract API ----------------------------------------------------------------------
    def call(self, qualname, *args, **kwargs):
        fn = self._resolve(qualname)
        return self._out(self._run(fn, *self._in(args), **self._in(kwargs)))

    def call_reporting_args(self, qualname, *args, **kwargs):
        fn = self._resolve(qualname)
        a, k = self._in(args), self._in(kwargs)
        value = self._out(self._run(fn, *a, **k))
        return value, self._out(a), self._out(k)

    def new(self, qualname, *args, **kwargs):
        cls = self._resolve(qualname)
        return self._handle(self._run(cls, *self._in(args), **self._in(kwargs)))

    def call_method(self, handle, name, *args, spy=None, **kwargs):
        obj = self.objects[handle.id]
        calls = {}
        originals = {}
        for m in spy or ():
            orig = getattr(obj, m)
            originals[m] = m in obj.__dict__
            calls[m] = []

            def wrapper(*a, _orig=orig, _m=m, **k):
                if len(calls[_m]) < 1000:
                    calls[_m].append((self._out(a), self._out(k)))
                return _orig(*a, **k)
            setattr(obj, m, wrapper)
        try:
            value = self._run(getattr(obj, name), *self._in(args), **self._in(kwargs))
        finally:
            for m, had in originals.items():
                if had:
                    pass  # instance attribute replaced: leave it (rare)
                else:
                    delattr(obj, m)
        value = self._out(value)
        if spy:
            return SpyResult(value, calls)
        return value

    def get_attr(self, handle, name):
        return self._out(self._run(getattr, self.objects[handle.id], name))

    def set_attr(self, handle, name, value):
        self._run(setattr, self.objects[handle.id], name, self._in(value))

    def seed(self, n):
        np.random.seed(n)


def pytest_addoption(parser):
    parser.addoption("--submission", action="append", default=[],
                     help="directory holding a submission's cs239/ (repeatable: every test "
                          "runs once per submission)")
    parser.addoption("--results", help="write per-test results (JSON) here")


def pytest_configure(config):
    config.addinivalue_line("markers", "graded(name, points=1, visibility='visible'): graded")
    config._standin_results = []


def pytest_generate_tests(metafunc):
    if "submission_dir" in metafunc.fixturenames:
        dirs = [Path(d).resolve() for d in metafunc.config.getoption("--submission")]
        metafunc.parametrize("submission_dir", dirs, ids=[d.name for d in dirs], indirect=True)


@pytest.fixture
def submission_dir(request):
    return request.param


@pytest.fixture
def student(submission_dir):
    pkg = _load_package(submission_dir / "cs239")
    s = InProcessStudent(pkg)
    s.seed(0)
    return s


@pytest.fixture(scope="session")
def ref():
    import cs239
    for sub in ("layers", "optim", "layer_utils", "classifiers", "derivations", "data_utils",
                "gradient_check"):
        try:
            importlib.import_module("cs239." + sub)
        except ImportError:
            pass
    return cs239


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    mark = item.get_closest_marker("graded")
    if mark is None:
        return
    name = mark.args[0]
    points = mark.kwargs.get("points", 1)
    if rep.when == "call" or (rep.when == "setup" and (rep.failed or rep.skipped)):
        if rep.passed:
            msg, status = "", "passed"
        elif rep.skipped:
            msg, status = str(call.excinfo.value), "skipped"
        else:
            exc = call.excinfo.value
            status = "failed"
            if isinstance(exc, StudentFault):
                msg = "student code raised " + str(exc)
                status = "fault"
            elif isinstance(exc, AssertionError):
                msg = str(exc)
            else:
                msg = "SUITE ERROR %s: %s" % (type(exc).__name__, exc)
                status = "error"
        item.config._standin_results.append(
            {"nodeid": item.nodeid, "name": name,
             "submission": item.callspec.params["submission_dir"].name, "points": points,
             "score": points if rep.passed else 0, "status": status, "message": msg})


def pytest_sessionfinish(session):
    out = session.config.getoption("--results")
    if out:
        Path(out).write_text(json.dumps(session.config._standin_results, indent=1))
