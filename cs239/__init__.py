"""cs239: the course package for Homework 3 (backpropagation).

Students fill in the functions marked ``YOUR CODE HERE`` in ``layers.py``, ``optim.py``,
``derivations.py`` and ``classifiers/``; everything else is provided and complete. The self-check
and the submission tool are in ``cs239/tools/`` (``python -m cs239.tools.check``,
``python -m cs239.tools.submit``).
"""

__version__ = "0.1.0"
