"""Build the submission zip of the homework (run from the homework folder).

    python -m cs239.tools.submit             # checks, prints the PDF, builds <name>_submission.zip
    python -m cs239.tools.submit --no-pdf    # without the PDF (e.g. no browser on this machine)

The zip holds the notebooks (executed and saved), every .py file of your cs239/ package, the
saved models and <name>_notebooks.pdf, a PDF of the executed notebooks (printed by headless
Chromium/Chrome from nbconvert's HTML; no LaTeX needed); the lists and names are those of
cs239/tools/manifest.py.

It refuses, saying why and what to do, when a file is missing, a notebook was not run (or only
partly), or the zip would be larger than the limit (50 MB), listing every such problem at once.
It warns when the PDF would show the notebooks' TeX math raw. It lists what it packed with sizes.
"""
import argparse
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from cs239.tools import manifest
from cs239.tools.notebook_status import read_status, was_run

NOTEBOOKS = list(manifest.NOTEBOOKS)
MODELS = list(manifest.MODELS)
ZIP_NAME = manifest.SUBMISSION_ZIP
PDF_NAME = manifest.NOTEBOOKS_PDF
MAX_MB = 50
BROWSERS = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome",
            "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
            "/Applications/Chromium.app/Contents/MacOS/Chromium",
            r"C:\Program Files\Google\Chrome\Application\chrome.exe",
            r"C:\Program Files (x86)\Google\Chrome\Application\chrome.exe"]
GET_A_BROWSER = ("install Chromium or Google Chrome (Debian/Ubuntu: `sudo apt-get install "
                 "chromium`; macOS/Windows: https://www.google.com/chrome/), or point "
                 "CS239_BROWSER at one, then run `python -m cs239.tools.submit` again")


class Refused(Exception):
    """The submission cannot be built; the message says why and what to do."""


def notebook_problems(path):
    """(refusals, warnings) about a saved notebook: was it run top to bottom and saved?"""
    s = read_status(path)
    if s.error:
        return ["%s cannot be read as a notebook: %s" % (path.name, s.error)], []
    if not s.code_cells:
        return ["%s has no code cells: is it the homework notebook?" % path.name], []
    if not was_run(s):
        return ["%s was not run (no execution counts or outputs): open it, run Kernel > Restart "
                "& Run All, then save it" % path.name], []
    if s.not_run:
        return ["%s was only partly run: %d of %d code cells have no execution count (first: "
                "cell %d); run Kernel > Restart & Run All, then save it"
                % (path.name, len(s.not_run), len(s.code_cells), s.not_run[0])], []
    warnings = []
    if not s.in_order:
        warnings.append("%s: cells were run out of order; Restart & Run All is safer"
                        % path.name)
    if s.errors:
        warnings.append("%s: %d cell(s) end in an error (first: cell %d, %s); submitting anyway"
                        % (path.name, len(s.errors), s.errors[0][0], s.errors[0][1]))
    return [], warnings


def collect(folder):
    """([(arcname, path)] of everything to pack, [problems]): every missing piece is a problem."""
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
    for required in manifest.student_files():
        if pkg.is_dir() and not (folder / required).is_file():
            missing.append(required)
    problems = []
    if missing:
        hints = []
        if any(m.endswith(".npz") for m in missing):
            savers = [n for n in NOTEBOOKS if n in manifest.MODELS.values()]
            hints.append("the .npz files are written by the cells that save the best models "
                         "in %s" % " and ".join(savers))
        problems.append("missing from %s:\n  %s%s\nRun this command from your homework folder "
                        "(the one with the notebooks)."
                        % (folder, "\n  ".join(missing), "".join("\n(%s)" % h for h in hints)))
    out = [(name, folder / name) for name in files]
    out += [(p.relative_to(folder).as_posix(), p) for p in py]
    return out, problems


MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$", re.S)


def renders_math():
    """Whether the PDF typesets TeX math: the PDF module (cs239/pdf.py, when there is one) says
    so with RENDERS_MATH; nbconvert's HTML printed by the browser offline shows raw TeX."""
    try:
        from cs239 import pdf
    except ImportError:
        return False
    return bool(getattr(pdf, "RENDERS_MATH", False))


def math_warning(notebooks):
    """A warning when the notebooks' Markdown holds TeX math the PDF would print raw, else None."""
    if renders_math():
        return None
    found = []
    for path in notebooks:
        try:
            cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError, AttributeError):
            continue
        n = sum(1 for c in cells if isinstance(c, dict) and c.get("cell_type") == "markdown"
                and MATH.search("".join(c.get("source", "")) if isinstance(c.get("source"), list)
                                else str(c.get("source", ""))))
        if n:
            found.append("%s (%d cells)" % (Path(path).name, n))
    if not found:
        return None
    return ("the PDF shows the math of %s as raw TeX ($...$), not typeset; the graders also read "
            "the notebooks themselves, so nothing is lost, but check the PDF reads well"
            % ", ".join(found))


