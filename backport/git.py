"""The one module that talks to git.

Everything goes through `subprocess`: queries with `run`, long history reads
with `stream`, which drains git's pipe on a thread and kills git when the
reader stops early. GitPython's `Git` command interface does the same, but its
import alone takes 130 ms: a sixth of the time git needs to print 60,000
commits, and more than the commit-msg hook's whole budget. The threads here
(Stream, ObjectReader, Git.pipe) are pumps that live as long as their git
process; backport.background starts them, and says which other threads
there are and why `Git.ahead` needs none.

Every revision that comes from a user or a repository is passed after an
option terminator or rejected when it starts with `-`, so it is never taken
as an option. Nothing here builds a shell string.
"""

from __future__ import annotations

import collections
import os
import subprocess
from collections.abc import Iterable, Iterator, Mapping, Sequence

from backport.background import background
from backport.errors import ConfigError, GitError, RepoError, UsageError, git_failure
from backport.record import record

TYPE_CHECKING = False  # not typing's: importing typing costs the hook 12 ms
if TYPE_CHECKING:
    import queue
    from typing import IO, Any

# Quiet, predictable, read-only git: no prompts, no optional index refresh.
_BASE_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_PAGER": "cat",
    "LC_ALL": "C",
    "LANGUAGE": "C",
}
# Variables that point git at a repository other than the one its directory is in.
REPOSITORY_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY")
_CHUNK = 1 << 20
# Input `Git.ahead` writes at once: an empty pipe holds 64 KiB on Linux, 4 KiB
# is POSIX's floor (PIPE_BUF); larger input is written when the result is taken.
_SMALL_INPUT = 4096


def check_revision(rev: str) -> str:
    """Refuse a revision that git would read as an option."""
    if not rev or rev.startswith("-"):
        raise UsageError(f"invalid revision {rev!r}", "give a branch, tag or commit id")
    return rev


@record
class Repository:
    """Where a repository lives and what shape it has."""

    path: str  # where git commands run (work tree top, or the git dir if bare)
    git_dir: str
    common_dir: str
    work_tree: str | None
    bare: bool
    shallow: bool


def _not_found(cwd: str) -> RepoError:
    """What a FileNotFoundError from starting git means: the directory it
    was to run in is gone, or there is no git."""
    if not os.path.isdir(cwd):
        return RepoError(f"{cwd}: no such directory", "check the path (was it removed while backport ran?)")
    return RepoError("git is not installed", "install git 2.38 or newer")


