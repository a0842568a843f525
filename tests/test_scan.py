"""The scanner on real repositories: every nomination source, problems, range."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from builder import RepoBuilder, xen_like

from backport.scan.scanner import scan
from backport.session import Session


def scanned(path: Path, *args: str):
    session = Session.open(str(path), line_specs=args)
    return scan(session.git, session.unstable.ref, session.unstable.commit, session.lines, session.known_versions, session.grammar)


def by_subject(result):
    return {c.subject: c for c in result.commits}


def test_every_source_is_found(tmp_path: Path) -> None:
    repo, ids = xen_like(tmp_path)
    a = repo.commit("x86: fix A\n\nSigned-off-by: A <a@b>\nBackport-to: 4.20\n", {"a": "1"})
    b = repo.commit("arm: fix B\n\nBackport: 4.19+ # maybe older\n\nSigned-off-by: A <a@b>\n", {"b": "1"})
    c = repo.commit("tools: fix C", {"c": "1"})
    d = repo.commit("docs: D\n\nbackport-to: none # docs only\n", {"d": "1"})
    repo.note(c, "Backport-to: 4.19")
    repo.note(a, "Backport-skip: 4.19 # not affected")
    result = scanned(tmp_path)
    found = by_subject(result)
    assert [n.text for n in found["x86: fix A"].nominations] == ["Backport-to: 4.20", "Backport-skip: 4.19 # not affected"]
    assert [n.source for n in found["x86: fix A"].nominations] == ["trailer", "note"]
    assert found["arm: fix B"].nominations[0].misplaced
    assert found["arm: fix B"].nominations[0].comment == "maybe older"
    assert found["tools: fix C"].nominations[0].source == "note"
    assert found["docs: D"].declined
    assert [c.commit for c in result.candidates] == [a, b, c, d]
    assert result.problems == ()


def test_order_is_unstable_order_oldest_first(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    first = repo.commit("one\n\nBackport-to: 4.20\n")
    repo.commit("plain")
    second = repo.commit("two\n\nBackport-to: 4.20\n")
    candidates = scanned(tmp_path).candidates
    assert [c.commit for c in candidates] == [first, second]
    assert candidates[0].order < candidates[1].order


def test_scan_stops_at_the_oldest_lines_fork_point(tmp_path: Path) -> None:
    repo = RepoBuilder(tmp_path, branch="staging")
    old = repo.commit("ancient\n\nBackport-to: 4.19\n")
    repo.branch("stable-4.19")
    new = repo.commit("recent\n\nBackport-to: 4.19\n")
    assert [c.commit for c in scanned(tmp_path).candidates] == [new]
    assert old not in {c.commit for c in scanned(tmp_path).commits}


def test_malformed_and_unknown_values_are_problems_not_dropped(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    bad = repo.commit("bad\n\nBackport-to: 4.2O\nBackport-to: 4.2\nBackport-to: 4.30+\n")
    repo.note(bad, "Backport-to: 5.0")
    result = scanned(tmp_path)
    assert [(p.commit, p.text) for p in result.problems] == [
        (bad, "Backport-to: 4.2O"),
        (bad, "Backport-to: 4.2"),
        (bad, "Backport-to: 4.30+"),
        (bad, "Backport-to: 5.0"),
    ]
    errors = [p.error for p in result.problems]
    assert "malformed version '4.2O'" in errors[0]
    assert errors[1] == "unknown stable line 4.2 (known: 4.19, 4.20)"
    assert errors[2] == "no stable line 4.30 or newer (known: 4.19, 4.20)"


def test_unmaintained_but_existing_line_is_not_a_problem(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    repo.commit("x\n\nBackport-to: 4.19\n")
    result = scanned(tmp_path, "4.20")
    assert result.problems == ()


def test_fixes_and_reverts_are_recorded(tmp_path: Path) -> None:
    repo, ids = xen_like(tmp_path)
    repo.commit(f"fix\n\nFixes: {ids['pre20'][:12]} (\"pre\")\n")
    nominated = repo.commit("feature\n\nBackport-to: 4.20\n", {"f": "1"})
    repo.git("revert", "--no-edit", nominated)
    commits = by_subject(scanned(tmp_path))
    assert commits["fix"].fixes == (ids["pre20"][:12],)
    assert commits['Revert "feature"'].reverts == (nominated,)


def test_non_utf8_messages_are_read(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    (tmp_path / "msg").write_bytes("caf\xe9: fix\n\nBackport-to: 4.20\n".encode("latin-1"))
    repo.git("-c", "i18n.commitEncoding=ISO-8859-1", "commit", "-q", "--allow-empty", "-F", str(tmp_path / "msg"))
    (tmp_path / "msg").write_bytes(b"raw \xff\xfe bytes\n\nBackport-to: 4.19\n")
    repo.git("commit", "-q", "--allow-empty", "-F", str(tmp_path / "msg"))
    candidates = scanned(tmp_path).candidates
    assert candidates[0].subject == "café: fix"  # declared latin-1: re-encoded by git
    # undeclared bytes: whatever git makes of them, readable text, never an error
    assert candidates[1].subject.startswith("raw ") and candidates[1].subject.endswith(" bytes")
    assert [str(n.requests[0].version) for c in candidates for n in c.nominations] == ["4.20", "4.19"]


def test_scan_cli_text_and_json(tmp_path: Path, run) -> None:
    repo, _ = xen_like(tmp_path)
    sha = repo.commit("x86: fix\n\nBackport-to: 4.19+ # also older\n")
    text = run("scan", repo=tmp_path)
    assert text.code == 0, text
    assert "x86: fix" in text.out and "for 4.19, 4.20" in text.out
    result = run("scan", "--format", "json", repo=tmp_path)
    import json

    document = json.loads(result.out)
    assert document["schema"] == 1
    assert document["candidates"] == [
        {
            "commit": sha,
            "subject": "x86: fix",
            "author": "Ada Author <ada@example.org>",
            "date": document["candidates"][0]["author_date"],
            "author_date": repo.git("log", "-1", "--format=%aI", sha),
            "commit_date": repo.git("log", "-1", "--format=%cI", sha),
            "nominations": [{"source": "trailer", "text": "Backport-to: 4.19+ # also older"}],
        }
    ]
    assert document["problems"] == []


def test_scan_cache_hits_and_follows_history_and_notes(tmp_path: Path) -> None:
    from backport.cache import Cache

    repo, _ = xen_like(tmp_path)
    sha = repo.commit("x86: fix\n\nBackport-to: 4.20\n")
    session = Session.open(str(tmp_path))
    cache = Cache.open(session.repo)

    def cached():
        s = Session.open(str(tmp_path))
        return scan(s.git, s.unstable.ref, s.unstable.commit, s.lines, s.known_versions, s.grammar, cache=cache)

    cold = cached()
    entries = list((Path(session.repo.common_dir) / "backport-cache").rglob("scan/*/*.json"))
    assert len(entries) == 1
    assert cached() == cold  # warm: read back equal, records and all
    repo.note(sha, "Backport-skip: 4.19 # no")
    assert [n.kind for n in cached().candidates[0].nominations] == ["request", "skip"]
    repo.commit("another\n\nBackport-to: 4.19\n")
    assert len(cached().candidates) == 2
    for entry in (Path(session.repo.common_dir) / "backport-cache").rglob("*.json"):
        entry.write_text("{ corrupt")
    assert len(cached().candidates) == 2


def git_without_pcre(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make git behave as one built without PCRE: it refuses `log -P` at once,
    and the probe says it cannot."""
    import backport.scan.scanner

    monkeypatch.setattr(backport.scan.scanner, "_PERL", ("--no-such-option",))
    monkeypatch.setattr(backport.scan.scanner, "_has_pcre", lambda git, commit: False)


