"""The scanner: every nomination on the unstable branch, in one streamed `git log`.

One pass reads messages and `refs/notes/backport` notes together. Only
messages that mention a key we care about are decoded and parsed; a bytes
regex over the raw message rejects the rest at C speed, which is what keeps
the scan close to the cost of git producing the log.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_right
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from itertools import accumulate
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

from backport.config import NOTES_REF
from backport.errors import GitError
from backport.git import Git
from backport.lines import require_tips
from backport.models import Candidate, Line, Problem, ScanResult, Version, printable
from backport.nominations import Grammar, Parsed, line_errors, parse
from backport.record import layout, rebuild, record, replace

if TYPE_CHECKING:
    from backport.cache import Cache
    from backport.session import Session

# Bump when what the scanner finds changes for the same history, so cached
# scans from an older backport read as misses.
SCAN_VERSION = 2

_REVERT = b"this reverts commit "
_FORMAT = "%H%x00%B"  # exactly what the benchmark's raw `git log` prints


@record
class _Filter:
    """Finds, at C speed, the lines that may matter in a chunk of `git log`.

    Searching a lowercased copy of the chunk for a few literals with
    `bytes.find` is what keeps the scan up with git (0.07 s for 19 MB of log,
    where one case-insensitive regex over the same bytes took 0.18 s). Each
    rare hit is then confirmed with an anchored regex.
    """

    literals: tuple[bytes, ...]
    confirm: re.Pattern[bytes]

    @classmethod
    def of(cls, grammar: Grammar) -> "_Filter":
        keys = sorted({k.lower().encode() for k in (*grammar.keys, *grammar.skip_keys, *grammar.fixes_keys)})
        # a key that starts with another key is found by the shorter one
        literals = [k for k in keys if not any(k != other and k.startswith(other) for other in keys)]
        alternatives = b"|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))
        confirm = re.compile(rb"(?:" + alternatives + rb")[ \t]*:|" + _REVERT)
        return cls((*literals, _REVERT), confirm)

    def hits(self, data: bytes, end: int) -> Iterator[int]:
        """Offsets in data[:end] where a line starts with a key or revert marker."""
        low = data[:end].lower()
        for literal in self.literals:
            at = low.find(literal)
            while at != -1:
                # a line starts after a newline, or after the NUL ending the commit id
                if at and low[at - 1] in b"\n\x00" and self.confirm.match(low, at):
                    yield at
                at = low.find(literal, at + 1)


def scan_session(session: "Session", cache: "Cache | None" = None, *, inputs: dict[str, Any] | None = None) -> ScanResult:
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
    )


def session_inputs(session: "Session") -> dict[str, Any]:
    """Every input of the session's scan result (scan_inputs)."""
    return scan_inputs(session.git, session.unstable.commit, session.heads, session.known_versions, session.grammar)


def scan_inputs(
    git: Git, unstable_commit: str, lines: Sequence[Line], known: Sequence[Version], grammar: Grammar
) -> dict[str, Any]:
    """Every input of a scan's result, as a cache key: the history (tip and
    stop), the notes, the grammar and the line versions problems are judged
    against."""
    return {
        "version": SCAN_VERSION,
        "unstable": unstable_commit,
        "stop": _stop(lines),
        "notes": git.resolve_many([NOTES_REF]).get(NOTES_REF),
        "grammar": grammar._asdict(),
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
    cache: "Cache | None" = None,
    inputs: dict[str, Any] | None = None,
) -> ScanResult:
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
        result = _scan(git, unstable_ref, unstable_commit, _stop(lines), known, grammar)
    except GitError:
        require_tips(git, lines)  # a line deleted under us says so; anything else as git said it
        raise
    if key:
        cache.put("scan", key, result)  # type: ignore[union-attr]  # records are tuples: JSON arrays
    return result


def _scan(
    git: Git,
    unstable_ref: str,
    unstable_commit: str,
    stop: str | None,
    known: Sequence[Version],
    grammar: Grammar,
) -> ScanResult:
    # `unstable ^oldest-tip` is the same set of commits as `unstable
    # ^fork-point`, and git can start on it at once; the fork point itself
    # (for the verdicts) is found alongside.
    args = ["log", "-z", "--no-color", f"--format={_FORMAT}", unstable_commit]
    fork = _Background(lambda: git.merge_base(unstable_commit, stop) if stop else None)
    if stop:
        args.append(f"^{stop}")
    noted = _Background(lambda: read_notes(git))  # two git processes, beside the log's start
    objects = git.objects()  # author, dates, parents of what we keep, looked up as we go
    wanted: list[str] = []  # sent in batches: a write per commit cost 0.27 s of syscalls
    details: dict[str, dict[str, Any]] = {}
    try:
        found: list[tuple[int, str, str, Parsed]] = []  # newest first, as git gives them
        problem_groups: list[list[Problem]] = []
        notes: dict[bytes, bytes] = {}

        def noted_ids() -> set[bytes]:  # asked for when the first chunk of the log is in
            notes.update(noted.result())
            return set(notes)

        for position, sha, body in _interesting(git.stream([*args, "--"]), _Filter.of(grammar), noted_ids):
            commit = sha.decode()
            message = _decode(body)
            parsed = parse(message, grammar, "trailer")
            note = notes.get(sha)
            if note is not None:
                extra = parse(_decode(note), grammar, "note")
                parsed = Parsed(
                    parsed.nominations + extra.nominations, parsed.errors + extra.errors, parsed.fixes, parsed.reverts
                )
            problems = [Problem(commit, text, error) for text, error in parsed.errors]
            problems += [Problem(commit, text, error) for text, error in line_errors(parsed.nominations, known)]
            if problems:
                problem_groups.append(problems)
            if parsed.nominations or parsed.fixes or parsed.reverts:
                found.append((position, commit, printable(message.split("\n", 1)[0].strip()), parsed))
                wanted.append(commit)
                if len(wanted) >= 256:
                    objects.want(wanted)
                    wanted.clear()
                    # read what git has answered meanwhile while git log is still
                    # going, rather than all of it once the log has ended
                    details.update((sha, commit_details(raw)) for sha, raw in objects.arrived().items())
        noted.result()  # its error, if any, even when the log was empty
        objects.want(wanted)
        details.update((sha, commit_details(raw)) for sha, raw in objects.result().items())
    finally:
        objects.close()
    oldest = found[-1][0] if found else 0
    commits = []
    for position, commit, subject, parsed in reversed(found):
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
    problems = tuple(p for group in reversed(problem_groups) for p in group)  # oldest first
    return ScanResult(unstable_ref, unstable_commit, fork.result(), tuple(commits), problems)


