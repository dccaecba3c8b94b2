#!/usr/bin/env python3
"""Download, verify and unpack CIFAR-10 (python version) for cs239, or write a small synthetic copy.

    python3 datasets/get_cifar10.py                 # download + check MD5 + extract (resumes)
    python3 datasets/get_cifar10.py --from FILE     # offline: use an archive you already have
    python3 datasets/get_cifar10.py --synthetic     # small generated set, same format (no network)

The data lands in DEST/cifar-10-batches-py (DEST defaults to the folder of this script, i.e.
datasets/; for --synthetic it defaults to datasets/synthetic). Running it again when the data is
already there does nothing. An interrupted download leaves DEST/cifar-10-python.tar.gz.part,
which the next run resumes (HTTP Range). Exit status: 0 success, 1 error, 2 bad usage.

The download/extract path uses the Python standard library only; --synthetic also needs numpy.
"""
import argparse
import hashlib
import http.client
import io
import os
import pickle
import posixpath
import shutil
import struct
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
MD5 = "c58f30108f718f92721af3b95e74349a"
ARCHIVE = "cifar-10-python.tar.gz"
FOLDER = "cifar-10-batches-py"
BATCHES = ["data_batch_%d" % i for i in range(1, 6)] + ["test_batch"]
REQUIRED = BATCHES + ["batches.meta"]
LABEL_NAMES = ["airplane", "automobile", "bird", "cat", "deer",
               "dog", "frog", "horse", "ship", "truck"]
HERE = os.path.dirname(os.path.abspath(__file__))
CHUNK = 1 << 18
RETRY_DELAY = 1.0  # seconds before the first automatic resume; doubles each time
SYNTHETIC_VERSION = "1"
SYNTHETIC_SEED = 239


class Error(Exception):
    """A failure with a one-line message for the user (printed without a traceback)."""


def _say(msg, quiet=False):
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


def _human(n):
    return "%.1f MB" % (n / 1e6)


def md5sum(path):
    """The hex MD5 digest of a file, read in chunks."""
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def is_complete(folder):
    """True when folder holds every CIFAR-10 batch file, each non-empty and pickle-shaped."""
    for name in REQUIRED:
        path = os.path.join(folder, name)
        try:
            with open(path, "rb") as f:
                if f.read(1) != b"\x80":
                    return False
        except OSError:
            return False
    return True


# ----------------------------------------------------------------------------------------------
# progress
class _Lines:
    """The fallback progress (tqdm missing, or stderr a log file): one line per 10%."""

    def __init__(self, total, initial, desc):
        self.total, self.done, self.desc = total, initial, desc
        self.start, self.start_bytes, self.last_pct = time.monotonic(), initial, -1

    def update(self, n):
        self.done += n
        pct = int(100 * self.done / self.total) if self.total else -1
        if pct // 10 == self.last_pct // 10:
            return
        self.last_pct = pct
        rate = (self.done - self.start_bytes) / max(time.monotonic() - self.start, 1e-6)
        of = "/%s (%d%%)" % (_human(self.total), pct) if self.total else ""
        _say("%s: %s%s  %.1f MB/s" % (self.desc, _human(self.done), of, rate / 1e6))

    def close(self):
        pass


class _Silent:
    def update(self, n):
        pass

    def close(self):
        pass


def _progress(total, initial, desc, quiet):
    """A byte counter on stderr: tqdm's bar on a terminal when tqdm is installed, else plain
    lines (the script may run before `pip install`)."""
    if quiet:
        return _Silent()
    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):
        tty = False
    if tty:
        try:
            from tqdm import tqdm
            return tqdm(total=total, initial=initial, desc=desc, unit="B", unit_scale=True,
                        unit_divisor=1024, file=sys.stderr, dynamic_ncols=True)
        except ImportError:
            pass
    return _Lines(total, initial, desc)


# ----------------------------------------------------------------------------------------------
# download
class _Interrupted(Exception):
    """The connection broke after the transfer started (worth resuming)."""


def _offline_hint():
    return ("on an offline machine, download %s elsewhere and run: "
            "python3 datasets/get_cifar10.py --from /path/to/%s" % (ARCHIVE, ARCHIVE))


