"""`make image-test`: the Gradescope bundle in a fresh Debian image, compared with the host.

1. inputs    the bundle (real suites), the synthetic CIFAR-10, the reference submission (the
             release filled with the reference, notebooks run: `make demo`'s student step) and
             a blank one (the untouched release)
2. image     a fresh root file system by debootstrap (minbase + python3, like a base image)
             from the apt mirror this machine is configured with (/etc/apt/sources.list*)
3. setup     the bundle unpacked into /autograder/source, setup.sh run in it as root (chroot,
             in mount and PID namespaces of its own); the data is put in /autograder/data
             first, so setup.sh does not download CIFAR-10
4. grade     run_autograder on each submission, in the image and on the host (the same bundle
             in a temporary /autograder-like tree, with a venv made from the lock for
             --host-python, else this .venv); each submission's two runs hold the shared
             grading lock /tmp/cs239-grading.lock
5. compare   every results.json checked against Gradescope's specification; every test's score
             equal in the image and on the host

Needs root, debootstrap, unshare and the network (the apt mirror and the package index). The
image gets this machine's resolv.conf, *_proxy variables and, when pip is pointed at a CA
bundle here (PIP_CERT, REQUESTS_CA_BUNDLE, SSL_CERT_FILE), that bundle for setup.sh's pip.
Usage: python -m tools.image_test [--out build/image-test] [--suite CODENAME] [--host-python X.Y]
"""
import argparse
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = "/tmp/cs239-grading.lock"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def say(text):
    print(f"image-test: {text}", flush=True)


def apt_mirror(suite=None, etc=Path("/etc")):
    """(mirror URI, suite, keyring or None) of this machine's Debian archive entry: the one
    for its own release (VERSION_CODENAME), read from /etc/apt/sources.list(.d)."""
    m = re.search(r"^VERSION_CODENAME=(\S+)", (etc / "os-release").read_text(), re.M)
    if not m:
        raise SystemExit("image-test: no VERSION_CODENAME in /etc/os-release")
    host_codename = m.group(1).strip('"')
    entries = []                      # (uri, suites, components, keyring)
    files = [etc / "apt" / "sources.list"] + sorted((etc / "apt" / "sources.list.d").glob("*"))
    for f in files:
        if not f.is_file():
            continue
        text = f.read_text()
        if f.suffix == ".sources":
            for block in re.split(r"\n\s*\n", text):
                fields = dict(re.findall(r"^([\w-]+):[ \t]*(.*)$", block, re.M))
                if "deb" in fields.get("Types", "").split():
                    entries.append((fields.get("URIs", "").split(), fields.get("Suites", "").split(),
                                    fields.get("Components", "").split(), fields.get("Signed-By")))
        elif f.suffix == ".list" or f.name == "sources.list":
            for line in text.splitlines():
                m = re.match(r"^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s+(.*)$", line.strip())
                if m:
                    key = re.search(r"signed-by=(\S+)", m.group(1) or "")
                    entries.append(([m.group(2)], [m.group(3)], m.group(4).split(),
                                    key.group(1) if key else None))
    for uris, suites, components, keyring in entries:
        if host_codename in suites and "main" in components and uris:
            return (uris[0], suite or host_codename,
                    keyring if keyring and Path(keyring).is_file() else None)
    raise SystemExit(f"image-test: no apt entry for {host_codename} main in /etc/apt/sources.list*")


