"""The whole result of a check: the session's unstable branch scanned and
every nomination judged on its lines, from the cache when nothing it
depends on changed. What `check`, `report` and `pick` all start from."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from backport.errors import GitError, UsageError
from backport.git import check_revision
from backport.lines import require_tips
from backport.models import CheckResult
from backport.scan.scanner import scan_session, session_inputs
from backport.session import Session
from backport.verdict.judge import evaluate


def check_session(
    session: Session,
    now: datetime,
    commits: Sequence[str] = (),
    *,
    progress: Callable[[str], None] | None = None,
) -> CheckResult:
    """Scan and judge the session's repository: what `check` and `report` both start from.

    `commits` (any revisions) limits the verdicts to those candidates; one
    that names nothing, or nothing nominated, is a usage error.
    """
    session.require_history()
    wanted = resolve_commits(session, commits)
    only = set(wanted.values()) if wanted else None
    cache = session.cache
    inputs, entry, result = None, None, None
    if cache.enabled:
        from backport.verdict import check_cache
        from backport.verdict.simulate import fingerprint

        inputs = session_inputs(session)
        entry = check_cache.key(session, inputs, fingerprint(session.git), only)
        result = check_cache.load(cache, entry, now, int(session.config["stale-after"]))
    if result is None:
        result = _check(session, now, wanted, only, inputs, progress)
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


def resolve_commits(session: Session, commits: Sequence[str]) -> dict[str, str]:
    """Each commit a user named -> its full id, in one process; an unknown one is a usage error."""
    resolved = session.git.resolve_many(check_revision(name) for name in commits)  # one process
    for name in commits:
        if name not in resolved:
            raise UsageError(f"unknown commit {name!r}", "give a commit id or revision on the unstable branch")
    return {name: resolved[name] for name in commits}