def _download_once(url, part, quiet, timeout):
    """Fetch url into part, resuming from part's current size when the server allows it."""
    have = os.path.getsize(part) if os.path.exists(part) else 0
    req = urllib.request.Request(url, headers={"User-Agent": "cs239-get_cifar10/1"})
    if have:
        req.add_header("Range", "bytes=%d-" % have)
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:  # nothing left to send: the .part may well be complete
            e.close()
            return "complete?"
        raise Error("the server answered HTTP %d (%s) for %s; try again later, use another "
                    "--url, or %s" % (e.code, e.reason, url, _offline_hint())) from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise Error("cannot download %s (%s); check your connection, or %s"
                    % (url, reason, _offline_hint())) from None
    with resp:
        status = getattr(resp, "status", 200)
        crange = resp.headers.get("Content-Range", "")
        length = resp.headers.get("Content-Length")
        if have and status == 206 and crange.startswith("bytes %d-" % have):
            mode, start = "ab", have
            total = crange.rsplit("/", 1)[-1]
            total = int(total) if total.isdigit() else None
            _say("resuming %s at %s" % (os.path.basename(part), _human(have)), quiet)
        else:
            if have:
                _say("the server does not resume downloads; starting over", quiet)
            mode, start = "wb", 0
            total = int(length) if length and length.isdigit() else None
        expected_body = (total - start) if total is not None else None
        bar = _progress(total, start, "downloading " + ARCHIVE, quiet)
        got = 0
        try:
            with open(part, mode) as f:
                while True:
                    try:
                        block = resp.read(CHUNK)
                    except (OSError, ValueError, http.client.HTTPException) as e:
                        # connection reset, timeout, or cut short mid-chunk
                        raise _Interrupted(str(e) or type(e).__name__) from None
                    if not block:
                        break
                    f.write(block)
                    got += len(block)
                    bar.update(len(block))
        finally:
            bar.close()
        if expected_body is not None and got < expected_body:
            raise _Interrupted("connection closed after %s of %s"
                               % (_human(start + got), _human(total)))
    return "done"


def download(url, archive, md5, quiet=False, retries=3, timeout=30.0):
    """Download url to archive (via archive + '.part', resumable) and check its MD5.

    Retries up to `retries` times when a transfer breaks off midway, resuming each time.
    Raises Error with a one-line message on failure; on a checksum mismatch the partial file
    is deleted so that the next run starts clean.
    """
    part = archive + ".part"
    attempt = 0
    while True:
        try:
            state = _download_once(url, part, quiet, timeout)
        except _Interrupted as e:
            if attempt >= retries:
                raise Error("download of %s interrupted (%s); %s is kept: run the same command "
                            "again to resume, or %s" % (url, e, part, _offline_hint())) from None
            attempt += 1
            _say("download interrupted (%s); resuming (retry %d of %d)" % (e, attempt, retries),
                 quiet)
            time.sleep(RETRY_DELAY * min(2 ** (attempt - 1), 8))
            continue
        got = md5sum(part)
        if got == md5 or md5 == "skip":
            break
        os.remove(part)
        if state == "complete?" and attempt < retries:  # stale .part: start from scratch
            attempt += 1
            _say("the partial download did not match; starting over", quiet)
            continue
        raise Error("checksum mismatch for %s downloaded from %s: expected MD5 %s, got %s; it was "
                    "deleted: run the command again (or pass --md5 for a mirror with another "
                    "archive)" % (archive, url, md5, got))
    os.replace(part, archive)
    return archive


# ----------------------------------------------------------------------------------------------
# extraction
def _check_path(member, dest):
    """Raise tarfile.TarError when member would land outside dest: tarfile's own extraction
    filter where this Python has it (3.12, and 3.10.12 / 3.11.4 on), else the same rules."""
    data_filter = getattr(tarfile, "data_filter", None)
    if data_filter is not None:
        data_filter(member, dest)
        return
    parts = member.name.replace("\\", "/").split("/")
    if (member.name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]
            or posixpath.normpath(member.name).startswith("..")):
        raise tarfile.TarError("outside the destination")


def _member_target(archive, member, dest):
    """The file name to extract a tar member to, or None for directories; Error if unsafe."""
    name = member.name
    try:
        _check_path(member, dest)
    except tarfile.TarError as e:        # tarfile.FilterError is one
        raise Error("refusing to extract %s: unsafe path %r in the archive (%s; not an official "
                    "CIFAR-10 archive?)" % (archive, name, e)) from None
    parts = name.split("/")
    if not (member.isfile() or member.isdir()):
        raise Error("refusing to extract %s: %r is a link or special file (not an official "
                    "CIFAR-10 archive?)" % (archive, name))
    parts = [p for p in parts if p not in ("", ".")]
    if not parts or parts[0] != FOLDER or len(parts) > 2 or (member.isfile() and len(parts) != 2):
        raise Error("refusing to extract %s: unexpected entry %r (a CIFAR-10 python archive holds "
                    "only %s/<file>)" % (archive, name, FOLDER))
    return None if member.isdir() else parts[1]


