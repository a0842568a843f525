"""Bad input, odd repositories and faults: the matrix of issue 6.

Each case is a real repository. A run either gives the right answer or one
line on stderr with exit 2 (usage or configuration) or 3 (git or
repository), never a traceback; and the repository is exactly as it was.

What other files already show is not repeated here: the simulator on bare
clones and worktrees (test_simulate), a dirty tree and the user's own
cherry-pick for scan and check (test_check_cli), cache corruption at the
Cache level (test_cache), hostile HTML, Markdown and mail (test_report_cli,
test_check_formats), SIGTERM (test_review_fixes), the parser properties
(test_nominations, test_owners, test_tag).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from builder import ISOLATED_ENV, RepoBuilder, xen_like
from snapshot import CACHE_DIR, snapshot

NOW = "2025-06-01T12:00:00+00:00"
COMMANDS = [["scan"], ["check", "--now", NOW], ["report", "--now", NOW]]
IDS = ["scan", "check", "report"]
TEN = "".join(f"line {n}\n" for n in range(1, 11))


def edit(text: str, number: int, new: str) -> str:
    lines = text.splitlines(keepends=True)
    lines[number - 1] = new + "\n"
    return "".join(lines)


def busy(tmp: Path) -> RepoBuilder:
    """xen_like with one fix that picks clean on 4.19 and conflicts on 4.20."""
    repo, _ = xen_like(tmp)
    repo.checkout("stable-4.20")
    repo.commit("line change", {"xen/common/a.c": edit(TEN, 3, "line")})
    repo.checkout("staging")
    repo.commit("x86: fix\n\nBackport-to: 4.19+\n", {"xen/common/a.c": edit(TEN, 3, "fix")})
    return repo


def failed(result: Any, code: int, *words: str) -> None:
    """One line on stderr, the exit code asked for, nothing on stdout."""
    assert (result.code, result.out) == (code, ""), result
    assert result.err.startswith("backport: error: ") and result.err.count("\n") == 1, result
    assert "Traceback" not in result.err
    for word in words:
        assert word in result.err, (word, result.err)


def untouched(run: Callable[..., Any], path: Path, *args: str) -> Any:
    """Run backport at `path` and check that nothing a user could see changed."""
    with unchanged(path):
        return run(*args, repo=path)


@contextmanager
def unchanged(path: Path) -> Iterator[None]:
    """Nothing a user could see changes at `path` in the block (several runs share one snapshot)."""
    before = snapshot(path)
    yield
    assert snapshot(path) == before


def git(path: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **ISOLATED_ENV, "GIT_AUTHOR_DATE": "@1700100000 +0000", "GIT_COMMITTER_DATE": "@1700100000 +0000"}
    proc = subprocess.run(["git", *args], cwd=path, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {proc.stderr}")
    return proc


# -- where the repository is ------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_not_a_repository_missing_path_or_a_file(tmp_path: Path, run, command: list[str]) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    failed(run(*command, repo=plain), 3, "not a git repository", "--repo PATH")
    failed(run(*command, repo=tmp_path / "missing"), 3, "no such directory")
    (tmp_path / "file").write_text("x\n")
    failed(run(*command, repo=tmp_path / "file"), 3, "not a directory")


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_empty_repository(tmp_path: Path, run, command: list[str]) -> None:
    RepoBuilder(tmp_path)
    failed(untouched(run, tmp_path, *command), 3, "no unstable branch found", "--unstable")
    failed(untouched(run, tmp_path, "--unstable", "master", *command), 3, "unknown revision 'master'")


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One history seen as a plain clone, a bare clone, a linked worktree, a
    detached HEAD and from a subdirectory of the plain clone."""
    tmp = tmp_path_factory.mktemp("shapes")
    repo = busy(tmp / "plain")
    repo.git("clone", "-q", "--bare", str(repo.path), str(tmp / "bare.git"))
    repo.git("worktree", "add", "-q", str(tmp / "worktree"), "-b", "topic", "stable-4.19")
    detached = tmp / "detached"
    repo.git("clone", "-q", str(repo.path), str(detached))
    for branch in ("stable-4.19", "stable-4.20"):
        git(detached, "branch", branch, f"origin/{branch}")
    git(detached, "checkout", "-q", "--detach", "HEAD~1")
    return {
        "plain": repo.path,
        "bare": tmp / "bare.git",
        "worktree": tmp / "worktree",
        "detached": detached,
        "subdirectory": repo.path / "xen" / "common",  # git is run from the top all the same (pathspecs)
    }


