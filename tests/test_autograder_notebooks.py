"""Notebook autograded cells through nbgrader, with the kernel in the sandbox: scores join
results.json and grades.csv; a hostile or broken notebook costs only its own cells."""
import csv
import io
import json
import os

import pytest

from cs239.tools import manifest
from tests.autograder_fixtures.build_submissions import (REPO, grade, make_submission, results,
                                                         skip_without_netns)

MASTER = REPO / "source" / manifest.NAME / "Backprop.ipynb"


def with_cell(code, position=1):
    nb = json.loads(MASTER.read_text())
    nb["cells"].insert(position, {"cell_type": "code", "metadata": {}, "outputs": [],
                                  "execution_count": None, "source": code})
    return json.dumps(nb)


@pytest.fixture(scope="module")
def nb_batch(tmp_path_factory, listener):
    root = tmp_path_factory.mktemp("nb")
    subs = [
        make_submission(root, "nbref", files={"Backprop.ipynb": MASTER.read_text()}),
        # dies (taking every later cell with it) if its kernel runs as root in root mode or
        # can read the reference; then a cell that never ends (interrupted at the cell timeout,
        # the rest still runs)
        make_submission(root, "nbuid", files={"Backprop.ipynb": with_cell(
            "import os\nif os.getuid() == 0 or os.access(%r, os.R_OK):\n    os._exit(1)\n"
            "while True:\n    pass\n" % str(REPO / "cs239" / "layers.py"))}),
        # kills its kernel (losing every later cell) if it can connect to the listener
        make_submission(root, "nbnet", files={"Backprop.ipynb": with_cell(
            "import os, socket\ntry:\n"
            "    socket.create_connection(('127.0.0.1', %d), timeout=1).close()\n"
            "    os._exit(1)\nexcept OSError:\n    pass\n" % listener.port)}),
        make_submission(root, "nbkill", files={"Backprop.ipynb": with_cell(
            "import os\nos._exit(0)\n")}),
        make_submission(root, "nbcorrupt", files={"Backprop.ipynb": "{\"cells\": ["}),
    ]
    out = root / "out"
    grade(subs, out, "--notebooks", "--notebook-timeout", "20", jobs=2)
    return out


def nb_tests(res):
    return {t["name"]: t for t in res["tests"] if t["name"].startswith("Backprop.ipynb: ")}


def test_reference_notebook_gets_full_marks(nb_batch):
    tests = nb_tests(results(nb_batch, "nbref"))
    assert len(tests) >= 3
    assert all(t["score"] == t["max_score"] > 0 for t in tests.values())
    rows = list(csv.DictReader(io.StringIO((nb_batch / "grades.csv").read_text())))
    assert "Backprop.ipynb" in rows[0]


@pytest.mark.skipif(os.geteuid() != 0, reason="root sandbox mode needs root")
def test_kernel_runs_as_the_worker_user_and_endless_cell_costs_only_itself(nb_batch):
    assert nb_tests(results(nb_batch, "nbuid")) == nb_tests(results(nb_batch, "nbref"))


@pytest.mark.skipif(os.geteuid() != 0, reason="root sandbox mode needs root")
def test_kernel_has_no_network(nb_batch, listener):
    skip_without_netns()
    assert listener.accepted == 0
    assert nb_tests(results(nb_batch, "nbnet")) == nb_tests(results(nb_batch, "nbref"))


def test_dead_kernel_or_corrupt_notebook_costs_only_the_notebook(nb_batch):
    ref = results(nb_batch, "nbref")
    pkg = lambda r: {t["name"]: t["score"] for t in r["tests"]  # noqa: E731
                     if ".ipynb: " not in t["name"]}
    for stem in ("nbkill", "nbcorrupt"):
        r = results(nb_batch, stem)
        assert pkg(r) == pkg(ref)
        tests = nb_tests(r)
        assert tests and all(t["score"] == 0 and t["output"] for t in tests.values())
    assert "not a valid notebook" in nb_tests(results(nb_batch, "nbcorrupt"))[
        next(iter(nb_tests(ref)))]["output"]