@pytest.mark.parametrize("git_filters", [True, False], ids=["git -P --grep", "whole log"])
def test_records_that_straddle_stream_chunks(tmp_path: Path, monkeypatch, git_filters: bool) -> None:
    """Both ways of reading find a nomination however git's output is cut."""
    import backport.git
    import backport.scan.scanner

    if not git_filters:
        git_without_pcre(monkeypatch)
    repo, _ = xen_like(tmp_path)
    expected = []
    for i in range(40):
        body = "x" * (i * 7 % 50)
        if i % 3 == 0:
            expected.append(repo.commit(f"c{i}\n\n{body}\n\nBackport-to: 4.20\n"))
        else:
            repo.commit(f"c{i}\n\n{body}\n")
    noted = repo.commit("noted only")
    repo.note(noted, "Backport-to: 4.19")
    expected.append(noted)
    for size in (1, 7, 64, 1 << 20):
        monkeypatch.setattr(backport.git, "_CHUNK", size)
        candidates = scanned(tmp_path).candidates
        assert [c.commit for c in candidates] == expected, size
        assert [c.order for c in candidates] == sorted(c.order for c in candidates)
        assert candidates[0].order == 0


def test_commit_details_read_like_git_log(tmp_path: Path) -> None:
    """Author, dates and parents from raw objects agree with git log's own rendering."""
    from backport.git import Git
    from backport.scan.scanner import commit_details

    repo, _ = xen_like(tmp_path)
    env = {"GIT_AUTHOR_NAME": "Roger Pau Monné", "GIT_AUTHOR_DATE": "1700000000 -0430"}
    repo.git("commit", "-q", "--allow-empty", "-m", "utf-8 author", env=env)
    (tmp_path / "msg").write_bytes("latin\n".encode("latin-1"))
    repo.git(
        "-c", "i18n.commitEncoding=ISO-8859-1", "commit", "-q", "--allow-empty", "-F", str(tmp_path / "msg"),
        env={"GIT_AUTHOR_NAME": "J\xf6rg"},
    )
    repo.git("merge", "-q", "--no-ff", "-m", "merge", "stable-4.20", env={"GIT_COMMITTER_DATE": "1700000500 +0545"})
    git = Git(str(tmp_path))
    for sha in repo.git("rev-list", "-4", "HEAD").split():
        raw = git.run(["cat-file", "commit", sha]).stdout
        expected = repo.git("log", "-1", "--format=%an <%ae>%n%aI%n%cI%n%P", sha).split("\n")
        details = commit_details(raw)
        assert [details["author"], details["date"], details["committed"], " ".join(details["parents"])] == expected


