"""The conda environment mirrors pyproject.toml, and CI runs the README's test command."""
import re
from pathlib import Path

try:
    import tomllib  # novm (3.11+, with the fallback below)
except ImportError:          # Python 3.10: pip vendors a TOML parser
    from pip._vendor import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def _names(specs):
    return {re.split(r"[<>=!~ \[]", s.strip(), maxsplit=1)[0].lower() for s in specs}


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _names(project["dependencies"]) | _names(project["optional-dependencies"]["dev"])
    conda = (ROOT / "environment.yml").read_text()
    listed = _names(line.strip()[2:] for line in conda.splitlines()
                    if line.strip().startswith("- ") and "conda-forge" not in line)
    assert wanted <= listed, "missing from environment.yml: %s" % sorted(wanted - listed)


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / "README.md").read_text()
    assert re.search(r"^make test$", (ROOT / ".ci/run").read_text(), re.M)


def test_torch_is_never_a_dependency():
    assert "torch" not in (ROOT / "pyproject.toml").read_text()
