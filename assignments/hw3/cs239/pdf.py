"""Print executed notebooks to one PDF, with the formulas typeset, offline (used by cs239.tools.submit).

nbconvert turns the notebooks into one HTML page; headless Chromium/Chrome prints it. Formulas
are typeset by MathJax 2 from the copy the `jupyter-server-mathjax` package ships
(``pip install jupyter-server-mathjax``), never from the network: the browser is not allowed to
resolve any host name, so nothing in a notebook is fetched and the result does not depend on
the connection. The page marks itself when MathJax has finished (``data-cs239-math="done"`` on
``<html>``); Chromium's virtual time lets MathJax's timers run before it prints, and the DOM it
dumps at print time tells whether typesetting was done. Without the package, or when
typesetting did not finish, the PDF is still printed (formulas as TeX source) and the note
returned by ``build_pdf`` says so and what to do.
"""
import copy
import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

BROWSERS = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome",
            "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
            "/Applications/Chromium.app/Contents/MacOS/Chromium",
            r"C:\Program Files\Google\Chrome\Application\chrome.exe",
            r"C:\Program Files (x86)\Google\Chrome\Application\chrome.exe"]
GET_A_BROWSER = ("install Chromium or Google Chrome (Debian/Ubuntu: `sudo apt-get install "
                 "chromium`; macOS/Windows: https://www.google.com/chrome/), or point "
                 "CS239_BROWSER at one, then run `python -m cs239.tools.submit` again")
GET_MATHJAX = ("pip install jupyter-server-mathjax, then run `python -m cs239.tools.submit` again to "
               "get the formulas typeset")
# MathJax's own TeX configuration; "Safe" keeps notebook HTML from running scripts through it.
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"
# Virtual milliseconds Chromium lets the page's timers run before printing. Virtual time stands
# still while files load and scripts run, so this bounds MathJax's own delays, not its work.
VIRTUAL_TIME_MS = 20000
DONE = 'data-cs239-math="done"'
# The package ships only the STIX-Web web fonts; tell MathJax to use them and nothing else.
# The last hook runs after every typesetting pass that nbconvert's template queues.
_PAGE_CONFIG = """<script type="text/x-mathjax-config">
MathJax.Hub.Config({"HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web",
                                 imageFont: null},
                   messageStyle: "none"});
MathJax.Hub.Register.StartupHook("End", function () {
  MathJax.Hub.Queue(function () {
    document.documentElement.setAttribute("data-cs239-math", "done");
  });
});
</script>
"""
# On paper nothing scrolls: markdown cells show whole (typeset formulas made them scroll) and
# long code lines wrap instead of being cut off at the page edge.
_PRINT_STYLE = """<style>
.jp-MarkdownOutput { overflow: visible !important; }
.jp-InputArea-editor pre { white-space: pre-wrap !important; }
</style>
"""


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


def local_mathjax():
    """The file: URL of the MathJax.js that jupyter-server-mathjax ships, or None."""
    try:
        spec = importlib.util.find_spec("jupyter_server_mathjax")   # found, not imported
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    script = Path(spec.origin).parent / "static" / "MathJax.js"
    return script.as_uri() + "?config=" + MATHJAX_CONFIG if script.is_file() else None


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


def notebooks_to_html(paths, html_path, mathjax_url=None):
    """Write the notebooks as one HTML page; with mathjax_url, it typesets its formulas."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(mathjax_url=mathjax_url) if mathjax_url else HTMLExporter()
    body, _ = exporter.from_notebook_node(merged_notebook(paths))
    body = body.replace("<head>", "<head>\n" + (_PAGE_CONFIG if mathjax_url else "")
                        + _PRINT_STYLE, 1)
    Path(html_path).write_text(body, encoding="utf-8")


def html_to_pdf(browser, html_path, pdf_path, timeout=240):
    """Print html_path to pdf_path with headless Chromium/Chrome.

    Returns (error or None, typeset): typeset tells whether the page had marked its formulas
    done when it was printed.
    """
    with tempfile.TemporaryDirectory(prefix="cs239-browser-") as profile:
        cmd = [browser, "--headless", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run",
               "--no-default-browser-check", "--user-data-dir=%s" % profile,
               "--host-resolver-rules=MAP * ~NOTFOUND",      # offline: no host name resolves
               "--run-all-compositor-stages-before-draw",
               "--virtual-time-budget=%d" % VIRTUAL_TIME_MS,
               "--no-pdf-header-footer", "--print-to-pdf=%s" % pdf_path,
               "--dump-dom",                                 # the page as it was printed
               Path(html_path).resolve().as_uri()]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.insert(1, "--no-sandbox")      # Chromium refuses to run as root otherwise
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                  errors="replace")
        except subprocess.TimeoutExpired:
            return "the browser did not finish within %d s" % timeout, False
        except OSError as e:
            return "cannot start %s: %s" % (browser, e), False
    if not Path(pdf_path).is_file() or Path(pdf_path).stat().st_size == 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return ("the browser wrote no PDF (exit code %s): %s"
                % (proc.returncode, last[:200])), False
    html_tag = re.search(r"<html[^>]*>", proc.stdout)
    return None, bool(html_tag) and DONE in html_tag.group(0)


def build_pdf(notebooks, pdf_path):
    """Write the PDF of the notebooks; return (True, how) or (False, why not + what to do).

    "how" says whether the formulas were typeset and, when not, what to do about it.
    """
    browser = find_browser()
    if not browser:
        return False, "no PDF: no Chromium or Chrome browser found; " + GET_A_BROWSER
    mathjax = local_mathjax()
    with tempfile.TemporaryDirectory(prefix="cs239-pdf-") as tmp:
        html = Path(tmp) / "notebooks.html"
        try:
            notebooks_to_html(notebooks, html, mathjax)
        except Exception as e:                     # nbconvert missing or a damaged notebook
            return False, "no PDF: converting the notebooks to HTML failed: %s" % e
        error, typeset = html_to_pdf(browser, html, pdf_path)
    if error:
        return False, "no PDF: %s; %s" % (error, GET_A_BROWSER)
    how = "printed by %s" % Path(browser).name
    if not mathjax:
        return True, how + "; formulas appear as TeX source: MathJax is not installed (%s)" \
            % GET_MATHJAX
    if not typeset:
        return True, how + ("; formulas may appear as TeX source: MathJax did not finish "
                            "typesetting before the page was printed")
    return True, how + ", formulas typeset"
