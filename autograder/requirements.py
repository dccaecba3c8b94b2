"""Installed distributions a set of packages needs (what the notebook kernels' site holds)."""
import re
from importlib import metadata


def closure(names):
    """{normalized name: Distribution} of NAMES and their installed requirements, without
    optional extras. Names that are not installed are left out."""
    seen, stack = {}, list(names)
    while stack:
        n = stack.pop()
        key = re.sub(r"[-_.]+", "-", n).lower()
        if key in seen:
            continue
        try:
            d = metadata.distribution(n)
        except metadata.PackageNotFoundError:
            continue
        seen[key] = d
        for r in d.requires or []:
            if "extra ==" not in r:
                stack.append(re.match(r"[A-Za-z0-9_.\-]+", r).group(0))
    return seen
