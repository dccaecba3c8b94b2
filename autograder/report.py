"""``python -m autograder report OUT``: the instructor's report on a graded batch.

Reads OUT/<submission>/results.json (and code.json, grades.csv when present) and writes
- OUT/report.html: one self-contained page (figures as data URIs, no network): score
  distribution, per-component spread, per graded name the pass rate, mean points, most frequent
  failing tests and diagnosed causes (with a link to an example feedback file), timing and
  health, code similarity (autograder/similarity.py), and what was skipped and why;
- OUT/tests.csv: the submission x test matrix (points, and 1/0 for passed).

Bad input never raises: a missing, corrupt or partial results.json is listed as skipped.
Everything taken from the results (names, test outputs, code) is escaped in the page.
"""
import base64
import csv
import html
import io
import json
import math
import re
import stat
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from . import results as R
from . import similarity as S

TOP = 3                     # failing tests / causes shown per graded name
SLOWEST = 5
SIDE_BY_SIDE = 100          # pairs shown side by side (all are listed in the table)


@dataclass
class Batch:
    out: Path
    rows: list = field(default_factory=list)       # (name, results dict), graded or rejected
    skipped: list = field(default_factory=list)    # (what, why)
    columns: list = field(default_factory=list)    # graded names, in grades.csv order
    extra: dict = field(default_factory=dict)      # {column: {name: points}}: manual parts etc.


# ---------------------------------------------------------------- reading

def _number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _problem(r):
    """Why results dict R cannot be used, or None."""
    if not isinstance(r, dict):
        return "not a JSON object"
    if not _number(r.get("score")):
        return "no numeric 'score'"
    tests = r.get("tests")
    if not isinstance(tests, list):
        return "no list of 'tests'"
    for i, t in enumerate(tests):
        if not (isinstance(t, dict) and isinstance(t.get("name"), str)
                and _number(t.get("score")) and _number(t.get("max_score"))):
            return f"test #{i + 1} lacks a name, score or max_score"
        if not isinstance(t.get("output", ""), str):
            return f"test #{i + 1} has a non-text output"
    meta = r.get("extra_data", {})
    if not isinstance(meta, dict) or not isinstance(meta.get("cs239", {}), dict):
        return "malformed extra_data"
    return None


def _meta(r):
    return r.get("extra_data", {}).get("cs239", {})


def load_batch(out):
    out = Path(out)
    batch = Batch(out)
    try:
        entries = sorted(out.iterdir())
    except OSError as e:
        batch.skipped.append((str(out), f"cannot read the folder ({e.strerror})"))
        return batch
    for d in entries:
        try:
            st = d.lstat()
        except OSError:
            continue
        if d.name.startswith(".") or not stat.S_ISDIR(st.st_mode):
            continue
        p = d / "results.json"
        if not p.exists():
            batch.skipped.append((d.name, "no results.json (grading did not finish?)"))
            continue
        try:
            if not stat.S_ISREG(p.lstat().st_mode):
                raise ValueError("results.json is not a regular file")
            r = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as e:
            batch.skipped.append((d.name, f"results.json unreadable ({e})"))
            continue
        except (ValueError, RecursionError) as e:
            batch.skipped.append((d.name, f"results.json is not valid JSON ({str(e)[:120]})"))
            continue
        why = _problem(r)
        if why:
            batch.skipped.append((d.name, f"results.json: {why}"))
            continue
        batch.rows.append((d.name, r))
    _read_gradebook(batch)
    return batch


def _read_gradebook(batch):
    """Column order from grades.csv; numeric columns no results.json has (manual parts)."""
    seen = R.columns([], [r for _, r in batch.rows])
    path = batch.out / "grades.csv"
    header, table = [], []
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, [])
            table = [row for row in reader if len(row) == len(header)]
    except (OSError, UnicodeDecodeError, csv.Error):
        pass
    order = [c for c in header[1:] if c in seen]
    batch.columns = order + [c for c in seen if c not in order]
    names = {n for n, _ in batch.rows}
    for j, col in enumerate(header):
        if j == 0 or col in seen or col == "total":
            continue
        vals = {}
        for row in table:
            try:
                v = float(row[j])
            except ValueError:
                continue
            if row[0] in names and math.isfinite(v):
                vals[row[0]] = v
        if vals:
            batch.extra[col] = vals


