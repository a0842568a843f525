"""Already-applied detection on real repositories: every evidence kind, abbreviated
references, reverts on the line, patch-id corner cases, and the process budget."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from builder import RepoBuilder, xen_like

from backport.git import Git
from backport.models import Line, Version
from backport.verdict.detect import (
    ANCESTOR,
    CHERRY_PICKED_FROM,
    MASTER_COMMIT,
    PATCH_ID,
    UPSTREAM_LINE,
    Detector,
    effective_reverts,
    patch_ids,
    read_line_index,
)

V19, V20 = Version((4, 19)), Version((4, 20))
TEXT = "".join(f"line {i}\n" for i in range(1, 21))


def lines_of(repo: RepoBuilder, *versions: Version) -> list[Line]:
    return [Line(v, f"stable-{v}", repo.head(f"stable-{v}")) for v in versions]


def detector(repo: RepoBuilder, *versions: Version, git: Git | None = None, cache: Any = None) -> Detector:
    git = git or Git(str(repo.path))
    lines = lines_of(repo, *versions)
    unstable = repo.head("staging")
    base = git.merge_base(unstable, min(lines, key=lambda line: line.version).commit)
    return Detector(git, unstable, lines, base=base, cache=cache)


def on_line(repo: RepoBuilder, branch: str, message: str, files: dict[str, str] | None = None) -> str:
    """Commit on a stable branch, then go back to staging."""
    repo.checkout(branch)
    sha = repo.commit(message, files)
    repo.checkout("staging")
    return sha


def test_ancestor_and_absent(tmp_path: Path) -> None:
    repo, ids = xen_like(tmp_path)
    fresh = repo.commit("new work", {"n.c": "n\n"})
    found = detector(repo, V19, V20).detect([ids["pre19"], ids["pre20"], fresh])
    assert found.find(ids["pre19"], V19).evidence == ANCESTOR
    assert found.find(ids["pre19"], V19).commit == ids["pre19"]
    assert found.find(ids["pre20"], V20).evidence == ANCESTOR
    assert found.find(ids["pre20"], V19) is None  # forked before it
    assert not found.on_line(fresh, V19) and not found.on_line(fresh, V20)


def test_commit_below_the_scan_base_is_on_every_line_that_contains_it(tmp_path: Path) -> None:
    repo, ids = xen_like(tmp_path)
    found = detector(repo, V19, V20).detect([ids["base"]])
    assert found.find(ids["base"], V19) is not None and found.find(ids["base"], V20) is not None
    assert {found.find(ids["base"], v).evidence for v in (V19, V20)} == {ANCESTOR}


def test_cherry_pick_x(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    fix = repo.commit("fix", {"xen/common/a.c": TEXT})
    repo.checkout("stable-4.20")
    picked = repo.cherry_pick(fix)
    repo.checkout("staging")
    found = detector(repo, V19, V20).detect([fix])
    assert found.find(fix, V20).evidence == CHERRY_PICKED_FROM
    assert found.find(fix, V20).commit == picked
    assert found.find(fix, V19) is None


def test_xen_master_commit_line_abbreviated(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    fix = repo.commit("x86: fix", {"x.c": "fixed\n"})
    # Xen's backport script writes the full id; people abbreviate by hand
    carrier = on_line(
        repo, "stable-4.19", f"x86: fix\n\nSigned-off-by: A <a@b>\nmaster commit: {fix[:10]}\nmaster date: 2024-01-01\n",
        {"x.c": "fixed differently\n"},
    )
    found = detector(repo, V19, V20).detect([fix])
    assert found.find(fix, V19).evidence == MASTER_COMMIT
    assert found.find(fix, V19).commit == carrier


def test_linux_upstream_lines(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    one = repo.commit("one", {"one.c": "1\n"})
    two = repo.commit("two", {"two.c": "2\n"})
    on_line(repo, "stable-4.19", f"one\n\ncommit {one} upstream.\n\nbody\n", {"one.c": "other\n"})
    on_line(repo, "stable-4.20", f"two\n\n[ Upstream commit {two.upper()} ]\n\nbody\n", {"two.c": "other\n"})
    found = detector(repo, V19, V20).detect([one, two])
    assert found.find(one, V19).evidence == UPSTREAM_LINE
    assert found.find(two, V20).evidence == UPSTREAM_LINE
    assert found.find(one, V20) is None and found.find(two, V19) is None


def test_patch_id_when_no_reference(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    repo.commit("context drift", {"xen/common/a.c": "a\n" * 10 + "new tail\n"})
    fix = repo.commit("fix", {"xen/common/a.c": "A\n" + "a\n" * 9 + "new tail\n"})
    repo.checkout("stable-4.20")
    picked = repo.cherry_pick(fix, x=False)
    repo.checkout("staging")
    found = detector(repo, V19, V20).detect([fix])
    assert found.find(fix, V20) is not None
    assert (found.find(fix, V20).evidence, found.find(fix, V20).commit) == (PATCH_ID, picked)


def test_patch_ids_of_line_commits_whose_reference_names_nothing_here(tmp_path: Path) -> None:
    """Line commits with a reference line that resolves are not diffed (they
    carry what they name); one whose reference names no commit we have still
    matches by patch-id."""
    repo, _ = xen_like(tmp_path)
    named = repo.commit("first fix", {"xen/common/b.c": "B\n"})
    fix = repo.commit("second fix", {"xen/common/a.c": "A\n" + "a\n" * 9})
    repo.checkout("stable-4.20")
    repo.cherry_pick(named)
    repo.cherry_pick(fix, x=False)
    repo.git("commit", "--amend", "-q", "-m", f"second fix\n\n(cherry picked from commit {'e' * 40})")
    picked = repo.head()
    repo.checkout("staging")
    found = detector(repo, V20).detect([named, fix])
    assert found.find(named, V20).evidence == CHERRY_PICKED_FROM
    assert (found.find(fix, V20).evidence, found.find(fix, V20).commit) == (PATCH_ID, picked)


def test_reference_found_where_patch_id_changed(tmp_path: Path) -> None:
    """Hand-resolved backports keep the reference line but lose the patch-id."""
    repo, _ = xen_like(tmp_path)
    fix = repo.commit("fix", {"xen/common/a.c": "A\n" + "a\n" * 9})
    carrier = on_line(
        repo, "stable-4.20", f"fix (backport)\n\n(cherry picked from commit {fix})\n",
        {"xen/common/a.c": "A\n" + "a\n" * 8 + "B\n"},
    )
    git = Git(str(repo.path))
    assert patch_ids(git, [fix])[fix] != patch_ids(git, [carrier])[carrier]
    found = detector(repo, V20).detect([fix])
    assert found.find(fix, V20) == found.find(fix, V20).__class__(carrier, CHERRY_PICKED_FROM)


def test_strongest_evidence_then_oldest_carrier(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    fix = repo.commit("fix", {"f.c": "f\n"})
    on_line(repo, "stable-4.20", f"first\n\nmaster commit: {fix}\n", {"f.c": "f\n"})
    second = on_line(repo, "stable-4.20", f"second\n\n(cherry picked from commit {fix})\n", {"g.c": "g\n"})
    found = detector(repo, V20).detect([fix])
    assert found.find(fix, V20).evidence == CHERRY_PICKED_FROM
    assert found.find(fix, V20).commit == second


def test_backport_reverted_on_the_line_does_not_count_until_reapplied(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    fix = repo.commit("fix", {"f.c": "f\n"})
    repo.checkout("stable-4.20")
    picked = repo.cherry_pick(fix)
    repo.git("revert", "--no-edit", picked)
    repo.checkout("staging")
    assert not detector(repo, V20).detect([fix]).on_line(fix, V20)
    repo.checkout("stable-4.20")
    revert = repo.head()
    repo.git("revert", "--no-edit", revert)  # "Reapply": reverts the revert
    repo.checkout("staging")
    found = detector(repo, V20).detect([fix])
    assert found.find(fix, V20).commit == picked


def test_binary_changes_to_one_path_are_told_apart(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    repo.commit("blob", {"fw.bin": b"\x00\x01old"})
    fix = repo.commit("new firmware", {"fw.bin": b"\x00\x01new"})
    on_line(repo, "stable-4.20", "blob", {"fw.bin": b"\x00\x01old"})
    on_line(repo, "stable-4.20", "other firmware", {"fw.bin": b"\x00\x01NEW"})
    assert not detector(repo, V20).detect([fix]).on_line(fix, V20)
    on_line(repo, "stable-4.20", "same firmware", {"fw.bin": b"\x00\x01old"})
    on_line(repo, "stable-4.20", "same firmware", {"fw.bin": b"\x00\x01new"})
    assert detector(repo, V20).detect([fix]).find(fix, V20).evidence == PATCH_ID


def test_merge_is_compared_by_its_first_parent_diff(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    repo.checkout("topic", new=True)
    repo.commit("topic work", {"t.c": "t\n"})
    repo.checkout("staging")
    repo.commit("unrelated", {"u.c": "u\n"})
    repo.git("merge", "--no-ff", "-q", "-m", "Merge topic", "topic")
    merge = repo.head()
    parents = repo.git("log", "-1", "--format=%P", merge).split()
    on_line(repo, "stable-4.20", "topic squashed", {"t.c": "t\n"})
    found = detector(repo, V20).detect([merge], {merge: tuple(parents)})
    assert found.find(merge, V20).evidence == PATCH_ID


def test_line_index_reads_references_oldest_first(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    a = on_line(repo, "stable-4.20", "a\n\nmaster commit: 1234567abc\n")
    b = on_line(repo, "stable-4.20", "b\n\n(cherry picked from commit 89abcdef01)\nThis reverts commit 1111111.\n")
    git = Git(str(repo.path))
    fork = git.merge_base(repo.head("staging"), repo.head("stable-4.20"))
    index = read_line_index(git, repo.head("stable-4.20"), fork)
    assert index.commits == (a, b)
    assert index.references == (("1234567abc", a, MASTER_COMMIT), ("89abcdef01", b, CHERRY_PICKED_FROM))
    assert index.reverts == ((b, "1111111"),)


def test_effective_reverts_follow_parity() -> None:
    assert effective_reverts({"r1": ["c"]}) == {"c": "r1"}
    assert effective_reverts({"r1": ["c"], "r2": ["r1"]}) == {"r1": "r2"}  # reapplied: c is live
    assert effective_reverts({"r1": ["c"], "r2": ["r1"], "r3": ["r2"]}) == {"c": "r1", "r2": "r3"}
    assert effective_reverts({"a": ["b"], "b": ["a"]})  # a cycle terminates


class CountingGit(Git):
    """Real git; counts the processes started, to hold detection to its budget."""

    def __init__(self, cwd: str) -> None:
        super().__init__(cwd)
        self.calls: list[str] = []

    def run(self, args: Sequence[str], **kwargs: Any):  # type: ignore[override]
        self.calls.append(args[0])
        return super().run(args, **kwargs)

    def records(self, args: Sequence[str], fields: int):  # type: ignore[override]
        self.calls.append(args[0])
        return super().records(args, fields)

    def pipe(self, first: Sequence[str], second: Sequence[str], input: bytes) -> bytes:
        self.calls.extend([first[0], second[0]])
        return super().pipe(first, second, input)


def subjects(repo: RepoBuilder, commits: Sequence[str]) -> dict[str, str]:
    """What the scan already knows of each candidate, as the verdict engine passes it on."""
    return {c: repo.git("log", "-1", "--format=%s", c) for c in commits}


def test_process_count_does_not_grow_with_candidates(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    fixes = [repo.commit(f"fix {i}", {f"f{i}.c": f"{i}\n"}) for i in range(24)]
    repo.checkout("stable-4.20")
    for sha in fixes[::3]:
        repo.cherry_pick(sha)
    repo.checkout("stable-4.19")
    for sha in fixes[1::3]:
        repo.cherry_pick(sha, x=False)
    repo.checkout("staging")
    counts = []
    for subset in (fixes[:3], fixes):
        git = CountingGit(str(repo.path))
        detector(repo, V19, V20, git=git).detect(subset, subjects=subjects(repo, subset))  # as the verdict engine does
        counts.append(len(git.calls))
    assert counts[0] == counts[1]
    # per line: merge-base, log, rev-list, is-ancestor, diff-tree | patch-id;
    # once: the test's own merge-base, ancestry below base, id resolution, the candidates' diff-tree | patch-id
    assert counts[1] <= 6 * 2 + 5


def test_warm_cache_gives_the_same_answers_with_almost_no_git(tmp_path: Path) -> None:
    from backport.cache import Cache
    from backport.git import open_repository

    repo, ids = xen_like(tmp_path)
    fixes = [repo.commit(f"fix {i}", {f"f{i}.c": f"{i}\n"}) for i in range(6)]
    repo.checkout("stable-4.20")
    repo.cherry_pick(fixes[0])
    repo.cherry_pick(fixes[1], x=False)
    repo.checkout("staging")
    wanted = [ids["base"], ids["pre20"], *fixes]
    cache = Cache.open(open_repository(str(repo.path)))
    results = []
    calls = []
    for _ in range(2):
        git = CountingGit(str(repo.path))
        results.append(detector(repo, V19, V20, git=git, cache=cache).detect(wanted, subjects=subjects(repo, wanted)).applied)
        calls.append(len(git.calls))
    assert results[0] == results[1]
    assert results[0][(fixes[1], V20)].evidence == PATCH_ID
    # warm: the test's merge-base, one merge-base per line for the fork point, nothing else
    assert calls[1] <= 1 + 2 < calls[0]
    # a commit never asked about is still computed, not taken as "absent"
    later = repo.commit("later", {"later.c": "l\n"})
    repo.checkout("stable-4.19")
    repo.cherry_pick(later)
    repo.checkout("staging")
    found = detector(repo, V19, V20, cache=cache).detect([*wanted, later])
    assert found.find(later, V19).evidence == CHERRY_PICKED_FROM


class LateAhead(Git):
    """Real git, whose work ahead comes late: the detection asking for it must wait for it."""

    def pipe(self, first: Sequence[str], second: Sequence[str], input: bytes) -> bytes:
        if threading.current_thread().name == "patch-ids ahead":
            time.sleep(0.5)
        return super().pipe(first, second, input)


def test_patch_ids_worked_out_ahead_answer_the_later_detection_and_are_all_kept(tmp_path: Path) -> None:
    """The report's two detections: the fixed commits', while the fixes'
    patch-ids are worked out beside it (Detector.ahead). Each finds its
    backports by patch-id, and the cache keeps both sets: a warm run asks
    git for no patch-id."""
    from backport.cache import Cache
    from backport.git import open_repository

    repo, _ = xen_like(tmp_path)
    bugs = [repo.commit(f"bug {i}", {f"b{i}.c": f"{i}\n"}) for i in range(4)]
    fixes = [repo.commit(f"fix {i}", {f"b{i}.c": f"{i} fixed\n"}) for i in range(4)]
    repo.checkout("stable-4.20")
    copies = {c: repo.cherry_pick(c, x=False) for c in (bugs[0], bugs[1], fixes[0])}
    repo.checkout("staging")
    cache = Cache.open(open_repository(str(repo.path)))
    both = detector(repo, V19, V20, cache=cache, git=LateAhead(str(repo.path)))
    with both.ahead(fixes, {}):
        fixed = both.detect(bugs)
        found = both.detect(fixes)
    assert {c for c in bugs if fixed.on_line(c, V20)} == {bugs[0], bugs[1]}
    assert {c for c in fixes if found.on_line(c, V20)} == {fixes[0]}
    for commit, copy in copies.items():
        answer = (fixed if commit in bugs else found).find(commit, V20)
        assert answer is not None and (answer.evidence, answer.commit) == (PATCH_ID, copy)
    git = CountingGit(str(repo.path))
    warm = detector(repo, V19, V20, git=git, cache=cache)
    assert warm.detect([*bugs, *fixes]).applied == {**fixed.applied, **found.applied}
    assert not [call for call in git.calls if "patch-id" in call], git.calls


def test_pipeline_failure_is_a_git_error(tmp_path: Path) -> None:
    import pytest

    from backport.errors import GitError

    repo, _ = xen_like(tmp_path)
    git = Git(str(repo.path))
    assert patch_ids(git, ["0" * 40]) == {}  # diff-tree skips a missing object: no patch-id, no error
    with pytest.raises(GitError) as failed:
        git.pipe(["diff-tree", "--stdin", "--no-such-option"], ["patch-id", "--stable"], b"x\n" * 100_000)
    assert "diff-tree" in str(failed.value)
    with pytest.raises(GitError) as failed:
        git.pipe(["diff-tree", "--stdin", "-p"], ["patch-id", "--no-such-option"], b"HEAD\n")
    assert "patch-id" in str(failed.value)


def test_one_walk_answers_each_lines_ancestry_as_git_does(tmp_path: Path) -> None:
    """reach_masks: every line's commits above the scan base, and whether it
    holds the base, from one rev-list; the same as a rev-list and a
    merge-base --is-ancestor per line, on lines of every shape."""
    from test_forks import BRANCHES, shapes

    from backport.verdict.detect import reach_masks

    repo = shapes(tmp_path)
    git = Git(str(repo.path))
    tips = [repo.head(b) for b in BRANCHES]
    for base in (repo.head("stable-4.17~1"), repo.head("staging~2"), repo.head("stable-4.19")):
        masks, base_mask = reach_masks(git, tips, base)
        for i, tip in enumerate(tips):
            listed = set(repo.git("rev-list", tip, f"^{base}", "--").split())
            assert {c for c, m in masks.items() if m & 1 << i} == listed, (BRANCHES[i], base)
            holds = git.is_ancestor(base, tip)
            assert bool(base_mask & 1 << i) == (holds and tip != base), (BRANCHES[i], base)