@pytest.mark.parametrize("shape", ["bare", "worktree", "detached", "subdirectory"])
def test_bare_clone_worktree_and_detached_head_give_the_same_answer(shapes: dict[str, Path], run, shape: str) -> None:
    args = [("scan", "--format", "json"), ("check", "--now", NOW, "--format", "json"), ("report", "--now", NOW)]
    expected = [run(*command, repo=shapes["plain"]) for command in args]
    assert [r.code for r in expected] == [0, 0, 0], expected
    for where in shapes.values():  # cold: a linked worktree shares the plain clone's cache
        common = Path(where, git(where, "rev-parse", "--git-common-dir").stdout.strip())
        assert (common / CACHE_DIR).is_dir() or where != shapes["plain"]
        shutil.rmtree(common / CACHE_DIR, ignore_errors=True)
    for command, answer in zip(args, expected, strict=True):
        result = untouched(run, shapes[shape], "--unstable", "staging", *command)
        assert (result.code, result.err) == (0, ""), result
        assert result.out == answer.out, (shape, command)
    assert '"applies": "conflict"' in run("check", "--format", "json", "--now", NOW, repo=shapes[shape]).out


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_shallow_clone_names_the_fix(tmp_path: Path, run, command: list[str]) -> None:
    repo = busy(tmp_path / "origin")
    clone = tmp_path / "shallow"
    repo.git("clone", "-q", "--depth", "2", "--no-single-branch", f"file://{repo.path}", str(clone))
    result = untouched(run, clone, "--unstable", "origin/staging", *command)
    failed(result, 3, "shallow", "git fetch --unshallow")


# -- the user is in the middle of something -------------------------------------------


def _rebase(repo: RepoBuilder) -> None:
    repo.checkout("topic", new=True, at="stable-4.20~1")
    repo.commit("topic edit", {"xen/common/a.c": edit(TEN, 3, "topic")})
    assert git(repo.path, "rebase", "stable-4.20", check=False).returncode != 0
    assert (repo.path / ".git" / "rebase-merge").is_dir()


def _merge(repo: RepoBuilder) -> None:
    repo.checkout("stable-4.20")
    assert git(repo.path, "merge", "--no-edit", "staging", check=False).returncode != 0
    assert (repo.path / ".git" / "MERGE_HEAD").exists()


def _cherry_pick(repo: RepoBuilder) -> None:
    repo.checkout("stable-4.20")
    assert git(repo.path, "cherry-pick", "-x", "staging", check=False).returncode != 0
    assert (repo.path / ".git" / "CHERRY_PICK_HEAD").exists()


def _dirty(repo: RepoBuilder) -> None:
    repo.write({"xen/common/a.c": "uncommitted\n", "new.c": "new\n"})
    repo.git("add", "new.c")
    repo.write({"new.c": "staged, then edited\n"})


def _bisect(repo: RepoBuilder) -> None:
    git(repo.path, "bisect", "start", "staging", "stable-4.19")


USER_STATES = {"rebase": _rebase, "merge": _merge, "cherry-pick": _cherry_pick, "dirty": _dirty, "bisect": _bisect}
# scan and check during a cherry-pick or with a dirty tree: test_check_cli
STATE_CASES = [
    (state, command)
    for state in USER_STATES
    for command in COMMANDS
    if not (state in ("cherry-pick", "dirty") and command[0] != "report")
]


@pytest.mark.parametrize("state, command", STATE_CASES, ids=[f"{s}-{c[0]}" for s, c in STATE_CASES])
def test_the_users_own_work_in_progress_is_left_alone(tmp_path: Path, run, state: str, command: list[str]) -> None:
    repo = busy(tmp_path)
    USER_STATES[state](repo)
    result = untouched(run, repo.path, "--unstable", "staging", *command)
    assert (result.code, result.err) == (0, ""), result
    if command[0] != "scan":
        assert "conflict" in result.out


# -- bad input: refs, --line, --format, configuration ------------------------------------


@pytest.mark.parametrize(
    "setup, args, code, words",
    [
        (None, ["--unstable", "nope"], 3, ["unknown revision 'nope' for the unstable branch"]),
        (None, ["--unstable", "-x"], 2, ["invalid revision '-x'"]),
        ({"backport.unstable": "nope"}, [], 3, ["unknown revision 'nope'"]),
        ({"backport.unstable": "--exec=x"}, [], 2, ["invalid revision '--exec=x'"]),
        (None, ["--line", "4.20=nope"], 3, ["line 4.20: unknown revision 'nope'"]),
        (None, ["--line", "4.30"], 2, ["no stable line 4.30 found", "known lines: 4.19, 4.20"]),
        (None, ["--line", "4.20=-rf"], 2, ["invalid revision '-rf'"]),
        (None, ["--line", "four"], 2, ["bad --line 'four'"]),
        (None, ["--line", "4.20=HEAD", "--line", "4.20x"], 2, ["bad --line '4.20x'"]),
        ({"backport.lines": "4.21=nope"}, [], 3, ["line 4.21: unknown revision 'nope'"]),
        ({"backport.maintained": "4.30"}, [], 2, ["maintained line 4.30 has no branch"]),
        ({"backport.oldest": "four"}, [], 2, ["oldest: 'four' is not a version"]),
    ],
)
def test_bad_refs_and_lines(tmp_path: Path, run, setup: dict[str, str] | None, args: list[str], code: int, words: list[str]) -> None:
    repo = busy(tmp_path)
    for key, value in (setup or {}).items():
        repo.git("config", key, value)
    with unchanged(repo.path):
        for command in COMMANDS[1:]:  # scan: test_lines
            failed(run(*args, *command, repo=repo.path), code, *words)


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_unknown_format_and_option(tmp_path: Path, run, command: list[str]) -> None:
    repo = busy(tmp_path)
    with unchanged(repo.path):
        failed(run(*command, "--format", "xml", repo=repo.path), 2, "'xml'", "--format")
        failed(run(*command, "--frobnicate", repo=repo.path), 2, "--frobnicate")
    failed(run("frobnicate", repo=repo.path), 2, "frobnicate")


