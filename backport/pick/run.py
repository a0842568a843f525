"""Doing the picks: the worktree, git's cherry-pick, the messages, the state.

The picks are git's own: one `git cherry-pick -x --keep-redundant-commits`
of every commit left, in the run's worktree. git's sequencer picks them one
after the other in one process (a loop of `git cherry-pick -x` pays git's
start-up and index load for each) and, at a conflict, stops in its ordinary
state: CHERRY_PICK_HEAD, conflict markers, `git status` saying so, its
`--continue`, `--skip` and `--abort` working as ever. When every commit is
in, each pick is written again with `git commit-tree`: the same tree, the
original's author and author date, the message in the line's reference
style (backport.pick.style). A pick that changed nothing (kept by
--keep-redundant-commits, so git never stops on one) is left out there, and
said.

Which commits are in is read from the branch (the `-x` line names each
original), never assumed: a run stopped anywhere (a conflict, Ctrl-C, a
kill, a restart) goes on with `--continue` from what git really did, and is
undone with `--abort`. Resuming after a kill starts git's cherry-pick again
on what is left rather than trust `git cherry-pick --continue`, which takes
the commit it was on as done.

The user's own checkout is never touched (unless --onto-current asked for
it): the picks happen in a worktree under the git directory, on a branch of
their own, and the worktree goes away when the run ends.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from subprocess import CompletedProcess

from backport.errors import GitError, RepoError, UsageError
from backport.git import Git, Repository, split_records
from backport.pick import state as st
from backport.pick import style as styles
from backport.pick.plan import Plan, PlanItem
from backport.pick.series import write_series
from backport.pick.state import EMPTY, PICKED, SKIPPED, Done, State
from backport.record import record, replace

# git never stops to ask: its intermediate commits are rewritten anyway, so
# they are not signed (a signing key would be asked for twice), and the
# commands that would open an editor get none
_QUIET = ["-c", "commit.gpgSign=false"]
_NO_EDITOR = {"GIT_EDITOR": "true"}
_X_LINE = re.compile(r"^\(cherry picked from commit ([0-9a-f]{40,64})\)$", re.M)

Progress = Callable[[str, PlanItem, Done | None], None]  # ("picked"|"empty"|"conflict"|..., item, done)


@record
class Where:
    """Where a run's picks go, decided before anything is written."""

    branch: str  # full ref name
    exists: bool  # the branch was there before the run
    before: str | None  # its commit then
    start: str  # the commit the first pick goes onto
    worktree: str
    onto_current: bool


@record
class Stopped:
    """A pick git could not finish alone."""

    item: PlanItem
    conflicts: tuple[str, ...]  # unmerged paths
    done: int  # items picked or left out so far
    left: int  # items after this one


@record
class Outcome:
    state: State
    stopped: Stopped | None = None
    finished: bool = False
    patches: tuple[str, ...] = ()  # files written by --format-patch
    branch_removed: bool = False  # nothing was picked: the run's own branch is gone again


# -- where -------------------------------------------------------------------------


def where(
    repo: Repository,
    git: Git,
    version: str,
    line_commit: str,
    line_branch: str | None,
    branch_name: str,
    onto_current: bool,
) -> Where:
    """The branch and worktree of a new run for the line at `line_commit`
    (`line_branch`: the line's full ref name when it is a local branch)."""
    if onto_current:
        return _current(repo, git, line_commit, line_branch)
    branch = f"refs/heads/{branch_name}"
    if branch_name.startswith("-") or not git.ok(["check-ref-format", "--branch", branch_name]):
        raise UsageError(
            f"pick.branch gives {branch_name!r}, which is no branch name", "set pick.branch to e.g. backport/{version}"
        )
    before = git.resolve(branch)
    worktree = st.worktree_path(repo.common_dir, version)
    if before is None:
        return Where(branch, False, None, line_commit, worktree, False)
    if git.is_ancestor(line_commit, before):
        start = before  # continued: earlier picks stay
    elif git.is_ancestor(before, line_commit):
        start = line_commit  # the line moved on (the branch was pushed, then more landed): fast-forward
    else:
        raise UsageError(
            f"branch {branch_name} and the line have both moved on since they parted",
            f"merge or rebase {branch_name} onto the line, or delete it (git branch -D {branch_name})",
        )
    checked_out = _checked_out(git).get(branch)
    if checked_out is not None:
        raise UsageError(
            f"branch {branch_name} is checked out in {checked_out}",
            "switch that checkout to another branch, or pick there with --onto-current",
        )
    return Where(branch, True, before, start, worktree, False)


