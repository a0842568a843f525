"""The command line as people type it: global options on either side of the
command, `skip --for`, suggestions for typos, the help hint of the command
that was misused, and the `now` setting every clock-reading command honours."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from builder import RepoBuilder, xen_like

Run = Callable[..., Any]


@pytest.fixture
def repo(tmp_path: Path) -> RepoBuilder:
    builder, _ = xen_like(tmp_path / "repo")
    builder.commit("x86: fix a leak\n\nBackport-to: 4.19+\n", {"xen/common/a.c": "a\n" * 9 + "fixed\n"})
    builder.commit("arm: fix a crash\n\nBackport-to: 4.20\n", {"xen/common/c.c": "c2\n"})
    return builder


def lines_of(document: str) -> list[str]:
    return [line["version"] for line in json.loads(document)["lines"]]


# -- global options before or after the command ----------------------------------------


@pytest.mark.parametrize("command", ["report", "check", "config"])
def test_line_before_and_after_the_command_are_the_same(run: Run, repo: RepoBuilder, command: str) -> None:
    before = run("--line", "4.20", command, "--format", "json", repo=repo.path)
    after = run(command, "--format", "json", "--line", "4.20", repo=repo.path)
    assert before.code == after.code == 0, (before, after)
    assert before.out == after.out
    assert lines_of(after.out) == ["4.20"]


def test_repo_and_unstable_after_the_command(run: Run, repo: RepoBuilder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.git("branch", "unstable-copy", "staging")
    monkeypatch.chdir(tmp_path)  # not a repository: --repo must be what names it
    result = run("check", "--format", "json", "--repo", str(repo.path), "--unstable", "unstable-copy")
    assert result.code == 0, result
    assert json.loads(result.out)["unstable"]["ref"] == "unstable-copy"


def test_lines_given_on_both_sides_add_up(run: Run, repo: RepoBuilder) -> None:
    result = run("--line", "4.19", "check", "--format", "json", "--line", "4.20", repo=repo.path)
    assert result.code == 0, result
    assert lines_of(result.out) == ["4.19", "4.20"]


def test_global_options_after_a_subcommand_of_a_group(run: Run, repo: RepoBuilder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("hook", "install", "--repo", str(repo.path))
    assert result.code == 0, result
    assert (repo.path / ".git" / "hooks" / "commit-msg").exists()


# -- skip --for, and skip --line kept with a note ------------------------------------------


def note(repo: RepoBuilder, commit: str) -> str:
    return repo.git("notes", "--ref=refs/notes/backport", "show", commit)


def test_skip_for(run: Run, repo: RepoBuilder) -> None:
    commit = repo.git("rev-parse", "staging~1")
    result = run("skip", commit, "--for", "4.19", "-m", "code not there", repo=repo.path)
    assert result.code == 0 and result.err == "", result
    assert note(repo, commit) == "Backport-skip: 4.19 # code not there"


def test_skip_line_still_works_and_says_it_is_deprecated(run: Run, repo: RepoBuilder) -> None:
    commit = repo.git("rev-parse", "staging~1")
    result = run("skip", commit, "--line", "4.19", "-m", "code not there", repo=repo.path)
    assert result.code == 0, result
    assert "'skip --line V' is deprecated: say 'skip --for V'" in result.err
    assert note(repo, commit) == "Backport-skip: 4.19 # code not there"


def test_global_line_before_skip_limits_the_run_not_the_decision(run: Run, repo: RepoBuilder) -> None:
    commit = repo.git("rev-parse", "staging~1")
    result = run("--line", "4.19", "skip", commit, "--for", "4.19", "-m", "no", repo=repo.path)
    assert result.code == 0 and "deprecated" not in result.err, result


def test_skip_without_a_line_says_which_option(run: Run, repo: RepoBuilder) -> None:
    result = run("skip", "staging", "-m", "no", repo=repo.path)
    assert result.code == 2
    assert result.err == "backport: error: Missing option '--for'. (see 'backport skip --help')\n"


# -- typos and help hints ------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, said",
    [
        (["reprot"], "No such command 'reprot'. Did you mean 'report'? (see 'backport --help')"),
        (["nomiate", "x"], "No such command 'nomiate'. (Did you mean one of: 'nominate', 'notes'?) (see 'backport --help')"),
        (["report", "--fromat", "json"], "No such option '--fromat'. Did you mean '--format'? (see 'backport report --help')"),
        (["check", "--format"], "Option '--format' requires an argument. (see 'backport check --help')"),
        (["scan", "--format"], "Option '--format' requires an argument. (see 'backport scan --help')"),
        (["--line", "4.20", "hook", "install", "--bogus"], "No such option '--bogus'. (see 'backport hook install --help')"),
        (["report", "--format", "pdf"], "(see 'backport report --help')"),
        (["--bogus"], "No such option '--bogus'. (see 'backport --help')"),
    ],
)
def test_mistakes_get_a_suggestion_and_the_commands_help(run: Run, repo: RepoBuilder, args: list[str], said: str) -> None:
    result = run(*args, repo=repo.path)
    assert result.code == 2 and result.out == ""
    assert result.err.startswith("backport: error: ") and result.err.count("\n") == 1
    assert said in result.err, result.err


# -- the `now` setting ---------------------------------------------------------------------


def ages(document: str) -> list[int]:
    return sorted(t["age_days"] for c in json.loads(document)["candidates"] for t in c["targets"] if t["state"] == "pending")


def landed(repo: RepoBuilder) -> str:
    return repo.git("log", "-1", "--format=%cI", "staging")


def test_now_from_git_config_is_honoured_and_the_flag_wins(run: Run, repo: RepoBuilder) -> None:
    # the last commit landed at a fixed 2023 date; say it is ten days later
    from datetime import datetime, timedelta

    later = (datetime.fromisoformat(landed(repo)) + timedelta(days=10)).isoformat()
    repo.git("config", "backport.now", later)
    assert ages(run("check", "--format", "json", repo=repo.path).out)[0] == 10
    assert ages(run("report", "--format", "json", repo=repo.path).out)[0] == 10
    flag = (datetime.fromisoformat(landed(repo)) + timedelta(days=3)).isoformat()
    assert ages(run("check", "--format", "json", "--now", flag, repo=repo.path).out)[0] == 3
    config = json.loads(run("config", "--format", "json", repo=repo.path).out)["settings"]["now"]
    assert config == {"value": later, "source": "git config backport.now"}


def test_now_from_the_toml_file(run: Run, repo: RepoBuilder) -> None:
    from datetime import datetime, timedelta

    later = (datetime.fromisoformat(landed(repo)) + timedelta(days=40)).isoformat()
    repo.commit("config", {".backport.toml": f'now = "{later}"\n'})
    text = run("report", repo=repo.path)
    assert text.code == 0, text
    assert "(now from .backport.toml (staging))" in text.out.splitlines()[1]
    assert ages(run("check", "--format", "json", repo=repo.path).out)[0] == 40


def test_a_bad_now_setting_says_where(run: Run, repo: RepoBuilder) -> None:
    repo.git("config", "backport.now", "last tuesday")
    result = run("report", repo=repo.path)
    assert result.code == 2
    assert "git config backport.now: expected an ISO 8601 time" in result.err


def test_the_kept_demo_reports_what_the_demo_printed(run: Run, tmp_path: Path) -> None:
    kept = tmp_path / "demo"
    shown = run("demo", "--keep", str(kept))
    assert shown.code == 0, shown
    assert "backport.now" in shown.err
    again = run("report", repo=kept)
    assert again.code == 0 and again.out == shown.out
    header = again.out.splitlines()[1]
    assert header.startswith("as of 2025-06-01 12:00 UTC (now from git config backport.now)")
    assert ", 12 stale" in header
