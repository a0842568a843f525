"""The whole result of `check`, cached: a re-run over unchanged history reads
one entry instead of scanning and judging again.

The key names every input of the verdicts: the scan's inputs (the unstable
commit, where the scan stops, the notes commit, the grammar, the known
lines), each line's tip and point releases, the effective configuration, the
simulator's fingerprint (its engine, git's version, the merge settings), the
commits asked about, and the layout of every record stored. The commits and
MAINTAINERS are content, named by the unstable commit and the tips. Like
every entry of backport.cache, one never goes stale: a changed input is
another key.

What depends on the clock is not taken from the entry: a pending target's
age, and whether that makes it stale, are worked out again for `now`, so an
entry stays right from one day to the next.

The records go in as JSON arrays (they are tuples) and come back through
backport.record.rebuild. 1,200 verdicts make some 20,000 records: the
cyclic garbage collector, which would walk them all several times as they
are made, is held off meanwhile (they hold no cycles).
"""

from __future__ import annotations

import gc
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from backport.models import PENDING, CheckResult, UntaggedFix, Verdict
from backport.record import layout, rebuild, replace
from backport.verdict.judge import aged

if TYPE_CHECKING:
    from backport.cache import Cache
    from backport.session import Session

NAMESPACE = "check"  # its version, in backport.cache.NAMESPACES, goes up when what decides a verdict changes


def key(session: Session, scan_inputs: dict[str, Any], simulator: str, only: Collection[str] | None) -> dict[str, Any]:
    """The cache key of the check result for `only` (None: every candidate)."""
    return {
        "unstable": session.unstable.ref,  # the name shown, beside the commit in the scan's inputs
        "scan": scan_inputs,
        "lines": session.lines,  # versions, refs, tips and releases
        "config": dict(session.config.values),
        "simulator": simulator,
        "only": sorted(only) if only is not None else None,
        "layout": layout(CheckResult),
    }


def load(cache: Cache, entry: dict[str, Any], now: datetime, stale_after: int) -> CheckResult | None:
    """The stored result for `entry`, aged for `now`; None on a miss."""
    with _collector_off():
        stored = cache.get(NAMESPACE, entry)
        if stored is None:
            return None
        try:
            result = rebuild(CheckResult, stored)
            return replace(
                result,
                verdicts=_aged(result, now, stale_after),
                untagged_fixes=_aged_fixes(result, now, stale_after),
                now=now.isoformat(),
            )
        except (TypeError, ValueError, IndexError, KeyError, AttributeError):
            return None  # not what this version writes: a miss, replaced by the next store


def _aged(result: CheckResult, now: datetime, stale_after: int) -> tuple[Verdict, ...]:
    lines = {line.version: line for line in result.lines}
    verdicts = list(result.verdicts)
    for index, verdict in enumerate(verdicts):
        if any(t.state == PENDING for t in verdict.targets):
            targets = tuple(
                aged(t, verdict.candidate, lines[t.version], now, stale_after) if t.state == PENDING else t
                for t in verdict.targets
            )
            verdicts[index] = replace(verdict, targets=targets)
    return tuple(verdicts)


def _aged_fixes(result: CheckResult, now: datetime, stale_after: int) -> tuple[UntaggedFix, ...]:
    lines = {line.version: line for line in result.lines}
    return tuple(
        replace(
            fix,
            targets=tuple(
                aged(t, fix.candidate, lines[t.version], now, stale_after) if t.state == PENDING else t
                for t in fix.targets
            ),
        )
        for fix in result.untagged_fixes
    )


def store(cache: Cache, entry: dict[str, Any], result: CheckResult) -> None:
    """Keep the result, unless a verdict is unknown: a fetch may bring the
    missing object without changing any input of the key."""
    if not result.incomplete:
        cache.put(NAMESPACE, entry, result)


@contextmanager
def _collector_off() -> Iterator[None]:
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
