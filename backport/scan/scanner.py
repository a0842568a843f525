"""The scanner: every nomination on the unstable branch, from streamed `git log`s.

Notes on `refs/notes/backport` are read in one batch beside the log. Only
messages with a line that starts with a key we care about are decoded and
parsed. Where git has PCRE, git itself picks them (`git log -P --grep`, the
range cut into pieces read side by side, each commit's author, dates and
parents printed beside its message); otherwise a bytes search over the
whole log rejects the rest at C speed, and the details of the commits kept
come from their raw objects, read the way git log prints them. Either way
the scan stays close to the cost of git producing the log, and gives the
same result.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from datetime import datetime, timedelta, timezone
from functools import cache
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from backport.cache import version
from backport.config import NOTES_REF
from backport.errors import GitError
from backport.escape import printable
from backport.forks import ForkPoints
from backport.git import Git, RecordSplitter, Stream, split_records
from backport.lines import require_tips
from backport.models import Candidate, Line, Nomination, Problem, ScanResult, Version
from backport.nominations import Grammar, Parsed, line_errors, parse
from backport.record import layout, rebuild, record, replace

if TYPE_CHECKING:
    from backport.cache import Cache
    from backport.session import Session

_REVERT = b"this reverts commit "
_FORMAT = "%H%x00%B"  # exactly what the benchmark's raw `git log` prints
# Where git filters, the few commits it prints come with their details (with
# --date=raw): no `cat-file` for them afterwards.
_DETAILED = f"{_FORMAT}%x00%an <%ae>%x00%ad%x00%cd%x00%P"
_DETAILED_FIELDS = 6
_PERL = ("-P", "-i")  # how git log is told that --grep is a caseless PCRE


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
    pcre: str | None  # the same lines, for `git log -P -i --grep`; None if PCRE cannot say it

    @classmethod
    def of(cls, grammar: Grammar) -> _Filter:
        words = sorted({k.lower() for k in (*grammar.request_keys, *grammar.skip_keys, *grammar.fixes_keys)}, key=len)
        keys = [w.encode() for w in words]  # shortest first
        # a key that starts with another key is found by the shorter one
        literals = [k for k in keys if not any(k != other and k.startswith(other) for other in keys)]
        alternatives = b"|".join(re.escape(k) for k in reversed(keys))
        confirm = re.compile(rb"(?:" + alternatives + rb")[ \t]*:|" + _REVERT)
        # \Q...\E: a key is literal text to PCRE, whatever it holds but \E
        quoted = "|".join(rf"\Q{w}\E" for w in reversed(words))
        pcre = rf"^(?:{quoted})[ \t]*:|^{_REVERT.decode()}" if words else rf"^{_REVERT.decode()}"
        return cls((*literals, _REVERT), confirm, None if any("\\E" in w for w in words) else pcre)

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
    (the scan base, for the verdicts) is found alongside. git is first asked
    to keep the messages with a line the grammar cares about
    (_read_filtered); a git without PCRE refuses at once, and then one log
    of every message is filtered here (_read_whole). Both give the same
    result.
    """
    stop = _stop(lines)
    finder = _Filter.of(grammar)
    # the newer lines' fork points, where the pieces are cut: one walk for all, beside the log
    forks.start(line.commit for line in lines if line.commit != stop)
    noted = _Background(lambda: read_notes(git))  # two git processes, beside the rest

    def judge(commit: str, body: bytes, note: bytes | None) -> tuple[str, Parsed, list[Problem]]:
        message = _decode(body)
        parsed = parse(message, grammar, "trailer")
        if note is not None:
            extra = parse(_decode(note), grammar, "note")
            parsed = Parsed(
                parsed.nominations + extra.nominations, parsed.errors + extra.errors, parsed.fixes, parsed.reverts
            )
        problems = [Problem(commit, text, error) for text, error in parsed.errors]
        problems += [Problem(commit, text, error) for text, error in line_errors(parsed.nominations, known)]
        return printable(message.split("\n", 1)[0].strip()), parsed, problems

    seen: _Seen | None = None
    details: dict[str, dict[str, Any]] = {}
    base: str | None = None
    if finder.pcre is not None:
        newer = sorted((line for line in lines if line.commit != stop), key=lambda line: line.version, reverse=True)

        def cuts() -> list[str]:  # newest line first: the pieces come out of similar size
            found = forks.many([line.commit for line in newer])
            return [c for c in dict.fromkeys(c for line in newer for c in found[line.commit]) if c != stop]

        tips = [line.commit for line in newer]
        try:
            seen, details, boundary = _read_filtered(git, unstable_commit, stop, tips, cuts, finder.pcre, noted, judge)
        except GitError:
            if _has_pcre(git, unstable_commit):
                raise
            # this git cannot -P (asked only now: most can, and asking first costs every scan 20 ms)
        else:
            # The fork point. Every best common ancestor of unstable and the
            # oldest line is a commit just outside the range: when only one
            # commit is, it is the fork point (otherwise the fork points walk).
            if stop and len(boundary) == 1:
                forks.learn(stop, tuple(boundary))
            base = forks.of(stop) if stop else None
    if seen is None:
        seen, details = _read_whole(git, unstable_commit, stop, finder, noted, judge)
        base = forks.of(stop) if stop else None
    _add_prerequisites(git, unstable_commit, stop, seen, details)
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


