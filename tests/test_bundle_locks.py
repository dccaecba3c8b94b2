"""The Gradescope bundle's per-Python locks (autograder/bundle/requirements/py3.X.txt): they pin
everything the grader imports, and they resolve against the package index for CPython X.Y.0 on
the oldest supported image (glibc 2.35, binary wheels only). Patch level matters: Debian 12's
3.11.2 could not install a lock made on 3.11.7 (soupsieve needed >= 3.11.5)."""
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from autograder.bundle.lock import PLATFORMS, PYTHONS
from tests.autograder_fixtures.build_submissions import FIXTURE_SUITES
from tests.pythons import ROOT, find_python, index_unreachable, index_url

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!-]+)$")


def _key(name):
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="module")
def bundle_locks(tmp_path_factory):
    """{"3.10": lock text, ...} as they are inside a freshly built bundle."""
    out = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    p = subprocess.run([sys.executable, "-m", "autograder", "gradescope", "--out", str(out),
                        "--suites", str(FIXTURE_SUITES)], cwd=ROOT, capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr
    with zipfile.ZipFile(out) as z:
        names = [n for n in z.namelist() if n.startswith("requirements/")]
        assert "requirements.txt" not in z.namelist()
        return {re.match(r"requirements/py(3\.\d+)\.txt$", n).group(1): z.read(n).decode()
                for n in names}


def _pins(text):
    pins = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        m = PIN.match(line)
        assert m, f"not a name==version pin: {line!r}"
        pins[_key(m.group(1))] = m.group(2)
    return pins


def test_one_lock_per_supported_python_each_fully_pinned(bundle_locks):
    assert sorted(bundle_locks) == PYTHONS == ["3.10", "3.11", "3.12", "3.13"]
    for version, text in bundle_locks.items():
        pins = _pins(text)
        assert {"pip", "numpy", "nbgrader", "pytest", "ipykernel", "matplotlib"} <= set(pins), version
    assert _pins(bundle_locks["3.10"])["numpy"].startswith(("1.26.", "2."))


def test_lock_for_this_python_pins_every_package_the_grader_imports(bundle_locks):
    """(Extras too: the resolution that made the locks follows them; the "resolved but not
    pinned" check below catches any that are missing.)"""
    from autograder.bundle.lock import TOP_LEVEL
    from autograder.sandbox.nbsession import KERNEL_PACKAGES
    from autograder.requirements import closure
    version = "%d.%d" % sys.version_info[:2]
    if version not in bundle_locks:
        pytest.skip(f"no lock for Python {version}")
    pinned = set(_pins(bundle_locks[version]))
    seen = set(closure(TOP_LEVEL + KERNEL_PACKAGES))
    assert seen - pinned == set(), f"installed here but not in the {version} lock"


def _resolve(version, text):
    """pip's dry run of LOCK TEXT for CPython VERSION.0: (ok, message)."""
    minor = int(version.split(".")[1])
    python = find_python(minor, needs="pip") or Path(sys.executable)
    with tempfile.TemporaryDirectory() as tmp:
        req = Path(tmp) / "requirements.txt"
        req.write_text(text)
        cmd = [str(python), "-m", "pip", "install", "--isolated", "--index-url", index_url(),
               "--disable-pip-version-check", "--dry-run", "--quiet",
               "--ignore-installed", "--only-binary=:all:",
               "--python-version", f"{version}.0", "--implementation", "cp",
               *[a for p in PLATFORMS for a in ("--platform", p)],
               "--target", str(Path(tmp) / "T"), "--report", "-", "-r", str(req)]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if p.returncode != 0:
        return False, f"{version}.0: pip could not resolve the lock:\n{p.stderr[-3000:]}"
    installed = {_key(i["metadata"]["name"]) for i in json.loads(p.stdout)["install"]}
    # markers (python_version < "3.11") are evaluated by the interpreter running pip: the
    # "nothing unpinned" check is exact only with a 3.X interpreter
    unpinned = installed - set(_pins(text))
    if python != Path(sys.executable) or minor == sys.version_info[1]:
        if unpinned:
            return False, f"{version}: resolved but not pinned: {sorted(unpinned)}"
    return True, f"{version}.0: {len(installed)} packages resolve (pip of {python})"


def test_locks_resolve_for_each_python_at_patch_level_zero(bundle_locks):
    reason = index_unreachable()
    if reason:
        pytest.skip(reason)
    with ThreadPoolExecutor(len(PYTHONS)) as pool:      # waits on the network, mostly
        results = list(pool.map(lambda v: _resolve(v, bundle_locks[v]), PYTHONS))
    for ok, message in results:
        print(message)
    assert all(ok for ok, _ in results), "\n".join(m for ok, m in results if not ok)
