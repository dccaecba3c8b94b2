"""tools/stubify.py: solution regions of .py files become clear NotImplementedError stubs."""
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cs239.tools import manifest
from tools import stubify
from tools.stubify import StubifyError, stubify_source

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_FILES = sorted(p for p in (ROOT / "cs239").rglob("*.py") if "__pycache__" not in p.parts)
SECTIONS = {"f": ("Demo.ipynb", "Part A"), "C.m": ("Demo.ipynb", "Part B"),
            "multi": [("Demo.ipynb", "One"), ("Demo.ipynb", "Two")]}

def stub(src, sections=SECTIONS, relpath="cs239/demo.py"):
    return stubify_source(textwrap.dedent(src), relpath, sections=sections)


def test_region_becomes_raise_with_pointer_at_its_indentation():
    out = stub('''\
        def f(x):
            """Doc."""
            y = None
            # TODO: compute y
            ### BEGIN SOLUTION
            y = 2 * x
            ### END SOLUTION
            return y
        ''')
    assert "2 * x" not in out and "### " not in out
    assert "    # TODO: compute y\n    # YOUR CODE HERE\n    raise NotImplementedError(\n" in out
    assert out.endswith("    return y\n")
    ns = {}
    exec(compile(out, "demo.py", "exec"), ns)
    with pytest.raises(NotImplementedError) as e:
        ns["f"](1)
    assert str(e.value) == ("f in cs239/demo.py is not implemented yet; it is asked for in "
                            "Demo.ipynb, section 'Part A'.")


def test_method_qualname_nested_block_and_every_region_of_a_function():
    out = stub('''\
        class C:
            def m(self, xs):
                for x in xs:
                    if x:
                        ### BEGIN SOLUTION
                        pass
                        ### END SOLUTION
                return xs

        def multi():
            ### BEGIN SOLUTION
            a = 1
            ### END SOLUTION
            b = 2
            ### BEGIN SOLUTION
            a += b
            ### END SOLUTION
            return a
        ''')
    ns = {}
    exec(compile(out, "demo.py", "exec"), ns)
    assert ns["C"]().m([]) == []        # provided code around the region still runs
    with pytest.raises(NotImplementedError, match=r"^C\.m in cs239/demo\.py .*'Part B'\.$"):
        ns["C"]().m([1])
    assert out.count("raise NotImplementedError(") == 3
    assert "section 'One'" in out and "section 'Two'" in out   # one section per region


def test_file_without_regions_is_unchanged_byte_for_byte():
    src = "x = 1\r\n\r\ndef g():\r\n    return x  # BEGIN not a marker\r\n"
    assert stubify_source(src, "cs239/g.py", sections={}) == src


def test_crlf_is_kept():
    src = "def f():\r\n    ### BEGIN SOLUTION\r\n    return 1\r\n    ### END SOLUTION\r\n"
    out = stubify_source(src, "cs239/f.py", sections=SECTIONS)
    assert "\r\n" in out and "\n" not in out.replace("\r\n", "")
    compile(out, "f.py", "exec")


@pytest.mark.parametrize("src, message", [
    ("def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    pass\n"
     "    ### END SOLUTION\n    ### END SOLUTION\n", r"demo\.py:3: nested .* line 2"),
    ("def f():\n    pass\n    ### END SOLUTION\n", r"demo\.py:3: .*without a matching"),
    ("def f():\n    ### BEGIN SOLUTION\n    pass\n", r"demo\.py:2: .*never closed"),
    ("def f():\n    ### BEGIN SOLUTION\n    pass\n        ### END SOLUTION\n",
     r"demo\.py:4: .*not at the indentation .* line 2"),
    ("def f():\n        ### BEGIN SOLUTION\n    x = 1\n        ### END SOLUTION\n",
     r"demo\.py:3: .*indented less than its markers"),
    ("def f():\n    x = 1  ### BEGIN SOLUTION\n", r"demo\.py:2: .*alone on its line"),
    ("x = 0\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", r"demo\.py:2: .*outside any function"),
    ("def nobody():\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION\n",
     r"demo\.py:2: no notebook section for 'nobody'"),
    ("def f(:\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION\n",
     r"demo\.py:1: the master copy is not valid Python"),
    ("def f():\n    if True:\n        ### BEGIN SOLUTION\n        pass\n        ### END SOLUTION\n"
     "    else:\n        pass\n", None),
])
def test_malformed_regions_name_file_and_line(src, message):
    if message is None:      # a region that is a whole block body stays valid Python
        compile(stubify_source(src, "demo.py", sections=SECTIONS), "demo.py", "exec")
        return
    with pytest.raises(StubifyError, match=message):
        stubify_source(src, "demo.py", sections=SECTIONS)