def extract(archive, dest, quiet=False):
    """Safely unpack a CIFAR-10 python archive into dest/cifar-10-batches-py; return that folder.

    Only regular files directly inside cifar-10-batches-py/ are accepted (no absolute paths, no
    '..', no links). Files are written to a temporary folder first and moved into place one by
    one, so a crash never leaves a half-written batch file.
    """
    folder = os.path.join(dest, FOLDER)
    os.makedirs(dest, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".extract-", dir=dest)
    try:
        names = []
        try:
            with tarfile.open(archive, "r:gz") as tf:
                for member in tf:
                    target = _member_target(archive, member, tmp)
                    if target is None:
                        continue
                    src = tf.extractfile(member)
                    with src, open(os.path.join(tmp, target), "wb") as out:
                        shutil.copyfileobj(src, out, CHUNK)
                    names.append(target)
        except Error:
            raise
        except (tarfile.TarError, EOFError, OSError, ValueError) as e:
            raise Error("cannot read %s as a .tar.gz archive (%s); delete it and download it "
                        "again" % (archive, e)) from None
        missing = [n for n in REQUIRED if n not in names]
        if missing:
            raise Error("%s is not a complete CIFAR-10 python archive: missing %s"
                        % (archive, ", ".join(missing)))
        os.makedirs(folder, exist_ok=True)
        for n in names:
            os.replace(os.path.join(tmp, n), os.path.join(folder, n))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _say("extracted %s to %s" % (os.path.basename(archive), folder), quiet)
    return folder


def install_from(archive, dest, md5=MD5, quiet=False):
    """Check archive's MD5 (unless md5 == 'skip') and extract it into dest."""
    if not os.path.isfile(archive):
        raise Error("%s: no such file (--from expects the downloaded %s)" % (archive, ARCHIVE))
    if md5 != "skip":
        got = md5sum(archive)
        if got != md5:
            raise Error("checksum mismatch for %s: expected MD5 %s, got %s; the file is incomplete "
                        "or not the official archive: download it again, or, if you trust this "
                        "copy, pass --md5 %s (its checksum) or --md5 skip (no check)"
                        % (archive, md5, got, got))
    return extract(archive, dest, quiet)


