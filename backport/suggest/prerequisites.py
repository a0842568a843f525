"""Prerequisites: the earlier unstable commit a conflicting pick needs first.

A commit that conflicts on a line often does so because an earlier change
to the same lines never went there. The candidates are the unstable commits
since the line's fork, before the commit, not on the line, that touch a
conflicting path, nearest first; each is checked with the simulator: picked
first, does it make the commit apply? The first that does is the
prerequisite. Only single commits are tried: a conflict that needs two
earlier commits is left to the coordinator, said as a conflict.
"""

from __future__ import annotations

from collections.abc import Sequence

from backport.suggest.features import Commit

TYPE_CHECKING = False
if TYPE_CHECKING:
    from backport.verdict.simulate import Simulator

TRIES = 5  # candidates simulated per conflicting commit


def candidates(commit: Commit, conflicts: Sequence[str], pool: Sequence[Commit]) -> list[Commit]:
    """Commits of `pool` (oldest first, not on the line) before `commit`
    that touch one of the conflicting paths, nearest first."""
    paths = set(conflicts)
    found = []
    for other in reversed(pool):
        if other.committed > commit.committed or other.id == commit.id:
            continue
        if paths.intersection(other.paths):
            found.append(other)
            if len(found) == TRIES:
                break
    return found


def find(
    simulator: Simulator, tip: str, commit: Commit, conflicts: Sequence[str], pool: Sequence[Commit]
) -> str | None:
    """The one earlier commit that makes `commit` apply cleanly on `tip`, or None."""
    for other in candidates(commit, conflicts, pool):
        plan = simulator.plan_line(tip, [other.id, commit.id])
        first, then = plan[other.id], plan[commit.id]
        if first.alone.clean and then.chained.clean and not then.alone.clean:
            return other.id
    return None
