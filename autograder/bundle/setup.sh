#!/usr/bin/env bash
# Gradescope image setup: runs once, as root, with network, when the image is built.
# Installs the grader into $ROOT/venv from the lock for the image's Python
# (requirements/py3.X.txt: Ubuntu 22.04 has 3.10, Debian 12 3.11, Ubuntu 24.04 3.12,
# Debian 13 3.13), then fetches CIFAR-10 for scoring the saved best models.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SRC="$ROOT/source"
VENV="$ROOT/venv"
say() { echo "setup.sh: $*"; }
apt_install() {
    command -v apt-get >/dev/null || { say "apt-get not found; cannot install $*"; return 1; }
    [ -n "${APT_UPDATED:-}" ] || { apt-get update -qq; APT_UPDATED=1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}
# "python3.X X.Y" for the first interpreter with a lock: the image's python3 first.
pick_python() {
    local py v
    for py in python3 python3.13 python3.12 python3.11 python3.10; do
        command -v "$py" >/dev/null || continue
        v=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
        if [ -f "$SRC/requirements/py$v.txt" ]; then echo "$py $v"; return 0; fi
    done
    return 1
}

command -v python3 >/dev/null || apt_install python3 ca-certificates
if ! read -r PY VER < <(pick_python); then
    say "error: no supported Python on this image (python3 is $(python3 -V 2>&1)); the bundle" \
        "has locks for: $(cd "$SRC/requirements" && ls py*.txt | sed 's/^py//; s/\.txt$//' | tr '\n' ' ')."
    say "Choose the Ubuntu 22.04 or 24.04 base image in the autograder settings."
    exit 1
fi
LOCK="$SRC/requirements/py$VER.txt"
say "using $(command -v "$PY") ($("$PY" -V 2>&1)) with $LOCK"
# Debian and Ubuntu ship venv's pip bootstrap separately (python3.X-venv).
if ! "$PY" -m venv --clear "$VENV" >/dev/null 2>&1; then
    apt_install "python$VER-venv" || apt_install python3-venv
    "$PY" -m venv --clear "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --no-cache-dir --disable-pip-version-check \
    "$(grep -i '^pip==' "$LOCK")"
"$VENV/bin/python" -m pip install --quiet --no-cache-dir --disable-pip-version-check \
    --only-binary=:all: -r "$LOCK"
say "installed $(grep -c '==' "$LOCK") pinned packages into $VENV"

# CIFAR-10 for scoring the saved best models and running the notebooks, outside the source
# tree and readable by the sandbox's worker users (skipped with a message if absent).
if [ -f "$SRC/datasets/get_cifar10.py" ]; then
    "$VENV/bin/python" "$SRC/datasets/get_cifar10.py" --quiet --dest "$ROOT/data" || \
        say "warning: CIFAR-10 download failed; best-model tests will not be scored"
    chmod -R a+rX "$ROOT/data" 2>/dev/null || true
fi
# Nothing in the source tree is readable by other users (the sandbox's worker users).
chmod -R o= "$SRC"
say "done"