# ----------------------------------------------------------------------------------------------
# synthetic data set
class _Python2Pickler(pickle._Pickler):
    """pickle protocol 2 with bytes written as Python 2 str, like the original CIFAR-10 batches
    (so the files load with encoding='bytes' or 'latin1' exactly like the originals; Python 3's
    own protocol 2 writes bytes as calls to _codecs.encode)."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_python2_str(self, obj):
        n = len(obj)
        self.write(pickle.SHORT_BINSTRING + bytes([n]) + obj if n < 256
                   else pickle.BINSTRING + struct.pack("<i", n) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_python2_str


def _pickle2(obj):
    """obj pickled like a CIFAR-10 batch file (protocol 2, Python 2 str)."""
    out = io.BytesIO()
    _Python2Pickler(out, protocol=2).dump(obj)
    return out.getvalue()


def synthetic_images(n, seed, np):
    """n class-conditional 32x32 RGB images: uint8 (n, 3072) channel-major, labels (n,) list.

    Each class has a fixed smooth template: two colours blended by a sigmoid of a sum of three
    low-frequency periodic waves. An image is its class template at a random (periodic) shift,
    blended with another class's template at another shift, with random contrast, brightness
    and colour casts, and covered in pixel noise: a two-layer net learns it well above chance
    but not perfectly.
    """
    C, S, K = len(LABEL_NAMES), 32, 3
    trng = np.random.default_rng(SYNTHETIC_SEED)  # the classes: the same for every split
    freq = trng.integers(-3, 4, size=(C, K, 2))
    freq[(freq == 0).all(axis=2)] = (0, 1)
    amp = trng.uniform(0.5, 1.0, size=(C, K))
    phase = trng.uniform(0, 2 * np.pi, size=(C, K))
    colours = trng.uniform(30, 225, size=(C, 2, 3))  # (class, background/foreground, rgb)
    yy, xx = np.meshgrid(np.arange(S), np.arange(S), indexing="ij")
    theta = 2 * np.pi * (freq[..., 0, None, None] * yy + freq[..., 1, None, None] * xx) / S
    theta = (theta + phase[..., None, None]).reshape(C * K, S * S)
    basis = np.concatenate([np.cos(theta), np.sin(theta)]).astype(np.float32)  # (2CK, S*S)

    rng = np.random.default_rng(seed)

    def render(cls, shift):
        """Templates of classes cls (n,) shifted by shift (n, 2): (n, 3, S*S) float32.

        cos(t - p) = cos t cos p + sin t sin p, so a shift is a phase change per wave."""
        psi = 2 * np.pi * (freq[cls] * shift[:, None, :]).sum(axis=2) / S  # (n, K)
        coef = np.zeros((len(cls), 2, C, K), np.float32)
        rows = np.arange(len(cls))
        coef[rows, 0, cls] = amp[cls] * np.cos(psi)
        coef[rows, 1, cls] = amp[cls] * np.sin(psi)
        field = coef.reshape(len(cls), -1) @ basis
        mask = 1.0 / (1.0 + np.exp(-2.0 * field))  # (n, S*S) in (0, 1)
        bg = colours[cls, 0, :, None].astype(np.float32)
        fg = colours[cls, 1, :, None].astype(np.float32)
        return bg + (fg - bg) * mask[:, None, :]

    labels = rng.integers(0, C, size=n)
    imgs = render(labels, rng.integers(-8, 9, size=(n, 2)))
    other = (labels + rng.integers(1, C, size=n)) % C
    mix = rng.uniform(0.0, 0.45, size=(n, 1, 1)).astype(np.float32)
    imgs = (1 - mix) * imgs + mix * render(other, rng.integers(0, S, size=(n, 2)))
    mean = imgs.mean(axis=(1, 2), keepdims=True)
    imgs = (imgs - mean) * rng.uniform(0.6, 1.4, size=(n, 1, 1)).astype(np.float32) + mean
    imgs += rng.normal(0, 25, size=(n, 1, 1)).astype(np.float32)
    imgs += rng.normal(0, 15, size=(n, 3, 1)).astype(np.float32)
    imgs += 30 * rng.standard_normal(size=imgs.shape, dtype=np.float32)
    data = np.clip(np.rint(imgs), 0, 255).astype(np.uint8).reshape(n, 3 * S * S)
    return data, [int(v) for v in labels]


def _readme(per_batch, num_test):
    return ("<html><body><p>cs239 synthetic CIFAR-10 stand-in, version %s: %d training images "
            "in each of data_batch_1..5 and %d in test_batch, generated by datasets/get_cifar10.py "
            "--synthetic (seed %d). Same format as the real data set; not real images.</p>"
            "</body></html>\n" % (SYNTHETIC_VERSION, per_batch, num_test, SYNTHETIC_SEED)).encode()


def build_synthetic_archive(path, per_batch=1000, num_test=1000):
    """Write a deterministic synthetic cifar-10-python.tar.gz at path; return its MD5."""
    import gzip
    import numpy as np

    members = []
    for b, name in enumerate(BATCHES):
        n = num_test if name == "test_batch" else per_batch
        data, labels = synthetic_images(n, SYNTHETIC_SEED + 1 + b, np)
        label = (b"testing batch 1 of 1" if name == "test_batch"
                 else b"training batch %d of 5" % (b + 1))
        filenames = [b"synthetic_%05d_%s.png" % (i, LABEL_NAMES[y].encode())
                     for i, y in enumerate(labels)]
        members.append((name, _pickle2({b"batch_label": label, b"labels": labels,
                                        b"data": data, b"filenames": filenames})))
    members.append(("batches.meta", _pickle2({
        b"num_cases_per_batch": per_batch,
        b"label_names": [s.encode() for s in LABEL_NAMES],
        b"num_vis": 3072})))
    members.append(("readme.html", _readme(per_batch, num_test)))

    tmp = path + ".tmp%d" % os.getpid()
    with open(tmp, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=1, mtime=0) as gz:
            with tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tf:
                d = tarfile.TarInfo(FOLDER)
                d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o755, 0
                tf.addfile(d)
                for name, blob in members:
                    info = tarfile.TarInfo(FOLDER + "/" + name)
                    info.size, info.mode, info.mtime = len(blob), 0o644, 0
                    tf.addfile(info, io.BytesIO(blob))
    os.replace(tmp, path)
    return md5sum(path)


def make_synthetic(dest, per_batch=1000, num_test=1000, force=False, quiet=False):
    """Build the synthetic archive in dest and extract it with the real extraction code.

    Returns dest/cifar-10-batches-py. Does nothing when that folder already holds the same
    synthetic set (same version and sizes), unless force.
    """
    folder = os.path.join(dest, FOLDER)
    readme = os.path.join(folder, "readme.html")
    if not force and is_complete(folder) and os.path.isfile(readme):
        with open(readme, "rb") as f:
            if f.read() == _readme(per_batch, num_test):
                _say("synthetic CIFAR-10 is already in %s; nothing to do" % folder, quiet)
                return folder
    os.makedirs(dest, exist_ok=True)
    archive = os.path.join(dest, ARCHIVE)
    md5 = build_synthetic_archive(archive, per_batch, num_test)
    _say("wrote %s (%d x 5 training + %d test images, MD5 %s)"
         % (archive, per_batch, num_test, md5), quiet)
    return install_from(archive, dest, md5, quiet)


# ----------------------------------------------------------------------------------------------
def _parser():
    p = argparse.ArgumentParser(
        prog="get_cifar10.py",
        description="Download CIFAR-10 (python version), check its MD5 and unpack it to "
                    "DEST/cifar-10-batches-py. Resumes interrupted downloads; does nothing when "
                    "the data is already there.")
    p.add_argument("--dest", metavar="DIR",
                   help="folder that receives cifar-10-batches-py (default: the folder of this "
                        "script; with --synthetic: its synthetic/ subfolder)")
    p.add_argument("--from", dest="from_file", metavar="FILE",
                   help="use an already downloaded cifar-10-python.tar.gz (offline machines)")
    p.add_argument("--url", default=URL, help="download from this mirror (default: %(default)s)")
    p.add_argument("--md5", default=MD5, metavar="HEX",
                   help="expected MD5 of the archive (default: the official %(default)s; "
                        "'skip' turns the check off)")
    p.add_argument("--synthetic", action="store_true",
                   help="write a small generated data set in the same format instead (needs numpy)")
    p.add_argument("--per-batch", type=int, default=1000, metavar="N",
                   help="--synthetic: images in each of the 5 training batches (default 1000)")
    p.add_argument("--num-test", type=int, default=1000, metavar="N",
                   help="--synthetic: images in test_batch (default 1000)")
    p.add_argument("--force", action="store_true", help="redo the work even if the data is there")
    p.add_argument("--keep-archive", action="store_true",
                   help="keep the downloaded .tar.gz after extracting it")
    p.add_argument("--retries", type=int, default=3, metavar="N",
                   help="resume a broken download up to N times (default 3)")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SEC",
                   help="network timeout in seconds (default 30)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    return p


def main(argv=None):
    p = _parser()
    args = p.parse_args(argv)
    md5 = args.md5.strip().lower()
    if md5 != "skip" and (len(md5) != 32 or any(c not in "0123456789abcdef" for c in md5)):
        p.error("--md5 expects 32 hex digits (or 'skip'), got %r" % args.md5)
    if args.synthetic and args.from_file:
        p.error("--synthetic and --from cannot be combined")
    if args.per_batch < 1 or args.num_test < 1:
        p.error("--per-batch and --num-test must be positive")
    try:
        if args.synthetic:
            dest = args.dest or os.path.join(HERE, "synthetic")
            make_synthetic(dest, args.per_batch, args.num_test, args.force, args.quiet)
            return 0
        dest = args.dest or HERE
        folder = os.path.join(dest, FOLDER)
        if is_complete(folder) and not args.force:
            _say("CIFAR-10 is already in %s; nothing to do (--force redoes it)" % folder,
                 args.quiet)
            return 0
        if args.from_file:
            install_from(args.from_file, dest, md5, args.quiet)
            return 0
        os.makedirs(dest, exist_ok=True)
        archive = os.path.join(dest, ARCHIVE)
        if os.path.isfile(archive):
            if md5 == "skip" or md5sum(archive) == md5:
                _say("using the archive already downloaded: %s" % archive, args.quiet)
            else:
                _say("%s does not match MD5 %s; downloading it again" % (archive, md5),
                     args.quiet)
                os.remove(archive)
        if not os.path.isfile(archive):
            download(args.url, archive, md5, args.quiet, args.retries, args.timeout)
        extract(archive, dest, args.quiet)
        if not args.keep_archive:
            os.remove(archive)
        return 0
    except Error as e:
        print("get_cifar10.py: error: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nget_cifar10.py: interrupted; run the same command again to resume",
              file=sys.stderr)
        return 130
    except OSError as e:  # disk full, permissions, ...
        print("get_cifar10.py: error: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
