"""datasets/get_cifar10.py against a local HTTP server: progress, resume, checksum, errors.

The server runs on 127.0.0.1 on an ephemeral port in a daemon thread, serves a small synthetic
archive with HTTP Range support (and can be told to misbehave), and is shut down after each test.
"""
import hashlib
import http.server
import socket
import sys
import threading

import pytest

from tests.cifar_script import get_cifar10 as g

pytestmark = pytest.mark.fast

NAME = "cifar-10-python.tar.gz"


@pytest.fixture(scope="module")
def payload(tmp_path_factory):
    """(bytes, md5) of a small synthetic archive."""
    path = tmp_path_factory.mktemp("archive") / NAME
    md5 = g.build_synthetic_archive(str(path), per_batch=40, num_test=40)
    return path.read_bytes(), md5


class _Handler(http.server.BaseHTTPRequestHandler):
    timeout = 10  # a stuck client cannot hold the server thread forever

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        srv = self.server
        srv.requests.append(self.headers.get("Range"))
        if self.path != "/" + NAME:
            self.send_error(404, "Not Found")
            return
        body = srv.body
        start = 0
        rng = self.headers.get("Range")
        if rng and srv.ranges and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % len(body))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(body) - 1, len(body)))
        else:
            self.send_response(200)
        self.send_header("Content-Type", "application/gzip")
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        chunk = body[start:]
        if srv.cut_after:  # announce everything, send only part of it, hang up
            chunk = chunk[:srv.cut_after.pop(0)]
        self.wfile.write(chunk)
        srv.sent += len(chunk)
        self.wfile.flush()
        self.close_connection = True