def _toml(repo: RepoBuilder, text: str | bytes) -> None:
    repo.commit("config", {".backport.toml": text})


@pytest.mark.parametrize(
    "setup, code, words",
    [
        (lambda r: _toml(r, "stale-after = 45\nkeys = = 1\n"), 2, [".backport.toml (staging)", "line 2"]),
        (lambda r: _toml(r, "maintained = 4.2O\n"), 2, [".backport.toml (staging)", "line 1"]),
        (lambda r: _toml(r, "stale-after = -3\n"), 2, [".backport.toml (staging): stale-after"]),
        (lambda r: _toml(r, "lines = 5\n"), 2, [".backport.toml (staging): lines"]),
        (lambda r: _toml(r, "[hook]\nfix-patterns = ['(']\n"), 2, ["hook.fix-patterns", "'('"]),
        (lambda r: _toml(r, "line-patterns = ['stable-(.*)']\n"), 2, ["line-patterns", "(?P<version>"]),
        (lambda r: _toml(r, b"keys = ['Backport-to']\n# caf\xe9\n"), 2, [".backport.toml (staging): not UTF-8"]),
        (lambda r: _toml(r, "lines = ['4.21']\n"), 2, ["configured line '4.21' has no ref"]),
        (lambda r: _toml(r, 'unstable = "nope"\n'), 3, ["unknown revision 'nope'", ".backport.toml (staging)"]),
        (lambda r: _toml(r, 'unstable = "--exec=x"\n'), 2, ["invalid revision '--exec=x'"]),
        (lambda r: r.git("config", "backport.staleAfter", "soon"), 2, ["git config backport.staleAfter"]),
        (lambda r: r.git("config", "backport.hook.strict", "maybe"), 2, ["git config backport.hook.strict"]),
    ],
    ids=["toml-syntax", "toml-bad-number", "toml-negative", "toml-type", "toml-regex", "toml-no-version-group",
         "toml-not-utf8", "toml-line-without-ref", "toml-unknown-unstable", "toml-option-unstable", "git-config-value", "git-config-flag"],
)
def test_malformed_configuration_names_the_key_or_line(tmp_path: Path, run, setup: Callable[[RepoBuilder], None], code: int, words: list[str]) -> None:
    repo = busy(tmp_path)
    setup(repo)
    with unchanged(repo.path):
        for command in COMMANDS:
            failed(run(*command, repo=repo.path), code, *words)


@pytest.mark.parametrize(
    "setup, code, source",
    [
        (lambda r: r.git("config", "backport.unstable", "nope"), 3, "git config backport.unstable"),
        (lambda r: r.git("config", "backport.unstable", "--exec=x"), 2, "git config backport.unstable"),
        (lambda r: _toml(r, 'unstable = "--exec=x"\n'), 2, ".backport.toml (staging)"),
    ],
    ids=["git-config-unknown", "git-config-option", "toml-option"],
)
def test_a_configured_unstable_ref_that_is_wrong_names_its_source(tmp_path: Path, run, setup: Callable[[RepoBuilder], None], code: int, source: str) -> None:
    repo = busy(tmp_path)
    setup(repo)
    result = run("check", repo=repo.path)
    failed(result, code)
    assert source in result.err.split(";")[0]


def test_a_git_config_file_git_cannot_read_names_the_file_and_line(tmp_path: Path, run) -> None:
    repo = busy(tmp_path)
    config = repo.path / ".git" / "config"
    text = config.read_text()
    config.write_text(text + "[backport\n\tstaleAfter = 3\n")
    bad = f"bad config line {text.count(chr(10)) + 1} in file .git/config"
    before = config.read_bytes()
    for command in COMMANDS:
        # snapshot() needs a readable config itself; the config file is what could change
        failed(run(*command, repo=repo.path), 2, bad)
        assert config.read_bytes() == before


# -- what commits carry: encodings, size, binaries, renames, submodules, merges, tags -------


def check_json(run: Callable[..., Any], path: Path, *args: str) -> dict[str, Any]:
    result = run(*args, "check", "--format", "json", "--now", NOW, repo=path)
    assert (result.code, result.err) == (0, ""), result
    return json.loads(result.out)


