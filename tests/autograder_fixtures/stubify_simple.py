"""Replace every ### BEGIN SOLUTION / ### END SOLUTION region by `raise NotImplementedError`
(a test helper; the real release uses tools/stubify.py)."""
import re
from pathlib import Path

REGION = re.compile(r"^([ \t]*)### BEGIN SOLUTION[^\n]*\n.*?^[ \t]*### END SOLUTION[^\n]*\n",
                    re.S | re.M)


def stubify_tree(pkg_dir):
    for p in Path(pkg_dir).rglob("*.py"):
        src = p.read_text()
        new = REGION.sub(lambda m: f"{m.group(1)}raise NotImplementedError\n", src)
        if new != src:
            p.write_text(new)