class Git:
    """Runs git in one repository and turns failures into `GitError`."""

    def __init__(self, cwd: str, env: Mapping[str, str] | None = None) -> None:
        self.cwd = cwd
        self.env = {**os.environ, **_BASE_ENV, **(env or {})}
        self._started: dict[tuple[tuple[str, ...], bytes | None], subprocess.Popen[bytes]] = {}
        self._done: dict[tuple[tuple[str, ...], bytes | None], subprocess.CompletedProcess[bytes]] = {}

    def with_env(self, extra: Mapping[str, str]) -> Git:
        return Git(self.cwd, {**self.env, **extra})

    def in_worktree(self, path: str) -> Git:
        """The same git run in the work tree at `path`: git finds the
        repository from there, never from an inherited GIT_DIR or GIT_WORK_TREE."""
        other = Git(path)
        other.env = {k: v for k, v in self.env.items() if k not in REPOSITORY_ENV}
        return other

    def moved_to(self, cwd: str) -> Git:
        """The same git run from `cwd` (the top of the work tree, once known),
        sharing what was started ahead: nothing started ahead may depend on
        the directory it runs in (no pathspecs)."""
        moved = Git(cwd)
        moved.env, moved._started, moved._done = self.env, self._started, self._done
        return moved

    def run(
        self,
        args: Sequence[str],
        *,
        input: bytes | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[bytes]:
        if self._started or self._done:
            proc = self._taken((tuple(args), input))
            if proc is not None:
                if check and proc.returncode != 0:
                    raise git_failure(list(args), proc.returncode, proc.stderr.decode("utf-8", "replace"))
                return proc
        try:
            proc = subprocess.run(
                ["git", *args],
                cwd=self.cwd,
                env=self.env,
                input=input,
                capture_output=True,
                stdin=None if input is not None else subprocess.DEVNULL,
            )
        except FileNotFoundError:
            raise _not_found(self.cwd) from None
        if check and proc.returncode != 0:
            raise git_failure(list(args), proc.returncode, proc.stderr.decode("utf-8", "replace"))
        return proc

    def ahead(self, args: Sequence[str], *, input: bytes | None = None) -> None:
        """Start `git args` now and go on without waiting: the first `run`
        of the same arguments and input takes its result, and every later one
        gets the same result again.

        For a short run that knows what it will ask, like the commit-msg
        hook: git's work then overlaps ours. No thread is involved: git runs
        on its own and its answer waits in the pipe, so this is for small
        answers (a long one would fill the pipe and stall git until asked
        for: `start_stream` reads those as they come). `close` stops what
        was started and never asked for."""
        key = (tuple(args), input)
        if key in self._started or key in self._done:
            return
        try:
            proc = subprocess.Popen(
                ["git", *args],
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL if input is None else subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError:
            return  # `run` will say what is wrong
        if proc.stdin is not None and input is not None and len(input) <= _SMALL_INPUT:
            _feed(proc.stdin, input)  # an empty pipe takes this much without blocking
            proc.stdin = None  # written: nothing left for communicate() to send
        self._started[key] = proc

    def once(self, args: Sequence[str]) -> subprocess.CompletedProcess[bytes]:
        """`run(args)`, whose answer every later `run` of the same arguments
        in this Git gets again: for a listing that two stages of one short
        run ask alike (the hook's guess at the lines, then its session)."""
        self.ahead(args)
        return self.run(args)

    def _taken(self, key: tuple[tuple[str, ...], bytes | None]) -> subprocess.CompletedProcess[bytes] | None:
        """The result of a command started with `ahead`, waited for; None if there is none."""
        proc = self._started.pop(key, None)
        if proc is not None:
            args, input = key
            stdout, stderr = proc.communicate(None if proc.stdin is None else input)
            self._done[key] = subprocess.CompletedProcess(["git", *args], proc.returncode, stdout, stderr)
        return self._done.get(key)

    def close(self) -> None:
        """Stop every command started with `ahead` that nobody asked for."""
        started, self._started = self._started, {}
        for proc in started.values():
            proc.kill()
            proc.communicate()

    def out(self, args: Sequence[str], *, input: bytes | None = None) -> str:
        """Stdout as text, without the final newline."""
        data = self.run(args, input=input).stdout.decode("utf-8", "replace")
        return data[:-1] if data.endswith("\n") else data

    def ok(self, args: Sequence[str]) -> bool:
        return self.run(args, check=False).returncode == 0

    # -- history streams ----------------------------------------------------

    def stream(self, args: Sequence[str]) -> Iterator[bytes]:
        """Stream git's stdout in large chunks; raises GitError when git fails.
        git starts when the first chunk is asked for."""
        started = self.start_stream(args)
        try:
            yield from started
        finally:
            started.close()

    def start_stream(self, args: Sequence[str], doorbell: queue.SimpleQueue[Stream] | None = None) -> Stream:
        """`git args` started now, its output read ahead (see Stream); close() it."""
        return Stream(self, args, doorbell)

    def records(self, args: Sequence[str], fields: int) -> Iterator[list[bytes]]:
        """Stream a NUL-separated git output as groups of `fields` fields.

        `args` must produce exactly `fields` NUL-terminated fields per record
        (for `git log`: a `--format` of `fields` items joined by %x00, with -z).
        """
        try:
            yield from split_records(self.stream(args), fields)
        except ValueError as err:
            raise GitError(list(args), 0, str(err)) from None

    def pipe(self, first: Sequence[str], second: Sequence[str], input: bytes) -> bytes:
        """Stdout of `git <first> | git <second>`, `input` fed to the first.

        Two processes chained with Popen, no shell. The input is written from
        a thread because the first command's output can fill the pipe before
        we finish writing; stderr goes to files so a chatty git cannot block.
        """
        import signal
        import tempfile

        def start(args: Sequence[str], stdin: Any, stderr: Any) -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                ["git", *args], cwd=self.cwd, env=self.env, stdin=stdin, stdout=subprocess.PIPE, stderr=stderr
            )

        with tempfile.TemporaryFile() as err1, tempfile.TemporaryFile() as err2:
            try:
                producer = start(first, subprocess.PIPE, err1)
            except FileNotFoundError:
                raise _not_found(self.cwd) from None
            consumer = start(second, producer.stdout, err2)
            assert producer.stdout is not None and producer.stdin is not None
            producer.stdout.close()  # the consumer owns it now; a dead consumer then stops the producer

            stdin = producer.stdin
            writer = background(lambda: _feed(stdin, input), "git-pipe-writer")
            try:
                output, _ = consumer.communicate()
                writer.result()
                producer.wait()
            finally:
                for proc in (producer, consumer):
                    if proc.poll() is None:
                        proc.kill()
                        proc.wait()
                writer.close()  # a dead producer ends the writing
            # A consumer that dies takes the producer down with SIGPIPE: then
            # the consumer's error is the one that explains it.
            order = [(producer, first, err1), (consumer, second, err2)]
            if producer.returncode == -signal.SIGPIPE:
                order.reverse()
            for proc, args, err in order:
                if proc.returncode != 0:
                    err.seek(0)
                    raise git_failure(list(args), proc.returncode, err.read().decode("utf-8", "replace"))
        return output

    def objects(self) -> ObjectReader:
        """A `git cat-file --batch` running alongside other work (see ObjectReader)."""
        return ObjectReader(self)

    def blobs(self, ids: Iterable[str]) -> dict[str, bytes]:
        """Contents of many objects by full id, in one `cat-file --batch`."""
        reader = self.objects()
        try:
            reader.want(dict.fromkeys(ids))
            return reader.result()
        finally:
            reader.close()

    def resolve(self, rev: str) -> str | None:
        """Full commit id of `rev`, or None if it names no commit."""
        check_revision(rev)
        proc = self.run(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], check=False)
        if proc.returncode != 0:
            return None
        return proc.stdout.decode().strip()

    def resolve_many(self, revs: Iterable[str]) -> dict[str, str]:
        """Map each name that resolves to a commit to its full id (one process)."""
        names = [r for r in dict.fromkeys(revs) if r and not r.startswith("-") and "\n" not in r]
        if not names:
            return {}
        # os.fsencode: a name from the command line may hold bytes that are
        # not UTF-8 (surrogate-escaped by Python); git gets them back as given
        data = os.fsencode("".join(f"{n}^{{commit}}\n" for n in names))
        out = self.run(["cat-file", "--batch-check=%(objectname) %(objecttype)"], input=data)
        result: dict[str, str] = {}
        # a missing name is echoed back as given, bytes and all: never decode strictly
        for name, line in zip(names, out.stdout.decode("utf-8", "replace").split("\n"), strict=False):
            parts = line.split()
            if len(parts) == 2 and parts[1] == "commit":
                result[name] = parts[0]
        return result

    def read_objects(self, names: Sequence[str]) -> list[tuple[str, str, bytes] | None]:
        """Each object named, as (id, type, raw body), None where git has no
        such object; one `git cat-file --batch`. Names with a newline are
        never sent (git would read two): None for them."""
        asked = [n for n in names if "\n" not in n]
        if not asked:
            return [None] * len(names)
        out = self.run(["cat-file", "--batch"], input=os.fsencode("".join(f"{n}\n" for n in asked))).stdout
        found: dict[str, tuple[str, str, bytes] | None] = {}
        pos = 0
        for name in asked:
            end = out.index(b"\n", pos)
            header = out[pos:end].split(b" ")
            pos = end + 1
            # "<id> <type> <size>", else "<name as given> missing" (the name may hold spaces)
            if len(header) != 3 or not header[2].isdigit():
                found[name] = None
                continue
            size = int(header[2])
            found[name] = (header[0].decode(), header[1].decode(), out[pos : pos + size])
            pos += size + 1
        return [found.get(n) for n in names]

    def tree_files(self, tree: str) -> dict[str, tuple[str, str]]:
        """Every file of a tree (or a commit's), path -> (mode, object id),
        from one `git ls-tree -r -z`; paths as Python keeps names that are not UTF-8."""
        out = self.run(["ls-tree", "-r", "-z", "--full-tree", tree, "--"]).stdout
        files: dict[str, tuple[str, str]] = {}
        for item in out.split(b"\0"):
            if item:
                info, _, path = item.partition(b"\t")
                mode, _, oid = info.decode().split(" ")
                files[path.decode("utf-8", "surrogateescape")] = (mode, oid)
        return files

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        proc = self.run(["merge-base", "--is-ancestor", ancestor, descendant], check=False)
        if proc.returncode in (0, 1):
            return proc.returncode == 0
        raise GitError(["merge-base", "--is-ancestor"], proc.returncode, proc.stderr.decode())

    def merge_base(self, a: str, b: str) -> str | None:
        proc = self.run(["merge-base", a, b], check=False)
        return proc.stdout.decode().strip() or None if proc.returncode == 0 else None

    def show_file(self, rev: str, path: str) -> bytes | None:
        """Contents of `path` at `rev`, or None when it is not there."""
        proc = self.run(["cat-file", "blob", f"{rev}:{path}"], check=False)
        return proc.stdout if proc.returncode == 0 else None

    def config_regexp(self, pattern: str) -> list[tuple[str, str]]:
        """All `git config` entries whose key matches, in file order."""
        proc = self.run(config_query(pattern), check=False)
        if proc.returncode not in (0, 1):
            raise GitError(["config", "--get-regexp"], proc.returncode, proc.stderr.decode())
        entries = []
        for item in proc.stdout.decode("utf-8", "replace").split("\0"):
            if item:
                key, _, value = item.partition("\n")
                entries.append((key, value))
        return entries

    def pager(self) -> str | None:
        """The pager command git itself would use here (`git var GIT_PAGER`:
        GIT_PAGER, core.pager, PAGER, then git's built-in default), or None
        when that is no pager at all (`cat` or empty). Asked with the
        user's own GIT_PAGER, not the `cat` our git processes run with."""
        asking = Git(self.cwd)
        asking.env = {k: v for k, v in self.env.items() if k != "GIT_PAGER"}
        if "GIT_PAGER" in os.environ:
            asking.env["GIT_PAGER"] = os.environ["GIT_PAGER"]
        proc = asking.run(["var", "GIT_PAGER"], check=False)
        command = proc.stdout.decode("utf-8", "replace").strip()
        return command if proc.returncode == 0 and command not in ("", "cat") else None

    def refs(self, patterns: Sequence[str], fmt: str) -> list[list[str]]:
        """`git for-each-ref` rows, fields split on NUL."""
        out = self.out(refs_query(patterns, fmt))
        return [row.split("\0") for row in out.splitlines() if row]

    def branches(self) -> list[list[str]]:
        """Every local and remote-tracking branch: full ref name, object id,
        object type, for a branch pointing at a tag the peeled id, and the
        committer date (seconds) of the commit, or of the peeled commit."""
        return self.refs(*_BRANCHES)


