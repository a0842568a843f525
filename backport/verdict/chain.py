"""A line's candidates picked in order: the virtual branch, and `after`.

Each candidate is picked onto the line's tip alone, and onto a virtual
branch that takes every earlier candidate that picked clean ("chained"). A
candidate that conflicts alone but is clean chained needs some earlier ones
first: `after` names them, complete (their own prerequisites included) and
minimal (leave any one out and a pick conflicts), checked by replaying the
picks as a coordinator would.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from functools import partial

from backport.background import background
from backport.record import record, replace
from backport.verdict.batch import (
    Memo,
    Overlay,
    TreeReader,
    modifies_only,
    overlaid,
    pick_on_overlay,
    picks_on_overlays,
)
from backport.verdict.merge import Change, Commit, Outcome, Pick, Scratch, structural

# The longest `after` list that is trimmed to a minimal one (trimming replays
# the picks some n log n times): longer lists stay complete, untrimmed.
MINIMIZE = 64


@record
class LinePlan:
    """One candidate on one line."""

    alone: Pick  # picked directly onto the line's tip
    chained: Pick  # picked onto the tip plus every earlier clean candidate of the line
    # Alone conflicts, chained is clean: the earlier candidates to pick first,
    # in order, so that the candidate then picks clean onto the tip. Complete
    # and minimal (completed()). Alone and chained conflict: the earlier
    # candidates that touch its paths.
    after: tuple[str, ...] = ()


def plan_chain(
    scratch: Scratch,
    commits: Mapping[str, Commit],
    own: Mapping[str, tuple[Change, ...]],
    alone: Mapping[str, Outcome],
    tip_tree: str,
    names: Sequence[str],
    trials: Collection[str] = (),
    *,
    beside: bool = True,
    reader: TreeReader | None = None,
) -> dict[str, LinePlan]:
    """Pick a line's candidates (`names`, in unstable order) onto a virtual
    branch that takes each clean one; `alone` is each one's pick onto the tip.
    `trials` (the last of `names`) are tried on the branch but not taken.
    `beside`: the `after` lists are completed on a thread of their own,
    beside the branch (False: after it, on this one).

    The chained merge is skipped, and the alone pick stands for it, when the
    candidate touches no path the virtual branch changed: three-way merges
    of disjoint paths do not interact, so the result is the same. Not when
    files come or go on both sides (or the candidate conflicts alone while
    the branch adds or deletes files): git could then pair renames or see a
    directory rename differently.
    """
    plans: dict[str, LinePlan] = {}
    before: dict[str, tuple[str, ...]] = {}  # what the branch had taken when each candidate came
    picks = OntoTip(scratch, commits, own, tip_tree, reader if reader is not None else TreeReader(scratch))
    # the tip's directories on every candidate's paths, read at once (one `cat-file` a depth)
    picks.reader.load((tip_tree, ch.path) for n in names for ch in own.get(commits[n].id, ()))
    foresight = Foresight(picks, alone, names, trials, beside=beside)
    try:
        replay = Replay(picks, {commits[n].id: alone[n] for n in names})
        ids = [commits[n].id for n in names]
        steps = _chained(VirtualBranch(picks), commits, own, alone, names, trials, plans, before, foresight.wait)
        if not beside:
            for _ in steps:
                pass
            return completed(replay, ids, names, plans, before)
        # Each `after` is completed beside the chain, one candidate behind
        # it: the two wait on different merges, and a candidate's completion
        # needs only what the chain and the completion said of the ones before it.
        arrived: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        completing = background(lambda: completed(replay, ids, names, plans, before, _until_none(arrived)), "after")
        try:
            for name in steps:
                arrived.put(name)
        except BaseException:
            arrived.put(None)
            completing.close()  # the chain's own error wins
            raise
        arrived.put(None)
        return completing.result()
    finally:
        foresight.close()


def _chained(
    branch: VirtualBranch,
    commits: Mapping[str, Commit],
    own: Mapping[str, tuple[Change, ...]],
    alone: Mapping[str, Outcome],
    names: Sequence[str],
    trials: Collection[str],
    plans: dict[str, LinePlan],
    before: dict[str, tuple[str, ...]],
    ready: Callable[[str], None],
) -> Iterator[str]:
    """Each candidate picked onto the branch in turn, once `ready` says so:
    its plan (and what the branch had taken before it) written, then its
    name yielded."""
    for name in names:
        ready(name)
        c = commits[name]
        single = alone[name]
        if single.failure is not None:  # nothing is known of it: it stays off the branch
            plans[name] = LinePlan(single.pick(c.merge), single.pick(c.merge))
            yield name
            continue
        chained, chained_pick, footprint = branch.pick(c, single, own.get(c.id, ()))
        after = branch.sharing(footprint) if not single.clean and chained.clean else ()
        before[name] = branch.taken_ids()
        if chained.clean and chained.changes and name not in trials:
            branch.take(c.id, chained, footprint, on_tip=chained is single)
        plans[name] = LinePlan(single.pick(c.merge), chained_pick, after)
        yield name


class Foresight:
    """The virtual branch's picks worked out ahead, into the memo, a level
    at a time: the file merges of a level's picks in one merge-tree. On a
    thread of its own (`beside`, else here, before the chain): the chain
    asks wait() before it picks a candidate, and waits only for that
    candidate's level, so the `after` lists start while later levels merge.

    Picked path by path (backport.verdict.batch), a candidate depends only
    on the branch's entries at its paths: on the earlier candidates that
    share a path with it. Its level is one more than theirs, so a level's
    candidates share no path, and each level's picks need only what the
    levels below decided. The chain then finds its picks in the memo, which
    is keyed by the very entries a pick saw: a guess that went wrong costs
    a merge, never a wrong answer. On the Xen 4.21.1..2 window the chain
    had 115 merges to do one after another; foreseen, they are 24 levels,
    and 32 merge-trees.

    What a merge of the whole trees does (a candidate that adds, deletes or
    renames, on paths the branch changed) cannot be foreseen: the levels
    end at the first such candidate.
    """

    def __init__(
        self,
        picks: OntoTip,
        alone: Mapping[str, Outcome],
        names: Sequence[str],
        trials: Collection[str],
        *,
        beside: bool,
    ) -> None:
        self._levels = _levels(picks, alone, names)
        self._level_of = {name: i for i, group in enumerate(self._levels) for name, _ in group}
        self._done = -1  # the levels worked out: 0 to this
        self._moved = threading.Condition()
        run = partial(self._run, picks, alone, trials)
        self._job = background(run, "foresee") if beside else None
        if self._job is None:
            run()

    def wait(self, name: str) -> None:
        """Until the picks of `name`'s level are in the memo (or foresight gave up)."""
        level = self._level_of.get(name)
        if level is not None:
            with self._moved:
                self._moved.wait_for(lambda: self._done >= level)

    def close(self) -> None:
        """Wait for the thread; its error, if any, is dropped: the chain merges what it did not."""
        if self._job is not None:
            self._job.close()

    def _run(self, picks: OntoTip, alone: Mapping[str, Outcome], trials: Collection[str]) -> None:
        try:
            branch: Overlay = {}  # what the branch is foreseen to have changed at the paths decided so far
            for i, group in enumerate(self._levels):
                _foresee_level(picks, alone, group, trials, branch)
                with self._moved:
                    self._done = i
                    self._moved.notify_all()
        finally:
            with self._moved:
                self._done = len(self._levels)
                self._moved.notify_all()


