"""`backport pick` on real repositories, through the real command line.

What it picks (clean ones, chains with their prerequisites, named commits),
how (git's own cherry-pick: same trees, same author and author date, the
line's reference style), where (a private worktree; the user's checkout,
index, HEAD, stash, other branches and reflogs never change), and what
happens when it stops: a conflict resolved and continued, skipped, aborted,
and a run killed between two picks, resumed or aborted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from builder import RepoBuilder
from snapshot import snapshot

Run = Callable[..., Any]
LINE = "stable-4.20"
BRANCH = "backport/4.20"
ANN = "Ann Author <ann@example.org>"
BOB = "Bob Builder <bob@example.org>"


def numbered(name: str, n: int = 12) -> str:
    return "".join(f"{name} {i}\n" for i in range(n))


def edited(name: str, changes: dict[int, str], n: int = 12) -> str:
    rows = [f"{name} {i}" for i in range(n)]
    for index, text in changes.items():
        rows[index] = text
    return "".join(row + "\n" for row in rows)


def message(subject: str, *trailers: str, body: str = "A fix, explained.") -> str:
    return f"{subject}\n\n{body}\n\n" + "\n".join(["Signed-off-by: " + ANN, *trailers]) + "\n"


class Project:
    """staging with stable-4.20 forked from it, and helpers to grow both."""

    def __init__(self, root: Path) -> None:
        self.repo = RepoBuilder(root, branch="staging")
        self.base = self.repo.commit("base", {f"{n}.c": numbered(n) for n in "abcdefgh"})
        self.repo.branch(LINE)
        self.repo.tag("RELEASE-4.20.0", LINE)

    def fix(
        self, subject: str, files: dict[str, str | bytes | None], *, to: str | None = "4.20", author: str = ANN
    ) -> str:
        trailers = [f"Backport-to: {to}"] if to else []
        return self.repo.commit(message(subject, *trailers), files, author=author)

    def git(self, *args: str) -> str:
        return self.repo.git(*args)

    @property
    def path(self) -> Path:
        return self.repo.path


def pick(run: Run, project: Project, *args: str) -> Any:
    return run("pick", *args, repo=project.path)


def verdicts(run: Run, project: Project, ref: str = BRANCH) -> dict[str, tuple[str, str | None, str | None]]:
    """commit -> (state, evidence, applied_as) on 4.20 with the line at `ref`."""
    result = run("--line", f"4.20={ref}", "check", "--format", "json", repo=project.path)
    assert result.code == 0, result
    found = {}
    for candidate in json.loads(result.out)["candidates"]:
        for target in candidate["targets"]:
            found[candidate["commit"]] = (target["state"], target["evidence"], target["applied_as"])
    return found


def picked_commits(project: Project, ref: str = BRANCH, base: str = LINE) -> list[dict[str, str]]:
    """The commits `ref` gained over `base`, oldest first: id, tree, author, author date, message."""
    rows = project.git(
        "log", "--reverse", "-z", "--format=%H%x01%T%x01%an <%ae>%x01%ad%x01%B", "--date=raw", f"{base}..{ref}"
    )
    out = []
    for row in rows.split("\0"):
        if row.strip():
            sha, tree, author, date, body = row.lstrip("\n").split("\x01")
            out.append({"id": sha, "tree": tree, "author": author, "date": date, "message": body})
    return out


def author_of(project: Project, commit: str) -> tuple[str, str]:
    return tuple(project.git("log", "-1", "--format=%an <%ae>%x00%ad", "--date=raw", commit).split("\0"))  # type: ignore[return-value]


def no_run_left(project: Project) -> None:
    common = Path(project.git("rev-parse", "--git-common-dir"))
    common = common if common.is_absolute() else project.path / common
    assert not (common / "backport-pick").exists()
    assert project.git("worktree", "list", "--porcelain").count("worktree ") == 1


# -- clean picks --------------------------------------------------------------------


@pytest.fixture
def three_fixes(tmp_path: Path) -> tuple[Project, list[str]]:
    project = Project(tmp_path / "xen")
    fixes = [
        project.fix("x86: fix a", {"a.c": edited("a", {2: "fixed a"})}),
        project.fix("x86: fix b", {"b.c": edited("b", {4: "fixed b"})}, author=BOB),
        project.fix("x86: not for 4.20", {"c.c": edited("c", {1: "c"})}, to=None),
        project.fix("x86: fix d", {"d.c": edited("d", {6: "fixed d"})}),
    ]
    return project, [fixes[0], fixes[1], fixes[3]]


def test_clean_picks_land_on_their_own_branch_and_the_checkout_stays(three_fixes: Any, run: Run) -> None:
    project, fixes = three_fixes
    # the user's own state, to be kept: a stash, a dirty file, a staged one
    (project.path / "a.c").write_text("my own edit\n")
    project.repo.git("stash", "push", "-q", "-m", "mine")
    (project.path / "b.c").write_text("dirty\n")
    (project.path / "new.txt").write_text("staged\n")
    project.git("add", "new.txt")
    before = snapshot(project.path)

    result = pick(run, project, "--line", "4.20")

    assert result.code == 0, result
    commits = picked_commits(project)
    assert [c["message"].splitlines()[0] for c in commits] == ["x86: fix a", "x86: fix b", "x86: fix d"]
    for commit, original in zip(commits, fixes, strict=True):
        assert (commit["author"], commit["date"]) == author_of(project, original)
        assert commit["message"].endswith(f"(cherry picked from commit {original})\n")
    assert f"git push origin {BRANCH}:{LINE}" in result.out
    after = snapshot(project.path, objects=False)
    expected = dict(snapshot_without(before, "refs", "git_dir_files", "reflogs"))
    assert {k: v for k, v in after.items() if k not in ("refs", "git_dir_files", "reflogs")} == expected
    # what changed is the new branch (and its reflog): nothing of the user's
    assert after["refs"].replace(f"refs/heads/{BRANCH} {commits[-1]['id']} \n", "") == before["refs"]
    assert set(after["reflogs"]) - set(before["reflogs"]) == {f"refs/heads/{BRANCH}"}
    assert {k: v for k, v in after["reflogs"].items() if k in before["reflogs"]} == before["reflogs"]
    no_run_left(project)
    judged = verdicts(run, project)
    assert {fix: judged[fix][:2] for fix in fixes} == {fix: ("applied", "cherry-picked-from") for fix in fixes}


def snapshot_without(state: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in state.items() if k not in keys and k not in ("count_objects", "loose_objects", "packs")}


def test_dry_run_prints_the_plan_and_changes_nothing(three_fixes: Any, run: Run) -> None:
    project, fixes = three_fixes
    before = snapshot(project.path)
    text = pick(run, project, "--line", "4.20", "--dry-run")
    document = json.loads(pick(run, project, "--line", "4.20", "--dry-run", "--format", "json").out)
    assert snapshot(project.path) == before
    assert [row.split()[1] for row in text.out.splitlines()[2:]] == [f[:12] for f in fixes]
    assert text.out.startswith(f"4.20: 3 commits to pick onto a new {BRANCH} from {LINE}")
    assert [p["commit"] for p in document["picks"]] == fixes
    assert document["branch"] == BRANCH and document["reference"] == "cherry-picked-from"
    assert document["push"] == f"git push origin {BRANCH}:{LINE}"


def test_nothing_to_pick_says_so(tmp_path: Path, run: Run) -> None:
    project = Project(tmp_path / "xen")
    result = pick(run, project, "--line", "4.20")
    assert result.code == 0 and "Nothing to pick on 4.20" in result.out
    assert project.git("branch", "--list", BRANCH) == ""


def test_a_second_run_continues_the_branch(three_fixes: Any, run: Run) -> None:
    project, fixes = three_fixes
    assert pick(run, project, "--line", "4.20").code == 0
    first = project.git("rev-parse", BRANCH)
    later = project.fix("x86: fix e", {"e.c": edited("e", {3: "fixed e"})})
    result = pick(run, project, "--line", "4.20")
    assert result.code == 0, result
    assert f"onto {BRANCH} (continued" in result.out
    assert project.git("rev-parse", f"{BRANCH}~1") == first  # only the new one was picked
    assert picked_commits(project, BRANCH, first)[0]["message"].endswith(f"(cherry picked from commit {later})\n")


# -- prerequisites, empty picks ------------------------------------------------------


@pytest.fixture
def chain(tmp_path: Path) -> tuple[Project, str, str]:
    """`second` rewrites what `first` added: alone it conflicts, after `first` it is clean."""
    project = Project(tmp_path / "xen")
    first = project.fix("x86: first", {"a.c": edited("a", {5: "first"})})
    second = project.fix("x86: second, on top of first", {"a.c": edited("a", {5: "second"})})
    return project, first, second


def test_a_named_commit_brings_its_prerequisites(chain: Any, run: Run) -> None:
    project, first, second = chain
    plan = json.loads(pick(run, project, "--line", "4.20", second, "--dry-run", "--format", "json").out)
    assert [(p["commit"], p["named"], p["needed_by"]) for p in plan["picks"]] == [
        (first, False, [second]),
        (second, True, []),
    ]
    text = pick(run, project, "--line", "4.20", second, "--dry-run").out
    assert f"prerequisite of {second[:12]}" in text and f"after {first[:12]}" in text
    result = pick(run, project, "--line", "4.20", second)
    assert result.code == 0, result
    assert [c["message"].splitlines()[0] for c in picked_commits(project)] == [
        "x86: first",
        "x86: second, on top of first",
    ]
    assert project.git("status", "--porcelain") == "" and project.git("rev-parse", "HEAD") == second
    assert project.git("show", f"{BRANCH}:a.c") == edited("a", {5: "second"}).rstrip("\n")


def test_the_default_plan_takes_chains_in_unstable_order(chain: Any, run: Run) -> None:
    project, first, second = chain
    plan = json.loads(pick(run, project, "--line", "4.20", "--dry-run", "--format", "json").out)
    assert [p["commit"] for p in plan["picks"]] == [first, second]
    assert plan["picks"][1]["after"] == [first]


def test_an_empty_pick_is_left_out_and_said(tmp_path: Path, run: Run) -> None:
    project = Project(tmp_path / "xen")
    once = project.fix("x86: fix a", {"a.c": edited("a", {2: "fixed a"})})
    project.fix("x86: undo it for a while", {"a.c": numbered("a")}, to=None)
    again = project.fix("x86: fix a again", {"a.c": edited("a", {2: "fixed a"})})
    result = pick(run, project, "--line", "4.20")
    assert result.code == 0, result
    assert f"empty    {again[:12]}" in result.out and "Done: 1 picked, 1 empty" in result.out
    assert [c["message"].splitlines()[0] for c in picked_commits(project)] == ["x86: fix a"]
    judged = verdicts(run, project)
    assert judged[once][:2] == ("applied", "cherry-picked-from")
    assert judged[again][:2] == ("applied", "empty-pick")


def test_a_merge_is_picked_against_its_first_parent(tmp_path: Path, run: Run) -> None:
    project = Project(tmp_path / "xen")
    repo = project.repo
    repo.checkout("topic", new=True)
    repo.commit("topic: part 1", {"e.c": edited("e", {1: "one"})})
    repo.commit("topic: part 2", {"f.c": edited("f", {1: "two"})})
    repo.checkout("staging")
    repo.git(
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "Merge topic\n\nBackport-to: 4.20",
        "topic",
        env={"GIT_COMMITTER_DATE": repo.tick(), "GIT_AUTHOR_DATE": repo.tick()},
    )
    merge = repo.head()
    result = pick(run, project, "--line", "4.20")
    assert result.code == 0, result
    (only,) = picked_commits(project)
    assert only["tree"] == project.git("rev-parse", f"{merge}^{{tree}}")  # the line had nothing else
    assert verdicts(run, project)[merge][:2] == ("applied", "cherry-picked-from")


# -- conflicts -----------------------------------------------------------------------


@pytest.fixture
def conflicting(tmp_path: Path) -> tuple[Project, str, str, str]:
    """A clean fix, then one that conflicts with the line's own change, then another clean one."""
    project = Project(tmp_path / "xen")
    project.repo.checkout(LINE)
    project.repo.commit("line: its own change", {"b.c": edited("b", {3: "line only"})})
    project.repo.checkout("staging")
    clean = project.fix("x86: fix a", {"a.c": edited("a", {2: "fixed a"})})
    hard = project.fix("x86: fix b", {"b.c": edited("b", {3: "fixed b"})}, author=BOB)
    later = project.fix("x86: fix c", {"c.c": edited("c", {7: "fixed c"})})
    return project, clean, hard, later


