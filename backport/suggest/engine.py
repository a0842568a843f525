"""From a repository's history to scored (commit, line) rows, as known at a date.

`Knowledge` is everything read once (unstable's commits with their changes,
the lines' backports, the trees at the lines' fork points); `as_of` cuts it
back to what existed at a date, so training and ranking never see a commit,
a backport or a line made later. A row is one unstable commit on one line,
seen at a moment `at`: its features use only what was known then.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence

from backport.git import Git
from backport.models import Line, Version
from backport.record import record, replace
from backport.suggest.features import Commit, bucket, fork_trees, presence, read_history, series
from backport.suggest.labels import Backport, Labels, LineHistory, read_labels
from backport.suggest.phase import DAY, RECENT, LinePace, Phase, phase_at, phase_tokens

TYPE_CHECKING = False
if TYPE_CHECKING:
    from backport.cache import Cache

ALIVE = 365 * DAY  # a line with no commit for this long is no longer maintained
MATURE = 60 * DAY  # a commit younger than this may still be taken: not a negative yet
LAG = 14 * DAY  # a coordinator looks at a commit within two weeks of its landing
TRAIN_LINES = 8  # the newest lines learned from


@record
class Knowledge:
    commits: tuple[Commit, ...]  # unstable, oldest first
    labels: Labels
    trees: Mapping[str, Mapping[str, str]]  # fork commit -> {path: blob}
    resolved: Mapping[str, str]  # Fixes:/revert ids as written -> full id
    end: int  # the latest date in what was read
    below: Mapping[Version, frozenset[str]] = {}  # per line, the commits read that its fork already has

    def as_of(self, when: int) -> Knowledge:
        """What existed at `when`: later commits, backports and lines are gone."""
        commits = tuple(c for c in self.commits if c.committed <= when)
        backports = tuple(b for b in self.labels.backports if b.when <= when)
        lines = {v: _cut_line(h, when) for v, h in self.labels.lines.items() if h.forked <= when}
        cut = Labels(backports, lines)
        return Knowledge(commits, cut, self.trees, self.resolved, min(self.end, when), self.below)


def _cut_line(history: LineHistory, when: int) -> LineHistory:
    keep = [i for i, d in enumerate(history.dates) if d <= when]
    return replace(
        history,
        commits=tuple(history.commits[i] for i in keep),
        dates=tuple(history.dates[i] for i in keep),
        subjects=tuple(history.subjects[i] for i in keep),
    )


@record
class Row:
    commit: Commit
    version: Version
    at: int  # the moment the row is seen
    tokens: tuple[str, ...]
    phase: Phase
    fixes_on_line: bool


class Rows:
    """Builds rows over one Knowledge (already cut back to its date)."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.k = knowledge
        self.by_id = {c.id: c for c in knowledge.commits}
        self.series = series(knowledge.commits)
        self.backports: dict[tuple[str, Version], Backport] = knowledge.labels.taken()
        self.paces = self._paces()
        self.dates = {v: sorted(h.dates) for v, h in knowledge.labels.lines.items()}
        self.reverted = {self.k.resolved.get(w) for c in knowledge.commits for w in c.reverts} - {None}
        self.lines_of: dict[str, list[tuple[int, Version]]] = {}
        for (commit, version), b in self.backports.items():
            self.lines_of.setdefault(commit, []).append((b.when, version))
        # per line, what its backports were about, in the order they were made
        self.intake: dict[Version, list[tuple[int, frozenset[str]]]] = {}
        for b in knowledge.labels.backports:
            original = self.by_id.get(b.commit)
            if original is not None:
                self.intake.setdefault(b.version, []).append((b.when, _areas(original)))
        self.intake_times = {v: [w for w, _ in taken] for v, taken in self.intake.items()}
        self.fixed_by = self._fixed_by()
        # per key (a file, an author, ...: _keys): when each commit with it
        # landed, and when each of them was first taken by a line
        landed: dict[str, list[int]] = {}
        first_taken: dict[str, list[int]] = {}
        for c in knowledge.commits:
            taken_at = min((w for w, _ in self.lines_of.get(c.id, ())), default=None)
            for keys in _keys(c).values():
                for key in keys:
                    landed.setdefault(key, []).append(c.committed)
                    if taken_at is not None:
                        first_taken.setdefault(key, []).append(taken_at)
        self.landed = {key: sorted(v) for key, v in landed.items()}
        self.first_taken = {key: sorted(v) for key, v in first_taken.items()}

    def _paces(self) -> dict[Version, LinePace]:
        """Each line's pace: when it took backports, and which were security fixes."""
        by_line: dict[Version, list[tuple[int, bool]]] = {}
        for b in self.k.labels.backports:
            original = self.by_id.get(b.commit)
            by_line.setdefault(b.version, []).append((b.when, bool(original and original.security)))
        return {v: LinePace.of(h.forked, by_line.get(v, ())) for v, h in self.k.labels.lines.items()}

    def _fixed_by(self) -> dict[str, list[int]]:
        """commit -> when each later commit whose Fixes: names it landed."""
        fixed_by: dict[str, list[int]] = {}
        for c in self.k.commits:
            for written in c.fixes:
                target = self.k.resolved.get(written)
                if target:
                    fixed_by.setdefault(target, []).append(c.committed)
        return fixed_by

    # -- which lines, which commits ------------------------------------------

    def alive(self, version: Version, when: int) -> bool:
        """Maintained at `when`: forked by then, and a commit of its own within ALIVE before."""
        history = self.k.labels.lines[version]
        if history.forked > when:
            return False
        dates = self.dates[version]
        i = bisect_right(dates, when)
        last = max(dates[i - 1], history.forked) if i else history.forked
        return when - last <= ALIVE

    def rank(self, version: Version, when: int) -> int:
        """0 for the newest line at `when`, 1 for the one before, ..."""
        forked = self.k.labels.lines[version].forked
        return sum(1 for h in self.k.labels.lines.values() if forked < h.forked <= when)

    def taken(self, commit: str, version: Version, by: int | None = None) -> bool:
        b = self.backports.get((commit, version))
        return b is not None and (by is None or b.when <= by)

    def candidates(self, version: Version, start: int, end: int) -> Iterator[Commit]:
        """Unstable commits that landed on (start, end] and that the line's
        fork does not have (by ancestry: dates can tie or skew)."""
        below = self.k.below.get(version, frozenset())
        for c in self.k.commits:
            if start < c.committed <= end and c.id not in below:
                yield c

    # -- features --------------------------------------------------------------

    def row(self, commit: Commit, version: Version, at: int) -> Row:
        """`commit` on line `version`, with what was known at `at`."""
        history = self.k.labels.lines[version]
        tokens = list(commit.tokens)
        tree = self.k.trees.get(history.fork or "", {})
        tokens.extend(presence(commit, tree))
        on_line = self._fixes(commit, version, history, at, tokens)
        tokens.extend(self._series(commit, version, history, at))
        elsewhere = [v for when, v in self.lines_of.get(commit.id, ()) if when <= at and v != version]
        if elsewhere:
            tokens.append("taken:newer" if any(v > version for v in elsewhere) else "taken:older")
            tokens.append(f"taken:{min(len(elsewhere), 3)}")
        if any(when <= at for when in self.fixed_by.get(commit.id, ())):
            tokens.append("fixed-later")
        tokens.append(f"waited:{bucket((at - commit.committed) / DAY, (2, 5, 9))}")
        tokens.extend(self._lately(commit, version, at))
        tokens.extend(family + self._rate(keys, commit, at) for family, keys in _keys(commit).items())
        phase = phase_at(self.paces[version], at)
        tokens.extend(phase_tokens(phase, self.rank(version, at), commit.security, on_line))
        return Row(commit, version, at, tuple(tokens), phase, on_line)

    def _series(self, commit: Commit, version: Version, history: LineHistory, at: int) -> list[str]:
        """Its series: how long, and whether another of its patches was taken
        by the line, fixes something on the line or names an advisory. The
        patches of a series travel together: a fix's preparatory patches go
        with it. The last two, on Xen (benchmarks/eval_suggest.py, pooled):
        cutoff AP 0.624 to 0.638, precision at recall 0.6 0.567 to 0.599;
        replay AP 0.409 to 0.410, precision at recall 0.6 0.300 to 0.304."""
        mates = [self.by_id[m] for m in self.series.get(commit.id, ()) if m != commit.id and m in self.by_id]
        if not mates:
            return ["series:alone"]
        tokens = [f"series:{min(len(mates) + 1, 6)}"]
        if any(self.taken(m.id, version, at) for m in mates):
            tokens.append("series:mate-taken")
        if any(self._fixes(m, version, history, at, []) for m in mates):
            tokens.append("series:mate-fixes")
        if any(m.security for m in mates):
            tokens.append("series:mate-security")
        return tokens

    def _rate(self, keys: Iterable[str], commit: Commit, at: int) -> str:
        """How often the earlier commits with one of `keys` (its files, its
        author: _keys) were backported, as known at `at` (taken by a line by
        then): the highest rate among the keys seen five times or more.
        Xen's cutoff split (benchmarks/eval_suggest.py), pooled: AP 0.610
        to 0.624, precision at recall 0.6 0.528 to 0.567, at recall 0.8
        0.311 to 0.343, with the files' and the author's."""
        best = -1.0
        for key in keys:
            n = bisect_right(self.landed.get(key, []), min(at, commit.committed) - 1)
            if n >= 5:
                best = max(best, min(bisect_right(self.first_taken.get(key, []), at), n) / n)
        return "rate:few" if best < 0 else f"rate:{bucket(best, (0.05, 0.15, 0.3, 0.5))}"

    def _lately(self, commit: Commit, version: Version, at: int) -> list[str]:
        """How much of what the line took lately is like this commit: the same
        area (subject prefix, directory) or the same author. A line that took
        CI changes last month takes the next one; one that took none, not."""
        intake = self.intake.get(version, [])
        times = self.intake_times.get(version, [])
        recent = intake[bisect_right(times, at - RECENT) : bisect_right(times, at)]
        mine = _areas(commit)
        author = f"a:{commit.author}"
        area = sum(1 for _, areas in recent if (areas & mine) - {author})
        same_author = sum(1 for _, areas in recent if author in areas)
        return [f"lately:{bucket(area, (1, 3, 10))}", f"lately-author:{bucket(same_author, (1, 3, 10))}"]

    def _fixes(self, commit: Commit, version: Version, history: LineHistory, at: int, tokens: list[str]) -> bool:
        """Whether what `commit` fixes is on the line (there at the fork, or backported by `at`)."""
        if not commit.fixes:
            return False
        targets = [self.k.resolved.get(w) for w in commit.fixes]
        known = [t for t in targets if t]
        on_line = False
        for target in known:
            original = self.by_id.get(target)
            # older than what was read: below every fork, on every line
            there = original is None or original.committed <= history.forked
            if there or self.taken(target, version, at):
                on_line = True
        tokens.append("fixes:on-line" if on_line else "fixes:absent" if known else "fixes:unknown")
        return on_line


