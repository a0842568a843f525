"""GitHub-flavoured Markdown: tables for an issue, a wiki page or a mail.

The sections and their cells are backport.report.sections'; this lays them
out. Every text that comes from a repository (subjects, names, paths,
reasons) goes through `escape`, so a subject cannot close a table cell,
start emphasis, or slip raw HTML into the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import quote

from backport.escape import one_line
from backport.models import listing
from backport.report.grouping import LineReport, Report
from backport.report.sections import Cell, Table, line_tables, report_tables, team_tables
from backport.report.wording import as_of, commit_url, decisions_text, plural, short, since_text

# Characters with inline meaning in GFM: emphasis, code, links, raw HTML,
# entities, strikethrough, table cells. Backslash-escaping any ASCII
# punctuation is always allowed, so this cannot change a text's meaning.
_INLINE = re.compile(r"([\\`*_\[\]<>|~&])")


def escape(text: str) -> str:
    return _INLINE.sub(r"\\\1", one_line(text))


def code(commit: str, web_url: str | None = None) -> str:
    """A commit id as inline code (hex only, so it needs no escaping), linked when there is a viewer."""
    if not commit:
        return ""
    shown = f"`{short(commit)}`"
    return f"[{shown}]({link(web_url, commit)})" if web_url else shown


def link(web_url: str, commit: str) -> str:
    """The commit's page: the template's {commit} filled in, percent-encoded
    where a Markdown link destination could end (parentheses, blanks)."""
    return quote(commit_url(web_url, commit), safe="/:?#&=;%+@!$,~.-_*'")


def render(report: Report) -> str:
    result = report.result
    web = report.web_url
    out = [
        f"# Backport report: {escape(result.unstable_ref)} {code(result.unstable_commit, web)}",
        "",
        f"{escape(_capital(as_of(report)))} · lines {listing(line.line.version for line in report.lines)} · "
        f"**{plural(report.pending, 'pending backport')}**, {report.stale} stale · {decisions_text(report.decisions)}",
        "",
        *_table(
            ["Line", "Branch", "Last release", "Went in since", "Ready", "Conflicts", "Stale"],
            [_summary(line) for line in report.lines],
            right=(3, 4, 5, 6),
        ),
    ]
    for line in report.lines:
        out += ["", *_line(line, web)]
    out += ["", "## By owner", ""]
    teams = team_tables(report)
    if not teams:
        out.append("Nobody owes a backport.")
    for team in teams:
        out += [f"### {escape(team.heading)}", "", escape(team.summary), "", *_rows(team, web), ""]
    if teams:
        out.pop()
    for part in report_tables(report):
        out += ["", *laid_out(part, web, level="##")]
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


def _line(line: LineReport, web: str | None) -> list[str]:
    out = [
        f"## {line.line.version}: {escape(line.line.ref)} {code(line.line.commit, web)}",
        "",
        escape(since_text(line)) + f"; {line.applied} nominated already applied.",
    ]
    tables = line_tables(line)
    if not tables:
        out += ["", "Nothing pending."]
    for part in tables:
        out += ["", *laid_out(part, web)]
    return out


def laid_out(part: Table, web: str | None, *, level: str = "###") -> list[str]:
    """A section's table under its heading, with its commands and help."""
    note = f", {part.section.note}" if part.section.note else ""
    out = [f"{level} {part.heading} ({len(part.rows)}{note})", "", *_rows(part, web)]
    if part.block and part.block.commands:
        out += ["", escape(part.block.label), "", *_fenced(part.block.commands)]
    if part.section.help:
        out += ["", escape(part.section.help)]
    return out


def _rows(part: Table, web: str | None) -> list[str]:
    right = [i for i, column in enumerate(part.columns) if column.numeric]
    rows = [[_cell(cell, web) for cell in row.cells] for row in part.rows]
    return _table([c.title for c in part.columns], rows, right=right)


def _cell(cell: Cell, web: str | None) -> str:
    if cell.kind == "commit":
        return code(cell.value, web)
    if cell.kind == "number":
        return cell.text
    return escape(cell.text)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, right: Sequence[int] = ()) -> list[str]:
    rule = ["---:" if i in right else "---" for i in range(len(headers))]
    return ["| " + " | ".join(cells) + " |" for cells in (headers, rule, *rows)]


def _fenced(lines: Sequence[str]) -> list[str]:
    """A code block whose fence no line can close (a ref may hold backticks)."""
    text = "\n".join(one_line(line) for line in lines)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}sh", text, fence]
