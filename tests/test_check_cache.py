"""The whole check result, cached (backport.verdict.check_cache): a re-run over
unchanged history answers from one entry, with ages for its own `now`; any
changed input is a different entry."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from builder import RepoBuilder, xen_like

from backport.models import PENDING, CheckResult
from backport.session import Session
from backport.verdict.result import check_session


@pytest.fixture
def repo(tmp_path: Path) -> tuple[RepoBuilder, dict[str, str]]:
    """Two nominated fixes on staging: one picks clean onto both lines, one conflicts on 4.19."""
    repo, ids = xen_like(tmp_path)
    ids["clean"] = repo.commit("x86: fix a leak\n\nBackport-to: 4.19+\n", {"xen/common/a.c": "fixed\n" + "a\n" * 9})
    ids["churn"] = repo.commit("rework b.c", {"xen/common/b.c": "b2\n"})
    ids["conflict"] = repo.commit("x86: fix b\n\nBackport-to: 4.19\n", {"xen/common/b.c": "b3\n"})
    return repo, ids


def landed(builder: RepoBuilder) -> datetime:
    """When the last commit landed: the fixes are a few hours older at most."""
    return datetime.fromtimestamp(builder.clock, timezone.utc)


def check(path: Path, now: datetime, *commits: str) -> tuple[CheckResult, list[str]]:
    """The result, and the git commands the run started (GIT_TRACE)."""
    trace = path.parent / "trace"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GIT_TRACE", str(trace))
        result = check_session(Session.open(str(path)), now, commits)
    rows = trace.read_text().splitlines()
    trace.unlink()
    return result, [row.split("trace: built-in: git ", 1)[1].split()[0] for row in rows if "trace: built-in: git " in row]


def entries(builder: RepoBuilder) -> list[Path]:
    return list((builder.path / ".git" / "backport-cache" / "v1" / "check").rglob("*.json"))


def pending(result: CheckResult) -> dict[tuple[str, str], tuple[str | None, int | None, str | None]]:
    return {
        (v.candidate.subject, str(t.version)): (t.applies, t.age_days, t.stale_reason)
        for v in result.verdicts
        for t in v.targets
        if t.state == PENDING
    }


def test_a_rerun_reads_the_entry_and_neither_scans_nor_simulates(repo: tuple[RepoBuilder, dict[str, str]]) -> None:
    builder, _ = repo
    now = landed(builder) + timedelta(days=3)
    cold, cold_git = check(builder.path, now)
    warm, warm_git = check(builder.path, now)
    assert "log" in cold_git and "merge-tree" in cold_git
    assert not {"log", "merge-tree", "commit-tree", "diff-tree"} & set(warm_git), warm_git
    assert warm == cold
    assert pending(warm) == {
        ("x86: fix a leak", "4.19"): ("clean", 3, None),
        ("x86: fix a leak", "4.20"): ("clean", 3, None),
        ("x86: fix b", "4.19"): ("conflict", 3, None),
    }


def test_ages_and_staleness_are_for_the_run_not_the_entry(repo: tuple[RepoBuilder, dict[str, str]]) -> None:
    builder, _ = repo
    check(builder.path, landed(builder) + timedelta(days=3))
    later, git = check(builder.path, landed(builder) + timedelta(days=40))
    assert "merge-tree" not in git  # from the entry
    assert pending(later)[("x86: fix a leak", "4.19")] == ("clean", 40, "waiting 40 days")
    assert later.now == (landed(builder) + timedelta(days=40)).isoformat()
    # a release the fix missed is named, once the run's clock has passed it
    builder.checkout("stable-4.19")
    builder.commit("4.19.1 prep")
    builder.tag("RELEASE-4.19.1")
    builder.checkout("staging")
    released = datetime.fromtimestamp(builder.clock, timezone.utc)
    before, _ = check(builder.path, released - timedelta(minutes=1))
    after, git = check(builder.path, released + timedelta(minutes=1))
    assert "merge-tree" not in git
    assert pending(before)[("x86: fix b", "4.19")][2] != "missed RELEASE-4.19.1"
    assert pending(after)[("x86: fix b", "4.19")][2] == "missed RELEASE-4.19.1"


@pytest.mark.parametrize(
    "change",
    ["a commit on a line", "a note", "the configuration", "a new release tag", "git's merge settings"],
)
def test_a_changed_input_is_another_entry(repo: tuple[RepoBuilder, dict[str, str]], change: str) -> None:
    builder, ids = repo
    now = landed(builder) + timedelta(days=3)
    first, _ = check(builder.path, now)
    if change == "a commit on a line":
        builder.checkout("stable-4.20")
        builder.cherry_pick(ids["clean"])
        builder.checkout("staging")
    elif change == "a note":
        builder.note(ids["conflict"], "Backport-skip: 4.19 # too risky")
    elif change == "the configuration":
        builder.git("config", "backport.staleAfter", "1")
    elif change == "a new release tag":
        builder.tag("RELEASE-4.20.1", "stable-4.20")
    else:
        builder.git("config", "merge.renames", "false")
    second, _ = check(builder.path, now)
    assert len(entries(builder)) == 2  # judged again, not read back
    if change == "a commit on a line":
        assert ("x86: fix a leak", "4.20") not in pending(second)
    elif change == "a note":
        assert ("x86: fix b", "4.19") not in pending(second)
    elif change == "the configuration":
        assert pending(second)[("x86: fix a leak", "4.19")][2] == "waiting 3 days"
    elif change == "a new release tag":
        assert second.lines[1].last_release.tag == "RELEASE-4.20.1"
    assert first != second or change == "git's merge settings"


def test_the_commits_asked_about_are_part_of_the_key(repo: tuple[RepoBuilder, dict[str, str]]) -> None:
    builder, ids = repo
    now = landed(builder) + timedelta(days=3)
    everything, _ = check(builder.path, now)
    one, _ = check(builder.path, now, ids["conflict"][:10])
    assert [v.candidate.subject for v in one.verdicts] == ["x86: fix b"]
    again, git = check(builder.path, now)
    assert "merge-tree" not in git and again == everything


def test_a_damaged_entry_is_a_miss(repo: tuple[RepoBuilder, dict[str, str]]) -> None:
    builder, _ = repo
    now = landed(builder) + timedelta(days=3)
    cold, _ = check(builder.path, now)
    (entry,) = entries(builder)
    stored = json.loads(entry.read_text())
    for damage in ([1, 2, 3], {"not": "a result"}, stored["value"][:3], None):
        entry.write_text(json.dumps({**stored, "value": damage}))
        again, _ = check(builder.path, now)
        assert again == cold
        assert json.loads(entry.read_text()) == stored  # judged again and put back


def test_the_unstable_branch_is_shown_by_the_name_given(repo: tuple[RepoBuilder, dict[str, str]]) -> None:
    builder, _ = repo
    now = landed(builder) + timedelta(days=3)
    builder.branch("unstable-copy", "staging")
    first = check_session(Session.open(str(builder.path)), now)
    second = check_session(Session.open(str(builder.path), unstable="unstable-copy"), now)
    assert (first.unstable_ref, second.unstable_ref) == ("staging", "unstable-copy")
    assert first.unstable_commit == second.unstable_commit
