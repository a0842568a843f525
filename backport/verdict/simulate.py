"""Exact cherry-pick simulation that leaves the user's repository untouched.

`git cherry-pick C` onto a tip is a three-way merge: base C's first parent,
ours the tip, theirs C. git 2.39 cannot be told the merge base of
`git merge-tree`, so we build a synthetic commit S with the tip's tree and C's
first parent as its parent: the one merge base of S and C is then that parent,
and `git merge-tree --write-tree S C` is the merge cherry-pick performs (it
agreed with real cherry-picks on every pair we compared, see
tests/test_pick_agreement.py). S carries C's commit date: an old date would
make git walk the whole history to find the merge base. git 2.40 and newer take
`--merge-base` and need no S.

Everything git writes meanwhile (S, merged blobs, trees) goes to a temporary
object directory that borrows the repository's objects as an alternate and is
removed when the Simulator closes: the repository gains nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import tempfile
import threading
import weakref
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from backport.cache import Cache
from backport.errors import MissingObject, UsageError, git_failure
from backport.git import Git, Repository, check_revision
from backport.models import printable
from backport.record import record, replace

if TYPE_CHECKING:
    import concurrent.futures

ENGINE = 4  # bump when a change here alters results, so cached ones are not reused
# Settings that change what a merge decides; part of every cache key.
_MERGE_SETTINGS = (
    r"^(merge\.(renames|renamelimit|directoryrenames|renormalize)|diff\.(renames|renamelimit)|core\.ignorecase)$"
)
_FULL_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
# The longest `after` list that is trimmed to a minimal one (trimming replays
# the picks some n log n times): longer lists stay complete, untrimmed.
MINIMIZE = 64
_T = TypeVar("_T")
_R = TypeVar("_R")


@record
class Pick:
    """What `git cherry-pick` of one commit onto one tree would do."""

    clean: bool
    conflicts: tuple[str, ...]  # conflicted paths, sorted
    empty: bool  # clean and the result equals the tree picked onto: already there in substance
    # result tree when clean (its objects are gone once the Simulator closes);
    # None for a chained pick the chain left alone (not computed)
    tree: str | None
    merge: bool  # the commit is a merge, picked against its first parent (like cherry-pick -m 1)
    missing: str | None = None  # an object git needed is not here: the pick could not be computed


@record
class LinePlan:
    """One candidate on one line."""

    alone: Pick  # picked directly onto the line's tip
    chained: Pick  # picked onto the tip plus every earlier clean candidate of the line
    # Alone conflicts, chained is clean: the earlier candidates to pick first,
    # in order, so that the candidate then picks clean onto the tip. Complete
    # (their own prerequisites included) and minimal (leave any one out and a
    # pick conflicts), checked by replaying the picks (Simulator._completed).
    # Alone and chained conflict: the earlier candidates that touch its paths.
    after: tuple[str, ...] = ()


@record
class _Commit:
    id: str
    tree: str
    parents: tuple[str, ...]
    date: str  # committer date as stored: "<epoch> <tz>"

    @property
    def base(self) -> str | None:
        return self.parents[0] if self.parents else None


@record
class _Change:
    """One path a diff touches (no rename detection: a rename is a delete and an add)."""

    path: str
    status: str  # A, D, M or T
    mode: str  # new mode, 000000 when deleted
    blob: str  # new object id


@record
class _Outcome:
    """A merge's result with what the virtual branch needs to know about it."""

    clean: bool
    conflicts: tuple[str, ...]
    tree: str  # written even on conflict (files then carry conflict markers)
    changes: tuple[_Change, ...]  # result tree against the tree picked onto
    missing: str | None = None  # the object git could not read; nothing else is known then

    def pick(self, merge: bool) -> Pick:
        return Pick(
            clean=self.clean,
            conflicts=self.conflicts,
            empty=self.clean and not self.changes,
            tree=self.tree if self.clean else None,
            merge=merge,
            missing=self.missing,
        )

    def footprint(self) -> set[str]:
        return {c.path for c in self.changes} | set(self.conflicts)

    def to_json(self) -> dict[str, Any]:
        return {
            "clean": self.clean,
            "conflicts": list(self.conflicts),
            "tree": self.tree,
            "changes": [[c.path, c.status, c.mode, c.blob] for c in self.changes],
        }

    @classmethod
    def from_json(cls, data: Any) -> _Outcome | None:
        try:
            return cls(
                clean=bool(data["clean"]),
                conflicts=tuple(str(p) for p in data["conflicts"]),
                tree=str(data["tree"]),
                changes=tuple(_Change(*map(str, c)) for c in data["changes"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


class Simulator:
    """Simulates cherry-picks in a scratch object directory; use it as a context manager."""

    def __init__(self, git: Git, repo: Repository, *, cache: bool = True, jobs: int | None = None) -> None:
        self.git = git
        self.repo = repo
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.cache = Cache.open(repo) if cache else Cache.disabled()
        self._tmp: str | None = None
        self._scratch: Git | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._commits: dict[str, _Commit] = {}  # by the name asked for and by id
        self._own: dict[str, tuple[_Change, ...]] = {}  # what each commit changes against its first parent
        self._outcomes: dict[tuple[str, str], _Outcome] = {}  # (commit, onto tree) -> alone pick
        self._live: set[str] = set()  # trees whose objects exist in this run
        self._modern = False
        self._fingerprint = ""
        self._objects = ""  # the scratch object directory
        self._algorithm = "sha1"
        self._seq = 0
        self._finalizer: weakref.finalize | None = None

    # -- lifetime -----------------------------------------------------------

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _prepare(self) -> None:
        """What every cache key needs: git's version and the settings that change a merge's outcome."""
        if self._fingerprint:
            return
        self._modern = git_version(self.git) >= (2, 40)
        self._fingerprint = fingerprint(self.git)

    def _start(self) -> Git:
        """The scratch object directory, made when the first merge is needed (a warm run needs none)."""
        with self._lock:
            if self._scratch is not None:
                return self._scratch
            self._prepare()
            # bytes to names as Python keeps them: a repository's directory need not be UTF-8
            found = self.git.run(["rev-parse", "--git-path", "objects", "--show-object-format"]).stdout
            objects, algorithm = os.fsdecode(found).splitlines()
            objects = os.path.abspath(os.path.join(self.git.cwd, objects))  # relative to cwd before git 2.31
            self._tmp = tempfile.mkdtemp(prefix="backport-sim-")
            # a Simulator never closed still leaves nothing behind once it is collected
            self._finalizer = weakref.finalize(self, shutil.rmtree, self._tmp, True)
            self._objects = os.path.join(self._tmp, "objects")
            self._algorithm = algorithm
            os.makedirs(os.path.join(self._objects, "info"))
            # The repository's objects as an alternate, in a file rather than
            # GIT_ALTERNATE_OBJECT_DIRECTORIES: that variable is split at ':',
            # which a repository path may contain. (Any alternates the user
            # set in the environment still apply: the environment is kept.)
            with open(os.path.join(self._objects, "info", "alternates"), "wb") as handle:
                handle.write(os.fsencode(objects) + b"\n")
            self._scratch = self.git.with_env({"GIT_OBJECT_DIRECTORY": self._objects})
            return self._scratch

    def close(self) -> None:
        """Stop the workers first: a git still running could recreate what we remove."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            if self._finalizer is not None:
                self._finalizer.detach()
            self._tmp = None
        self._scratch = None
        self._live.clear()
        self._outcomes.clear()

    def _map(self, func: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
        """Run `func` over `items` on the worker threads; git does the work, so threads suffice."""
        if self.jobs == 1 or len(items) < 2:
            return [func(item) for item in items]
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor  # here: a warm run, which needs no pool, spares 9 ms

            self._pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="backport-sim")
        return list(self._pool.map(func, items))

    # -- public API ---------------------------------------------------------

    def pick(self, commit: str, onto: str) -> Pick:
        """Cherry-pick `commit` onto the commit `onto`, as `git cherry-pick` would."""
        self._prepare()
        self._load([commit, onto])
        c, tip = self._commits[commit], self._commits[onto]
        outcome = self._alone([(c.id, tip.tree, tip.id)])[0]
        return outcome.pick(len(c.parents) > 1)

    def plan_line(self, tip: str, commits: Sequence[str]) -> dict[str, LinePlan]:
        return self.plan_lines([(tip, commits)])[0]

    def plan_lines(self, work: Sequence[tuple[str, Sequence[str]]]) -> list[dict[str, LinePlan]]:
        """Plan several lines: each candidate alone and on its line's virtual branch.

        Commits are given in unstable order, oldest first; the result maps each
        commit as given to its plan.
        """
        self._prepare()
        names = [name for tip, commits in work for name in (tip, *commits)]
        if not all(_FULL_ID.fullmatch(n) for n in names):
            self._load(names)  # full ids need no lookup: a warm run goes straight to its cache hits
        results: list[dict[str, LinePlan] | None] = []
        unplanned: list[int] = []
        for index, (tip, commits) in enumerate(work):
            key = self._line_key(tip, commits)
            plan = _decode_plan(self.cache.get("line", key), commits)
            results.append(plan)
            if plan is None:
                unplanned.append(index)
        if unplanned:
            self._load(names)
            self._load_own([c for i in unplanned for c in work[i][1]])
            tips = {i: self._commits[work[i][0]] for i in unplanned}
            self._alone([(self._commits[c].id, tips[i].tree, tips[i].id) for i in unplanned for c in work[i][1]])
            plans = self._map(lambda i: self._chain(tips[i].tree, work[i][1]), unplanned)
            for index, plan in zip(unplanned, plans, strict=True):
                results[index] = plan
                if not any(p.alone.missing or p.chained.missing for p in plan.values()):
                    self.cache.put("line", self._line_key(*work[index]), _encode_plan(plan))
        return [r if r is not None else {} for r in results]

    def conflict_hunks(self, commit: str, onto: str) -> str:
        """The conflicting hunks of picking `commit` onto `onto`, as unified diff text.

        Only hunks that carry conflict markers are kept; a conflict without
        markers (binary, modify/delete, rename) is named by git's own message.
        """
        scratch = self._start()
        self._load([commit, onto])
        c, tip = self._commits[commit], self._commits[onto]
        onto_commit = self._synthetic(c, tip.tree) if not self._modern or c.base is None else tip.id
        args = ["merge-tree", "--write-tree", "--name-only", "-z"]
        proc = scratch.run([*args, *self._merge_args(c, onto_commit)], check=False)
        if proc.returncode not in (0, 1):
            raise git_failure(args, proc.returncode, proc.stderr.decode("utf-8", "replace"))
        if proc.returncode == 0:
            return ""
        head, _, messages = proc.stdout.partition(b"\0\0")
        tree, *paths = head.decode("utf-8", "surrogateescape").split("\0")
        conflicted = sorted(set(p for p in paths if p))
        literal = scratch.with_env({"GIT_LITERAL_PATHSPECS": "1"})  # a path is a path, never a glob
        diff = literal.run(
            # names as written (no octal escapes): this text is for people
            ["-c", "core.quotePath=false", "diff-tree", "-p", "--no-color", "--no-ext-diff", "--no-renames"]
            + [tip.tree, tree, "--", *conflicted]
        ).stdout.decode("utf-8", "replace")
        labels = {onto_commit: f"{onto[:12]} (line)", c.id: f"{c.id[:12]} (picked)"}
        out = [_relabel(hunk, labels) for hunk in _marker_hunks(diff)]
        notes = _conflict_messages(messages)
        return printable("".join(out) + "".join(f"# {note}\n" for note in notes))

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
        data = "".join(f"{n}^{{commit}}\n" for n in wanted).encode()
        out = self.git.run(["cat-file", "--batch"], input=data).stdout
        pos = 0
        for name in wanted:
            end = out.index(b"\n", pos)
            header = out[pos:end].decode().split()
            if len(header) != 3 or header[1] != "commit":
                raise UsageError(f"unknown commit {name!r}", "give a commit id or a ref that names a commit")
            size = int(header[2])
            body = out[end + 1 : end + 1 + size]
            pos = end + 1 + size + 1
            commit = _parse_commit(header[0], body)
            self._commits[name] = self._commits[commit.id] = commit

    def _load_own(self, names: Iterable[str]) -> None:
        """What each commit changes against its first parent, in one `git diff-tree`."""
        commits = [self._commits[n] for n in dict.fromkeys(names)]
        commits = [c for c in commits if c.id not in self._own]
        if not commits:
            return
        data = "".join(f"{c.id} {c.base}\n" if c.base else f"{c.id}\n" for c in commits).encode()
        out = self.git.run(["diff-tree", "--stdin", "-r", "-z", "--root", "--always", "--no-renames"], input=data)
        found = _parse_raw(out.stdout)
        for c in commits:
            self._own[c.id] = tuple(found.get(c.id, ()))

    def _line_key(self, tip: str, commits: Sequence[str]) -> list[str]:
        return [self._fingerprint, *(self._id(n) for n in (tip, *commits))]

    def _id(self, name: str) -> str:
        return name if _FULL_ID.fullmatch(name) else self._commits[name].id

    # -- single merges ------------------------------------------------------

    def _alone(self, pairs: Sequence[tuple[str, str, str | None]]) -> list[_Outcome]:
        """Outcomes of picking each commit onto a tree (with the commit that has it, if any).

        Looked up in memory, then in the cache; the rest is merged in parallel.
        """
        todo: list[tuple[str, str, str | None]] = []
        for commit, tree, onto in dict.fromkeys(pairs):
            if (commit, tree) in self._outcomes:
                continue
            cached = _Outcome.from_json(self.cache.get("pick", [self._fingerprint, commit, tree]))
            if cached is not None:
                self._outcomes[(commit, tree)] = cached
            else:
                todo.append((commit, tree, onto))
        if todo:
            for (commit, tree, _), outcome in zip(todo, self._merge_many(todo), strict=True):
                self._outcomes[(commit, tree)] = outcome
                if outcome.missing is None:  # a fetch may bring the object: never remember its absence
                    self.cache.put("pick", [self._fingerprint, commit, tree], outcome.to_json())
        return [self._outcomes[(commit, tree)] for commit, tree, _ in pairs]

    def _merge_many(self, pairs: Sequence[tuple[str, str, str | None]], *, parallel: bool = True) -> list[_Outcome]:
        """Merge every pair for real; the result trees are live in this run.

        Not parallel when called from a worker thread: waiting there on the
        pool could leave no worker free to do the work.
        """
        self._start()
        commits = [self._commits[c] for c, _, _ in pairs]
        ontos: list[str]
        if self._modern:
            pairing = enumerate(zip(commits, pairs, strict=True))
            needs = [i for i, (c, (_, _, onto)) in pairing if c.base is None or onto is None]
            made = dict(zip(needs, self._synthetic_many([(commits[i], pairs[i][1]) for i in needs]), strict=True))
            ontos = [made.get(i) or str(pairs[i][2]) for i in range(len(pairs))]
        else:
            ontos = self._synthetic_many([(c, tree) for c, (_, tree, _) in zip(commits, pairs, strict=True)])
        indexes = range(len(pairs))
        if parallel:
            results = self._map(lambda i: self._attempt(commits[i], ontos[i]), indexes)
        else:
            results = [self._attempt(commits[i], ontos[i]) for i in indexes]
        merged = [(tree, result[2]) for (_, tree, _), result in zip(pairs, results, strict=True) if result[2]]
        changes = self._diff_trees(merged)
        outcomes = []
        for (_, tree, _), (clean, conflicts, result, missing) in zip(pairs, results, strict=True):
            outcomes.append(_Outcome(clean, conflicts, result, changes.get((tree, result), ()), missing))
        with self._lock:
            self._live.update(o.tree for o in outcomes if o.tree)
        return outcomes

    def _attempt(self, c: _Commit, onto_commit: str) -> tuple[bool, tuple[str, ...], str, str | None]:
        """_merge_tree, or what it could not read: one missing object costs
        this pick, not the run."""
        try:
            clean, conflicts, tree = self._merge_tree(c, onto_commit)
        except MissingObject as err:
            return False, (), "", err.object_id
        return clean, conflicts, tree, None

    def _merge_args(self, c: _Commit, onto_commit: str) -> list[str]:
        if c.base is None:
            # a root commit: cherry-pick merges against the empty tree
            return ["--allow-unrelated-histories", onto_commit, c.id]
        if self._modern:
            return [f"--merge-base={c.base}", onto_commit, c.id]
        return [onto_commit, c.id]

    def _merge_tree(self, c: _Commit, onto_commit: str) -> tuple[bool, tuple[str, ...], str]:
        assert self._scratch is not None
        args = ["merge-tree", "--write-tree", "--name-only", "--no-messages", "-z"]
        proc = self._scratch.run([*args, *self._merge_args(c, onto_commit)], check=False)
        if proc.returncode not in (0, 1):
            raise git_failure(args, proc.returncode, proc.stderr.decode("utf-8", "replace"))
        tree, *paths = proc.stdout.decode("utf-8", "surrogateescape").split("\0")
        if not _FULL_ID.fullmatch(tree):
            # exit 1 also means "not something we can merge": never read that as a conflict
            raise git_failure(args, proc.returncode, proc.stderr.decode("utf-8", "replace") or "no tree written")
        return proc.returncode == 0, tuple(sorted(set(p for p in paths if p))), tree

    def _synthetic(self, c: _Commit, tree: str) -> str:
        return self._synthetic_many([(c, tree)])[0]

    def _synthetic_many(self, items: Sequence[tuple[_Commit, str]]) -> list[str]:
        """Commits S: the given tree, C's first parent as parent, C's date.

        Written straight into the scratch object directory as loose objects,
        which git reads like any other: a commit is a few lines of text, and a
        git process for each (`commit-tree`) cost a third of the merge it
        prepares. Nothing is signed, whatever commit.gpgSign says.
        """
        self._start()
        ids = []
        for c, tree in items:
            parent = f"parent {c.base}\n" if c.base and not self._modern else ""
            who = f"backport <backport@invalid> {c.date}"
            text = f"tree {tree}\n{parent}author {who}\ncommitter {who}\n\nbackport simulation of {c.id}\n"
            ids.append(self._write_object("commit", text.encode()))
        return ids

    def _write_object(self, kind: str, body: bytes) -> str:
        data = f"{kind} {len(body)}\0".encode() + body
        oid = hashlib.new(self._algorithm, data).hexdigest()
        folder = os.path.join(self._objects, oid[:2])
        path = os.path.join(folder, oid[2:])
        if not os.path.exists(path):
            os.makedirs(folder, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix="tmp_obj_", dir=folder)
            with os.fdopen(fd, "wb") as handle:
                handle.write(zlib.compress(data, 1))
            os.replace(temp, path)  # whole or not at all, even with two threads writing the same commit
        return oid

    def _diff_trees(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], tuple[_Change, ...]]:
        """Raw differences of many tree pairs, in one `git diff-tree`."""
        wanted = [p for p in dict.fromkeys(pairs) if p[0] != p[1]]
        if not wanted:
            return {}
        assert self._scratch is not None
        data = "".join(f"{a} {b}\n" for a, b in wanted).encode()
        out = self._scratch.run(["diff-tree", "--stdin", "-r", "-z", "--no-renames"], input=data).stdout
        found = _parse_raw(out)
        result = {}
        for a, b in wanted:
            result[(a, b)] = tuple(found.get(f"{a} {b}", ()))
        return result

    # -- the virtual branch -------------------------------------------------

    def _chain(self, tip_tree: str, names: Sequence[str]) -> dict[str, LinePlan]:
        """Pick a line's candidates in order onto a virtual branch that takes each clean one.

        The chained merge is skipped, and the alone pick stands for it, when the
        candidate touches no path the virtual branch changed: three-way merges
        of disjoint paths do not interact, so the result is the same. Not when
        files come or go on both sides (or the candidate conflicts alone while
        the branch adds or deletes files): git could then pair renames or see a
        directory rename differently.
        """
        branch = _VirtualBranch(self, tip_tree)
        plans: dict[str, LinePlan] = {}
        before: dict[str, tuple[str, ...]] = {}  # what the branch had taken when each candidate came
        for name in names:
            c = self._commits[name]
            merge = len(c.parents) > 1
            alone = self._outcomes[(c.id, tip_tree)]
            if alone.missing is not None:  # nothing is known of it: it stays off the branch
                plans[name] = LinePlan(alone.pick(merge), alone.pick(merge))
                continue
            own = self._own.get(c.id, ())
            footprint = alone.footprint() | {ch.path for ch in own}
            risky = branch.structural and (_structural(own) or not alone.clean)
            if not branch.taken:
                chained, chained_pick = alone, alone.pick(merge)
            elif not footprint & branch.touched and not risky:
                chained, chained_pick = alone, replace(alone.pick(merge), tree=None)
            else:
                chained = self._merge_many([(c.id, branch.write(), None)], parallel=False)[0]
                chained_pick = chained.pick(merge)
            after: tuple[str, ...] = ()
            if not alone.clean and chained.clean:
                related = tuple(a for a, paths in branch.taken if paths & footprint)
                # no shared path (git followed a rename we do not see): all of them, we cannot tell which
                after = related or tuple(a for a, _ in branch.taken)
            before[name] = tuple(a for a, _ in branch.taken)
            if chained.clean and chained.changes:
                branch.take(c.id, chained, footprint, on_tip=chained is alone)
            plans[name] = LinePlan(alone.pick(merge), chained_pick, after)
        return self._completed(tip_tree, names, plans, before)

    def _completed(
        self,
        tip_tree: str,
        names: Sequence[str],
        plans: dict[str, LinePlan],
        before: Mapping[str, tuple[str, ...]],
    ) -> dict[str, LinePlan]:
        """Each `after` made complete and minimal, and checked.

        The chain names, for a candidate that is clean only on the virtual
        branch, the taken candidates that share a path with it. That list
        can fall short: one of them may itself conflict until its own
        prerequisites go first (on real Xen, 19 of 71 such lists). So: the
        prerequisites' own lists are added (transitively, as every earlier
        list is complete already), and the whole is replayed, pick after pick
        from the line's tip, as a coordinator would pick it. Should that not
        come out clean (git paired a rename we cannot see), everything taken
        before the candidate does: that is the branch it picked clean on.
        Then what the replay does without is left out (_trimmed), while the
        list has at most MINIMIZE commits; a longer list stays complete but
        is not trimmed.
        """
        position = {self._commits[n].id: i for i, n in enumerate(names)}
        replay = _Replay(self, tip_tree)
        done: dict[str, tuple[str, ...]] = {}
        for name in names:
            plan = plans[name]
            commit = self._commits[name].id
            if not plan.after or plan.alone.clean or not plan.chained.clean:
                done[commit] = ()
                continue
            closure = set(plan.after).union(*(done.get(p, ()) for p in plan.after))
            chosen = sorted(closure, key=position.__getitem__)
            if not replay.clean([*chosen, commit]):
                chosen = list(before[name])
            if replay.clean([*chosen, commit]) and len(chosen) <= MINIMIZE:
                chosen = _trimmed(replay, chosen, commit)
            done[commit] = tuple(chosen)
            plans[name] = replace(plan, after=tuple(chosen))
        return plans

    def _index_file(self) -> str:
        assert self._tmp is not None
        with self._lock:
            self._seq += 1
            return os.path.join(self._tmp, f"index-{self._seq}")


def _trimmed(replay: _Replay, chosen: list[str], commit: str) -> list[str]:
    """`chosen` without what the replay of `chosen` then `commit` does
    without: runs of commits first (halves, quarters, ...: on real history
    a long list often carries a whole series it does not need), then one
    at a time, newest first. Newest first keeps the replays' start, whose
    trees are kept, the same. What comes out is minimal: leave any one
    commit out and a pick conflicts."""
    size = len(chosen) // 2
    while size >= 1:
        start = len(chosen) - size
        while start >= 0:
            fewer = chosen[:start] + chosen[start + size :]
            if replay.clean([*fewer, commit]):
                chosen = fewer
            start -= size
        size //= 2
    return chosen


class _Replay:
    """Picks replayed one after another from a line's tip, as a coordinator
    following `after` would do them: whether a sequence comes out clean.
    Every prefix's tree is kept, so sequences that share a start share the
    merges."""

    def __init__(self, sim: Simulator, tip_tree: str) -> None:
        self.sim = sim
        self.trees: dict[tuple[str, ...], str | None] = {(): tip_tree}  # None: that prefix conflicts

    def clean(self, commits: Sequence[str]) -> bool:
        return self._tree(tuple(commits)) is not None

    def _tree(self, commits: tuple[str, ...]) -> str | None:
        if commits in self.trees:
            return self.trees[commits]
        below = self._tree(commits[:-1])
        tree = None
        if below is not None:
            outcome = self.sim._merge_many([(commits[-1], below, None)], parallel=False)[0]
            tree = outcome.tree if outcome.clean else None
        self.trees[commits] = tree
        return tree


class _VirtualBranch:
    """A line's tip plus the candidates taken so far, written out only when a merge needs it.

    A skipped candidate is taken as its alone pick's changes against the tip;
    its paths are disjoint from everything taken before, so writing those
    changes over the tree is the merge. One scratch index per branch follows
    the tree, so writing costs one `update-index` and one `write-tree`, not a
    merge per candidate.
    """

    def __init__(self, sim: Simulator, tip_tree: str) -> None:
        self.sim = sim
        self.tip_tree = tip_tree
        self.tree = tip_tree  # written so far
        self.touched: set[str] = set()  # paths where the branch differs from the tip
        self.structural = False  # the branch adds or deletes files
        self.taken: list[tuple[str, set[str]]] = []  # (commit, paths it involves), in order
        self._unwritten: list[tuple[str, _Outcome]] = []  # taken on the tip, not in self.tree yet
        self._index: str | None = None  # scratch index file, holds self.tree minus _index_lag
        self._index_lag: list[_Outcome] = []  # merged onto self.tree, not in the index yet

    def take(self, commit: str, outcome: _Outcome, footprint: set[str], *, on_tip: bool) -> None:
        changed = {ch.path for ch in outcome.changes}
        self.touched |= changed
        self.structural = self.structural or _structural(outcome.changes)
        self.taken.append((commit, footprint | changed))
        if on_tip:
            self._unwritten.append((commit, outcome))
        else:
            # merged onto the written tree: its result is the branch
            assert not self._unwritten
            self.tree = outcome.tree
            self._index_lag.append(outcome)

    def write(self) -> str:
        """The branch's tree, with everything taken written in."""
        if not self._unwritten:
            return self.tree
        sim = self.sim
        scratch = sim._start()
        outcomes = []
        for commit, outcome in self._unwritten:
            if outcome.tree not in sim._live:
                # from an earlier run's cache: its merged blobs are gone, merge again
                outcome = sim._merge_many([(commit, self.tip_tree, None)], parallel=False)[0]
            outcomes.append(outcome)
        if self._index is None:
            self._index = sim._index_file()
            scratch.with_env({"GIT_INDEX_FILE": self._index}).run(["read-tree", self.tree])
            self._index_lag = []
        records = [_index_record(ch) for outcome in (*self._index_lag, *outcomes) for ch in outcome.changes]
        index = scratch.with_env({"GIT_INDEX_FILE": self._index})
        index.run(
            ["update-index", "-z", "--replace", "--index-info"],
            input="".join(records).encode("utf-8", "surrogateescape"),
        )
        self.tree = index.out(["write-tree"])
        self._unwritten, self._index_lag = [], []
        with sim._lock:
            sim._live.add(self.tree)
        return self.tree


# -- helpers ----------------------------------------------------------------


def reproduce_command(commit: str, line_ref: str, *, merge: bool = False) -> str:
    """A paste-ready command that replays the pick in a throwaway worktree, never the user's checkout."""
    pick = "cherry-pick -x -m 1" if merge else "cherry-pick -x"
    return (
        f'd=$(mktemp -d) && git worktree add -q --detach "$d" {shlex.quote(line_ref)} '
        f'&& git -C "$d" {pick} {shlex.quote(commit)}; '
        f'echo "look in $d; then: git worktree remove --force $d"'
    )


_version: tuple[int, ...] | None = None


def fingerprint(git: Git) -> str:
    """What, besides the commits, decides a simulation: this engine, git's
    version and the merge settings in force. Part of every cache key."""
    settings = git.config_regexp(_MERGE_SETTINGS)
    return Cache.digest([ENGINE, list(git_version(git)), sorted(settings)])


def git_version(git: Git) -> tuple[int, ...]:
    """The installed git's version, asked once per process."""
    global _version
    if _version is None:
        found = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", git.out(["version"]))
        _version = tuple(int(p) for p in found.groups(default="0")) if found else (0, 0, 0)
    return _version


def _index_record(ch: _Change) -> str:
    """A `git update-index -z --index-info` record that makes the index agree with the change."""
    if ch.status == "D":
        return f"0 {'0' * len(ch.blob)}\t{ch.path}\0"
    return f"{ch.mode} {ch.blob}\t{ch.path}\0"


def _structural(changes: Iterable[_Change]) -> bool:
    """Whether files come or go, which can change how git pairs renames."""
    return any(ch.status in ("A", "D") for ch in changes)


def _parse_commit(oid: str, body: bytes) -> _Commit:
    tree, parents, date = "", [], ""
    for line in body.split(b"\n"):
        if not line:
            break  # end of headers
        field, _, value = line.decode("utf-8", "replace").partition(" ")
        if field == "tree":
            tree = value
        elif field == "parent":
            parents.append(value)
        elif field == "committer":
            date = " ".join(value.rsplit(" ", 2)[-2:])
    return _Commit(oid, tree, tuple(parents), date)


def _parse_raw(out: bytes) -> dict[str, list[_Change]]:
    """Split `git diff-tree --stdin -r -z` raw output by the header that starts each diff.

    A header is a commit id (commit mode, NUL-terminated) or "<tree> <tree>"
    (tree pairs, newline-terminated and so glued to the next field).
    """
    found: dict[str, list[_Change]] = {}
    current: list[_Change] = []
    fields = iter(out.decode("utf-8", "surrogateescape").split("\0"))
    for field in fields:
        if not field:
            continue
        if "\n" in field and not field.startswith(":"):
            header, _, field = field.partition("\n")
            current = found.setdefault(header, [])
        if not field.startswith(":"):
            current = found.setdefault(field, [])
            continue
        _old_mode, mode, _old, blob, status = field[1:].split(" ")
        current.append(_Change(next(fields), status[0], mode, blob))
    return found


def _conflict_messages(data: bytes) -> list[str]:
    """git's CONFLICT messages from `merge-tree -z`: records of a path count, the paths, a type, a message."""
    fields = data.decode("utf-8", "replace").split("\0")
    notes: list[str] = []
    i = 0
    while i < len(fields) and fields[i].isdigit():
        i += 1 + int(fields[i])
        if i + 1 >= len(fields):
            break
        kind, message = fields[i], fields[i + 1]
        i += 2
        if kind.startswith("CONFLICT"):
            notes.extend(line for line in message.splitlines() if line)
    return notes


def _marker_hunks(diff: str) -> Iterator[str]:
    """The file headers and hunks of a patch, keeping only hunks with conflict markers."""
    from unidiff import PatchSet  # only conflict detail needs it

    for patched in PatchSet(diff):
        hunks = [h for h in patched if any(line.value.startswith("<<<<<<<") for line in h if line.is_added)]
        if hunks:
            yield f"{patched.patch_info}--- {patched.source_file}\n+++ {patched.target_file}\n"
            yield from (str(h) for h in hunks)


def _relabel(text: str, labels: dict[str, str]) -> str:
    """Name the sides of conflict markers after the line and the commit, not our synthetic ids."""
    for oid, label in labels.items():
        text = text.replace(oid, label)
    return text


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
