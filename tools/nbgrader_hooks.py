"""nbgrader hooks of the course (wired in nbgrader_config.py); they run on the trusted side only.

- HideHiddenTests (GenerateFeedback): what `nbgrader generate_feedback` (and the formgrader's
  feedback buttons) hand to students never holds a hidden test, a mark scheme or the graders'
  rubric. nbgrader 0.9 renders the autograded notebook as it is, hidden tests restored; this
  removes every `### BEGIN HIDDEN TESTS` .. `### END HIDDEN TESTS` (and MARK SCHEME) region,
  the rubric cells AddRubrics inserted, and cuts the tracebacks of cells that held a hidden
  test down to their last line (IPython prints the lines around the failing one, hidden or not).
- AddRubrics (Autograde, after OverwriteCells): after each written answer, a grader-only cell with
  the master's model answer and rubric, so the formgrader shows them beside the student's answer.
- RestoreHiddenTests (Autograde, before OverwriteCells): puts the hidden tests back into test
  cells that are exactly as released, so OverwriteCells only warns about cells a student changed.
- autograde_pre_convert: registers the assignment in the gradebook on first use (fresh clone).
"""
import os
import re
import sys
from pathlib import Path

import nbformat
from nbgrader import utils
from nbgrader.preprocessors import GetGrades, NbGraderPreprocessor
from traitlets import List, Unicode

RUBRIC_KEY = "cs239_rubric"      # cell metadata of the grader-only cells AddRubrics inserts
RUBRIC_TITLE = "**Model answer and rubric** (graders only; never part of student feedback)"
REGIONS = [("BEGIN HIDDEN TESTS", "END HIDDEN TESTS"), ("BEGIN MARK SCHEME", "END MARK SCHEME")]
SOLUTION = ("BEGIN SOLUTION", "END SOLUTION")
HIDDEN_NOTE = "(the rest of this traceback is not shown: this cell runs hidden tests)"


def strip_regions(source, regions=REGIONS):
    """(source without the marked regions, whether anything was removed). An unterminated
    region runs to the end of the cell: nothing after a BEGIN line is ever kept."""
    out, until, removed = [], None, False
    for line in source.split("\n"):
        if until is None:
            for begin, end in regions:
                if begin in line:
                    until, removed = end, True
                    break
            else:
                out.append(line)
        elif until in line:
            until = None
    return "\n".join(out), removed


def solution_text(source):
    """The text inside a cell's solution region (the whole cell when it has no markers)."""
    lines = source.split("\n")
    if not any(SOLUTION[0] in line for line in lines):
        return source.strip()
    keep, inside = [], False
    for line in lines:
        if SOLUTION[0] in line:
            inside = True
        elif SOLUTION[1] in line:
            inside = False
        elif inside:
            keep.append(line)
    return "\n".join(keep).strip()


class HideHiddenTests(NbGraderPreprocessor):
    """Feedback: drop hidden tests, mark schemes and rubric cells; short tracebacks there."""

    # a configurable trait, as in nbgrader's GetGrades: nbconvert's HTML exporter configures it
    display_data_priority = List(GetGrades.display_data_priority.default_value).tag(config=True)

    def preprocess(self, nb, resources):
        nb.cells = [c for c in nb.cells if RUBRIC_KEY not in c.get("metadata", {})]
        self._warn_if_ungraded(resources.get("nbgrader", {}))
        return super().preprocess(nb, resources)

    def _warn_if_ungraded(self, info):
        from nbgrader.api import Gradebook, MissingEntry
        try:
            with Gradebook(info["db_url"]) as gb:
                sub = gb.find_submission_notebook(info["notebook"], info["assignment"],
                                                  info["student"])
                left = [g.name for g in sub.grades if g.needs_manual_grade]
        except (KeyError, MissingEntry):
            return
        if left:
            self.log.warning("feedback for %s, %s: %d answer(s) not graded yet (%s); their "
                             "score in this feedback is 0", info["student"], info["notebook"],
                             len(left), ", ".join(sorted(left)))

    def preprocess_cell(self, cell, resources, index):
        cell.source, removed = strip_regions(cell.source)
        if removed and cell.cell_type == "code":
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    out["traceback"] = ["%s: %s" % (out.get("ename", "Error"),
                                                    out.get("evalue", "")), HIDDEN_NOTE]
        return cell, resources


