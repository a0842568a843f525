"""The coordinator's view of a CheckResult: per line, then per owner.

Pure grouping of verdict records; what needs git (which backports went in
since a release, reproduce commands) is handed in by the command, so every
renderer (text, Markdown, HTML, mail) shows the same facts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from backport.models import (
    APPLIED,
    NOT_NEEDED,
    PENDING,
    REVERTED,
    SKIPPED,
    UNKNOWN,
    CheckResult,
    Line,
    Problem,
    Target,
    UntaggedFix,
    Verdict,
    Version,
)
from backport.record import record
from backport.verdict.owners import address

# How a conflict is reproduced by hand: (commit, line ref) -> a shell command.
Reproducer = Callable[[str, str], str]


@record
class Entry:
    """One candidate on one line, as a row of the report."""

    line: Line
    verdict: Verdict
    target: Target
    reproduce: str | None = None  # for conflicts: a command that shows the conflict

    @property
    def commit(self) -> str:
        return self.verdict.candidate.commit

    @property
    def subject(self) -> str:
        return self.verdict.candidate.subject

    @property
    def owners(self) -> tuple[str, ...]:
        """Who must act; the author when MAINTAINERS names nobody."""
        return self.target.owners or (self.verdict.candidate.author,)

    @property
    def resolve(self) -> str:
        """The command that picks this one alone (with what it needs first):
        for a conflict, where its resolution starts."""
        return pick_command(self.line.version, [self.commit])


@record
class LineReport:
    line: Line
    went_in_since_release: int  # candidates applied after the last point release
    clean: tuple[Entry, ...]  # pending, picks clean: unstable order
    conflict: tuple[Entry, ...]
    stale: tuple[Entry, ...]  # pending entries of either kind that waited too long
    skipped: tuple[Entry, ...]
    not_needed: tuple[Entry, ...]
    reverted: tuple[Entry, ...]
    applied: int
    unknown: tuple[Entry, ...] = ()  # could not be judged: an object is missing

    @property
    def pending(self) -> tuple[Entry, ...]:
        return self.clean + self.conflict

    @property
    def pick_command(self) -> str:
        """The paste-ready command that picks every clean one, in unstable
        order (the order the simulation chained them in, so a candidate that
        needs an earlier one comes after it), in the line's style."""
        return pick_command(self.line.version)


@record
class Debt:
    """What one person (or several who share it) owes: pending backports across every line."""

    owners: tuple[str, ...]  # "Name <mail>", as first seen
    entries: tuple[Entry, ...]  # line order, then unstable order

    @property
    def owner(self) -> str:
        return self.owners[0]

    @property
    def versions(self) -> tuple[Version, ...]:
        return tuple(sorted({e.line.version for e in self.entries}))

    @property
    def conflicts(self) -> int:
        return sum(1 for e in self.entries if e.target.applies == "conflict")

    @property
    def stale(self) -> int:
        return sum(1 for e in self.entries if e.target.stale)


@record
class Report:
    result: CheckResult
    lines: tuple[LineReport, ...]
    debts: tuple[Debt, ...]  # one per person, most owed first
    clock: str | None = None  # where `now` was set ("git config backport.now"); None: the real clock

    @property
    def shared_debts(self) -> tuple[Debt, ...]:
        """People who owe exactly the same backports, together (co-maintainers
        of one area), so a listing does not repeat itself."""
        groups: dict[tuple[tuple[str, str], ...], list[Debt]] = {}
        for debt in self.debts:
            key = tuple((str(e.line.version), e.commit) for e in debt.entries)
            groups.setdefault(key, []).append(debt)
        return tuple(Debt(tuple(d.owner for d in same), same[0].entries) for same in groups.values())

    @property
    def untagged(self) -> tuple[UntaggedFix, ...]:
        return self.result.untagged_fixes

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self.result.problems

    @property
    def pending(self) -> int:
        return sum(len(line.pending) for line in self.lines)

    @property
    def stale(self) -> int:
        return sum(len(line.stale) for line in self.lines)


def build(
    result: CheckResult,
    *,
    went_in: Mapping[Version, frozenset[str]] | None = None,
    reproduce: Reproducer | None = None,
    clock: str | None = None,
) -> Report:
    """Group `result` for the coordinator.

    `went_in` maps a line to the commits it gained since its last point
    release; `reproduce` builds the command that replays a conflict;
    `clock` says where the run's `now` was set, when it was.
    """
    went_in = went_in or {}
    lines = tuple(
        _line_report(line, result.verdicts, went_in.get(line.version, frozenset()), reproduce)
        for line in result.lines
    )
    return Report(result, lines, _debts(lines), clock)


def pick_command(version: Version, commits: Iterable[str] = ()) -> str:
    """`backport pick --line V [COMMIT...]`: named commits bring their prerequisites along."""
    return " ".join(["backport pick --line", str(version), *commits])


def _line_report(
    line: Line,
    verdicts: Iterable[Verdict],
    since_release: frozenset[str],
    reproduce: Reproducer | None,
) -> LineReport:
    by_state: dict[str, list[Entry]] = {}
    went_in = 0
    for verdict in verdicts:
        for target in verdict.targets:
            if target.version != line.version:
                continue
            command = None
            if target.state == PENDING and target.applies == "conflict" and reproduce:
                command = reproduce(verdict.candidate.commit, line.ref)
            entry = Entry(line, verdict, target, command)
            kind = target.state
            if kind == PENDING:
                kind = "conflict" if target.applies == "conflict" else "clean"
            by_state.setdefault(kind, []).append(entry)
            if target.state == APPLIED and target.applied_as in since_release:
                went_in += 1

    def of(kind: str) -> tuple[Entry, ...]:
        return tuple(by_state.get(kind, ()))

    pending = of("clean") + of("conflict")
    stale = tuple(sorted((e for e in pending if e.target.stale), key=lambda e: -(e.target.age_days or 0)))
    return LineReport(
        line=line,
        went_in_since_release=went_in,
        clean=of("clean"),
        conflict=of("conflict"),
        stale=stale,
        skipped=of(SKIPPED),
        not_needed=of(NOT_NEEDED),
        reverted=of(REVERTED),
        unknown=of(UNKNOWN),
        applied=len(of(APPLIED)),
    )


def _debts(lines: Iterable[LineReport]) -> tuple[Debt, ...]:
    owed: dict[str, list[Entry]] = {}
    names: dict[str, str] = {}
    for line in lines:
        for entry in sorted(line.pending, key=lambda e: e.verdict.candidate.order):
            for owner in entry.owners:
                key = address(owner)
                names.setdefault(key, owner)
                owed.setdefault(key, []).append(entry)
    debts = [Debt((names[key],), tuple(entries)) for key, entries in owed.items()]
    return tuple(sorted(debts, key=lambda d: (-len(d.entries), -d.stale, d.owner.lower())))
