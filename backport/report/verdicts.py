"""`check` in Markdown and HTML: every verdict as one row of one table.

`check` has no grouping (that is `report`); these are the rows a script or a
wiki page wants. The table is a section like the report's (backport.report.
sections), worded by backport.report.wording, laid out by the report's own
Markdown and HTML renderers.
"""

from __future__ import annotations

from backport.models import CheckResult, Target, Verdict, listing
from backport.record import record
from backport.report.sections import (
    COMMIT,
    SUBJECT,
    Column,
    Section,
    Table,
    badge,
    number,
    people,
    report_tables,
    table,
    text,
)
from backport.report.wording import moment, plural, verdict_detail


@record
class Row:
    """One (candidate, line) verdict."""

    verdict: Verdict
    target: Target

    @property
    def commit(self) -> str:
        return self.verdict.candidate.commit

    @property
    def subject(self) -> str:
        return self.verdict.candidate.subject


VERDICTS = Section(
    "verdicts",
    "Verdicts",
    (
        COMMIT,
        SUBJECT,
        Column("Line", lambda r: text(str(r.target.version))),
        Column("State", lambda r: badge(r.target.state)),
        Column(
            "Age",
            lambda r: number(r.target.age_days, "" if r.target.age_days is None else plural(r.target.age_days, "day")),
            numeric=True,
        ),
        Column("Detail", lambda r: text(verdict_detail(r.target, merge=r.verdict.merge))),
        Column("Owners", lambda r: people(r.target.owners)),
    ),
)


def rows(result: CheckResult) -> list[Row]:
    return [Row(verdict, target) for verdict in result.verdicts for target in verdict.targets]


def tables(result: CheckResult) -> list[Table]:
    return [table(VERDICTS, rows(result)), *report_tables(result)]


def render_markdown(result: CheckResult, web_url: str | None = None) -> str:
    """`web_url` links commit ids (backport.report.links)."""
    from backport.report.markdown import code, escape, laid_out

    out = [
        f"# Backport verdicts: {escape(result.unstable_ref)} {code(result.unstable_commit, web_url)}",
        "",
        f"As of {moment(result.now)} · lines {listing(line.version for line in result.lines)}",
    ]
    for part in tables(result):
        out += ["", *laid_out(part, web_url, level="##")]
    return "\n".join(out) + "\n"


def render_html(result: CheckResult, web_url: str | None = None) -> str:
    from backport.report.html import render_page

    return render_page("check.html.j2", result=result, tables=tables(result), web_url=web_url)
