"""Text output through the user's pager, by git's rules, on a real terminal
(a pseudo-terminal from the pty module); the pager is a small program that
records what it was given and how it was started."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
from builder import RepoBuilder, xen_like

RECORDER = """\
import json, os, sys
data = sys.stdin.buffer.read()
with open(os.environ["PAGED_TO"], "a") as out:
    out.write(json.dumps({"argv": sys.argv[1:], "text": data.decode(), "LESS": os.environ.get("LESS"),
                          "LV": os.environ.get("LV")}) + "\\n")
"""


@pytest.fixture
def repo(tmp_path: Path) -> RepoBuilder:
    builder, _ = xen_like(tmp_path / "repo")
    builder.commit("x86: fix a leak\n\nBackport-to: 4.19+\n", {"xen/common/a.c": "a\n" * 9 + "fixed\n"})
    return builder


@pytest.fixture
def pager(tmp_path: Path) -> Path:
    script = tmp_path / "record-pager"
    script.write_text(f"#!{sys.executable}\n{RECORDER}")
    script.chmod(0o755)
    return script


def run(repo: RepoBuilder, args: list[str], *, terminal: bool = True, **env: str) -> tuple[int, str]:
    """`backport ARGS` with stdout on a pseudo-terminal (or a pipe); what reached it."""
    environment = {k: v for k, v in repo.env().items() if k not in ("GIT_PAGER", "PAGER", "LESS", "LV", "NO_COLOR")}
    environment.update(env)
    command = [sys.executable, "-m", "backport", "--repo", str(repo.path), *args]
    if not terminal:
        proc = subprocess.run(command, env=environment, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        return proc.returncode, proc.stdout
    main, secondary = pty.openpty()
    proc = subprocess.Popen(command, env=environment, stdin=subprocess.DEVNULL, stdout=secondary, stderr=subprocess.PIPE)
    os.close(secondary)
    shown = b""
    while True:
        ready, _, _ = select.select([main], [], [], 30)
        assert ready, "backport did not finish"
        try:
            chunk = os.read(main, 1 << 16)
        except OSError:  # EIO: every writer of the terminal has gone
            break
        if not chunk:
            break
        shown += chunk
    os.close(main)
    assert proc.stderr is not None
    proc.stderr.read()
    return proc.wait(), shown.decode().replace("\r\n", "\n")


def paged(tmp_path: Path) -> list[dict[str, object]]:
    record = tmp_path / "paged"
    return [json.loads(row) for row in record.read_text().splitlines()] if record.exists() else []


def test_report_on_a_terminal_goes_through_git_pager(repo: RepoBuilder, pager: Path, tmp_path: Path) -> None:
    code, shown = run(repo, ["report"], GIT_PAGER=str(pager), PAGED_TO=str(tmp_path / "paged"))
    assert code == 0
    (got,) = paged(tmp_path)
    assert "Backport report for staging" in str(got["text"])
    assert "Backport report" not in shown  # the pager had it, not the terminal
    assert (got["LESS"], got["LV"]) == ("FRX", "-c")  # as git starts less
    assert "\x1b[" in str(got["text"])  # colour, as on the terminal itself (less -R shows it)


def test_no_pager_prints_to_the_terminal(repo: RepoBuilder, pager: Path, tmp_path: Path) -> None:
    for args in (["--no-pager", "report"], ["report", "--no-pager"]):
        code, shown = run(repo, args, GIT_PAGER=str(pager), PAGED_TO=str(tmp_path / "paged"))
        assert code == 0 and "Backport report for staging" in shown
    assert paged(tmp_path) == []


def test_a_pipe_gets_the_text_without_a_pager(repo: RepoBuilder, pager: Path, tmp_path: Path) -> None:
    code, out = run(repo, ["report"], terminal=False, GIT_PAGER=str(pager), PAGED_TO=str(tmp_path / "paged"))
    assert code == 0 and out.startswith("Backport report for staging") and "\x1b[" not in out
    assert paged(tmp_path) == []


def test_core_pager_is_a_shell_command_line(repo: RepoBuilder, pager: Path, tmp_path: Path) -> None:
    repo.git("config", "core.pager", f"'{pager}' --from core.pager")
    code, _ = run(repo, ["check"], PAGED_TO=str(tmp_path / "paged"), PAGER="false")
    assert code == 0
    (got,) = paged(tmp_path)
    assert got["argv"] == ["--from", "core.pager"] and "x86: fix a leak" in str(got["text"])


def test_git_pager_wins_over_core_pager_and_pager(repo: RepoBuilder, pager: Path, tmp_path: Path) -> None:
    repo.git("config", "core.pager", "false")
    code, _ = run(repo, ["scan"], GIT_PAGER=f"{pager} --from-GIT_PAGER", PAGER="false", PAGED_TO=str(tmp_path / "paged"))
    assert code == 0
    assert [row["argv"] for row in paged(tmp_path)] == [["--from-GIT_PAGER"]]


def test_pager_is_the_last_resort_before_gits_default(repo: RepoBuilder, pager: Path, tmp_path: Path) -> None:
    code, _ = run(repo, ["config"], PAGER=str(pager), PAGED_TO=str(tmp_path / "paged"))
    assert code == 0
    (got,) = paged(tmp_path)
    assert "settings:" in str(got["text"])


def test_cat_or_nothing_means_no_pager(repo: RepoBuilder, tmp_path: Path) -> None:
    for pager in ("cat", ""):
        code, shown = run(repo, ["report"], GIT_PAGER=pager)
        assert code == 0 and "Backport report for staging" in shown


def test_a_users_less_settings_are_kept(repo: RepoBuilder, pager: Path, tmp_path: Path) -> None:
    code, _ = run(repo, ["report"], GIT_PAGER=str(pager), LESS="-S", PAGED_TO=str(tmp_path / "paged"))
    assert code == 0 and paged(tmp_path)[0]["LESS"] == "-S"


def test_a_pager_that_cannot_start_leaves_the_text_on_the_terminal(repo: RepoBuilder, tmp_path: Path) -> None:
    code, shown = run(repo, ["report"], GIT_PAGER=str(tmp_path / "no-such-pager"))
    assert code == 0 and "Backport report for staging" in shown


def test_a_file_is_never_paged(repo: RepoBuilder, pager: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    code, _ = run(repo, ["report", "-o", str(target)], GIT_PAGER=str(pager), PAGED_TO=str(tmp_path / "paged"))
    assert code == 0 and target.read_text().startswith("Backport report")
    assert paged(tmp_path) == []