def worktree_of(project: Project) -> Path:
    common = Path(project.git("rev-parse", "--git-common-dir"))
    common = common if common.is_absolute() else project.path / common
    return common / "backport-pick" / "4.20" / "backport-4.20"


def test_a_conflict_stops_in_gits_own_cherry_pick_state(conflicting: Any, run: Run) -> None:
    project, clean, hard, later = conflicting
    result = pick(run, project, "--line", "4.20", clean, hard, later)
    assert result.code == 1, result
    tree = worktree_of(project)
    assert f"cd {tree}" in result.out and "conflict in b.c" in result.out
    assert "backport pick --continue" in result.out and "--skip" in result.out and "--abort" in result.out
    status = subprocess.run(["git", "status"], cwd=tree, capture_output=True, text=True, env=project.repo.env())
    assert "Cherry-pick currently in progress" in status.stdout and "both modified:   b.c" in status.stdout
    cherry_pick_head = subprocess.run(["git", "rev-parse", "CHERRY_PICK_HEAD"], cwd=tree, capture_output=True, text=True)
    assert cherry_pick_head.stdout.strip() == hard
    assert "<<<<<<<" in (tree / "b.c").read_text()
    shown = pick(run, project, "--status")
    assert shown.code == 0 and f"conflict  {hard[:12]}" in shown.out and f"to do     {later[:12]}" in shown.out
    again = pick(run, project, "--line", "4.20")
    assert again.code == 2 and "already under way for 4.20" in again.err


