"""The report's structure, as data: which sections a line has, which columns
each shows, and what goes in a cell. The text, Markdown and HTML renderers
walk the same tables, so a section or a column added here shows in all three.

A section turns rows of its own kind (report entries, untagged fixes,
problems, ...) into a `Table`: its cells are already worded (backport.report.
wording) and made one printable line (backport.escape); a renderer only
lays them out and applies its own markup (Markdown's escapes, HTML's).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from backport.escape import one_line
from backport.models import CheckResult, UntaggedFix
from backport.record import record
from backport.report import grouping
from backport.report.grouping import Debt, Entry, LineReport, Report
from backport.report.wording import (
    Mark,
    age,
    applies_text,
    marks,
    names,
    owed_text,
    plural,
    short,
    why_not_needed,
)


@record
class Cell:
    """One cell: `text` is how every format words it; `kind` and `value`
    let a format do more (link a commit, badge a mark, sort a number)."""

    kind: str  # "text" | "commit" | "people" | "marks" | "paths" | "code" | "number" | "badge"
    text: str
    # commit: the full id; people: "Name <mail>"s; marks: Marks; number: the sort key; badge: its kind
    value: Any = None


def text(value: str) -> Cell:
    return Cell("text", one_line(value))


def commit(sha: str | None) -> Cell:
    return Cell("commit", short(sha), sha or "")


def people(owners: Sequence[str]) -> Cell:
    return Cell("people", one_line(names(tuple(owners))), tuple(one_line(o) for o in owners))


def marked(found: Sequence[Mark]) -> Cell:
    return Cell("marks", "; ".join(m.text for m in found), tuple(found))


def paths(found: Sequence[str]) -> Cell:
    return Cell("paths", ", ".join(one_line(p) for p in found), tuple(one_line(p) for p in found))


def number(count: int | None, shown: str) -> Cell:
    return Cell("number", shown, -1 if count is None else count)


@record
class Column:
    title: str
    cell: Callable[[Any], Cell]
    numeric: bool = False  # right-aligned, sorted as a number


@record
class Block:
    """Commands shown under a table: the picks, or how to see a conflict."""

    label: str
    commands: tuple[str, ...]
    # For the picks: the command for some of the rows ({commits}: their ids,
    # in unstable order), so the HTML filter can narrow the block to the
    # rows it leaves. None: the block is not narrowed.
    narrow: str | None = None


@record
class Row:
    cells: tuple[Cell, ...]
    commit: str | None = None
    stale: bool = False
    search: str = ""  # more text a filter matches on (a team's names)


@record
class Section:
    """A kind of table: its name, the rows it takes, its columns."""

    key: str  # an id and class in HTML: "ready", "conflicts", ...
    title: str
    columns: tuple[Column, ...]
    tone: str = ""  # "clean" | "conflict": the title's colour
    note: str = ""  # after the count: "in unstable order"
    block: Callable[[Sequence[Any]], Block | None] | None = None
    help: str = ""  # under the table: what to do about its rows


@record
class Table:
    section: Section
    rows: tuple[Row, ...]
    block: Block | None = None
    title: str = ""  # the section's, unless a table names its own (a team)
    summary: str = ""  # a line under the title (a team's totals)

    @property
    def key(self) -> str:
        return self.section.key

    @property
    def columns(self) -> tuple[Column, ...]:
        return self.section.columns

    @property
    def heading(self) -> str:
        return self.title or self.section.title


def table(section: Section, items: Sequence[Any], *, title: str = "", summary: str = "", search: str = "") -> Table:
    """`items` as `section`'s table; `search` is more text each row is found by (a team's names)."""
    rows = tuple(_row(section, item, search) for item in items)
    block = section.block(items) if section.block else None
    return Table(section, rows, block, title, summary)


def badge(kind: str | None) -> Cell:
    """A state or a way of applying ("clean", "pending"), shown as a badge of that kind."""
    return Cell("badge", kind or "", kind or "")


def _row(section: Section, item: Any, search: str) -> Row:
    """A row of `item`: an Entry or any row type with the same fields
    (commit or candidate.commit; target.stale) where it has them."""
    cells = tuple(column.cell(item) for column in section.columns)
    sha = getattr(item, "commit", None) or getattr(getattr(item, "candidate", None), "commit", None)
    target = getattr(item, "target", None)
    return Row(cells, sha, bool(target is not None and target.stale), search)


# -- the columns ----------------------------------------------------------------------


def _entry_marks(entry: Entry) -> Cell:
    return marked(marks(entry.target, merge=entry.verdict.merge))


COMMIT = Column("Commit", lambda e: commit(e.commit))
SUBJECT = Column("Subject", lambda e: text(e.subject))
OWNERS = Column("Owners", lambda e: people(e.owners))
AGE = Column("Age", lambda e: number(e.target.age_days, age(e)), numeric=True)
NOTES = Column("Notes", _entry_marks)


def _picks(entries: Sequence[Entry]) -> Block:
    line = entries[0].line
    return Block(
        f"Pick them onto {one_line(line.ref)}, in the line's style:",
        (grouping.pick_command(line.version),),
        grouping.pick_command(line.version, ["{commits}"]),
    )


def _conflicts(entries: Sequence[Entry]) -> Block:
    """For each conflict: a look at it that leaves the checkout alone, and where its resolution starts."""
    commands: list[str] = []
    for entry in entries:
        if entry.reproduce:
            commands += [f"# {short(entry.commit)}: see the conflict", entry.reproduce]
        commands += [f"# {short(entry.commit)}: resolve it", entry.resolve]
    return Block("See each conflict without touching your checkout, or start resolving it:", tuple(commands))


# What a line shows, in this order, each when it has rows.
LINE_SECTIONS: tuple[tuple[Section, Callable[[LineReport], Sequence[Any]]], ...] = (
    (
        Section(
            "ready",
            "Ready to pick",
            (COMMIT, SUBJECT, OWNERS, AGE, NOTES),
            tone="clean",
            note="in unstable order",
            block=_picks,
        ),
        lambda line: line.clean,
    ),
    (
        Section(
            "conflicts",
            "Conflicts",
            (COMMIT, SUBJECT, OWNERS, AGE, Column("Conflicting paths", lambda e: paths(e.target.conflicts)), NOTES),
            tone="conflict",
            block=_conflicts,
        ),
        lambda line: line.conflict,
    ),
    (
        Section("skipped", "Skipped", (COMMIT, SUBJECT, Column("Reason", lambda e: text(e.target.reason or "")))),
        lambda line: line.skipped,
    ),
    (
        Section("not-needed", "Not needed", (COMMIT, SUBJECT, Column("Why", lambda e: text(why_not_needed(e))))),
        lambda line: line.not_needed,
    ),
    (
        Section(
            "reverted", "Reverted on unstable", (COMMIT, SUBJECT, Column("Why", lambda e: text(e.target.reason or "")))
        ),
        lambda line: line.reverted,
    ),
    (
        Section(
            "unknown",
            "Unknown",
            (COMMIT, SUBJECT, Column("Why", lambda e: text(e.target.reason or ""))),
            tone="stale",
            note="could not be judged",
        ),
        lambda line: line.unknown,
    ),
)

# One per owner team, under "By owner": the team is the table's title.
OWED = Section(
    "owed",
    "Owed",
    (
        Column("Line", lambda e: Cell("text", str(e.line.version), str(e.line.version))),
        COMMIT,
        Column("Applies", lambda e: badge(e.target.applies)),
        SUBJECT,
        NOTES,
    ),
)

# After the lines and the owners, each when it has rows.
# (check shows them after its verdicts too)
REPORT_SECTIONS: tuple[tuple[Section, Callable[[CheckResult], Sequence[Any]]], ...] = (
    (
        Section(
            "untagged",
            "Untagged fixes",
            (
                Column("Commit", lambda f: commit(f.candidate.commit)),
                Column("Subject", lambda f: text(f.candidate.subject)),
                Column("Owners", lambda f: people(_fix_owners(f))),
                Column("Age", lambda f: _fix_age(f), numeric=True),
                Column("Fixes", lambda f: commit(f.fixes)),
                Column("Bug is on", lambda f: marked(_fix_lines(f))),
            ),
            help="Each fixes a bug that is on these lines, and nobody said whether to backport it. "
            "Decide each: backport nominate COMMIT --to V, or backport skip COMMIT --for V -m REASON",
        ),
        lambda result: result.untagged_fixes,
    ),
    (
        Section(
            "problems",
            "Problems",
            (
                Column("Commit", lambda p: commit(p.commit)),
                Column("What", lambda p: Cell("code", one_line(p.text))),
                Column("Error", lambda p: text(p.error)),
            ),
            tone="stale",
            help="Nomination lines that could not be read (fix the line, or nominate with a note), "
            "and what could not be judged (the error says how to fix it).",
        ),
        lambda result: result.problems,
    ),
)


def _fix_owners(fix: UntaggedFix) -> tuple[str, ...]:
    """Who should decide: the owners on its lines, else its author."""
    return tuple(dict.fromkeys(o for t in fix.targets for o in t.owners)) or (fix.candidate.author,)


def _fix_age(fix: UntaggedFix) -> Cell:
    """Since it landed on unstable, as its lines' targets count it."""
    ages = [t.age_days for t in fix.targets if t.age_days is not None]
    return number(max(ages), plural(max(ages), "day")) if ages else number(None, "")