def _add_prerequisites(
    git: Git, unstable: str, stop: str | None, seen: _Seen, details: dict[str, dict[str, Any]]
) -> None:
    """Linux's `Cc: stable@vger.kernel.org # 5.15.x: <sha>: subject` asks for
    <sha>, to be picked first: that commit, where it is on unstable within
    the range, gets a request of source "prerequisite" for those lines,
    whatever its own message says."""
    asking = [(c, n) for c, (_, _, parsed, _) in seen.items() for n in parsed.nominations if n.kind == "prerequisite"]
    if not asking:
        return
    resolved = git.resolve_many(w for _, n in asking for w in n.needs)
    wanted: dict[str, list[Nomination]] = {}
    for commit, nomination in asking:
        for written in nomination.needs:
            if written in resolved:
                text = f"{nomination.text} (from {commit[:12]})"
                asked = replace(nomination, source="prerequisite", kind="request", needs=(), text=text)
                wanted.setdefault(resolved[written], []).append(asked)
    unread = [c for c in wanted if c not in details]
    if unread:
        listed = git.out(["rev-list", unstable, *([f"^{stop}"] if stop else []), "--"]).split()
        positions = {c: i for i, c in enumerate(listed)}
        data = "".join(f"{c}\n" for c in unread if c in positions).encode()
        log = ["log", "-z", "--no-color", "--date=raw", f"--format={_DETAILED}", "--no-walk=unsorted", "--stdin", "--"]
        shown = git.run(log, input=data).stdout if data else b""
        for sha, body, author, author_date, committer_date, parents in split_records([shown], _DETAILED_FIELDS):
            commit = sha.decode()
            details[commit] = _details(author, author_date, committer_date, parents)
            if commit not in seen:
                subject = printable(_decode(body).split("\n", 1)[0].strip())
                seen[commit] = (positions[commit], subject, Parsed((), (), (), ()), [])
    for commit, requests in wanted.items():
        if commit in seen and commit in details:
            position, subject, parsed, problems = seen[commit]
            parsed = replace(parsed, nominations=parsed.nominations + tuple(requests))
            seen[commit] = (position, subject, parsed, problems)


_Judge = Callable[[str, bytes, "bytes | None"], tuple[str, Parsed, list[Problem]]]


def _read_whole(
    git: Git, unstable: str, stop: str | None, finder: _Filter, noted: _Background, judge: _Judge
) -> tuple[_Seen, dict[str, dict[str, Any]]]:
    """One `git log` of every message, filtered chunk by chunk here."""
    log = ["log", "-z", "--no-color", f"--format={_FORMAT}", unstable, *([f"^{stop}"] if stop else []), "--"]
    details = _Details(git)
    seen: _Seen = {}
    notes: dict[bytes, bytes] = {}

    def noted_ids() -> set[bytes]:  # asked for when the first chunk of the log is in
        notes.update(noted.result())
        return set(notes)

    try:
        for position, sha, body in _interesting(git.stream(log), finder, noted_ids):
            commit = sha.decode()
            subject, parsed, problems = judge(commit, body, notes.get(sha))
            seen[commit] = (position, subject, parsed, problems)
            if parsed.nominations or parsed.fixes or parsed.reverts:
                details.want(commit)
        noted.result()  # its error, if any, even when the log was empty
        return seen, details.result()
    finally:
        details.close()


