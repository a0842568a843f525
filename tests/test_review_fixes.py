"""Regressions from the code review: odd paths, hostile bytes, inherited env, bad output paths."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from builder import RepoBuilder, xen_like

NOW = "2025-06-01T12:00:00+00:00"


def pending_line(tmp: Path) -> RepoBuilder:
    repo, _ = xen_like(tmp)
    repo.commit("x86: fix\n\nBackport-to: 4.20\n", {"xen/common/a.c": "a\n" * 9 + "fixed\n"})
    return repo


def applies(document: dict) -> list[str]:
    return [t["applies"] for c in document["candidates"] for t in c["targets"]]


def test_a_colon_in_the_repository_path_changes_no_verdict(tmp_path: Path, run) -> None:
    plain = pending_line(tmp_path / "plain")
    colon = tmp_path / "with:colon"
    plain.git("clone", "-q", "--mirror", str(plain.path), str(colon))
    expected = json.loads(run("check", "--format", "json", "--now", NOW, repo=plain.path).out)
    result = run("check", "--format", "json", "--now", NOW, repo=colon)
    assert result.code == 0, result
    assert applies(json.loads(result.out)) == applies(expected) == ["clean"]


def test_control_characters_from_commits_never_reach_the_terminal(tmp_path: Path, run) -> None:
    repo, _ = xen_like(tmp_path)
    repo.commit(
        "x86: \x1b[31mred\x1b[0m fix\n\nBackport-to: 4.20 # \x1b]0;pwned\x07 title\n",
        {"xen/common/a.c": "b\n"},
        author="Eve \x1b[5m <eve@example.org>",
    )
    for args in (["scan"], ["check"], ["report", "--now", NOW]):
        out = run(*args, repo=tmp_path).out
        assert "\x1b" not in out and "\x07" not in out, args
        assert "\\x1b[31mred" in out, args
    document = json.loads(run("check", "--format", "json", "--now", NOW, repo=tmp_path).out)
    assert document["candidates"][0]["subject"] == "x86: \\x1b[31mred\\x1b[0m fix"


def test_repo_flag_wins_over_an_inherited_git_dir(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path / "wanted")
    other = RepoBuilder(tmp_path / "other")
    other.commit("unrelated")
    env = {**os.environ, "GIT_DIR": str(other.path / ".git")}
    proc = subprocess.run(
        [sys.executable, "-m", "backport", "--repo", str(repo.path), "config", "--format", "json"],
        env=env, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["repository"] == str(repo.path)


def test_output_that_cannot_be_written_is_one_line(tmp_path: Path, run) -> None:
    xen_like(tmp_path)
    for target in ("", str(tmp_path / "missing" / "x.json"), "/proc/version"):
        result = run("scan", "--output", target, repo=tmp_path)
        assert result.code == 2, (target, result)
        assert result.err.startswith("backport: error: cannot write") and result.err.count("\n") == 1


def test_a_line_pattern_without_a_version_group_is_a_config_error(tmp_path: Path, run) -> None:
    repo, _ = xen_like(tmp_path)
    repo.git("config", "backport.linePatterns", "stable-(.*)")
    result = run("scan", repo=tmp_path)
    assert result.code == 2
    assert "backport.linePatterns" in result.err and "(?P<version>" in result.err


def test_sigterm_leaves_no_scratch_directory(tmp_path: Path) -> None:
    import signal
    import time

    repo = pending_line(tmp_path / "repo")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    # slow every git process down so the run is still simulating when the signal comes
    wrapper = tmp_path / "bin"
    wrapper.mkdir()
    real = subprocess.run(["which", "git"], capture_output=True, text=True).stdout.strip()
    (wrapper / "git").write_text(f"#!/bin/sh\nsleep 0.2\nexec {real} \"$@\"\n")
    (wrapper / "git").chmod(0o755)
    env["PATH"] = f"{wrapper}:{env['PATH']}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "backport", "--repo", str(repo.path), "check", "--now", NOW],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    deadline = time.time() + 20
    while time.time() < deadline and not list(scratch.glob("backport-sim-*")):
        time.sleep(0.05)
    assert list(scratch.glob("backport-sim-*")), "the run never started simulating"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err  # 128 + SIGTERM, as a shell reports it
    assert b"Traceback" not in err
    assert list(scratch.glob("backport-sim-*")) == []


def test_json_stays_valid_with_a_ref_name_that_is_not_utf8(tmp_path: Path, run) -> None:
    repo = pending_line(tmp_path)
    odd = os.fsdecode(b"un\xffstable")
    repo.git("branch", odd, "staging")
    result = run("--unstable", odd, "check", "--format", "json", "--now", NOW, repo=tmp_path)
    assert result.code == 0, result
    assert json.loads(result.out)["unstable"]["ref"] == odd


def test_an_ignored_sigint_stays_ignored(tmp_path: Path) -> None:
    import signal
    import time

    repo = pending_line(tmp_path / "repo")
    proc = subprocess.Popen(
        [sys.executable, "-m", "backport", "--repo", str(repo.path), "check", "--now", NOW],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # a shell's background job
    )
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert b"x86: fix" in out


def test_git_refusing_the_repository_is_a_repository_error_with_gits_reason(tmp_path: Path, run) -> None:
    repo, _ = xen_like(tmp_path / "theirs")
    subprocess.run(["chown", "-R", "nobody", str(repo.path)], check=True)
    result = run("scan", repo=repo.path)
    assert result.code == 3, result
    assert "dubious ownership" in result.err and result.err.count("\n") == 1


def test_a_repository_reached_through_a_symlink_keeps_its_cache_inside(tmp_path: Path, run) -> None:
    repo = pending_line(tmp_path / "real")
    (repo.path / "sub" / "deep").mkdir(parents=True)
    (tmp_path / "link").symlink_to(repo.path / "sub")
    result = run("check", "--now", NOW, repo=tmp_path / "link" / "deep")
    assert result.code == 0, result
    assert (repo.path / ".git" / "backport-cache").is_dir()
    assert not (tmp_path / ".git").exists()


def test_a_line_branch_pointing_at_an_annotated_tag_is_peeled(tmp_path: Path, run) -> None:
    repo = pending_line(tmp_path)
    tip = repo.head("stable-4.20")
    repo.git("tag", "-a", "-m", "t", "t-4.21", tip)
    tag_object = repo.git("rev-parse", "t-4.21")  # the tag itself, not the commit
    assert tag_object != tip
    repo.git("update-ref", "refs/remotes/origin/stable-4.21", tag_object)
    document = json.loads(run("config", "--format", "json", repo=tmp_path).out)
    assert {line["version"]: line["commit"] for line in document["lines"]}["4.21"] == tip


def test_check_markdown_keeps_the_nominators_comment(tmp_path: Path, run) -> None:
    repo, _ = xen_like(tmp_path)
    repo.commit("x86: fix\n\nBackport-to: 4.20 # why | not\n", {"xen/common/a.c": "b\n"})
    result = run("check", "--format", "markdown", "--now", NOW, repo=tmp_path)
    assert "; # why \\| not |" in result.out, result.out
