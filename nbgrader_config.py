"""nbgrader configuration: this repository is the course directory.

    source/hw3/          master notebooks (solutions and hidden tests inside nbgrader markers)
    assignments/hw3/     the student release (`make release` runs `nbgrader generate_assignment
                         hw3` into it, then adds the stubbed cs239 package; see tools/release.py)
    submitted/, autograded/, feedback/   nbgrader's usual working folders (git-ignored)
    gradebook.db         nbgrader's sqlite gradebook (git-ignored)

nbgrader's own commands work unchanged from the repository root, e.g.
`nbgrader generate_assignment hw3`, `nbgrader autograde hw3`, `nbgrader export`, `nbgrader
formgrader`. The cs239 package lives at the root (not in source/hw3), so nbgrader never copies the
reference .py files anywhere: a post-convert hook (tools/release.py) adds the stubbed copy, the
data scripts and the student README to every generated release and runs the leak check, and at
autograde the student's own cs239/ from submitted/<student>/hw3/ is the one the notebooks import.
`make release` (python -m tools.release) is the same plus a hard failure on leaks and a
deterministic, minimal update of assignments/hw3.
"""
import os
import sys

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

# Notebook cells may train small networks: nbgrader's default of 30 s per cell is too short on a
# laptop with the real CIFAR-10. Validate/autograde give every cell up to 10 minutes.
c.Execute.timeout = 600

# After `nbgrader generate_assignment`: stubbed package + data scripts + README, then leak check.
if os.path.isfile(os.path.join(_ROOT, "tools", "release.py")):
    c.GenerateAssignment.post_convert_hook = "tools.release.nbgrader_post_convert_hook"