def _read_filtered(
    git: Git,
    unstable: str,
    stop: str | None,
    tips: Sequence[str],
    cuts: Callable[[], list[str]],
    pcre: str,
    noted: _Background,
    judge: _Judge,
) -> tuple[_Seen, dict[str, dict[str, Any]], list[str]]:
    """git keeps the messages that matter (`git log -P --grep`): 1.6 of 19 MB
    on the benchmark, in pieces that two cores read side by side (see
    _pieces). Positions come from one `git rev-list --boundary` of the range,
    which costs git a tenth of the log and also names the commits just
    outside it (returned last); a noted commit whose message says nothing is
    read by itself. A git without PCRE fails at once: GitError."""
    below = [f"^{stop}"] if stop else []
    listing = _Background(lambda: _positions(git.out(["rev-list", "--boundary", unstable, *below, "--"])))
    log = ["log", "-z", "--no-color", "--date=raw", f"--format={_DETAILED}"]
    found: dict[str, tuple[str, Parsed, list[Problem]]] = {}
    details: dict[str, dict[str, Any]] = {}
    notes: dict[bytes, bytes] = {}

    grep = [*log, *_PERL, f"--grep={pcre}"]

    def take(records: Iterable[list[bytes]]) -> None:
        for sha, body, author, author_date, committer_date, parents in records:
            commit = sha.decode()
            found[commit] = subject, parsed, problems = judge(commit, body, notes.get(sha))
            if parsed.nominations or parsed.fixes or parsed.reverts:
                details[commit] = _details(author, author_date, committer_date, parents)

    with closing(_Pieces(git, grep, *_pieces(unstable, stop, tips, cuts))) as pieces:  # no git outlives it
        notes.update(noted.result())  # two small git calls, done by the time the log has begun
        splitters: dict[int, RecordSplitter] = {}
        try:
            for index, chunk, last in pieces:
                splitter = splitters.setdefault(index, RecordSplitter(_DETAILED_FIELDS))
                take(splitter.push(chunk))
                if last:
                    splitter.end()
        except ValueError as err:  # output that stops inside a record
            raise GitError(log, 0, str(err)) from None
        positions, boundary = listing.result()
        wanted = set(found) | {sha.decode() for sha in notes}
        where = {commit: positions[commit] for commit in wanted if commit in positions}
        silent = "".join(f"{c}\n" for c in (sha.decode() for sha in notes) if c in where and c not in found)
        if silent:  # noted commits as the log would show them
            shown = git.run([*log, "--no-walk=unsorted", "--stdin", "--"], input=silent.encode()).stdout
            take(split_records([shown], _DETAILED_FIELDS))
        seen: _Seen = {commit: (where[commit], *judged) for commit, judged in found.items()}
        return seen, details, boundary


def _positions(listed: str) -> tuple[dict[str, int], list[str]]:
    """From `git rev-list --boundary` of the range: each commit's position
    (0 = newest), and the commits just outside the range (marked `-`).
    Built on the listing's thread while the logs still run: 60,000 ids take
    20 ms."""
    positions: dict[str, int] = {}
    boundary = []
    for row in listed.split("\n") if listed else ():
        if row[:1] == "-":
            boundary.append(row[1:])
        else:
            positions[row] = len(positions)
    return positions, boundary


class _Details:
    """Author, dates and parents of the commits kept, from a `git cat-file
    --batch` running alongside; commit_details reads them."""

    def __init__(self, git: Git) -> None:
        self._objects = git.objects()
        self._wanted: list[str] = []  # sent in batches: a write per commit cost 0.27 s of syscalls
        self._found: dict[str, dict[str, Any]] = {}

    def want(self, commit: str) -> None:
        self._wanted.append(commit)
        if len(self._wanted) >= 256:
            self._objects.want(self._wanted)
            self._wanted.clear()
            # read what git has answered meanwhile while git log is still
            # going, rather than all of it once the log has ended
            self._found.update((sha, commit_details(raw)) for sha, raw in self._objects.arrived().items())

    def result(self) -> dict[str, dict[str, Any]]:
        self._objects.want(self._wanted)
        self._found.update((sha, commit_details(raw)) for sha, raw in self._objects.result().items())
        return self._found

    def close(self) -> None:
        self._objects.close()


def _has_pcre(git: Git, commit: str) -> bool:
    """Whether this git can `log -P --grep` (it is built with PCRE, as most are)."""
    return git.ok(["log", "-1", "-P", "--grep=^", "--format=%H", commit, "--"])


def _pieces(
    unstable: str, stop: str | None, tips: Sequence[str], cuts: Callable[[], list[str]]
) -> tuple[list[str], Callable[[], list[list[str]]]]:
    """Revisions of git logs that, between them, give every commit of
    `unstable ^stop` once: the first at once, the others once the cuts are known.

    `tips` are the newer lines' tips, `cuts()` every best common ancestor of
    unstable with each of them (their fork points). The first piece is
    `unstable ^tip1 ... ^tipN ^stop`: what came after every fork, with no
    fork point to wait for, since what unstable shares with a line is what
    its fork points reach. Piece i is `cut_i ^cut_i+1 ... ^stop`: a commit
    the cuts reach falls in the piece of the last cut that reaches it. On
    Xen-shaped history, lines fork months apart and the pieces come out of
    similar size.
    """
    below = [f"^{stop}"] if stop else []
    first = [unstable, *(f"^{tip}" for tip in tips), *below]

    def rest() -> list[list[str]]:
        found = cuts()
        return [[cut, *(f"^{later}" for later in found[i + 1 :]), *below] for i, cut in enumerate(found)]

    return first, rest


