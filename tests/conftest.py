"""Shared fixtures for the tests. Helpers live in modules of their own (tests/course_fixture.py,
tests/autograder_fixtures/), imported as tests.<module> (pyproject sets pythonpath); test modules
never import each other."""
import numpy as np
import pytest


@pytest.fixture
def rng():
    """A fresh, seeded random generator, so that every test is deterministic on its own."""
    return np.random.default_rng(239)


@pytest.fixture
def restore_global_seed():
    """Save and restore numpy's global random state around tests that seed it."""
    state = np.random.get_state()
    yield
    np.random.set_state(state)


@pytest.fixture(scope="module")
def listener():
    """A TCP server on 127.0.0.1 counting the connections it accepts (one per test module):
    sandboxed student code must never reach it."""
    from tests.autograder_fixtures.build_submissions import TcpListener
    server = TcpListener()
    yield server
    server.close()


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A small nbgrader course tree (tests/course_fixture.py), one per test module."""
    from tests.course_fixture import make_course
    return make_course(tmp_path_factory.mktemp("course"))