def targets(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(subject, version) -> target."""
    return {(c["subject"], t["version"]): t for c in document["candidates"] for t in c["targets"]}


def every_format_works(run: Callable[..., Any], path: Path, *args: str, mail: Path) -> None:
    """scan, check and report in every format, and report's mail: exit 0,
    nothing on stderr but what --mail says it wrote, nothing changed."""
    runs = [["scan"], ["scan", "--format", "json"]]
    runs += [[c, "--now", NOW, "--format", f] for c in ("check", "report") for f in ("text", "markdown", "html", "json")]
    with unchanged(path):
        for command in runs:
            result = run(*args, *command, repo=path)
            assert (result.code, result.err) == (0, ""), (command, result)
        result = run(*args, "report", "--now", NOW, "--mail", str(mail), repo=path)
    assert result.code == 0 and re.fullmatch(r"backport: wrote \d+ messages?\ to .*\n", result.err), result
    for message in mail.iterdir():
        headers = message.read_bytes().split(b"\n\n", 1)[0]
        assert all(line[:1] in b" \t" or b":" in line for line in headers.splitlines()), message


def test_messages_authors_notes_and_paths_that_are_not_utf8(tmp_path: Path, run) -> None:
    repo, _ = xen_like(tmp_path / "repo")
    msg = tmp_path / "msg"
    msg.write_bytes("caf\xe9: fix\n\nBackport-to: 4.19+\n".encode("latin-1"))
    latin = {"GIT_AUTHOR_NAME": "Zo\udceb"}  # b"Zo\xeb" in the environment: latin-1, as declared
    repo.write({"xen/common/cafe.c": "x\n"})
    repo.git("add", "-A")
    repo.git("-c", "i18n.commitEncoding=ISO-8859-1", "commit", "-q", "-F", str(msg), env=repo.dated(**latin))
    declared = repo.head()
    repo.checkout("stable-4.20")
    repo.commit("line adds it", {"caf\udce9.c": "line\n"})  # a path that is not UTF-8 either
    repo.checkout("staging")
    repo.write({"caf\udce9.c": "fix\n"})
    repo.git("add", "-A")
    msg.write_bytes(b"raw \xff\xfe bytes\n\nBackport-to: 4.19+ # d\xe9j\xe0\n")
    repo.git("commit", "-q", "-F", str(msg), env=repo.dated())
    msg.write_bytes(b"Backport-skip: 4.19 # d\xe9j\xe0 vu\n")
    repo.git("notes", "--ref=backport", "add", "-F", str(msg), declared)
    every_format_works(run, repo.path, mail=tmp_path / "mail")
    found = targets(check_json(run, repo.path))
    assert found[("café: fix", "4.19")]["state"] == "skipped"
    assert found[("café: fix", "4.20")]["applies"] == "clean"
    (raw,) = [c for c in check_json(run, repo.path)["candidates"] if c["subject"].startswith("raw ")]
    assert [(t["version"], t["applies"]) for t in raw["targets"]] == [("4.19", "clean"), ("4.20", "conflict")]
    assert raw["targets"][1]["conflicts"] == ["caf\\xe9.c"]  # the byte that is not UTF-8, shown
    assert "Zoë" in run("scan", repo=repo.path).out


def test_a_ten_thousand_file_commit(tmp_path: Path, run) -> None:
    repo, _ = xen_like(tmp_path)
    repo.git("config", "gc.auto", "0")  # no background gc from the builder's commits while we look
    repo.commit("owners", {"MAINTAINERS": "GEN\nM:\tGen Owner <gen@example.org>\nF:\tgen/\n"})
    # straight into the index, one blob for all: writing and adding 10,000
    # files would take most of this test's time (they stay out of the work tree)
    blob = repo.git("hash-object", "-w", "--stdin", input="generated\n")
    entries = "".join(f"100644 {blob}\tgen/{i // 100}/f{i}.c\n" for i in range(10_000))
    repo.git("update-index", "--index-info", input=entries)
    date = repo.tick()
    message = "gen: fix every file\n\nBackport-to: 4.19+\n"
    repo.git("commit", "-q", "-m", message, env={"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date})
    assert repo.git("diff-tree", "--no-commit-id", "-r", "--name-only", "HEAD").count("\n") == 9_999
    started = time.monotonic()
    found = targets(check_json(run, repo.path))
    assert time.monotonic() - started < 20
    assert [(t["state"], t["applies"], t["owners"]) for t in found.values()] == [
        ("pending", "clean", ["Gen Owner <gen@example.org>"])
    ] * 2
    result = untouched(run, repo.path, "report", "--now", NOW, "--format", "markdown")
    assert result.code == 0 and "Gen Owner" in result.out


def test_binary_files_and_renames(tmp_path: Path, run) -> None:
    repo = busy(tmp_path / "repo")
    repo.checkout("stable-4.20")
    repo.commit("line binary", {"fw/blob.bin": bytes(range(256)) * 8})
    repo.checkout("staging")
    repo.commit(
        "fw: new blob, move b.c\n\nBackport-to: 4.19+\n",
        {"fw/blob.bin": bytes(reversed(range(256))) * 8, "xen/common/b.c": None, "xen/common/moved-b.c": "b\n"},
    )
    every_format_works(run, repo.path, mail=tmp_path / "mail")
    found = targets(check_json(run, repo.path))
    assert found[("fw: new blob, move b.c", "4.19")]["applies"] == "clean"
    assert found[("fw: new blob, move b.c", "4.20")]["conflicts"] == ["fw/blob.bin"]
    text = run("check", "--now", NOW, repo=repo.path).out
    assert "fw/blob.bin" in text and "reproduce" in text


def _gitlink(repo: RepoBuilder, message: str, path: str, oid: str) -> None:
    """Commit a submodule entry without the submodule (what a clone without --recurse has)."""
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{oid},{path}")
    date = repo.tick()
    repo.git("commit", "-q", "-m", message, env={"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date})


def test_submodules(tmp_path: Path, run) -> None:
    repo, ids = xen_like(tmp_path / "repo")
    repo.checkout("stable-4.20")
    _gitlink(repo, "line: vendor at base", "vendor/lib", ids["base"])
    repo.checkout("staging")
    _gitlink(repo, "vendor: add lib at pre19\n\nBackport-to: 4.19+\n", "vendor/lib", ids["pre19"])
    every_format_works(run, repo.path, mail=tmp_path / "mail")
    found = targets(check_json(run, repo.path))
    assert found[("vendor: add lib at pre19", "4.19")]["applies"] == "clean"
    assert found[("vendor: add lib at pre19", "4.20")]["conflicts"] == ["vendor/lib"]


def test_merge_commits_on_unstable(tmp_path: Path, run) -> None:
    repo, ids = xen_like(tmp_path / "repo")
    repo.checkout("topic", new=True, at=ids["base"])  # older than both lines
    repo.commit("x86: topic fix\n\nBackport-to: 4.19+\n", {"xen/common/t.c": "t\n"})
    repo.checkout("staging")
    repo.commit("other work", {"xen/common/o.c": "o\n"})
    repo.git("merge", "-q", "--no-ff", "topic", "-m", "Merge topic\n\nBackport-to: 4.20\n",
             env={"GIT_AUTHOR_DATE": repo.tick(), "GIT_COMMITTER_DATE": repo.tick()})
    every_format_works(run, repo.path, mail=tmp_path / "mail")
    document = check_json(run, repo.path)
    found = targets(document)
    assert {k: (t["state"], t["applies"]) for k, t in found.items()} == {
        ("x86: topic fix", "4.19"): ("pending", "clean"),
        ("x86: topic fix", "4.20"): ("pending", "clean"),
        ("Merge topic", "4.20"): ("pending", "clean"),
    }
    assert "picked against its first parent" in run("check", "--now", NOW, repo=repo.path).out


def test_tags_that_look_like_releases_but_are_not(tmp_path: Path, run) -> None:
    repo = busy(tmp_path / "repo")
    repo.git("tag", "RELEASE-4.20.5", "stable-4.20^{tree}")  # a tree, not a commit
    blob = repo.git("hash-object", "-w", "--stdin", input="not a release\n")
    repo.git("tag", "-a", "-m", "blob", "RELEASE-4.20.6", blob)
    repo.git("tag", "RELEASE-4.20.99999999999999999999", "staging")  # on unstable only
    repo.git("tag", "RELEASE-4.20.1-rc1", "stable-4.20")
    repo.git("tag", "release-4.20", "stable-4.20")  # the line, not a point release
    every_format_works(run, repo.path, mail=tmp_path / "mail")
    lines = {line["version"]: line["last_release"] for line in check_json(run, repo.path)["lines"]}
    assert lines == {"4.19": "RELEASE-4.19.0", "4.20": "RELEASE-4.20.0"}


def test_output_shows_bytes_that_are_not_utf8_instead_of_failing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from backport.output import emit

    # what Python makes of the bytes b"dev\xe9" in argv or a path: a surrogate
    emit("staging dev\udce9 caf\udce9.c ä", None)
    emit("lone \ud800", str(tmp_path / "out.txt"))
    assert capsys.readouterr().out == "staging dev\\xe9 caf\\xe9.c ä\n"
    assert (tmp_path / "out.txt").read_text() == "lone \\ud800\n"


@pytest.mark.parametrize("command", COMMANDS + [["config"]], ids=IDS + ["config"])
def test_a_repository_directory_whose_name_is_not_utf8(tmp_path: Path, run, command: list[str]) -> None:
    repo = busy(tmp_path / "repo")
    odd = os.fsdecode(bytes(tmp_path) + b"/caf\xe9")
    repo.git("clone", "-q", str(repo.path), odd)
    for branch in ("stable-4.19", "stable-4.20"):
        git(Path(odd), "branch", branch, f"origin/{branch}")
    result = untouched(run, Path(odd), *command)
    assert (result.code, result.err) == (0, ""), result


@pytest.mark.parametrize("where", ["--unstable", "--line"])
def test_a_ref_name_that_is_not_utf8(tmp_path: Path, run, where: str) -> None:
    repo = busy(tmp_path)
    subprocess.run(["git", "branch", b"dev\xe9", "staging"], cwd=repo.path, check=True)
    subprocess.run(["git", "branch", b"line\xe9", "stable-4.20"], cwd=repo.path, check=True)
    args = ["--unstable", "dev\udce9"] if where == "--unstable" else ["--line", "4.20=line\udce9"]
    result = untouched(run, repo.path, *args, "check", "--now", NOW)
    assert (result.code, result.err) == (0, ""), result
    assert ("dev\\xe9" if where == "--unstable" else "line\\xe9") in result.out


def test_odd_commits_empty_message_broken_author_extreme_dates(tmp_path: Path, run) -> None:
    repo, _ = xen_like(tmp_path / "repo")
    repo.git("commit", "-q", "--allow-empty", "--allow-empty-message", "-m", "")
    repo.note(repo.head(), "Backport-to: 4.20")  # nominated by a note: there is no message to carry it
    tree, parent = repo.head("HEAD^{tree}"), repo.head()
    raw = (  # what git fsck would refuse, but git log reads
        f"tree {tree}\nparent {parent}\nauthor no-email-no-date\ncommitter Carl <c@x> 99999999999 +9999\n\n"
        "broken: fix\n\nBackport-to: 4.19+\n"
    )
    broken = repo.git("hash-object", "-t", "commit", "-w", "--literally", "--stdin", input=raw)
    repo.git("reset", "-q", "--soft", broken)
    for message, seconds, zone in (("future: fix", 4102444800, "+1400"), ("epoch: fix", 1, "-1200")):
        repo.write({f"{seconds}.c": "x\n"})
        repo.git("add", "-A")
        when = f"@{seconds} {zone}"
        repo.git("commit", "-q", "-m", f"{message}\n\nBackport-to: 4.20\n", env={"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when})
    every_format_works(run, repo.path, mail=tmp_path / "mail")
    found = targets(check_json(run, repo.path))
    assert {k: t["state"] for k, t in found.items()} == {
        ("", "4.20"): "applied",  # empty: nothing to pick
        ("broken: fix", "4.19"): "applied",  # its parent's tree: empty too
        ("broken: fix", "4.20"): "applied",
        ("future: fix", "4.20"): "pending",
        ("epoch: fix", "4.20"): "pending",
    }
    assert found[("future: fix", "4.20")]["age_days"] == 0


def test_odd_files_and_refs_maintainers_dir_binary_toml_dir_notes_ref_orphan_head(tmp_path: Path, run) -> None:
    repo, _ = xen_like(tmp_path / "repo")
    repo.commit("fix\n\nBackport-to: 4.19+\n", {"xen/common/a.c": "fixed\n", "MAINTAINERS": None, "MAINTAINERS/x": "dir"})
    repo.commit("toml as a directory", {".backport.toml/x": "not a file"})
    repo.git("update-ref", "refs/notes/backport", "staging~1")  # a plain commit, not a notes tree
    repo.git("checkout", "-q", "--orphan", "unborn")
    every_format_works(run, repo.path, mail=tmp_path / "mail")
    repo.git("checkout", "-q", "-f", "staging")
    (repo.path / "MAINTAINERS" / "x").unlink()
    (repo.path / "MAINTAINERS").rmdir()
    repo.commit("binary owners\n\nBackport-to: 4.20\n", {"MAINTAINERS": bytes(range(256)) * 10})
    every_format_works(run, repo.path, mail=tmp_path / "mail2")
    owners = {k: t["owners"] for k, t in targets(check_json(run, repo.path)).items()}
    assert set(map(tuple, owners.values())) == {("Ada Author <ada@example.org>",)}


# -- security: repository data is data -------------------------------------------------------


def test_no_shell_anywhere_in_the_package() -> None:
    import backport

    root = Path(backport.__file__).parent
    sources = {p: p.read_text() for p in root.rglob("*.py")}
    assert len(sources) > 20
    for path, text in sources.items():
        for forbidden in ("shell=True", "os.system(", "os.popen(", "eval(", "exec(", "pickle"):
            assert forbidden not in text, (path, forbidden)


HOSTILE_PATHS = ["-n.c", "--output=pwned-path.c", "$(touch pwned-sub).c", "evil\x1b]0;title\x07\x1b[31m.c", "new\nline.c"]


def test_hostile_paths_and_refnames_are_never_options_or_commands(tmp_path: Path, run, monkeypatch: pytest.MonkeyPatch) -> None:
    repo, _ = xen_like(tmp_path / "repo")
    hostile_ref = "st$(touch${IFS}pwned-ref)`touch${IFS}pwned-tick`;x"
    repo.git("branch", hostile_ref, "stable-4.20")
    repo.checkout(hostile_ref)
    repo.commit("line edits", {p: "line\n" for p in HOSTILE_PATHS})
    repo.checkout("staging")
    repo.commit("fix odd files\n\nBackport-to: 4.19+\n", {p: "fix\n" for p in HOSTILE_PATHS})
    repo.git("branch", "dev;touch${IFS}pwned-unstable", "staging")
    monkeypatch.chdir(tmp_path)
    args = ["--unstable", "dev;touch${IFS}pwned-unstable", "--line", "4.19", "--line", f"4.20={hostile_ref}"]
    every_format_works(run, repo.path, *args, mail=tmp_path / "mail")
    document = check_json(run, repo.path, *args)
    (target,) = [t for c in document["candidates"] for t in c["targets"] if t["version"] == "4.20"]
    assert target["applies"] == "conflict" and len(target["conflicts"]) == len(HOSTILE_PATHS)
    assert set(target["conflicts"]) >= {"-n.c", "--output=pwned-path.c", "$(touch pwned-sub).c"}
    for command in (["check", "--now", NOW], ["report", "--now", NOW]):
        out = run(*args, *command, repo=repo.path).out
        assert "\x1b" not in out and "\x07" not in out and "new\nline" not in out
    assert list(tmp_path.rglob("pwned*")) == []


def test_html_and_markdown_escape_notes_and_paths(tmp_path: Path, run) -> None:
    """Subjects and authors: test_report_cli and test_check_formats. Here what
    comes from notes and file names, in report and check."""
    repo = busy(tmp_path / "repo")
    evil = "<img src=x onerror=alert(1)> | *b* [l](javascript:x)"
    repo.checkout("stable-4.20")
    repo.commit("line", {f"{evil}.c": "line\n"})
    repo.checkout("staging")
    fix = repo.commit("fix", {f"{evil}.c": "fix\n"})
    repo.note(fix, f"Backport-to: 4.20 # {evil}")
    repo.note(repo.head("staging~1"), f"Backport-skip: 4.19 # <script>alert(2)</script> {evil}")
    for command in ("check", "report"):
        html = run(command, "--format", "html", "--now", NOW, repo=repo.path)
        markdown = run(command, "--format", "markdown", "--now", NOW, repo=repo.path)
        assert html.code == markdown.code == 0, (html, markdown)
        assert "<img" not in html.out and "<script>alert" not in html.out, command
        assert html.out.count("&lt;img src=x onerror=alert(1)&gt;") >= 2, command  # the note, the path
        # in Markdown every <, [, ], |, * from the repository has its backslash
        assert not re.search(r"(?<!\\)(<img|<script|\]\(javascript|\| \*b)", markdown.out), command
        assert markdown.out.count("\\<img src=x onerror=alert(1)\\>") >= 2, command


def test_a_line_branch_that_starts_with_a_dash(tmp_path: Path, run, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = busy(tmp_path / "repo")
    repo.git("update-ref", "refs/heads/--exec=touch${IFS}pwned-4.18", "stable-4.19~1")
    repo.git("update-ref", "refs/heads/-4.17", "stable-4.19~1")
    repo.git("config", "--add", "backport.linePatterns", r"stable-(?P<version>\d+\.\d+)")
    repo.git("config", "--add", "backport.linePatterns", r"--exec=touch\$\{IFS\}pwned-(?P<version>\d+\.\d+)")
    repo.git("config", "--add", "backport.linePatterns", r"-(?P<version>\d+\.\d+)")
    repo.commit("old fix\n\nBackport-to: 4.17+\n", {"xen/common/z.c": "z\n"})
    monkeypatch.chdir(tmp_path)
    every_format_works(run, repo.path, mail=tmp_path / "mail")
    found = targets(check_json(run, repo.path))
    assert {v: t["applies"] for (s, v), t in found.items() if s == "old fix"} == dict.fromkeys(
        ["4.17", "4.18", "4.19", "4.20"], "clean"
    )
    assert list(tmp_path.rglob("pwned*")) == []


# -- a line branch deleted during a run ---------------------------------------------------


def _delete_after_discovery(monkeypatch: pytest.MonkeyPatch, path: Path, *, prune: bool) -> None:
    """Let the run find its lines, then delete stable-4.20 under it (and, with
    `prune`, its commits too) before anything else is read."""
    from backport.commands import Globals

    opened = Globals.session

    def session_then_delete(self: Globals, **options: Any) -> Any:
        session = opened(self, **options)
        assert [str(line.version) for line in session.heads] == ["4.19", "4.20"]
        git(path, "branch", "-D", "stable-4.20")
        if prune:
            git(path, "tag", "-d", "RELEASE-4.20.0")
            git(path, "reflog", "expire", "--expire=now", "--all")
            git(path, "gc", "-q", "--prune=now")
        return session

    monkeypatch.setattr(Globals, "session", session_then_delete)


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_a_line_branch_deleted_after_discovery_keeps_the_tip_it_had(tmp_path: Path, run, monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    repo = busy(tmp_path / "repo")
    expected = run(*command, repo=repo.path)
    assert expected.code == 0, expected
    repo.git("clone", "-q", "--mirror", str(repo.path), str(tmp_path / "cold"))  # no cache to answer from
    _delete_after_discovery(monkeypatch, tmp_path / "cold", prune=False)
    result = run(*command, repo=tmp_path / "cold")
    assert (result.code, result.err, result.out) == (0, "", expected.out)
    assert git(tmp_path / "cold", "branch", "--list", "stable-4.20").stdout == ""


@pytest.mark.parametrize("command", COMMANDS[1:], ids=IDS[1:])  # scan never reads the line's own commits
def test_a_line_whose_commits_vanish_during_the_run_is_a_repository_error(tmp_path: Path, run, monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    repo = busy(tmp_path)
    _delete_after_discovery(monkeypatch, repo.path, prune=True)
    failed(run(*command, repo=repo.path), 3, "line 4.20", "is gone", "run again")


# -- faults: Ctrl-C, a damaged cache, two runs at once ----------------------------------------


def backport(path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "backport", "--repo", str(path), *args],
        env=env or dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True,  # a process group of its own, as a shell gives a foreground job
    )


def cache_files(path: Path) -> list[Path]:
    return sorted(p for p in (path / ".git" / CACHE_DIR).rglob("*") if p.is_file())


def assert_cache_whole(path: Path) -> None:
    """No temporary file left, every entry complete."""
    files = cache_files(path)
    assert [p for p in files if p.name.startswith(".tmp-")] == []
    for entry in (p for p in files if p.suffix == ".json"):
        assert json.loads(entry.read_bytes())["format"] == 1, entry


@pytest.mark.parametrize("moment", ["scanning", "simulating"])
def test_ctrl_c_leaves_no_temporary_files_partial_entries_or_objects(tmp_path: Path, moment: str) -> None:
    repo = busy(tmp_path / "repo")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    # every git process announces itself and starts late, so the signal lands mid-run
    log = tmp_path / "git.log"
    wrapper = tmp_path / "bin"
    wrapper.mkdir()
    real = subprocess.run(["which", "git"], capture_output=True, text=True).stdout.strip()
    (wrapper / "git").write_text(f'#!/bin/sh\necho "$*" >> {log}\nsleep 0.1\nexec {real} "$@"\n')
    (wrapper / "git").chmod(0o755)
    env = {**os.environ, "TMPDIR": str(scratch), "PATH": f"{wrapper}:{os.environ['PATH']}"}
    before = snapshot(repo.path)
    proc = backport(repo.path, "report", "--now", NOW, env=env)
    deadline = time.time() + 30
    while time.time() < deadline:
        started = log.read_text() if log.exists() else ""
        if moment == "scanning" and "log " in started or moment == "simulating" and list(scratch.glob("backport-sim-*")):
            break
        time.sleep(0.02)
    else:
        proc.kill()
        pytest.fail(f"the run never got to {moment}")
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the whole foreground job, git processes too
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, err.decode(), out) == (130, "backport: error: interrupted\n", b"")
    assert list(scratch.iterdir()) == []
    assert_cache_whole(repo.path)
    assert snapshot(repo.path) == before


def test_a_damaged_or_foreign_cache_is_ignored_and_rebuilt(tmp_path: Path, run) -> None:
    repo = busy(tmp_path)
    args = ("check", "--format", "json", "--now", NOW)
    expected = run(*args, repo=repo.path)
    entries = [p for p in cache_files(repo.path) if p.suffix == ".json"]
    assert len(entries) >= 3
    for number, entry in enumerate(entries):
        data = entry.read_bytes()
        damage = [data[: len(data) // 2], b"\x00\xff garbage", data.replace(b'"format":1', b'"format":0'), b"[]"]
        entry.write_bytes(damage[number % len(damage)])
    result = untouched(run, repo.path, *args)
    assert (result.code, result.err, result.out) == (0, "", expected.out)
    assert_cache_whole(repo.path)
    assert [p for p in cache_files(repo.path) if p.suffix == ".json"] == entries


def test_two_runs_at_once_both_succeed(tmp_path: Path, run) -> None:
    repo = busy(tmp_path)
    before = snapshot(repo.path)
    runs = [backport(repo.path, command, "--format", "json", "--now", NOW) for command in ("check", "check", "report")]
    results = [(*proc.communicate(timeout=60), proc.returncode) for proc in runs]
    assert [(err, code) for _, err, code in results] == [(b"", 0)] * 3
    assert results[0][0] == results[1][0] == results[2][0]
    assert_cache_whole(repo.path)
    assert snapshot(repo.path) == before
    assert run("check", "--format", "json", "--now", NOW, repo=repo.path).out.encode() == results[0][0]


# -- the hook reads a message, never runs it -------------------------------------------------


def test_the_hook_never_executes_or_evaluates_the_message(tmp_path: Path, run, monkeypatch: pytest.MonkeyPatch) -> None:
    repo, ids = xen_like(tmp_path / "repo")
    message = tmp_path / "msg"
    message.write_text(
        "Fix a crash $(touch pwned-1) `touch pwned-2`\n\n"
        "{__import__('os').system('touch pwned-3')} %(x)s {0} ${IFS}\n"
        f"Fixes: {ids['pre20'][:12]} $(touch pwned-4)\n"
        "Backport-to: 4.20; touch pwned-5 # $(touch pwned-6)\n"
        "Backport-to: __import__('os').system('touch pwned-7')\n"
    )
    monkeypatch.chdir(tmp_path)
    for hook in ("commit-msg", "applypatch-msg"):
        result = untouched(run, repo.path, "hook", "run", hook, str(message))
        assert result.code == 0 and "Traceback" not in result.err, result
    assert list(tmp_path.rglob("pwned*")) == []
