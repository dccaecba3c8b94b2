"""Replace the solution regions of the cs239 package's .py files by clear stubs (release step).

nbgrader strips solutions from notebooks only; this is the same transformation for modules. Every

    ### BEGIN SOLUTION
    ...reference code...
    ### END SOLUTION

region (marker lines on their own, the region a whole number of lines at the markers'
indentation, inside a function or method) becomes, at the same indentation,

    # YOUR CODE HERE
    raise NotImplementedError("<qualname> in cs239/<file>.py is not implemented yet; it is asked "
                              "for in <Notebook>.ipynb, section '<section>'.")

The enclosing function's qualified name comes from the file's syntax tree; the notebook section
from the assignment manifest (cs239/tools/manifest.py: a region in a function that has no entry
there is an error, and a test checks that every entry names a heading of that notebook). A
function with several regions gets the same raise in each of them: the traceback line shows
which TODO is next. Everything outside the regions (docstrings, TODO comments, provided code) is
kept byte for byte.

Usage: python -m tools.stubify SRC.py [DEST.py]   (prints to stdout without DEST)
"""
import ast
import re
import sys
from pathlib import Path

from cs239.tools import manifest

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
OTHER_MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS",
                 "### BEGIN MARK SCHEME", "### END MARK SCHEME")


def manifest_sections(functions=manifest.FUNCTIONS):
    """qualname -> (notebook, section), or a list with one pair per solution region (in file
    order), from the assignment manifest's graded functions."""
    return {f.name: ([(f.notebook, sec) for sec in f.section] if isinstance(f.section, tuple)
                     else (f.notebook, f.section)) for f in functions}


# tests/test_stubify.py checks that every region has an entry and that every section exists in
# the assignment's master notebooks.
SECTIONS = manifest_sections()


class StubifyError(ValueError):
    """A malformed solution region; the message names the file and line."""


def _marker(line):
    """BEGIN or END when the line is exactly a solution marker (any indentation), else None.

    A marker that shares its line with code (or a misspelt variant such as '## BEGIN SOLUTION')
    is reported as an error by find_regions, never silently kept.
    """
    s = line.strip()
    if s == BEGIN:
        return BEGIN
    if s == END:
        return END
    return None


def _indent(line):
    return line[: len(line) - len(line.lstrip(" \t"))]


def find_regions(text, filename="<string>"):
    """Return [(begin_index, end_index, indent)] (0-based line indices of the marker lines).

    Raises StubifyError naming filename and line for nested, unbalanced, misplaced or
    mis-indented markers.
    """
    lines = text.splitlines()
    regions, open_at, indent = [], None, None
    for i, line in enumerate(lines):
        kind = _marker(line)
        if kind is None:
            if re.search(r"#+\s*(BEGIN|END)\s+SOLUTION", line):
                raise StubifyError("%s:%d: solution marker must be alone on its line, exactly %r "
                                   "or %r: %r" % (filename, i + 1, BEGIN, END, line.strip()))
            if open_at is not None and line.strip() and not line.startswith(indent):
                raise StubifyError("%s:%d: line inside the solution region opened at line %d is "
                                   "indented less than its markers (a region must be a whole "
                                   "number of lines at one indentation)"
                                   % (filename, i + 1, open_at + 1))
            continue
        if kind == BEGIN:
            if open_at is not None:
                raise StubifyError("%s:%d: nested %r: the region opened at line %d is not closed"
                                   % (filename, i + 1, BEGIN, open_at + 1))
            open_at, indent = i, _indent(line)
        else:
            if open_at is None:
                raise StubifyError("%s:%d: %r without a matching %r before it"
                                   % (filename, i + 1, END, BEGIN))
            if _indent(line) != indent:
                raise StubifyError("%s:%d: %r is not at the indentation of the %r at line %d"
                                   % (filename, i + 1, END, BEGIN, open_at + 1))
            regions.append((open_at, i, indent))
            open_at = None
    if open_at is not None:
        raise StubifyError("%s:%d: %r is never closed (no %r after it)"
                           % (filename, open_at + 1, BEGIN, END))
    return regions


