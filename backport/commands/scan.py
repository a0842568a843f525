"""`backport scan`: the nominations found on unstable."""

from __future__ import annotations

from backport.cache import Cache
from backport.models import Nomination, ScanResult, Version, plural
from backport.output import SCHEMA, candidate_json, dumps, emit, problem_json, problems_text
from backport.scan.scanner import scan_session
from backport.session import Session


def run(session: Session, fmt: str, output: str | None) -> int:
    session.require_history()
    result = scan_session(session, Cache.open(session.repo))
    if fmt == "json":
        emit(dumps(to_json(result)), output, pager=session.pager)
    else:
        emit(to_text(result, [line.version for line in session.heads]), output, pager=session.pager)
    return 0


def to_json(result: ScanResult) -> dict:
    return {
        "schema": SCHEMA,
        "unstable": {"ref": result.unstable_ref, "commit": result.unstable_commit},
        "candidates": [candidate_json(c) for c in result.candidates],
        "problems": [problem_json(p) for p in result.problems],
    }


def to_text(result: ScanResult, maintained: list[Version]) -> str:
    candidates = result.candidates
    since = f" since {result.base[:12]}" if result.base else ""
    out = [
        f"{result.unstable_ref} {result.unstable_commit[:12]}: "
        f"{plural(len(candidates), 'nominated commit')}, {plural(len(result.problems), 'problem')}{since}"
    ]
    for candidate in candidates:
        out.append("")
        out.append(f"{candidate.commit[:12]}  {candidate.subject}")
        out.append(f"    {candidate.author}, {candidate.committed[:10]}")
        for nomination in candidate.nominations:
            out.append(f"    {nomination.source:<7} {nomination.text}{_meaning(nomination, maintained)}")
    out += problems_text(result.problems)
    return "\n".join(out)


def _meaning(nomination: Nomination, maintained: list[Version]) -> str:
    notes = []
    if nomination.kind == "none":
        notes.append("not for backport")
    else:
        versions = nomination.versions(maintained)
        verb = "declines" if nomination.kind == "skip" else "for"
        notes.append(f"{verb} {', '.join(map(str, versions))}" if versions else "no maintained line")
    if nomination.misplaced:
        notes.append("outside the trailer block")
    return "   (" + "; ".join(notes) + ")"