class AddRubrics(NbGraderPreprocessor):
    """Autograde: a grader-only markdown cell (model answer + rubric) after each written answer."""

    source_directory = Unicode("", help="the course's source/ folder (master notebooks)"
                               ).tag(config=True)

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {})
        master = Path(self.source_directory) / info.get("assignment", "") / (
            "%s.ipynb" % info.get("notebook", ""))
        if not self.source_directory or not master.is_file():
            return nb, resources
        answers = {}
        for cell in nbformat.read(str(master), as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution") and meta.get("grade") and cell.cell_type == "markdown":
                answers[meta.get("grade_id")] = solution_text(cell.source)
        cells = []
        for cell in nb.cells:
            if RUBRIC_KEY in cell.get("metadata", {}):
                continue                    # a submission cannot bring its own "rubric"
            cells.append(cell)
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if utils.is_solution(cell) and utils.is_grade(cell) and answers.get(gid):
                rubric = nbformat.v4.new_markdown_cell(
                    "%s\n\n%s" % (RUBRIC_TITLE, answers[gid]),
                    metadata={RUBRIC_KEY: gid, "editable": False, "deletable": False})
                rubric["id"] = re.sub(r"[^A-Za-z0-9_-]", "-", "rubric-%s" % gid)[:64]
                cells.append(rubric)
        nb.cells = cells
        return nb, resources


class RestoreHiddenTests(NbGraderPreprocessor):
    """Autograde: a locked cell whose source is exactly the released one gets its full source
    (hidden tests included) back from the gradebook before OverwriteCells compares checksums.
    The released source is recomputed from the gradebook's copy, never read from the
    submission, so a changed cell is still caught and restored (with nbgrader's warning)."""

    def preprocess(self, nb, resources):
        from nbgrader.api import Gradebook, MissingEntry
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            for cell in nb.cells:
                gid = cell.metadata.get("nbgrader", {}).get("grade_id")
                if not gid:
                    continue
                try:
                    src = gb.find_source_cell(gid, info["notebook"], info["assignment"])
                except MissingEntry:
                    continue
                released, removed = strip_regions(src.source, REGIONS[:1])
                if removed and src.locked and cell.source == released:
                    cell.source = src.source
        return nb, resources


_warned = []


def _warn_without_data():
    data = os.environ.get("CS239_CIFAR10_DIR")
    if not _warned and not (data and os.path.isdir(data)):
        _warned.append(data)
        print("[cs239] WARNING: no CIFAR-10 for the notebooks (%s): their data cells will fail "
              "and the plots and accuracies the written questions ask about will be missing. "
              "Run `python datasets/get_cifar10.py` in the course directory, or set "
              "CS239_CIFAR10_DIR to a cifar-10-batches-py folder."
              % ("CS239_CIFAR10_DIR=%s does not exist" % data if data
                 else "CS239_CIFAR10_DIR is not set and datasets/cifar-10-batches-py is missing"),
              file=sys.stderr)


def _gradebook_has(db_url, assignment):
    from nbgrader.api import Gradebook, MissingEntry
    try:
        with Gradebook(db_url) as gb:
            gb.find_assignment(assignment)
        return True
    except MissingEntry:
        return False


def autograde_pre_convert(assignment, student, notebooks):
    """Autograde.pre_convert_hook: register the assignment (`nbgrader generate_assignment` into
    a throwaway folder, with the course's gradebook) when a fresh clone has no gradebook.db."""
    from nbgrader.apps.autogradeapp import AutogradeApp

    if not AutogradeApp.initialized():
        return
    coursedir = AutogradeApp.instance().coursedir
    _warn_without_data()
    if not assignment or any(ch in assignment for ch in "*?[") or \
            _gradebook_has(coursedir.db_url, assignment):
        return
    from tools.release import ReleaseError, generate_notebooks
    import tempfile
    print("[cs239] %s is not in the gradebook yet: registering it (nbgrader generate_assignment "
          "into a temporary folder; assignments/ is left alone)" % assignment, file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="cs239-register-") as tmp:
        try:
            generate_notebooks(coursedir.root, assignment, tmp, coursedir.db_url)
        except ReleaseError as e:
            print("[cs239] could not register %s: %s" % (assignment, e), file=sys.stderr)
