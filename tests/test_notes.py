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
    assert again.code == 0 and "already nominated for 4.20" in again.out
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
        (("skip", sha, "--for", "4.19+", "-m", "x"), "names several lines"),
        (("skip", sha, "--for", "4.19", "-m", " "), "an empty reason"),
    ]
    for args, words in cases:
        result = run(*args, repo=tmp_path)
        assert result.code == 2, (args, result)
        assert words in result.err, (args, result.err)
    assert repo.git("for-each-ref", "refs/notes") == ""


def test_no_key_to_write_with_is_an_error_not_a_note_nobody_reads(tmp_path: Path, run) -> None:
    repo, _ = xen_like(tmp_path)
    sha = repo.commit("x86: fix")
    repo.git("config", "backport.keys", "")
    result = run("nominate", sha, "--to", "4.20", repo=tmp_path)
    assert result.code == 2 and result.err.count("\n") == 1
    assert "no key to nominate with: keys is empty (git config backport.keys)" in result.err
    repo.git("config", "--unset", "backport.keys")
    repo.git("config", "backport.skipKeys", "")
    result = run("skip", sha, "--for", "4.19", "-m", "not there", repo=tmp_path)
    assert result.code == 2 and result.err.count("\n") == 1 and "Traceback" not in result.err
    assert "no key to decline with: skip-keys is empty" in result.err
    assert repo.git("for-each-ref", "refs/notes") == ""


# -- the same decision twice, a wrong line, a contradiction ----------------------------------


def test_the_same_request_twice_is_a_no_op_that_says_so(tmp_path: Path, run) -> None:
    repo, _ = xen_like(tmp_path)
    sha = repo.commit("x86: fix\n\nBackport-to: 4.19+\n", {"x": "1"})
    # in its message already: with or without a comment, as one line or the range
    for args, versions in ((("--to", "4.20"), "4.20"), (("--to", "4.19", "-m", "again"), "4.19"), (("--to", "4.19+"), "4.19, 4.20")):
        result = run("nominate", sha, *args, repo=tmp_path)
        assert result.code == 0 and result.err == ""
        assert result.out == f"{sha[:12]}: already nominated for {versions} ('Backport-to: 4.19+' in its message), nothing to do\n"
    assert repo.git("for-each-ref", "refs/notes") == ""
    # in its note: the second time says so, and the note holds the line once
    other = repo.commit("x86: other", {"y": "1"})
    assert run("nominate", other, "--to", "4.20", repo=tmp_path).code == 0
    twice = run("nominate", other, "--to", "4.20", "-m", "really", repo=tmp_path)
    assert twice.out == f"{other[:12]}: already nominated for 4.20 ('Backport-to: 4.20' in its note), nothing to do\n"
    assert note(repo, other) == "Backport-to: 4.20"
    # skip likewise
    assert run("skip", other, "--for", "4.19", "-m", "no", repo=tmp_path).code == 0
    again = run("skip", other, "--for", "4.19", "-m", "still no", repo=tmp_path)
    assert again.out == f"{other[:12]}: already declined for 4.19 ('Backport-skip: 4.19 # no' in its note), nothing to do\n"
    assert note(repo, other).splitlines() == ["Backport-to: 4.20", "", "Backport-skip: 4.19 # no"]


def test_a_wrong_line_in_the_note_is_replaced_only_with_fix(tmp_path: Path, run) -> None:
    repo, _ = xen_like(tmp_path)
    sha = repo.commit("x86: fix", {"x": "1"})
    repo.note(sha, "Reviewed-note: keep me\nBackport-to: 4.2O\nBackport-to: 4.21 # typo")
    result = run("nominate", sha, "--to", "4.20", repo=tmp_path)
    assert result.code == 2 and result.out == ""
    assert result.err == (
        f"backport: error: the note on {sha[:12]} already has 'Backport-to: 4.2O' "
        "(malformed version '4.2O' (expected e.g. 4.20, 4.18+ or none)); run again with --fix to replace it\n"
    )
    fixed = run("nominate", sha, "--to", "4.20", "--fix", repo=tmp_path)
    assert fixed.code == 0, fixed
    assert fixed.out.startswith(f"{sha[:12]}: replaced 'Backport-to: 4.21 # typo', 'Backport-to: 4.2O' with 'Backport-to: 4.20'")
    assert note(repo, sha).splitlines() == ["Reviewed-note: keep me", "Backport-to: 4.20"]
    again = run("nominate", sha, "--to", "4.20", "--fix", repo=tmp_path)
    assert "already nominated for 4.20" in again.out


def test_a_wrong_line_in_the_message_is_said_and_the_note_added(tmp_path: Path, run) -> None:
    repo, _ = xen_like(tmp_path)
    sha = repo.commit("x86: fix\n\nBackport-to: 4.21\n", {"x": "1"})
    result = run("nominate", sha, "--to", "4.20", repo=tmp_path)
    assert result.code == 0
    assert "message has 'Backport-to: 4.21' (unknown stable line 4.21" in result.err
    assert note(repo, sha) == "Backport-to: 4.20"


def test_nominating_what_is_declined_says_how_to_change_the_decision(tmp_path: Path, run) -> None:
    repo, _ = xen_like(tmp_path)
    sha = repo.commit("x86: fix", {"x": "1"})
    assert run("skip", sha, "--for", "4.19", "-m", "not there", repo=tmp_path).code == 0
    result = run("nominate", sha, "--to", "4.19+", repo=tmp_path)
    assert result.code == 2
    assert f"{sha[:12]} is declined for 4.19 ('Backport-skip: 4.19 # not there' in its note)" in result.err
    assert "git notes --ref=refs/notes/backport edit" in result.err
    assert run("nominate", sha, "--to", "4.20", repo=tmp_path).code == 0  # another line is another decision
