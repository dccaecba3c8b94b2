"""The released notebooks' first cell: on Colab it mounts Drive and moves into the homework
folder (so that `cs239` and its data are found); anywhere else it does nothing.

Colab is played by a stand-in `google.colab` package on the path whose `drive.mount` links a
folder of the test as "My Drive"; "/content/drive" in the cell becomes a folder of the test."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cs239.tools import manifest

ROOT = Path(__file__).resolve().parents[1]
HW = manifest.NAME
RELEASE = ROOT / "assignments" / HW
NOTEBOOKS = ["TwoLayerNet.ipynb", "FullyConnectedNets.ipynb", "Backprop.ipynb"]

STAND_IN = '''import os


def mount(mountpoint, force_remount=False):
    os.makedirs(mountpoint, exist_ok=True)
    if not os.path.exists(os.path.join(mountpoint, "MyDrive")):
        os.symlink(os.environ["FAKE_MY_DRIVE"], os.path.join(mountpoint, "MyDrive"))
    with open(os.environ["FAKE_MOUNT_LOG"], "a") as f:
        f.write(mountpoint + "\\n")
'''

# Runs the cell, then reports where it left the process.
PROBE = '''import json, os, sys
before = list(sys.path)
exec(compile(open(sys.argv[1]).read(), "first cell", "exec"), {})
import cs239, cs239.data_utils
print("@@" + json.dumps({"cwd": os.getcwd(), "path0": sys.path[0], "added": sys.path != before,
                         "cs239": os.path.dirname(cs239.__file__),
                         "data": cs239.data_utils.default_cifar10_dir()}))
'''


def first_cell(name):
    cell = json.loads((RELEASE / name).read_text())["cells"][0]
    assert cell["cell_type"] == "code"
    return "".join(cell["source"]), cell["metadata"]


def test_every_notebook_starts_with_the_same_read_only_colab_cell():
    sources = {name: first_cell(name) for name in NOTEBOOKS}
    texts = {src for src, _ in sources.values()}
    assert len(texts) == 1
    for name, (src, meta) in sources.items():
        nbg = meta["nbgrader"]
        assert (nbg["locked"], nbg["grade"], nbg["solution"]) == (True, False, False), name
        assert meta.get("editable") is False and meta.get("deletable") is False, name
        assert "from google.colab import drive" in src and 'drive.mount("/content/drive")' in src


def homework_copy(dest):
    shutil.copytree(RELEASE, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def run_cell(tmp_path, colab, env=None):
    """Run the first cell in a fresh Python started in tmp_path/start; returns (report, out)."""
    src, _ = first_cell("Backprop.ipynb")
    content = tmp_path / "content" / "drive"
    cell = tmp_path / "cell.py"
    cell.write_text(src.replace("/content/drive", str(content)))
    (tmp_path / "probe.py").write_text(PROBE)
    start = tmp_path / "start"
    start.mkdir(exist_ok=True)
    full_env = dict(os.environ, FAKE_MY_DRIVE=str(tmp_path / "MyDrive"),
                    FAKE_MOUNT_LOG=str(tmp_path / "mounts.log"), **(env or {}))
    full_env.pop("PYTHONPATH", None)
    full_env.pop("CS239_CIFAR10_DIR", None)
    if colab:
        pkg = tmp_path / "standin" / "google" / "colab"
        pkg.mkdir(parents=True, exist_ok=True)
        (pkg.parent / "__init__.py").write_text("")
        (pkg / "__init__.py").write_text("")
        (pkg / "drive.py").write_text(STAND_IN)
        full_env["PYTHONPATH"] = str(tmp_path / "standin")
    proc = subprocess.run([sys.executable, str(tmp_path / "probe.py"), str(cell)], cwd=start,
                          env=full_env, capture_output=True, text=True, timeout=120)
    lines = [l for l in proc.stdout.splitlines() if l.startswith("@@")]
    report = json.loads(lines[0][2:]) if lines else None
    return report, proc


def test_elsewhere_the_cell_does_nothing(tmp_path):
    (tmp_path / "MyDrive").mkdir()
    report, proc = run_cell(tmp_path, colab=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith("@@")       # the cell printed nothing
    assert report["cwd"] == str(tmp_path / "start") and not report["added"]
    assert not (tmp_path / "mounts.log").exists() and not (tmp_path / "content").exists()


def test_on_colab_it_mounts_drive_and_works_in_the_homework_folder(tmp_path):
    hw = homework_copy(tmp_path / "MyDrive" / "cs239" / HW)
    report, proc = run_cell(tmp_path, colab=True)
    assert proc.returncode == 0, proc.stderr
    drive_hw = str(tmp_path / "content" / "drive" / "MyDrive" / "cs239" / HW)
    assert (tmp_path / "mounts.log").read_text() == str(tmp_path / "content" / "drive") + "\n"
    assert report["path0"] == drive_hw and os.path.realpath(report["cwd"]) == str(hw)
    assert os.path.realpath(report["cs239"]) == str(hw / "cs239")    # the Drive copy, not ours
    assert report["data"] == os.path.join(drive_hw, "datasets", "cifar-10-batches-py")
    assert "Colab: working in %s" % drive_hw in proc.stdout


def test_on_colab_it_finds_the_folder_elsewhere_in_drive(tmp_path):
    hw = homework_copy(tmp_path / "MyDrive" / "courses" / "deep learning" / (HW + " (1)"))
    (tmp_path / "MyDrive" / "other" / "cs239").mkdir(parents=True)   # not a homework folder
    report, proc = run_cell(tmp_path, colab=True)
    assert proc.returncode == 0, proc.stderr
    assert os.path.realpath(report["cwd"]) == str(hw)
    assert os.path.realpath(report["cs239"]) == str(hw / "cs239")


def test_on_colab_several_copies_are_named_and_one_can_be_chosen(tmp_path):
    homework_copy(tmp_path / "MyDrive" / "a" / HW)
    chosen = homework_copy(tmp_path / "MyDrive" / "b" / HW)
    report, proc = run_cell(tmp_path, colab=True)
    assert proc.returncode != 0 and report is None
    assert "found 2" in proc.stderr and "CS239_DRIVE_FOLDER" in proc.stderr
    assert "MyDrive/a/" + HW in proc.stderr and "MyDrive/b/" + HW in proc.stderr
    use = str(tmp_path / "content" / "drive" / "MyDrive" / "b" / HW)
    report, proc = run_cell(tmp_path, colab=True, env={"CS239_DRIVE_FOLDER": use})
    assert proc.returncode == 0, proc.stderr
    assert os.path.realpath(report["cs239"]) == str(chosen / "cs239")


def test_on_colab_without_the_homework_in_drive_it_says_what_to_do(tmp_path):
    (tmp_path / "MyDrive").mkdir()
    report, proc = run_cell(tmp_path, colab=True)
    assert proc.returncode != 0 and report is None
    assert "found 0" in proc.stderr and "My Drive/cs239/" + HW in proc.stderr