def _feed(stream: IO[bytes], data: bytes) -> None:
    """Write all of `data` to a process's stdin and close it. A process that
    died first is not our error to report: its exit code says why."""
    try:
        stream.write(data)
    except BrokenPipeError:
        pass
    finally:
        try:
            stream.close()
        except BrokenPipeError:
            pass


def remove_detached(path: str) -> bool:
    """Start `rm -rf -- path` in a session of its own, not waited for: it
    outlives us. False when it cannot be started (no rm here)."""
    quiet = subprocess.DEVNULL
    try:
        subprocess.Popen(["rm", "-rf", "--", path], stdin=quiet, stdout=quiet, stderr=quiet, start_new_session=True)
    except OSError:
        return False
    return True


def config_query(pattern: str) -> list[str]:
    """The arguments of `Git.config_regexp(pattern)`: for `Git.ahead`."""
    return ["config", "-z", "--get-regexp", pattern]


def refs_query(patterns: Sequence[str], fmt: str) -> list[str]:
    """The arguments of `Git.refs(patterns, fmt)`: for `Git.ahead`."""
    return ["for-each-ref", f"--format={fmt}", *patterns]


_BRANCHES = (
    ("refs/heads", "refs/remotes"),
    "%(refname)%00%(objectname)%00%(objecttype)%00%(*objectname)%00%(committerdate:unix)%00%(*committerdate:unix)",
)
BRANCHES_QUERY = refs_query(*_BRANCHES)  # what Git.branches runs