def _levels(picks: OntoTip, alone: Mapping[str, Outcome], names: Sequence[str]) -> list[list[tuple[str, set[str]]]]:
    """The candidates by level (Foresight), each with the paths it involves."""
    levels: list[list[tuple[str, set[str]]]] = []
    level_of: dict[str, int] = {}  # path: the level of the last candidate involving it
    for name in names:
        single = alone[name]
        if single.failure is not None:  # it stays off the branch
            continue
        commit = picks.commits[name]
        changes = picks.own.get(commit.id, ())
        paths = _footprint(single, changes)
        level = max((level_of[p] + 1 for p in paths if p in level_of), default=0)
        if level and not modifies_only(commit, changes):
            break
        level_of.update(dict.fromkeys(paths, level))
        levels[len(levels) : level + 1] = [[] for _ in range(level + 1 - len(levels))]
        levels[level].append((name, paths))
    return levels


def _foresee_level(
    picks: OntoTip,
    alone: Mapping[str, Outcome],
    group: Sequence[tuple[str, set[str]]],
    trials: Collection[str],
    branch: Overlay,
) -> None:
    """One level's picks into the memo, and what they change onto `branch`."""
    asked = [(name, paths & branch.keys()) for name, paths in group if paths & branch.keys()]
    wanted = [(c := picks.commits[n], picks.own.get(c.id, ()), {p: branch[p] for p in on}) for n, on in asked]
    outcomes = picks_on_overlays(picks.scratch, picks.reader, picks.tip_tree, wanted, picks.memo)
    found = {name: outcome for (name, _), outcome in zip(asked, outcomes, strict=True)}
    for name, _ in group:
        outcome = found[name] if name in found else alone[name]
        if outcome is not None and outcome.clean and outcome.changes and name not in trials:
            branch.update(overlaid({}, outcome.changes))


