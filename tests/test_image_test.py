"""`make image-test` reads the apt mirror this machine is configured with (the image test
itself needs root and minutes: it is run by hand, see the README)."""
import pytest

from tools.image_test import apt_mirror


def _etc(tmp_path, files):
    for rel, text in {"os-release": 'NAME="Debian"\nVERSION_CODENAME=bookworm\n', **files}.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    (tmp_path / "apt" / "sources.list.d").mkdir(parents=True, exist_ok=True)
    return tmp_path


def test_mirror_from_deb822_sources_skips_other_repositories(tmp_path):
    key = tmp_path / "debian.gpg"
    key.write_text("k")
    etc = _etc(tmp_path, {
        "apt/sources.list.d/a-node.sources": "Types: deb\nURIs: https://deb.nodesource.com/x\n"
                                             "Suites: nodistro\nComponents: main\n",
        "apt/sources.list.d/debian.sources":
            "Types: deb\n# a comment\nURIs: http://mirror.example/debian\n"
            f"Suites: bookworm bookworm-updates\nComponents: main\nSigned-By: {key}\n\n"
            "Types: deb\nURIs: http://mirror.example/debian-security\n"
            "Suites: bookworm-security\nComponents: main\n"})
    assert apt_mirror(etc=etc) == ("http://mirror.example/debian", "bookworm", str(key))
    assert apt_mirror("trixie", etc=etc)[:2] == ("http://mirror.example/debian", "trixie")


def test_mirror_from_one_line_sources_list(tmp_path):
    etc = _etc(tmp_path, {"apt/sources.list":
                          "# deb http://old/debian bookworm main\n"
                          "deb-src http://src/debian bookworm main\n"
                          "deb [arch=amd64 signed-by=/nonexistent.gpg] http://m.example/debian "
                          "bookworm main contrib\n"})
    assert apt_mirror(etc=etc) == ("http://m.example/debian", "bookworm", None)


def test_no_mirror_says_so(tmp_path):
    etc = _etc(tmp_path, {"apt/sources.list": "deb http://m.example/debian bullseye main\n"})
    with pytest.raises(SystemExit, match="no apt entry for bookworm"):
        apt_mirror(etc=etc)
