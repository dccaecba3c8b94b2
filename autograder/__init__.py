"""cs239's sandboxed autograder (never released to students). See autograder/README.md."""
