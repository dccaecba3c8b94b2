#!/usr/bin/env bash
# Download CIFAR-10 into datasets/cifar-10-batches-py (checks the MD5, resumes, safe to re-run).
# All options go to get_cifar10.py, e.g.:
#   bash datasets/get_cifar10.sh --from ~/Downloads/cifar-10-python.tar.gz   # offline
#   bash datasets/get_cifar10.sh --synthetic                                  # small generated set
# See: python3 datasets/get_cifar10.py --help
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "${PYTHON:-python3}" "$here/get_cifar10.py" "$@"
