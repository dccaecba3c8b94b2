"""Every bound a notebook prints is the one it asserts and the one the self-check asserts: the
notebooks take them from cs239.tools.public_checks.BOUNDS, never from a literal."""
import ast
import json
import math
import re
from pathlib import Path

import pytest

from cs239.tools import manifest, public_checks

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "source" / manifest.NAME
# Bounds the notebooks use that no graded function's self-check needs: the affine-ReLU sandwich
# is provided code (layer_utils.py) built from layers that have their own checks.
NOTEBOOK_ONLY = {"affine_relu sandwich"}


def _public_code(notebook):
    """[(cell id, public source)] of the code cells (hidden tests and magics removed)."""
    nb = json.loads((SOURCE / notebook).read_text())
    out = []
    for c in nb["cells"]:
        if c["cell_type"] != "code":
            continue
        src = "".join(c["source"]).split("### BEGIN HIDDEN TESTS")[0]
        src = "\n".join(l for l in src.splitlines() if not l.startswith("%"))
        out.append((c.get("id"), src))
    return out


def _bounds_used(src):
    return set(re.findall(r"BOUNDS\[['\"]([^'\"]+)['\"]\]", src))


@pytest.mark.parametrize("notebook", manifest.NOTEBOOKS)
def test_printed_and_asserted_bounds_come_from_BOUNDS(notebook):
    literal_prints, literal_asserts = [], []
    for cid, src in _public_code(notebook):
        literal_prints += ["%s: %s" % (cid, m) for m in re.findall(r"should be < ?[0-9][^)]*", src)]
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Assert):
                for cmp in ast.walk(node.test):
                    if isinstance(cmp, ast.Compare) and any(
                            isinstance(op, (ast.Lt, ast.LtE)) for op in cmp.ops) and any(
                            isinstance(c, ast.Constant) and isinstance(c.value, float)
                            for c in cmp.comparators):
                        literal_asserts.append("%s: %s" % (cid, ast.unparse(node.test)[:100]))
    assert not literal_prints, "bounds printed as literals (use BOUNDS[...]): %s" % literal_prints
    assert not literal_asserts, "bounds asserted as literals (use BOUNDS[...]): %s" % literal_asserts


def test_every_bound_a_notebook_uses_is_one_the_self_check_asserts(monkeypatch):
    """Run every public check on the reference, recording the BOUNDS entries it reads; each entry
    a notebook prints must be among them (same name, hence same number)."""
    read = set()

    class Recording(dict):
        def __getitem__(self, key):
            read.add(key)
            return dict.__getitem__(self, key)
    monkeypatch.setattr(public_checks, "BOUNDS", Recording(public_checks.BOUNDS))
    for f in manifest.FUNCTIONS:
        getattr(public_checks, f.check)()
    used = set()
    for notebook in manifest.NOTEBOOKS:
        for _, src in _public_code(notebook):
            used |= _bounds_used(src)
    assert used, "the notebooks use no BOUNDS entry"
    assert not used - set(public_checks.BOUNDS), "unknown BOUNDS entries"
    assert used - NOTEBOOK_ONLY <= read, "printed by a notebook but not checked by the self-check: %s" \
        % sorted(used - NOTEBOOK_ONLY - read)


def _markdown(notebook):
    nb = json.loads((SOURCE / notebook).read_text())
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def test_bounds_stated_in_the_notebooks_text_are_the_same():
    B = public_checks.BOUNDS
    text = _markdown("TwoLayerNet.ipynb")
    assert "training loss less than %g" % B["TwoLayerNet toy training loss"] in text
    text = _markdown("Backprop.ipynb")
    assert "below $10^{%d}$ (a wrong gradient" % round(math.log10(B["autoencoder_grad"])) in text
    assert "each relative error should be below $10^{%d}$" % round(math.log10(B["gplvm"])) in text