def test_output_that_would_not_compile_is_refused():
    # the region closes a bracket opened before it: not a whole number of statements
    src = "def f():\n    x = (1 +\n    ### BEGIN SOLUTION\n    2)\n    ### END SOLUTION\n"
    with pytest.raises(StubifyError, match=r"demo\.py:\d+: the stubbed file does not compile"):
        stubify_source(src, "demo.py", sections=SECTIONS)


@pytest.mark.parametrize("path", PACKAGE_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_package_file_stubs_compiles_and_keeps_no_solution(path):
    rel = path.relative_to(ROOT).as_posix()
    text = path.read_text(encoding="utf-8")
    out = stubify.stubify_source(text, rel)          # raises when a region has no SECTIONS entry
    compile(out, rel, "exec")
    assert "BEGIN SOLUTION" not in out and "END SOLUTION" not in out
    regions = stubify.region_functions(text, rel)
    assert out.count("raise NotImplementedError(") - text.count("raise NotImplementedError(") \
        == len(regions)
    for _, qualname in regions:
        assert qualname in stubify.SECTIONS, "%s: %s has no notebook section" % (rel, qualname)


def test_list_entries_have_one_section_per_region():
    for path in PACKAGE_FILES:
        rel = path.relative_to(ROOT).as_posix()
        regions = [q for _, q in stubify.region_functions(path.read_text(), rel)]
        for qualname, entry in stubify.SECTIONS.items():
            if isinstance(entry, list) and qualname in regions:
                assert len(entry) == regions.count(qualname), qualname


def _headings(nb_path):
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    heads = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for line in "".join(cell["source"]).splitlines():
            m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
            if m and "BEGIN SOLUTION" not in line and "END SOLUTION" not in line:
                heads.append(m.group(1).replace("*", "").replace("`", "").strip())
    return heads


def _section_exists(heads, section):
    pos = 0
    for part in section.split(" > "):
        for i in range(pos, len(heads)):
            if heads[i].startswith(part):
                pos = i + 1
                break
        else:
            return False
    return True


def _all_sections():
    for qualname, entry in sorted(stubify.SECTIONS.items()):
        for nb, section in (entry if isinstance(entry, list) else [entry]):
            yield qualname, nb, section


@pytest.mark.parametrize("qualname, notebook, section", list(_all_sections()),
                         ids=lambda v: v if isinstance(v, str) and "." not in v[-6:] else None)
def test_every_section_is_a_heading_of_its_notebook(qualname, notebook, section):
    nb_path = ROOT / "source" / manifest.NAME / notebook
    assert nb_path.is_file(), "%s names %s, which does not exist" % (qualname, nb_path)
    heads = _headings(nb_path)
    assert _section_exists(heads, section), (
        "%s: section %r is not a heading of %s (headings: %s)"
        % (qualname, section, notebook, heads))


def test_command_line(tmp_path):
    src = tmp_path / "m.py"
    src.write_text("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n")
    proc = subprocess.run([sys.executable, "-m", "tools.stubify", str(src)], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "no notebook section for 'f'" in proc.stderr
    assert str(src) + ":2" in proc.stderr
    dest = tmp_path / "out" / "layers.py"
    proc = subprocess.run([sys.executable, "-m", "tools.stubify", str(ROOT / "cs239/layers.py"),
                           str(dest)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "raise NotImplementedError(" in dest.read_text()