def test_a_resolved_conflict_is_continued_with_the_lines_message(conflicting: Any, run: Run) -> None:
    project, clean, hard, later = conflicting
    assert pick(run, project, "--line", "4.20", clean, hard, later).code == 1
    tree = worktree_of(project)
    premature = pick(run, project, "--continue")
    assert premature.code == 2 and "still has conflicts: b.c" in premature.err
    (tree / "b.c").write_text(edited("b", {3: "fixed b, as the line needs it"}))
    subprocess.run(["git", "add", "b.c"], cwd=tree, check=True, env=project.repo.env())
    result = pick(run, project, "--continue")
    assert result.code == 0, result
    commits = picked_commits(project)
    assert [c["message"].splitlines()[0] for c in commits] == ["x86: fix a", "x86: fix b", "x86: fix c"]
    assert (commits[1]["author"], commits[1]["date"]) == author_of(project, hard)
    assert commits[1]["message"].endswith(f"(cherry picked from commit {hard})\n")
    assert project.git("show", f"{BRANCH}:b.c").splitlines()[3] == "fixed b, as the line needs it"
    no_run_left(project)
    judged = verdicts(run, project)
    assert [judged[c][:2] for c in (clean, hard, later)] == [("applied", "cherry-picked-from")] * 3


def test_continue_from_inside_the_runs_worktree(conflicting: Any, run: Run, tmp_path: Path) -> None:
    project, clean, hard, later = conflicting
    series = tmp_path / "series"  # written by git once the worktree is gone
    assert pick(run, project, "--line", "4.20", "--format-patch", str(series), clean, hard, later).code == 1
    tree = worktree_of(project)
    (tree / "b.c").write_text(edited("b", {3: "resolved"}))
    subprocess.run(["git", "add", "b.c"], cwd=tree, check=True, env=project.repo.env())
    status = run("pick", "--status", repo=tree)
    assert status.code == 0 and f"conflict  {hard[:12]}" in status.out
    result = run("pick", "--continue", repo=tree)  # where whoever resolved it is
    assert result.code == 0, result
    assert not tree.exists() and len(picked_commits(project)) == 3
    assert len(list(series.iterdir())) == 4
    no_run_left(project)


