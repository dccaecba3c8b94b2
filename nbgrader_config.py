"""nbgrader configuration: this repository is the course directory.

    source/hw3/          master notebooks (solutions and hidden tests inside nbgrader markers)
    assignments/hw3/     the student release (`make release` runs `nbgrader generate_assignment
                         hw3` into it, then adds the stubbed cs239 package; see tools/release.py)
    submitted/, autograded/, feedback/   nbgrader's usual working folders (git-ignored)
    exchange/            nbgrader's exchange folder (git-ignored; unused: students hand in zips)
    gradebook.db         nbgrader's sqlite gradebook (git-ignored)

nbgrader's own commands work unchanged from the repository root, e.g.
`nbgrader generate_assignment hw3`, `nbgrader autograde hw3`, `nbgrader generate_feedback hw3`,
`nbgrader export`; the formgrader is at /formgrader of `jupyter lab` started here. The cs239
package lives at the root (not in source/hw3), so nbgrader never copies the reference .py files
anywhere: a post-convert hook (tools/release.py) adds the stubbed copy, the
data scripts and the student README to every generated release and runs the leak check, and at
autograde the student's own cs239/ from submitted/<student>/hw3/ is the one the notebooks import.
`make release` (python -m tools.release) is the same plus a hard failure on leaks and a
deterministic, minimal update of assignments/hw3.
"""
import os
import sys
import tempfile
import warnings

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

_ROOT = os.path.dirname(os.path.abspath(__file__))
if _ROOT not in sys.path:          # the `nbgrader` script does not put the course on sys.path
    sys.path.insert(0, _ROOT)

c.CourseDirectory.root = _ROOT
c.CourseDirectory.course_id = "cs239"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "assignments"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(_ROOT, "gradebook.db")
# Never copy these from source/hw3 into the release or a student's build folder: saved models
# and outputs of running the master notebooks, editor and Python caches.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback",
    "*.npz", "*.npy", "*.pkl", "*.html", "*.pdf", "*.db", "cifar-10-batches-py", "synthetic",
]

# nbgrader's exchange (its release/collect commands on a shared JupyterHub) is not used by this
# kit, where students hand in zips; the formgrader still wants a writable one at start-up.
# On a JupyterHub with a shared exchange, set c.Exchange.root to it instead.
c.Exchange.root = os.path.join(_ROOT, "exchange")
os.makedirs(c.Exchange.root, exist_ok=True)

# Notebook cells may train small networks: nbgrader's default of 30 s per cell is too short on a
# laptop with the real CIFAR-10. Validate/autograde give every cell up to 10 minutes.
c.Execute.timeout = 600
# The notebooks load CIFAR-10 from $CS239_CIFAR10_DIR (their kernels inherit it): default to the
# course's own copy (`python datasets/get_cifar10.py` puts it there); autograde warns without it.
_data = os.path.join(_ROOT, "datasets", "cifar-10-batches-py")
if not os.environ.get("CS239_CIFAR10_DIR") and os.path.isdir(_data):
    os.environ["CS239_CIFAR10_DIR"] = _data
# nbgrader talks to its kernels over Unix sockets in a private folder, not TCP on localhost (no
# open port, no "Kernel is running over TCP without encryption" warning per notebook).
if os.name == "posix":
    _kernels = os.path.join(tempfile.gettempdir(), "cs239-kernels-%d" % os.getuid())
    os.makedirs(_kernels, mode=0o700, exist_ok=True)
    c.KernelManager.transport = "ipc"
    c.KernelManager.ip = os.path.join(_kernels, "k%d" % os.getpid())
# nbgrader 0.9's gradebook triggers this SQLAlchemy warning when it creates a new student's
# submission (harmless: the objects are added right after).
warnings.filterwarnings("ignore", message=r"Object of type <\w+> not in session")

# After `nbgrader generate_assignment`: stubbed package + data scripts + README, then leak check.
if os.path.isfile(os.path.join(_ROOT, "tools", "release.py")):
    c.GenerateAssignment.post_convert_hook = "tools.release.nbgrader_post_convert_hook"

# tools/nbgrader_hooks.py: feedback never holds hidden tests, mark schemes or rubrics (nbgrader
# 0.9 renders the autograded notebook, hidden tests restored, as it is); the formgrader shows
# each written answer's model answer and rubric; autograde registers the assignment on first
# use and restores hidden tests quietly into test cells that are as released.
if os.path.isfile(os.path.join(_ROOT, "tools", "nbgrader_hooks.py")):
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import (CheckCellMetadata, ClearOutput, DeduplicateIds,
                                        GetGrades, OverwriteCells, OverwriteKernelspec)
    from tools.nbgrader_hooks import AddRubrics, HideHiddenTests, RestoreHiddenTests

    c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]
    c.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateIds, OverwriteKernelspec,
                                          RestoreHiddenTests, OverwriteCells, AddRubrics,
                                          CheckCellMetadata]
    c.AddRubrics.source_directory = os.path.join(_ROOT, "source")
    c.Autograde.pre_convert_hook = "tools.nbgrader_hooks.autograde_pre_convert"
