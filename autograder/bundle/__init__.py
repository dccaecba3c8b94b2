"""The Gradescope bundle's non-grader parts: setup.sh and run_autograder (templates copied
verbatim), the per-Python locks (lock.py), the staff summary and a results.json checker."""
