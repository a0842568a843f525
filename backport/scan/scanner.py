"""The scanner: every nomination on the unstable branch and in notes.

backport.scan.history hands over the commits worth parsing (those whose
message has a line that starts with a key we care about, picked by git
itself, and those with a note), each with its author, dates and parents;
only those are decoded and parsed here. The scan stays close to the cost
of git producing the log of the range.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import closing
from datetime import datetime, timedelta, timezone
from functools import cache
from typing import TYPE_CHECKING, Any

from backport.cache import version
from backport.config import NOTES_REF
from backport.errors import GitError
from backport.escape import printable
from backport.forks import ForkPoints
from backport.git import Git
from backport.lines import require_tips
from backport.models import Candidate, Line, Nomination, Problem, ScanResult, Version
from backport.nominations import Grammar, Parsed, line_errors, parse
from backport.record import layout, rebuild, replace
from backport.scan.history import History, Shown

if TYPE_CHECKING:
    from backport.cache import Cache
    from backport.session import Session


def scan_session(
    session: Session, cache: Cache | None = None, *, inputs: dict[str, Any] | None = None
) -> ScanResult:
    """Scan the session's unstable branch over its lines.

    `inputs`: session_inputs(session), when the caller has it already."""
    return scan(
        session.git,
        session.unstable.ref,
        session.unstable.commit,
        session.heads,
        session.known_versions,
        session.grammar,
        cache=cache,
        inputs=inputs,
        forks=session.forks,
    )


def session_inputs(session: Session) -> dict[str, Any]:
    """Every input of the session's scan result (scan_inputs)."""
    return scan_inputs(session.git, session.unstable.commit, session.heads, session.known_versions, session.grammar)


def scan_inputs(
    git: Git, unstable_commit: str, lines: Sequence[Line], known: Sequence[Version], grammar: Grammar
) -> dict[str, Any]:
    """Every input of a scan's result, as a cache key: the history (tip and
    stop), the notes, the grammar and the line versions problems are judged
    against."""
    return {
        "version": version("scan"),
        "unstable": unstable_commit,
        "stop": _stop(lines),
        "notes": git.resolve_many([NOTES_REF]).get(NOTES_REF),
        "grammar": grammar._asdict(),  # type: ignore[attr-defined]  # a record is a namedtuple
        "known": [str(v) for v in known],
        "layout": layout(ScanResult),
    }


def _stop(lines: Sequence[Line]) -> str | None:
    """Where the scan stops: the oldest line's tip (its fork point is the same place in unstable)."""
    return min(lines, key=lambda line: line.version).commit if lines else None


def scan(
    git: Git,
    unstable_ref: str,
    unstable_commit: str,
    lines: Sequence[Line],
    known: Sequence[Version],
    grammar: Grammar,
    *,
    cache: Cache | None = None,
    inputs: dict[str, Any] | None = None,
    forks: ForkPoints | None = None,
) -> ScanResult:
    """The scan of `unstable ^oldest-tip`, from the cache when it has it.
    `forks`: the run's fork points (one is made when not given)."""
    key: dict[str, Any] = {}
    if cache is not None and cache.enabled:
        key = inputs or scan_inputs(git, unstable_commit, lines, known, grammar)
        stored = cache.get("scan", key)
        if stored is not None:
            try:  # the same history may be under another name today
                return replace(rebuild(ScanResult, stored), unstable_ref=unstable_ref)
            except (TypeError, ValueError, IndexError):
                pass  # an unreadable entry is a miss; the put below replaces it
    try:
        forks = forks or ForkPoints(git, unstable_commit, cache)
        result = _scan(git, unstable_ref, unstable_commit, lines, known, grammar, forks)
    except GitError:
        require_tips(git, lines)  # a line deleted under us says so; anything else as git said it
        raise
    if key:
        cache.put("scan", key, result)  # type: ignore[union-attr]  # records are tuples: JSON arrays
    return result


# commit -> (position in the log of the whole range, 0 = newest; subject; what it says; its problems)
_Seen = dict[str, tuple[int, str, Parsed, list[Problem]]]
# commit -> its author, dates and parents, for a candidate (_details)
_Details = dict[str, dict[str, Any]]


def _scan(
    git: Git,
    unstable_ref: str,
    unstable_commit: str,
    lines: Sequence[Line],
    known: Sequence[Version],
    grammar: Grammar,
    forks: ForkPoints,
) -> ScanResult:
    """Every commit of `unstable ^oldest-tip` that nominates, fixes, reverts
    or has a note, oldest first.

    `unstable ^oldest-tip` is the same set of commits as `unstable
    ^fork-point`, and git can start on it at once; the fork point itself
    (the scan base, for the verdicts) is found alongside.
    """
    stop = _stop(lines)
    newer = sorted((line for line in lines if line.commit != stop), key=lambda line: line.version, reverse=True)
    tips = [line.commit for line in newer]  # newest line first: the pieces come out of similar size
    forks.start(tips)  # the newer lines' fork points, where the pieces are cut: one walk for all, beside the log

    def cuts() -> list[str]:
        found = forks.many(tips)
        return [c for c in dict.fromkeys(c for tip in tips for c in found[tip]) if c != stop]

    keys = (*grammar.request_keys, *grammar.skip_keys, *grammar.fixes_keys)
    with closing(History(git, unstable_commit, stop, keys, tips, cuts)) as history:
        found: dict[str, tuple[str, Parsed, list[Problem]]] = {}
        details: _Details = {}
        for shown in history:
            found[shown.commit] = _, parsed, _ = _judge(shown, grammar, known)
            if parsed.nominations or parsed.fixes or parsed.reverts:
                details[shown.commit] = _details(shown)
        positions = history.positions()
        seen: _Seen = {commit: (positions[commit], *judged) for commit, judged in found.items()}
        _add_prerequisites(git, history, seen, details)
        boundary = history.boundary()
    # The fork point. Every best common ancestor of unstable and the oldest
    # line is a commit just outside the range: when only one commit is, it
    # is the fork point (otherwise the fork points' walk says).
    if stop and len(boundary) == 1:
        forks.learn(stop, tuple(boundary))
    base = forks.of(stop) if stop else None
    return _result(unstable_ref, unstable_commit, base, seen, details)


