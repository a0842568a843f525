"""Doing the picks: the worktree, git cherry-pick, the message, the state.

Each pick is git's own: `git cherry-pick --no-commit` in the run's worktree,
then `git commit` of the result with the original author and author date and
the message in the line's style (the same process count as `cherry-pick`
followed by an amend, and one commit object instead of two). A pick git
stops on is done again as a plain `git cherry-pick`, so the worktree is left
in git's ordinary cherry-pick state (CHERRY_PICK_HEAD, conflict markers) for
whoever resolves it.

The run's state (backport.pick.state) is saved before and after every step
that moves the branch; whatever git did in between is read back from the
worktree, so a run stopped anywhere (a conflict, Ctrl-C, a kill, a restart)
goes on with `--continue`, `--skip` or is undone with `--abort`.

The user's own checkout is never touched (unless --onto-current asked for
it): the picks happen in a worktree under the git directory, on a branch of
their own, and the worktree goes away when the run ends.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from backport.errors import GitError, RepoError, UsageError
from backport.git import Git, Repository
from backport.pick import state as st
from backport.pick import style as styles
from backport.pick.plan import Plan, PlanItem
from backport.pick.state import EMPTY, PICKED, SKIPPED, Done, State
from backport.record import record, replace

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
        self.git = git  # in the user's repository
        self.state = run_state
        self.progress = progress
        self.wt = git.in_worktree(run_state.worktree)
        self._originals: dict[str, styles.Original] = {}

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
            head=place.start,
        )
        st.create(repo.common_dir, first)
        runner = cls(repo, git, first, progress)
        try:
            runner._prepare()
        except Exception:
            runner.abort()  # nothing was picked: leave nothing behind
            raise
        return runner._advance()

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

    # -- picking ------------------------------------------------------------------

    def _advance(self) -> Outcome:
        """Pick from the current item on, until the plan is done or git stops."""
        while True:
            item = self.state.current
            if item is None:
                return self._finish()
            stopped = self._pick(item)
            if stopped is not None:
                self._save(replace(self.state, phase="conflict"))
                self._tell("conflict", item, None)
                return Outcome(self.state, stopped)

    def _pick(self, item: PlanItem) -> Stopped | None:
        mainline = ["-m", "1"] if item.merge else []
        proc = self.wt.run(["cherry-pick", "--no-commit", *mainline, item.commit], check=False)
        if proc.returncode != 0:
            if not self._unmerged():
                raise GitError(["cherry-pick", item.commit], proc.returncode, proc.stderr.decode("utf-8", "replace"))
            # again as a plain cherry-pick: git's own conflict state, which
            # `git status`, editors and `git cherry-pick --continue` know
            self.wt.run(["reset", "-q", "--merge"])
            again = self.wt.run(["cherry-pick", *mainline, item.commit], check=False)
            if again.returncode == 0:  # cannot happen for a deterministic merge; taken as git left it
                self._committed(item, self._head(), amend=True)
                return None
            return Stopped(item, self._unmerged())
        self._commit(item)
        return None

    def _commit(self, item: PlanItem) -> None:
        """Commit what the pick staged, as the original's author, with the line's message."""
        original = self._original(item.commit)
        text = styles.message(original, self.state.reference, self.state.signoff)
        proc = self.wt.with_env(styles.author_env(original)).run(
            ["commit", "-q", "--no-verify", "--cleanup=verbatim", "-F", "-"],
            input=text.encode("utf-8", "surrogateescape"),
            check=False,
        )
        if proc.returncode == 0:
            self._committed(item, self._head())
            return
        if not self.wt.ok(["diff-index", "--cached", "--quiet", "HEAD", "--"]):
            raise GitError(["commit"], proc.returncode, (proc.stderr or proc.stdout).decode("utf-8", "replace"))
        # nothing to commit: the line has it in substance already
        if self._picking():  # a resolved conflict that changed nothing: end git's cherry-pick too
            self.wt.run(["reset", "-q", "--merge"])
        self._record(item, Done(item.commit, EMPTY), self.state.head)

    def _committed(self, item: PlanItem, head: str, *, amend: bool = False) -> None:
        """`head` is the pick of `item`: give it the line's message if it lacks it."""
        if amend:
            original = self._original(item.commit)
            text = styles.message(original, self.state.reference, self.state.signoff)
            self.wt.run(
                ["commit", "-q", "--amend", "--no-verify", "--cleanup=verbatim", "-F", "-"],
                input=text.encode("utf-8", "surrogateescape"),
            )
            head = self._head()
        self._record(item, Done(item.commit, PICKED, head), head)

    def _record(self, item: PlanItem, done: Done, head: str) -> None:
        self._save(self.state.finished(done, head))
        self._tell(done.outcome, item, done)

    def _tell(self, what: str, item: PlanItem, done: Done | None) -> None:
        if self.progress is not None:
            self.progress(what, item, done)

    def _head(self) -> str:
        return self.wt.out(["rev-parse", "--verify", "HEAD^{commit}"])

    def _unmerged(self) -> tuple[str, ...]:
        out = self.wt.run(["ls-files", "--unmerged", "-z"]).stdout.decode("utf-8", "surrogateescape")
        return tuple(sorted({entry.split("\t", 1)[1] for entry in out.split("\0") if "\t" in entry}))

    def _picking(self) -> bool:
        """Whether git has a cherry-pick under way in the worktree."""
        return self.wt.resolve("CHERRY_PICK_HEAD") is not None

    def _original(self, commit: str) -> styles.Original:
        if commit not in self._originals:
            todo = [i.commit for i in self.state.items[len(self.state.done) :] if i.commit not in self._originals]
            for sha, raw in self.git.blobs(todo or [commit]).items():
                self._originals[sha] = styles.parse_commit(sha, raw)
        return self._originals[commit]

    # -- after a stop -------------------------------------------------------------

    def resume_picks(self) -> Outcome:
        """--continue: take what the user (or git, before the run stopped) did
        for the current item, then pick the rest."""
        item = self.state.current
        if self.state.phase == "starting":
            self._prepare()
        elif item is not None:
            self._require_worktree()
            stopped = self._settle(item)
            if stopped is not None:
                return Outcome(self.state, stopped)
        return self._advance()

    def _settle(self, item: PlanItem) -> Stopped | None:
        head = self._head()
        picking = self.wt.resolve("CHERRY_PICK_HEAD")
        if picking is not None and picking != item.commit:
            raise RepoError(
                f"the run's worktree is cherry-picking {picking[:12]}, not {item.commit[:12]}",
                f"finish or abort that in {self.state.worktree} (git cherry-pick --abort), then --continue",
            )
        if picking is not None:
            unmerged = self._unmerged()
            if unmerged:
                raise UsageError(
                    f"{item.commit[:12]} still has conflicts: {', '.join(unmerged)}",
                    f"resolve them in {self.state.worktree}, git add them, then backport pick --continue",
                )
            self._commit(item)
            return None
        if head != self.state.head:
            self._taken(item, head)
            return None
        # the pick never ran, or stopped half-way: start it again from a clean index
        self.wt.run(["reset", "-q", "--merge"])
        return self._pick(item)

    def _taken(self, item: PlanItem, head: str) -> None:
        """HEAD moved since the item began: the pick was committed (by the run
        before it stopped, or by hand with git commit / cherry-pick --continue)."""
        if not self.git.is_ancestor(self.state.head, head):
            raise RepoError(
                f"{self.state.short_branch} moved away from where the run left it",
                "undo the run with backport pick --abort",
            )
        parents = self.wt.out(["rev-list", "--parents", "-n", "1", head]).split()[1:]
        text = self.wt.run(["log", "-1", "--format=%B", head]).stdout.decode("utf-8", "surrogateescape")
        rewrite = parents == [self.state.head] and not styles.references(text, item.commit, self.state.reference)
        self._committed(item, head, amend=rewrite)

    def skip(self) -> Outcome:
        """--skip: leave the current item out, pick the rest."""
        item = self.state.current
        if item is None:
            raise UsageError("nothing to skip: every pick of the run is done", "end it with backport pick --continue")
        if self.state.phase == "starting":
            raise UsageError("the run stopped before its first pick", "go on with backport pick --continue, or --abort")
        self._require_worktree()
        self.wt.run(["reset", "-q", "--merge", self.state.head])
        self._record(item, Done(item.commit, SKIPPED), self.state.head)
        return self._advance()

    def abort(self) -> None:
        """--abort: the branch and the checkout as they were before the run."""
        s = self.state
        if s.onto_current:
            if self._picking() or self._head() != s.start:
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

    # -- the end ------------------------------------------------------------------

    def _finish(self) -> Outcome:
        s = self.state
        if not s.onto_current and _registered(self.git, s.worktree):
            self.git.run(["worktree", "remove", "--force", s.worktree])
        picked = [d for d in s.done if d.outcome == PICKED]
        removed = False
        if s.branch_created and not picked:
            current = self.git.resolve(s.branch)
            if current is not None:
                self.git.run(["update-ref", "-d", s.branch, current])
            removed = True
        patches: tuple[str, ...] = ()
        if s.format_patch and picked:
            patches = write_series(self.git, s)
        st.remove(self.repo.common_dir, s.version)
        return Outcome(s, finished=True, patches=patches, branch_removed=removed)


