"""The cherry-pick simulator on small real repositories, one kind of change at a time."""

from __future__ import annotations

import gc
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from builder import RepoBuilder
from snapshot import snapshot

from backport.errors import UsageError
from backport.git import Git, open_repository
from backport.verdict.simulate import Pick, Simulator, reproduce_command

TEN = "".join(f"line {n}\n" for n in range(1, 11))


def edit(text: str, number: int, new: str) -> str:
    """`text` with line `number` (1-based) replaced."""
    lines = text.splitlines(keepends=True)
    lines[number - 1] = new + "\n"
    return "".join(lines)


@pytest.fixture
def forked(make_repo: Callable[..., RepoBuilder]) -> RepoBuilder:
    """master with a few files; `line` forked from it."""
    repo = make_repo()
    repo.commit("base", {"a.c": TEN, "b.c": TEN, "bin.dat": bytes(range(256)) * 4})
    repo.branch("line")
    return repo


def simulator(repo: RepoBuilder, **options: object) -> Simulator:
    info = open_repository(str(repo.path))
    return Simulator(Git(info.path), info, cache=bool(options.get("cache", False)), jobs=options.get("jobs"))  # type: ignore[arg-type]


class Picked:
    """A pick with its result tree still readable (the scratch objects die with the simulator)."""

    def __init__(self, sim: Simulator, result: Pick) -> None:
        self.sim, self.result = sim, result

    def git(self, *args: str) -> str:
        return self.sim.scratch.objects().out(list(args))

    def blob(self, path: str) -> str:
        return self.git("cat-file", "-p", f"{self.result.tree}:{path}")

    def paths(self) -> list[str]:
        return self.git("ls-tree", "-r", "--name-only", str(self.result.tree)).splitlines()


def pick(repo: RepoBuilder, commit: str, onto: str = "line") -> Pick:
    with simulator(repo) as sim:
        return sim.pick(commit, onto)


@pytest.fixture
def picker(forked: RepoBuilder) -> Iterator[Callable[[str], Picked]]:
    with simulator(forked) as sim:
        yield lambda commit: Picked(sim, sim.pick(commit, "line"))


def on_line(repo: RepoBuilder, message: str, files: dict[str, str | bytes | None]) -> str:
    repo.checkout("line")
    commit = repo.commit(message, files)
    repo.checkout("master")
    return commit


# -- single picks --------------------------------------------------------------


def test_clean_pick_carries_the_change(forked: RepoBuilder, picker: Callable[[str], Picked]) -> None:
    on_line(forked, "line work", {"b.c": edit(TEN, 9, "line change")})
    fix = forked.commit("fix", {"a.c": edit(TEN, 2, "fixed")})
    picked = picker(fix)
    result = picked.result
    assert result.clean and not result.empty and not result.merge and result.conflicts == ()
    assert "fixed" in picked.blob("a.c")
    assert "line change" in picked.blob("b.c")


def test_conflict_names_exactly_the_conflicted_paths(forked: RepoBuilder) -> None:
    on_line(forked, "line work", {"a.c": edit(TEN, 5, "line"), "b.c": edit(TEN, 5, "line")})
    fix = forked.commit(
        "fix", {"a.c": edit(TEN, 5, "fix"), "b.c": edit(TEN, 5, "fix"), "c.c": "new\n"}
    )
    result = pick(forked, fix)
    assert not result.clean
    assert result.conflicts == ("a.c", "b.c")
    assert result.tree is None and not result.empty


def test_change_already_on_the_line_is_an_empty_pick(forked: RepoBuilder) -> None:
    fix = forked.commit("fix", {"a.c": edit(TEN, 3, "fixed")})
    forked.checkout("line")
    forked.cherry_pick(fix)
    forked.checkout("master")
    result = pick(forked, fix)
    assert result.clean and result.empty
    assert result.tree == forked.git("rev-parse", "line^{tree}")


def test_file_renamed_on_the_line_takes_the_change(forked: RepoBuilder, picker: Callable[[str], Picked]) -> None:
    on_line(forked, "rename", {"a.c": None, "renamed.c": TEN})
    fix = forked.commit("fix", {"a.c": edit(TEN, 4, "fixed")})
    picked = picker(fix)
    assert picked.result.clean
    assert "a.c" not in picked.paths()
    assert "fixed" in picked.blob("renamed.c")


