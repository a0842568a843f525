"""`backport check [COMMIT...]`: the verdict for each nominated commit on each line."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from backport import completion
from backport.commands import Globals, format_options, now_option, pass_globals
from backport.errors import GitError, UsageError
from backport.git import check_revision
from backport.lines import require_tips
from backport.models import PENDING, CheckResult, Verdict
from backport.output import check_json, dumps, emit, problems_text
from backport.report.wording import verdict_detail
from backport.scan.scanner import scan_session, session_inputs
from backport.session import Session
from backport.verdict.judge import SimulatorFactory, default_simulator, evaluate

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


def run(
    session: Session,
    commits: Sequence[str],
    fmt: str,
    output: str | None,
    now: datetime,
    simulator_factory: SimulatorFactory = default_simulator,
) -> int:
    result = check_session(session, now, commits, simulator_factory=simulator_factory)
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
    with simulator_factory(session.git, session.repo) as simulator:
        emit(to_text(result, simulator, clock=session.clock), output, pager=session.pager)
    return 0


def check_session(
    session: Session,
    now: datetime,
    commits: Sequence[str] = (),
    *,
    simulator_factory: SimulatorFactory = default_simulator,
    progress: Callable[[str], None] | None = None,
) -> CheckResult:
    """Scan and judge the session's repository: what `check` and `report` both start from.

    `commits` (any revisions) limits the verdicts to those candidates; one
    that names nothing, or nothing nominated, is a usage error.
    """
    session.require_history()
    wanted = _resolve(session, commits)
    only = set(wanted.values()) if wanted else None
    cache = session.cache
    inputs, entry, result = None, None, None
    if cache.enabled and simulator_factory is default_simulator:  # another simulator's answers are its own
        from backport.verdict import check_cache
        from backport.verdict.simulate import fingerprint

        inputs = session_inputs(session)
        entry = check_cache.key(session, inputs, fingerprint(session.git), only)
        result = check_cache.load(cache, entry, now, int(session.config["stale-after"]))
    if result is None:
        result = _check(session, now, wanted, only, inputs, simulator_factory, progress)
        if entry is not None:
            check_cache.store(cache, entry, result)
    if wanted:
        listed = {v.candidate.commit for v in result.verdicts} | {f.candidate.commit for f in result.untagged_fixes}
        for name, sha in wanted.items():
            if sha not in listed:
                raise _not_nominated(session, name, sha)
    return result


def _check(
    session: Session,
    now: datetime,
    wanted: dict[str, str],
    only: set[str] | None,
    inputs: dict[str, Any] | None,
    simulator_factory: SimulatorFactory,
    progress: Callable[[str], None] | None,
) -> CheckResult:
    """Scan and judge, from the cached pieces where there are some."""
    scanned = scan_session(session, session.cache, inputs=inputs)
    interesting = {c.commit for c in scanned.commits}
    for name, sha in wanted.items():
        if sha not in interesting:  # before any simulation: say so at once
            raise _not_nominated(session, name, sha)
    try:
        return evaluate(
            session,
            scanned,
            now=now,
            simulator_factory=simulator_factory,
            only=only,
            cache=session.cache,
            progress=progress,
        )
    except GitError:
        require_tips(session.git, session.heads)  # a line deleted under us says so; anything else as git said it
        raise


def _not_nominated(session: Session, name: str, sha: str) -> UsageError:
    return UsageError(
        f"commit {sha[:12]} ({name}) has no backport nomination on {session.unstable.ref}",
        f"nominate it with: backport nominate {sha[:12]} --to VERSION",
    )


def _resolve(session: Session, commits: Sequence[str]) -> dict[str, str]:
    resolved = session.git.resolve_many(check_revision(name) for name in commits)  # one process
    for name in commits:
        if name not in resolved:
            raise UsageError(f"unknown commit {name!r}", "give a commit id or revision on the unstable branch")
    return {name: resolved[name] for name in commits}


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
