"""GitHub-flavoured Markdown: tables for an issue, a wiki page or a mail.

Every text that comes from a repository (subjects, names, paths, reasons)
goes through `escape`, so a subject cannot close a table cell, start
emphasis, or slip raw HTML into the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from backport.escape import one_line
from backport.models import listing
from backport.report.grouping import Debt, Entry, LineReport, Report
from backport.report.wording import (
    age,
    moment,
    name,
    notes,
    owed_text,
    plural,
    short,
    since_text,
    untagged_lines,
    why_not_needed,
)

# Characters with inline meaning in GFM: emphasis, code, links, raw HTML,
# entities, strikethrough, table cells. Backslash-escaping any ASCII
# punctuation is always allowed, so this cannot change a text's meaning.
_INLINE = re.compile(r"([\\`*_\[\]<>|~&])")


def escape(text: str) -> str:
    return _INLINE.sub(r"\\\1", one_line(text))


def code(commit: str) -> str:
    """A commit id as inline code (hex only, so it needs no escaping)."""
    return f"`{short(commit)}`" if commit else ""


def render(report: Report) -> str:
    result = report.result
    out = [
        f"# Backport report: {escape(result.unstable_ref)} {code(result.unstable_commit)}",
        "",
        f"As of {moment(result.now)} · lines {listing(line.line.version for line in report.lines)} · "
        f"**{plural(report.pending, 'pending backport')}**, {report.stale} stale",
        "",
        *_table(
            ["Line", "Branch", "Last release", "Went in since", "Ready", "Conflicts", "Stale"],
            [_summary(line) for line in report.lines],
            right=(3, 4, 5, 6),
        ),
    ]
    for line in report.lines:
        out += ["", *_line(line)]
    out += ["", "## By owner", ""]
    out += _owners(report.shared_debts) if report.debts else ["Nobody owes a backport."]
    if report.untagged:
        out += ["", f"## Untagged fixes ({len(report.untagged)})", ""]
        out += _table(
            ["Commit", "Subject", "Fixes", "Bug is on"],
            [
                [code(f.candidate.commit), escape(f.candidate.subject), code(f.fixes), untagged_lines(f)]
                for f in report.untagged
            ],
        )
    if report.problems:
        out += ["", f"## Problems ({len(report.problems)})", ""]
        out += _table(
            ["Commit", "Nomination", "Error"],
            [[code(p.commit), escape(p.text), escape(p.error)] for p in report.problems],
        )
    return "\n".join(out) + "\n"


def _summary(line: LineReport) -> list[str]:
    release = line.line.last_release
    return [
        str(line.line.version),
        escape(line.line.ref),
        f"{escape(release.tag)} ({release.date[:10]})" if release else "none yet",
        str(line.went_in_since_release),
        str(len(line.clean)),
        str(len(line.conflict)),
        str(len(line.stale)),
    ]


def _line(line: LineReport) -> list[str]:
    out = [
        f"## {line.line.version}: {escape(line.line.ref)} {code(line.line.commit)}",
        "",
        escape(since_text(line)) + ".",
    ]
    if not (line.pending or line.skipped or line.not_needed or line.reverted or line.unknown):
        out += ["", "Nothing pending."]
    if line.clean:
        out += ["", f"### Ready to pick ({len(line.clean)})", ""]
        out += _table(["Commit", "Subject", "Owners", "Age", "Notes"], [_row(e) for e in line.clean], right=(3,))
        out += ["", f"Pick them onto {escape(line.line.ref)}, in the line's style:", "", *_fenced([line.pick_command])]
    if line.conflict:
        out += ["", f"### Conflicts ({len(line.conflict)})", ""]
        out += _table(
            ["Commit", "Subject", "Owners", "Age", "Conflicting paths", "Notes"],
            [_row(e)[:4] + [", ".join(escape(p) for p in e.target.conflicts), escape(notes(e))] for e in line.conflict],
            right=(3,),
        )
        commands = [c for e in line.conflict if e.reproduce for c in (f"# {short(e.commit)}", e.reproduce)]
        if commands:
            out += ["", "To see a conflict without touching your checkout:", "", *_fenced(commands)]
        resolve = [e.resolve for e in line.conflict]
        out += ["", "To resolve one (in a private worktree, where the pick stops):", "", *_fenced(resolve)]
    if line.stale:
        out += ["", f"### Stale ({len(line.stale)})", ""]
        out += _table(
            ["Commit", "Subject", "Owners", "Why"],
            [[code(e.commit), escape(e.subject), _who(e), escape(e.target.stale_reason or "")] for e in line.stale],
        )
    if line.skipped:
        out += ["", f"### Skipped ({len(line.skipped)})", ""]
        out += _table(
            ["Commit", "Subject", "Reason"],
            [[code(e.commit), escape(e.subject), escape(e.target.reason or "")] for e in line.skipped],
        )
    if line.not_needed:
        out += ["", f"### Not needed ({len(line.not_needed)})", ""]
        out += _table(
            ["Commit", "Subject", "Why"],
            [[code(e.commit), escape(e.subject), escape(why_not_needed(e))] for e in line.not_needed],
        )
    if line.reverted:
        out += ["", f"### Reverted on unstable ({len(line.reverted)})", ""]
        out += _table(
            ["Commit", "Subject", "Why"],
            [[code(e.commit), escape(e.subject), escape(e.target.reason or "")] for e in line.reverted],
        )
    if line.unknown:
        out += ["", f"### Unknown ({len(line.unknown)}): could not be judged", ""]
        out += _table(
            ["Commit", "Subject", "Why"],
            [[code(e.commit), escape(e.subject), escape(e.target.reason or "")] for e in line.unknown],
        )
    return out


def _owners(debts: Sequence[Debt]) -> list[str]:
    out: list[str] = []
    for debt in debts:
        each = " (each)" if len(debt.owners) > 1 else ""
        out += [
            f"### {escape(', '.join(debt.owners))}{each}",
            "",
            escape(owed_text(debt)),
            "",
            *_table(
                ["Line", "Commit", "Applies", "Subject", "Notes"],
                [
                    [str(e.line.version), code(e.commit), e.target.applies or "", escape(e.subject), escape(notes(e))]
                    for e in debt.entries
                ],
            ),
            "",
        ]
    return out[:-1]


def _row(entry: Entry) -> list[str]:
    return [code(entry.commit), escape(entry.subject), _who(entry), age(entry), escape(notes(entry))]


def _who(entry: Entry) -> str:
    return ", ".join(escape(name(o)) for o in entry.owners)


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, right: Sequence[int] = ()) -> list[str]:
    rule = ["---:" if i in right else "---" for i in range(len(headers))]
    return ["| " + " | ".join(cells) + " |" for cells in (headers, rule, *rows)]


def _fenced(lines: Sequence[str]) -> list[str]:
    """A code block whose fence no line can close (a ref may hold backticks)."""
    text = "\n".join(one_line(line) for line in lines)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}sh", text, fence]
