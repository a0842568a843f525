"""`backport check` through the real command line: the demo repository's answer
key end to end, the JSON document, the text, selection, errors, and the promise
that the user's repository is left exactly as it was."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from backport.fixtures import xen_demo
from builder import RepoBuilder, xen_like
from snapshot import snapshot

TARGET_KEYS = [
    "version", "state", "applies", "conflicts", "after", "applied_as", "evidence",
    "age_days", "stale", "stale_reason", "owners", "reason",
]  # fmt: skip


@pytest.fixture(scope="module")
def demo_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "xen"
    xen_demo.build(str(path))
    return path


@pytest.fixture(scope="module")
def demo_json(demo_repo: Path) -> dict[str, Any]:
    from backport.cli import main

    out = demo_repo.parent / "check.json"
    with pytest.raises(SystemExit) as done:
        main(["--repo", str(demo_repo), "check", "--format", "json", "--now", xen_demo.NOW, "--output", str(out)])
    assert done.value.code == 0
    return json.loads(out.read_text())


def subjects(repo: Path) -> dict[str, str]:
    """subject -> commit id on the demo's unstable branch (backports on the lines share subjects)."""
    builder = RepoBuilder.__new__(RepoBuilder)
    builder.path = repo
    rows = builder.git("log", xen_demo.UNSTABLE, "--format=%H%x00%s").splitlines()
    found: dict[str, str] = {}
    for row in rows:
        sha, subject = row.split("\0", 1)
        found.setdefault(subject, sha)
    return found


# -- the demo's answer key ---------------------------------------------------------


def test_demo_document_shape(demo_json: dict[str, Any]) -> None:
    assert list(demo_json) == ["schema", "unstable", "lines", "candidates", "untagged_fixes", "problems"]
    assert demo_json["schema"] == 1
    assert demo_json["unstable"]["ref"] == "staging"
    assert [(line["version"], line["ref"], line["last_release"]) for line in demo_json["lines"]] == [
        ("4.18", "stable-4.18", "RELEASE-4.18.2"),
        ("4.19", "stable-4.19", "RELEASE-4.19.1"),
        ("4.20", "stable-4.20", "RELEASE-4.20.1"),
    ]
    for candidate in demo_json["candidates"]:
        assert list(candidate) == [
            "commit", "subject", "author", "date", "author_date", "commit_date", "nominations", "targets"
        ]
        assert candidate["date"] == candidate["author_date"]  # schema 1's `date` stays the author date
        for target in candidate["targets"]:
            assert list(target) == TARGET_KEYS


def test_ages_count_from_the_commit_date_json_gives_both(demo_repo: Path, demo_json: dict[str, Any]) -> None:
    """The missed-release case was authored 33 days before the demo's now
    and landed 26 days before it: its age is the landing's."""
    from datetime import datetime

    scenario = next(s for s in xen_demo.SCENARIOS if s["name"] == "missed-release")
    candidate = next(c for c in demo_json["candidates"] if c["commit"] == subjects(demo_repo)[scenario["subject"]])
    now = datetime.fromisoformat(xen_demo.NOW)
    authored = (now - datetime.fromisoformat(candidate["author_date"])).days
    landed = (now - datetime.fromisoformat(candidate["commit_date"])).days
    (target,) = candidate["targets"]
    assert (authored, landed, target["age_days"]) == (33, 26, 26)


