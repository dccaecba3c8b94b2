"""Public checks at least as strong as the notebooks and close to the hidden suites, measured on
the single-bug mutants of every graded function in tests/corpus (judged by tests/corpus/judges.py).

Goals (issue 12): no kind of mistake the hidden suites catch first shows up after the deadline:
the self-check flags every mutant a hidden suite catches, with a message naming the likely
cause; it also flags every mutant the notebooks' public tests catch; and a function that fails
because another one it uses is wrong names that one. The agreement table is written to
build/mutants.md (and printed by `python -m tests.corpus.judges` and `make bench`).
"""
import re
from pathlib import Path

import pytest

from tests import corpus
from tests.corpus import judges as mutants

ROOT = Path(__file__).resolve().parents[1]

# Mutants on which the self-check and the hidden suites disagree, and why: in both the public
# checks are the stricter ones, never the other way round.
EXPECTED_DISAGREEMENTS = {
    "swish_where_both": "np.where with exp(x) in the unselected branch gives the right values "
                        "with overflow warnings: the hidden suites accept the values; the "
                        "notebook and the self-check (overflow is an error there) say why the "
                        "warning comes, which the docstring asks to avoid",
    "tln_no_replacement": "sampling without replacement is correct code (the hidden suites give "
                          "it full marks, as any reasonable style), but the notebook's toy cell "
                          "draws 200 from 5 examples, so the docstring asks for replacement and "
                          "the notebook and the self-check say so",
}


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    rows, control = mutants.measure(workdir=tmp_path_factory.mktemp("mutants"))
    report = ROOT / "build" / "mutants.md"
    report.parent.mkdir(exist_ok=True)
    report.write_text("# Mutants: who catches what\n\n" + mutants.table(rows) + "\n")
    print("\n" + mutants.table(rows))
    return {r["mutant"].name: r for r in rows}, control


def test_every_mutant_applies_once_and_names_a_graded_function(tmp_path):
    from cs239.tools import manifest
    assert all(name == m.name for name, m in corpus.MUTANTS.items())
    with pytest.raises(ValueError, match="two entries named"):      # names are unique
        corpus._by_name([corpus.MUTANTS["relu_ge"]] * 2)
    graded = {f.name for f in manifest.FUNCTIONS}
    assert {m.function for m in mutants.JUDGED} == graded, "every graded function has mutants"
    assert {m.function for m in corpus.MUTANTS.values()} == graded
    for m in corpus.MUTANTS.values():
        corpus.apply(corpus.copy_reference(tmp_path / m.name), m.patches)  # each applies once


def test_the_judges_pass_the_reference_and_correct_alternative_styles(measured):
    _, control = measured
    assert set(control) == {"reference"} | {v.name for v in mutants.CONTROLS}
    wrong = {name: found for name, found in control.items()
             if found != {"notebook": [], "self_check": {}, "hidden": []}}
    assert not wrong, "correct code flagged: %s" % wrong


def test_self_check_flags_what_the_hidden_suites_catch_and_names_the_cause(measured):
    rows, _ = measured
    missed, unnamed = [], []
    for name, r in rows.items():
        notebook, self_check, hidden = mutants.caught(r)
        if hidden and not self_check:
            missed.append(name)
        detail = mutants.describe_result(r["self_check"])
        if self_check and not re.search(r["mutant"].hint, detail):
            unnamed.append("%s: %r does not match %r" % (name, detail, r["mutant"].hint))
    assert not missed, "caught by the hidden suites only: %s" % missed
    assert not unnamed, "the self-check's message does not name the cause:\n" + "\n".join(unnamed)


def test_self_check_is_at_least_as_strong_as_the_notebooks(measured):
    rows, _ = measured
    weaker = [n for n, r in rows.items() if mutants.caught(r)[0] and not mutants.caught(r)[1]]
    assert not weaker, "caught by a notebook's public tests but not by the self-check: %s" % weaker


def test_self_check_and_hidden_suites_disagree_only_where_expected(measured):
    """(The notebooks' public tests miss more: they are the notebook's own checks, kept short;
    the table lists those mutants, and the self-check catches all of them.)"""
    rows, _ = measured
    disagree = {n for n, r in rows.items() if mutants.caught(r)[1] != mutants.caught(r)[2]}
    assert disagree == set(EXPECTED_DISAGREEMENTS)


def test_a_check_failing_because_of_another_function_names_it(measured):
    rows, _ = measured
    for name, dependent in corpus.BLAME:
        result = rows[name]["blame"][dependent]
        assert result["status"] == "fails", (name, dependent, result)
        assert result["detail"].startswith("likely cause: %s " % rows[name]["mutant"].function), \
            (name, dependent, result["detail"])
