"""Plain text for a terminal or a file: aligned columns, colour only on a terminal.

The sections and their cells are backport.report.sections'; this lays them out.
"""

from __future__ import annotations

from collections.abc import Callable

import click

from backport.escape import one_line
from backport.models import listing
from backport.report.grouping import LineReport, Report
from backport.report.sections import Cell, Table, line_tables, report_tables, team_tables
from backport.report.wording import as_of, decisions_text, names, plural, short, since_text

Style = Callable[..., str]
OWNERS_SHOWN = 3  # in a row; the by-owner view has everyone
_TONES = {"clean": "green", "conflict": "yellow", "stale": "red"}


def render(report: Report, *, colour: bool = False) -> str:
    style: Style = click.style if colour else _plain
    result = report.result
    out = [
        style(f"Backport report for {one_line(result.unstable_ref)} {short(result.unstable_commit)}", bold=True),
        f"{as_of(report)}; lines {listing(line.line.version for line in report.lines)}; "
        f"{plural(report.pending, 'pending backport')}, {report.stale} stale; {decisions_text(report.decisions)}",
    ]
    for line in report.lines:
        out += ["", *_line(line, style)]
    out += ["", style("== By owner ==", bold=True)]
    teams = team_tables(report)
    if not teams:
        out.append("Nobody owes a backport.")
    for team in teams:
        out.append(style(team.heading, bold=True) + f": {team.summary}")
        out += _rows(team, style, indent="    ")
    for part in report_tables(report):
        out += ["", *_table(part, style)]
    return "\n".join(out) + "\n"


def _line(line: LineReport, style: Style) -> list[str]:
    out = [
        style(f"== {line.line.version}  {one_line(line.line.ref)} {short(line.line.commit)} ==", bold=True),
        f"{since_text(line)}; {line.applied} nominated already applied",
    ]
    tables = line_tables(line)
    if not tables:
        out.append("Nothing pending.")
    for part in tables:
        out += ["", *_table(part, style)]
    return out


def _table(part: Table, style: Style) -> list[str]:
    note = f", {part.section.note}" if part.section.note else ""
    title = f"{part.heading} ({len(part.rows)}{note}):"
    out = [style(title, fg=_TONES.get(part.section.tone), bold=True), *_rows(part, style)]
    if part.block and part.block.commands:
        out.append(f"  {part.block.label}")
        out += [f"    {one_line(command)}" for command in part.block.commands]
    if part.section.help:
        out.append(f"  {part.section.help}")
    return out


def _rows(part: Table, style: Style, *, indent: str = "  ") -> list[str]:
    """Left-aligned columns (numbers right-aligned); the last column is not
    padded. Stale rows are red when colour is on."""
    if not part.rows:
        return []
    rows = [[column.title for column in part.columns]] + [[_cell(cell) for cell in row.cells] for row in part.rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = []
    for number, cells in enumerate(rows):
        laid = [
            cell.rjust(width) if column.numeric else cell.ljust(width)
            for cell, width, column in zip(cells[:-1], widths, part.columns, strict=False)
        ]
        line = (indent + "  ".join([*laid, cells[-1]])).rstrip()
        if number == 0:
            out.append(style(line, dim=True))
        else:
            out.append(style(line, fg="red") if part.rows[number - 1].stale else line)
    return out


def _cell(cell: Cell) -> str:
    if cell.kind == "people":
        return one_line(names(cell.value, OWNERS_SHOWN))
    return cell.text


def _plain(text: str, **_: object) -> str:
    return text