def _footprint(single: Outcome, changes: tuple[Change, ...]) -> set[str]:
    """The paths a candidate involves: what it changes, and what its pick onto the tip changed or conflicted on."""
    return single.footprint() | {ch.path for ch in changes}


def _until_none(arrived: queue.SimpleQueue[str | None]) -> Iterator[str]:
    """The names the chain hands over, in its order, until it says it is done."""
    while (name := arrived.get()) is not None:
        yield name


def completed(
    replay: Replay,
    ids: Sequence[str],
    names: Sequence[str],
    plans: dict[str, LinePlan],
    before: Mapping[str, tuple[str, ...]],
    arrivals: Iterable[str] | None = None,
) -> dict[str, LinePlan]:
    """Each `after` made complete and minimal, and checked.

    The chain names, for a candidate that is clean only on the virtual
    branch, the taken candidates that share a path with it. That list can
    fall short: one of them may itself conflict until its own prerequisites
    go first (on real Xen, 19 of 71 such lists). So: the prerequisites' own
    lists are added (transitively, as every earlier list is complete
    already), and the whole is replayed, pick after pick from the line's
    tip, as a coordinator would pick it. Should that not come out clean
    (git paired a rename we cannot see), everything taken before the
    candidate does: that is the branch it picked clean on. Then what the
    replay does without is left out (trimmed), while the list has at most
    MINIMIZE commits; a longer list stays complete but is not trimmed.

    `arrivals`, when given, hands over the names in order as the chain
    has planned them (plan_chain); else every name is planned already.
    """
    position = {commit: i for i, commit in enumerate(ids)}
    id_of = dict(zip(names, ids, strict=True))
    done: dict[str, tuple[str, ...]] = {}
    for name in arrivals if arrivals is not None else names:
        commit, plan = id_of[name], plans[name]
        if not plan.after or plan.alone.clean or not plan.chained.clean:
            done[commit] = ()
            continue
        closure = set(plan.after).union(*(done.get(p, ()) for p in plan.after))
        chosen = sorted(closure, key=position.__getitem__)
        if not replay.clean([*chosen, commit]):
            chosen = list(before[name])
        if replay.clean([*chosen, commit]) and len(chosen) <= MINIMIZE:
            chosen = trimmed(replay, chosen, commit, done)
        done[commit] = tuple(chosen)
        plans[name] = replace(plan, after=tuple(chosen))
    return plans


def trimmed(replay: Replay, chosen: list[str], commit: str, lists: Mapping[str, Sequence[str]]) -> list[str]:
    """`chosen` without what the replay of `chosen` then `commit` does
    without, one commit at a time, newest first: a commit goes first
    because of what comes after it, and newest first keeps the replays'
    start, whose trees are kept, the same. What comes out is minimal: leave
    any one commit out and a pick conflicts.

    A commit found needed brings its own list (`lists`, minimal already):
    those are needed for it to pick clean, so they are not replayed again.
    On real Xen a series of a dozen commits each needing all the earlier
    ones made this the costliest part of a cold check (n^3 merges without,
    about n^2 with)."""
    needed: set[str] = set()
    for prerequisite in reversed(list(chosen)):
        if prerequisite in needed:
            continue
        fewer = [p for p in chosen if p != prerequisite]
        if replay.clean([*fewer, commit]):
            chosen = fewer
        else:
            needed.update((prerequisite, *lists.get(prerequisite, ())))
    return chosen


class OntoTip:
    """What picking a line's candidates onto its tip, with an overlay of
    entries on top, needs: the picks themselves for the virtual branch and
    the replays alike, and what they share (the tip's directories read, and
    the picks already worked out by what the tree has at a commit's paths)."""

    def __init__(
        self,
        scratch: Scratch,
        commits: Mapping[str, Commit],
        own: Mapping[str, tuple[Change, ...]],
        tip_tree: str,
        reader: TreeReader,
    ) -> None:
        self.scratch = scratch
        self.commits = commits
        self.own = own
        self.tip_tree = tip_tree
        self.reader = reader
        self.memo: Memo = {}  # the same pick onto the same files, whichever asks (pick_on_overlay)

    def pick(self, commit: Commit, overlay: Overlay) -> Outcome:
        """`commit` picked onto the tip with `overlay` on top: path by path
        where it only modifies files (backport.verdict.batch), else by git's
        merge of the whole trees, the overlay written out."""
        changes = self.own.get(commit.id, ())
        outcome = pick_on_overlay(self.scratch, self.reader, self.tip_tree, overlay, commit, changes, self.memo)
        if outcome is None:
            outcome = self.scratch.merge(commit, self.reader.written(self.tip_tree, overlay))
        return outcome


_Prefixes = dict[str, tuple["Overlay | None", "_Prefixes"]]