@pytest.mark.parametrize("scenario", xen_demo.SCENARIOS, ids=[s["name"] for s in xen_demo.SCENARIOS])
def test_demo_scenario(scenario: dict[str, Any], demo_repo: Path, demo_json: dict[str, Any]) -> None:
    ids = subjects(demo_repo)
    sha = ids[scenario["subject"]]
    by_commit = {c["commit"]: c for c in demo_json["candidates"]}
    candidate = by_commit.get(sha)
    expected = scenario["expected"]

    for text in scenario["problems"]:
        assert {"commit": sha, "text": text} in [{"commit": p["commit"], "text": p["text"]} for p in demo_json["problems"]]

    untagged = [u for u in demo_json["untagged_fixes"] if u["commit"] == sha]
    if scenario["untagged_fix"]:
        assert candidate is None, "an untagged fix is not a candidate"
        [entry] = untagged
        assert entry["fixes"] == ids[scenario["untagged_fix"]["fixes_subject"]]
        assert entry["lines"] == scenario["untagged_fix"]["lines"]
        return
    assert untagged == []

    if not scenario["nominations"]:
        assert candidate is None
        return
    assert candidate is not None, f"{scenario['name']} is missing from the candidates"
    shown = [(n["source"], n["text"]) for n in candidate["nominations"] if n["source"] != "fixes"]
    assert shown == [(n["source"], n["text"]) for n in scenario["nominations"]]
    targets = {t["version"]: t for t in candidate["targets"]}
    assert sorted(targets) == sorted(expected)

    for version, want in expected.items():
        target = targets[version]
        state, _, detail = want.partition("/")
        assert target["state"] == state, (version, target)
        if state == "applied":
            assert target["evidence"] == detail
            assert target["applied_as"]
        if state == "pending":
            assert target["applies"] == detail
            assert target["owners"] == scenario["owners"]
            assert target["conflicts"] == scenario["conflicts"].get(version, [])
            assert target["after"] == [ids[s] for s in scenario["after"].get(version, [])]
            reasons = scenario["stale"].get(version, [])
            assert target["stale"] == bool(reasons)
            tags = [r for r in reasons if r != "age"]
            if tags:
                assert target["stale_reason"] == f"missed {tags[0]}"
            elif reasons:
                assert target["stale_reason"] == f"waiting {target['age_days']} days"
                assert target["age_days"] > xen_demo.STALE_AFTER_DAYS
            else:
                assert target["stale_reason"] is None
        if state == "skipped":
            assert target["reason"] == scenario["skip_reasons"][version]
        if state == "reverted":
            assert target["reason"] == f"reverted by {ids[scenario['reverted_by']]}"
        if state == "not-needed":
            assert target["evidence"] == "fixes"

    if scenario["fixes"]:
        fixed = ids[scenario["fixes"]]
        inferred = [n["text"] for n in candidate["nominations"] if n["source"] == "fixes"]
        assert len(inferred) == 1 and inferred[0].startswith("Fixes: ") and fixed.startswith(inferred[0].split()[1])


def test_demo_text_names_conflicts_and_how_to_reproduce(demo_repo: Path, run: Callable[..., Any]) -> None:
    result = run("check", "--now", xen_demo.NOW, repo=demo_repo)
    assert result.code == 0, result.err
    assert "conflicting hunks:" in result.out
    assert "+<<<<<<< " in result.out
    assert "git worktree add -q --detach" in result.out and "cherry-pick -x" in result.out
    assert "STALE: missed RELEASE-4.20.1" in result.out
    assert "Untagged fixes" in result.out and "Problems:" in result.out


def test_demo_text_golden(demo_repo: Path, run: Callable[..., Any]) -> None:
    """tests/golden/check-demo.txt; UPDATE_GOLDEN=1 rewrites it."""
    result = run("check", "--now", xen_demo.NOW, repo=demo_repo)
    assert result.code == 0, result.err
    golden = Path(__file__).resolve().parent / "golden" / "check-demo.txt"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(result.out, encoding="utf-8")
    assert golden.exists(), f"missing {golden}; run with UPDATE_GOLDEN=1"
    assert result.out == golden.read_text(encoding="utf-8"), "check text differs; UPDATE_GOLDEN=1 to accept"


def test_demo_selected_commit(demo_repo: Path, run: Callable[..., Any]) -> None:
    ids = subjects(demo_repo)
    chain_second = ids[xen_demo.SUBJECT["chain-second"]]
    result = run("check", "--format", "json", "--now", xen_demo.NOW, chain_second[:10], repo=demo_repo)
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert [c["commit"] for c in document["candidates"]] == [chain_second]
    # `after` still sees the earlier pending candidate that is not shown
    assert document["candidates"][0]["targets"][0]["after"] == [ids[xen_demo.SUBJECT["chain-first"]]]


# -- errors ----------------------------------------------------------------------------


def test_unknown_commit_is_a_usage_error(tmp_path: Path, run: Callable[..., Any]) -> None:
    xen_like(tmp_path)
    result = run("check", "no-such-commit", repo=tmp_path)
    assert result.code == 2
    assert "unknown commit 'no-such-commit'" in result.err and "Traceback" not in result.err