def _current(repo: Repository, git: Git, line_commit: str, line_branch: str | None) -> Where:
    if repo.work_tree is None:
        raise UsageError("--onto-current needs a checkout; this repository is bare", "leave out --onto-current")
    head = git.run(["symbolic-ref", "-q", "HEAD"], check=False).stdout.decode("utf-8", "surrogateescape").strip()
    if line_branch is None or head != line_branch:
        wanted = line_branch.removeprefix("refs/heads/") if line_branch else "the line's own local branch"
        current = head.removeprefix("refs/heads/") if head else "a detached HEAD"
        raise UsageError(
            f"--onto-current picks onto the line's branch, and this checkout is on {current}",
            f"check out {wanted} first (or leave out --onto-current: picks then go to a private worktree)",
        )
    if git.resolve("HEAD") != line_commit:
        raise UsageError("the checkout's HEAD is not the line's tip", "leave out --onto-current")
    busy = git.resolve_many(["CHERRY_PICK_HEAD", "MERGE_HEAD", "REVERT_HEAD", "REBASE_HEAD"])
    dirty = git.run(["status", "--porcelain=v1", "-z", "--untracked-files=no"]).stdout
    if busy or dirty:
        what = f"a {next(iter(busy)).split('_')[0].lower()} is in progress" if busy else "the tree has changes"
        raise UsageError(
            f"--onto-current needs a clean checkout: {what}",
            "commit or stash them first (or leave out --onto-current: picks then go to a private worktree)",
        )
    return Where(line_branch, True, line_commit, line_commit, repo.work_tree, True)


def _checked_out(git: Git) -> dict[str, str]:
    """Branch (full ref) -> the worktree it is checked out in."""
    out = git.run(["worktree", "list", "--porcelain", "-z"]).stdout.decode("utf-8", "surrogateescape")
    found: dict[str, str] = {}
    path = ""
    for field in out.split("\0"):
        if field.startswith("worktree "):
            path = field[len("worktree ") :]
        elif field.startswith("branch "):
            found[field[len("branch ") :]] = path
    return found


def _registered(git: Git, path: str) -> bool:
    out = git.run(["worktree", "list", "--porcelain", "-z"]).stdout.decode("utf-8", "surrogateescape")
    paths = {os.path.realpath(f[len("worktree ") :]) for f in out.split("\0") if f.startswith("worktree ")}
    return os.path.realpath(path) in paths


# -- the run -----------------------------------------------------------------------