# ---------------------------------------------------------------- analysis

def _per_name(r):
    got, mx = defaultdict(float), defaultdict(float)
    for t in r["tests"]:
        n = R.graded_name(t["name"])
        got[n] += t["score"]
        mx[n] += t["max_score"]
    return got, mx


def _failed(t):
    return t["score"] < t["max_score"]


def cause(output):
    """A short, countable diagnosis from a failing test's message (numbers left out)."""
    text = output.split("\n\nYour code printed:")[0].strip()
    m = re.search(r"looks like (.+?)(?:;|$)", text, re.S)
    if m:
        return "looks like " + " ".join(m.group(1).split()).rstrip(".")
    m = re.search(r"and (\S+) is wrong \(see their own tests\)", text)
    if m:
        return f"{m.group(1)} is wrong (it is called here)"
    first = text.splitlines()[0] if text else "failed (no message)"
    first = first.split("; it is asked for in")[0]
    first = re.sub(r"(?<![\w.])[-+]?\d+(\.\d+)?(e[-+]?\d+)?(?![\w])", "#", first)
    return first[:160]


def analyse_names(batch):
    """Per graded name: pass rate, mean, failing tests and causes (submission counts)."""
    rows = [(n, r) for n, r in batch.rows if _meta(r).get("status", "graded") == "graded"]
    out = []
    for col in batch.columns:
        full, pts, mx = 0, [], 0.0
        tests, causes = defaultdict(list), defaultdict(list)
        for name, r in rows:
            got, maxes = _per_name(r)
            if col not in maxes:
                continue
            mx = max(mx, maxes[col])
            pts.append(got[col])
            full += got[col] >= maxes[col]
            seen = set()
            for t in r["tests"]:
                if R.graded_name(t["name"]) == col and _failed(t):
                    tests[t["name"].split(": ", 1)[-1]].append(name)
                    c = cause(t.get("output", ""))
                    if c not in seen:
                        seen.add(c)
                        causes[c].append(name)
        if not pts:
            continue
        rank = lambda d: sorted(d.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:TOP]  # noqa
        out.append(dict(name=col, n=len(pts), max=mx, pass_rate=full / len(pts),
                        mean=statistics.fmean(pts), tests=rank(tests), causes=rank(causes)))
    return out


TIMEOUT = re.compile(r"did not finish within|used up its total time budget")
CRASH = re.compile(r"worker process died|stopped the worker process|kernel died")
NOT_SCORED = [
    (re.compile(r"^not scored: (.+?)(?: \(|$)", re.S), None),
    (re.compile(r"(\S+\.npz) not found in the submission"), "model file missing"),
    (re.compile(r"(\S+\.npz)\b.*(?:not a valid|cannot be loaded|missing key|has shape)"),
     "model file invalid"),
    (re.compile(r"(\S+\.ipynb) is missing from the submission"), "notebook missing"),
    (re.compile(r"(\S+\.ipynb) is not a valid notebook"), "notebook is not valid JSON/nbformat 4"),
    (re.compile(r"(\S+\.ipynb) was not graded"), "notebook was not graded (kernel died?)"),
]