def _keys(commit: Commit) -> dict[str, set[str]]:
    """What a commit's backport rates are kept by (Rows._rate): its files,
    its author. Tried on Xen's cutoff split and left out, for no gain:
    subject prefixes, reviewers, directories three deep."""
    return {"file": {"f:" + p for p in commit.paths}, "author": {"a:" + commit.author}}


def _areas(commit: Commit) -> frozenset[str]:
    """What a commit is about, coarsely: its subject prefixes, its author
    and the directories it changes, two levels deep."""
    found = {t for t in commit.tokens if t.startswith("s:")}
    found.update("p:" + "/".join(p.split("/")[:2]) for p in commit.paths)
    found.add(f"a:{commit.author}")
    return frozenset(found)


def training_rows(rows: Rows, when: int, *, lag: int = LAG, versions: Sequence[Version] | None = None) -> list[Row]:
    """Rows to learn from at `when`: each line's commits old enough that
    their fate is known, seen up to `lag` after they landed; with a lag,
    those already taken by then are left out, as a ranking at that moment would."""
    if versions is None:
        known = sorted(rows.k.labels.lines, key=lambda v: rows.k.labels.lines[v].forked)
        versions = known[-TRAIN_LINES:]
    found = []
    for version in versions:
        for commit in rows.candidates(version, 0, when - MATURE):
            # seen at the first of the fortnightly looks after it landed:
            # between 0 and `lag` later, spread evenly over the commits
            at = min(commit.committed + (int(commit.id[:8], 16) % lag if lag else 0), when)
            if not rows.alive(version, at) or (lag and rows.taken(commit.id, version, at)):
                continue
            if commit.id in rows.reverted:
                continue
            found.append(rows.row(commit, version, at))
    return found


