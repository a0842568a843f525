"""`nominate` and `skip` write notes, appending and never clobbering."""

from __future__ import annotations

from pathlib import Path

from builder import xen_like

from backport.scan.scanner import scan
from backport.session import Session


def note(repo, commit: str) -> str:
    return repo.git("notes", "--ref=refs/notes/backport", "show", commit)


def test_nominate_and_skip_append(tmp_path: Path, run) -> None:
    repo, _ = xen_like(tmp_path)
    sha = repo.commit("x86: fix", {"x": "1"})
    repo.note(sha, "Reviewed-note: keep me")
    assert run("nominate", sha[:10], "--to", "4.20", "-m", "needed by XSA-1", repo=tmp_path).code == 0
    result = run("skip", sha, "--line", "4.19", "-m", "code not there", repo=tmp_path)
    assert result.code == 0, result
    assert note(repo, sha).splitlines() == [
        "Reviewed-note: keep me",
        "",
        "Backport-to: 4.20 # needed by XSA-1",
        "",
        "Backport-skip: 4.19 # code not there",
    ]
    again = run("nominate", sha, "--to", "4.20", "-m", "needed by XSA-1", repo=tmp_path)
    assert again.code == 0 and "already noted" in again.out
    session = Session.open(str(tmp_path))
    (candidate,) = scan(session.git, "staging", session.unstable.commit, session.lines, session.known_versions, session.grammar).candidates
    assert [n.kind for n in candidate.nominations] == ["request", "skip"]


def test_nominate_refuses_bad_input(tmp_path: Path, run) -> None:
    repo, _ = xen_like(tmp_path)
    sha = repo.commit("x86: fix")
    repo.checkout("stable-4.20")
    off_unstable = repo.commit("only on the line")
    cases = [
        (("nominate", "nope", "--to", "4.20"), "unknown commit 'nope'"),
        (("nominate", sha, "--to", "4.2O"), "malformed version '4.2O'"),
        (("nominate", sha, "--to", "4.2"), "unknown stable line 4.2"),
        (("nominate", sha, "--to", "none"), "'none' is not a line"),
        (("nominate", off_unstable, "--to", "4.20"), "is not on staging"),
        (("skip", sha, "--line", "4.19+", "-m", "x"), "names several lines"),
        (("skip", sha, "--line", "4.19", "-m", " "), "an empty reason"),
    ]
    for args, words in cases:
        result = run(*args, repo=tmp_path)
        assert result.code == 2, (args, result)
        assert words in result.err, (args, result.err)
    assert repo.git("for-each-ref", "refs/notes") == ""
