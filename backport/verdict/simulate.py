"""Exact cherry-pick simulation that leaves the user's repository untouched.

The Simulator answers, for each line, what `git cherry-pick` of each
candidate would do onto the line's tip (alone) and onto the tip plus every
earlier clean candidate (chained), with what each needs first (`after`). It
is the caching and the work across lines; the parts are their own modules:

- backport.verdict.merge: one pick, as git does it, in a scratch object
  directory (the engine);
- backport.verdict.batch: picks that only modify files, worked out path by
  path, their file merges many at once;
- backport.verdict.chain: the virtual branch, and `after` made complete and
  minimal;
- backport.verdict.conflicts: the conflicting hunks, and a command that
  replays a pick by hand.

Results are cached by content: the picks onto a tree by (fingerprint, tree
picked onto), a line's whole plan by (fingerprint, tip, candidates). The
fingerprint holds what else decides a merge: git's version, the merge
settings, and the versions of the two namespaces (backport.cache).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from backport.cache import Cache, version
from backport.errors import UsageError
from backport.git import Git, Repository, check_revision
from backport.verdict.batch import TreeReader, merge_batched
from backport.verdict.chain import LinePlan, plan_chain
from backport.verdict.conflicts import conflict_hunks, reproduce_command
from backport.verdict.merge import FULL_ID, Change, Commit, Outcome, Pick, Scratch, own_changes, read_commits

if TYPE_CHECKING:
    import concurrent.futures

__all__ = ["LinePlan", "Pick", "Simulator", "fingerprint", "reproduce_command"]

# Settings that change what a merge decides; part of every cache key.
_MERGE_SETTINGS = (
    r"^(merge\.(renames|renamelimit|directoryrenames|renormalize)|diff\.(renames|renamelimit)|core\.ignorecase)$"
)
_T = TypeVar("_T")
_R = TypeVar("_R")


class Simulator:
    """Simulates cherry-picks in a scratch object directory; use it as a context manager."""

    def __init__(self, git: Git, repo: Repository, *, cache: bool = True, jobs: int | None = None) -> None:
        self.git = git
        self.repo = repo
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.cache = Cache.open(repo) if cache else Cache.disabled()
        self.scratch = Scratch(git)
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._commits: dict[str, Commit] = {}  # by the name asked for and by id
        self._own: dict[str, tuple[Change, ...]] = {}  # what each commit changes against its first parent
        self._outcomes: dict[tuple[str, str], Outcome] = {}  # (commit, onto tree) -> alone pick
        self._fingerprint = ""
        self._worked = 0  # single picks worked out, not found in the cache
        self._trees = TreeReader(self.scratch)  # the tips' directories, read once for every plan

    # -- lifetime -----------------------------------------------------------

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers first: a git still running could recreate what we remove."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self.scratch.close()
        self._outcomes.clear()

    @property
    def merged(self) -> int:
        """How many single picks this simulator has worked out (not taken from the cache)."""
        return self._worked

    def _prepare(self) -> None:
        """What every cache key needs: git's version and the settings that change a merge's outcome."""
        if not self._fingerprint:
            self._fingerprint = fingerprint(self.git)

    def _map(self, func: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
        """Run `func` over `items` on the worker threads; git does the work, so threads suffice.
        A pool of `jobs` workers, cancelled on close: not one call, so not backport.background."""
        if self.jobs == 1 or len(items) < 2:
            return [func(item) for item in items]
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor  # here: a warm run, which needs no pool, spares 9 ms

            self._pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="backport-sim")
        return list(self._pool.map(func, items))

    # -- public API ---------------------------------------------------------

    def pick(self, commit: str, onto: str) -> Pick:
        """Cherry-pick `commit` onto the commit `onto`, as `git cherry-pick` would."""
        return self.picks([commit], onto)[commit]

    def picks(self, commits: Sequence[str], onto: str) -> dict[str, Pick]:
        """Each commit cherry-picked alone onto the commit `onto`, as `pick`,
        all at once (in batches and in parallel), with no virtual branch:
        for a list ranked by something else than unstable order."""
        self._prepare()
        self._load([*commits, onto])
        self.scratch.expect(len(commits))
        if len(commits) > 1:  # what each changes, for the batches; one pick is merged whole
            self._load_own(commits)
        tree = self._commits[onto].tree
        found = self._alone([(self._commits[c], tree) for c in commits])
        return {c: outcome.pick(self._commits[c].merge) for c, outcome in zip(commits, found, strict=True)}

    def plan_line(self, tip: str, commits: Sequence[str]) -> dict[str, LinePlan]:
        return self.plan_lines([(tip, commits)])[0]

    def plan_lines(
        self, work: Sequence[tuple[str, Sequence[str]]], trials: Sequence[Sequence[str]] | None = None
    ) -> list[dict[str, LinePlan]]:
        """Plan several lines: each candidate alone and on its line's virtual branch.

        Commits are given in unstable order, oldest first; the result maps each
        commit as given to its plan. `trials[i]`, when given, are more commits
        for line i, each tried after all of that line's commits but not taken
        onto the branch: nothing waits for them, and they wait for none of
        each other (the report's untagged fixes).
        """
        self._prepare()
        tried = [list(t) for t in trials] if trials is not None else [[] for _ in work]
        every = _with_trials(work, tried)
        names = _names(every)
        if not all(FULL_ID.fullmatch(n) for n in names):
            self._load(names)  # full ids need no lookup: a warm run goes straight to its cache hits
        keys, results = self._cached(work, tried)
        unplanned = [index for index, plan in enumerate(results) if plan is None]
        if unplanned:
            self._load(names)
            planned = self._plan([every[i] for i in unplanned], [tried[i] for i in unplanned])
            for index, plan in zip(unplanned, planned, strict=True):
                results[index] = plan
                self._keep(keys[index], plan)
        return [r if r is not None else {} for r in results]

    def _cached(
        self, work: Sequence[tuple[str, Sequence[str]]], tried: Sequence[list[str]]
    ) -> tuple[list[list[str]], list[dict[str, LinePlan] | None]]:
        """Each line's cache key, and its plan from the cache (None: not there)."""
        keys = [self._line_key(tip, commits, extra) for (tip, commits), extra in zip(work, tried, strict=True)]
        every = _with_trials(work, tried)
        return keys, [_decode_plan(self.cache.get("line", key), n) for key, (_, n) in zip(keys, every, strict=True)]

    def _keep(self, key: list[str], plan: dict[str, LinePlan]) -> None:
        """A line's plan into the cache, unless a pick in it failed: a fetch
        may bring the object, a git the fix, so a failure is never kept."""
        if not any(p.alone.failure or p.chained.failure for p in plan.values()):
            self.cache.put("line", key, _encode_plan(plan))

    def _plan(self, work: Sequence[tuple[str, list[str]]], tried: Sequence[list[str]]) -> list[dict[str, LinePlan]]:
        """Plans worked out: every pick alone at once (in parallel), then each
        line's virtual branch (a line to a worker)."""
        self.scratch.expect(sum(len(commits) for _, commits in work))
        self._load_own([c for _, commits in work for c in commits])
        trees = [self._commits[tip].tree for tip, _ in work]
        self._alone([(self._commits[c], tree) for tree, (_, commits) in zip(trees, work, strict=True) for c in commits])
        lines = range(len(work))
        return self._map(lambda i: self._chain(trees[i], work[i][1], set(tried[i])), lines)

    def conflict_hunks(self, commit: str, onto: str) -> str:
        """The conflicting hunks of picking `commit` onto `onto`, as unified diff text."""
        self._prepare()
        self._load([commit, onto])
        self.scratch.expect(1)
        return conflict_hunks(self.scratch, self._commits[commit], self._commits[onto], onto)

    # -- metadata -----------------------------------------------------------

    def _load(self, names: Iterable[str]) -> None:
        """Read tree, parents and date of every commit named, in one `git cat-file`."""
        wanted = [n for n in dict.fromkeys(names) if n not in self._commits]
        if not wanted:
            return
        for name in wanted:
            check_revision(name)
            if "\n" in name:
                raise UsageError(f"invalid revision {name!r}", "give a branch, tag or commit id")
        for name, commit in zip(wanted, read_commits(self.git, wanted), strict=True):
            if commit is None:
                raise UsageError(f"unknown commit {name!r}", "give a commit id or a ref that names a commit")
            self._commits[name] = self._commits[commit.id] = commit

    def _load_own(self, names: Iterable[str]) -> None:
        """What each commit changes against its first parent, in one `git diff-tree`."""
        commits = [self._commits[n] for n in dict.fromkeys(names)]
        self._own.update(own_changes(self.git, [c for c in commits if c.id not in self._own]))

    def _line_key(self, tip: str, commits: Sequence[str], trials: Sequence[str] = ()) -> list[str]:
        key = [self._fingerprint, *(self._id(n) for n in (tip, *commits))]
        return [*key, "trials", *(self._id(n) for n in trials)] if trials else key

    def _id(self, name: str) -> str:
        return name if FULL_ID.fullmatch(name) else self._commits[name].id

    # -- picks --------------------------------------------------------------

    def _alone(self, pairs: Sequence[tuple[Commit, str]]) -> list[Outcome]:
        """Outcomes of picking each commit onto a tree.

        Looked up in memory, then in the cache; the rest is merged in
        parallel. The cache holds one entry per tree picked onto, with every
        commit's pick onto it: on this machine creating a file costs half a
        millisecond, and a cold report on Xen keeps 1,100 picks onto 6 trees.
        """
        todo: list[tuple[Commit, str]] = []
        kept: dict[str, dict[str, Any]] = {}  # tree: the cache's picks onto it
        for commit, tree in dict.fromkeys(pairs):
            if (commit.id, tree) in self._outcomes:
                continue
            if tree not in kept:
                found = self.cache.get("pick", [self._fingerprint, tree])
                kept[tree] = found if isinstance(found, dict) else {}
            cached = Outcome.from_json(kept[tree].get(commit.id))
            if cached is not None:
                self._outcomes[(commit.id, tree)] = cached
            else:
                todo.append((commit, tree))
        if todo:
            self._worked += len(todo)
            for (commit, tree), outcome in zip(todo, self._merged(todo), strict=True):
                self._outcomes[(commit.id, tree)] = outcome
                if outcome.failure is None:  # a fetch may bring the object, a git the fix: never remember a failure
                    kept[tree][commit.id] = outcome.to_json()
            for tree in dict.fromkeys(tree for _, tree in todo):
                self.cache.put("pick", [self._fingerprint, tree], kept[tree])
        return [self._outcomes[(commit.id, tree)] for commit, tree in pairs]

    def _merged(self, pairs: Sequence[tuple[Commit, str]]) -> list[Outcome]:
        """Picks worked out: in batches where they only modify files
        (backport.verdict.batch), else one merge each, in parallel."""
        batched = merge_batched(self.scratch, pairs, self._own, self._map, self._trees)
        rest = [pair for pair, outcome in zip(pairs, batched, strict=True) if outcome is None]
        ontos = self.scratch.synthetic(rest)
        attempts = self._map(lambda i: self.scratch.attempt(rest[i][0], ontos[i]), range(len(rest)))
        single = iter(self.scratch.merged([c for c, _ in rest], [t for _, t in rest], attempts))
        return [outcome if outcome is not None else next(single) for outcome in batched]

    def _chain(self, tip_tree: str, names: Sequence[str], trials: Collection[str] = ()) -> dict[str, LinePlan]:
        alone = {name: self._outcomes[(self._commits[name].id, tip_tree)] for name in names}
        beside = self.jobs > 1  # one job: nothing runs beside anything
        return plan_chain(
            self.scratch, self._commits, self._own, alone, tip_tree, names, trials, beside=beside, reader=self._trees
        )


def _with_trials(work: Sequence[tuple[str, Sequence[str]]], tried: Sequence[list[str]]) -> list[tuple[str, list[str]]]:
    """Each line's tip and its commits, the trials last."""
    return [(tip, [*commits, *extra]) for (tip, commits), extra in zip(work, tried, strict=True)]


def _names(every: Sequence[tuple[str, Sequence[str]]]) -> list[str]:
    """Every tip and commit named, in order."""
    return [name for tip, commits in every for name in (tip, *commits)]


_version: tuple[int, ...] | None = None


def fingerprint(git: Git) -> str:
    """What, besides the commits, decides a simulation: this engine, git's
    version and the merge settings in force. Part of every cache key."""
    settings = git.config_regexp(_MERGE_SETTINGS)
    return Cache.digest([version("pick"), version("line"), list(git_version(git)), sorted(settings)])


def git_version(git: Git) -> tuple[int, ...]:
    """The installed git's version, asked once per process."""
    global _version
    if _version is None:
        found = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", git.out(["version"]))
        _version = tuple(int(p) for p in found.groups(default="0")) if found else (0, 0, 0)
    return _version


def _encode_plan(plan: dict[str, LinePlan]) -> list[Any]:
    def pick(p: Pick) -> list[Any]:
        return [p.clean, list(p.conflicts), p.empty, p.tree, p.merge]

    return [[name, pick(p.alone), pick(p.chained), list(p.after)] for name, p in plan.items()]


def _decode_plan(data: Any, names: Sequence[str]) -> dict[str, LinePlan] | None:
    if not isinstance(data, list):
        return None
    try:

        def pick(p: list[Any]) -> Pick:
            clean, conflicts, empty, tree, merge = p
            return Pick(bool(clean), tuple(conflicts), bool(empty), tree, bool(merge))

        plan = {str(n): LinePlan(pick(a), pick(c), tuple(after)) for n, a, c, after in data}
    except (TypeError, ValueError):
        return None
    return plan if list(plan) == list(names) else None
