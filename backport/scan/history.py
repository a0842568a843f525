"""The history reader: the commits of a range a scan must parse, as git shows them.

A scan parses the commits whose message has a line that starts with a key
the grammar cares about (or a revert marker), and the commits that carry a
note. git itself keeps the first kind: `git log --grep` with a caseless
pattern of those line starts (config.key_line), written for PCRE (`-P`)
where git has it and for POSIX extended regex (`-E`) where it does not.
Both read the pattern a line at a time and keep the same commits
(tests/test_scan.py holds them to each other); only the speed differs, PCRE
being faster (on Xen's 50,000 commits, git 2.39, one log: 0.41 s against
0.58 s, with 0.48 s for the unfiltered log; read in pieces, a scan costs
about what the unfiltered log does with PCRE, up to a fifth more without:
benchmarks/README.md). A git without PCRE refuses `-P` at once, before any
output: then, and only then, one `git log -P` asks whether this git can
(most can, and asking first would cost every scan 20 ms) and the same
reading starts again with `-E`.

The range is read in pieces cut at the lines' fork points, their gits
running side by side (see _pieces and _Pieces): 1.6 of the 19 MB of the
benchmark's log come out, each commit with its author, dates and parents
(`--date=raw`). Positions in the range come from one `git rev-list
--boundary`, which costs git a tenth of the log and names the commits just
outside it; notes come from `git notes list` and one `cat-file --batch`
(read_notes); both run beside the log. A noted commit whose message says
nothing is shown by one `git log --no-walk` once the log is over.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from backport.background import background
from backport.config import NOTES_REF, key_line
from backport.errors import GitError
from backport.git import Git, RecordSplitter, Stream, split_records
from backport.nominations import REVERT_TEXT
from backport.record import record

# What every reading prints for a commit: `%H%x00%B` is exactly what the
# benchmarks' raw `git log` prints; the rest are the details a candidate
# shows, so that no commit is read twice.
_FORMAT = "%H%x00%B%x00%an <%ae>%x00%ad%x00%cd%x00%P"
_LOG = ("log", "-z", "--no-color", "--date=raw", f"--format={_FORMAT}")
_FIELDS = 6
PCRE, ERE = "-P", "-E"  # how git log is told which syntax --grep is in


@record
class Shown:
    """One commit as the reader gives it: its log fields, bytes as git printed them."""

    commit: str
    message: bytes
    note: bytes | None  # its note on refs/notes/backport, if any
    author: bytes  # `%an <%ae>`
    author_date: bytes  # `%ad` and `%cd`, --date=raw: "1700000000 +0100"
    committer_date: bytes
    parents: bytes  # `%P`: ids, space-separated


def grep(keys: Iterable[str], engine: str) -> list[str]:
    """The `git log` options that keep the messages with a line starting
    with one of `keys` or with the revert marker, any case, in `engine`'s
    syntax (PCRE or ERE).

    The keys are lower-cased first: git folds the case of ASCII letters
    only (LC_ALL=C), so a non-ASCII key is found as its lower case. A key
    with a line break or NUL cannot be given to git's --grep (it splits
    patterns at line breaks) and could match no single line anyway: it is
    left out.
    """
    usable = sorted({k.lower() for k in keys if "\n" not in k and "\0" not in k})
    revert = "^" + REVERT_TEXT.lower()  # no character special to either syntax
    pattern = f"{key_line(usable, 'ere' if engine == ERE else 're')}|{revert}" if usable else revert
    return [engine, "-i", f"--grep={pattern}"]


class History:
    """The commits of `unstable ^stop` a scan must parse (see the module
    docstring): iterate once for them, each once, in no particular order;
    positions() then says where each is. close() in any case: it leaves no
    git running.

    `tips` are the newer lines' tips, `cuts()` their fork points, newest
    line first (see _pieces); `keys` every key of the grammar.
    """

    def __init__(
        self,
        git: Git,
        unstable: str,
        stop: str | None,
        keys: Sequence[str],
        tips: Sequence[str],
        cuts: Callable[[], list[str]],
    ) -> None:
        self._git, self._unstable, self._keys = git, unstable, keys
        below = [f"^{stop}"] if stop else []
        self._notes = background(lambda: read_notes(git), "notes")
        self._listing = background(lambda: _positions(git.out(["rev-list", "--boundary", unstable, *below, "--"])))
        self._first, self._rest = _pieces(unstable, stop, tips, cuts)
        self._pieces = self._start(PCRE)

    def _start(self, engine: str) -> _Pieces:
        return _Pieces(self._git, [*_LOG, *grep(self._keys, engine)], self._first, self._rest)

    def __iter__(self) -> Iterator[Shown]:
        notes = self._notes.result()  # two small git calls, done by the time the log has begun
        kept = set()
        for sha, message, *details in self._kept():
            commit = sha.decode()
            kept.add(commit)
            yield Shown(commit, message, notes.get(sha), *details)
        positions = self.positions()
        yield from self.show([c for c in (sha.decode() for sha in notes) if c in positions and c not in kept], notes)

    def _kept(self) -> Iterator[list[bytes]]:
        """The records git's filter keeps: with -E where this git cannot -P."""
        records = self._records()
        try:
            first = next(records, None)
        except GitError:
            if _has_pcre(self._git, self._unstable):
                raise
            self._pieces.close()
            self._pieces = self._start(ERE)
            records = self._records()
            first = next(records, None)
        if first is not None:
            yield first
            yield from records

    def _records(self) -> Iterator[list[bytes]]:
        splitters: dict[int, RecordSplitter] = {}
        try:
            for index, chunk, last in self._pieces:
                splitter = splitters.setdefault(index, RecordSplitter(_FIELDS))
                yield from splitter.push(chunk)
                if last:
                    splitter.end()
        except ValueError as err:  # output that stops inside a record
            raise GitError(list(_LOG), 0, str(err)) from None

    def show(self, commits: Sequence[str], notes: dict[bytes, bytes] | None = None) -> list[Shown]:
        """Other commits, with the same fields, in one `git log --no-walk`."""
        if not commits:
            return []
        data = "".join(f"{c}\n" for c in commits).encode()
        shown = self._git.run([*_LOG, "--no-walk=unsorted", "--stdin", "--"], input=data).stdout
        notes = notes or {}
        records = split_records([shown], _FIELDS)
        return [Shown(sha.decode(), body, notes.get(sha), *details) for sha, body, *details in records]

    def positions(self) -> dict[str, int]:
        """Every commit of the range by its position, 0 = newest (as `git log` lists them)."""
        return self._listing.result()[0]

    def boundary(self) -> list[str]:
        """The commits just outside the range (its parents that are not in it)."""
        return self._listing.result()[1]

    def close(self) -> None:
        self._pieces.close()
        self._notes.close()
        self._listing.close()


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


def _has_pcre(git: Git, commit: str) -> bool:
    """Whether this git can `log -P --grep` (it is built with PCRE, as most are)."""
    return git.ok(["log", "-1", "-P", "--grep=^", "--format=%H", commit, "--"])


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
