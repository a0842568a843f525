"""Plain text for a terminal or a file: aligned columns, colour only on a terminal."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import click

from backport.escape import one_line
from backport.models import listing
from backport.report.grouping import Debt, Entry, LineReport, Report
from backport.report.wording import (
    age,
    as_of,
    names,
    notes,
    owed_text,
    plural,
    short,
    since_text,
    untagged_lines,
    why_not_needed,
)

Style = Callable[..., str]
OWNERS_SHOWN = 3  # in a row; the by-owner view has everyone


def render(report: Report, *, colour: bool = False) -> str:
    style: Style = click.style if colour else _plain
    result = report.result
    out = [
        style(f"Backport report for {one_line(result.unstable_ref)} {short(result.unstable_commit)}", bold=True),
        f"{as_of(report)}; lines {listing(line.line.version for line in report.lines)}; "
        f"{plural(report.pending, 'pending backport')}, {report.stale} stale",
    ]
    for line in report.lines:
        out += ["", *_line(line, style)]
    out += ["", *_owners(report.shared_debts, style)]
    if report.untagged:
        out += ["", style(f"Untagged fixes ({len(report.untagged)})", bold=True)]
        out += _columns(
            [
                [
                    short(f.candidate.commit),
                    one_line(f.candidate.subject),
                    f"fixes {short(f.fixes)}",
                    f"on {untagged_lines(f)}",
                ]
                for f in report.untagged
            ]
        )
        out.append("  Decide each: backport nominate COMMIT --to V, or backport skip COMMIT --line V -m REASON")
    if report.problems:
        out += ["", style(f"Problems ({len(report.problems)})", fg="red", bold=True)]
        out += _columns([[short(p.commit), one_line(repr(p.text)), one_line(p.error)] for p in report.problems])
    return "\n".join(out) + "\n"


def _line(line: LineReport, style: Style) -> list[str]:
    ref = one_line(line.line.ref)
    out = [
        style(f"== {line.line.version}  {ref} {short(line.line.commit)} ==", bold=True),
        f"{since_text(line)}; {line.applied} nominated already applied",
    ]
    if not (line.pending or line.skipped or line.not_needed or line.reverted or line.unknown):
        out.append("Nothing pending.")
    if line.clean:
        out += ["", style(f"Ready to pick ({len(line.clean)}), in unstable order:", fg="green", bold=True)]
        out += _columns([_row(e) + [notes(e)] for e in line.clean], style, stale=[e.target.stale for e in line.clean])
        out.append(f"  Pick them onto {ref}, in the line's style:")
        out.append(f"    {line.pick_command}")
    if line.conflict:
        out += ["", style(f"Conflicts ({len(line.conflict)}):", fg="yellow", bold=True)]
        stale = [e.target.stale for e in line.conflict]
        rows = _columns([_row(e) + [notes(e)] for e in line.conflict], style, stale=stale)
        for entry, row in zip(line.conflict, rows, strict=True):
            out.append(row)
            out.append("      conflicts: " + ", ".join(one_line(p) for p in entry.target.conflicts))
            if entry.reproduce:
                out.append(f"      reproduce: {entry.reproduce}")
            out.append(f"      resolve: {entry.resolve}")
    if line.stale:
        out += ["", style(f"Stale ({len(line.stale)}):", fg="red", bold=True)]
        out += _columns(
            [[short(e.commit), one_line(e.subject), _who(e), e.target.stale_reason or ""] for e in line.stale]
        )
    if line.skipped:
        out += ["", style(f"Skipped ({len(line.skipped)}):", bold=True)]
        out += _columns([[short(e.commit), one_line(e.subject), one_line(e.target.reason or "")] for e in line.skipped])
    if line.not_needed:
        out += ["", style(f"Not needed ({len(line.not_needed)}):", bold=True)]
        out += _columns([[short(e.commit), one_line(e.subject), one_line(why_not_needed(e))] for e in line.not_needed])
    if line.reverted:
        out += ["", style(f"Reverted on unstable ({len(line.reverted)}):", bold=True)]
        out += _columns(
            [[short(e.commit), one_line(e.subject), one_line(e.target.reason or "")] for e in line.reverted]
        )
    if line.unknown:
        out += ["", style(f"Unknown ({len(line.unknown)}): could not be judged", fg="red", bold=True)]
        out += _columns([[short(e.commit), one_line(e.subject), one_line(e.target.reason or "")] for e in line.unknown])
    return out


def _owners(debts: Sequence[Debt], style: Style) -> list[str]:
    out = [style("== By owner ==", bold=True)]
    if not debts:
        return out + ["Nobody owes a backport."]
    for debt in debts:
        each = " (each)" if len(debt.owners) > 1 else ""
        out.append(style(one_line(", ".join(debt.owners)), bold=True) + f"{each}: {owed_text(debt)}")
        rows = [
            [str(e.line.version), short(e.commit), e.target.applies or "", one_line(e.subject), notes(e)]
            for e in debt.entries
        ]
        out += _columns(rows, indent="    ")
    return out


def _row(entry: Entry) -> list[str]:
    return [short(entry.commit), one_line(entry.subject), _who(entry), age(entry)]


def _who(entry: Entry) -> str:
    return one_line(names(entry.owners, OWNERS_SHOWN))


def _columns(
    rows: Sequence[Sequence[str]],
    style: Style | None = None,
    *,
    stale: Sequence[bool] = (),
    indent: str = "  ",
) -> list[str]:
    """Left-aligned columns; the last column is not padded. Rows with `stale`
    set are shown in red when colour is on."""
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    out = []
    for number, row in enumerate(rows):
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)] + [row[-1]]
        text = (indent + "  ".join(cells)).rstrip()
        out.append(style(text, fg="red") if style and number < len(stale) and stale[number] else text)
    return out


def _plain(text: str, **_: object) -> str:
    return text
