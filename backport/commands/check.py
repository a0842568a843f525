"""`backport check [COMMIT...]`: the verdict for each nominated commit on each line."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import click

from backport import completion
from backport.commands import Globals, format_options, now_option, pass_globals
from backport.models import PENDING, CheckResult, Verdict
from backport.output import check_json, dumps, emit, problems_text
from backport.report.wording import verdict_detail
from backport.session import Session
from backport.verdict.result import check_session

if TYPE_CHECKING:
    from backport.verdict.simulate import Simulator

HUNK_LINES = 60  # per conflict in text output; the reproduce command shows the rest


@click.command("check")
@click.argument("commits", nargs=-1, metavar="[COMMIT]...", shell_complete=completion.refs)
@format_options()
@now_option
@pass_globals
def cli_command(g: Globals, commits: tuple[str, ...], fmt: str, output: str | None, now: str | None) -> int:
    """Verdicts for nominated commits: applied, pending, not-needed, skipped, reverted.

    With COMMITs, only those candidates are shown.
    """
    session = g.session(now=now)
    return run(session, commits, fmt, output, session.now)


def run(session: Session, commits: Sequence[str], fmt: str, output: str | None, now: datetime) -> int:
    result = check_session(session, now, commits)
    if fmt == "json":
        emit(dumps(check_json(result)), output, pager=session.pager)
        return 0
    if fmt in ("markdown", "html"):
        from backport.report import verdicts as render
        from backport.report.links import web_url

        links = web_url(session)
        page = render.render_markdown(result, links) if fmt == "markdown" else render.render_html(result, links)
        emit(page, output, pager=session.pager)
        return 0
    from backport.verdict.simulate import Simulator

    with Simulator(session.git, session.repo) as simulator:
        emit(to_text(result, simulator, clock=session.clock), output, pager=session.pager)
    return 0


# -- text ------------------------------------------------------------------------


def to_text(result: CheckResult, simulator: Simulator | None = None, *, clock: str | None = None) -> str:
    """`clock` says where the run's `now` was set, when it was not the clock."""
    out = [_heading(result, clock)]
    for verdict in result.verdicts:
        out.append("")
        out.extend(_verdict_text(verdict, result, simulator))
    if result.untagged_fixes:
        out.append("")
        out.append("Untagged fixes (the bug is on these lines, nobody nominated the fix):")
        for fix in result.untagged_fixes:
            lines = ", ".join(str(v) for v in fix.lines)
            out.append(f"  {fix.candidate.commit[:12]}  {fix.candidate.subject}")
            out.append(f"      fixes {fix.fixes[:12]}, on {lines}")
    out += problems_text(result.problems)
    return "\n".join(out)


def _heading(result: CheckResult, clock: str | None) -> str:
    lines = []
    for line in result.lines:
        last = f", last {line.last_release.tag}" if line.last_release else ""
        lines.append(f"{line.version} ({line.ref} {line.commit[:12]}{last})")
    counts: dict[str, int] = {}
    for verdict in result.verdicts:
        for target in verdict.targets:
            counts[target.state] = counts.get(target.state, 0) + 1
    summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "none"
    shown = ", ".join(lines) or "none (no stable branch found: pass --line VERSION=REF)"
    return (
        f"{result.unstable_ref} {result.unstable_commit[:12]}; lines: {shown}\n"
        f"{len(result.verdicts)} nominated commit{'' if len(result.verdicts) == 1 else 's'}; verdicts: {summary}"
        f" (as of {result.now[:10]}{f', now from {clock}' if clock else ''})"
    )


def _verdict_text(verdict: Verdict, result: CheckResult, simulator: Simulator | None) -> list[str]:
    candidate = verdict.candidate
    out = [
        f"{candidate.commit[:12]}  {candidate.subject}",
        f"    {candidate.author}, landed {candidate.committed[:10]}",
    ]
    for nomination in verdict.nominations:
        out.append(f"    {nomination.source:<7}  {nomination.text}")
    if verdict.merge:
        out.append("    merge commit: picked against its first parent (cherry-pick -m 1)")
    if not verdict.targets:
        out.append("    no target line (not for backport, or no maintained line matches)")
    refs = {line.version: line for line in result.lines}
    for target in verdict.targets:
        detail = verdict_detail(target, merge=verdict.merge, with_age=True)
        out.append(f"  {str(target.version):<6} {target.state:<11} {detail}".rstrip())
        if target.state != PENDING:
            continue
        if target.owners:
            out.append(f"         owners: {', '.join(target.owners)}")
        if target.applies == "conflict":
            line = refs[target.version]
            out.extend(_conflict_text(candidate.commit, line.commit, line.ref, verdict.merge, simulator))
    return out


def _conflict_text(commit: str, tip: str, ref: str, merge: bool, simulator: Simulator | None) -> list[str]:
    from backport.verdict.simulate import reproduce_command

    out = []
    if simulator is not None:
        hunks = simulator.conflict_hunks(commit, tip).rstrip("\n").splitlines()
        if hunks:
            out.append("         conflicting hunks:")
            shown = hunks[:HUNK_LINES]
            out.extend(f"           {row}" for row in shown)
            if len(hunks) > len(shown):
                out.append(f"           ... {len(hunks) - len(shown)} more lines: run the command below")
    out.append("         reproduce (your checkout stays untouched):")
    out.extend(f"           {row}" for row in reproduce_command(commit, ref, merge=merge).splitlines())
    return out