def test_a_conflict_committed_by_hand_still_gets_the_lines_message(conflicting: Any, run: Run) -> None:
    project, clean, hard, later = conflicting
    assert pick(run, project, "--line", "4.20", clean, hard, later).code == 1
    tree = worktree_of(project)
    (tree / "b.c").write_text(edited("b", {3: "resolved"}))
    env = project.repo.env(GIT_EDITOR="true")
    subprocess.run(["git", "add", "b.c"], cwd=tree, check=True, env=env)
    subprocess.run(["git", "cherry-pick", "--continue"], cwd=tree, check=True, env=env, capture_output=True)
    assert pick(run, project, "--continue").code == 0
    commits = picked_commits(project)
    assert commits[1]["message"].endswith(f"(cherry picked from commit {hard})\n")
    assert len(commits) == 3


def test_a_conflict_resolved_to_nothing_is_left_out_as_empty(conflicting: Any, run: Run) -> None:
    project, clean, hard, later = conflicting
    assert pick(run, project, "--line", "4.20", clean, hard, later).code == 1
    tree = worktree_of(project)
    (tree / "b.c").write_text(edited("b", {3: "line only"}))  # the line's version: the pick adds nothing
    subprocess.run(["git", "add", "b.c"], cwd=tree, check=True, env=project.repo.env())
    result = pick(run, project, "--continue")
    assert result.code == 0, result
    assert f"empty    {hard[:12]}" in result.out and "Done: 2 picked, 1 empty" in result.out
    assert [c["message"].splitlines()[0] for c in picked_commits(project)] == ["x86: fix a", "x86: fix c"]
    no_run_left(project)