def split_records(chunks: Iterable[bytes], fields: int) -> Iterator[list[bytes]]:
    """Groups of `fields` NUL-terminated fields from chunks of git output cut
    anywhere; ValueError if the output stops inside a record."""
    splitter = RecordSplitter(fields)
    for chunk in chunks:
        yield from splitter.push(chunk)
    splitter.end()


class RecordSplitter:
    """split_records for chunks handed in one at a time, as they come."""

    def __init__(self, fields: int) -> None:
        self.fields = fields
        self._pending: list[bytes] = []
        self._tail = b""

    def push(self, chunk: bytes) -> list[list[bytes]]:
        """The records this chunk completes."""
        parts = (self._tail + chunk).split(b"\0")
        self._tail = parts.pop()
        pending, fields = self._pending, self.fields
        pending.extend(parts)
        if len(pending) < fields:
            return []
        n = len(pending) - len(pending) % fields
        done = [pending[i : i + fields] for i in range(0, n, fields)]
        del pending[:n]
        return done

    def end(self) -> None:
        """The output is over: ValueError if it stopped inside a record."""
        stray = [*self._pending, self._tail] if self._tail else self._pending
        if stray and any(stray):
            raise ValueError(f"truncated output ({len(stray)} stray fields)")


def _widen_pipe(fd: int) -> None:
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _CHUNK)
    except (ImportError, AttributeError, OSError):
        pass  # not Linux, or a lower limit: the default pipe still works, just slower