def test_commit_without_nomination_is_a_usage_error(tmp_path: Path, run: Callable[..., Any]) -> None:
    repo, _ = xen_like(tmp_path)
    plain = repo.commit("plain work", {"p.c": "p\n"})
    result = run("check", plain, repo=tmp_path)
    assert result.code == 2
    assert "has no backport nomination" in result.err and "backport nominate" in result.err


def test_option_like_commit_is_refused(tmp_path: Path, run: Callable[..., Any]) -> None:
    xen_like(tmp_path)
    result = run("check", "--", "--output=x", repo=tmp_path)
    assert result.code == 2 and "invalid revision" in result.err


def test_bad_now_is_a_usage_error(tmp_path: Path, run: Callable[..., Any]) -> None:
    xen_like(tmp_path)
    result = run("check", "--now", "yesterday", repo=tmp_path)
    assert result.code == 2 and "bad --now" in result.err


def test_shallow_clone_is_refused(tmp_path: Path, run: Callable[..., Any]) -> None:
    repo, _ = xen_like(tmp_path / "origin")
    repo.commit("fix\n\nBackport-to: 4.20\n", {"f.c": "f\n"})
    clone = tmp_path / "shallow"
    repo.git("clone", "-q", "--depth", "1", "--no-single-branch", f"file://{repo.path}", str(clone))
    result = run("--unstable", "origin/staging", "check", repo=clone)
    assert result.code == 3 and "shallow" in result.err


# -- read-only: the repository is exactly as it was ---------------------------------------


def _busy_repo(tmp_path: Path) -> RepoBuilder:
    repo, _ = xen_like(tmp_path)
    repo.commit("x86: fix\n\nBackport-to: 4.19+\n", {"xen/common/a.c": "FIX\n" + "a\n" * 9})
    repo.checkout("stable-4.20")
    repo.commit("line change", {"xen/common/a.c": "LINE\n" + "a\n" * 9})
    repo.checkout("staging")
    return repo


@pytest.mark.parametrize("command", [["scan"], ["check"], ["check", "--format", "json"]])
def test_read_only_with_a_dirty_work_tree(tmp_path: Path, run: Callable[..., Any], command: list[str]) -> None:
    repo = _busy_repo(tmp_path)
    repo.write({"xen/common/a.c": "uncommitted edit\n", "untracked.c": "new\n"})
    repo.git("add", "untracked.c")
    repo.write({"untracked.c": "staged, then edited\n"})
    before = snapshot(repo.path)
    result = run(*command, repo=repo.path)
    assert result.code == 0, result.err
    assert snapshot(repo.path) == before


@pytest.mark.parametrize("command", [["scan"], ["check"], ["check", "--format", "json"]])
def test_read_only_during_the_users_own_conflicted_cherry_pick(
    tmp_path: Path, run: Callable[..., Any], command: list[str]
) -> None:
    repo = _busy_repo(tmp_path)
    fix = repo.head("staging")
    repo.checkout("stable-4.20")
    proc = _git_status(repo, "cherry-pick", "-x", fix)
    assert proc != 0  # the user is in the middle of a conflicted pick
    assert (repo.path / ".git" / "CHERRY_PICK_HEAD").exists()
    before = snapshot(repo.path)
    result = run("--unstable", "staging", *command, repo=repo.path)
    assert result.code == 0, result.err
    assert snapshot(repo.path) == before
    if command[0] == "check":
        assert "conflict" in result.out


def _git_status(repo: RepoBuilder, *args: str) -> int:
    import subprocess

    return subprocess.run(["git", *args], cwd=repo.path, env=repo.env(), capture_output=True).returncode


def test_read_only_demo_check_leaves_the_object_store_alone(tmp_path: Path, run: Callable[..., Any]) -> None:
    path = tmp_path / "demo"
    xen_demo.build(str(path))
    before = snapshot(path)
    for _ in range(2):  # cold, then from the cache
        result = run("check", "--now", xen_demo.NOW, repo=path)
        assert result.code == 0, result.err
    assert snapshot(path) == before


def test_demo_runs_a_command_with_its_own_options(run: Callable[..., Any]) -> None:
    """The README's `backport demo check --format json`: the options after
    the command's name belong to that command, not to `demo`."""
    result = run("demo", "check", "--format", "json", "--now", xen_demo.NOW)
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["schema"] == 1 and document["candidates"]