def test_file_renamed_by_the_commit_keeps_the_line_change(forked: RepoBuilder, picker: Callable[[str], Picked]) -> None:
    on_line(forked, "line work", {"a.c": edit(TEN, 9, "line change")})
    move = forked.commit("move", {"a.c": None, "moved.c": edit(TEN, 1, "moved")})
    picked = picker(move)
    assert picked.result.clean
    assert "a.c" not in picked.paths()
    content = picked.blob("moved.c")
    assert "moved" in content and "line change" in content


def test_binary_change_picks_clean(forked: RepoBuilder, picker: Callable[[str], Picked]) -> None:
    on_line(forked, "line work", {"a.c": edit(TEN, 9, "line change")})
    fix = forked.commit("binary", {"bin.dat": bytes(range(255, -1, -1)) * 4})
    picked = picker(fix)
    assert picked.result.clean
    assert picked.git("rev-parse", f"{picked.result.tree}:bin.dat") == forked.git("rev-parse", f"{fix}:bin.dat")


def test_binary_conflict(forked: RepoBuilder) -> None:
    on_line(forked, "line binary", {"bin.dat": b"\0line" * 50})
    fix = forked.commit("binary", {"bin.dat": b"\0fix" * 50})
    result = pick(forked, fix)
    assert not result.clean and result.conflicts == ("bin.dat",)


def test_modify_on_unstable_delete_on_line_conflicts(forked: RepoBuilder) -> None:
    on_line(forked, "drop b", {"b.c": None})
    fix = forked.commit("fix", {"b.c": edit(TEN, 2, "fixed")})
    result = pick(forked, fix)
    assert not result.clean and result.conflicts == ("b.c",)


def test_delete_on_unstable_modify_on_line_conflicts(forked: RepoBuilder) -> None:
    on_line(forked, "line work", {"b.c": edit(TEN, 2, "line")})
    drop = forked.commit("drop", {"b.c": None})
    result = pick(forked, drop)
    assert not result.clean and result.conflicts == ("b.c",)


def test_mode_change_is_picked(forked: RepoBuilder, picker: Callable[[str], Picked]) -> None:
    on_line(forked, "line work", {"a.c": edit(TEN, 9, "line change")})
    os.chmod(forked.path / "a.c", 0o755)
    chmod = forked.commit("chmod +x")
    picked = picker(chmod)
    assert picked.result.clean and not picked.result.empty
    assert picked.git("ls-tree", str(picked.result.tree), "a.c").startswith("100755 ")
    assert "line change" in picked.blob("a.c")


def test_merge_commit_is_picked_against_its_first_parent(forked: RepoBuilder, picker: Callable[[str], Picked]) -> None:
    forked.checkout("topic", new=True)
    forked.commit("topic 1", {"a.c": edit(TEN, 1, "topic one")})
    forked.commit("topic 2", {"b.c": edit(TEN, 10, "topic two")})
    forked.checkout("master")
    forked.commit("mainline", {"c.c": "mainline\n"})
    forked.git("merge", "-q", "--no-ff", "-m", "merge topic", "topic", env={"GIT_COMMITTER_DATE": forked.tick()})
    merge = forked.head()
    picked = picker(merge)
    assert picked.result.merge and picked.result.clean
    assert "c.c" not in picked.paths()  # the first parent's own work is not part of the pick
    assert "topic one" in picked.blob("a.c")
    assert "topic two" in picked.blob("b.c")


def test_root_commit_is_picked_against_the_empty_tree(forked: RepoBuilder, picker: Callable[[str], Picked]) -> None:
    forked.git("checkout", "-q", "--orphan", "other")
    forked.git("rm", "-rq", "--cached", ".")
    for name in ("a.c", "b.c", "bin.dat"):
        (forked.path / name).unlink()
    root = forked.commit("root", {"other.c": "other\n"})
    forked.checkout("master")
    picked = picker(root)
    assert picked.result.clean and not picked.result.merge
    assert sorted(picked.paths()) == ["a.c", "b.c", "bin.dat", "other.c"]


def test_unknown_commit_is_a_usage_error(forked: RepoBuilder) -> None:
    with pytest.raises(UsageError):
        pick(forked, "no-such-commit")
    with pytest.raises(UsageError):
        pick(forked, "--output=x")