def test_a_conflict_can_be_skipped(conflicting: Any, run: Run) -> None:
    project, clean, hard, later = conflicting
    assert pick(run, project, "--line", "4.20", clean, hard, later).code == 1
    result = pick(run, project, "--skip")
    assert result.code == 0, result
    assert f"skipped  {hard[:12]}" in result.out and "1 skipped" in result.out
    assert [c["message"].splitlines()[0] for c in picked_commits(project)] == ["x86: fix a", "x86: fix c"]
    no_run_left(project)
    judged = verdicts(run, project)
    assert judged[hard][0] == "pending" and judged[later][:2] == ("applied", "cherry-picked-from")


def test_abort_puts_everything_back(conflicting: Any, run: Run) -> None:
    project, clean, hard, later = conflicting
    (project.path / "a.c").write_text("the user's own edit\n")
    project.git("stash", "push", "-q", "-m", "kept")
    (project.path / "h.c").write_text("dirty, never touched\n")
    before = snapshot(project.path, objects=False)
    assert pick(run, project, "--line", "4.20", clean, hard, later).code == 1
    assert snapshot(project.path, objects=False) != before
    result = pick(run, project, "--abort")
    assert result.code == 0, result
    assert f"{BRANCH} deleted" in result.out
    assert snapshot(project.path, objects=False) == before
    assert pick(run, project, "--status").out.strip() == "No backport pick in progress."


def test_abort_puts_an_existing_branch_back_where_it_was(conflicting: Any, run: Run) -> None:
    project, clean, hard, later = conflicting
    assert pick(run, project, "--line", "4.20", clean).code == 0
    mark = project.git("rev-parse", BRANCH)
    assert pick(run, project, "--line", "4.20", hard, later).code == 1
    assert pick(run, project, "--abort").code == 0
    assert project.git("rev-parse", BRANCH) == mark
    no_run_left(project)


# -- a run killed between two picks -------------------------------------------------

HOOK = """#!/bin/sh
# post-commit: count the commits; stop for good (until killed) at the one asked for
[ -n "$PICK_TEST_DIR" ] || exit 0
n=$(cat "$PICK_TEST_DIR/count" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "$PICK_TEST_DIR/count"
if [ "$n" = "$PICK_TEST_STOP_AT" ]; then
    touch "$PICK_TEST_DIR/stopped"
    sleep 120
fi
"""


@pytest.fixture
def four_fixes(tmp_path: Path) -> tuple[Project, list[str]]:
    project = Project(tmp_path / "xen")
    fixes = [project.fix(f"x86: fix {n}", {f"{n}.c": edited(n, {2: f"fixed {n}"})}) for n in "abcd"]
    return project, fixes


