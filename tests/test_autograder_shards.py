"""Grading past one machine: `grade --shard K/N` grades a deterministic slice, `merge` joins the
slices into one gradebook and refuses incomplete or inconsistent sets of shards."""
import json
import random
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from autograder import batch, cli, shards
from autograder import results as R
from tests.autograder_fixtures.build_submissions import grade, make_submission

NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
         "mallory", "oscar", "peggy", "trent", "victor", "walter"]


def test_shard_spec():
    assert shards.parse_spec("1/4") == (1, 4) and shards.parse_spec("4/4") == (4, 4)
    for bad in ("0/4", "5/4", "1", "a/b", "1/0", "-1/4"):
        with pytest.raises(Exception) as e:
            shards.parse_spec(bad)
        assert "K/N" in str(e.value) or "from 1 to N" in str(e.value)


def _select(tmp_path, srcs, k, n, fp="fp"):
    out = tmp_path / f"out{k}of{n}"
    out.mkdir(exist_ok=True)
    ctx = SimpleNamespace(out=out, fp=fp)
    return shards.select(srcs, (k, n), ctx, ["f"], batch._stems)


def test_shards_partition_the_batch_whatever_the_argument_order(tmp_path):
    # two files named the same in different folders: names given in sorted path order
    srcs = [tmp_path / "in" / f"{s}.zip" for s in NAMES] + [tmp_path / "late" / "alice.zip"]
    n = 4
    picked = {}
    for k in range(1, n + 1):
        got = _select(tmp_path, srcs, k, n)
        for order in range(3):
            shuffled = srcs[:]
            random.Random(order).shuffle(shuffled)
            again = _select(tmp_path, shuffled, k, n)
            assert sorted(zip(*again)) == sorted(zip(*got))
        picked[k] = dict(zip(got[1], got[0]))
    every = [name for k in picked for name in picked[k]]
    assert sorted(every) == sorted(NAMES + ["alice-2"])               # each exactly once
    assert all(picked[k] for k in picked)                            # none empty here
    where = {name: src for k in picked for name, src in picked[k].items()}
    assert where["alice"] == srcs[0] and where["alice-2"] == srcs[-1]
    record = json.loads((tmp_path / "out2of4" / "shard.json").read_text())
    assert record["shard"] == "2/4" and len(record["submissions"]) == len(srcs)


def test_a_late_submission_moves_no_other_one():
    before = {s: shards.shard_of(s, 5) for s in NAMES}
    assert before == {s: shards.shard_of(s, 5) for s in NAMES + ["zoe"] if s != "zoe"}


def test_a_folder_keeps_its_shard(tmp_path):
    srcs = [tmp_path / f"{s}.zip" for s in NAMES]
    _select(tmp_path, srcs, 1, 3)
    (tmp_path / "out1of3").rename(tmp_path / "out2of3")      # 2/3 into 1/3's folder
    with pytest.raises(SystemExit):
        _select(tmp_path, srcs, 2, 3)
    _select(tmp_path, srcs, 1, 3)                              # a fresh folder is fine


# ------------------------------------------------------------------------------ merge refuses
def fake_shards(tmp_path, n, names=NAMES, fp="fp", skip_results=()):
    """Shard folders as `grade --shard k/n` leaves them, with made-up results."""
    subs = [{"name": s, "source": f"/subs/{s}.zip"} for s in names]
    folders = []
    for k in range(1, n + 1):
        f = tmp_path / f"shard{k}"
        f.mkdir(parents=True)
        (f / "shard.json").write_text(json.dumps({
            "shard": f"{k}/{n}", "k": k, "n": n, "fingerprint": fp, "graded_names": ["f", "g"],
            "submissions": subs}))
        for s in names:
            if shards.shard_of(s, n) == k and s not in skip_results:
                (f / s).mkdir()
                res = R.build([{"name": "f: works", "score": len(s), "max_score": 10,
                                "output": "", "visibility": "visible", "status": "passed"}],
                              [], 1.0, {"status": "graded"})
                (f / s / "results.json").write_text(json.dumps(res))
                (f / s / "feedback.md").write_text("feedback " + s)
        folders.append(f)
    return folders


def merge(folders, out):
    return cli.main(["merge", *map(str, folders), "--out", str(out)])