def label(rows: Rows, row: Row, by: int | None = None) -> bool:
    return rows.taken(row.commit.id, row.version, by)


def read_knowledge(git: Git, unstable: str, lines: Sequence[Line], cache: Cache | None = None) -> Knowledge:
    """Read everything `suggest` learns from: unstable's commits since the
    oldest line's fork (one `git log --raw`), every line's backports, and
    the tree at each fork point."""
    forks = {line.version: git.merge_base(unstable, line.commit) for line in lines}
    stop = [f for f in forks.values() if f]
    oldest = min(stop, key=lambda f: int(git.out(["log", "-1", "--format=%ct", f, "--"])), default=None)
    commits = read_history(git, unstable, [oldest] if oldest else [])
    subjects: dict[str, list[str]] = {}
    for c in commits:
        subjects.setdefault(c.subject, []).append(c.id)
    labels = read_labels(git, unstable, lines, subjects, cache)
    trees = fork_trees(git, stop)
    written = {w for c in commits for w in (*c.fixes, *c.reverts)}
    resolved = git.resolve_many(sorted(written))
    end = max([c.committed for c in commits] + [d for h in labels.lines.values() for d in h.dates] or [0])
    below = {v: _below(git, f, oldest) for v, f in forks.items() if f and oldest}
    return Knowledge(tuple(commits), labels, trees, resolved, end, below)


def _below(git: Git, fork: str, oldest: str) -> frozenset[str]:
    """The commits of `fork ^oldest`: what was read that the line has from unstable."""
    if fork == oldest:
        return frozenset()
    return frozenset(git.out(["rev-list", "--no-merges", fork, f"^{oldest}", "--"]).split())
