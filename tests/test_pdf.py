"""The notebooks' PDF (cs239/pdf.py): formulas typeset offline by the local MathJax, checked on
the printed PDF itself with pdftotext, in a real headless Chromium."""
import shutil
import subprocess

import nbformat
import pytest

from cs239 import pdf

from cs239.tools import manifest

ROOT = pdf.Path(__file__).resolve().parents[1]
TEX = [r"\frac", r"\left", r"\lVert", r"\mathbb", r"\hat", "$x", "$$"]


def _need_tools():
    if pdf.find_browser() is None:
        pytest.skip("no Chromium/Chrome here (Debian: apt-get install chromium)")
    if shutil.which("pdftotext") is None:
        pytest.skip("no pdftotext here (Debian: apt-get install poppler-utils)")


def _formula_notebook(path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            "An input $x \\in \\mathbb{R}^n$ and the loss\n\n"
            "$$ L = \\frac{1}{2} \\left\\lVert W^T W x - x \\right\\rVert^2 $$\n\n"
            "with $\\hat{x} = W^T W x$: the reconstruction."),
        nbformat.v4.new_code_cell("print('cost: 5 dollars')", execution_count=1, outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="cost: 5 dollars\n")]),
        nbformat.v4.new_code_cell("x = 1  # " + "word " * 40 + "ENDOFLONGLINE", execution_count=2),
    ]
    nbformat.write(nb, str(path))
    return path


def _text(pdf_path):
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf_path), "-"],
                          capture_output=True, text=True, check=True).stdout


def test_local_mathjax_is_installed():
    # A declared dependency (pyproject.toml); the PDF falls back to TeX source without it.
    url = pdf.local_mathjax()
    assert url and url.startswith("file:") and "MathJax.js?config=" in url


def test_pdf_typesets_the_formulas_offline(tmp_path):
    _need_tools()
    notebooks = [_formula_notebook(tmp_path / "formulas.ipynb"),
                 ROOT / "assignments" / manifest.NAME / "Backprop.ipynb"]   # what students write in
    out = tmp_path / "out.pdf"
    ok, how = pdf.build_pdf(notebooks, out)
    assert ok, how
    assert how.endswith("formulas typeset"), how
    text = _text(out)
    assert "reconstruction" in text and "Problem 1: linear autoencoder" in text
    assert [t for t in TEX if t in text] == [], text[:3000]
    assert "ℝ" in text                        # \mathbb{R}, typeset in MathJax's STIX font
    assert "ENDOFLONGLINE" in text            # long code lines wrap (nbconvert's CSS cuts them)
    assert out.stat().st_size < 3 * 1024 * 1024


def test_pdf_without_mathjax_says_so_and_keeps_the_tex(tmp_path, monkeypatch):
    """The same check fails without the local MathJax: the formulas stay TeX source."""
    _need_tools()
    monkeypatch.setattr(pdf, "local_mathjax", lambda: None)
    out = tmp_path / "out.pdf"
    ok, how = pdf.build_pdf([_formula_notebook(tmp_path / "formulas.ipynb")], out)
    assert ok, how
    assert "formulas appear as TeX source" in how and "pip install jupyter-server-mathjax" in how
    text = _text(out)
    assert r"\frac" in text and r"\lVert" in text
