"""Renderers of a `backport.report.grouping.Report`: text, Markdown, HTML, mail.

Each module turns the same grouped records into one format; the helpers here
are the wording they share, so the formats never disagree.
"""

from __future__ import annotations

from datetime import datetime

from backport.models import Release, UntaggedFix
from backport.report.grouping import Debt, Entry, LineReport, Report

SHORT = 12


def short(commit: str | None) -> str:
    return commit[:SHORT] if commit else ""


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


def day(iso: str | None) -> str:
    """The date part of an ISO 8601 time."""
    return (iso or "")[:10]


def moment(iso: str | None) -> str:
    """"2025-06-01 12:00 UTC" (or "... +0100") of an ISO 8601 time: to the minute, with its offset."""
    if not iso:
        return "now"
    try:
        when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if not when.tzinfo:
        return when.strftime("%Y-%m-%d %H:%M")
    return when.strftime("%Y-%m-%d %H:%M %z").replace("+0000", "UTC")


def as_of(report: Report) -> str:
    """"as of 2025-06-01 12:00 UTC", and where that moment was set when it is not the clock."""
    where = f" (now from {report.clock})" if report.clock else ""
    return f"as of {moment(report.result.now)}{where}"


def name(person: str) -> str:
    """"Jan Kowalski" of "Jan Kowalski <jan@example.org>"."""
    shown = person.split("<", 1)[0].strip()
    return shown or person.strip("<> ")


def names(people: tuple[str, ...], limit: int | None = None) -> str:
    """"Jan Beulich, Andrew Cooper +1" : names only, the rest counted."""
    shown = [name(p) for p in people[:limit]]
    rest = len(people) - len(shown)
    return ", ".join(shown) + (f" +{rest}" if rest else "")


def owed_text(debt: Debt) -> str:
    """"11 pending (4.19: 4, 4.20: 7), 1 conflict, 8 stale"."""
    counts = ", ".join(f"{v}: {sum(1 for e in debt.entries if e.line.version == v)}" for v in debt.versions)
    parts = [f"{len(debt.entries)} pending ({counts})"]
    if debt.conflicts:
        parts.append(plural(debt.conflicts, "conflict"))
    if debt.stale:
        parts.append(f"{debt.stale} stale")
    return ", ".join(parts)


def release_text(release: Release | None) -> str:
    return f"{release.tag} ({day(release.date)})" if release else "none yet"


def since_text(line: LineReport) -> str:
    release = line.line.last_release
    if release is None:
        return "No point release yet"
    went = plural(line.went_in_since_release, "backport")
    return f"Last release {release.tag} on {day(release.date)}; {went} went in since"


def age(entry: Entry) -> str:
    days = entry.target.age_days
    return "" if days is None else plural(days, "day")


def notes(entry: Entry) -> str:
    """What a reader should know about a pending entry besides its state."""
    parts = []
    if entry.target.after:
        parts.append("after " + ", ".join(short(c) for c in entry.target.after))
    if entry.verdict.merge:
        parts.append("merge: picked against its first parent")
    if entry.target.stale:
        parts.append(f"STALE: {entry.target.stale_reason or 'waiting'}")
    if entry.target.warning:
        parts.append(f"warning: {entry.target.warning}")
    if entry.target.reason:  # the nomination's own comment: "Backport: 4.19+ # maybe older"
        parts.append(f"# {entry.target.reason}")
    return "; ".join(parts)


def why_not_needed(entry: Entry) -> str:
    if entry.target.reason:
        return entry.target.reason
    fixes = entry.verdict.candidate.fixes
    return "fixes " + ", ".join(short(f) for f in fixes) + f" (not on {entry.line.version})" if fixes else ""


def untagged_lines(fix: UntaggedFix) -> str:
    return ", ".join(str(v) for v in fix.lines)
