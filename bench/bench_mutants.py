"""Who catches each single-bug mutant of the graded functions (tests/corpus/judges.py): the
notebooks' public tests, the student self-check and the hidden suites. Prints the agreement table; one row
per judge with the number it catches. tests/test_mutants.py asserts the goals.

    python -m bench mutants
"""
from tests.corpus import judges as mutants


def main():
    rows, control = mutants.measure()
    print(mutants.table(rows))
    print("controls (the reference and correct styles; should find nothing): %s" % control)
    n = len(rows)
    return [{"judge": judge, "mutants": n, "caught": sum(mutants.caught(r)[i] for r in rows)}
            for i, judge in enumerate(["notebook public tests", "self-check", "hidden suites"])]
