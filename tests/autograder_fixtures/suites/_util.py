import numpy as np


def close(what, got, expected, tol=1e-6):
    got = np.asarray(got)
    assert got.shape == np.shape(expected), (
        f"{what}: shape expected {np.shape(expected)}, got {got.shape}")
    err = np.max(np.abs(got - expected) / np.maximum(1e-8, np.abs(got) + np.abs(expected)))
    assert err < tol, f"{what}: max relative error {err:.1e} (should be < {tol:g})"