def test_merge_joins_the_shards(tmp_path, capsys):
    folders = fake_shards(tmp_path, 3)
    assert merge(folders, tmp_path / "all") == 0
    rows = (tmp_path / "all" / "grades.csv").read_text().splitlines()
    assert rows[0] == "submission,f,g,total"
    assert rows[1:] == ["%s,%d,0,%d" % (s, len(s), len(s)) for s in sorted(NAMES)]
    assert (tmp_path / "all" / "heidi" / "feedback.md").read_text() == "feedback heidi"
    summary = (tmp_path / "all" / "summary.txt").read_text()
    assert all(s in summary for s in NAMES) and summary in capsys.readouterr().out


@pytest.mark.parametrize("case", ["missing", "twice", "no results", "other list", "other N",
                                  "other grader", "not a shard", "out is a shard"])
def test_merge_refuses(tmp_path, capsys, case):
    folders = fake_shards(tmp_path / "a", 3)
    expect = {"missing": "missing shard(s) 2/3", "twice": "shard 1/3 given more than once",
              "no results": "has no results for 1 of its", "other list": "only in",
              "other N": "all shards must use the same N", "other grader": "different versions",
              "not a shard": "was not graded with --shard", "out is a shard": "merge into a new"}
    out = tmp_path / "all"
    if case == "missing":
        folders = [folders[0], folders[2]]
    elif case == "twice":
        shutil.copytree(folders[0], tmp_path / "copy")
        folders.append(tmp_path / "copy")
    elif case == "no results":
        victim = next(s for s in NAMES if shards.shard_of(s, 3) == 2)
        folders = fake_shards(tmp_path / "b", 3, skip_results=[victim])
        expect[case] += " %d submissions (%s)" % (
            sum(shards.shard_of(s, 3) == 2 for s in NAMES), victim)
    elif case == "other list":
        folders[1] = fake_shards(tmp_path / "b", 3, names=NAMES + ["zoe"])[1]
        expect[case] = "only in %s: zoe" % folders[1]
    elif case == "other N":
        folders[1] = fake_shards(tmp_path / "b", 4)[1]
    elif case == "other grader":
        folders[1] = fake_shards(tmp_path / "b", 3, fp="other")[1]
    elif case == "not a shard":
        (folders[1] / "shard.json").unlink()
    elif case == "out is a shard":
        out = folders[0]
    assert merge(folders, out) == 2
    err = capsys.readouterr().err
    assert expect[case] in err, err
    assert not (out / "grades.csv").exists()


def test_merge_refuses_a_damaged_shard_file(tmp_path, capsys):
    folders = fake_shards(tmp_path, 2)
    record = json.loads((folders[0] / "shard.json").read_text())
    record["submissions"][0]["name"] = "../../etc"
    (folders[0] / "shard.json").write_text(json.dumps(record))
    assert merge(folders, tmp_path / "all") == 2
    assert "shard.json is damaged" in capsys.readouterr().err


# ------------------------------------------------------------------------- for real, end to end
STUB = "def affine_forward(x, w, b):\n    raise NotImplementedError\n"


def test_sharded_grading_merges_into_the_unsharded_gradebook(tmp_path):
    subs = [make_submission(tmp_path / "subs", name, {"layers.py": STUB} if "stub" in name
                            else None) for name in ("ref", "stub", "ref2", "stub2")]
    grade(subs, tmp_path / "whole")
    outs = []
    for k in (1, 2):
        outs.append(tmp_path / f"shard{k}")
        p = grade(list(reversed(subs)) if k == 2 else subs, outs[-1], "--shard", f"{k}/2")
        assert f"shard {k}/2:" in p.stderr
    graded = sorted(d.name for o in outs for d in o.iterdir() if d.is_dir())
    assert graded == ["ref", "ref2", "stub", "stub2"]
    assert cli.main(["merge", *map(str, outs), "--out", str(tmp_path / "merged")]) == 0
    assert ((tmp_path / "merged" / "grades.csv").read_text()
            == (tmp_path / "whole" / "grades.csv").read_text())


def test_merge_takes_shards_graded_on_machines_with_other_paths(tmp_path):
    folders = fake_shards(tmp_path, 2)
    record = json.loads((folders[1] / "shard.json").read_text())
    for s in record["submissions"]:
        s["source"] = "/mnt/node7" + s["source"]
    (folders[1] / "shard.json").write_text(json.dumps(record))
    assert merge(folders, tmp_path / "all") == 0