def _judge(shown: Shown, grammar: Grammar, known: Sequence[Version]) -> tuple[str, Parsed, list[Problem]]:
    """A commit's subject, what its message and note say, and the problems in them."""
    message = _decode(shown.message)
    parsed = parse(message, grammar, "trailer")
    if shown.note is not None:
        extra = parse(_decode(shown.note), grammar, "note")
        nominations, errors = parsed.nominations + extra.nominations, parsed.errors + extra.errors
        parsed = Parsed(nominations, errors, parsed.fixes, parsed.reverts)
    problems = [Problem(shown.commit, text, error) for text, error in parsed.errors]
    problems += [Problem(shown.commit, text, error) for text, error in line_errors(parsed.nominations, known)]
    return _subject(message), parsed, problems


def _result(unstable_ref: str, unstable_commit: str, base: str | None, seen: _Seen, details: _Details) -> ScanResult:
    """The candidates (the commits that ask, fix or revert) and every problem, oldest first."""
    ordered = sorted(seen.items(), key=lambda item: item[1][0])  # newest first
    kept = [(commit, entry) for commit, entry in ordered if commit in details]
    oldest = kept[-1][1][0] if kept else 0
    commits = []
    for commit, (position, subject, parsed, _) in reversed(kept):
        known_as = details[commit]
        commits.append(
            Candidate(  # positional: keywords cost 5 ms on 4,000 candidates
                commit,
                subject,
                known_as["author"],
                known_as["date"],
                known_as["committed"],
                known_as["parents"],
                oldest - position,  # order: 0 = the oldest commit found
                parsed.nominations,
                parsed.fixes,
                parsed.reverts,
            )
        )
    problems = tuple(p for _, (_, _, _, group) in reversed(ordered) for p in group)  # oldest first
    return ScanResult(unstable_ref, unstable_commit, base, tuple(commits), problems)


def _add_prerequisites(git: Git, history: History, seen: _Seen, details: _Details) -> None:
    """Linux's `Cc: stable@vger.kernel.org # 5.15.x: <sha>: subject` asks for
    <sha>, to be picked first: that commit, where it is on unstable within
    the range, gets a request of source "prerequisite" for those lines,
    whatever its own message says."""
    wanted = prerequisite_requests(git, ((c, n) for c, (_, _, parsed, _) in seen.items() for n in parsed.nominations))
    if not wanted:
        return
    positions = history.positions()
    for shown in history.show([c for c in wanted if c not in details and c in positions]):
        details[shown.commit] = _details(shown)
        if shown.commit not in seen:
            seen[shown.commit] = (positions[shown.commit], _subject(_decode(shown.message)), Parsed((), (), (), ()), [])
    for commit, requests in wanted.items():
        if commit in seen and commit in details:
            position, subject, parsed, problems = seen[commit]
            parsed = replace(parsed, nominations=parsed.nominations + tuple(requests))
            seen[commit] = (position, subject, parsed, problems)


def prerequisite_requests(git: Git, nominations: Iterable[tuple[str, Nomination]]) -> dict[str, list[Nomination]]:
    """The commits that nominations ask to be picked first, by full id, with
    a request (source "prerequisite") for each asking nomination; `nominations`
    are (the commit whose message or note it is, nomination)."""
    asking = [(c, n) for c, n in nominations if n.kind == "prerequisite"]
    if not asking:
        return {}
    resolved = git.resolve_many(w for _, n in asking for w in n.needs)
    wanted: dict[str, list[Nomination]] = {}
    for commit, nomination in asking:
        for written in nomination.needs:
            if written in resolved:
                text = f"{nomination.text} (from {commit[:12]})"
                asked = replace(nomination, source="prerequisite", kind="request", needs=(), text=text)
                wanted.setdefault(resolved[written], []).append(asked)
    return wanted


def _details(shown: Shown) -> dict[str, Any]:
    """A commit's details from what `git log --date=raw --format=%an <%ae>%x00%ad%x00%cd%x00%P` prints."""
    return {
        "author": printable(shown.author.decode("utf-8", "replace")),
        "date": _iso(shown.author_date),
        "committed": _iso(shown.committer_date),
        "parents": tuple(shown.parents.decode().split()),
    }


@cache
def _zone(text: bytes) -> timezone:
    """The time zone of a git date's "+0100"; raises ValueError if malformed."""
    sign = -1 if text.startswith(b"-") else 1
    return timezone(timedelta(hours=int(text[1:3]), minutes=int(text[3:5])) * sign)


def _iso(raw_date: bytes) -> str:
    """ISO 8601 from git's raw date ("1700000000 +0100"); a date that is none
    or cannot be shown (a zone beyond a day, say) is the epoch."""
    seconds, _, zone = raw_date.partition(b" ")
    try:
        return datetime.fromtimestamp(int(seconds), _zone(zone)).isoformat()
    except (ValueError, OverflowError, OSError):
        return datetime.fromtimestamp(0, timezone.utc).isoformat()


def _subject(message: str) -> str:
    return printable(message.split("\n", 1)[0].strip())


def _decode(data: bytes) -> str:
    # git log re-encodes messages that declare an encoding; undeclared bytes
    # that are not UTF-8 are shown with replacement characters, never dropped.
    return data.decode("utf-8", "replace")