class Replay:
    """Picks replayed one after another from a line's tip, as a coordinator
    following `after` would do them: whether a sequence comes out clean.
    Every prefix's result is kept (as the entries it changed on the tip, in
    a tree of prefixes), so sequences that share a start share the picks; a
    sequence of one is the candidate's pick onto the tip (`alone`), known
    already unless it came from an earlier run's cache (its merged objects
    are gone then)."""

    def __init__(self, picks: OntoTip, alone: Mapping[str, Outcome]) -> None:
        self.picks = picks
        # the prefixes replayed, as a tree: commit -> (the state after it, what came next)
        self.root: _Prefixes = {}
        for commit, outcome in alone.items():
            if outcome.failure is None and (not outcome.clean or outcome.tree in picks.scratch.live):
                self.root[commit] = (overlaid({}, outcome.changes) if outcome.clean else None, {})

    def clean(self, commits: Sequence[str]) -> bool:
        return self._state(commits) is not None

    def _state(self, commits: Sequence[str]) -> Overlay | None:
        """Down the tree of prefixes, one pick where a prefix is new: a loop
        and no copy of the prefix, since an `after` list can be thousands of
        commits long. A conflict ends it (None): what follows cannot be clean."""
        state: Overlay = {}
        level = self.root
        for name in commits:
            known = level.get(name)
            if known is None:
                known = level[name] = (self._pick(self.picks.commits[name], state), {})
            after, level = known
            if after is None:
                return None
            state = after
        return state

    def _pick(self, commit: Commit, below: Overlay) -> Overlay | None:
        """What picking `commit` after `below` leaves, None on conflict."""
        outcome = self.picks.pick(commit, below)
        if not outcome.clean or outcome.failure is not None:
            return None
        return overlaid(below, outcome.changes)


class VirtualBranch:
    """A line's tip plus the candidates taken so far, kept as the entries
    they changed on the tip (an overlay). A candidate that only modifies
    files the branch has as files is picked onto it path by path
    (backport.verdict.batch); the branch is written out as a tree only for
    any other (one that adds, deletes or renames, or modifies a file the
    branch deleted or made a directory or a symlink), whose merge git does whole.

    A candidate skipped as disjoint is taken as its alone pick's changes
    against the tip: its paths are disjoint from everything taken before,
    so writing those changes over the branch is the merge.
    """

    def __init__(self, picks: OntoTip) -> None:
        self.picks = picks
        self.overlay: Overlay = {}  # path: entry where the branch differs from the tip (None: deleted)
        self.structural = False  # the branch adds or deletes files
        self.taken: list[tuple[str, set[str]]] = []  # (commit, paths it involves), in order
        self._stale: list[str] = []  # taken from an earlier run's cache: their merged objects are gone

    def pick(self, c: Commit, single: Outcome, changes: tuple[Change, ...]) -> tuple[Outcome, Pick, set[str]]:
        """`c` picked onto the branch (`single`: its pick onto the tip, `changes`:
        its own): the outcome, as a Pick, and the paths it involves. The alone
        pick stands for it while nothing is taken, and when it touches no path
        the branch changed and no file comes or goes on both sides (see plan_chain)."""
        footprint = _footprint(single, changes)
        if not self.taken:
            return single, single.pick(c.merge), footprint
        risky = self.structural and (structural(changes) or not single.clean)
        if not footprint & self.overlay.keys() and not risky:
            return single, replace(single.pick(c.merge), tree=None), footprint
        self._refresh()
        chained = self.picks.pick(c, self.overlay)
        return chained, chained.pick(c.merge), footprint

    def sharing(self, footprint: set[str]) -> tuple[str, ...]:
        """The taken commits that share a path with `footprint`: what a commit
        clean only on the branch needs first. When none does (git followed a
        rename we do not see), all of them: we cannot tell which."""
        return tuple(a for a, paths in self.taken if paths & footprint) or self.taken_ids()

    def taken_ids(self) -> tuple[str, ...]:
        return tuple(a for a, _ in self.taken)

    def take(self, commit: str, outcome: Outcome, footprint: set[str], *, on_tip: bool) -> None:
        """`outcome` onto the branch: its changes are against the tip
        (`on_tip`, a skipped candidate's alone pick) or against the branch."""
        self.overlay = overlaid(self.overlay, outcome.changes)
        self.structural = self.structural or structural(outcome.changes)
        self.taken.append((commit, footprint | {ch.path for ch in outcome.changes}))
        if on_tip and outcome.tree not in self.picks.scratch.live:
            self._stale.append(commit)

    def _refresh(self) -> None:
        """Merge again what came from an earlier run's cache, before git
        reads the branch: the same merges give the same objects."""
        for commit in self._stale:
            self.picks.scratch.merge(self.picks.commits[commit], self.picks.tip_tree)
        self._stale = []
