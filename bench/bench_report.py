"""The instructor's report (autograder/report.py) on 500 synthetic graded submissions.

Each synthetic submission is the reference package with 0 to 3 random variants applied (the
single-bug mutants and correct alternative styles of tests/corpus and the demo's planted
bugs; ``variant_patches`` is the one place to swap in another corpus), a few
untouched releases, a few pairs that share a renamed copy, and a results.json whose failing
tests follow the variants applied. code.json is written as the grade step writes it
(similarity.save_code's content; the per-passage tokenization is cached across submissions
here, since at grade time it is paid once per submission: measured separately below).

Reported: seconds for `write_report` on 500 submissions, similarity included (target < 30 s on
2 cores), its similarity share, and the grade-time cost of saving one submission's code.
"""
import json
import random
import re
import shutil
import tempfile
import time
from pathlib import Path

from autograder import report as REP
from autograder import results as R
from autograder import similarity as S

ROOT = Path(__file__).resolve().parents[1]
N_SUBMISSIONS = 500
SEED = 239


def variant_patches():
    """[(name, [(path like cs239/layers.py, old text, new text)], failing graded names)]: the
    one place to swap in another corpus of variants."""
    from tests import corpus
    from tools import demo

    def pkg(patches):
        return [("cs239/" + rel, old, new) for rel, old, new in patches]
    # the mutants the hidden suites are known to catch (in their own column only)
    out = [(m.name, pkg(m.patches), [m.function]) for m in corpus.MUTANTS.values() if m.expect]
    out += [(v.name, pkg(v.patches), []) for v in corpus.VARIANTS.values()]
    out += [(name, [(rel, good, bad)], [n for n, g in (("bug-softmax-no-mean", "softmax_loss"),
            ("bug-relu-mask-from-dout", "relu_backward"), ("bug-adam-no-bias-correction",
                                                           "adam")) if n == name])
            for name, rel, good, bad in demo.BUGS]
    return out


def _suite_tests():
    """(test name, points) of the hidden suites, read from their graded markers."""
    marker = re.compile(r'@(?:pytest\.mark\.)?graded\(\s*"([^"]+)"(?:,\s*points=([\d.]+))?')
    tests = []
    for p in sorted((ROOT / "autograder" / "suites").glob("test_*.py")):
        tests += [(m.group(1), float(m.group(2) or 1)) for m in marker.finditer(p.read_text())]
    return tests


def _apply(files, patches):
    files = dict(files)
    for rel, old, new in patches:
        if files.get(rel, "").count(old) == 1:
            files[rel] = files[rel].replace(old, new)
    return files


def build(out, rng):
    """Write N_SUBMISSIONS graded folders into OUT; return their count."""
    from copydetect.utils import filter_code
    starters, _ = S._release_sources(S.RELEASE)
    reference = {rel: (ROOT / rel).read_text() for rel in starters}
    variants = variant_patches()
    tests = _suite_tests()
    passage_cache, filter_cache = {}, {}

    def code_of(files):
        passages = []
        for rel, text in files.items():
            key = (rel, text)
            if key not in passage_cache:
                passage_cache[key] = S.file_passages(rel, starters[rel], text)
            passages += passage_cache[key]
        pieces = []
        for p in passages:
            if p["text"] not in filter_cache:
                filter_cache[p["text"]] = filter_code(p["text"] + "\n", "code.py")
            pieces.append(filter_cache[p["text"]])
        return {"passages": passages, "notes": [], "tokens": S.tokenize(passages, pieces)}

    from tests.report_fixtures.independent import disguise
    for i in range(N_SUBMISSIONS):
        name = f"student{i:03d}"
        kind = rng.random()
        chosen = rng.sample(variants, rng.randint(0, 3))
        if kind < 0.04:
            files, chosen = dict(starters), []                      # untouched release
        else:
            files = _apply(reference, [p for _, ps, _ in chosen for p in ps])
            if i % 50 == 1:                                          # a renamed copy of i - 1
                files = {rel: disguise(t) for rel, t in files.items()}
        failing = {g for _, _, gs in chosen for g in gs}
        res_tests = []
        for tname, pts in tests:
            g = R.graded_name(tname)
            bad = kind < 0.04 or g in failing
            cause = next((n for n, _, gs in chosen if g in gs), "")
            why = ("not implemented yet (NotImplementedError)" if kind < 0.04 else
                   f"max relative error 1e-0{rng.randint(1, 9)}; looks like "
                   + cause.replace("_", " "))
            res_tests.append(dict(name=tname, score=0.0 if bad else pts, max_score=pts,
                                  output=why if bad else "", visibility="visible"))
        if rng.random() < 0.02:
            res_tests[0]["score"], res_tests[0]["output"] = 0.0, "did not finish within 20 s"
        res = R.build(res_tests, [], rng.uniform(2, 20), {"status": "graded", "sha256": name})
        d = out / name
        d.mkdir()
        (d / "results.json").write_text(json.dumps(res))
        (d / "feedback.md").write_text(R.feedback_md(name, res))
        code = code_of(files)
        code.update(format=S.CODE_FORMAT, sha256=name)
        (d / S.CODE_FILE).write_text(json.dumps(code))
    return N_SUBMISSIONS


def _save_code_seconds(tmp):
    """Grade-time cost: save_code on a filled-in release (no cache), median of 5."""
    from tools.release import fill_in
    sub = fill_in(S.RELEASE, tmp / "one")
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        S.save_code(sub, tmp / "one-out", "x")
        times.append(time.perf_counter() - t0)
    return sorted(times)[2]


def main():
    rng = random.Random(SEED)
    tmp = Path(tempfile.mkdtemp(prefix="cs239-bench-report-"))
    try:
        out = tmp / "graded"
        out.mkdir()
        t0 = time.perf_counter()
        n = build(out, rng)
        print(f"built {n} synthetic graded submissions in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        batch = REP.load_batch(out)
        codes, _ = REP.load_codes(batch)
        t_sim = time.perf_counter()
        pairs, stats = S.find_pairs(codes)
        t_sim = time.perf_counter() - t_sim
        print(f"similarity alone: {t_sim:.1f} s, {len(pairs)} pairs flagged, {stats}")
        t0 = time.perf_counter()
        REP.write_report(out)
        total = time.perf_counter() - t0
        size = (out / "report.html").stat().st_size
        print(f"report for {n} submissions: {total:.1f} s (target < 30 s), "
              f"report.html {size / 1e6:.1f} MB")
        save = _save_code_seconds(tmp)
        print(f"grade step, saving one submission's code: {save * 1000:.0f} ms")
        return [{"what": f"report, {n} submissions (incl. similarity)", "seconds": total,
                 "target_s": 30.0, "ratio": total / 30.0},
                {"what": "similarity alone (find_pairs)", "seconds": t_sim},
                {"what": "save_code per submission (grade step)", "seconds": save}]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
