"""Stable-line discovery from every branch-naming scheme, releases from tags."""

from __future__ import annotations

from pathlib import Path

import pytest
from builder import RepoBuilder

from backport.session import Session


def lines_of(path: Path, *specs: str) -> list[tuple[str, str]]:
    session = Session.open(str(path), line_specs=specs)
    return [(str(line.version), line.ref) for line in session.lines]


@pytest.mark.parametrize(
    "branch, version",
    [
        ("stable-4.20", "4.20"),
        ("stable/4.20", "4.20"),
        ("release/4.20", "4.20"),
        ("release-4.20", "4.20"),
        ("4.20.x", "4.20"),
        ("linux-6.6.y", "6.6"),
        ("24.1", "24.1"),
        ("stable-9.0", "9.0"),
    ],
)
def test_each_naming_scheme(tmp_path: Path, branch: str, version: str) -> None:
    repo = RepoBuilder(tmp_path)
    repo.commit("base")
    repo.branch(branch)
    repo.branch("feature/4.20-rework")  # not a line
    assert lines_of(tmp_path) == [(version, branch)]


def test_versions_sort_numerically_and_remotes_count(tmp_path: Path) -> None:
    origin = RepoBuilder(tmp_path / "origin")
    origin.commit("base")
    for name in ("stable-4.9", "stable-4.10", "stable-4.8"):
        origin.branch(name)
    clone = tmp_path / "clone"
    origin.git("clone", "-q", str(origin.path), str(clone))
    assert lines_of(clone) == [("4.8", "origin/stable-4.8"), ("4.9", "origin/stable-4.9"), ("4.10", "origin/stable-4.10")]


def test_local_branch_wins_over_remote(tmp_path: Path) -> None:
    origin = RepoBuilder(tmp_path / "origin")
    origin.commit("base")
    origin.branch("stable-4.20")
    clone = RepoBuilder.__new__(RepoBuilder)
    origin.git("clone", "-q", str(origin.path), str(tmp_path / "clone"))
    clone.path = tmp_path / "clone"
    clone.git("branch", "stable-4.20", "origin/stable-4.20")
    assert lines_of(tmp_path / "clone") == [("4.20", "stable-4.20")]


def test_releases_from_tags_on_the_line_only(tmp_path: Path) -> None:
    repo = RepoBuilder(tmp_path)
    repo.commit("base")
    repo.checkout("stable-4.20", new=True)
    repo.commit("4.20.0")
    repo.tag("RELEASE-4.20.0")
    repo.commit("on line")
    repo.tag("v4.20.1")
    repo.tag("RELEASE-4.20.2-rc1")  # not a release
    repo.checkout("master")
    repo.commit("unstable only")
    repo.tag("RELEASE-4.20.9")  # looks like one, but is not on the line
    repo.tag("RELEASE-4.21.0")
    session = Session.open(str(tmp_path))
    (line,) = session.lines
    assert [r.tag for r in line.releases] == ["RELEASE-4.20.0", "v4.20.1"]
    assert line.last_release.tag == "v4.20.1"


def test_releases_are_walked_for_once_per_tip_and_tags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reachability walk is cached by the line's tip and its tags: a re-run
    asks git for the tag listing only, and a new tip or tag is walked again."""
    repo = RepoBuilder(tmp_path)
    repo.commit("base")
    repo.checkout("stable-4.20", new=True)
    repo.commit("4.20.0")
    repo.tag("RELEASE-4.20.0")
    repo.checkout("master")
    repo.commit("unstable only")
    trace = tmp_path / "trace"

    def releases_and_walks() -> tuple[list[str], int]:
        monkeypatch.setenv("GIT_TRACE", str(trace))
        session = Session.open(str(tmp_path))
        tags = [r.tag for r in session.lines[0].releases]
        monkeypatch.delenv("GIT_TRACE")
        walks = trace.read_text().count("--merged")
        trace.unlink()
        return tags, walks

    assert releases_and_walks() == (["RELEASE-4.20.0"], 1)
    assert releases_and_walks() == (["RELEASE-4.20.0"], 0)
    repo.tag("RELEASE-4.20.1", at="master")  # a new tag, not on the line
    assert releases_and_walks() == (["RELEASE-4.20.0"], 1)
    repo.checkout("stable-4.20")
    repo.git("merge", "-q", "master")  # now the line reaches it
    assert releases_and_walks() == (["RELEASE-4.20.0", "RELEASE-4.20.1"], 1)
    assert releases_and_walks() == (["RELEASE-4.20.0", "RELEASE-4.20.1"], 0)


def test_line_flag_limits_and_sets_ref(tmp_path: Path) -> None:
    repo = RepoBuilder(tmp_path)
    repo.commit("base")
    repo.branch("stable-4.19")
    repo.branch("stable-4.20")
    repo.tag("RELEASE-4.20.0")
    assert lines_of(tmp_path, "4.20") == [("4.20", "stable-4.20")]
    assert lines_of(tmp_path, "4.20=RELEASE-4.20.0") == [("4.20", "RELEASE-4.20.0")]
    assert lines_of(tmp_path, "4.21=master") == [("4.21", "master")]


def test_maintained_and_oldest_from_config(tmp_path: Path) -> None:
    repo = RepoBuilder(tmp_path)
    repo.commit("base")
    for name in ("stable-4.17", "stable-4.18", "stable-4.19", "stable-4.20"):
        repo.branch(name)
    repo.git("config", "backport.oldest", "4.19")
    assert [v for v, _ in lines_of(tmp_path)] == ["4.19", "4.20"]
    repo.git("config", "--unset", "backport.oldest")
    repo.git("config", "--add", "backport.maintained", "4.17")
    repo.git("config", "--add", "backport.maintained", "4.20")
    assert [v for v, _ in lines_of(tmp_path)] == ["4.17", "4.20"]
    session = Session.open(str(tmp_path))
    assert [str(v) for v in session.known_versions] == ["4.17", "4.18", "4.19", "4.20"]


@pytest.mark.parametrize(
    "args, code, words",
    [
        (["--line", "4.30", "scan"], 2, "no stable line 4.30 found; known lines: 4.20"),
        (["--line", "four", "scan"], 2, "bad --line 'four'"),
        (["--line", "4.20=", "scan"], 2, "bad --line"),
        (["--line", "4.20=-rf", "scan"], 2, "invalid revision '-rf'"),
        (["--line", "4.20=nope", "scan"], 3, "line 4.20: unknown revision 'nope'"),
        (["--unstable", "nope", "scan"], 3, "unknown revision 'nope' for the unstable branch"),
    ],
)
def test_bad_line_and_ref_arguments(tmp_path: Path, run, args: list[str], code: int, words: str) -> None:
    repo = RepoBuilder(tmp_path)
    repo.commit("base")
    repo.branch("stable-4.20")
    result = run(*args, repo=tmp_path)
    assert result.code == code, result
    assert words in result.err
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