def _fix_lines(fix: UntaggedFix) -> tuple[Mark, ...]:
    """Each line the bug is on, and how the fix would pick there when it was simulated."""
    judged = {t.version: t for t in fix.targets}
    found = []
    for version in fix.lines:
        target = judged.get(version)
        if target is None:
            found.append(Mark("info", str(version)))
            continue
        words = [f"{version} {applies_text(target)}"] + [m.text for m in marks(target)]
        found.append(Mark("stale" if target.stale else "info", ", ".join(words)))
    return tuple(found)


# What `backport suggest` ranks first on the line, when the report suggests.
SUGGESTED_COLUMNS = (
    Column("Score", lambda s: Cell("number", f"{s.score:.2f}", s.score), numeric=True),
    COMMIT,
    SUBJECT,
    Column("Applies", lambda s: badge(s.applies)),
    Column("Why", lambda s: text("; ".join(s.reasons))),
)


def line_tables(line: LineReport) -> list[Table]:
    found = [table(section, rows) for section, pick in LINE_SECTIONS if (rows := pick(line))]
    if line.suggested:
        # the note carries the line's phase, so the section is made per line
        note = f"untagged; the line is {line.phase}"
        found.append(table(Section("suggested", "Suggested", SUGGESTED_COLUMNS, note=note), line.suggested))
    return found


def team_tables(report: Report) -> list[Table]:
    return [
        table(OWED, debt.entries, title=one_line(names(debt.owners)), summary=owed_text(debt), search=_team(debt))
        for debt in report.debts
    ]


def report_tables(report: Report | CheckResult) -> list[Table]:
    result = report.result if isinstance(report, Report) else report
    return [table(section, rows) for section, pick in REPORT_SECTIONS if (rows := pick(result))]


def _team(debt: Debt) -> str:
    return one_line(" ".join(debt.owners))