def open_repository(path: str, git: Git | None = None) -> Repository:
    """Find the repository at `path`, or explain why there is none. `git`,
    when given, runs in `path`."""
    if not os.path.exists(path):
        raise RepoError(f"no such directory: {path}", "pass --repo PATH of a git repository")
    if not os.path.isdir(path):
        raise RepoError(f"not a directory: {path}", "pass --repo PATH of a git repository")
    git = git or Git(path)
    proc = git.run(
        [
            "rev-parse",
            "--absolute-git-dir",
            "--git-common-dir",
            "--is-bare-repository",
            "--is-shallow-repository",
            "--is-inside-work-tree",
            # not --show-toplevel: it fails without a work tree (a bare
            # repository), and a second rev-parse costs every hook run 5 ms
            "--show-cdup",
        ],
        check=False,
    )
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").split("\n")
        fatal = next((line[len("fatal: ") :] for line in lines if line.startswith("fatal: ")), "")
        if fatal.startswith("bad config"):
            # e.g. "bad config line 7 in file .git/config": the file to fix, and where
            raise ConfigError(fatal, "fix that file, then run again")
        if fatal and "not a git repository" not in fatal:
            # git's own reason: dubious ownership, a filesystem boundary, ...
            raise RepoError(fatal.rstrip("."), "do what git says, or pass --repo PATH of another repository")
        raise RepoError(
            f"not a git repository: {os.path.abspath(path)}",
            "run inside a clone or pass --repo PATH",
        )
    # paths are bytes to git and may hold any byte but NUL and newline: split
    # on newlines only (str.splitlines also splits on \x1c, U+2028, ...)
    git_dir, common, bare, shallow, inside, *cdup = os.fsdecode(proc.stdout).split("\n")
    # realpath, not normpath: `path` may go through a symlink, and a relative
    # common dir's ".." must be taken from where git really is
    common_dir = os.path.realpath(os.path.join(path, common))
    work_tree = None
    if inside == "true":
        # what --show-toplevel prints: git keeps the work tree as a real path
        work_tree = os.path.realpath(os.path.join(path, cdup[0] if cdup else ""))
    return Repository(
        path=work_tree or git_dir,
        git_dir=git_dir,
        common_dir=common_dir,
        work_tree=work_tree,
        bare=bare == "true",
        shallow=shallow == "true",
    )


