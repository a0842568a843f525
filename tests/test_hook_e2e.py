"""The installed hooks, driven by real `git commit` and `git am`.

The installed script names sys.executable (this venv), so every commit here
runs the code under test.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from builder import RepoBuilder
from test_hook import lines_repo

from backport.maintainer.hook_install import MARKER, script

FOREIGN = "#!/bin/sh\necho \"foreign hook saw $1\" >> \"$(git rev-parse --git-dir)/foreign.log\"\n"
REFUSING = "#!/bin/sh\nif grep -q WIP \"$1\"; then echo 'foreign: no WIP commits' >&2; exit 1; fi\n"


@pytest.fixture
def repo(make_repo: Callable[..., RepoBuilder]) -> tuple[RepoBuilder, dict[str, str]]:
    return lines_repo(make_repo)


def commit(builder: RepoBuilder, message: str, *args: str) -> subprocess.CompletedProcess[str]:
    """A real `git commit`, hooks and all; the result, not an exception, on failure."""
    builder.write({"work.c": message})
    builder.git("add", "work.c")
    return subprocess.run(
        ["git", *args, "commit", "-q", "-m", message],
        cwd=builder.path,
        env=builder.env(),
        capture_output=True,
        text=True,
    )


def hooks_path(builder: RepoBuilder) -> Path:
    return builder.path / ".git" / "hooks"


def write_hook(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_install_writes_our_python_and_marker(repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object]) -> None:
    builder, _ = repo
    result = run("hook", "install", repo=builder.path)
    assert result.code == 0
    assert result.out.splitlines() == ["installed " + str(hooks_path(builder) / name) for name in ("commit-msg", "applypatch-msg")]
    text = (hooks_path(builder) / "commit-msg").read_text()
    assert MARKER in text and f"python={sys.executable}" in text
    assert os.access(hooks_path(builder) / "commit-msg", os.X_OK)
    assert run("hook", "install", repo=builder.path).out.startswith("updated ")  # idempotent


def test_install_suggests_a_commit_graph_until_there_is_one(
    repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object]
) -> None:
    builder, _ = repo
    assert "git commit-graph write --reachable" in run("hook", "install", repo=builder.path).err
    builder.git("commit-graph", "write", "--reachable")
    assert run("hook", "install", repo=builder.path).err == ""
    builder.git("config", "core.commitGraph", "false")  # git would not read it
    assert "no commit-graph" in run("hook", "install", repo=builder.path).err


def test_a_shared_clone_reads_the_commit_graph_of_its_alternate(
    repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object], tmp_path: Path
) -> None:
    builder, _ = repo
    builder.git("commit-graph", "write", "--reachable")
    clone = tmp_path / "shared"
    subprocess.run(["git", "clone", "-q", "--shared", str(builder.path), str(clone)], check=True, env=builder.env())
    assert run("hook", "install", repo=clone).err == ""


def test_untagged_fix_is_warned_and_committed(repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object]) -> None:
    builder, ids = repo
    run("hook", "install", repo=builder.path)
    before = builder.head()
    proc = commit(builder, f"Fix the thing\n\nFixes: {ids['mid'][:12]}\n")
    assert proc.returncode == 0
    assert builder.head("HEAD~1") == before
    assert "which is in 4.19 and 4.20: add 'Backport-to: 4.19+' or 'Backport-to: none'" in proc.stderr


@pytest.mark.parametrize("message", ["Fix the thing\n\nFixes: {mid}\nBackport-to: 4.19+\n", "Add a knob\n"])
def test_tagged_or_plain_commits_are_silent(
    repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object], message: str
) -> None:
    builder, ids = repo
    run("hook", "install", repo=builder.path)
    proc = commit(builder, message.format(mid=ids["mid"][:12]))
    assert (proc.returncode, proc.stderr) == (0, "")


def test_strict_mode_blocks_the_commit(repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object]) -> None:
    builder, ids = repo
    run("hook", "install", repo=builder.path)
    builder.git("config", "backport.hook.strict", "true")
    before = builder.head()
    proc = commit(builder, f"Fix the thing\n\nFixes: {ids['mid'][:12]}\n")
    assert proc.returncode != 0
    assert builder.head() == before
    assert "commit-msg refused" in proc.stderr
    proc = commit(builder, f"Fix the thing\n\nFixes: {ids['mid'][:12]}\nBackport-to: 4.19+\n")
    assert proc.returncode == 0 and builder.head("HEAD~1") == before


def test_git_am_runs_applypatch_msg(
    repo: tuple[RepoBuilder, dict[str, str]], make_repo: Callable[..., RepoBuilder], run: Callable[..., object], tmp_path: Path
) -> None:
    builder, ids = repo
    contributor = make_repo()
    contributor.git("fetch", "-q", str(builder.path), "staging")
    contributor.git("checkout", "-q", "-b", "work", "FETCH_HEAD")
    contributor.commit(f"Fix the thing\n\nFixes: {ids['old'][:12]}\nSigned-off-by: Ada <ada@example.org>", {"a.c": "fixed\n"})
    patch = contributor.git("format-patch", "-1", "-o", str(tmp_path / "out"))
    run("hook", "install", repo=builder.path)
    am = subprocess.run(["git", "am", "-q", patch], cwd=builder.path, env=builder.env(), capture_output=True, text=True)
    assert am.returncode == 0
    assert "which is in 4.18, 4.19 and 4.20: add 'Backport-to: 4.18+'" in am.stderr
    assert builder.git("log", "-1", "--format=%s") == "Fix the thing"
    builder.git("reset", "-q", "--hard", "HEAD~1")
    builder.git("config", "backport.hook.strict", "true")
    before = builder.head()
    am = subprocess.run(["git", "am", "-q", patch], cwd=builder.path, env=builder.env(), capture_output=True, text=True)
    assert am.returncode != 0 and "applypatch-msg refused" in am.stderr
    assert builder.head() == before
    builder.git("am", "--abort")


def test_foreign_hook_is_kept_and_still_runs(repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object]) -> None:
    builder, ids = repo
    write_hook(hooks_path(builder) / "commit-msg", FOREIGN)
    result = run("hook", "install", repo=builder.path)
    assert "your hook is now" in result.out and "commit-msg.pre-backport" in result.out
    assert (hooks_path(builder) / "commit-msg.pre-backport").read_text() == FOREIGN
    proc = commit(builder, f"Fix it\n\nFixes: {ids['mid'][:12]}\n")
    assert proc.returncode == 0 and "backport: warning" in proc.stderr
    assert "foreign hook saw" in (builder.path / ".git" / "foreign.log").read_text()


def test_a_refusing_foreign_hook_still_refuses(repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object]) -> None:
    builder, _ = repo
    write_hook(hooks_path(builder) / "commit-msg", REFUSING)
    run("hook", "install", repo=builder.path)
    before = builder.head()
    proc = commit(builder, "WIP: half done\n")
    assert proc.returncode != 0 and "foreign: no WIP commits" in proc.stderr
    assert builder.head() == before


def test_force_sets_the_foreign_hook_aside_and_uninstall_restores_it(
    repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object]
) -> None:
    builder, _ = repo
    write_hook(hooks_path(builder) / "commit-msg", REFUSING)
    result = run("hook", "install", "--force", repo=builder.path)
    assert "set aside as" in result.out
    assert (hooks_path(builder) / "commit-msg.backport-saved").read_text() == REFUSING
    assert commit(builder, "WIP: half done\n").returncode == 0  # set aside: it no longer runs
    result = run("hook", "uninstall", repo=builder.path)
    assert "put back your hook" in result.out
    assert (hooks_path(builder) / "commit-msg").read_text() == REFUSING
    assert not (hooks_path(builder) / "commit-msg.backport-saved").exists()


def test_uninstall_removes_only_ours(repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object]) -> None:
    builder, _ = repo
    run("hook", "install", "-t", "commit-msg", repo=builder.path)
    write_hook(hooks_path(builder) / "applypatch-msg", FOREIGN)
    result = run("hook", "uninstall", repo=builder.path)
    assert result.code == 0
    assert not (hooks_path(builder) / "commit-msg").exists()
    assert (hooks_path(builder) / "applypatch-msg").read_text() == FOREIGN
    assert "left" in result.out and "it is not ours" in result.out
    assert sorted(p.name for p in hooks_path(builder).iterdir() if not p.name.endswith(".sample")) == ["applypatch-msg"]


def test_chained_hook_comes_back_on_uninstall(repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object]) -> None:
    builder, _ = repo
    write_hook(hooks_path(builder) / "commit-msg", FOREIGN)
    run("hook", "install", repo=builder.path)
    run("hook", "uninstall", repo=builder.path)
    assert (hooks_path(builder) / "commit-msg").read_text() == FOREIGN
    assert not (hooks_path(builder) / "commit-msg.pre-backport").exists()


def test_core_hooks_path_is_respected(repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object]) -> None:
    builder, ids = repo
    builder.git("config", "core.hooksPath", "team-hooks")
    result = run("hook", "install", repo=builder.path)
    assert result.code == 0
    assert (builder.path / "team-hooks" / "commit-msg").exists()
    assert not (hooks_path(builder) / "commit-msg").exists()
    proc = commit(builder, f"Fix it\n\nFixes: {ids['mid'][:12]}\n")
    assert "backport: warning" in proc.stderr


def test_a_hooks_path_that_cannot_be_made_is_a_one_line_error(
    repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object]
) -> None:
    builder, _ = repo
    (builder.path / "in-the-way").write_text("a file\n")
    builder.git("config", "core.hooksPath", "in-the-way/hooks")
    result = run("hook", "install", repo=builder.path)
    assert result.code == 3 and result.err.count("\n") == 1, result
    assert "cannot write the hooks in" in result.err and "core.hooksPath" in result.err


def test_a_missing_python_lets_the_commit_through(repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object]) -> None:
    builder, _ = repo
    run("hook", "install", repo=builder.path)
    hook = hooks_path(builder) / "commit-msg"
    hook.write_text(hook.read_text().replace(f"python={sys.executable}", "python=/nonexistent/python3"))
    builder.git("config", "backport.hook.strict", "true")
    proc = commit(builder, "Fix a crash\n")
    assert proc.returncode == 0
    assert proc.stderr == "backport: hook skipped: /nonexistent/python3 is gone (run backport hook install again)\n"


def test_the_work_tree_cannot_shadow_the_package(repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object]) -> None:
    builder, _ = repo
    builder.write({"backport/__init__.py": "", "backport/hook.py": "raise SystemExit('work tree code ran')\n"})
    run("hook", "install", repo=builder.path)
    proc = commit(builder, "Add a knob\n")
    assert (proc.returncode, proc.stderr) == (0, "")


def test_source_tree_hooks_are_current() -> None:
    """hooks/ holds copies for manual use (python3 or $BACKPORT_PYTHON); they must match the installer."""
    top = Path(__file__).resolve().parent.parent / "hooks"
    for name in ("commit-msg", "applypatch-msg"):
        assert (top / name).read_text() == script(name, None), f"regenerate hooks/{name}"
        assert os.access(top / name, os.X_OK)
