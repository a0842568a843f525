"""The scanner: every nomination on the unstable branch, in one streamed `git log`.

One pass reads messages and `refs/notes/backport` notes together. Only
messages that mention a key we care about are decoded and parsed; a bytes
regex over the raw message rejects the rest at C speed, which is what keeps
the scan close to the cost of git producing the log.
"""

from __future__ import annotations

import re
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from backport.config import NOTES_REF
from backport.git import Git
from backport.models import Candidate, Line, Nomination, Problem, Request, ScanResult, Version, listing
from backport.nominations import Grammar, parse

if TYPE_CHECKING:
    from backport.cache import Cache
    from backport.session import Session

# Bump when what the scanner finds changes for the same history, so cached
# scans from an older backport read as misses.
SCAN_VERSION = 1

_FIELDS = 7
_FORMAT = "%H%x00%P%x00%an <%ae>%x00%aI%x00%cI%x00%B%x00%N"


def _prefilter(grammar: Grammar) -> re.Pattern[bytes]:
    keys = {*grammar.keys, *grammar.skip_keys, *grammar.fixes_keys}
    alternatives = b"|".join(re.escape(k.encode()) for k in sorted(keys, key=len, reverse=True))
    return re.compile(
        rb"^(?:" + alternatives + rb")[ \t]*:|^This reverts commit ",
        re.IGNORECASE | re.MULTILINE,
    )


def scan_base(git: Git, unstable: str, lines: Sequence[Line]) -> str | None:
    """Where the scan stops: the oldest line's fork point from unstable."""
    if not lines:
        return None
    oldest = min(lines, key=lambda line: line.version)
    return git.merge_base(unstable, oldest.commit)


def scan_session(session: "Session", cache: "Cache | None" = None) -> ScanResult:
    """Scan the session's unstable branch over its lines."""
    return scan(
        session.git,
        session.unstable.ref,
        session.unstable.commit,
        session.lines,
        session.known_versions,
        session.grammar,
        cache=cache,
    )


def scan(
    git: Git,
    unstable_ref: str,
    unstable_commit: str,
    lines: Sequence[Line],
    known: Sequence[Version],
    grammar: Grammar,
    *,
    cache: "Cache | None" = None,
) -> ScanResult:
    base = scan_base(git, unstable_commit, lines)
    key: dict[str, Any] = {}
    if cache is not None and cache.enabled:
        # Every input of the result: the history (tip and stop), the notes,
        # the grammar and the line versions problems are judged against.
        notes = git.resolve_many([NOTES_REF]).get(NOTES_REF)
        key = {
            "version": SCAN_VERSION,
            "unstable": unstable_commit,
            "base": base,
            "notes": notes,
            "grammar": asdict(grammar),
            "known": [str(v) for v in known],
        }
        stored = cache.get("scan", key)
        if stored is not None:
            try:
                return _from_json(unstable_ref, stored)
            except (KeyError, TypeError, ValueError):
                pass  # an unreadable entry is a miss; the put below replaces it
    result = _scan(git, unstable_ref, unstable_commit, base, known, grammar)
    if key:
        cache.put("scan", key, _to_json(result))  # type: ignore[union-attr]
    return result


def _scan(
    git: Git,
    unstable_ref: str,
    unstable_commit: str,
    base: str | None,
    known: Sequence[Version],
    grammar: Grammar,
) -> ScanResult:
    args = ["log", "-z", "--no-color", f"--format={_FORMAT}", "--no-notes", f"--notes={NOTES_REF}", unstable_commit]
    if base:
        args.append(f"^{base}")
    interesting = _prefilter(grammar)
    found: list[tuple[int, Candidate]] = []
    problem_groups: list[list[Problem]] = []  # newest commit first, as git gives them
    count = 0
    for sha, parents, author, adate, cdate, body, note in git.records([*args, "--"], _FIELDS):
        count += 1
        if not note and not interesting.search(body):
            continue
        commit = sha.decode()
        message = _decode(body)
        parsed = parse(message, grammar, "trailer")
        notes = parse(_decode(note), grammar, "note") if note else None
        nominations = parsed.nominations + (notes.nominations if notes else ())
        errors = list(parsed.errors) + (list(notes.errors) if notes else [])
        problems = [Problem(commit, text, error) for text, error in errors]
        problems += _unknown_lines(commit, nominations, known)
        if problems:
            problem_groups.append(problems)
        if not (nominations or parsed.fixes or parsed.reverts):
            continue
        found.append(
            (
                count,
                Candidate(
                    commit=commit,
                    subject=message.split("\n", 1)[0].strip(),
                    author=_decode(author),
                    date=adate.decode(),
                    committed=cdate.decode(),
                    parents=tuple(parents.decode().split()),
                    order=0,
                    nominations=nominations,
                    fixes=parsed.fixes,
                    reverts=parsed.reverts,
                ),
            )
        )
    commits = tuple(_with_order(found, count))
    problems = tuple(p for group in reversed(problem_groups) for p in group)  # oldest first
    return ScanResult(unstable_ref, unstable_commit, base, commits, problems)


def _with_order(found: list[tuple[int, Candidate]], total: int) -> Iterable[Candidate]:
    for position, candidate in reversed(found):
        yield replace(candidate, order=total - position)


def _unknown_lines(commit: str, nominations: Iterable[Nomination], known: Sequence[Version]) -> list[Problem]:
    """A well-formed version that names no stable line is still a problem."""
    if not known:
        return []
    newest = max(known)
    problems = []
    for nomination in nominations:
        for request in nomination.requests:
            if request.plus and request.version > newest:
                error = f"no stable line {request.version} or newer (known: {listing(known)})"
            elif not request.plus and request.version not in known:
                error = f"unknown stable line {request.version} (known: {listing(known)})"
            else:
                continue
            problems.append(Problem(commit, nomination.text, error))
    return problems


def _decode(data: bytes) -> str:
    # git log re-encodes messages that declare an encoding; undeclared bytes
    # that are not UTF-8 are shown with replacement characters, never dropped.
    return data.decode("utf-8", "replace")


def _to_json(result: ScanResult) -> dict[str, Any]:
    return {
        "unstable_commit": result.unstable_commit,
        "base": result.base,
        "commits": [asdict(c) for c in result.commits],
        "problems": [asdict(p) for p in result.problems],
    }


def _from_json(unstable_ref: str, data: dict[str, Any]) -> ScanResult:
    def nomination(n: dict[str, Any]) -> Nomination:
        requests = tuple(Request(Version(tuple(r["version"]["parts"])), r["plus"]) for r in n["requests"])
        return Nomination(n["source"], n["text"], n["kind"], requests, n["comment"], n["misplaced"])

    commits = tuple(
        Candidate(
            commit=c["commit"],
            subject=c["subject"],
            author=c["author"],
            date=c["date"],
            committed=c["committed"],
            parents=tuple(c["parents"]),
            order=c["order"],
            nominations=tuple(nomination(n) for n in c["nominations"]),
            fixes=tuple(c["fixes"]),
            reverts=tuple(c["reverts"]),
        )
        for c in data["commits"]
    )
    problems = tuple(Problem(p["commit"], p["text"], p["error"]) for p in data["problems"])
    return ScanResult(unstable_ref, data["unstable_commit"], data["base"], commits, problems)