def find_browser():
    env = os.environ.get("CS239_BROWSER")
    if env:
        return env if (Path(env).is_file() or shutil.which(env)) else None
    for name in BROWSERS:
        found = shutil.which(name) or (name if os.path.isabs(name) and Path(name).is_file()
                                       else None)
        if found:
            return found
    return None


def merged_notebook(paths):
    """One notebook with all of paths, each starting on a new page under its file name."""
    import nbformat

    merged = None
    for k, path in enumerate(paths):
        nb = nbformat.read(str(path), as_version=4)
        title = nbformat.v4.new_markdown_cell(
            ('<div style="page-break-before: always"></div>\n\n' if k else "")
            + "**%s**" % Path(path).name)
        if merged is None:
            merged = copy.deepcopy(nb)
            merged.cells = [title] + merged.cells
        else:
            merged.cells += [title] + nb.cells
    for i, cell in enumerate(merged.cells):        # ids must be unique in one notebook
        cell["id"] = "cell-%d" % i
    return merged


def notebooks_to_html(paths, html_path):
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(merged_notebook(paths))
    Path(html_path).write_text(body, encoding="utf-8")


def html_to_pdf(browser, html_path, pdf_path, timeout=240):
    """Print html_path to pdf_path with headless Chromium/Chrome; return None or an error."""
    with tempfile.TemporaryDirectory(prefix="cs239-browser-") as profile:
        cmd = [browser, "--headless", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run",
               "--no-default-browser-check", "--user-data-dir=%s" % profile,
               "--run-all-compositor-stages-before-draw", "--virtual-time-budget=20000",
               "--no-pdf-header-footer", "--print-to-pdf=%s" % pdf_path,
               Path(html_path).resolve().as_uri()]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.insert(1, "--no-sandbox")      # Chromium refuses to run as root otherwise
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return "the browser did not finish within %d s" % timeout
        except OSError as e:
            return "cannot start %s: %s" % (browser, e)
    if not Path(pdf_path).is_file() or Path(pdf_path).stat().st_size == 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return "the browser wrote no PDF (exit code %s): %s" % (proc.returncode, last[:200])
    return None


def build_pdf(notebooks, pdf_path):
    """Write the PDF of the notebooks; return (True, how) or (False, why not + what to do)."""
    browser = find_browser()
    if not browser:
        return False, "no PDF: no Chromium or Chrome browser found; " + GET_A_BROWSER
    with tempfile.TemporaryDirectory(prefix="cs239-pdf-") as tmp:
        html = Path(tmp) / (Path(PDF_NAME).stem + ".html")
        try:
            notebooks_to_html(notebooks, html)
        except Exception as e:                     # nbconvert missing or a damaged notebook
            return False, "no PDF: converting the notebooks to HTML failed: %s" % e
        error = html_to_pdf(browser, html, pdf_path)
    if error:
        return False, "no PDF: %s; %s" % (error, GET_A_BROWSER)
    return True, "printed by %s" % Path(browser).name


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
    entries, refusals = collect(folder)     # every problem at once, not one per run
    warnings = []
    for name in NOTEBOOKS:
        if (folder / name).is_file():
            r, w = notebook_problems(folder / name)
            refusals += r
            warnings += w
    if refusals:
        raise Refused("\n".join(refusals) if len(refusals) == 1 else
                      "%d problems:\n%s" % (len(refusals), "\n".join(
                          "%d. %s" % (i, r) for i, r in enumerate(refusals, 1))))
    if pdf:
        warnings.append(math_warning([folder / n for n in NOTEBOOKS]))
    for w in filter(None, warnings):
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
    ap = argparse.ArgumentParser(prog="python -m cs239.tools.submit",
                                 description="Build %s from the homework folder." % ZIP_NAME)
    ap.add_argument("--out", help="where to write the zip (default: ./%s)" % ZIP_NAME)
    ap.add_argument("--no-pdf", action="store_true", help="do not print the notebooks to PDF")
    ap.add_argument("--max-mb", type=float, default=MAX_MB,
                    help="refuse zips larger than this (default %d MB)" % MAX_MB)
    args = ap.parse_args(argv)
    try:
        submit(".", args.out, pdf=not args.no_pdf, max_mb=args.max_mb)
    except Refused as e:
        print("cs239.tools.submit: not submitted: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