@pytest.mark.parametrize(
    "author",
    [
        "Ada Author <ada@example.org> 1700000000 +0100",
        "Two  Spaces\t <two@example.org>   1700000000   -0430",
        "<no-name@example.org> 1700000000 +0000",
        "no-email-no-date",
        "Open <bracket 1700000000 +0000",
        "Extra <a@b>c> 1700000000 +0000",
        "No Date <nd@example.org>",
        "Bad Date <bd@example.org> 17000000x0 +0000",
        "No Zone <nz@example.org> 1700000000",
        "Short Zone <sz@example.org> 1700000000 +100",
        "Far Zone <fz@example.org> 99999999999 +9999",
        "Huge <h@example.org> 99999999999999999999999 +0000",
        "Long Zone <lz@example.org> 1700000000 +99999999999",
    ],
)
def test_raw_objects_read_as_the_filtered_log_prints_them(tmp_path: Path, author: str) -> None:
    """commit_details (the whole-log path, from cat-file) gives what git log
    --date=raw prints for the filtered path, for well-formed idents and for
    every kind of broken one git log still reads."""
    from backport.git import Git
    from backport.scan.scanner import _DETAILED, _DETAILED_FIELDS, _details, commit_details

    repo, _ = xen_like(tmp_path)
    tree, parent = repo.head("HEAD^{tree}"), repo.head()
    raw = f"tree {tree}\nparent {parent}\nauthor {author}\ncommitter {author}\n\nodd: fix\n\nBackport-to: 4.20\n"
    sha = repo.git("hash-object", "-t", "commit", "-w", "--literally", "--stdin", input=raw)
    git = Git(str(tmp_path))
    shown = git.run(["log", "-1", "-z", "--date=raw", f"--format={_DETAILED}", sha, "--"]).stdout
    fields = shown.split(b"\0")[:_DETAILED_FIELDS]
    assert commit_details(git.run(["cat-file", "commit", sha]).stdout) == _details(*fields[2:])


