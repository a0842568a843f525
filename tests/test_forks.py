"""Fork points: one walk for every line, the same answers as `git merge-base --all`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from builder import RepoBuilder

from backport.cache import Cache
from backport.forks import ForkPoints
from backport.git import Git, open_repository

NOW = "2024-01-01T00:00:00+00:00"


def shapes(tmp_path: Path) -> RepoBuilder:
    """staging with a line of every shape:

    stable-4.16  forked early, then merged staging back in (criss-cross: two best bases)
    stable-4.17  an ordinary line
    stable-4.18  forked from stable-4.17, not from staging
    stable-4.19  no commit of its own: its tip is on staging
    stable-4.20  no common history with staging at all
    stable-4.21  forked at staging's tip, with work of its own
    """
    repo = RepoBuilder(tmp_path, branch="staging")
    repo.commit("base", {"a.c": "a\n"})
    early = repo.commit("early", {"b.c": "b\n"})
    repo.checkout("stable-4.16", new=True)
    repo.commit("4.16 work", {"s16.c": "1\n"})
    repo.checkout("staging")
    middle = repo.commit("middle", {"c.c": "c\n"})
    repo.checkout("stable-4.17", new=True)
    repo.commit("4.17 work", {"s17.c": "1\n"})
    repo.checkout("stable-4.18", new=True)
    repo.commit("4.18 work", {"s18.c": "1\n"})
    repo.checkout("stable-4.16")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge middle into 4.16", middle, env=repo.dated())
    repo.checkout("staging")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge 4.16 work", "stable-4.16~1", env=repo.dated())
    repo.branch("stable-4.19", early)
    repo.commit("more", {"d.c": "d\n"})
    repo.git("checkout", "-q", "--orphan", "stable-4.20")
    repo.commit("an unrelated line", {"o.c": "o\n"})
    repo.checkout("staging")
    repo.commit("tip", {"e.c": "e\n"})
    repo.checkout("stable-4.21", new=True)
    repo.commit("4.21 work", {"s21.c": "1\n"})
    repo.checkout("staging")
    return repo


BRANCHES = [f"stable-4.{n}" for n in range(16, 22)]


def merge_bases(repo: RepoBuilder, tip: str) -> tuple[str, ...]:
    proc = subprocess.run(["git", "merge-base", "--all", "staging", tip], cwd=repo.path, capture_output=True, text=True)
    return tuple(proc.stdout.split())


def traced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call) -> tuple[object, list[str]]:
    trace = tmp_path / "trace"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    try:
        value = call()
    finally:
        monkeypatch.delenv("GIT_TRACE")
    rows = trace.read_text().splitlines() if trace.exists() else []
    trace.unlink(missing_ok=True)
    return value, [row.split("trace: built-in: git ", 1)[1] for row in rows if "trace: built-in: git " in row]


def test_every_shape_as_merge_base_says_in_one_walk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = shapes(tmp_path / "repo")
    tips = [repo.head(b) for b in BRANCHES]
    staging = repo.head("staging")
    forks: list[ForkPoints] = []  # made inside: git's environment is taken when a Git is made

    def find() -> dict[str, tuple[str, ...]]:
        forks.append(ForkPoints(Git(str(repo.path)), staging))
        return forks[0].many(tips)

    found, commands = traced(tmp_path, monkeypatch, find)
    assert found == {tip: merge_bases(repo, branch) for tip, branch in zip(tips, BRANCHES, strict=True)}
    assert len(found[repo.head("stable-4.16")]) == 2  # the criss-cross
    assert found[repo.head("stable-4.19")] == (repo.head("stable-4.19"),)
    assert found[repo.head("stable-4.20")] == ()
    # one walk for every line; merge-base only for the line with two ways back
    assert [c.split()[0] for c in commands] == ["rev-list", "merge-base"]
    assert forks[0].of(repo.head("stable-4.17")) == merge_bases(repo, "stable-4.17")[0]


def test_cached_by_commit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = shapes(tmp_path / "repo")
    info = open_repository(str(repo.path))
    staging, tip = repo.head("staging"), repo.head("stable-4.17")
    cache = Cache.open(info)
    _, first = traced(tmp_path, monkeypatch, lambda: ForkPoints(Git(info.path), staging, cache).all_of(tip))
    again, second = traced(tmp_path, monkeypatch, lambda: ForkPoints(Git(info.path), staging, cache).all_of(tip))
    assert len(first) == 1 and second == []
    assert again == merge_bases(repo, "stable-4.17")


def test_a_check_walks_once_for_the_scanner_and_the_detector(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run) -> None:
    repo = RepoBuilder(tmp_path / "repo", branch="staging")
    repo.commit("base", {"a.c": "a\n"})
    for version in ("4.18", "4.19", "4.20"):
        repo.commit(f"before {version}", {f"{version}.c": "x\n"})
        repo.branch(f"stable-{version}")
    for n in range(3):
        repo.commit(f"fix {n}\n\nBackport-to: 4.18+\n", {"a.c": f"{n}\n"})
    result, commands = traced(
        tmp_path, monkeypatch, lambda: run("check", "--format", "json", "--now", NOW, repo=repo.path)
    )
    assert result.code == 0, result
    targets = [t["state"] for c in json.loads(result.out)["candidates"] for t in c["targets"]]
    assert targets == ["pending"] * 9
    walks = [c for c in commands if c.startswith("rev-list --boundary --parents")]
    assert len(walks) == 1 and not [c for c in commands if c.startswith("merge-base")]
    # the oldest line's fork point came from the scan's own listing: the walk is for the newer lines
    assert repo.head("stable-4.18") not in walks[0]
