"""Shell completion, run as the shells run it: click's completion entry point
with COMP_WORDS in a real repository (and, for bash, the script bash sources
and its completion function), offering commands, options, line versions and
refs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from builder import RepoBuilder, xen_like


@pytest.fixture
def repo(tmp_path: Path) -> RepoBuilder:
    builder, _ = xen_like(tmp_path / "repo")
    builder.commit("x86: fix\n\nBackport-to: 4.19+\n", {"x": "1"})
    builder.tag("v-topic", "staging")
    return builder


def complete(repo: RepoBuilder, words: str, shell: str = "bash", cwd: Path | None = None) -> list[str]:
    """What `backport` offers for the last word of `words` (click's protocol, as the sourced scripts call it)."""
    parts = words.split(" ")
    env = {**repo.env(), "_BACKPORT_COMPLETE": f"{shell}_complete", "COMP_WORDS": words, "COMP_CWORD": str(len(parts) - 1)}
    if shell == "fish":  # fish gives the word being completed, not its index
        env["COMP_CWORD"] = parts[-1]
    proc = subprocess.run(
        [sys.executable, "-m", "backport"], cwd=cwd or repo.path, env=env, capture_output=True, text=True, check=True
    )
    assert proc.stderr == ""
    if shell == "bash":
        return [row.split(",", 1)[1] for row in proc.stdout.splitlines() if row]
    if shell == "zsh":
        return proc.stdout.splitlines()[1::3]
    return [row.split(",", 1)[1] for row in proc.stdout.splitlines() if row]


def test_commands_and_options(repo: RepoBuilder) -> None:
    assert complete(repo, "backport rep") == ["report"]
    assert {"check", "report", "nominate", "skip", "tag", "hook"} <= set(complete(repo, "backport "))
    offered = complete(repo, "backport report --")
    assert {"--format", "--mail", "--now", "--line", "--repo", "--no-pager"} <= set(offered)
    assert "--for" in complete(repo, "backport skip x --f")


def test_line_versions_from_the_repository(repo: RepoBuilder) -> None:
    assert complete(repo, "backport --line ") == ["4.19", "4.20"]
    assert complete(repo, "backport report --line 4.2") == ["4.20"]
    assert complete(repo, "backport skip staging --for ") == ["4.19", "4.20"]
    assert complete(repo, "backport nominate staging --to 4.1") == ["4.19", "4.19+"]
    assert complete(repo, "backport tag --to n") == ["none"]
    assert complete(repo, "backport pick --line ") == ["4.19", "4.20"]


def test_refs_from_the_repository(repo: RepoBuilder) -> None:
    offered = complete(repo, "backport nominate ")
    assert {"HEAD", "staging", "stable-4.19", "stable-4.20", "RELEASE-4.19.0", "v-topic"} <= set(offered)
    assert sorted(complete(repo, "backport check sta")) == ["stable-4.19", "stable-4.20", "staging"]
    assert complete(repo, "backport --unstable stag") == ["staging"]


def test_repo_given_on_the_line_is_the_one_read(repo: RepoBuilder, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert complete(repo, "backport --line ", cwd=elsewhere) == []  # not a repository: nothing, and no error
    assert complete(repo, f"backport --repo {repo.path} --line ", cwd=elsewhere) == ["4.19", "4.20"]
    assert complete(repo, f"backport report --repo {repo.path} --line ", cwd=elsewhere) == ["4.19", "4.20"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_get_the_same(repo: RepoBuilder, shell: str) -> None:
    assert complete(repo, "backport report --line 4.2", shell) == ["4.20"]
    assert "staging" in complete(repo, "backport nominate sta", shell)


def test_the_script_bash_sources(repo: RepoBuilder) -> None:
    """The documented line, `eval "$(_BACKPORT_COMPLETE=bash_source backport)"`, and then a TAB."""
    bash = shutil.which("bash")
    backport = shutil.which("backport", path=os.path.dirname(sys.executable))
    if bash is None or backport is None:
        pytest.skip("bash or the installed backport script is missing")
    script = (
        'eval "$(_BACKPORT_COMPLETE=bash_source backport)"\n'
        "COMP_WORDS=(backport report --line ''); COMP_CWORD=3; _backport_completion backport\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {**repo.env(), "PATH": os.path.dirname(backport) + os.pathsep + os.environ["PATH"]}
    proc = subprocess.run([bash, "--norc", "-c", script], cwd=repo.path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["4.19", "4.20"]
