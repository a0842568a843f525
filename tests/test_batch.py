"""Batched picks (backport.verdict.batch) against one merge-tree per pick.

Every pick the batch takes on must come out as the single merge says:
clean or not, the same conflicted paths, and when clean the same tree and
the same changed entries. The histories are test_pick_agreement's (edits
that overlap, renames, mode and binary changes, merges), each commit picked
onto the line's tip and onto older trees of both branches.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from builder import RepoBuilder
from test_pick_agreement import SEEDS, grow

from backport.git import Git
from backport.verdict.batch import TreeReader, merge_batched
from backport.verdict.merge import Outcome, Scratch, own_changes, read_commits


def both_ways(repo: RepoBuilder, picks: list[str], ontos: list[str]) -> list[tuple[Outcome | None, Outcome]]:
    """Each commit onto each tree: (the batch's outcome or None, the single merge's)."""
    git = Git(str(repo.path))
    commits = [c for c in read_commits(git, [*picks, *ontos]) if c is not None]
    by_id = {c.id: c for c in commits}
    own = own_changes(git, commits)
    pairs = [(by_id[c], by_id[o].tree) for c in picks for o in ontos]
    scratch = Scratch(git)
    try:
        batched = merge_batched(scratch, pairs, own, lambda f, items: [f(i) for i in items])
        return [(b, scratch.merge(commit, tree)) for b, (commit, tree) in zip(batched, pairs, strict=True)]
    finally:
        scratch.close()


def same(batched: Outcome, single: Outcome) -> None:
    assert (batched.clean, batched.conflicts) == (single.clean, single.conflicts)
    if single.clean:
        assert batched.tree == single.tree
        assert {(c.path, c.status, c.mode, c.blob) for c in batched.changes} == {
            (c.path, c.status, c.mode, c.blob) for c in single.changes
        }


@pytest.mark.parametrize("seed", SEEDS)
def test_batched_picks_are_the_single_merges(tmp_path: Path, seed: int) -> None:
    repo, tip, picks = grow(tmp_path, seed)
    ontos = [tip, repo.head("line~3"), repo.head(f"{picks[0]}~1"), picks[len(picks) // 2]]
    results = both_ways(repo, picks, ontos)
    taken = [(b, s) for b, s in results if b is not None]
    for batched, single in taken:
        same(batched, single)
    # the batch must have had real work: merges of both outcomes, most picks
    assert len(taken) >= 0.3 * len(results)
    assert any(not s.clean for _, s in taken) and any(s.clean and s.changes for _, s in taken)


def test_what_the_batch_leaves_to_single_merges(tmp_path: Path) -> None:
    """A commit that adds a file, one whose path is a directory on the tree
    picked onto, and one that only modifies: the batch takes the last one."""
    repo = RepoBuilder(tmp_path / "r")
    repo.commit("base", {"a.c": "a\n", "b.c": "b\n", "c.c": "c\n"})
    repo.branch("line")
    adds = repo.commit("adds", {"new.c": "new\n"})
    becomes = repo.commit("edits b", {"b.c": "b2\n"})
    edits = repo.commit("edits c", {"c.c": "c2\n"})
    repo.checkout("line")
    repo.commit("b is a directory here", {"b.c": None, "b.c/x": "x\n"})
    results = both_ways(repo, [adds, becomes, edits], [repo.head("line")])
    assert [b is not None for b, _ in results] == [False, False, True]
    same(*results[2])  # type: ignore[arg-type]


def test_attributes_apply_to_batched_paths(tmp_path: Path) -> None:
    """Paths keep their names in a batch, so a merge driver set by path
    applies as it does to the single merge (here: union, no conflict)."""
    repo = RepoBuilder(tmp_path / "r")
    repo.commit("base", {"log/changes.txt": "one\n", "other.txt": "one\n"})
    (repo.path / ".git" / "info" / "attributes").write_text("log/changes.txt merge=union\n")
    repo.branch("line")
    fixes = repo.commit("both", {"log/changes.txt": "one\ntwo\n", "other.txt": "one\ntwo\n"})
    repo.checkout("line")
    repo.commit("line's own", {"log/changes.txt": "one\nthree\n", "other.txt": "one\nthree\n"})
    [(batched, single)] = both_ways(repo, [fixes], [repo.head("line")])
    assert batched is not None
    same(batched, single)
    assert single.conflicts == ("other.txt",)  # union for the one path, a conflict for the other


def test_batch_trees_are_written_only_when_git_reads_them(tmp_path: Path) -> None:
    """...and are git's own trees: entries in git's order, where a
    directory sorts as if its name ended in '/' (after d.c, before d0)."""
    repo = RepoBuilder(tmp_path / "r")
    repo.commit("base", {"d/a.c": "a\n", "b.c": "b\n", "d-x": "x\n", "d.c": "c\n", "d0": "0\n"})
    repo.branch("line")
    fix = repo.commit("fix", {"d/a.c": "a2\n"})
    repo.checkout("line")
    repo.commit("line", {"b.c": "b2\n"})
    git = Git(str(repo.path))
    commit, line = read_commits(git, [fix, "line"])
    assert commit is not None and line is not None
    scratch = Scratch(git)
    try:
        [outcome] = merge_batched(
            scratch, [(commit, line.tree)], own_changes(git, [commit]), lambda f, i: [f(x) for x in i]
        )
        assert outcome is not None and outcome.clean
        reads = scratch.objects().run(["cat-file", "-e", outcome.tree], check=False)
        assert reads.returncode != 0  # not written: nobody asked
        scratch.synthetic([(commit, outcome.tree)])
        listed = scratch.objects().out(["ls-tree", "-r", "--name-only", outcome.tree]).split()
        assert listed == ["b.c", "d-x", "d.c", "d/a.c", "d0"]
        assert scratch.objects().out(["cat-file", "-p", f"{outcome.tree}:d/a.c"]) == "a2"
        assert outcome.tree == scratch.merge(commit, line.tree).tree
    finally:
        scratch.close()


def test_written_trees_are_gits_own(tmp_path: Path) -> None:
    """A tree with an overlay on top, worked out here, against the same
    entries put in an index and written by git: files changed, deleted and
    added, new and emptied directories, a file where a directory was and
    the other way round."""
    repo = RepoBuilder(tmp_path / "r")
    repo.commit("base", {"a.c": "a\n", "d/x.c": "x\n", "d/y.c": "y\n", "e/f/g.c": "g\n", "h": "h\n", "d0": "0\n"})
    git = Git(str(repo.path))
    tip = git.out(["rev-parse", "HEAD^{tree}"])
    blob = git.out(["hash-object", "-w", "--stdin"], input=b"new\n")
    overlays: list[dict[str, tuple[str, str] | None]] = [
        {"a.c": ("100755", blob)},
        {"d/x.c": None},
        {"d/x.c": None, "d/y.c": None},  # d empties and goes
        {"e/f/g.c": None, "e/new.c": ("100644", blob)},
        {"n/m/new.c": ("100644", blob), "d.c": ("120000", blob)},
        {"h": None, "h/inside.c": ("100644", blob)},  # a directory where a file was
        {"d/x.c": None, "d/y.c": None, "d": ("100644", blob)},  # and a file where a directory was
    ]
    scratch = Scratch(git)
    try:
        reader = TreeReader(scratch)
        for overlay in overlays:
            ours = reader.written(tip, overlay)
            index = scratch.objects().with_env({"GIT_INDEX_FILE": str(tmp_path / f"index-{len(overlay)}")})
            index.run(["read-tree", tip])
            records = "".join(
                f"{e[0]} {e[1]}\t{p}\0" if e else f"0 {'0' * 40}\t{p}\0" for p, e in overlay.items()
            )
            index.run(["update-index", "-z", "--replace", "--index-info"], input=records.encode())
            assert ours == index.out(["write-tree"]), overlay
    finally:
        scratch.close()


def test_a_big_scratch_directory_is_removed_in_the_background(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from backport.verdict import merge

    repo = RepoBuilder(tmp_path / "r")
    repo.commit("base", {"a.c": "a\n"})
    fix = repo.commit("fix", {"a.c": "b\n"})
    git = Git(str(repo.path))
    [commit] = read_commits(git, [fix])
    assert commit is not None
    monkeypatch.setattr(merge, "DETACH_AFTER", 1)
    inline: list[str] = []
    monkeypatch.setattr(merge.shutil, "rmtree", lambda path, *a, **k: inline.append(path))
    scratch = Scratch(git)
    scratch.merge(commit, commit.tree)
    directory = scratch.directory
    assert directory is not None and os.path.isdir(directory)
    scratch.close()
    deadline = time.time() + 20
    while os.path.exists(directory) and time.time() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(directory)
    assert inline == []  # not by us: by the rm we left running