class Stream:
    """A git command started at once whose stdout is read ahead in large
    chunks by a thread: iterate for the chunks (GitError at the end if git
    failed), and close() in any case, which never leaves a git process behind.

    The reader thread drains git's pipe while the caller parses, so git
    never waits on a full pipe: producing and parsing overlap on two cores.
    The thread needs the GIL between reads, which a parser holds for up to
    5 ms at a time; a 64 KiB pipe is 2 ms of git's output, so the pipe is
    widened where Linux lets us. At most 256 chunks wait in memory.

    A caller reading several streams at once gives them one `doorbell`: the
    reader puts the stream there whenever it has read something, and
    `arrived()` takes it without waiting.
    """

    def __init__(self, git: Git, args: Sequence[str], doorbell: queue.SimpleQueue[Stream] | None = None) -> None:
        import queue  # here, not at the top: the hook never streams (tempfile costs it 9 ms)
        import tempfile

        self._args = list(args)
        # stderr to a file, not a pipe: nobody reads it until git ends, and a
        # full stderr pipe would stall git for good
        self._errors = tempfile.TemporaryFile()
        try:
            self._popen = subprocess.Popen(
                ["git", *args],
                cwd=git.cwd,
                env=git.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=self._errors,
            )
        except FileNotFoundError:
            self._errors.close()
            raise _not_found(git.cwd) from None
        assert self._popen.stdout is not None
        fd = self._popen.stdout.fileno()
        _widen_pipe(fd)
        self._empty = queue.Empty
        self._chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=256)

        def drain() -> None:
            try:
                while True:
                    chunk = os.read(fd, _CHUNK)
                    self._chunks.put(chunk)
                    if doorbell is not None:
                        doorbell.put(self)
                    if not chunk:
                        return
            except (OSError, ValueError):
                self._chunks.put(None)  # pipe closed under us: the consumer stopped early
                if doorbell is not None:
                    doorbell.put(self)

        self._reader = background(drain, "git-stream-reader")

    def __iter__(self) -> Iterator[bytes]:
        done = False
        while not done:
            data, done = self._take(wait=True)
            if data:
                yield data

    def arrived(self) -> tuple[bytes, bool]:
        """What was read since the last call, without waiting, and whether
        that is the end of git's output (GitError then if git failed)."""
        return self._take(wait=False)

    def _take(self, wait: bool) -> tuple[bytes, bool]:
        # everything already read: fewer, larger pieces for the parser
        chunks = self._chunks
        pieces = [chunks.get()] if wait else []
        while (not pieces or pieces[-1]) and not chunks.empty():
            pieces.append(chunks.get_nowait())
        done = bool(pieces) and not pieces[-1]
        if done:
            rc = self._popen.wait()
            self._errors.seek(0)
            stderr = self._errors.read()
            if rc != 0:
                raise git_failure(self._args, rc, stderr.decode("utf-8", "replace"))
        return b"".join(p for p in pieces if p), done

    def close(self) -> None:
        """Stopped early (an exception, Ctrl-C, a consumer that has enough)
        or done: end git if it still runs, and the reader thread."""
        if self._popen.poll() is None:
            self._popen.kill()
            self._popen.wait()
        while not self._reader.done():  # unblock a reader waiting on a full queue
            try:
                self._chunks.get(timeout=0.05)
            except self._empty:
                pass
        if self._popen.stdout is not None:
            self._popen.stdout.close()
        self._errors.close()


class ObjectReader:
    """Raw objects from one `git cat-file --batch`, asked for while other work goes on.

    `want()` sends ids as they become known; a thread reads the answers as
    git gives them, so the lookups overlap with whatever the caller is doing.
    `arrived()` hands over the answers read so far, for a caller with time
    to spare; `result()` ends the process and returns {id: raw object} of
    the rest. A missing id is left out.
    """

    def __init__(self, git: Git) -> None:
        import tempfile

        self._errors = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            ["git", "cat-file", "--batch"],
            cwd=git.cwd,
            env=git.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
        )
        self._found: collections.deque[tuple[str, bytes]] = collections.deque()  # appended by the reader thread
        self._reader = background(self._read, "git-cat-file-reader")

    def _read(self) -> None:
        out = self._proc.stdout
        assert out is not None
        while True:
            header = out.readline()
            if not header:
                return
            parts = header.split()
            if len(parts) == 3:  # "<id> <type> <size>"; "<id> missing" has two
                data = out.read(int(parts[2]) + 1)
                self._found.append((parts[0].decode(), data[:-1]))

    def want(self, ids: Iterable[str]) -> None:
        data = "".join(f"{i}\n" for i in ids).encode()
        if data:
            assert self._proc.stdin is not None
            self._proc.stdin.write(data)
            self._proc.stdin.flush()  # let git start on them now

    def arrived(self) -> dict[str, bytes]:
        """The answers read since the last call, without waiting for more."""
        taken: dict[str, bytes] = {}
        while self._found:
            name, data = self._found.popleft()
            taken[name] = data
        return taken

    def result(self) -> dict[str, bytes]:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        self._reader.result()
        rc = self._proc.wait()
        self._errors.seek(0)
        stderr = self._errors.read().decode("utf-8", "replace")
        self._errors.close()
        if rc != 0:
            raise git_failure(["cat-file", "--batch"], rc, stderr)
        return self.arrived()

    def close(self) -> None:
        """Stop early (an error elsewhere): no git process is left behind.
        Harmless after result()."""
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stdin is not None and not self._proc.stdin.closed:
            self._proc.stdin.close()
        self._reader.close()  # git's stdout is at its end: so is the reader
        self._errors.close()
