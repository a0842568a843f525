"""The scanner on real repositories: every nomination source, problems, range."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import string
import subprocess
from datetime import datetime
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


def git_without_pcre(monkeypatch: pytest.MonkeyPatch, where: Path) -> None:
    """From now on, `git` is the real one as built without PCRE: it refuses
    `-P` at once, with that build's message and exit code, before any output."""
    real = shutil.which("git")
    assert real is not None
    where.mkdir()
    shim = where / "git"
    shim.write_text(
        "#!/bin/sh\n"
        "for arg; do\n"
        '  case "$arg" in -P|--perl-regexp)\n'
        '    echo "fatal: cannot use Perl-compatible regexes when not compiled with USE_LIBPCRE" >&2; exit 128;;\n'
        "  esac\n"
        "done\n"
        f'exec {shlex.quote(real)} "$@"\n'
    )
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{where}{os.pathsep}{os.environ['PATH']}")
    assert subprocess.run(["git", "log", "-1", "-P", "--grep=^"], capture_output=True, cwd=where).returncode == 128


@pytest.mark.parametrize("pcre", [True, False], ids=["PCRE", "ERE: git without PCRE"])
def test_records_that_straddle_stream_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pcre: bool) -> None:
    """A nomination is found however git's output is cut."""
    import backport.git

    repo, _ = xen_like(tmp_path / "repo")
    if not pcre:
        git_without_pcre(monkeypatch, tmp_path / "bin")
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
        candidates = scanned(tmp_path / "repo").candidates
        assert [c.commit for c in candidates] == expected, size
        assert [c.order for c in candidates] == sorted(c.order for c in candidates)
        assert candidates[0].order == 0


# Keys that mean something to one regex syntax or another, keys that start
# with other keys, a key git folds the case of only in part (git config
# splits a value at blanks and commas: none here).
ODD_KEYS = (
    "Backport-to",
    "Backport",
    "Stable+Pick.*",
    "a{2}b",
    "x|y",
    "^k$",
    "(p)",
    "[q]",
    "c++?",
    "back\\slash",
    "\\w",
    "Rück-port",
    string.punctuation.replace(",", ""),
)


@pytest.mark.parametrize(
    "author",
    ["Two  Spaces\t <two@example.org>   1700000000   -0430", "no-email-no-date", "No Date <nd@example.org>"],
)
@pytest.mark.parametrize("pcre", [True, False], ids=["PCRE", "ERE: git without PCRE"])
def test_odd_idents_are_shown_as_git_log_shows_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, author: str, pcre: bool
) -> None:
    repo, _ = xen_like(tmp_path / "repo")
    if not pcre:
        git_without_pcre(monkeypatch, tmp_path / "bin")
    tree, parent = repo.head("HEAD^{tree}"), repo.head()
    raw = f"tree {tree}\nparent {parent}\nauthor {author}\ncommitter {author}\n\nodd: fix\n\nBackport-to: 4.20\n"
    sha = repo.git("hash-object", "-t", "commit", "-w", "--literally", "--stdin", input=raw)
    repo.git("update-ref", "refs/heads/staging", sha)
    [candidate] = scanned(tmp_path / "repo").candidates
    assert candidate.commit == sha
    assert f"[{candidate.author}]" == repo.git("log", "-1", "--format=[%an <%ae>]", sha)
    datetime.fromisoformat(candidate.date)