# -- a line's virtual branch ---------------------------------------------------


def test_candidate_that_needs_an_earlier_one_names_it_in_after(forked: RepoBuilder) -> None:
    first = forked.commit("first", {"a.c": edit(TEN, 5, "first")})
    unrelated = forked.commit("unrelated", {"b.c": edit(TEN, 1, "unrelated")})
    second = forked.commit("second", {"a.c": edit(edit(TEN, 5, "first"), 6, "second")})
    with simulator(forked) as sim:
        plan = sim.plan_line(forked.head("line"), [first, unrelated, second])
    assert plan[first].alone.clean and plan[first].chained.clean and plan[first].after == ()
    assert plan[unrelated].chained.clean and plan[unrelated].after == ()
    assert not plan[second].alone.clean and plan[second].alone.conflicts == ("a.c",)
    assert plan[second].chained.clean
    assert plan[second].after == (first,)


def test_after_brings_the_prerequisites_of_a_prerequisite(forked: RepoBuilder) -> None:
    """`needs` shares no path with `first`, but `second`, which it needs,
    conflicts until `first` is picked: `after` names both, in order, and
    picking them then `needs` with real git is clean."""
    on_line(forked, "line", {"a.c": edit(TEN, 8, "line's own")})
    first = forked.commit("first", {"a.c": edit(edit(TEN, 8, "line's own"), 5, "first")})
    second = forked.commit("second", {"a.c": edit(edit(edit(TEN, 8, "line's own"), 5, "first"), 4, "second"),
                                      "b.c": edit(TEN, 5, "second")})
    needs = forked.commit("needs", {"b.c": edit(edit(TEN, 5, "second"), 6, "needs")})
    with simulator(forked) as sim:
        plan = sim.plan_line(forked.head("line"), [first, second, needs])
    assert plan[second].after == (first,)
    assert not plan[needs].alone.clean and plan[needs].chained.clean
    assert plan[needs].after == (first, second)
    assert replayed(forked, "line", [first, second, needs]) == [True, True, True]
    assert replayed(forked, "line", [second, needs])[0] is False  # what the path overlap alone named


def test_after_lists_completed_beside_the_chain_are_those_completed_after_it(forked: RepoBuilder) -> None:
    """A series where each commit needs the one before, with unrelated ones
    between: the `after` lists completed on their own thread, one candidate
    behind the virtual branch (two jobs), are those worked out after it
    (one job), and picking each list then its commit with git is clean."""
    on_line(forked, "line", {"a.c": edit(TEN, 9, "line's own")})
    text, series = edit(TEN, 9, "line's own"), []
    for n in range(1, 6):
        text = edit(text, n, f"step {n}")
        series.append(forked.commit(f"step {n}", {"a.c": text}))
        forked.commit(f"aside {n}", {f"aside{n}.c": f"{n}\n"})
    commits = [c for c in forked.git("rev-list", "--reverse", "line..HEAD").split()]
    with simulator(forked, jobs=2) as sim:
        beside = sim.plan_line(forked.head("line"), commits)
    with simulator(forked, jobs=1) as sim:
        assert sim.plan_line(forked.head("line"), commits) == beside
    last = beside[series[-1]]
    assert not last.alone.clean and last.chained.clean and last.after
    assert replayed(forked, "line", [*last.after, series[-1]]) == [True] * (len(last.after) + 1)


def test_after_leaves_out_what_touches_the_same_file_elsewhere(forked: RepoBuilder) -> None:
    """`far` changes another part of the file `second` needs: sharing the path
    is not needing it."""
    text = "".join(f"line {n}\n" for n in range(1, 41))
    forked.commit("longer file", {"a.c": text})
    forked.branch("line", "HEAD")
    first = forked.commit("first", {"a.c": edit(text, 5, "first")})
    far = forked.commit("far", {"a.c": edit(edit(text, 5, "first"), 35, "far")})
    second = forked.commit("second", {"a.c": edit(edit(edit(text, 5, "first"), 35, "far"), 6, "second")})
    with simulator(forked) as sim:
        plan = sim.plan_line(forked.head("line"), [first, far, second])
    assert plan[second].chained.clean and not plan[second].alone.clean
    assert plan[second].after == (first,)
    assert replayed(forked, "line", [first, second]) == [True, True]


