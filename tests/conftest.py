"""Shared fixtures for the tests (keep this file small: helpers own their own test files)."""
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
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).parent / "autograder_fixtures"))
    from build_submissions import TcpListener
    server = TcpListener()
    yield server
    server.close()
