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
