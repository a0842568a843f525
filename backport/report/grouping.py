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
from backport.record import record, replace
from backport.verdict.owners import address

# How a conflict is reproduced by hand: (commit, line ref) -> a shell command.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from backport.suggest.rank import Suggestion, SuggestResult

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
    skipped: tuple[Entry, ...]
    not_needed: tuple[Entry, ...]
    reverted: tuple[Entry, ...]
    applied: int
    unknown: tuple[Entry, ...] = ()  # could not be judged: an object is missing
    suggested: tuple[Suggestion, ...] = ()  # what `backport suggest` ranks first, when the report suggests
    phase: str = ""  # the line's phase in words, when the report suggests

    @property
    def pending(self) -> tuple[Entry, ...]:
        return self.clean + self.conflict

    @property
    def stale(self) -> tuple[Entry, ...]:
        """The pending entries (of either kind) that waited too long: a mark
        on their rows and a count, not a list of its own."""
        return tuple(e for e in self.pending if e.target.stale)

    @property
    def pick_command(self) -> str:
        """The paste-ready command that picks every clean one, in unstable
        order (the order the simulation chained them in, so a candidate that
        needs an earlier one comes after it), in the line's style."""
        return pick_command(self.line.version)


@record
class Debt:
    """What one owner team owes: the pending backports whose owners are
    exactly these people (the co-maintainers of the MAINTAINERS sections
    they touch, or the author), across every line."""

    owners: tuple[str, ...]  # "Name <mail>", as MAINTAINERS lists them
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
    debts: tuple[Debt, ...]  # one per owner team, most owed first; each entry in one
    clock: str | None = None  # where `now` was set ("git config backport.now"); None: the real clock
    web_url: str | None = None  # commit links: a URL with {commit}, or None for no links
    suggestions: SuggestResult | None = None  # when the report suggests

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
    def decisions(self) -> int:
        """Nominations and refusals read from notes (refs/notes/backport),
        which a fresh clone lacks until `backport notes fetch`."""
        return sum(n.source == "note" for v in self.result.verdicts for n in v.nominations)

    @property
    def stale(self) -> int:
        return sum(len(line.stale) for line in self.lines)


def build(
    result: CheckResult,
    *,
    went_in: Mapping[Version, frozenset[str]] | None = None,
    reproduce: Reproducer | None = None,
    clock: str | None = None,
    web_url: str | None = None,
    suggestions: SuggestResult | None = None,
) -> Report:
    """Group `result` for the coordinator.

    `went_in` maps a line to the commits it gained since its last point
    release; `reproduce` builds the command that replays a conflict;
    `clock` says where the run's `now` was set, when it was; `web_url`
    links commit ids to the project's web viewer; `suggestions` fill each
    line's Suggested section.
    """
    went_in = went_in or {}
    lines = tuple(
        _line_report(line, result.verdicts, went_in.get(line.version, frozenset()), reproduce)
        for line in result.lines
    )
    if suggestions is not None:
        lines = tuple(_suggested(line, suggestions) for line in lines)
    return Report(result, lines, _debts(lines), clock, web_url, suggestions)


def _suggested(line: LineReport, suggestions: SuggestResult) -> LineReport:
    """The line with its Suggested section's rows and phase."""
    found = suggestions.for_line(line.line.version)
    if found is None:
        return replace(line, phase="not maintained (no commit of its own in 12 months)")
    # the ranking's moment is the newest commit read, which the report's own
    # date (the clock, or --now) may be long after: said beside the phase
    return replace(line, suggested=found.suggestions, phase=f"{found.phase} as of {suggestions.as_of[:10]}")


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

    return LineReport(
        line=line,
        went_in_since_release=went_in,
        clean=of("clean"),
        conflict=of("conflict"),
        skipped=of(SKIPPED),
        not_needed=of(NOT_NEEDED),
        reverted=of(REVERTED),
        unknown=of(UNKNOWN),
        applied=len(of(APPLIED)),
    )


def _debts(lines: Iterable[LineReport]) -> tuple[Debt, ...]:
    """One debt per owner team: entries whose owners are the same people
    (by address, however spelled) go together, so each entry is in one."""
    owed: dict[frozenset[str], list[Entry]] = {}
    team: dict[frozenset[str], tuple[str, ...]] = {}
    for line in lines:
        for entry in sorted(line.pending, key=lambda e: e.verdict.candidate.order):
            spelled: dict[str, str] = {}
            for owner in entry.owners:
                spelled.setdefault(address(owner), owner)  # the first spelling of an address
            key = frozenset(spelled)
            team.setdefault(key, tuple(spelled.values()))
            owed.setdefault(key, []).append(entry)
    debts = [Debt(team[key], tuple(entries)) for key, entries in owed.items()]
    return tuple(sorted(debts, key=lambda d: (-len(d.entries), -d.stale, d.owner.lower())))