def replayed(repo: RepoBuilder, line: str, commits: list[str]) -> list[bool]:
    """Real `git cherry-pick` of `commits` in order onto `line`, in a linked
    worktree that is removed afterwards: which picked clean (the rest are
    not tried once one conflicts)."""
    import tempfile

    path = tempfile.mkdtemp(prefix="replay-")
    repo.git("worktree", "add", "-q", "--detach", path, line)
    outcome: list[bool] = []
    try:
        for commit in commits:
            proc = subprocess.run(["git", "cherry-pick", commit], cwd=path, env=repo.env(), capture_output=True)
            outcome.append(proc.returncode == 0)
            if proc.returncode != 0:
                break
    finally:
        subprocess.run(["git", "cherry-pick", "--abort"], cwd=path, env=repo.env(), capture_output=True)
        repo.git("worktree", "remove", "--force", path)
    return outcome


def test_chained_conflict_does_not_enter_the_virtual_branch(forked: RepoBuilder) -> None:
    on_line(forked, "line", {"a.c": edit(TEN, 5, "line")})
    bad = forked.commit("bad", {"a.c": edit(TEN, 5, "bad")})
    after_bad = forked.commit("after bad", {"a.c": edit(edit(TEN, 5, "bad"), 6, "later")})
    other = forked.commit("other", {"b.c": edit(TEN, 2, "other")})
    with simulator(forked) as sim:
        plan = sim.plan_line(forked.head("line"), [bad, after_bad, other])
    assert not plan[bad].chained.clean
    assert not plan[after_bad].alone.clean and not plan[after_bad].chained.clean
    assert plan[after_bad].after == ()
    assert plan[other].chained.clean


def test_plan_lines_matches_one_line_at_a_time_and_is_deterministic(forked: RepoBuilder) -> None:
    forked.branch("line2", "line")
    on_line(forked, "line", {"a.c": edit(TEN, 5, "line")})
    commits = [
        forked.commit("one", {"a.c": edit(TEN, 5, "one")}),
        forked.commit("two", {"a.c": edit(edit(TEN, 5, "one"), 6, "two"), "b.c": edit(TEN, 1, "x")}),
        forked.commit("three", {"b.c": edit(edit(TEN, 1, "x"), 2, "y")}),
    ]
    tips = [forked.head("line"), forked.head("line2")]
    with simulator(forked, jobs=2) as sim:
        together = sim.plan_lines([(tip, commits) for tip in tips])
    for tip, plan in zip(tips, together, strict=True):
        with simulator(forked, jobs=1) as sim:
            assert sim.plan_line(tip, commits) == plan
    assert together[0] != together[1]


def test_warm_cache_gives_the_same_plan(forked: RepoBuilder) -> None:
    on_line(forked, "line", {"a.c": edit(TEN, 5, "line")})
    commits = [
        forked.commit("one", {"b.c": edit(TEN, 5, "one")}),
        forked.commit("two", {"a.c": edit(TEN, 5, "two")}),
        forked.commit("three", {"b.c": edit(edit(TEN, 5, "one"), 6, "three")}),
    ]
    tip = forked.head("line")
    with simulator(forked, cache=True) as sim:
        cold = sim.plan_line(tip, commits)
    # the picks onto one tree are one cache entry (a file costs more than its few lines)
    assert len(list((forked.path / ".git" / "backport-cache" / "v1" / "pick").rglob("*.json"))) == 1
    with simulator(forked, cache=True) as sim:
        warm = sim.plan_line(tip, commits)
        # only the line entry was needed: nothing was merged, no scratch directory made
        assert sim.merged == 0 and not sim.scratch.made
    assert warm == cold
    # a longer list misses the line entry but reuses the single picks, whose
    # merged objects are gone: the virtual branch must merge them again
    extra = forked.commit("four", {"b.c": edit(edit(edit(TEN, 5, "one"), 6, "three"), 7, "four")})
    with simulator(forked, cache=True) as sim:
        longer = sim.plan_line(tip, [*commits, extra])
        assert sim.merged == 1  # the new one: the other three picks came from the cache
    with simulator(forked, cache=False) as sim:
        assert sim.plan_line(tip, [*commits, extra]) == longer
    assert longer[extra].after == (commits[0], commits[2])
    assert all(longer[c] == cold[c] for c in commits)