def test_git_filtered_and_whole_log_scans_agree(tmp_path: Path, monkeypatch) -> None:
    """Where git has PCRE it filters the log itself (`log -P --grep`, in
    pieces cut at the lines' fork points, positions from rev-list); without,
    the whole log is filtered here. The same history must give the same
    result either way: every source, notes on commits whose message says
    nothing, merged side branches, odd encodings and keys with regex
    characters in them."""

    repo = RepoBuilder(tmp_path, branch="staging")
    repo.git("config", "backport.keys", "Backport-to")
    repo.git("config", "--add", "backport.keys", "Stable+Pick.*")
    repo.commit("base", {"a.c": "a\n"})
    repo.branch("stable-4.18")
    repo.tag("RELEASE-4.18.0", "stable-4.18")
    for i in range(12):
        repo.commit(f"work {i}\n\nBackport-to: 4.18\n" if i % 4 == 0 else f"work {i}", {f"w{i}.c": f"{i}\n"})
    repo.branch("stable-4.19")
    silent = repo.commit("silent, nominated by a note", {"s.c": "s\n"})
    repo.note(silent, "Backport-to: 4.18+")
    repo.commit("fix\n\nFixes: 1234567890ab (\"x\")\n")
    repo.commit("odd key\n\nSTABLE+PICK.* :   4.19\n")
    repo.commit("not the odd key\n\nStable+PickXX: 4.19\n")
    repo.commit("bad value\n\nBackport-to: 4.x\n")
    repo.commit("\x1b[31mred\x1b[0m subject\n\nBackport-to: 4.19\n", author="J\xf6rg Q <j@q.org>")
    repo.checkout("side", new=True, at="stable-4.19")
    repo.commit("side work\n\nBackport-to: 4.19\n", {"side.c": "1\n"})
    repo.commit("side plain", {"side.c": "2\n"})
    repo.checkout("staging")
    repo.commit("more\n\nBACKPORT-TO : 4.18 # upper case\n")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge side", "side", env=repo.dated())
    repo.branch("stable-4.20")
    late = repo.commit("after every fork\n\nBackport-to: 4.20\n", {"late.c": "late\n"})
    repo.git("revert", "--no-edit", late, env=repo.dated())
    repo.note(repo.head(), "Backport-skip: 4.19 # a note on a revert")

    filtered = scanned(tmp_path)
    git_without_pcre(monkeypatch)
    whole = scanned(tmp_path)
    assert filtered == whole
    subjects = [c.subject for c in whole.commits]
    assert {"silent, nominated by a note", "side work", "odd key", "more"} <= set(subjects), subjects
    assert "not the odd key" not in subjects
    assert [c.order for c in whole.commits] == sorted(c.order for c in whole.commits)
    assert any("4.x" in p.text for p in whole.problems)


@pytest.mark.parametrize("git_filters", [True, False], ids=["git -P --grep", "whole log"])
@pytest.mark.parametrize("shape", ["one commit outside", "a side branch from before the fork", "criss-cross", "no common history"])
def test_the_scan_base_is_the_oldest_lines_fork_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, git_filters: bool, shape: str
) -> None:
    """The base is what `git merge-base` says, whether it is read from the
    commits just outside the range (one: it is the fork point) or asked."""
    if not git_filters:
        git_without_pcre(monkeypatch)
    repo, ids = xen_like(tmp_path)  # stable-4.19 forked at pre19
    if shape == "a side branch from before the fork":
        repo.checkout("side", new=True, at=ids["base"])
        repo.commit("side work\n\nBackport-to: 4.20\n", {"side.c": "s\n"})
        repo.checkout("staging")
        repo.git("merge", "-q", "--no-ff", "-m", "Merge side", "side")  # base is now outside the range too
    elif shape == "criss-cross":
        repo.checkout("stable-4.19")
        repo.commit("4.19 work", {"s19.c": "1\n"})
        repo.git("merge", "-q", "--no-ff", "-m", "Merge staging into 4.19", ids["pre20"])
        repo.checkout("staging")
        repo.git("merge", "-q", "--no-ff", "-m", "Merge 4.19 into staging", f"{ids['pre20']}~0")
        repo.git("merge", "-q", "--no-ff", "-m", "Merge 4.19 work", "stable-4.19~1")
    elif shape == "no common history":
        repo.git("checkout", "-q", "--orphan", "stable-4.18")
        repo.commit("an unrelated line", {"o.c": "o\n"})
        repo.checkout("staging")
    repo.commit("fix\n\nBackport-to: 4.19\n", {"fix.c": "f\n"})
    result = scanned(tmp_path)
    oldest = "stable-4.18" if shape == "no common history" else "stable-4.19"
    merge_base = subprocess.run(
        ["git", "merge-base", "--all", "staging", oldest], cwd=tmp_path, capture_output=True, text=True
    ).stdout.split()
    assert result.base == (merge_base[0] if merge_base else None)
    if shape == "criss-cross":
        assert len(merge_base) == 2