def test_pcre_and_ere_scans_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where git has PCRE it keeps the messages that matter with `log -P
    --grep`; a git without refuses -P, and the same reading runs with `log
    -E --grep`. The same history must give the same result either way:
    every source, notes on commits whose message says nothing, merged side
    branches, odd encodings, revert lines, and keys with regex characters
    in them, in any case, some starting with others."""

    repo = RepoBuilder(tmp_path / "repo", branch="staging")
    for key in ODD_KEYS:
        repo.git("config", "--add", "backport.keys", key)
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
    for i, key in enumerate(ODD_KEYS[3:]):
        repo.commit(f"odd {i}\n\n{key.upper() if i % 2 and key.isascii() else key}\t: 4.19\n")
        repo.commit(f"near {i}\n\n{key[:-1]}: 4.19\n{key}x: 4.19\n x{key}: 4.19\n")
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
    repo.commit("says it in the middle\n\nsee: this reverts commit 1234567890ab\n")

    with_pcre = scanned(tmp_path / "repo")
    git_without_pcre(monkeypatch, tmp_path / "bin")
    without = scanned(tmp_path / "repo")
    assert with_pcre == without
    subjects = [c.subject for c in without.commits]
    assert {"silent, nominated by a note", "side work", "odd key", "more", 'Revert "after every fork"'} <= set(subjects)
    assert {f"odd {i}" for i in range(len(ODD_KEYS) - 3)} <= set(subjects), subjects
    assert not {"not the odd key", "says it in the middle"} & set(subjects)
    assert not any(subject.startswith("near ") for subject in subjects), subjects
    assert [c.order for c in without.commits] == sorted(c.order for c in without.commits)
    assert any("4.x" in p.text for p in without.problems)


@pytest.mark.parametrize(
    "keys",
    [(*ODD_KEYS, "sp ace", string.punctuation), ("Backport", "Backport-to", "Backport-skip"), ("Back\nport", "Backport-to"), ()],
    ids=["odd keys", "keys that start with others", "a key with a line break", "no keys"],
)
def test_git_keeps_the_same_commits_with_either_syntax(tmp_path: Path, keys: tuple[str, ...]) -> None:
    """The two filters, to each other and to the parser's rule
    (config.key_line): the commits each keeps from the same history. git
    folds the case of ASCII letters only, so a key's other letters are
    written as the key has them."""
    from backport.config import key_line
    from backport.git import Git
    from backport.scan.history import ERE, PCRE, grep

    repo = RepoBuilder(tmp_path, branch="staging")
    messages = []
    for key in (*ODD_KEYS, "sp ace", string.punctuation, "Back\nport", "Backport-skip"):
        for written in {key, key.swapcase(), key.lower(), key[:-1], f"{key}x", f"x{key}", key.replace("\\", "")}:
            for separator in (":", " \t :", " x:"):
                messages.append(f"subject\n\n{written}{separator} 4.19\n")
    messages += ["a revert\n\nThis reverts commit 1234567890ab.\n", "not one\n\nsee: This reverts commit 1234567890ab\n"]
    for message in messages:
        repo.git("commit", "-q", "--allow-empty", "--cleanup=verbatim", "-m", message)
    git = Git(str(tmp_path))

    def kept(engine: str) -> set[str]:
        shown = git.run(["log", "-z", "--format=%B", *grep(keys, engine), "staging", "--"]).stdout.decode()
        return {message for message in shown.split("\0") if message}

    by_pcre, by_ere = kept(PCRE), kept(ERE)
    assert by_pcre == by_ere
    usable = [k.lower() for k in keys if "\n" not in k]
    # the parser's rule on bytes: Python then folds the case of ASCII letters only, as git does
    rule = (key_line(usable) + "|" if usable else "") + "^this reverts commit "
    assert by_ere == {m for m in messages if re.search(rule.encode(), m.encode(), re.MULTILINE | re.IGNORECASE)}
    assert "a revert\n\nThis reverts commit 1234567890ab.\n" in by_ere


@pytest.mark.parametrize("pcre", [True, False], ids=["PCRE", "ERE: git without PCRE"])
@pytest.mark.parametrize("shape", ["one commit outside", "a side branch from before the fork", "criss-cross", "no common history"])
def test_the_scan_base_is_the_oldest_lines_fork_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pcre: bool, shape: str
) -> None:
    """The base is what `git merge-base` says, whether it is read from the
    commits just outside the range (one: it is the fork point) or asked."""
    repo, ids = xen_like(tmp_path / "repo")
    if not pcre:
        git_without_pcre(monkeypatch, tmp_path / "bin")  # stable-4.19 forked at pre19
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
    result = scanned(tmp_path / "repo")
    oldest = "stable-4.18" if shape == "no common history" else "stable-4.19"
    merge_base = subprocess.run(
        ["git", "merge-base", "--all", "staging", oldest], cwd=tmp_path / "repo", capture_output=True, text=True
    ).stdout.split()
    assert result.base == (merge_base[0] if merge_base else None)
    if shape == "criss-cross":
        assert len(merge_base) == 2