def killed_run(project: Project, tmp_path: Path, sig: int, *, stop_at: int = 2) -> subprocess.CompletedProcess[str]:
    """`backport pick` in a process of its own, stopped by `sig` while git
    finishes the commit of pick `stop_at` (its post-commit hook holds it there)."""
    hooks = project.path / ".git" / "hooks"
    (hooks / "post-commit").write_text(HOOK)
    os.chmod(hooks / "post-commit", 0o755)
    signals = tmp_path / "signals"
    signals.mkdir()
    env = project.repo.env(PICK_TEST_DIR=str(signals), PICK_TEST_STOP_AT=str(stop_at))
    proc = subprocess.Popen(
        [sys.executable, "-m", "backport", "--repo", str(project.path), "pick", "--line", "4.20"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (signals / "stopped").exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the run never reached the pick to stop at"
            time.sleep(0.02)
        if sig == signal.SIGKILL:
            os.killpg(proc.pid, sig)  # everything: backport, git, the hook
        else:
            os.kill(proc.pid, sig)  # backport alone, as `kill` does
        out, err = proc.communicate(timeout=60)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the hook's sleep outlives a SIGTERM to backport
        except ProcessLookupError:
            pass
        proc.wait()
        (hooks / "post-commit").unlink()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_a_killed_run_is_resumed(four_fixes: Any, tmp_path: Path, run: Run, sig: int) -> None:
    project, fixes = four_fixes
    stopped = killed_run(project, tmp_path, sig)
    assert stopped.returncode == (-signal.SIGKILL if sig == signal.SIGKILL else 143), stopped
    if sig == signal.SIGTERM:
        assert "backport pick --continue" in stopped.stderr and "error: interrupted" in stopped.stderr
    # killed inside git's commit of the second pick: git's sequencer is still on disk
    status = pick(run, project, "--status")
    assert status.code == 0 and "2 of 4 done" in status.out, status
    assert f"picked    {fixes[1][:12]}" in status.out and f"to do     {fixes[2][:12]}" in status.out
    assert (worktree_of(project).parent.parent.parent / "worktrees" / "backport-4.20" / "sequencer").is_dir()
    result = pick(run, project, "--continue")
    assert result.code == 0, result
    commits = picked_commits(project)
    assert [c["message"].splitlines()[0] for c in commits] == [f"x86: fix {n}" for n in "abcd"]
    assert [c["message"].count("(cherry picked from commit") for c in commits] == [1, 1, 1, 1]
    no_run_left(project)
    judged = verdicts(run, project)
    assert [judged[f][:2] for f in fixes] == [("applied", "cherry-picked-from")] * 4


def test_a_killed_run_is_aborted(four_fixes: Any, tmp_path: Path, run: Run) -> None:
    project, fixes = four_fixes
    (project.path / "a.c").write_text("mine\n")
    project.git("stash", "push", "-q")
    before = snapshot(project.path, objects=False)
    stopped = killed_run(project, tmp_path, signal.SIGKILL)
    assert stopped.returncode == -signal.SIGKILL
    assert snapshot(project.path, objects=False) != before
    assert pick(run, project, "--abort").code == 0
    assert snapshot(project.path, objects=False) == before


# -- reference styles ----------------------------------------------------------------


def styled_line(tmp_path: Path, style: str) -> tuple[Project, str]:
    """A line whose two earlier backports name their originals in `style`; a pending fix."""
    project = Project(tmp_path / "xen")
    olds = [project.fix(f"x86: old fix {n}", {f"{n}.c": edited(n, {0: "old"})}) for n in "gh"]
    project.repo.checkout(LINE)
    for old in olds:
        original = project.git("log", "-1", "--format=%B", old) + "\n"
        project.git("cherry-pick", "--no-commit", old)
        if style == "master-commit":
            date = project.git("log", "-1", "--format=%ci", old)
            text = original + f"master commit: {old}\nmaster date: {date}\n"
        elif style == "upstream-line":
            subject, _, body = original.partition("\n\n")
            text = f"{subject}\n\ncommit {old} upstream.\n\n{body}"
        else:
            text = original + f"(cherry picked from commit {old})\n"
        project.repo.commit(text)
    project.repo.checkout("staging")
    fix = project.fix("x86: fix a", {"a.c": edited("a", {2: "fixed a"})})
    return project, fix


@pytest.mark.parametrize("style", ["master-commit", "cherry-picked-from", "upstream-line"])
def test_the_lines_own_style_is_detected_and_written(tmp_path: Path, run: Run, style: str) -> None:
    project, fix = styled_line(tmp_path, style)
    result = pick(run, project, "--line", "4.20")
    assert result.code == 0, result
    assert f"reference style: {style} (the line's history: 2 of 2 backports carry it)" in result.out
    (commit,) = picked_commits(project)
    text = commit["message"]
    date = project.git("log", "-1", "--format=%ci", fix)
    expected = {
        "master-commit": f"Signed-off-by: {ANN}\nBackport-to: 4.20\nmaster commit: {fix}\nmaster date: {date}\n",
        "cherry-picked-from": f"Backport-to: 4.20\n(cherry picked from commit {fix})\n",
        "upstream-line": f"x86: fix a\n\ncommit {fix} upstream.\n\nA fix, explained.\n",
    }[style]
    assert text.endswith(expected) if style != "upstream-line" else text.startswith(expected), text
    assert verdicts(run, project)[fix][:2] == ("applied", style)


def test_pick_reference_and_signoff_settings(tmp_path: Path, run: Run) -> None:
    project, fix = styled_line(tmp_path, "cherry-picked-from")
    project.git("config", "backport.pick.reference", "master-commit")
    project.git("config", "backport.pick.signoff", "true")
    result = pick(run, project, "--line", "4.20")
    assert "reference style: master-commit (pick.reference (git config backport.pick.reference))" in result.out
    (commit,) = picked_commits(project)
    assert f"Signed-off-by: Carl Committer <carl@example.org>\nmaster commit: {fix}\n" in commit["message"]
    shown = run("config", repo=project.path).out
    assert "pick.reference" in shown and "backport.pick.signoff" in shown


# -- --onto-current, --format-patch, errors -------------------------------------------


def test_onto_current_refuses_another_branch_and_a_dirty_tree(three_fixes: Any, run: Run) -> None:
    project, fixes = three_fixes
    elsewhere = pick(run, project, "--line", "4.20", "--onto-current")
    assert elsewhere.code == 2 and "this checkout is on staging" in elsewhere.err
    project.repo.checkout(LINE)
    (project.path / "a.c").write_text("dirty\n")
    dirty = pick(run, project, "--line", "4.20", "--onto-current")
    assert dirty.code == 2 and "needs a clean checkout: the tree has changes" in dirty.err
    assert project.git("rev-parse", LINE) == project.base


def test_onto_current_picks_in_the_checkout(three_fixes: Any, run: Run) -> None:
    project, fixes = three_fixes
    project.repo.checkout(LINE)
    result = pick(run, project, "--line", "4.20", "--onto-current")
    assert result.code == 0, result
    assert len(picked_commits(project, LINE, project.base)) == 3
    assert project.git("status", "--porcelain") == ""
    assert project.git("branch", "--list", BRANCH) == ""
    assert project.git("worktree", "list", "--porcelain").count("worktree ") == 1


def test_onto_current_abort_puts_the_branch_back(conflicting: Any, run: Run) -> None:
    project, clean, hard, later = conflicting
    project.repo.checkout(LINE)
    before = snapshot(project.path, objects=False)
    assert pick(run, project, "--line", "4.20", "--onto-current", clean, hard, later).code == 1
    assert "<<<<<<<" in (project.path / "b.c").read_text()  # the conflict is here, in the checkout
    assert pick(run, project, "--abort").code == 0
    after = snapshot(project.path, objects=False)
    # the branch, HEAD, the files and the status are back; the reflogs tell the story, and the
    # index file was written again (same entries: the status says so)
    changed = {k for k in before if before[k] != after[k]}
    assert changed <= {"reflogs", "git_dir_files", "index"}, changed
    assert {f for f in after["git_dir_files"] if after["git_dir_files"][f] != before["git_dir_files"].get(f)} <= {
        "ORIG_HEAD", "index", "logs/HEAD", f"logs/refs/heads/{LINE}"
    }


def test_format_patch_writes_the_series_with_a_cover_letter(three_fixes: Any, run: Run, tmp_path: Path) -> None:
    project, fixes = three_fixes
    out = tmp_path / "outgoing"
    result = pick(run, project, "--line", "4.20", "--format-patch", str(out))
    assert result.code == 0, result
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 4 and names[0] == "0000-cover-letter.patch"
    cover = (out / names[0]).read_text()
    assert "Subject: [PATCH 4.20 0/3] 3 backports for 4.20" in cover
    commits = picked_commits(project)
    for fix, commit in zip(fixes, commits, strict=True):
        assert f"{fix[:12]} -> {commit['id'][:12]}" in cover
    assert "Subject: [PATCH 4.20 1/3] x86: fix a" in (out / names[1]).read_text()


def test_format_patch_into_a_place_that_cannot_hold_it_stops_before_any_pick(
    three_fixes: Any, run: Run, tmp_path: Path
) -> None:
    project, _ = three_fixes
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    result = pick(run, project, "--line", "4.20", "--format-patch", str(blocker / "series"))
    assert result.code == 2 and result.err.count("\n") == 1
    assert result.err.startswith(f"backport: error: --format-patch {blocker / 'series'}: ")
    assert "give a directory you can write" in result.err
    assert project.git("branch", "--list", BRANCH) == ""  # nothing picked, no branch made
    no_run_left(project)


@pytest.mark.parametrize("obstacle", ["a file instead of the directory", "a directory where git writes a patch"])
def test_patches_that_cannot_be_written_at_the_end_keep_the_run_for_continue(
    conflicting: Any, run: Run, tmp_path: Path, obstacle: str
) -> None:
    project, clean, hard, later = conflicting
    series = tmp_path / "series"
    assert pick(run, project, "--line", "4.20", "--format-patch", str(series), clean, hard, later).code == 1
    tree = worktree_of(project)
    (tree / "b.c").write_text(edited("b", {3: "resolved"}))
    subprocess.run(["git", "add", "b.c"], cwd=tree, check=True, env=project.repo.env())
    if obstacle.startswith("a file"):
        series.rmdir()
        series.write_text("in the way\n")  # the directory went, a file took its name: Python fails
    else:
        (series / "0000-cover-letter.patch").mkdir()  # git format-patch fails
    stuck = pick(run, project, "--continue")
    assert stuck.code == 2 and "every pick is done, but the patches could not be written" in stuck.err
    assert "then backport pick --continue" in stuck.err and "Traceback" not in stuck.err
    assert stuck.err.count("\n") == 1
    assert len(picked_commits(project)) == 3 and tree.is_dir()
    if obstacle.startswith("a file"):
        series.unlink()
        series.mkdir()
    else:
        (series / "0000-cover-letter.patch").rmdir()
    done = pick(run, project, "--continue")
    assert done.code == 0, done
    assert len(list(series.iterdir())) == 4
    no_run_left(project)


def test_the_push_command_follows_the_lines_remote_and_the_settings(three_fixes: Any, run: Run, tmp_path: Path) -> None:
    project, _ = three_fixes
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--no-local", str(project.path), str(clone)], check=True, env=project.repo.env())

    def push() -> str:
        result = run("pick", "--line", "4.20", "--dry-run", "--format", "json", repo=clone)
        assert result.code == 0, result
        return str(json.loads(result.out)["push"])

    assert push() == f"git push origin {BRANCH}:{LINE}"  # the line is origin/stable-4.20 here
    env = project.repo.env()
    subprocess.run(["git", "config", "backport.pick.remote", "upstream"], cwd=clone, check=True, env=env)
    subprocess.run(["git", "config", "backport.pick.target", "staging/{version}"], cwd=clone, check=True, env=env)
    assert push() == f"git push upstream {BRANCH}:staging/4.20"


def test_named_commits_must_be_pending(three_fixes: Any, run: Run) -> None:
    project, fixes = three_fixes
    other = project.git("rev-parse", "staging~1")  # not nominated
    result = pick(run, project, "--line", "4.20", other)
    assert result.code == 2 and "not nominated for 4.20" in result.err
    assert pick(run, project, "--line", "4.20", fixes[0]).code == 0
    again = pick(run, project, "--line", "4.20", fixes[0])
    assert again.code == 2 and "is applied" in again.err


def test_one_line_at_a_time_and_nothing_to_continue(three_fixes: Any, run: Run) -> None:
    project, _ = three_fixes
    assert pick(run, project).code == 2
    assert "no backport pick in progress" in pick(run, project, "--continue").err
    assert pick(run, project, "--abort", "--dry-run").code == 2


@pytest.mark.parametrize("worktree_removed", [False, True])
def test_a_run_stopped_after_its_rewrite_finishes_on_continue(
    four_fixes: Any, run: Run, worktree_removed: bool
) -> None:
    """Stopped once the branch holds the rewritten picks, before the worktree
    is gone (or after, while finishing): --continue only finishes (and picks
    nothing twice)."""
    from backport.commands import Globals
    from backport.commands.pick import prepare
    from backport.pick.run import Runner

    project, fixes = four_fixes
    ready = prepare(Globals(str(project.path), None, ()), ["4.20"], [], onto_current=False)

    class Stop(Exception):
        pass

    def stop(*_: object) -> None:
        raise Stop

    session = ready.session
    with pytest.raises(Stop):
        Runner.start(session.repo, session.git, ready.plan, ready.place, reference="master-commit", signoff=None,
                     push=ready.push, format_patch=None, progress=stop)
    tip = project.git("rev-parse", BRANCH)
    assert worktree_of(project).is_dir()
    if worktree_removed:
        project.git("worktree", "remove", "--force", str(worktree_of(project)))
    result = pick(run, project, "--continue")
    assert result.code == 0 and "Done: 4 picked" in result.out, result
    assert project.git("rev-parse", BRANCH) == tip
    assert [c["message"].count("master commit:") for c in picked_commits(project)] == [1, 1, 1, 1]
    no_run_left(project)


def test_the_plan_closes_after_over_the_pending_targets() -> None:
    """`after` is meant to be complete; the plan closes it again, so a
    prerequisite's own prerequisite comes along even when a list lacks it."""
    from test_report import V19, candidate, pending, sha

    from backport.models import CheckResult, Line, Target, Verdict
    from backport.pick.plan import build

    line = Line(V19, "stable-4.19", sha(99))
    verdicts = (
        Verdict(candidate(1, "c: the first"), (), (pending(V19, "conflict"),)),  # conflicts alone
        Verdict(candidate(2, "b: needs c"), (), (pending(V19, "clean", after=(sha(1),)),)),
        Verdict(candidate(3, "a: needs b (and so c)"), (), (pending(V19, "clean", after=(sha(2),)),)),
        Verdict(candidate(4, "applied already"), (), (Target(V19, "applied", evidence="ancestor"),)),
    )
    result = CheckResult("staging", sha(98), (line,), verdicts)
    named = build(result, V19, [sha(3)])
    assert [(i.commit, i.named, i.needed_by) for i in named.items] == [
        (sha(1), False, (sha(3),)),
        (sha(2), False, (sha(3),)),
        (sha(3), True, ()),
    ]
    # by default: the clean ones and what they need, the conflicting one only as a prerequisite
    assert build(result, V19).commits == (sha(1), sha(2), sha(3))