# -- conflict text and reproduction -------------------------------------------


def test_conflict_hunks_show_the_conflicting_lines(forked: RepoBuilder) -> None:
    long = "".join(f"line {n}\n" for n in range(1, 41))
    forked.commit("long file", {"long.c": long})
    forked.branch("line")
    on_line(forked, "line", {"long.c": edit(long, 5, "the line's version")})
    fix = forked.commit("fix", {"long.c": edit(edit(long, 5, "the fix's version"), 35, "far away")})
    tip = forked.head("line")
    with simulator(forked) as sim:
        hunks = sim.conflict_hunks(fix, tip)
        assert sim.conflict_hunks(fix, fix) == ""
    assert "--- a/long.c" in hunks
    assert f"+<<<<<<< {tip[:12]} (line)\n the line's version\n+=======\n+the fix's version\n" in hunks
    assert f"+>>>>>>> {fix[:12]} (picked)" in hunks
    assert "far away" not in hunks  # merged cleanly: not a conflicting hunk
    assert hunks.endswith("# CONFLICT (content): Merge conflict in long.c\n")


def test_odd_path_names_come_back_as_written(forked: RepoBuilder) -> None:
    odd = "dir with space/ä [x]*.c"
    forked.commit("odd", {odd: TEN, "dir with space/ä x.c": TEN})
    forked.branch("line")
    on_line(forked, "line", {odd: edit(TEN, 5, "line")})
    fix = forked.commit("fix", {odd: edit(TEN, 5, "fix"), "dir with space/ä x.c": edit(TEN, 5, "clean")})
    with simulator(forked) as sim:
        assert sim.pick(fix, "line").conflicts == (odd,)
        hunks = sim.conflict_hunks(fix, "line")
    assert f"--- a/{odd}" in hunks and "+fix" in hunks


def test_conflict_hunks_name_a_conflict_without_markers(forked: RepoBuilder) -> None:
    on_line(forked, "drop b", {"b.c": None})
    fix = forked.commit("fix", {"b.c": edit(TEN, 2, "fixed")})
    with simulator(forked) as sim:
        hunks = sim.conflict_hunks(fix, "line")
    assert "CONFLICT (modify/delete): b.c deleted in" in hunks