class _Background:
    """Run one call on a thread; `result()` waits for it and re-raises its error."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self._value: Any = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._value = call()
            except BaseException as err:  # handed to result()
                self._error = err

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def commit_details(raw: bytes) -> dict[str, Any]:
    """Author, dates and parents from a raw commit object, as git log's
    `%an <%ae>`, `%aI`, `%cI` and `%P` would print them."""
    headers, _, _ = raw.partition(b"\n\n")
    fields: dict[bytes, bytes] = {}
    parents = []
    for line in headers.split(b"\n"):
        name, _, value = line.partition(b" ")
        if name == b"parent":
            parents.append(value.decode())
        elif name in (b"author", b"committer", b"encoding"):
            fields[name] = value
    encoding = fields.get(b"encoding", b"utf-8").decode("ascii", "replace")
    author, author_date = _ident(fields.get(b"author", b""), encoding)
    _, committer_date = _ident(fields.get(b"committer", b""), encoding)
    return {"author": author, "date": author_date, "committed": committer_date, "parents": tuple(parents)}


@lru_cache(maxsize=None)
def _zone(text: str) -> timezone:
    """The time zone of a git date's "+0100"; raises ValueError if malformed."""
    sign = -1 if text.startswith("-") else 1
    return timezone(timedelta(hours=int(text[1:3]), minutes=int(text[3:5])) * sign)


def _ident(value: bytes, encoding: str) -> tuple[str, str]:
    """("Name <mail>", ISO 8601 date) from an `author`/`committer` header value."""
    who, _, when = value.rpartition(b"> ")
    try:
        name = (who + b">").decode(encoding, "replace")
    except LookupError:  # an encoding Python does not know
        name = (who + b">").decode("utf-8", "replace")
    seconds, _, zone = when.decode("ascii", "replace").partition(" ")
    try:
        date = datetime.fromtimestamp(int(seconds), _zone(zone)).isoformat()
    except (ValueError, OverflowError):
        date = datetime.fromtimestamp(0, timezone.utc).isoformat()  # a broken date: say the epoch
    return printable(name), date


def _interesting(
    chunks: Iterable[bytes], finder: _Filter, noted_ids: Callable[[], set[bytes]]
) -> Iterator[tuple[int, bytes, bytes]]:
    """(position, id, message) of the records worth parsing, newest first.

    Records are `id NUL message NUL`. Rather than filter each message, filter
    each chunk and map the few hits back to records: per-commit Python work is
    what would otherwise keep the scan from keeping pace with git.
    """
    tail = b""
    seen = 0  # records before this chunk
    noted: set[bytes] | None = None  # ids with a note: not known before git has started
    for chunk in chunks:
        if noted is None:
            noted = noted_ids()
        data = tail + chunk
        parts = data.split(b"\0")
        rest = parts.pop()
        if len(parts) % 2:  # an id whose message is still on its way
            rest = parts.pop() + b"\0" + rest
        cut = len(data) - len(rest)
        tail = data[cut:]
        if not parts:
            continue
        ends = list(accumulate(len(part) + 1 for part in parts))
        hits = {bisect_right(ends, at) // 2 for at in finder.hits(data, cut)}
        if noted:
            ids = parts[0::2]
            hits.update(ids.index(sha) for sha in noted.intersection(ids))
        for hit in sorted(hits):
            yield seen + hit, parts[2 * hit], parts[2 * hit + 1]
        seen += len(parts) // 2
    if tail.strip(b"\0"):
        raise GitError(["log"], 0, "truncated output from git log")


def read_notes(git: Git) -> dict[bytes, bytes]:
    """Every note on refs/notes/backport, by annotated commit id, in two calls.

    Notes are few; carrying them through the big `git log` (%N) would make
    git look one up for every commit, which costs it 20-30% more time.
    """
    proc = git.run(["notes", f"--ref={NOTES_REF}", "list"], check=False)
    if proc.returncode != 0:
        return {}  # no notes ref yet
    pairs = [line.split() for line in proc.stdout.decode().splitlines()]
    pairs = [p for p in pairs if len(p) == 2]
    contents = git.blobs(blob for blob, _ in pairs)
    return {commit.encode(): contents[blob] for blob, commit in pairs if blob in contents}


def _decode(data: bytes) -> str:
    # git log re-encodes messages that declare an encoding; undeclared bytes
    # that are not UTF-8 are shown with replacement characters, never dropped.
    return data.decode("utf-8", "replace")
