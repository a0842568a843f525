"""What the commit-msg hook costs on every commit: how many git processes
it starts, and what the installed script imports.

The latency itself is a benchmark (benchmarks/bench_hook.py), not a timed
test. These are budgets: a change may spend git processes differently, not
more of them; and the long walk (which lines hold a fixed commit) is done
once.
"""

from __future__ import annotations

import ast
import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from builder import RepoBuilder
from test_hook import lines_repo

from backport.hook import main
from backport.maintainer.hook_install import import_path, script


@pytest.fixture
def repo(make_repo: Callable[..., RepoBuilder]) -> tuple[RepoBuilder, dict[str, str]]:
    return lines_repo(make_repo)


def git_commands(builder: RepoBuilder, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The git subcommands one hook run starts, in order (from GIT_TRACE)."""
    path = tmp_path / "msg"
    path.write_text(message)
    trace = tmp_path / "trace"
    trace.unlink(missing_ok=True)  # git appends to it
    monkeypatch.setenv("GIT_TRACE", str(trace))
    assert main(["commit-msg", str(path)], repo=str(builder.path)) == 0
    monkeypatch.delenv("GIT_TRACE")
    rows = [row.split("trace: built-in: git ", 1)[1] for row in trace.read_text().splitlines() if "trace: built-in: git " in row]
    return [row.split()[0] + (" --contains" if "--contains" in row else "") for row in rows]


def test_git_processes_of_an_untagged_fix(
    repo: tuple[RepoBuilder, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    builder, ids = repo
    # started ahead: the branches, then which lines' branches hold the fixed
    # commit (the long walk); then, beside the walk (so git may trace them
    # before it), where the repository is, git config, the unstable branch
    # and its .backport.toml
    commands = git_commands(builder, f"Fix a crash\n\nFixes: {ids['old'][:12]}\n", tmp_path, monkeypatch)
    assert len(commands) <= 5 and commands.count("for-each-ref --contains") == 1
    assert "which is in 4.18, 4.19 and 4.20" in capsys.readouterr().err


def test_a_fix_of_a_bug_some_line_lacks_looks_for_a_copy_there_once(
    repo: tuple[RepoBuilder, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`mid` is not an ancestor of 4.18: the hook asks, as the report does,
    whether 4.18 carries a copy of it (reference line, patch-id, similar).
    That reads 4.18's own commits once; the next commit finds them in the
    cache and costs two processes more than a bug on every line."""
    builder, ids = repo
    message = f"Fix a crash\n\nFixes: {ids['mid'][:12]}\n"
    cold = git_commands(builder, message, tmp_path, monkeypatch)
    assert "which is in 4.19 and 4.20" in capsys.readouterr().err
    warm = git_commands(builder, message, tmp_path, monkeypatch)
    assert "which is in 4.19 and 4.20" in capsys.readouterr().err
    assert "log" in cold and "log" not in warm  # the line's commits, read once
    assert len(warm) <= 5 + 3 < len(cold)


@pytest.mark.parametrize(
    "setting, said",
    [
        (("backport.maintained", "4.20"), "which is in 4.20: add 'Backport-to: 4.20+'"),
        (("backport.oldest", "4.19"), "which is in 4.19 and 4.20: add 'Backport-to: 4.19+'"),
    ],
)
def test_fewer_maintained_lines_take_the_walk_started_ahead(
    repo: tuple[RepoBuilder, dict[str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    setting: tuple[str, str],
    said: str,
) -> None:
    """The walk started ahead covers every line the default patterns find:
    it answers for the fewer lines the configuration maintains."""
    builder, ids = repo
    builder.git("config", *setting)
    commands = git_commands(builder, f"Fix a crash\n\nFixes: {ids['old'][:12]}\n", tmp_path, monkeypatch)
    assert commands.count("for-each-ref --contains") == 1
    assert said in capsys.readouterr().err


def test_lines_the_default_patterns_do_not_find_are_walked_again(
    repo: tuple[RepoBuilder, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    builder, ids = repo
    builder.branch("maint-4.19", "stable-4.19")
    builder.git("config", "backport.linePatterns", r"maint-(?P<version>\d+\.\d+)")
    commands = git_commands(builder, f"Fix a crash\n\nFixes: {ids['mid'][:12]}\n", tmp_path, monkeypatch)
    assert commands.count("for-each-ref --contains") == 2
    assert "which is in 4.19: add 'Backport-to: 4.19+'" in capsys.readouterr().err


def test_an_unknown_fixed_commit_costs_one_more_process(
    repo: tuple[RepoBuilder, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    builder, _ = repo
    commands = git_commands(builder, "Fix a crash\n\nFixes: 1234567abc\n", tmp_path, monkeypatch)
    # git refused the walk: one process more asks whether the id is no commit, or several
    assert len(commands) <= 6 and commands.count("for-each-ref --contains") == 1
    assert "fixes 1234567abc, which names no commit here" in capsys.readouterr().err


def test_git_processes_of_plain_work(
    repo: tuple[RepoBuilder, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builder, _ = repo
    # the quick look: git config, and whether any unstable branch has a
    # .backport.toml, side by side (so git may trace them in either order)
    commands = git_commands(builder, "Add a knob\n\nSigned-off-by: A <a@b>\n", tmp_path, monkeypatch)
    assert len(commands) <= 2


def test_a_check_after_the_quick_look_asks_nothing_twice(
    repo: tuple[RepoBuilder, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """git config adds a fix pattern the defaults lack: the quick look finds
    it, and the check's session takes the quick look's answers."""
    builder, _ = repo
    builder.git("config", "backport.hook.fixPatterns", "wobble")
    commands = git_commands(builder, "Stop the wobble\n\nSigned-off-by: A <a@b>\n", tmp_path, monkeypatch)
    assert len(commands) <= 4 and len(set(commands)) == len(commands)  # no question asked twice
    assert "looks like a fix ('wobble')" in capsys.readouterr().err


def test_the_installed_hook_finds_the_whole_check_without_site() -> None:
    code = "import sys\nsys.path += sys.argv[1:]\nimport backport.hook, backport.maintainer.message_check\nprint(' '.join(sys.modules))"
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", code, *import_path()], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    modules = set(proc.stdout.split())
    assert "site" not in modules and "backport.maintainer.message_check" in modules
    # what each costs the hook to import, on the CI machine: dataclasses 22 ms
    # (plus about 1 ms a class), typing 12 ms, tempfile 9 ms (benchmarks/bench_hook.py)
    assert not modules & {"dataclasses", "typing", "tempfile", "queue", "click", "jinja2", "git", "unidiff"}
    text = script("commit-msg", sys.executable, import_path())
    assert " -I -S -c " in text and f"' {' '.join(map(shlex.quote, import_path()))} -- commit-msg " in text


def test_the_source_tree_copy_finds_backport_through_site(repo: tuple[RepoBuilder, dict[str, str]], tmp_path: Path) -> None:
    builder, ids = repo
    message = tmp_path / "msg"
    message.write_text(f"Fix a crash\n\nFixes: {ids['old'][:12]}\n")
    hook = Path(__file__).resolve().parent.parent / "hooks" / "commit-msg"
    env = {**builder.env(), "BACKPORT_PYTHON": sys.executable}
    proc = subprocess.run([str(hook), str(message)], cwd=builder.path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0
    assert "which is in 4.18, 4.19 and 4.20: add 'Backport-to: 4.18+'" in proc.stderr, proc.stderr


def test_the_hook_script_quotes_odd_directories(tmp_path: Path) -> None:
    odd = tmp_path / "it's a dir with spaces"
    odd.mkdir()
    text = script("commit-msg", sys.executable, [str(odd), *import_path()])
    hook = tmp_path / "commit-msg"
    hook.write_text(text.replace('from backport.hook import main', 'print(repr(sys.path)); sys.exit(0)'))
    os.chmod(hook, 0o755)
    proc = subprocess.run([str(hook), os.devnull], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    path = ast.literal_eval(proc.stdout)
    # the odd directory arrives intact, and after the standard library (it
    # cannot shadow it); how many entries import_path() adds depends on
    # whether backport is installed editable or into site-packages
    assert str(odd) in path
    stdlib = max(i for i, entry in enumerate(path) if entry.endswith("lib-dynload"))
    assert path.index(str(odd)) > stdlib


def test_lines_that_are_no_branch_tip_are_still_checked(
    repo: tuple[RepoBuilder, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A configured line may be any revision: it has no branch to ask
    --contains about, so its ancestry is asked directly."""
    builder, ids = repo
    builder.git("config", "backport.lines", f"4.21={ids['late']}")
    commands = git_commands(builder, f"Fix a crash\n\nFixes: {ids['new'][:12]}\n", tmp_path, monkeypatch)
    # the walk started ahead serves the branches; the configured line is asked by itself
    assert commands.count("for-each-ref --contains") == 1
    assert "merge-base" in commands  # --is-ancestor, for the configured line
    assert "which is in 4.20 and 4.21: add 'Backport-to: 4.20+'" in capsys.readouterr().err
    git_commands(builder, "Fix a crash\n\nFixes: 1234567abc\n", tmp_path, monkeypatch)
    assert "fixes 1234567abc, which names no commit here" in capsys.readouterr().err
