"""The two HW3 notebooks end to end on the real CIFAR-10, at homework scale (their defaults).

Each master notebook (source/<assignment>) runs top to bottom with the reference solution in a
temporary copy, through tools.notebook_runner.run_notebook. Reported per notebook: wall time, the
final validation and test accuracies it prints (``Final validation accuracy: ...``), whether
all its printed checks hold, the CPU time of its kernel (a guide when the machine is busy:
on an idle 2-core machine the wall time lies between half of it and all of it), and the
targets: two-layer net >= 50% validation, best FC net >= 55% validation, each notebook under
10 minutes on 2 cores.

Data: $CS239_CIFAR10_DIR if it holds the real data set, else datasets/cifar-10-batches-py, else
the shared copy ../shared/cifar10 (unpacked once with its make_batches.py into a cache folder,
$BENCH_CIFAR_CACHE or <tmp>/cs239-bench-cifar10). Without real data the benchmark is skipped.

    python -m bench cifar                        # through the runner (make bench)
    python -m bench.bench_cifar TwoLayerNet      # one notebook; --keep DIR keeps the outputs
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cs239.tools.manifest import NAME

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "source" / NAME
SHARED = [ROOT.parent / "shared" / "cifar10", Path("/work/shared/cifar10")]
TARGETS = {  # notebook: (validation accuracy target, seconds target)
    "TwoLayerNet": (0.50, 600.0),
    "FullyConnectedNets": (0.55, 600.0),
}
# Homework defaults, but no progress bars (nobody watches them here).
PARAMETERS = {"show_progress": False}


def _is_real(folder):
    """True if folder is a complete cifar-10-batches-py of the real data set."""
    folder = Path(folder)
    names = ["data_batch_%d" % i for i in range(1, 6)] + ["test_batch", "batches.meta"]
    if not all((folder / n).is_file() for n in names):
        return False
    readme = folder / "readme.html"
    if readme.is_file() and "synthetic" in readme.read_text(errors="replace").lower():
        return False
    return (folder / "data_batch_1").stat().st_size > 30_000_000  # 10000 x 3073 bytes


def find_real_cifar10():
    """Path of a real cifar-10-batches-py folder, unpacking the shared copy if needed."""
    env = os.environ.get("CS239_CIFAR10_DIR")
    candidates = ([Path(env)] if env else []) + [ROOT / "datasets" / "cifar-10-batches-py"]
    for folder in candidates:
        if _is_real(folder):
            return folder
    cache = Path(os.environ.get("BENCH_CIFAR_CACHE",
                                Path(tempfile.gettempdir()) / "cs239-bench-cifar10"))
    if _is_real(cache / "cifar-10-batches-py"):
        return cache / "cifar-10-batches-py"
    for shared in SHARED:
        script = shared / "make_batches.py"
        if script.is_file():
            print("unpacking %s into %s ..." % (shared, cache), flush=True)
            cache.mkdir(parents=True, exist_ok=True)
            subprocess.run([sys.executable, str(script), str(cache)], check=True,
                           stdout=subprocess.DEVNULL)
            if _is_real(cache / "cifar-10-batches-py"):
                return cache / "cifar-10-batches-py"
    raise FileNotFoundError(
        "the real CIFAR-10 is not available: set CS239_CIFAR10_DIR to a cifar-10-batches-py "
        "folder or run `python datasets/get_cifar10.py`")


def run_one(name, data_dir, keep=None):
    """Run one notebook at homework scale; returns its result row."""
    from tools.notebook_runner import NotebookCellError, export_html, extract_checks, \
        extract_metrics, run_notebook
    import nbformat

    val_target, time_target = TARGETS[name]
    with tempfile.TemporaryDirectory(prefix="bench-cifar-") as work:
        shutil.copy(SOURCE / ("%s.ipynb" % name), work)
        start, cpu_start = time.perf_counter(), os.times()
        error, nb = None, None
        try:
            nb = run_notebook(Path(work) / ("%s.ipynb" % name), PARAMETERS, cwd=work,
                              env={"CS239_CIFAR10_DIR": str(data_dir)}, timeout=1800)
        except NotebookCellError as exc:
            error, nb = exc, exc.nb
        seconds = time.perf_counter() - start
        cpu_end = os.times()  # the kernel is a child process, reaped when the run ends
        cpu = (cpu_end.children_user + cpu_end.children_system
               - cpu_start.children_user - cpu_start.children_system)
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, Path(keep) / ("%s.ipynb" % name))
            export_html(nb, Path(keep) / ("%s.html" % name))
    checks = extract_checks(nb)
    metrics = extract_metrics(nb)
    val, test = metrics.get("validation accuracy"), metrics.get("test accuracy")
    ok = (error is None and val is not None and val >= val_target and seconds <= time_target
          and all(c["ok"] for c in checks))
    row = {
        "notebook": name,
        "seconds": round(seconds, 1),
        "target_s": time_target,
        "kernel_cpu_s": round(cpu, 1),
        "val_acc": val,
        "target_val": val_target,
        "test_acc": test,
        "checks": "%d/%d" % (sum(c["ok"] for c in checks), len(checks)),
        "met": "yes" if ok else "NO",
    }
    if error is not None:
        row["error"] = "cell %d: %s" % (error.cell_index, error.ename)
    print("%-20s %6.1f s (target %.0f; kernel CPU %.0f s; load %.1f)  val %s (target %.2f)  "
          "test %s  checks %s  %s"
          % (name, seconds, time_target, cpu, os.getloadavg()[0], val, val_target, test,
             row["checks"],
             "targets met" if ok else "TARGETS NOT MET" + (" (%s)" % error if error else "")),
          flush=True)
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.bench_cifar",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", help="notebooks to run: %s (default: both)"
                        % ", ".join(TARGETS))
    parser.add_argument("--keep", metavar="DIR", help="write the executed notebooks and HTML here")
    args = parser.parse_args([] if argv is None else argv)
    unknown = [n for n in args.notebooks if n not in TARGETS]
    if unknown:
        parser.error("unknown notebook(s): %s" % ", ".join(unknown))
    data_dir = find_real_cifar10()
    print("real CIFAR-10: %s; %d CPUs" % (data_dir, os.cpu_count() or 0), flush=True)
    return [run_one(name, data_dir, keep=args.keep) for name in (args.notebooks or TARGETS)]


if __name__ == "__main__":
    main(sys.argv[1:])