@contextmanager
def grading_lock():
    with open(LOCK, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def run(cmd, log, **kw):
    """Run CMD with its output appended to LOG; (seconds, CompletedProcess)."""
    t0 = time.monotonic()
    with open(log, "a") as f:
        f.write(f"\n$ {' '.join(map(str, cmd))}\n")
        f.flush()
        p = subprocess.run([str(c) for c in cmd], stdout=f, stderr=subprocess.STDOUT, **kw)
    return time.monotonic() - t0, p


def in_image(rootfs, cmd, log, env=None):
    """CMD as root inside ROOTFS: its own mount and PID namespaces (its /proc shows only its
    processes, so the grader's kill-by-user cannot reach the host's), /dev from the host
    with a private /dev/shm, a clean environment."""
    env_args = [f"{k}={v}" for k, v in {"PATH": PATH, "HOME": "/root", "LANG": "C.UTF-8",
                                         **(env or {})}.items()]
    env_args += [f"{k}={v}" for k, v in os.environ.items() if k.lower().endswith("_proxy")]
    script = ('set -e; R="$1"; shift; mount -t proc proc "$R/proc"; mount --rbind /dev "$R/dev"; '
              'mount -t tmpfs -o mode=1777 tmpfs "$R/dev/shm"; exec chroot "$R" "$@"')
    return run(["unshare", "--mount", "--pid", "--fork", "--propagation", "private",
                "sh", "-c", script, "sh", rootfs, "/usr/bin/env", "-i", *env_args, *cmd], log)


def make_inputs(out):
    """The bundle, the synthetic data and the two submissions (paths)."""
    from tools import demo
    inputs = out / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    bundle = inputs / "autograder.zip"
    subprocess.run([sys.executable, "-m", "autograder", "gradescope", "--out", str(bundle)],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    data = demo.step_data(inputs)
    release = demo.step_release(inputs)
    reference = demo.step_student(inputs, release, data)
    return bundle, data, {"reference": reference, "blank": release}


def host_python(version, out, log):
    """(python, description) for the host run: a venv made from the bundle's lock for Python
    VERSION with this machine's python3.X (cached in OUT while the lock is unchanged), so that
    the host run also tries another Python than the image's; this .venv's if there is none."""
    from autograder.bundle.lock import LOCKS, find_python
    exe = find_python(version, "ensurepip") if version else None
    if exe is None:
        return Path(sys.executable), f"this .venv (Python {sys.version.split()[0]})"
    lock = LOCKS / f"py{version}.txt"
    venv = out / f"host-venv-{version}"
    stamp = venv / ".cs239-lock"
    if not (stamp.exists() and stamp.read_text() == lock.read_text()):
        say(f"host venv for Python {version} from {lock.name}")
        pip = [venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--only-binary=:all:"]
        pin = next(ln for ln in lock.read_text().splitlines() if ln.lower().startswith("pip=="))
        for cmd in ([exe, "-m", "venv", "--clear", venv], pip + [pin], pip + ["-r", lock]):
            if run(cmd, log)[1].returncode != 0:
                raise SystemExit(f"image-test: could not build the host venv (see {log})")
        stamp.write_text(lock.read_text())
    version_text = subprocess.run([venv / "bin" / "python", "-V"], capture_output=True,
                                  text=True).stdout.split()[-1]
    return venv / "bin" / "python", f"{venv.name} (Python {version_text}, {lock.name})"


def install_submission(autograder, submission):
    sub = autograder / "submission"
    shutil.rmtree(sub, ignore_errors=True)
    shutil.rmtree(autograder / "results", ignore_errors=True)
    if Path(submission).is_dir():
        shutil.copytree(submission, sub)
    else:
        sub.mkdir(parents=True)
        shutil.copy(submission, sub / Path(submission).name)
    (autograder / "results").mkdir()


def unpack(bundle, autograder, data):
    with zipfile.ZipFile(bundle) as z:
        for info in z.infolist():           # keep the executable bits
            z.extract(info, autograder / "source")
            mode = info.external_attr >> 16
            if mode:
                os.chmod(autograder / "source" / info.filename, mode & 0o777)
    shutil.copytree(data, autograder / "data" / "cifar-10-batches-py")
    shutil.copy(autograder / "source" / "run_autograder", autograder / "run_autograder")


def grade(autograder, submission, log, rootfs=None, env=None, python=None):
    """run_autograder on SUBMISSION (in ROOTFS, else on the host); (seconds, results, stdout)."""
    install_submission(autograder, submission)
    stdout = Path(str(log) + ".stdout")
    stdout.unlink(missing_ok=True)
    if rootfs:
        seconds, p = in_image(rootfs, ["/autograder/run_autograder"], stdout, env)
    else:
        seconds, p = run([autograder / "run_autograder"], stdout,
                         env=dict(os.environ, AUTOGRADER_ROOT=str(autograder),
                                  AUTOGRADER_PYTHON=str(python), **env))
    res = autograder / "results" / "results.json"
    return seconds, (json.loads(res.read_text()) if res.exists() else None), stdout


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tools.image_test",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(ROOT / "build" / "image-test"))
    ap.add_argument("--suite", help="Debian release to build (default: this machine's)")
    ap.add_argument("--host-python", default="", metavar="X.Y",
                    help="grade on the host with a venv from the bundle's lock for this Python "
                         "when it is installed here (default: this .venv). In root mode the "
                         "worker users must be able to run a python3.X outside /root: a pyenv "
                         "build under /root is refused, with a message")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("image-test: needs root (debootstrap, chroot)")
    for tool in ("debootstrap", "unshare", "chroot"):
        if not shutil.which(tool):
            raise SystemExit(f"image-test: {tool} not found (apt-get install debootstrap)")
    from autograder.bundle.spec import problems
    from autograder import notebook_parameters
    from tools.notebook_runner import quick_parameters_for_all

    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    log = out / "image-test.log"
    log.write_text("")
    mirror, suite, keyring = apt_mirror(args.suite)
    times = {}
    t0 = time.monotonic()
    bundle, data, submissions = make_inputs(out)
    times["inputs (bundle, data, reference submission)"] = time.monotonic() - t0

    rootfs = out / "rootfs"
    if rootfs.exists():
        subprocess.run(["rm", "-rf", "--one-file-system", str(rootfs)], check=True)
    cache = out / "debs"                     # downloaded .debs only; the image is always new
    cache.mkdir(exist_ok=True)
    say(f"debootstrap {suite} from {mirror} into {rootfs} (log: {log})")
    seconds, p = run(["debootstrap", "--variant=minbase", "--include=python3",
                      f"--cache-dir={cache}", *([f"--keyring={keyring}"] if keyring else []),
                      suite, rootfs, mirror], log)
    if p.returncode != 0:
        raise SystemExit(f"image-test: debootstrap failed (see {log})")
    times["debootstrap"] = seconds
    shutil.copy("/etc/resolv.conf", rootfs / "etc" / "resolv.conf")
    setup_env = {}
    # This machine's network may re-sign TLS with its own CA (pip is told so by PIP_CERT or
    # the like here): the image trusts the same bundle, as a Gradescope image trusts its own.
    ca = next((os.environ[k] for k in ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
               if os.path.isfile(os.environ.get(k, ""))), None)
    if ca:
        shutil.copy(ca, rootfs / "etc" / "host-ca-bundle.crt")
        setup_env["PIP_CERT"] = "/etc/host-ca-bundle.crt"
    autograder = rootfs / "autograder"
    unpack(bundle, autograder, data)
    say("setup.sh in the image")
    seconds, p = in_image(rootfs, ["bash", "/autograder/source/setup.sh"], log, setup_env)
    if p.returncode != 0:
        raise SystemExit(f"image-test: setup.sh failed in the image (see {log})")
    times["setup.sh"] = seconds
    py = subprocess.run(["chroot", rootfs, "/autograder/venv/bin/python", "-c",
                         "import sys, numpy; print(sys.version.split()[0], numpy.__version__)"],
                        capture_output=True, text=True).stdout.split()

    host_py, host_desc = host_python(args.host_python, out, log)
    env = notebook_parameters.environment(quick_parameters_for_all())
    host_tree = Path(tempfile.mkdtemp(prefix="cs239-image-test-host-"))
    os.chmod(host_tree, 0o755)               # like /: the data must stay readable to workers
    failures, rows = [], []
    try:
        unpack(bundle, host_tree / "autograder", data)
        for name, submission in submissions.items():
            say(f"grading {name} in the image, then on the host")
            with grading_lock():             # one submission's two runs at a time
                img_s, img, img_out = grade(autograder, submission, out / f"image-{name}",
                                            rootfs, env)
                host_s, host, host_out = grade(host_tree / "autograder", submission,
                                               out / f"host-{name}", None, env, host_py)
            times[f"run_autograder {name}: image / host"] = (img_s, host_s)
            for where, res, stdout in (("image", img, img_out), ("host", host, host_out)):
                if res is None:
                    failures.append(f"{name} ({where}): no results.json (see {stdout})")
                    continue
                failures += [f"{name} ({where}): {x}" for x in problems(res)]
            if img and host:
                a = {t["name"]: t["score"] for t in img["tests"]}
                b = {t["name"]: t["score"] for t in host["tests"]}
                diff = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
                failures += [f"{name}: {k}: image {a.get(k)} / host {b.get(k)}" for k in diff]
                max_score = sum(t["max_score"] for t in img["tests"])
                rows.append((name, img["score"], host["score"], max_score, len(a), len(diff)))
    finally:
        shutil.rmtree(host_tree, ignore_errors=True)

    print()
    say(f"image: Debian {suite} ({mirror}), Python {' and numpy '.join(py) or '?'}; "
        f"host: {host_desc}")
    for what, s in times.items():
        print(f"  {what:48s} " + (" / ".join(f"{x:.0f} s" for x in s) if isinstance(s, tuple)
                                    else f"{s:.0f} s"))
    for name, a, b, m, n, nd in rows:
        print(f"  {name:10s} image {a:g} / {m:g}, host {b:g} / {m:g}: {n} tests, "
              f"{'identical' if nd == 0 else f'{nd} differ'}")
    if failures:
        print("\n".join(["FAILED:"] + [f"  {f}" for f in failures]))
        return 1
    say(f"passed: results.json valid and scores identical (log and run outputs in {out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