def analyse_health(batch):
    times, status, timeouts, crashes, unscored = [], Counter(), {}, {}, defaultdict(set)
    for name, r in batch.rows:
        meta = _meta(r)
        status[meta.get("status", "graded")] += 1
        if _number(r.get("execution_time")):
            times.append((r["execution_time"], name))
        for t in r["tests"]:
            out = t.get("output", "")
            if TIMEOUT.search(out):
                timeouts[name] = timeouts.get(name, 0) + 1
            if CRASH.search(out):
                crashes[name] = crashes.get(name, 0) + 1
            for pattern, why in NOT_SCORED:
                m = pattern.search(out)
                if m:
                    what = R.graded_name(t["name"]) if why is None else m.group(1)
                    unscored[name].add((what, why or m.group(1).strip()))
                    break
        if isinstance(r.get("output"), str):
            for line in r["output"].splitlines():
                if line.startswith("Cannot import") and "stopped the worker" in line:
                    crashes[name] = crashes.get(name, 0) + 1
    times.sort(reverse=True)
    return dict(times=times, status=status, timeouts=timeouts, crashes=crashes,
                unscored=unscored)


# ---------------------------------------------------------------- figures

def _png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    import matplotlib.pyplot as plt
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _mpl_at_least(*version):
    import matplotlib
    return tuple(int(x) for x in re.findall(r"\d+", matplotlib.__version__)[:2]) >= version


