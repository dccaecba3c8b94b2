"""Gradescope's results.json specification ("Autograder Specifications", Output Format), as a
checker: ``problems(data)`` lists what does not conform (empty: valid)."""
import math

VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}
TOP = {"score": "number", "execution_time": "number", "output": "str", "output_format": FORMATS,
       "test_output_format": FORMATS, "test_name_format": FORMATS, "visibility": VISIBILITIES,
       "stdout_visibility": VISIBILITIES, "extra_data": "dict", "tests": "list",
       "leaderboard": "list"}
TEST = {"score": "number", "max_score": "number", "status": {"passed", "failed"}, "name": "str",
        "name_format": FORMATS, "number": "str", "output": "str", "output_format": FORMATS,
        "tags": "list", "visibility": VISIBILITIES, "extra_data": "dict"}


def _check(where, obj, fields):
    out = []
    if not isinstance(obj, dict):
        return [f"{where}: not an object"]
    for key, value in obj.items():
        kind = fields.get(key)
        if kind is None:
            out.append(f"{where}: unknown key {key!r}")
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value):
                out.append(f"{where}.{key}: not a finite number: {value!r}")
        elif isinstance(kind, set):
            if value not in kind:
                out.append(f"{where}.{key}: {value!r} is not one of {sorted(kind)}")
        elif not isinstance(value, {"str": str, "dict": dict, "list": list}[kind]):
            out.append(f"{where}.{key}: not a {kind}: {type(value).__name__}")
    return out


def problems(data):
    """What in DATA (a parsed results.json) breaks the specification."""
    out = _check("results", data, TOP)
    if out and out[0].endswith("not an object"):
        return out
    tests = data.get("tests", [])
    if not isinstance(tests, list):
        return out
    if "score" not in data and not all(isinstance(t, dict) and "score" in t for t in tests):
        out.append("results: no top-level score, and not every test has one")
    for i, t in enumerate(tests):
        out += _check(f"tests[{i}]", t, TEST)
        if isinstance(t, dict) and isinstance(t.get("tags", []), list) \
                and not all(isinstance(x, str) for x in t.get("tags", [])):
            out.append(f"tests[{i}].tags: not a list of strings")
    for i, row in enumerate(data.get("leaderboard", []) or []):
        if not (isinstance(row, dict) and isinstance(row.get("name"), str) and "value" in row):
            out.append(f"leaderboard[{i}]: needs a name and a value")
    return out