@pytest.fixture
def server(payload):
    """A local archive server; attributes: url, body, requests (Range headers), sent (bytes),
    ranges (honour Range), cut_after (list: cut the next responses after so many bytes)."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    srv.body, srv.md5 = payload
    srv.requests, srv.sent, srv.ranges, srv.cut_after = [], 0, True, []
    srv.url = "http://127.0.0.1:%d/%s" % (srv.server_address[1], NAME)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(5)


def _run(server, dest, *extra):
    return g.main(["--url", server.url, "--md5", server.md5, "--dest", str(dest),
                   "--timeout", "5", *extra])


def _assert_extracted(dest):
    folder = dest / "cifar-10-batches-py"
    assert g.is_complete(str(folder))
    assert not list(dest.glob("*.part")) and not list(dest.glob(".extract-*"))


def test_download_shows_progress_checks_md5_and_extracts(server, tmp_path, capsys):
    assert _run(server, tmp_path) == 0
    _assert_extracted(tmp_path)
    assert server.requests == [None] and server.sent == len(server.body)
    assert not (tmp_path / NAME).exists()  # the archive is removed after extraction
    err = capsys.readouterr().err
    assert "downloading " + NAME in err and "extracted" in err


def test_plain_text_progress_in_a_log_file(server, tmp_path, capsys):
    assert _run(server, tmp_path, "--keep-archive") == 0  # stderr is not a terminal here
    lines = capsys.readouterr().err.splitlines()
    progress = [line for line in lines if line.startswith("downloading %s:" % NAME)]
    assert 2 <= len(progress) <= 11  # about one line per 10%
    assert "(100%)" in progress[-1] and "MB/s" in progress[-1]
    assert (tmp_path / NAME).read_bytes() == server.body


@pytest.mark.parametrize("have_tqdm", [True, False])
def test_progress_on_a_terminal(server, tmp_path, capsys, monkeypatch, have_tqdm):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    if not have_tqdm:
        monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now fails
    assert _run(server, tmp_path) == 0
    err = capsys.readouterr().err
    if have_tqdm:
        assert "downloading %s: 100%%|" % NAME in err
    else:
        assert "(100%)" in err and "MB/s" in err      # the plain-line fallback


def test_resumes_a_partial_download_with_range(server, tmp_path):
    half = len(server.body) // 2
    (tmp_path / (NAME + ".part")).write_bytes(server.body[:half])
    assert _run(server, tmp_path, "-q") == 0
    assert server.requests == ["bytes=%d-" % half]
    assert server.sent == len(server.body) - half  # only the missing half travelled
    _assert_extracted(tmp_path)


def test_broken_transfer_is_resumed_automatically(server, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(g, "RETRY_DELAY", 0.01)
    server.cut_after = [1000, 5000]
    assert _run(server, tmp_path, "--retries", "2") == 0
    assert server.requests == [None, "bytes=1000-", "bytes=6000-"]
    assert "resuming (retry 2 of 2)" in capsys.readouterr().err
    _assert_extracted(tmp_path)


def test_broken_transfer_keeps_the_part_and_the_next_run_resumes(server, tmp_path, capsys):
    server.cut_after = [3000]
    assert _run(server, tmp_path, "--retries", "0", "-q") == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "run the same command again to resume" in err
    part = tmp_path / (NAME + ".part")
    assert part.read_bytes() == server.body[:3000]
    assert _run(server, tmp_path, "-q") == 0
    assert server.requests[-1] == "bytes=3000-"
    _assert_extracted(tmp_path)


def test_server_without_range_support_starts_over(server, tmp_path, capsys):
    server.ranges = False
    (tmp_path / (NAME + ".part")).write_bytes(b"stale bytes from another file")
    assert _run(server, tmp_path) == 0
    assert "does not resume downloads; starting over" in capsys.readouterr().err
    _assert_extracted(tmp_path)


def test_complete_part_file_is_finished_without_download(server, tmp_path):
    (tmp_path / (NAME + ".part")).write_bytes(server.body)
    assert _run(server, tmp_path, "-q") == 0  # the server answers 416; the MD5 decides
    assert server.sent == 0
    _assert_extracted(tmp_path)


def test_bad_checksum_names_file_expected_and_got_and_deletes_it(server, tmp_path, capsys):
    wrong = "0" * 32
    assert g.main(["--url", server.url, "--md5", wrong, "--dest", str(tmp_path), "-q"]) == 1
    err = capsys.readouterr().err.strip()
    got = hashlib.md5(server.body).hexdigest()
    assert len(err.splitlines()) == 1
    assert str(tmp_path / NAME) in err and wrong in err and got in err
    assert "run the command again" in err
    assert list(tmp_path.iterdir()) == []


def test_network_down_says_to_use_from(tmp_path, capsys):
    with socket.socket() as s:  # a port that nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = "http://127.0.0.1:%d/%s" % (port, NAME)
    assert g.main(["--url", url, "--dest", str(tmp_path), "--timeout", "5", "-q"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("get_cifar10.py: error: cannot download " + url)
    assert "--from /path/to/" + NAME in err


def test_http_error_is_reported(server, tmp_path, capsys):
    url = server.url.replace(NAME, "missing.tar.gz")
    assert g.main(["--url", url, "--dest", str(tmp_path), "--timeout", "5", "-q"]) == 1
    err = capsys.readouterr().err
    assert "HTTP 404" in err and url in err and "--from" in err


def test_idempotent_when_data_or_archive_is_already_there(server, tmp_path, capsys):
    assert _run(server, tmp_path, "--keep-archive", "-q") == 0
    assert len(server.requests) == 1
    assert _run(server, tmp_path) == 0
    assert "already in %s" % (tmp_path / "cifar-10-batches-py") in capsys.readouterr().err
    assert len(server.requests) == 1  # no network at all the second time
    # with the folder gone, the kept (valid) archive is extracted again without downloading
    for f in (tmp_path / "cifar-10-batches-py").iterdir():
        f.unlink()
    assert _run(server, tmp_path) == 0
    assert "using the archive already downloaded" in capsys.readouterr().err
    assert len(server.requests) == 1
    _assert_extracted(tmp_path)
    # --force downloads again (a corrupt archive in the way is replaced)
    (tmp_path / NAME).write_bytes(b"corrupt")
    assert _run(server, tmp_path, "--force", "-q") == 0
    assert len(server.requests) == 2


def test_from_a_non_official_archive_names_both_ways_out(payload, tmp_path, capsys):
    """--from with another archive (a mirror's, a re-packed one) refuses it, and says how to
    accept it: its own checksum or --md5 skip."""
    archive = tmp_path / NAME
    archive.write_bytes(payload[0])
    assert g.main(["--from", str(archive), "--dest", str(tmp_path / "out"), "-q"]) == 1
    err = capsys.readouterr().err
    got = payload[1]
    assert "checksum mismatch" in err and "--md5 skip" in err and "--md5 " + got in err
    assert g.main(["--from", str(archive), "--dest", str(tmp_path / "out"), "-q",
                   "--md5", "skip"]) == 0