class _Pieces:
    """Every piece's `git log`, chunk by chunk as the chunks arrive:
    (piece, chunk, last), `last` on a piece's final chunk (which may be
    empty); a piece's chunks in order, pieces interleaved. The records'
    order does not matter here (positions come from rev-list), so the
    parser keeps pace with every git running rather than with the first
    while the others' output waits.

    The first piece's git starts at once; once the other pieces are known,
    up to RUNNING gits run at a time. close() ends every git still running.
    """

    RUNNING = 3

    def __init__(self, git: Git, log: list[str], first: list[str], rest: Callable[[], list[list[str]]]) -> None:
        import queue

        self._git, self._log = git, log
        self._pieces: list[list[str]] = [first]
        self._rest: Callable[[], list[list[str]]] | None = rest
        self._doorbell: queue.SimpleQueue[Stream] = queue.SimpleQueue()
        self._streams: list[Stream] = []
        self._running: dict[Stream, int] = {}
        try:
            self._start(first)
        except BaseException:
            self.close()
            raise

    def _start(self, piece: list[str]) -> None:
        stream = self._git.start_stream([*self._log, *piece, "--"], self._doorbell)
        self._running[stream] = len(self._streams)
        self._streams.append(stream)

    def _fill(self) -> None:
        """Start pieces until RUNNING run or none is left (the cuts are waited for here)."""
        while len(self._running) < self.RUNNING:
            if len(self._streams) == len(self._pieces):
                if self._rest is None:
                    return
                self._pieces += self._rest()
                self._rest = None
                continue
            self._start(self._pieces[len(self._streams)])

    def __iter__(self) -> Iterator[tuple[int, bytes, bool]]:
        self._fill()
        while self._running:
            stream = self._doorbell.get()
            if stream not in self._running:
                continue  # what it rang for was taken with an earlier chunk
            data, last = stream.arrived()
            index = self._running[stream]
            if last:
                del self._running[stream]
                stream.close()
                self._fill()
            if data or last:
                yield index, data, last

    def close(self) -> None:
        for stream in self._streams:
            stream.close()


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
    """Author, dates and parents from a raw commit object, exactly as the
    filtered log's `%an <%ae>`, `%ad`, `%cd` (--date=raw) and `%P` give
    them (see _details)."""
    headers, _, _ = raw.partition(b"\n\n")
    fields: dict[bytes, bytes] = {}
    parents = []
    for line in headers.split(b"\n"):
        name, _, value = line.partition(b" ")
        if name == b"parent":
            parents.append(value)
        elif name in (b"author", b"committer", b"encoding"):
            fields[name] = value
    encoding = fields.get(b"encoding", b"utf-8").decode("ascii", "replace")
    author, author_date = _as_git_shows(fields.get(b"author", b""))
    _, committer_date = _as_git_shows(fields.get(b"committer", b""))
    return _details(author, author_date, committer_date, b" ".join(parents), encoding)


def _details(
    author: bytes, author_date: bytes, committer_date: bytes, parents: bytes, encoding: str = "utf-8"
) -> dict[str, Any]:
    """A commit's details from what `git log --date=raw --format=%an <%ae>%x00%ad%x00%cd%x00%P` prints."""
    try:
        name = author.decode(encoding, "replace")
    except LookupError:  # an encoding Python does not know
        name = author.decode("utf-8", "replace")
    return {
        "author": printable(name),
        "date": _iso(author_date),
        "committed": _iso(committer_date),
        "parents": tuple(parents.decode().split()),
    }


_GIT_SPACE = b" \t\n\r"
_WHEN = re.compile(rb"[ \t\n\r]*([0-9]+)[ \t\n\r]*([+-][0-9]+)")
_TIME_MAX = 1 << 63  # date_overflows(): beyond a signed 64-bit time_t


def _as_git_shows(value: bytes) -> tuple[bytes, bytes]:
    """An `author`/`committer` header value as `git log` prints it with
    `%an <%ae>` and, with --date=raw, `%ad`: ident.c's split_ident_line and
    show_ident_date, odd idents included (no mail: nothing at all; no date,
    or one git cannot read: "0 +0000"). The scan reads details from the
    log where git filters it, and from raw objects where it does not: this
    keeps the two the same."""
    opening = value.find(b"<")
    closing_at = value.find(b">", opening + 1) if opening >= 0 else -1
    if closing_at < 0:
        return b" <>", b""
    person = value[:opening].rstrip(_GIT_SPACE) + b" <" + value[opening + 1 : closing_at] + b">"
    when = _WHEN.match(value, value.rfind(b">") + 1)
    seconds, zone = (int(when.group(1)), int(when.group(2))) if when else (0, 0)
    if seconds >= _TIME_MAX:
        seconds, zone = 0, 0
    elif not -(1 << 31) < zone < (1 << 31) - 1:
        zone = 0
    return person, f"{seconds} {zone:+05d}".encode()


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
