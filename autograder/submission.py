"""Unpack and validate one submission (a .zip or a folder) on the trusted side.

Nothing here executes or parses student code: it copies bytes with caps (file count, total size,
single file size, compression ratio), refuses path traversal, absolute paths, symlinks and special
files, drops junk (__MACOSX, __pycache__, checkpoints), and finds the folder holding ``cs239/``
(files at the top, or all inside one top folder). Problems raise ``BadSubmission(message)``.
"""
import hashlib
import json
import os
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from cs239.tools import manifest

MAX_FILES = 2000
MAX_TOTAL = 300 * 2**20     # bytes once unpacked
MAX_FILE = 200 * 2**20
MAX_RATIO = 200             # uncompressed / compressed, per member above 1 MiB
JUNK = {"__MACOSX", ".DS_Store", "__pycache__", ".ipynb_checkpoints", ".git", "Thumbs.db"}
NOTEBOOKS = manifest.NOTEBOOKS     # the layout of a submission: the assignment manifest's
MODELS = tuple(manifest.MODELS)


class BadSubmission(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def stem_of(path):
    p = Path(path)
    return p.name[:-4] if p.name.lower().endswith(".zip") else p.name


def content_hash(path):
    """sha256 of a zip's bytes, or of a folder's relative paths and file contents."""
    h = hashlib.sha256()
    p = Path(path)
    if p.is_file():
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()
    if not p.is_dir():
        return "missing"
    n = 0
    for root, dirs, files in os.walk(p):
        dirs.sort()
        for name in sorted(files):
            f = Path(root) / name
            n += 1
            if n > 4 * MAX_FILES:
                h.update(b"too many files")
                return h.hexdigest()
            h.update(str(f.relative_to(p)).encode() + b"\0")
            if f.is_symlink():
                h.update(b"L" + os.readlink(f).encode())
            elif f.is_file() and f.stat().st_size <= MAX_FILE:
                h.update(hashlib.sha256(f.read_bytes()).digest())
            else:
                h.update(b"?%d" % f.lstat().st_size)
    return h.hexdigest()


def _safe_parts(name):
    """Relative path parts of an archive member, or BadSubmission."""
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise BadSubmission(f"unsafe path in the zip file: {name!r} (absolute path)")
    parts = [s for s in PurePosixPath(name).parts if s not in ("", ".")]
    if any(s == ".." for s in parts):
        raise BadSubmission(f"unsafe path in the zip file: {name!r} (path traversal '..')")
    return parts


def _junk(parts):
    return any(s in JUNK or s.startswith("._") for s in parts)


def unpack(src, dest):
    """Copy submission SRC into the new folder DEST; return the folder holding cs239/."""
    src, dest = Path(src), Path(dest)
    dest.mkdir()
    if src.is_symlink():
        raise BadSubmission(f"{src.name} is a symbolic link")
    if src.is_dir():
        _copy_dir(src, dest)
    elif src.is_file():
        if not zipfile.is_zipfile(src):
            raise BadSubmission(f"{src.name} is not a zip file (submit the .zip made by "
                                "`python -m cs239.tools.submit`, or a folder)")
        _extract_zip(src, dest)
    else:
        raise BadSubmission(f"{src} does not exist")
    entries = [e for e in dest.iterdir()]
    if not entries:
        raise BadSubmission("the submission is empty")
    root = dest
    if not (dest / "cs239").is_dir() and len(entries) == 1 and entries[0].is_dir():
        root = entries[0]
    if not (root / "cs239").is_dir():
        found = sorted(str(p.relative_to(dest)) for p in dest.rglob("cs239") if p.is_dir())
        hint = f" (found {found[0]}/: zip the assignment folder itself)" if found else ""
        raise BadSubmission("missing package: no cs239/ folder at the top of the submission"
                            f"{hint}; expected cs239/layers.py, cs239/optim.py, ...")
    return root


def _check_counts(n_files, total):
    if n_files > MAX_FILES:
        raise BadSubmission(f"too many files (more than {MAX_FILES}); is this a zip bomb?")
    if total > MAX_TOTAL:
        raise BadSubmission(f"too large once unpacked (more than {MAX_TOTAL >> 20} MiB); "
                            "is this a zip bomb? Do not include data sets.")


def _extract_zip(src, dest):
    try:
        with zipfile.ZipFile(src) as zf:
            infos = zf.infolist()
            if not infos:
                raise BadSubmission("the zip file is empty")
            _check_counts(len(infos), 0)
            plan, declared = [], 0
            for info in infos:
                parts = _safe_parts(info.filename)
                mode = info.external_attr >> 16
                if stat.S_ISLNK(mode):
                    raise BadSubmission(f"symbolic links are not allowed: {info.filename}")
                if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
                    raise BadSubmission(f"special file in the zip: {info.filename}")
                if not parts or _junk(parts) or info.is_dir():
                    continue
                declared += info.file_size
                _check_counts(len(plan), declared)
                if info.file_size > MAX_FILE or (
                        info.file_size > 2**20
                        and info.file_size > MAX_RATIO * max(info.compress_size, 1)):
                    raise BadSubmission(f"{info.filename}: suspicious compression ratio or "
                                        "size; is this a zip bomb?")
                plan.append((info, parts))
            total = 0
            for info, parts in plan:
                target = dest.joinpath(*parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as fin, open(target, "xb") as fout:
                    got = 0
                    for block in iter(lambda: fin.read(1 << 20), b""):
                        got += len(block)
                        total += len(block)
                        if got > info.file_size or total > MAX_TOTAL:
                            raise BadSubmission("the zip file lies about its sizes; is this a "
                                                "zip bomb?")
                        fout.write(block)
    except BadSubmission:
        raise
    except FileExistsError as e:
        raise BadSubmission(f"duplicate entry in the zip file: {Path(e.filename).name}")
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError,
            NotImplementedError) as e:
        raise BadSubmission(f"{src.name} is a damaged zip file ({e})")


def _copy_dir(src, dest):
    n, total = 0, 0
    for root, dirs, files in os.walk(src):
        rel = Path(root).relative_to(src)
        for name in dirs + files:
            p = Path(root) / name
            if p.is_symlink():
                raise BadSubmission(f"symbolic links are not allowed: {rel / name}")
        dirs[:] = [d for d in dirs if not _junk([d])]
        for name in files:
            p = Path(root) / name
            if _junk([name]):
                continue
            st = p.lstat()
            if not stat.S_ISREG(st.st_mode):
                raise BadSubmission(f"special file in the submission: {rel / name}")
            n += 1
            total += st.st_size
            _check_counts(n, total)
            if st.st_size > MAX_FILE:
                raise BadSubmission(f"{rel / name} is too large")
            (dest / rel).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, dest / rel / name, follow_symlinks=False)


def check_notebooks(root):
    """Messages about missing or corrupt notebooks (JSON-parsed only, never executed here)."""
    problems = {}
    for nb in NOTEBOOKS:
        p = Path(root) / nb
        if not p.exists():
            problems[nb] = f"{nb} is missing from the submission"
            continue
        try:
            data = json.loads(p.read_bytes())
            if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
                raise ValueError("no list of cells")
            if data.get("nbformat") != 4:
                raise ValueError(f"nbformat {data.get('nbformat')!r}, expected 4")
        except (ValueError, UnicodeDecodeError, RecursionError) as e:
            problems[nb] = f"{nb} is not a valid notebook ({str(e)[:200]})"
    return problems


def set_worker_permissions(root, gid):
    """Root mode: the copy belongs to root, readable (never writable) by the slot's group."""
    for dirpath, dirs, files in os.walk(root):
        os.chown(dirpath, 0, gid)
        os.chmod(dirpath, 0o750)
        for f in files:
            p = os.path.join(dirpath, f)
            os.chown(p, 0, gid)
            os.chmod(p, 0o640)
