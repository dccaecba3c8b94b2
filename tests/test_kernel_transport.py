"""Notebook kernels are reached over Unix sockets, never TCP on localhost: in the tools that
run notebooks (demo, tests) and in the grader, with or without a network namespace. So no
other local process can connect to a kernel, and ipykernel does not print "Kernel is running
over TCP without encryption" before every notebook."""
import os
import sys
from pathlib import Path

import nbformat
import pytest

from cs239.tools import manifest
from tests.autograder_fixtures.build_submissions import REPO, grade, make_submission
from tools.notebook_runner import run_notebook

WARNING = "without encryption"


def tiny_notebook(path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import os; print(os.getpid())")]
    nbformat.write(nb, str(path))
    return path


def test_run_notebook_uses_unix_sockets(tmp_path, capfd):
    # Over TCP ipykernel warns on the stderr it shares with us: the check below can fail.
    from nbclient import NotebookClient
    NotebookClient(nbformat.read(str(tiny_notebook(tmp_path / "a.ipynb")), as_version=4),
                   kernel_name="python3", timeout=120).execute()
    assert WARNING in capfd.readouterr().err
    nb = run_notebook(tiny_notebook(tmp_path / "b.ipynb"), cwd=tmp_path, timeout=120)
    assert nb.cells[0].outputs[0]["text"].strip().isdigit()
    assert WARNING not in capfd.readouterr().err


@pytest.mark.parametrize("mode", ["root", "user"])
def test_graded_notebooks_have_no_transport_warning(tmp_path, mode):
    if mode == "root" and os.geteuid() != 0:
        pytest.skip("root sandbox mode needs root")
    master = REPO / "source" / manifest.NAME / "Backprop.ipynb"
    sub = make_submission(tmp_path, "nb", files={"Backprop.ipynb": master.read_text()})
    p = grade([sub], tmp_path / "out", "--notebooks", "--notebook-timeout", "60",
              "--sandbox-mode", mode)
    log = (tmp_path / "out" / "nb" / "grader.log").read_text()
    assert "Backprop" in log
    assert WARNING not in log and WARNING not in p.stdout + p.stderr
