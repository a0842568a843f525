"""`backport suggest`: the untagged commits each line would likely take, ranked, with reasons."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from typing import Any

import click

from backport.commands import Globals, format_options, pass_globals
from backport.errors import UsageError
from backport.models import PENDING, CheckResult, Version
from backport.output import dumps, emit
from backport.session import Session


def parse_as_of(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"bad --as-of {value!r}", "write a date or ISO 8601 time, e.g. 2024-06-01") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@click.command("suggest")
@click.option(
    "--as-of",
    "as_of",
    metavar="DATE",
    callback=lambda _ctx, _param, value: parse_as_of(value),
    help="Learn and rank with only what existed at DATE (ISO 8601).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=15,
    show_default=True,
    help="Per line, not counting the commits needed first; 0 for all.",
)
@format_options(("text", "json"))
@pass_globals
def cli_command(g: Globals, as_of: datetime | None, limit: int, fmt: str, output: str | None) -> int:
    """Commits without a request that the project would likely backport.

    Learns from the project's own backports (stable commits that name their
    original) and ranks, per maintained line, the unstable commits since its
    fork with no request, `none` or skip, and not on the line yet. The
    global --line (before or after `suggest`) ranks for that line only.
    """
    return run(g.session(), as_of, limit, fmt, output)


def run(session: Session, as_of: datetime | None, limit: int, fmt: str, output: str | None) -> int:
    from backport.suggest.rank import Pending, suggest

    if sys.stderr.isatty():
        sys.stderr.write("learning from the lines' history…")
        sys.stderr.flush()
    checked = cached_check(session) if as_of is None else None
    found = conflicting(checked) if checked is not None else {}

    def waiting() -> Pending:
        return found

    try:
        result = suggest(session, as_of=as_of, limit=limit, pending=waiting if checked is not None else None)
    finally:
        if sys.stderr.isatty():
            sys.stderr.write("\r\x1b[K")
    if fmt == "json":
        emit(dumps(to_json(result)), output)
    else:
        emit(to_text(result), output, pager=session.pager)
    return 0


def cached_check(session: Session) -> CheckResult | None:
    """The check result of these refs if a `check` or `report` left it in the
    cache, else None: prerequisites of pending commits come from it. A cold
    check can take minutes on a large history (Xen: 110 s on a shared
    2-core machine); `report --suggest` always has one."""
    cache = session.cache
    if not cache.enabled:
        return None
    from backport.scan.scanner import session_inputs
    from backport.verdict import check_cache
    from backport.verdict.simulate import fingerprint

    entry = check_cache.key(session, session_inputs(session), fingerprint(session.git), None)
    return check_cache.load(cache, entry, datetime.now(timezone.utc), int(session.config["stale-after"]))


def conflicting(result: CheckResult) -> dict[Version, list[tuple[str, tuple[str, ...]]]]:
    """Per line, the pending commits that conflict there and their paths."""
    found: dict[Version, list[tuple[str, tuple[str, ...]]]] = {}
    for verdict in result.verdicts:
        for target in verdict.targets:
            if target.state == PENDING and target.applies == "conflict":
                found.setdefault(target.version, []).append((verdict.candidate.commit, target.conflicts))
    return found


def suggestion_json(s: Any) -> dict[str, Any]:
    """One suggestion as SPEC's JSON `suggestions` item (plus conflicts and needed_by)."""
    return {
        "commit": s.commit,
        "subject": s.subject,
        "version": str(s.version),
        "score": s.score,
        "reasons": list(s.reasons),
        "applies": s.applies,
        "conflicts": list(s.conflicts),
        "needed_by": s.needed_by,
    }


def to_json(result: Any) -> dict[str, Any]:
    return {
        "schema": 1,
        "as_of": result.as_of,
        "trained": {"rows": result.trained_rows, "taken": result.trained_taken},
        "lines": [
            {"version": str(line.version), "ref": line.ref, "phase": line.phase, "scored": line.scored}
            for line in result.lines
        ],
        "not_ranked": list(result.skipped_lines),
        "suggestions": [suggestion_json(s) for line in result.lines for s in line.suggestions],
    }


SUBJECT = 100  # characters of a subject shown in text; JSON has it whole


def to_text(result: Any) -> str:
    out = [
        f"Suggestions as of {result.as_of[:10]} (learned from {result.trained_rows} commit-line pairs, "
        f"{result.trained_taken} taken)"
    ]
    if not result.lines and not result.skipped_lines:
        out.append("no maintained stable line to rank: name one with --line VERSION=REF")
    elif not result.trained_taken:
        out.append(
            "nothing learned yet: no line has taken a commit that names its original "
            "(cherry-pick -x, or a reference line), so every commit scores alike"
        )
    for line in result.lines:
        out.append("")
        out.append(f"{line.version} ({line.ref}): {line.phase}; {line.scored} commits scored")
        if not line.suggestions:
            out.append("  nothing to suggest")
        for s in line.suggestions:
            applies = s.applies or "not checked"
            if s.conflicts:
                applies += ": " + ", ".join(s.conflicts)
            subject = s.subject if len(s.subject) <= SUBJECT else s.subject[: SUBJECT - 1] + "…"
            out.append(f"  {s.score:5.2f}  {s.commit[:12]}  {subject}")
            out.append("         " + "; ".join([applies, *s.reasons]))
    if result.skipped_lines:
        out.append("")
        out.append(f"Not ranked (no commit in the last 12 months): {', '.join(result.skipped_lines)}")
    return "\n".join(out)