def figures(batch):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    graded = [r for _, r in batch.rows if _meta(r).get("status", "graded") == "graded"]
    figs = {}
    if graded:
        fig, ax = plt.subplots(figsize=(7, 3))
        mx = max(_meta(r).get("max_score", 0) or 0 for r in graded) or None
        scores = [r["score"] for r in graded]
        ax.hist(scores, bins=min(30, max(5, len(scores) // 3)),
                range=(0, mx) if mx else None, color="#4c72b0", edgecolor="white")
        ax.set_xlabel("total score" + (f" (of {mx:g})" if mx else ""))
        ax.set_ylabel("submissions")
        fig.tight_layout()
        figs["hist"] = _png(fig)
        comps, data = [], []
        for col in batch.columns:
            vals = []
            for r in graded:
                got, maxes = _per_name(r)
                if maxes.get(col):
                    vals.append(100 * got[col] / maxes[col])
            if vals:
                comps.append(col)
                data.append(vals)
        for col, vals in batch.extra.items():
            top = max(vals.values())
            if top > 0:
                comps.append(f"{col} (manual)")
                data.append([100 * v / top for v in vals.values()])
        if comps:
            fig, ax = plt.subplots(figsize=(7, 0.28 * len(comps) + 1))
            horizontal = ({"orientation": "horizontal"} if _mpl_at_least(3, 10)
                          else {"vert": False})
            ax.boxplot(data[::-1], widths=0.6, showmeans=True, **horizontal)
            ax.set_yticks(range(1, len(comps) + 1), comps[::-1], fontsize=8)
            ax.set_xlabel("% of the component's points (box: quartiles; triangle: mean)")
            ax.set_xlim(-5, 105)
            fig.tight_layout()
            figs["spread"] = _png(fig)
    times = [t for t, _ in analyse_health(batch)["times"]]
    if times:
        fig, ax = plt.subplots(figsize=(7, 2.5))
        ax.hist(times, bins=min(30, max(5, len(times) // 3)), color="#55a868",
                edgecolor="white")
        ax.set_xlabel("grading time per submission (s)")
        ax.set_ylabel("submissions")
        fig.tight_layout()
        figs["times"] = _png(fig)
    return figs


# ---------------------------------------------------------------- similarity input

def load_codes(batch):
    codes, skipped = {}, []
    for name, r in batch.rows:
        if _meta(r).get("status") == "bad_input":
            continue
        code, why = S.load_code(batch.out / name, _meta(r).get("sha256"))
        if code is None:
            skipped.append((name, why))
        else:
            codes[name] = code
    return codes, skipped


# ---------------------------------------------------------------- tests.csv

def tests_csv(batch):
    """One row per submission (after a row of maxima), two columns per test: points, passed."""
    maxes = {}
    for _, r in batch.rows:
        for t in r["tests"]:
            maxes[t["name"]] = max(maxes.get(t["name"], 0.0), t["max_score"])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["submission"] + [c for n in maxes for c in (n, n + " [passed]")])
    w.writerow(["max_score"] + [c for m in maxes.values() for c in (f"{m:g}", "")])
    for sub, r in batch.rows:
        by = {t["name"]: t for t in r["tests"]}
        cells = []
        for n in maxes:
            t = by.get(n)
            cells += ["", ""] if t is None else [f"{t['score']:g}", str(int(not _failed(t)))]
        w.writerow([sub] + cells)
    return buf.getvalue()


# ---------------------------------------------------------------- HTML

e = html.escape


def _link(name, text=None):
    return '<a href="%s/feedback.md">%s</a>' % (quote(name), e(text or name))


CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ddd;padding:3px 7px;
vertical-align:top;text-align:left}th{background:#f4f4f4}td.num{text-align:right}
ul.counts{margin:0;padding-left:1.1em}.note{background:#fff8e0;border:1px solid #e8d38a;
padding:.6em 1em}.side{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:1em}
.passage .where{font-weight:600;font-size:12px;margin-top:.6em}
pre{background:#f7f7f7;padding:.4em;overflow-x:auto;font-size:12px;margin:0}
mark{background:#ffd27a}img{max-width:100%}.muted{color:#777}
"""


def _counts(items, total):
    if not items:
        return '<span class="muted">none</span>'
    li = []
    for label, subs in items:
        li.append("<li>%d of %d: %s (e.g. %s)</li>" % (len(subs), total, e(label),
                                                      _link(sorted(subs)[0])))
    return '<ul class="counts">%s</ul>' % "".join(li)


def _section_scores(batch, figs):
    graded = [r for _, r in batch.rows if _meta(r).get("status", "graded") == "graded"]
    h = ['<h2 id="scores">Score distribution</h2>']
    if not graded:
        return h + ["<p>No graded submission.</p>"]
    scores = sorted(r["score"] for r in graded)
    mx = max(_meta(r).get("max_score", 0) or 0 for r in graded)
    h.append("<p>%d graded submissions, out of %g points: mean %.1f, median %.1f, "
             "lowest %g, highest %g.</p>" % (len(scores), mx, statistics.fmean(scores),
                                             statistics.median(scores), scores[0], scores[-1]))
    h.append('<img id="score-histogram" alt="histogram of total scores" src="%s">' % figs["hist"])
    if "spread" in figs:
        h.append('<h2 id="spread">Per-component spread</h2><p>Each graded function, notebook'
                 "%s: the share of its points each submission earned.</p>"
                 % (" and manual part" if batch.extra else " and the best models"))
        h.append('<img id="component-spread" alt="per-component spread" src="%s">'
                 % figs["spread"])
    return h


def _section_names(batch):
    stats = analyse_names(batch)
    h = ['<h2 id="per-name">Per graded name</h2>',
         "<p>Pass rate: submissions with every test of the name passed. Failing tests and "
         "diagnosed causes count submissions (a cause counts once per submission); the link "
         "opens an example submission's feedback.md.</p>",
         '<table id="per-function"><tr><th>graded name</th><th>points</th><th>pass rate</th>'
         "<th>mean points</th><th>most frequent failing tests</th><th>diagnosed causes</th>"
         "</tr>"]
    for s in stats:
        h.append('<tr><td>%s</td><td class="num">%g</td><td class="num">%.0f%%</td>'
                 '<td class="num">%.2f</td><td>%s</td><td>%s</td></tr>'
                 % (e(s["name"]), s["max"], 100 * s["pass_rate"], s["mean"],
                    _counts(s["tests"], s["n"]), _counts(s["causes"], s["n"])))
    h.append("</table>")
    return h


def _section_health(batch, figs):
    hl = analyse_health(batch)
    h = ['<h2 id="health">Timing and health</h2>']
    st = ", ".join(f"{n} {e(k)}" for k, n in sorted(hl["status"].items()))
    h.append(f"<p>Status: {st or 'nothing graded'}.</p>")
    times = [t for t, _ in hl["times"]]
    if times:
        q = sorted(times)
        h.append("<p>Grading time per submission: median %.1f s, 90th percentile %.1f s, "
                 "longest %.1f s, %.0f s in all (CPU of parallel jobs overlaps). Slowest: %s."
                 "</p>" % (statistics.median(q), q[min(len(q) - 1, int(0.9 * len(q)))], q[-1],
                           sum(q), ", ".join("%s (%.1f s)" % (_link(n), t)
                                             for t, n in hl["times"][:SLOWEST])))
        h.append('<img id="grading-times" alt="grading time histogram" src="%s">'
                 % figs["times"])
    bad = [(n, r) for n, r in batch.rows if _meta(r).get("status") in ("bad_input",
                                                                       "internal_error")]
    if bad:
        h.append("<h3>Rejected or not graded</h3><ul>")
        for n, r in bad:
            h.append("<li>%s: %s &mdash; %s</li>" % (_link(n), e(_meta(r).get("status", "")),
                                                     e(r.get("output", "")[:300])))
        h.append("</ul>")
    for key, title in (("timeouts", "Timeouts (tests stopped for time)"),
                       ("crashes", "Crashes (worker or kernel died, module stopped the worker)")):
        items = sorted(hl[key].items(), key=lambda kv: (-kv[1], kv[0]))
        h.append("<h3>%s: %d submissions</h3>" % (title, len(items)))
        if items:
            h.append("<ul>%s</ul>" % "".join("<li>%s: %d tests</li>" % (_link(n), c)
                                              for n, c in items))
    h.append("<h3>Notebooks or models not scored: %d submissions</h3>" % len(hl["unscored"]))
    if hl["unscored"]:
        h.append('<table id="not-scored"><tr><th>submission</th><th>what</th><th>why</th></tr>')
        for n in sorted(hl["unscored"]):
            for what, why in sorted(hl["unscored"][n]):
                h.append("<tr><td>%s</td><td>%s</td><td>%s</td></tr>" % (_link(n), e(what),
                                                                         e(why)))
        h.append("</table>")
    return h


def _section_similarity(pairs, stats, skipped):
    h = ['<h2 id="similarity">Code similarity</h2>',
         '<p class="note"><b>These pairs are leads for a person to read, never a penalty.</b> '
         "Similar code has innocent causes (the same textbook idiom, a shared study group, "
         "code from the lecture); decide only after reading both submissions and talking with "
         "the students.</p>",
         "<p>Compared: what each student wrote in the stubbed <code>cs239/</code> files and the "
         "notebooks' code solution cells (the release's starter code is removed). Method: "
         "winnowing fingerprints (the method of MOSS) from the <code>copydetect</code> package "
         "on tokenized code, so renamed variables, changed comments or reformatting do not hide "
         "a copy. Passages found in more than %d submissions are treated as common idioms and "
         "ignored. A pair is listed when matching passages of at least %d tokens cover at least "
         "%.0f%% of either submission's own code; the percentages give that share for each side."
         "</p>" % (S.MAX_SHARED, S.MIN_OVERLAP, 100 * S.THRESHOLD)]
    if stats is None:
        return h + ["<p>Similarity was not computed (<code>--no-similarity</code>).</p>"]
    h.append("<p>%d submissions with code of their own compared (%d without any), "
             "%d pairs shared a passage, %d listed.</p>"
             % (stats["compared"], stats["without_code"], stats["candidates"], len(pairs)))
    if pairs:
        h.append('<table id="similar-pairs"><tr><th>#</th><th>submission A</th><th>share of A'
                 "</th><th>submission B</th><th>share of B</th><th>matching tokens</th></tr>")
        for i, p in enumerate(pairs, 1):
            num = '<a href="#pair-%d">%d</a>' % (i, i) if i <= SIDE_BY_SIDE else str(i)
            h.append('<tr><td>%s</td><td>%s</td><td class="num">%.0f%%'
                     '</td><td>%s</td><td class="num">%.0f%%</td><td class="num">%d</td></tr>'
                     % (num, e(p.a), 100 * p.sim_a, e(p.b), 100 * p.sim_b, p.overlap))
        h.append("</table>")
        if len(pairs) > SIDE_BY_SIDE:
            h.append("<p>The first %d pairs are shown side by side below.</p>" % SIDE_BY_SIDE)
        for i, p in enumerate(pairs[:SIDE_BY_SIDE], 1):
            h.append('<details id="pair-%d"><summary>pair %d: %s and %s</summary>'
                     '<div class="side"><div><h4>%s</h4>%s</div><div><h4>%s</h4>%s</div></div>'
                     "</details>" % (i, i, e(p.a), e(p.b), e(p.a), p.html_a, e(p.b), p.html_b))
    if skipped:
        h.append("<p>Not compared:</p><ul>%s</ul>" % "".join(
            "<li>%s: %s</li>" % (e(n), e(w)) for n, w in skipped))
    return h


def render(batch, figs, pairs, sim_stats, code_skipped, seconds):
    title = "Grading report: %s" % batch.out.name
    h = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
         "<title>%s</title><style>%s</style></head><body>" % (e(title), CSS),
         "<h1>%s</h1>" % e(title),
         '<p class="muted">%d submissions, %d skipped. Written %s in %.1f s. The submission x '
         'test matrix is in <a href="tests.csv">tests.csv</a>; the gradebook in '
         '<a href="grades.csv">grades.csv</a>.</p>'
         % (len(batch.rows), len(batch.skipped), time.strftime("%Y-%m-%d %H:%M"), seconds),
         '<p><a href="#scores">scores</a> &middot; <a href="#per-name">per graded name</a> '
         '&middot; <a href="#health">timing and health</a> &middot; <a href="#similarity">'
         'similarity</a> &middot; <a href="#skipped">skipped</a></p>']
    h += _section_scores(batch, figs)
    h += _section_names(batch)
    h += _section_health(batch, figs)
    h += _section_similarity(pairs, sim_stats, code_skipped)
    h.append('<h2 id="skipped">Skipped</h2>')
    if batch.skipped:
        h.append('<ul id="skipped-list">%s</ul>' % "".join(
            "<li>%s: %s</li>" % (e(n), e(w)) for n, w in batch.skipped))
    else:
        h.append("<p>Nothing: every submission folder had a usable results.json.</p>")
    h.append("</body></html>")
    return "\n".join(h)


def write_report(out, similarity=True):
    """Write OUT/report.html and OUT/tests.csv; return the report's path."""
    t0 = time.monotonic()
    out = Path(out)
    batch = load_batch(out)
    figs = figures(batch)
    pairs, sim_stats, code_skipped = [], None, []
    if similarity:
        codes, code_skipped = load_codes(batch)
        pairs, sim_stats = S.find_pairs(codes)
    R.atomic_write(out / "tests.csv", tests_csv(batch))
    page = render(batch, figs, pairs, sim_stats, code_skipped, time.monotonic() - t0)
    R.atomic_write(out / "report.html", page)
    return out / "report.html"


def after_grade(out):
    """Called at the end of `grade`: write the report, print its path; never fail the batch."""
    try:
        path = write_report(out)
    except Exception as exc:  # noqa: BLE001 - the grades are written; the report is extra
        print(f"report: not written ({type(exc).__name__}: {exc}); "
              f"run `python -m autograder report {out}`", file=sys.stderr)
        return None
    print(f"report: {path}")
    return path


def main(args):
    out = Path(args.out)
    if not out.is_dir():
        print(f"error: {out} is not a folder of graded submissions", file=sys.stderr)
        return 2
    path = write_report(out, similarity=args.similarity)
    print(f"report: {path}")
    return 0
