"""Grading past one machine: ``grade ... --shard K/N`` grades one slice of the submissions,
``merge OUT1 OUT2 ... --out OUT`` joins the slices' folders into one gradebook.

Every machine (or Slurm array task) is given the same full list of submissions. A submission
belongs to shard ``1 + sha256(name) mod N``, where name is its results folder's name (the file
name without ``.zip``; duplicates get ``-2``, ``-3`` in sorted path order). So the split does not
depend on the order of the arguments, and a late submission added to the list moves no other
one: re-running the array grades only what is new (the rest is cached in each shard's folder).

Each shard writes ``shard.json`` into its folder: its spec, the full list of names and sources,
the grader fingerprint (suites, grader, reference, limits) and the graded names. ``merge``
refuses, naming the folders, shards cut from different lists of names (the sources may lie at
other paths on each machine), graded with different
fingerprints or N, a shard given twice, a missing shard, and a shard with a submission that has
no results; otherwise it copies every submission's folder and writes ``grades.csv`` and
``summary.txt``.
"""
import argparse
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

from . import results as R

SHARD_FILE = "shard.json"
SUMMARY_FILE = "summary.txt"


def parse_spec(text):
    """'K/N' -> (K, N) with 1 <= K <= N (an argparse type)."""
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected K/N (e.g. 1/4), got {text!r}")
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(
            f"shard {text}: K counts from 1 to N (e.g. --shard 1/4 ... --shard 4/4; for a "
            f"Slurm array use --array=1-N)")
    return k, n


def shard_of(name, n):
    """The shard (1..n) a submission named NAME belongs to."""
    return 1 + int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") % n


def select(srcs, spec, ctx, graded_names, names_of):
    """The (sources, names) of shard SPEC=(K, N) out of all of SRCS; records the shard in
    ctx.out/shard.json (refusing a folder that holds another shard). NAMES_OF: the grader's
    function that gives each source its results folder's name."""
    k, n = spec
    everything = sorted(srcs, key=str)
    names = names_of(everything)
    record = {"shard": f"{k}/{n}", "k": k, "n": n, "fingerprint": ctx.fp,
              "graded_names": list(graded_names),
              "submissions": [{"name": s, "source": str(p)} for s, p in zip(names, everything)]}
    path = ctx.out / SHARD_FILE
    old = R.load(path)
    if isinstance(old, dict) and (old.get("k"), old.get("n")) != (k, n):
        print(f"error: {ctx.out} holds shard {old.get('shard')}, not {k}/{n}: give each shard "
              "its own --out folder", file=sys.stderr)
        raise SystemExit(2)
    R.atomic_write(path, json.dumps(record, indent=1))
    mine = [(p, s) for p, s in zip(everything, names) if shard_of(s, n) == k]
    print(f"shard {k}/{n}: {len(mine)} of {len(everything)} submissions", file=sys.stderr)
    return [p for p, _ in mine], [s for _, s in mine]


def _load_shard(folder):
    if not folder.is_dir():
        raise ValueError(f"{folder}: no such folder")
    record = R.load(folder / SHARD_FILE)
    if record is None:
        raise ValueError(f"{folder} has no readable {SHARD_FILE}: it was not graded with "
                         "--shard K/N")
    damaged = ValueError(f"{folder / SHARD_FILE} is damaged")
    if not isinstance(record, dict) or {"shard", "k", "n", "fingerprint", "graded_names",
                                        "submissions"} - set(record):
        raise damaged
    k, n = record["k"], record["n"]
    if not (isinstance(k, int) and isinstance(n, int) and 1 <= k <= n):
        raise damaged
    try:
        names = [s["name"] for s in record["submissions"]]
        record["members"] = [s for s in names if shard_of(s, record["n"]) == record["k"]]
    except (KeyError, TypeError, AttributeError):
        raise damaged
    if any(not isinstance(s, str) or not s or "/" in s or s.startswith(".") for s in names):
        raise damaged                          # only plain folder names are merged
    return record


def _names(record):
    return sorted(s["name"] for s in record["submissions"])


