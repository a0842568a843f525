"""What `backport pick` picks, in which order: read from the verdicts.

By default every `pending` commit of the line that applies cleanly, with
every commit of its `after` (and theirs, transitively: `after` is meant to
be complete already, closing it again costs nothing and keeps the plan right
if it is not), in unstable order. Named commits instead: each must be pending
on the line (a conflicting one too: picking it starts the resolution), and
brings its prerequisites along, which the plan says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from backport.errors import UsageError
from backport.models import PENDING, CheckResult, Line, Target, Verdict, Version
from backport.record import record


@record
class PlanItem:
    """One commit to pick."""

    commit: str
    subject: str
    author: str
    merge: bool  # picked against its first parent (-m 1)
    applies: str  # "clean" | "conflict", as the verdict says for the line's tip
    after: tuple[str, ...]  # commits of this plan it needs first
    named: bool = False  # asked for by name
    needed_by: tuple[str, ...] = ()  # commits of this plan that brought it along as a prerequisite


@record
class Plan:
    line: Line
    items: tuple[PlanItem, ...]  # unstable order, oldest first

    @property
    def commits(self) -> tuple[str, ...]:
        return tuple(item.commit for item in self.items)


def build(result: CheckResult, version: Version, named: Sequence[str] = ()) -> Plan:
    """The plan for the line `version` of `result`; `named` are full ids."""
    line = next((line for line in result.lines if line.version == version), None)
    if line is None:
        raise UsageError(f"no stable line {version} in this run", f"pass --line {version} or --line {version}=REF")
    states = _on_line(result, version)
    pending = {commit: (v, t) for commit, (v, t) in states.items() if t.state == PENDING}
    if named:
        for commit in named:
            if commit not in pending:
                raise _not_pending(commit, version, states[commit][1] if commit in states else None)
        wanted = list(dict.fromkeys(named))
    else:
        wanted = [c for c, (_, target) in pending.items() if target.applies == "clean"]
    needed_by = _close(wanted, pending)
    chosen = set(wanted) | set(needed_by)
    items = [_item(commit, pending, chosen, named, needed_by) for commit in _ordered(list(chosen), pending)]
    return Plan(line, tuple(items))


def _on_line(result: CheckResult, version: Version) -> dict[str, tuple[Verdict, Target]]:
    """Each candidate's verdict and target on the line `version`."""
    return {
        verdict.candidate.commit: (verdict, target)
        for verdict in result.verdicts
        for target in verdict.targets
        if target.version == version
    }


def _item(
    commit: str,
    pending: Mapping[str, tuple[Verdict, Target]],
    chosen: set[str],
    named: Sequence[str],
    needed_by: Mapping[str, set[str]],
) -> PlanItem:
    verdict, target = pending[commit]
    candidate = verdict.candidate
    return PlanItem(
        commit=commit,
        subject=candidate.subject,
        author=candidate.author,
        merge=verdict.merge,
        applies=target.applies or "clean",
        after=tuple(a for a in _ordered(target.after, pending) if a in chosen),
        named=commit in named,
        needed_by=tuple(_ordered(list(needed_by.get(commit, ())), pending)),
    )


def _close(wanted: Sequence[str], pending: Mapping[str, tuple[Verdict, Target]]) -> dict[str, set[str]]:
    """Every prerequisite of `wanted`, transitively: prerequisite -> the
    wanted commits that need it. Only pending commits can be prerequisites
    (what is applied is there already)."""
    needed_by: dict[str, set[str]] = {}
    for root in wanted:
        stack = [root]
        seen = {root}
        while stack:
            for prerequisite in pending[stack.pop()][1].after:
                if prerequisite in pending and prerequisite not in seen:
                    seen.add(prerequisite)
                    stack.append(prerequisite)
                    if prerequisite not in wanted:
                        needed_by.setdefault(prerequisite, set()).add(root)
    return needed_by


def _ordered(commits: Sequence[str], pending: Mapping[str, tuple[Verdict, Target]]) -> list[str]:
    return sorted((c for c in commits if c in pending), key=lambda c: pending[c][0].candidate.order)


def _not_pending(commit: str, version: Version, target: Target | None) -> UsageError:
    if target is None:
        return UsageError(
            f"commit {commit[:12]} is not nominated for {version}",
            f"nominate it first: backport nominate {commit[:12]} --to {version}",
        )
    why = target.state
    if target.evidence:
        why += f" ({target.evidence}{', as ' + target.applied_as[:12] if target.applied_as else ''})"
    return UsageError(f"commit {commit[:12]} is {why} on {version}, not pending", "pick only pending commits")
