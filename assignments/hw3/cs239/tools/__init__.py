"""The homework's tools, out of the way of the files you edit:

    python -m cs239.tools.check     # self-check: public checks of every graded function, notebooks
    python -m cs239.tools.submit    # build the submission zip (and the PDF of the notebooks)

manifest.py lists the notebooks, saved models and graded functions; public_checks.py holds the
public checks (readable like a test file); runner.py runs each in its own process.
"""
