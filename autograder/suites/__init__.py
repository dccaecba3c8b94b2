"""Hidden pytest suites of the cs239 autograder (never released to students).

One module per graded area. Each test is marked
``@pytest.mark.graded("<graded name>: <what is checked>", points=N)`` and earns its points when
it passes. Tests talk to the submission only through the ``student`` fixture (plain data across
a process boundary) and compute expected values with the reference package (``ref``) on the
trusted side. See README.md here (for instructors) and _checks.py (comparison helpers).
"""

from cs239.tools import manifest

# Ordered graded names, the columns of grades.csv (autograder/cli.py reads this list): the
# assignment manifest's graded functions, then the saved models.
GRADED_NAMES = manifest.graded_names()
