"""Helpers for the tests that reach outside this interpreter: other CPython versions on this
machine and the package index (pip's configured one)."""
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def minimum_python():
    """(3, 10) from pyproject.toml's requires-python (the one place it is declared)."""
    text = (ROOT / "pyproject.toml").read_text()
    m = re.search(r'^requires-python\s*=\s*">=\s*(\d+)\.(\d+)"', text, re.M)
    assert m, "pyproject.toml: requires-python must read \">=X.Y\""
    return int(m.group(1)), int(m.group(2))


def find_python(minor, needs="ensurepip"):
    """A CPython 3.MINOR on this machine (pyenv's versions, then PATH) that can import NEEDS."""
    from autograder.bundle.lock import find_python as find
    return find(f"3.{minor}", needs)


def index_url():
    """The package index pip uses here (PIP_INDEX_URL, pip's config, else PyPI)."""
    url = os.environ.get("PIP_INDEX_URL")
    if not url:
        p = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True,
                           text=True)
        m = re.search(r"^[\w:.]*index-url='([^']+)'", p.stdout, re.M)
        url = m.group(1) if m else "https://pypi.org/simple/"
    return url.rstrip("/") + "/"


def index_unreachable():
    """None when the package index answers, else why not (a skip reason)."""
    url = index_url()
    try:
        with urllib.request.urlopen(url + "pip/", timeout=15) as r:
            r.read(1)
        return None
    except Exception as e:       # any failure means: no index here
        return f"package index {url} not reachable: {e}"
