"""Build hw3_submission.zip for Homework 3 (run from the homework folder).

    python -m cs239.submit               # checks, prints the PDF, builds hw3_submission.zip
    python -m cs239.submit --no-pdf      # without the PDF (e.g. no browser on this machine)

The zip holds the three notebooks (executed and saved), every .py file of your cs239/ package,
the saved models two_layer_net_best.npz and fc_net_best.npz, and hw3_notebooks.pdf, a PDF of the
executed notebooks (printed by headless Chromium/Chrome from nbconvert's HTML, formulas typeset
by a local MathJax: see cs239/pdf.py; no LaTeX needed).

It refuses, saying why and what to do, when a file is missing, a notebook was not run (or only
partly), or the zip would be larger than the limit (50 MB). It lists what it packed with sizes.
"""
import argparse
import json
import os
import sys
import tempfile
import zipfile
from pathlib import Path

from cs239.pdf import build_pdf

NOTEBOOKS = ["TwoLayerNet.ipynb", "FullyConnectedNets.ipynb", "Backprop.ipynb"]
MODELS = ["two_layer_net_best.npz", "fc_net_best.npz"]
ZIP_NAME = "hw3_submission.zip"
PDF_NAME = "hw3_notebooks.pdf"
MAX_MB = 50


class Refused(Exception):
    """The submission cannot be built; the message says why and what to do."""


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def notebook_problems(path):
    """(refusals, warnings) about a saved notebook: was it run top to bottom and saved?"""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return ["%s cannot be read as a notebook: %s" % (path.name, e)], []
    code = [(i, c) for i, c in enumerate(nb.get("cells", []))
            if c.get("cell_type") == "code" and _source(c).strip()]
    counts = [c.get("execution_count") for _, c in code]
    has_output = any(c.get("outputs") for _, c in code)
    if not code:
        return ["%s has no code cells: is it the homework notebook?" % path.name], []
    if all(n is None for n in counts) or not has_output:
        return ["%s was not run (no execution counts or outputs): open it, run Kernel > Restart "
                "& Run All, then save it" % path.name], []
    missing = [i for (i, _), n in zip(code, counts) if n is None]
    if missing:
        return ["%s was only partly run: %d of %d code cells have no execution count (first: "
                "cell %d); run Kernel > Restart & Run All, then save it"
                % (path.name, len(missing), len(counts), missing[0])], []
    warnings = []
    if counts != sorted(counts) or len(set(counts)) != len(counts):
        warnings.append("%s: cells were run out of order; Restart & Run All is safer"
                        % path.name)
    errors = [(i, o) for i, c in code for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    if errors:
        i, o = errors[0]
        warnings.append("%s: %d cell(s) end in an error (first: cell %d, %s); submitting anyway"
                        % (path.name, len(errors), i, o.get("ename", "?")))
    return [], warnings


def collect(folder):
    """[(arcname, path)] of everything to pack; Refused listing every missing piece."""
    folder = Path(folder)
    files, missing = [], []
    for name in NOTEBOOKS:
        (files if (folder / name).is_file() else missing).append(name)
    for name in MODELS:
        (files if (folder / name).is_file() else missing).append(name)
    pkg = folder / "cs239"
    py = sorted(p for p in pkg.rglob("*.py") if "__pycache__" not in p.parts) \
        if pkg.is_dir() else []
    if not py:
        missing.append("cs239/ (your package, with its .py files)")
    for required in ["cs239/layers.py", "cs239/optim.py", "cs239/derivations.py",
                     "cs239/classifiers/neural_net.py", "cs239/classifiers/fc_net.py"]:
        if pkg.is_dir() and not (folder / required).is_file():
            missing.append(required)
    if missing:
        hints = []
        if any(m.endswith(".npz") for m in missing):
            hints.append("the .npz files are written by the cells that save the best models "
                         "in TwoLayerNet.ipynb and FullyConnectedNets.ipynb")
        raise Refused("missing from %s:\n  %s%s\nRun this command from your homework folder "
                      "(the one with the notebooks)."
                      % (folder, "\n  ".join(missing),
                         "".join("\n(%s)" % h for h in hints)))
    out = [(name, folder / name) for name in files]
    out += [(p.relative_to(folder).as_posix(), p) for p in py]
    return out


def _size(n):
    for unit in ["B", "KB", "MB", "GB"]:
        if n < 1024 or unit == "GB":
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1024.0


def write_zip(entries, zip_path):
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
        for arcname, path in entries:
            info = zipfile.ZipInfo(arcname, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, Path(path).read_bytes())


def submit(folder=".", out=None, pdf=True, max_mb=MAX_MB, say=print):
    """Build the submission zip; return its path. Raises Refused with the reason."""
    folder = Path(folder).resolve()
    out = Path(out) if out else folder / ZIP_NAME
    entries = collect(folder)
    refusals, warnings = [], []
    for name in NOTEBOOKS:
        r, w = notebook_problems(folder / name)
        refusals += r
        warnings += w
    if refusals:
        raise Refused("\n".join(refusals))
    for w in warnings:
        say("warning: " + w)
    with tempfile.TemporaryDirectory(prefix="cs239-submit-") as tmp:
        pdf_note = "no PDF (--no-pdf)"
        if pdf:
            pdf_path = Path(tmp) / PDF_NAME
            ok, pdf_note = build_pdf([folder / n for n in NOTEBOOKS], pdf_path)
            if ok:
                entries.insert(len(NOTEBOOKS), (PDF_NAME, pdf_path))
        partial = out.with_name(out.name + ".part")
        write_zip(entries, partial)
        size = partial.stat().st_size
        if size > max_mb * 1024 * 1024:
            partial.unlink()
            biggest = sorted(entries, key=lambda e: -Path(e[1]).stat().st_size)[:4]
            raise Refused("the zip would be %s, more than the %d MB limit. Largest files:\n  %s\n"
                          "Notebooks grow with many large plots: clear outputs you printed for "
                          "debugging, then Restart & Run All and save."
                          % (_size(size), max_mb, "\n  ".join(
                              "%-34s %s" % (a, _size(Path(p).stat().st_size))
                              for a, p in biggest)))
        os.replace(partial, out)
        say("Packed into %s:" % out)
        for arcname, path in entries:
            say("  %-40s %10s" % (arcname, _size(Path(path).stat().st_size)))
        say("  %-40s %10s" % ("total (zip)", _size(out.stat().st_size)))
    if pdf and not any(a == PDF_NAME for a, _ in entries):
        say("\nWARNING: the zip has NO PDF. %s" % pdf_note[len("no PDF: "):])
    elif pdf:
        say("\nPDF: %s (%s)." % (PDF_NAME, pdf_note))
    say("\nUpload %s to Gradescope." % out.name)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m cs239.submit",
                                 description="Build hw3_submission.zip from the homework folder.")
    ap.add_argument("--out", help="where to write the zip (default: ./%s)" % ZIP_NAME)
    ap.add_argument("--no-pdf", action="store_true", help="do not print the notebooks to PDF")
    ap.add_argument("--max-mb", type=float, default=MAX_MB,
                    help="refuse zips larger than this (default %d MB)" % MAX_MB)
    args = ap.parse_args(argv)
    try:
        submit(".", args.out, pdf=not args.no_pdf, max_mb=args.max_mb)
    except Refused as e:
        print("cs239.submit: not submitted: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