def _functions(tree):
    """Yield (qualname, node) for every function in the tree, e.g. 'TwoLayerNet.loss'."""
    def walk(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = prefix + child.name
                if not isinstance(child, ast.ClassDef):
                    yield name, child
                yield from walk(child, name + ".")
            else:
                yield from walk(child, prefix)
    yield from walk(tree, "")


def enclosing_function(tree, lineno):
    """Qualified name of the innermost function whose body holds 1-based line lineno, or None."""
    best = None
    for qualname, node in _functions(tree):
        if node.lineno < lineno <= node.end_lineno:
            if best is None or node.lineno >= best[1].lineno:
                best = (qualname, node)
    return best[0] if best else None


def section_for(qualname, part=0, sections=None):
    """(notebook, section) asking for region number part (0-based) of function qualname.

    An entry of SECTIONS is one (notebook, section) pair for all the function's regions, or a
    list with one pair per region (in file order).
    """
    sections = SECTIONS if sections is None else sections
    entry = sections[qualname]
    if isinstance(entry, list):
        return entry[min(part, len(entry) - 1)]
    return entry


def stub_message(qualname, relpath, part=0, sections=None):
    """The NotImplementedError message for a stub of qualname in relpath (e.g. cs239/layers.py)."""
    notebook, section = section_for(qualname, part, sections)
    return ("%s in %s is not implemented yet; it is asked for in %s, section '%s'."
            % (qualname, relpath, notebook, section))


def stub_lines(indent, message, newline="\n"):
    """The stub: a YOUR CODE HERE comment and the raise, the message split after its ';'."""
    head, tail = message.split("; ", 1)
    return [indent + "# YOUR CODE HERE" + newline,
            indent + "raise NotImplementedError(" + newline,
            indent + "    %s" % _quote(head + "; ") + newline,
            indent + "    %s)" % _quote(tail) + newline]


def _quote(s):
    """A double-quoted Python string literal for s (repr would pick single quotes here)."""
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def stubify_source(text, relpath, filename=None, sections=None):
    """Return text with every solution region replaced by a stub.

    relpath is the path shown to students (e.g. 'cs239/classifiers/fc_net.py'); filename (default
    relpath) is the one error messages name. Raises StubifyError for malformed regions, a region
    outside a function, a function missing from sections, or output that does not compile.
    """
    filename = filename or relpath
    sections = SECTIONS if sections is None else sections
    regions = find_regions(text, filename)
    if not regions:
        return text
    try:
        tree = ast.parse(text, filename=filename)
    except SyntaxError as e:
        raise StubifyError("%s:%s: the master copy is not valid Python: %s"
                           % (filename, e.lineno, e.msg)) from None
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    out, pos, parts = [], 0, {}
    for begin, end, indent in regions:
        qualname = enclosing_function(tree, begin + 1)
        if qualname is None:
            raise StubifyError("%s:%d: solution region outside any function (only function and "
                               "method bodies can be stubbed)" % (filename, begin + 1))
        if qualname not in sections:
            raise StubifyError("%s:%d: no notebook section for %r: add it to FUNCTIONS in "
                               "cs239/tools/manifest.py" % (filename, begin + 1, qualname))
        part = parts[qualname] = parts.get(qualname, -1) + 1
        out.extend(lines[pos:begin])
        out.extend(stub_lines(indent, stub_message(qualname, relpath, part, sections), newline))
        pos = end + 1
    out.extend(lines[pos:])
    result = "".join(out)
    try:
        compile(result, filename, "exec", dont_inherit=True)
    except SyntaxError as e:
        raise StubifyError("%s:%s: the stubbed file does not compile: %s (is every region a "
                           "whole number of lines at one indentation?)"
                           % (filename, e.lineno, e.msg)) from None
    return result


def region_functions(text, filename="<string>"):
    """[(line, qualname)] for every solution region of a source text (qualname None outside)."""
    regions = find_regions(text, filename)
    if not regions:
        return []
    tree = ast.parse(text, filename=filename)
    return [(b + 1, enclosing_function(tree, b + 1)) for b, _, _ in regions]


def stubify_file(src, dest=None, relpath=None):
    """Stubify one file; write dest (bytes exactly as computed) or return the text."""
    src = Path(src)
    if relpath is None:   # the path a student sees: from the package folder on
        parts = src.resolve().parts
        relpath = "/".join(parts[len(parts) - 1 - parts[::-1].index("cs239"):]) \
            if "cs239" in parts else src.as_posix()
    with open(src, encoding="utf-8", newline="") as f:
        text = f.read()
    result = stubify_source(text, relpath, filename=str(src))
    if dest is None:
        return result
    Path(dest).parent.mkdir(parents=True, exist_ok=True)
    with open(dest, "w", encoding="utf-8", newline="") as f:
        f.write(result)
    return result


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or len(argv) > 2 or argv[0] in ("-h", "--help"):
        print(__doc__.strip().splitlines()[-1])
        return 2
    try:
        text = stubify_file(argv[0], argv[1] if len(argv) == 2 else None)
    except (StubifyError, OSError) as e:
        print("stubify: error: %s" % e, file=sys.stderr)
        return 1
    if len(argv) == 1:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
