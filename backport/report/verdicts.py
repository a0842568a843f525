"""`check` in Markdown and HTML: every verdict as one row of one table.

`check` has no grouping (that is `report`); these are the rows a script or a
wiki page wants. Wording and escaping are the report's own (backport.report.wording,
backport.report.markdown), and the HTML page is built like the report's:
autoescaped, self-contained, the same Content-Security-Policy.
"""

from __future__ import annotations

from backport.escape import one_line
from backport.models import APPLIED, NOT_NEEDED, PENDING, CheckResult, Target, Verdict, listing
from backport.record import record
from backport.report.wording import moment, name, short


@record
class Row:
    commit: str
    subject: str
    version: str
    state: str
    detail: str
    owners: tuple[str, ...]
    stale: bool
    age_days: int | None


def rows(result: CheckResult) -> list[Row]:
    return [_row(verdict, target) for verdict in result.verdicts for target in verdict.targets]


def _row(verdict: Verdict, target: Target) -> Row:
    return Row(
        commit=verdict.candidate.commit,
        subject=verdict.candidate.subject,
        version=str(target.version),
        state=target.state,
        detail=detail(target),
        owners=target.owners,
        stale=target.stale,
        age_days=target.age_days,
    )


def detail(target: Target) -> str:
    """What backs the state, in a few words."""
    parts: list[str] = []
    if target.state == APPLIED:
        parts.append(f"{target.evidence or 'applied'} {short(target.applied_as)}".strip())
    elif target.state == PENDING:
        parts.append(target.applies or "")
        if target.conflicts:
            parts.append(", ".join(target.conflicts))
        if target.after:
            parts.append("after " + ", ".join(short(c) for c in target.after))
        if target.stale:
            parts.append(f"stale: {target.stale_reason or 'waiting'}")
        if target.warning:
            parts.append(f"warning: {target.warning}")
        if target.reason:  # the nominator's comment: kept and shown, as SPEC says
            parts.append(f"# {target.reason}")
    elif target.reason:
        parts.append(target.reason if target.state != NOT_NEEDED else f"not needed: {target.reason}")
    return "; ".join(one_line(p) for p in parts if p)


def render_markdown(result: CheckResult) -> str:
    from backport.report.markdown import _table, code, escape

    out = [
        f"# Backport verdicts: {escape(result.unstable_ref)} {code(result.unstable_commit)}",
        "",
        f"As of {moment(result.now)} · lines {listing(line.version for line in result.lines)}",
        "",
    ]
    body = [
        [code(r.commit), escape(r.subject), r.version, f"**{r.state}**" if r.stale else r.state,
         escape(r.detail), escape(", ".join(name(o) for o in r.owners))]
        for r in rows(result)
    ]
    out += _table(["Commit", "Subject", "Line", "State", "Detail", "Owners"], body)
    if result.untagged_fixes:
        out += ["", "## Untagged fixes", ""]
        out += _table(
            ["Commit", "Subject", "Fixes", "Bug is on"],
            [
                [code(f.candidate.commit), escape(f.candidate.subject), code(f.fixes), listing(f.lines)]
                for f in result.untagged_fixes
            ],
        )
    if result.problems:
        out += ["", "## Problems", ""]
        out += _table(
            ["Commit", "Nomination", "Error"],
            [[code(p.commit), escape(p.text), escape(p.error)] for p in result.problems],
        )
    return "\n".join(out) + "\n"


def render_html(result: CheckResult) -> str:
    from backport.report.html import render_page

    return render_page("check.html.j2", result=result, rows=rows(result))