class Runner:
    """One run of one line: started, continued, skipped on or aborted."""

    def __init__(self, repo: Repository, git: Git, run_state: State, progress: Progress | None = None) -> None:
        self.repo = repo
        # the repository's own commands run from its git directory: the user
        # may well be in the run's worktree (resolving), which the run removes
        self.git = git.in_worktree(repo.common_dir)
        self.state = run_state
        self.progress = progress
        self.wt = git.in_worktree(run_state.worktree)
        self.items = {item.commit: item for item in run_state.items}

    @classmethod
    def start(
        cls,
        repo: Repository,
        git: Git,
        plan: Plan,
        place: Where,
        *,
        reference: str,
        signoff: str | None,
        push: str,
        format_patch: str | None,
        progress: Progress | None = None,
    ) -> Outcome:
        first = State(
            version=str(plan.line.version),
            line_ref=plan.line.ref,
            line_commit=plan.line.commit,
            branch=place.branch,
            branch_created=not place.exists,
            branch_before=place.before,
            start=place.start,
            worktree=place.worktree,
            onto_current=place.onto_current,
            reference=reference,
            signoff=signoff,
            push=push,
            format_patch=format_patch,
            items=plan.items,
        )
        st.create(repo.common_dir, first)
        runner = cls(repo, git, first, progress)
        try:
            runner._prepare()
        except Exception:
            runner.abort()  # nothing was picked: leave nothing behind
            raise
        return runner._sequence()

    @classmethod
    def resume(cls, repo: Repository, git: Git, version: str, progress: Progress | None = None) -> Runner:
        return cls(repo, git, st.load(repo.common_dir, version), progress)

    def _save(self, changed: State) -> None:
        self.state = changed
        st.save(self.repo.common_dir, changed)

    # -- the worktree -------------------------------------------------------------

    def _prepare(self) -> None:
        """The branch where the run starts, checked out in the run's worktree."""
        s = self.state
        if not s.onto_current:
            if s.branch_before is not None and self.git.resolve(s.branch) == s.branch_before != s.start:
                self.git.run(["update-ref", "-m", "backport pick: up to the line", s.branch, s.start, s.branch_before])
            if not _registered(self.git, s.worktree):
                if os.path.exists(s.worktree):  # left half-made by a run stopped while git made it
                    import shutil

                    shutil.rmtree(s.worktree)
                if s.branch_created and self.git.resolve(s.branch) is None:
                    self.git.run(["worktree", "add", "-q", "--no-track", "-b", s.short_branch, s.worktree, s.start])
                else:
                    self.git.run(["worktree", "add", "-q", s.worktree, s.short_branch])
        self._save(replace(s, phase="picking"))

    def _require_worktree(self) -> None:
        if not os.path.isdir(self.state.worktree) or not self.wt.ok(["rev-parse", "--git-dir"]):
            raise RepoError(
                f"the run's worktree {self.state.worktree} is gone",
                "undo the run with backport pick --abort, then start again",
            )

    # -- what git did -------------------------------------------------------------

    def picked(self) -> dict[str, str]:
        """Plan commit -> the branch commit that picked it, from the `-x`
        lines of what the run added to the branch (before the rewrite)."""
        out = self.wt.run(["log", "-z", "--format=%H%x00%B", f"{self.state.start}..HEAD", "--"]).stdout
        found: dict[str, str] = {}
        for sha, body in split_records([out], 2):
            original = _original_named(body.decode("utf-8", "surrogateescape"))
            if original in self.items:
                found.setdefault(original, sha.decode())
        return found

    def remaining(self) -> list[PlanItem]:
        """The items neither on the branch nor left out, in plan order."""
        gone = set(self.picked()) | {d.commit for d in self.state.left_out}
        return [item for item in self.state.items if item.commit not in gone]

    def status(self) -> list[tuple[str, PlanItem, str | None]]:
        """(picked | empty | skipped | conflict | to do, item, line commit) for each item, as things stand."""
        s = self.state
        if s.phase == "rewriting" and s.done:
            known = {d.commit: d for d in s.done}
            return [(known[i.commit].outcome, i, known[i.commit].picked_as) for i in s.items if i.commit in known]
        there = s.phase != "starting" and os.path.isdir(s.worktree)
        picked = self.picked() if there else {}
        left_out = {d.commit: d.outcome for d in s.left_out}
        stopped = self.stopped_on() if there else None
        rows: list[tuple[str, PlanItem, str | None]] = []
        for item in s.items:
            if item.commit in picked:
                rows.append((PICKED, item, picked[item.commit]))
            elif item.commit in left_out:
                rows.append((left_out[item.commit], item, None))
            else:
                rows.append(("conflict" if item.commit == stopped else "to do", item, None))
        return rows

    def stopped_on(self) -> str | None:
        """The commit git's cherry-pick stopped on in the worktree, if any."""
        return self.wt.resolve("CHERRY_PICK_HEAD")

    def _unmerged(self) -> tuple[str, ...]:
        out = self.wt.run(["ls-files", "--unmerged", "-z"]).stdout.decode("utf-8", "surrogateescape")
        return tuple(sorted({entry.split("\t", 1)[1] for entry in out.split("\0") if "\t" in entry}))

    def _head(self) -> str:
        return self.wt.out(["rev-parse", "--verify", "HEAD^{commit}"])

    # -- picking ------------------------------------------------------------------

    def _sequence(self) -> Outcome:
        """git cherry-pick of every item left, then the rewrite."""
        left = self.remaining()
        if not left:
            return self._rewrite()
        if self.state.phase != "picking":
            self._save(replace(self.state, phase="picking"))
        mainline = ["-m", "1"] if any(item.merge for item in left) else []  # git takes -m 1 for any commit
        args = ["cherry-pick", "-x", "--keep-redundant-commits", *mainline, *(item.commit for item in left)]
        return self._went_on(self.wt.run([*_QUIET, *args], check=False), args)

    def _went_on(self, proc: CompletedProcess[bytes], args: list[str]) -> Outcome:
        """After git's cherry-pick (or its --continue, --skip) returned."""
        if proc.returncode == 0:
            return self._sequence()  # picks what is left, if anything, then rewrites
        stopped = self.stopped_on()
        if stopped is None:
            raise GitError(args[:2], proc.returncode, (proc.stderr or proc.stdout).decode("utf-8", "replace"))
        item = self.items.get(stopped) or PlanItem(stopped, "", "", False, "conflict", ())
        left = self.remaining()
        done = len(self.state.items) - len(left)
        self._save(replace(self.state, phase="conflict"))
        self._tell("conflict", item, None)
        return Outcome(self.state, Stopped(item, self._unmerged(), done, len(left) - 1))

    def _tell(self, what: str, item: PlanItem, done: Done | None) -> None:
        if self.progress is not None:
            self.progress(what, item, done)

    # -- after a stop -------------------------------------------------------------

    def resume_picks(self) -> Outcome:
        """--continue: take what the user (or git, before the run stopped) did, then pick the rest."""
        if self.state.phase == "starting":
            self._prepare()
            return self._sequence()
        if self.state.phase == "rewriting":
            return self._rewrite()
        self._require_worktree()
        stopped = self.stopped_on()
        if stopped is None:
            # stopped between git's steps (a kill, a restart), or the user
            # ended git's cherry-pick by hand: start again on what is left
            self.wt.run(["cherry-pick", "--quit"], check=False)
            self.wt.run(["reset", "-q", "--merge"])
            return self._sequence()
        unmerged = self._unmerged()
        if unmerged:
            raise UsageError(
                f"{stopped[:12]} still has conflicts: {', '.join(unmerged)}",
                f"resolve them in {self.state.worktree}, git add them, then backport pick --continue",
            )
        args = ["cherry-pick", "--continue"]
        proc = self.wt.with_env(_NO_EDITOR).run([*_QUIET, *args], check=False)
        if proc.returncode != 0 and self.stopped_on() == stopped and self._resolved_to_nothing():
            return self._leave_out(stopped, EMPTY)
        return self._went_on(proc, args)

    def _resolved_to_nothing(self) -> bool:
        return not self._unmerged() and self.wt.ok(["diff-index", "--cached", "--quiet", "HEAD", "--"])

    def skip(self) -> Outcome:
        """--skip: leave out the commit git stopped on, pick the rest."""
        stopped = self.stopped_on() if self.state.phase in ("picking", "conflict") else None
        if stopped is None:
            raise UsageError("no pick is stopped to skip", "go on with backport pick --continue, or --abort")
        return self._leave_out(stopped, SKIPPED)

    def _leave_out(self, commit: str, outcome: str) -> Outcome:
        self._save(replace(self.state, left_out=(*self.state.left_out, Done(commit, outcome))))
        item = self.items.get(commit) or PlanItem(commit, "", "", False, "conflict", ())
        self._tell(outcome, item, Done(commit, outcome))
        args = ["cherry-pick", "--skip"]
        return self._went_on(self.wt.with_env(_NO_EDITOR).run([*_QUIET, *args], check=False), args)

    def abort(self) -> None:
        """--abort: the branch and the checkout as they were before the run."""
        s = self.state
        if s.onto_current:
            self.wt.run(["cherry-pick", "--quit"], check=False)
            self.wt.run(["reset", "-q", "--merge", s.start])
        else:
            if _registered(self.git, s.worktree):
                self.git.run(["worktree", "remove", "--force", "--force", s.worktree])
            current = self.git.resolve(s.branch)
            if s.branch_created and current is not None:
                self.git.run(["update-ref", "-d", s.branch, current])
            elif not s.branch_created and s.branch_before is not None and current != s.branch_before:
                self.git.run(["update-ref", "-m", "backport pick --abort", s.branch, s.branch_before])
        st.remove(self.repo.common_dir, s.version)

    # -- the messages -------------------------------------------------------------

    def _rewrite(self) -> Outcome:
        """Every pick again with the original's author and the line's message;
        empty ones left out. Idempotent: a stop in the middle redoes it."""
        s = self.state
        if self._stopped_while_finishing():
            return self._finish()
        head = self._head()
        if s.phase == "rewriting" and s.rewritten and head == s.rewritten:
            return self._finish()  # done before the run stopped
        if s.phase != "rewriting" or head != s.sequenced:
            self._save(replace(s, phase="rewriting", sequenced=head, rewritten="", done=()))
        tip, outcomes = self._restyled(_commits(self.wt, s.start))
        done = tuple(outcomes[item.commit] for item in s.items if item.commit in outcomes)
        self._save(replace(self.state, rewritten=tip, done=done))
        if tip != head:
            self.wt.run(["update-ref", "-m", "backport pick: the line's reference style", s.branch, tip, head])
        told = set(self.state.left_out)  # said when they were left out
        for finished in done:
            if finished not in told:
                self._tell(finished.outcome, self.items[finished.commit], finished)
        return self._finish()

    def _restyled(self, rows: list[_Row]) -> tuple[str, dict[str, Done]]:
        """`rows` (the run's commits) written again on the run's start: the new
        tip, and what became of each item."""
        s = self.state
        named = [_original_named(row.message) for row in rows]
        originals = {sha: styles.parse_commit(sha, raw) for sha, raw in self.git.blobs([n for n in named if n]).items()}
        signed = self.wt.run(["config", "--type=bool", "commit.gpgSign"], check=False).stdout.strip() == b"true"
        parent = s.start
        parent_tree = self.wt.out(["rev-parse", f"{parent}^{{tree}}"])
        outcomes: dict[str, Done] = {d.commit: d for d in s.left_out}
        for row, name in zip(rows, named, strict=True):
            original = originals.get(name) if name in self.items else None
            if original is not None and row.tree == parent_tree:  # kept by --keep-redundant-commits
                outcomes[original.commit] = Done(original.commit, EMPTY)
                continue
            if original is not None:
                text, author = styles.message(original, s.reference, s.signoff), styles.author_env(original)
            else:  # a commit the user made in the worktree: kept as it is
                text, author = row.message, row.author
            if row.parent == parent and text == row.message:
                new = row.commit
            else:  # signed when the user's commits are (git commit-tree does not read commit.gpgSign)
                args = ["commit-tree", *(["-S"] if signed else []), row.tree, "-p", parent, "-F", "-"]
                new = self.wt.with_env(author).out(args, input=text.encode("utf-8", "surrogateescape"))
            parent, parent_tree = new, row.tree
            if original is not None:
                outcomes[original.commit] = Done(original.commit, PICKED, new)
        return parent, outcomes

    def _stopped_while_finishing(self) -> bool:
        """The rewrite was done (the branch is at it) and _finish had removed
        the worktree when the run stopped: only finishing is left."""
        s = self.state
        if s.phase != "rewriting" or not s.rewritten or s.onto_current:
            return False
        return self.git.resolve(s.branch) == s.rewritten and not _registered(self.git, s.worktree)

    # -- the end ------------------------------------------------------------------

    def _finish(self) -> Outcome:
        """The patches first (should they fail, the run is still there to
        --continue), then the worktree, the branch if nothing went on it, the
        state: each step may be redone, so a run stopped in between finishes
        on --continue."""
        s = self.state
        picked = [d for d in s.done if d.outcome == PICKED]
        patches: tuple[str, ...] = ()
        if s.format_patch and picked:
            try:
                patches = write_series(self.git, s)
            except (OSError, GitError) as err:
                why = err.message if isinstance(err, GitError) else err.strerror or str(err)
                raise UsageError(
                    f"every pick is done, but the patches could not be written to {s.format_patch}: {why}",
                    "make that directory writable, then backport pick --continue",
                ) from None
        if not s.onto_current and _registered(self.git, s.worktree):
            self.git.run(["worktree", "remove", "--force", s.worktree])
        removed = False
        if s.branch_created and not picked:
            current = self.git.resolve(s.branch)
            if current is not None:
                self.git.run(["update-ref", "-d", s.branch, current])
            removed = True
        st.remove(self.repo.common_dir, s.version)
        return Outcome(s, finished=True, patches=patches, branch_removed=removed)


@record
class _Row:
    """A commit the run's cherry-pick made."""

    commit: str
    tree: str
    parent: str
    author: dict[str, str]
    message: str


def _commits(git: Git, start: str) -> list[_Row]:
    """start..HEAD, oldest first, in one `git log`."""
    fmt = "%H%x00%T%x00%P%x00%an%x00%ae%x00%ad%x00%B"  # -z ends the last field
    out = git.run(["log", "--reverse", "--first-parent", "--date=raw", "-z", f"--format={fmt}", f"{start}..HEAD", "--"])
    rows = []
    for fields in split_records([out.stdout], 7):
        sha, tree, parents, name, email, date, body = (f.decode("utf-8", "surrogateescape") for f in fields)
        author = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": f"@{date}"}
        rows.append(_Row(sha, tree, parents.split(" ")[0], author, body))
    return rows


def _original_named(message: str) -> str:
    """The commit the last `(cherry picked from commit X)` line names, or ""."""
    found = _X_LINE.findall(message)
    return found[-1] if found else ""
