"""What each stable line took from unstable, and when: the labels `suggest` learns from.

A line's commit that names its original (`(cherry picked from commit X)`,
Xen's `master commit: X`, Linux's `commit X upstream.`) is a backport of X to
that line, known from the moment the line's commit was made. Those are read
by backport.verdict.detect (the Detector's per-line index, cached by tip).
A line commit that names nothing is matched by patch-id, but only against
the unstable commits with the same subject: a patch-id for every unstable
commit would cost a diff of the whole history, and a backport whose patch
is unchanged almost always keeps its subject too.

Every label carries the date of the line commit that made it, so a model
trained "as of" a date sees only the backports that existed then.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from backport.git import Git
from backport.models import Line, Version
from backport.record import record
from backport.verdict.detect import PATCH_ID, Detector, carriers

TYPE_CHECKING = False
if TYPE_CHECKING:
    from backport.cache import Cache


@record
class Backport:
    """Unstable commit `commit` reached line `version` as `carrier` at `when`."""

    commit: str
    version: Version
    carrier: str
    when: int  # the carrier's committer date, seconds since the epoch
    evidence: str


@record
class LineHistory:
    """A line's own commits: what a line looked like at any date."""

    version: Version
    fork: str | None  # where it left unstable
    forked: int  # committer date of the fork point (0 when unknown)
    commits: tuple[str, ...]  # its own non-merge commits, oldest first
    dates: tuple[int, ...]  # their committer dates
    subjects: tuple[str, ...]  # their subjects

    def tip_at(self, when: int) -> str | None:
        """The line's newest own commit made by `when` (its fork if none)."""
        found = self.fork
        for commit, date in zip(self.commits, self.dates, strict=True):
            if date <= when:
                found = commit
        return found


@record
class Labels:
    backports: tuple[Backport, ...]  # oldest first
    lines: Mapping[Version, LineHistory]

    def taken(self, before: int | None = None) -> dict[tuple[str, Version], Backport]:
        """(unstable commit, line) -> its first backport, made at or before `before`."""
        found: dict[tuple[str, Version], Backport] = {}
        for b in self.backports:
            if before is not None and b.when > before:
                continue
            found.setdefault((b.commit, b.version), b)
        return found


def read_labels(
    git: Git,
    unstable: str,
    lines: Sequence[Line],
    subjects: Mapping[str, Sequence[str]],
    cache: Cache | None = None,
) -> Labels:
    """Backports of every line in `lines`. `subjects`: unstable commits by
    subject, the pool patch-id matches are looked for in."""
    detector = Detector(git, unstable, lines, base=None, cache=cache)
    indexes = detector.indexes()
    resolved = detector.resolved()
    dated = _line_commits(git, [(line.commit, indexes[line.version].fork) for line in lines])
    histories: dict[Version, LineHistory] = {}
    found: list[Backport] = []
    unexplained: dict[str, list[tuple[Version, str]]] = {}
    for line in lines:
        index = indexes[line.version]
        own = [c for c in index.commits if c in dated]
        forked = dated.get(index.fork, (0, ""))[0] if index.fork else 0
        histories[line.version] = LineHistory(
            line.version,
            index.fork,
            forked,
            tuple(own),
            tuple(dated[c][0] for c in own),
            tuple(dated[c][1] for c in own),
        )
        named = carriers(index, resolved)
        for commit, (carrier, evidence) in named.items():
            if carrier in dated:
                found.append(Backport(commit, line.version, carrier, dated[carrier][0], evidence))
        explained = {carrier for carrier, _ in named.values()} | {c for _, c, _ in index.references}
        for commit in own:
            if commit not in explained:
                unexplained.setdefault(dated[commit][1], []).append((line.version, commit))
    found.extend(_by_patch_id(detector, unexplained, subjects, dated))
    found.sort(key=lambda b: (b.when, b.carrier))
    return Labels(tuple(found), histories)


def _by_patch_id(
    detector: Detector,
    unexplained: Mapping[str, Sequence[tuple[Version, str]]],
    subjects: Mapping[str, Sequence[str]],
    dated: Mapping[str, tuple[int, str]],
) -> list[Backport]:
    """Line commits without a reference line, matched to unstable commits of the same subject."""
    pool = sorted({c for subject in unexplained for c in subjects.get(subject, ())})
    if not pool:
        return []
    detection = detector.detect(pool)
    wanted = {(version, carrier) for pairs in unexplained.values() for version, carrier in pairs}
    found = []
    for (commit, version), applied in detection.applied.items():
        if applied.evidence == PATCH_ID and (version, applied.commit) in wanted:
            found.append(Backport(commit, version, applied.commit, dated[applied.commit][0], PATCH_ID))
    return found


def _line_commits(git: Git, spans: Iterable[tuple[str, str | None]]) -> dict[str, tuple[int, str]]:
    """Committer date and subject of every line commit and fork point, in one `git log`.

    A line's commits descend from its fork and are no ancestor of another
    line's fork (stable work does not flow back into unstable), so
    `tips ^forks` is exactly their union."""
    spans = list(spans)
    tips = [tip for tip, _ in spans]
    forks = sorted({fork for _, fork in spans if fork})
    found: dict[str, tuple[int, str]] = {}
    if not tips:
        return found
    args = ["log", "-z", "--no-color", "--format=%H%x00%ct%x00%s", *tips, *(f"^{f}" for f in forks), "--"]
    for sha, when, subject in git.records(args, 3):
        found[sha.decode()] = (int(when), subject.decode("utf-8", "replace"))
    if forks:
        args = ["log", "-z", "--no-walk", "--no-color", "--format=%H%x00%ct%x00%s", *forks, "--"]
        for sha, when, subject in git.records(args, 3):
            found[sha.decode()] = (int(when), subject.decode("utf-8", "replace"))
    return found