def write_series(git: Git, s: State) -> tuple[str, ...]:
    """`git format-patch` of the run's picks, with a cover letter that lists
    each original and its line commit; subject prefix `[PATCH <version>]`."""
    os.makedirs(s.format_patch or ".", exist_ok=True)
    last = next(d.picked_as for d in reversed(s.done) if d.picked_as)
    out = git.out(
        [
            "format-patch",
            "--cover-letter",
            f"--subject-prefix=PATCH {s.version}",
            "-o",
            str(s.format_patch),
            f"{s.start}..{last}",
            "--",
        ]
    )
    files = tuple(line for line in out.splitlines() if line)
    cover = next((f for f in files if os.path.basename(f).startswith("0000-")), None)
    if cover is not None:
        picked = [d for d in s.done if d.outcome == PICKED]
        items = {i.commit: i for i in s.items}
        rows = [f"  {d.commit[:12]} -> {str(d.picked_as)[:12]}  {items[d.commit].subject}" for d in picked]
        listing = "\n".join(rows)
        with open(cover, encoding="utf-8", errors="surrogateescape") as handle:
            text = handle.read()
        title = f"{len(picked)} backport{'s' if len(picked) != 1 else ''} for {s.version}"
        text = text.replace("*** SUBJECT HERE ***", title, 1)
        blurb = (
            f"Backports to {s.version} ({s.line_ref}), in unstable order:"
            f" the original commit, then the commit on {s.short_branch}.\n\n{listing}\n"
        )
        text = text.replace("*** BLURB HERE ***", blurb, 1)
        with open(cover, "w", encoding="utf-8", errors="surrogateescape") as handle:
            handle.write(text)
    return files
