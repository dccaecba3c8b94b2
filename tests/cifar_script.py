"""datasets/get_cifar10.py loaded as a module for the tests (it is a script students run before
anything is installed, not part of a package): `from tests.cifar_script import get_cifar10`."""
import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "datasets" / "get_cifar10.py"

_spec = importlib.util.spec_from_file_location("get_cifar10", SCRIPT)
get_cifar10 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(get_cifar10)
