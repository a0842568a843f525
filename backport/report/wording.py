"""The words of the reports, in one place: every renderer (text, Markdown,
HTML, mail, and `check`'s own) says a state, a mark or a count the same way,
because it says it with these.
"""

from __future__ import annotations

from datetime import datetime

from backport.escape import one_line
from backport.models import APPLIED, NOT_NEEDED, PENDING, Release, Target, plural
from backport.record import record
from backport.report.grouping import Debt, Entry, LineReport, Report

SHORT = 12


def short(commit: str | None) -> str:
    return commit[:SHORT] if commit else ""


def decisions_text(count: int) -> str:
    """How many decisions came from notes: none may mean none were fetched."""
    return plural(count, "decision") + " in notes" if count else "no decisions in notes (backport notes fetch)"


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


def commit_url(web_url: str, commit: str) -> str:
    """A commit's page in the project's web viewer: the `web-url` template's {commit} filled in."""
    return web_url.replace("{commit}", commit)


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


@record
class Mark:
    """A fact shown beside a pending row: a badge in HTML, a few words elsewhere."""

    kind: str  # "stale" | "warning" | "info" | "comment"
    text: str


def marks(target: Target, *, merge: bool = False) -> tuple[Mark, ...]:
    """What a reader should know about a pending verdict besides how it applies."""
    found = []
    if target.after:
        found.append(Mark("info", "after " + ", ".join(short(c) for c in target.after)))
    if merge:
        found.append(Mark("info", "merge: picked against its first parent"))
    if target.stale:
        found.append(Mark("stale", f"STALE: {one_line(target.stale_reason or 'waiting')}"))
    if target.warning:  # pending although something says otherwise (a Fixes: target not on the line)
        found.append(Mark("warning", f"warning: {one_line(target.warning)}"))
    if target.reason:  # the nomination's own comment: "Backport: 4.19+ # maybe older"
        found.append(Mark("comment", f"# {one_line(target.reason)}"))
    return tuple(found)


def notes(entry: Entry) -> str:
    """The marks of a report row, as words."""
    return "; ".join(m.text for m in marks(entry.target, merge=entry.verdict.merge))


def applies_text(target: Target) -> str:
    """"clean", or "conflict: a.c, b.c"."""
    text = target.applies or "?"
    if target.conflicts:
        text += ": " + ", ".join(one_line(p) for p in target.conflicts)
    return text


def verdict_detail(target: Target, *, merge: bool = False, with_age: bool = False) -> str:
    """What backs a verdict, in a few words: `check`'s one wording of it."""
    parts: list[str] = []
    if target.state == APPLIED:
        evidence = target.evidence or "applied"
        parts.append(f"{evidence}, as {short(target.applied_as)}" if target.applied_as else evidence)
    elif target.state == PENDING:
        parts.append(applies_text(target))
        if with_age:
            parts.append(plural(target.age_days, "day") if target.age_days is not None else "age unknown")
        parts.extend(m.text for m in marks(target, merge=merge))
    elif target.state == NOT_NEEDED and target.reason:
        parts.append(f"not needed: {one_line(target.reason)}")
    else:
        parts.append(one_line(target.reason or target.evidence or ""))
    return "; ".join(p for p in parts if p)


def why_not_needed(entry: Entry) -> str:
    if entry.target.reason:
        return entry.target.reason
    fixes = entry.verdict.candidate.fixes
    return "fixes " + ", ".join(short(f) for f in fixes) + f" (not on {entry.line.version})" if fixes else ""