def check_shards(folders):
    """{folder: shard record} for a complete, consistent set of shard folders; ValueError
    with every problem otherwise."""
    records, problems = {}, []
    for f in folders:
        try:
            records[f] = _load_shard(f)
        except ValueError as e:
            problems.append(str(e))
    if problems:
        raise ValueError("\n".join(problems))
    first_folder, first = next(iter(records.items()))
    for f, r in records.items():
        if r["n"] != first["n"]:
            problems.append(f"{f} is shard {r['shard']} but {first_folder} is shard "
                            f"{first['shard']}: all shards must use the same N")
        elif r["fingerprint"] != first["fingerprint"]:
            problems.append(f"{f} and {first_folder} were graded by different versions of the "
                            "suites, grader, reference or limits: re-grade one of them")
        elif _names(r) != _names(first):      # sources may sit elsewhere on each machine
            a, b = set(_names(first)), set(_names(r))
            diff = "; ".join(x for x in (
                f"only in {f}: {', '.join(sorted(b - a))}" if b - a else "",
                f"only in {first_folder}: {', '.join(sorted(a - b))}" if a - b else "") if x)
            problems.append(f"{f} and {first_folder} were cut from different lists of "
                            f"submissions ({diff or 'the same names, told apart differently'}):"
                            " grade every shard with the same list")
    if problems:
        raise ValueError("\n".join(problems))
    by_k = {}
    for f, r in records.items():
        by_k.setdefault(r["k"], []).append(f)
    n = first["n"]
    for k, fs in sorted(by_k.items()):
        if len(fs) > 1:
            problems.append(f"shard {k}/{n} given more than once: {', '.join(map(str, fs))}")
    missing = [f"{k}/{n}" for k in range(1, n + 1) if k not in by_k]
    if missing:
        problems.append(f"missing shard(s) {', '.join(missing)} (every shard 1/{n} to {n}/{n} "
                        "is needed)")
    for f, r in records.items():
        lost = [s for s in r["members"] if R.load(f / s / "results.json") is None]
        if lost:
            problems.append(f"{f} (shard {r['shard']}) has no results for {len(lost)} of its "
                            f"{len(r['members'])} submissions ({', '.join(lost[:5])}"
                            f"{', ...' if len(lost) > 5 else ''}): re-run that shard")
    if problems:
        raise ValueError("\n".join(problems))
    return records


def summary(rows):
    """The summary table of (name, results) rows: score, time, status."""
    w = max([10] + [len(s) for s, _ in rows])
    lines = [f"{'submission':<{w}}  {'score':>14}  {'time':>7}  status"]
    for stem, res in rows:
        meta = res.get("extra_data", {}).get("cs239", {})
        lines.append(f"{stem:<{w}}  {res['score']:>6g} / {meta.get('max_score', 0):<5g}  "
                     f"{res.get('execution_time', 0):>6.1f}s  {meta.get('status', '?')}")
    return "\n".join(lines) + "\n"


def merge(folders, out):
    """Join shard folders into OUT; returns the exit status (2: refused, with the reasons)."""
    folders = [Path(f).resolve() for f in folders]
    out = Path(out).resolve()
    if out in folders:
        print(f"error: --out {out} is one of the shard folders; merge into a new one",
              file=sys.stderr)
        return 2
    try:
        records = check_shards(folders)
    except ValueError as e:
        print(f"error: cannot merge:\n{e}", file=sys.stderr)
        return 2
    os.umask(0o077)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for f, r in records.items():
        for name in r["members"]:
            tmp = out / f".{name}.merging"
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.copytree(f / name, tmp, symlinks=True)
            shutil.rmtree(out / name, ignore_errors=True)
            tmp.rename(out / name)
            rows.append((name, R.load(out / name / "results.json")))
    rows.sort()
    first = next(iter(records.values()))
    R.atomic_write(out / "grades.csv", R.grades_csv(first["graded_names"], rows))
    table = summary(rows)
    R.atomic_write(out / SUMMARY_FILE, table)
    R.atomic_write(out / "merged.json", json.dumps(
        {"shards": {str(f): r["shard"] for f, r in records.items()},
         "fingerprint": first["fingerprint"], "submissions": first["submissions"]}, indent=1))
    print(table)
    print(f"merged {len(folders)} shards, {len(rows)} submissions: grades in {out}/grades.csv, "
          f"summary in {out}/{SUMMARY_FILE}")
    return 0


def add_arguments(grade_parser, subparsers):
    """--shard for `grade`, and the `merge` subcommand."""
    grade_parser.add_argument(
        "--shard", type=parse_spec, metavar="K/N",
        help="grade only slice K of N of the submissions (same list on every machine; "
             "then `merge` the --out folders)")
    m = subparsers.add_parser("merge", help="join the --out folders of `grade --shard` runs")
    m.add_argument("shards", nargs="+", metavar="SHARD_OUT")
    m.add_argument("--out", required=True, metavar="DIR")