def test_reproduce_command_replays_the_conflict_in_a_clone(forked: RepoBuilder, tmp_path: Path) -> None:
    on_line(forked, "line", {"a.c": edit(TEN, 5, "line")})
    fix = forked.commit("fix", {"a.c": edit(TEN, 5, "fix")})
    clone = tmp_path / "clone"
    forked.git("clone", "-q", "--no-local", str(forked.path), str(clone))
    before = snapshot(clone)
    command = reproduce_command(fix, "origin/line")
    env = {**forked.env(), "TMPDIR": str(tmp_path)}
    proc = subprocess.run(["bash", "-c", command], cwd=clone, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr  # the echo of the hint runs last
    assert "error: could not apply" in proc.stderr
    where = re.search(r"look in (\S+);", proc.stdout)
    assert where
    unmerged = subprocess.run(
        ["git", "-C", where.group(1), "diff", "--name-only", "--diff-filter=U"], capture_output=True, text=True, env=env
    ).stdout.split()
    assert unmerged == ["a.c"]
    subprocess.run(["git", "worktree", "remove", "--force", where.group(1)], cwd=clone, env=env, check=True)
    after = snapshot(clone)
    assert after["refs"] == before["refs"] and after["status"] == before["status"]


def test_reproduce_command_quotes_what_it_is_given() -> None:
    command = reproduce_command("abc123", "stable 4.20; rm -rf ~", merge=True)
    assert "'stable 4.20; rm -rf ~'" in command
    assert "cherry-pick -x -m 1 abc123" in command


# -- the repository stays untouched -------------------------------------------


@pytest.fixture
def busy(forked: RepoBuilder) -> Iterator[RepoBuilder]:
    on_line(forked, "line", {"a.c": edit(TEN, 5, "line")})
    forked.commit("one", {"a.c": edit(TEN, 5, "one")})
    forked.commit("two", {"b.c": edit(TEN, 5, "two"), "new.c": "new\n"})
    forked.commit("three", {"a.c": edit(edit(TEN, 5, "one"), 6, "three")})
    forked.git("notes", "--ref=backport", "add", "-m", "Backport-to: 4.20", "HEAD")
    yield forked


def simulate_everything(repo: RepoBuilder) -> None:
    commits = repo.git("rev-list", "--reverse", "line..master").split()
    with simulator(repo, cache=True, jobs=2) as sim:
        sim.plan_lines([(repo.head("line"), commits), (repo.head("master~3"), commits[1:])])
        for commit in commits:
            sim.pick(commit, "line")
            sim.conflict_hunks(commit, "line")


def test_simulation_leaves_the_repository_as_it_was(busy: RepoBuilder) -> None:
    before = snapshot(busy.path)
    simulate_everything(busy)
    assert snapshot(busy.path) == before
    assert (Path(open_repository(str(busy.path)).common_dir) / "backport-cache").is_dir()


def test_simulation_leaves_a_dirty_work_tree_as_it_was(busy: RepoBuilder) -> None:
    busy.write({"a.c": "uncommitted\n", "untracked.txt": "untracked\n"})
    busy.git("add", "a.c")
    busy.write({"b.c": "unstaged\n"})
    before = snapshot(busy.path)
    simulate_everything(busy)
    assert snapshot(busy.path) == before


def test_simulation_leaves_a_cherry_pick_in_progress_as_it_was(busy: RepoBuilder) -> None:
    busy.checkout("line")
    proc = subprocess.run(["git", "cherry-pick", "master~2"], cwd=busy.path, env=busy.env(), capture_output=True)
    assert proc.returncode != 0 and (busy.path / ".git" / "CHERRY_PICK_HEAD").exists()
    before = snapshot(busy.path)
    simulate_everything(busy)
    assert snapshot(busy.path) == before


def test_scratch_objects_are_removed_on_exit_and_on_interrupt(busy: RepoBuilder) -> None:
    with simulator(busy) as sim:
        sim.pick("master", "line")
        scratch = sim.scratch.directory
        assert scratch and os.listdir(os.path.join(scratch, "objects"))
    assert not os.path.exists(scratch)
    with pytest.raises(KeyboardInterrupt):
        with simulator(busy, jobs=2) as sim:
            sim.pick("master", "line")
            scratch = sim.scratch.directory
            raise KeyboardInterrupt
    assert scratch and not os.path.exists(scratch)
    forgotten = simulator(busy)
    forgotten.pick("master", "line")
    scratch = forgotten.scratch.directory
    del forgotten
    gc.collect()
    assert scratch and not os.path.exists(scratch)


def test_bare_clone_and_linked_worktree_work_and_stay_untouched(busy: RepoBuilder, tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    busy.git("clone", "-q", "--bare", str(busy.path), str(bare))
    worktree = tmp_path / "worktree"
    busy.git("worktree", "add", "-q", "--detach", str(worktree), "line")
    commits = busy.git("rev-list", "--reverse", "line..master").split()
    plans = []
    for where in (bare, worktree):
        before = snapshot(where)
        info = open_repository(str(where))
        with Simulator(Git(info.path), info, cache=True) as sim:
            plans.append(sim.plan_line(busy.head("line"), commits))
        assert snapshot(where) == before
    assert plans[0] == plans[1]
    assert [plans[0][c].alone.clean for c in commits] == [False, True, False]


@pytest.fixture
def no_tmpdir(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a machine where the user named no temporary directory."""
    for name in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() asks the environment again


def test_scratch_goes_in_memory_when_it_fits_else_where_the_user_said(
    busy: RepoBuilder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_tmpdir: None
) -> None:
    from backport.verdict import merge

    memory = tmp_path / "run"
    memory.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(memory))
    with simulator(busy) as sim:
        sim.plan_line("line", busy.git("rev-list", "--reverse", "line..master").split())
        assert sim.scratch.directory and Path(sim.scratch.directory).parent == memory
    assert list(memory.iterdir()) == []
    # more picks than memory is to hold: the system's temporary directory
    assert merge.scratch_parent(merge.MEMORY_AT_MOST // merge.PICK_BYTES + 1) != str(memory)
    # a directory in memory without room (a container's 64 MiB /dev/shm): not there either
    monkeypatch.setattr(merge, "MEMORY_DIRECTORY", "/nonexistent")
    monkeypatch.setattr(os, "statvfs", lambda path: os.statvfs_result((4096, 4096, 1, 1, 1, 1, 1, 1, 0, 255)))
    assert merge.scratch_parent(1) != str(memory)
    monkeypatch.undo()
    # the user's own choice wins
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(memory))
    monkeypatch.setenv("TMPDIR", str(chosen))
    monkeypatch.setattr(tempfile, "tempdir", None)
    with simulator(busy) as sim:
        sim.pick("master", "line")
        assert sim.scratch.directory and Path(sim.scratch.directory).parent == chosen


def test_scratch_directories_of_runs_killed_outright_are_removed_by_the_next(
    busy: RepoBuilder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run holds its scratch directory's lock file locked while it lives;
    the next run removes those it can lock, and only those."""
    parent = tmp_path / "tmp"
    parent.mkdir()
    monkeypatch.setenv("TMPDIR", str(parent))
    monkeypatch.setattr(tempfile, "tempdir", None)
    run = [
        sys.executable,
        "-c",
        "import sys; from backport.verdict.simulate import Simulator\n"
        "from backport.git import Git, open_repository\n"
        "info = open_repository(sys.argv[1])\n"
        "sim = Simulator(Git(info.path), info, cache=False)\n"
        "sim.pick('master', 'line'); print(sim.scratch.directory, flush=True); sys.stdin.read()",
        str(busy.path),
    ]
    env = {**os.environ, "TMPDIR": str(parent), "PYTHONPATH": os.pathsep.join(sys.path)}
    killed = subprocess.Popen(run, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    living = subprocess.Popen(run, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        left = Path(str(killed.stdout and killed.stdout.readline()).strip())
        alive = Path(str(living.stdout and living.stdout.readline()).strip())
        killed.kill()  # SIGKILL: nothing of its own cleans up
        killed.wait()
        assert left.is_dir() and alive.is_dir()
        making = parent / "backport-sim-1-0123456789ab"  # being made: no lock file yet
        (making / "objects").mkdir(parents=True)
        old_kind = parent / "backport-sim-123456789012"  # not a name of ours: never touched
        old_kind.mkdir()
        with simulator(busy) as sim:
            sim.pick("master", "line")
        deadline = time.time() + 20
        while left.exists() and time.time() < deadline:
            time.sleep(0.05)  # removed by an rm left running
        assert not left.exists()
        assert alive.is_dir() and making.is_dir() and old_kind.is_dir()
    finally:
        for proc in (killed, living):
            proc.kill()
            proc.wait()


def test_picks_at_once_say_what_each_pick_says(forked: RepoBuilder) -> None:
    """`picks` (every commit alone onto one commit, in any order) gives each
    commit the verdict `pick` gives it, a conflict with the same paths."""
    forked.checkout("line")
    forked.commit("line edit", {"a.c": edit(TEN, 2, "line two")})
    forked.checkout("master")
    clean = forked.commit("edit b", {"b.c": edit(TEN, 5, "five")})
    conflict = forked.commit("edit a", {"a.c": edit(TEN, 2, "master two")})
    added = forked.commit("add c", {"c.c": "new\n"})
    ranked = [added, conflict, clean]  # not unstable order
    with simulator(forked) as sim:
        together = sim.picks(ranked, "line")
    for commit in ranked:
        with simulator(forked) as sim:
            alone = sim.pick(commit, "line")
        assert (together[commit].clean, together[commit].conflicts) == (alone.clean, alone.conflicts)
    assert together[conflict].conflicts == ("a.c",) and together[clean].clean and together[added].clean


def test_a_replay_thousands_long_needs_no_deep_stack() -> None:
    """An `after` list thousands of commits long is replayed in a loop: a
    sequence whose first pick conflicts conflicts, with no RecursionError."""
    from backport.verdict.chain import Replay
    from backport.verdict.merge import Outcome

    conflicting = Outcome(clean=False, conflicts=("a.c",), tree="", changes=())
    replay = Replay(None, {"c0": conflicting})  # type: ignore[arg-type]  # a conflict needs no picks
    names = [f"c{n}" for n in range(5 * sys.getrecursionlimit())]
    assert not replay.clean(names)
    assert not replay.clean(names[:10])
