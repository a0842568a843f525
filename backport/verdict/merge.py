"""The pick engine: one `git cherry-pick` as git does it, in a scratch
object directory, so the repository gains nothing.

`git cherry-pick C` onto a tip is a three-way merge: base C's first parent,
ours the tip, theirs C. `git merge-tree` (2.38) cannot be told a merge base
before git 2.40, so we write a synthetic commit S with the tip's tree and
C's first parent as its parent: the one merge base of S and C is then that
parent, and `git merge-tree --write-tree S C` is the merge cherry-pick
performs (tests/test_pick_agreement.py holds the two to each other). S
carries C's commit date: an old date would make git walk the whole history
to find the merge base. git 2.40's `--merge-base` would spare S, but the
git this runs on in CI is 2.39: one way, tested, is kept.

Everything git writes meanwhile (S, merged blobs, trees) goes to a
temporary object directory that borrows the repository's objects as an
alternate, removed on close(). It is in memory when there is room
(scratch_parent): a pick writes a dozen small files or more, and on a disk
each file can cost more than the merge of a small one.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import secrets
import shutil
import struct
import tempfile
import threading
import weakref
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

from backport.errors import GitError, MissingObject, RepoError, git_failure, missing_text
from backport.git import Git, remove_detached
from backport.record import record

FULL_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
DETACH_AFTER = 2000  # merges after which the scratch directory is removed in the background

# Where a scratch directory may go in memory (scratch_parent), and what it may
# take there: a pick leaves up to about 64 KiB (a cold report on Xen, 1,100
# picks onto six lines and their chains, peaked at 37 MB).
MEMORY_VARIABLE = "XDG_RUNTIME_DIR"  # the user's own directory in memory, where there is one
MEMORY_DIRECTORY = "/dev/shm"
# A scratch directory: the pid of the run that made it, and a random part;
# in it, the file the run holds locked while it lives (_sweep).
SCRATCH_NAME = re.compile(r"backport-sim-\d+-[0-9a-f]{12}")
LOCK = "lock"
# Objects written at once from which on they go in one pack (write_objects),
# not a file each: few enough packs that git's lookups stay quick.
PACK_AT = 256
_PACK_TYPES = {"commit": 1, "tree": 2, "blob": 3, "tag": 4}
PICK_BYTES = 64 << 10
MEMORY_AT_MOST = 512 << 20


@record
class Commit:
    """What a pick needs of a commit."""

    id: str
    tree: str
    parents: tuple[str, ...]
    date: str  # committer date as stored: "<epoch> <tz>"

    @property
    def base(self) -> str | None:
        """The first parent: what cherry-pick diffs against (-m 1 for a merge)."""
        return self.parents[0] if self.parents else None

    @property
    def merge(self) -> bool:
        return len(self.parents) > 1


@record
class Change:
    """One path a diff touches (no rename detection: a rename is a delete and an add)."""

    path: str
    status: str  # A, D, M or T
    mode: str  # new mode, 000000 when deleted
    blob: str  # new object id
    # the old side, where the diff was read with it (not kept in the cache)
    old_mode: str = ""
    old_blob: str = ""


@record
class Pick:
    """What `git cherry-pick` of one commit onto one tree would do."""

    clean: bool
    conflicts: tuple[str, ...]  # conflicted paths, sorted
    empty: bool  # clean and the result equals the tree picked onto: already there in substance
    # result tree when clean (its objects are gone once the Simulator closes);
    # None for a chained pick the chain left alone (not computed)
    tree: str | None
    merge: bool  # the commit is a merge, picked against its first parent (like cherry-pick -m 1)
    # why the pick could not be computed (an object git needed is missing,
    # or git itself failed on it): nothing else is known of it then
    failure: str | None = None


@record
class Outcome:
    """A merge's result with what the virtual branch needs to know about it."""

    clean: bool
    conflicts: tuple[str, ...]
    # the result tree; "" where it was not worked out (backport.verdict.batch: a
    # conflict, or a pick onto an overlay); a merge writes it even on conflict
    tree: str
    # result tree against the tree picked onto (on a conflict worked out in
    # a batch, without the conflicted paths: `conflicts` names them)
    changes: tuple[Change, ...]
    failure: str | None = None  # why git could not merge it (Pick.failure); nothing else is known then

    def pick(self, merge: bool) -> Pick:
        return Pick(
            clean=self.clean,
            conflicts=self.conflicts,
            empty=self.clean and not self.changes,
            tree=self.tree if self.clean and self.tree else None,  # "": not worked out
            merge=merge,
            failure=self.failure,
        )

    def footprint(self) -> set[str]:
        return {c.path for c in self.changes} | set(self.conflicts)

    def to_json(self) -> dict[str, Any]:
        return {
            "clean": self.clean,
            "conflicts": list(self.conflicts),
            "tree": self.tree,
            "changes": [[c.path, c.status, c.mode, c.blob] for c in self.changes],
        }

    @classmethod
    def from_json(cls, data: Any) -> Outcome | None:
        try:
            return cls(
                clean=bool(data["clean"]),
                conflicts=tuple(str(p) for p in data["conflicts"]),
                tree=str(data["tree"]),
                changes=tuple(Change(*map(str, c)) for c in data["changes"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


class Scratch:
    """The scratch object directory and the merges done in it.

    Made when the first merge needs it (a warm run needs none); thread-safe;
    close() removes it, and a Scratch never closed is removed once collected.
    `live` holds the trees whose objects exist in this run: a tree from an
    earlier run's cache must be merged again before anything reads it.
    """

    def __init__(self, git: Git) -> None:
        self.git = git
        self.live: set[str] = set()
        self._lock = threading.Lock()
        self._tmp: str | None = None
        self._scratch: Git | None = None
        self._objects = ""
        self._algorithm = "sha1"
        self._seq = 0
        self._folders: set[str] = set()  # object folders made
        self._deferred: dict[str, list[tuple[str, bytes]]] = {}  # tree: its objects not written yet (defer())
        self._merges = 0  # merge-trees run: how big the directory has grown
        self._expected = 0  # picks announced (expect()): where the directory goes
        self._finalizer: weakref.finalize | None = None
        self._held: int | None = None  # the lock file's descriptor, while the directory lives

    @property
    def made(self) -> bool:
        """Whether the directory exists (whether anything was merged)."""
        return self._tmp is not None

    @property
    def directory(self) -> str | None:
        return self._tmp

    def expect(self, picks: int) -> None:
        """Announce about `picks` more picks, before the first: the directory
        goes in memory only when they fit there (scratch_parent). It is
        placed at the first merge, on what was announced by then: a run
        announces all its work at once (Simulator.plan_lines)."""
        self._expected += picks

    def objects(self) -> Git:
        """A git that reads the repository's objects and the scratch ones."""
        with self._lock:
            if self._scratch is not None:
                return self._scratch
            # bytes to names as Python keeps them: a repository's directory need not be UTF-8
            found = self.git.run(["rev-parse", "--git-path", "objects", "--show-object-format"]).stdout
            objects, algorithm = os.fsdecode(found).splitlines()
            objects = os.path.abspath(os.path.join(self.git.cwd, objects))  # relative to cwd before git 2.31
            self._tmp = self._make_directory()
            self._objects = os.path.join(self._tmp, "objects")
            self._algorithm = algorithm
            # The repository's objects as an alternate, in a file rather than
            # GIT_ALTERNATE_OBJECT_DIRECTORIES: that variable is split at ':',
            # which a repository path may contain. (Any alternates the user
            # set in the environment still apply: the environment is kept.)
            try:  # under self._lock, so not _write_file, which takes it
                os.makedirs(os.path.join(self._objects, "info"))
                with open(os.path.join(self._objects, "info", "alternates"), "wb") as handle:
                    handle.write(os.fsencode(objects) + b"\n")
            except OSError as err:
                raise _unwritable(self._tmp, err) from None
            self._scratch = self.git.with_env({"GIT_OBJECT_DIRECTORY": self._objects})
            return self._scratch

    def _make_directory(self) -> str:
        """A new private directory, known to close() and to the finalizer
        before it exists: Ctrl-C arriving in the middle (inside mkdtemp,
        after its mkdir) would otherwise leave it behind, unnamed. Its lock
        file is held for as long as this process lives (_sweep)."""
        parent = scratch_parent(self._expected)
        _sweep(parent)
        while True:
            path = os.path.join(parent, f"backport-sim-{os.getpid()}-{secrets.token_hex(6)}")
            self._tmp = path
            self._finalizer = weakref.finalize(self, shutil.rmtree, path, True)
            try:
                os.mkdir(path, 0o700)
            except FileExistsError:
                self._finalizer.detach()  # someone else's: try another name
                continue
            except OSError as err:
                self._tmp = None
                self._finalizer.detach()
                raise _unwritable(parent, err) from None
            # locked before it has its name, so that no sweep finds it unlocked
            unnamed = os.path.join(path, f"{LOCK}.new")
            try:
                self._held = os.open(unnamed, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as err:
                raise _unwritable(path, err) from None
            try:
                fcntl.flock(self._held, fcntl.LOCK_EX)
                os.replace(unnamed, os.path.join(path, LOCK))
            except OSError:
                pass  # no locks there (NFS without its lock manager): no sweep will take it
            return path

    def close(self) -> None:
        if self._tmp is not None:
            _remove(self._tmp, detach=self._merges >= DETACH_AFTER)
            if self._finalizer is not None:
                self._finalizer.detach()
            self._tmp = None
        if self._held is not None:
            os.close(self._held)  # the lock goes with it
            self._held = None
        self._scratch = None
        self._folders.clear()
        self._deferred.clear()
        self.live.clear()

    # -- merges -------------------------------------------------------------

    def merge(self, commit: Commit, tree: str) -> Outcome:
        """Pick `commit` onto `tree`, for real, here."""
        return self.merged([commit], [tree], [self.attempt(commit, self.onto(commit, tree))])[0]

    def onto(self, commit: Commit, tree: str) -> str:
        """The synthetic commit S that `commit` is merged with to pick it onto `tree`."""
        return self.synthetic([(commit, tree)])[0]

    def attempt(self, commit: Commit, onto: str) -> tuple[bool, tuple[str, ...], str, str | None]:
        """merge-tree of `commit` and S: (clean, conflicted paths, tree, why it
        failed). A missing object, or git failing on this one merge (git
        2.39's merge-ort trips an assertion on some renames on real Xen),
        costs this pick, not the run."""
        try:
            clean, conflicts, tree = self.merge_tree(*self.merge_args(commit, onto))
        except MissingObject as err:
            return False, (), "", missing_text(err.object_id)
        except GitError as err:
            return False, (), "", f"git could not merge it ({err.message}): pick it by hand to see"
        return clean, conflicts, tree, None

    def merged(
        self,
        commits: Sequence[Commit],
        trees: Sequence[str],
        results: Sequence[tuple[bool, tuple[str, ...], str, str | None]],
    ) -> list[Outcome]:
        """Outcomes of attempts, with what each changed against the tree it
        was picked onto (one diff-tree for all); their trees are live now."""
        changes = self.diff_trees((tree, r[2]) for tree, r in zip(trees, results, strict=True) if r[2])
        outcomes = [
            Outcome(clean, conflicts, result, changes.get((tree, result), ()), failure)
            for tree, (clean, conflicts, result, failure) in zip(trees, results, strict=True)
        ]
        with self._lock:
            self.live.update(o.tree for o in outcomes if o.tree)
        return outcomes

    def merge_args(self, commit: Commit, onto: str) -> list[str]:
        if commit.base is None:
            # a root commit: cherry-pick merges against the empty tree
            return ["--allow-unrelated-histories", onto, commit.id]
        return [onto, commit.id]

    def merge_tree(self, *commits: str) -> tuple[bool, tuple[str, ...], str]:
        """`git merge-tree --write-tree` of two commits (and options before
        them): whether it is clean, the conflicted paths, the tree written."""
        args = ["merge-tree", "--write-tree", "--name-only", "--no-messages", "-z"]
        self._merges += 1
        proc = self.objects().run([*args, *commits], check=False)
        if proc.returncode not in (0, 1):
            raise git_failure(args, proc.returncode, proc.stderr.decode("utf-8", "replace"))
        tree, *paths = proc.stdout.decode("utf-8", "surrogateescape").split("\0")
        if not FULL_ID.fullmatch(tree):
            # exit 1 also means "not something we can merge": never read that as a conflict
            raise git_failure(args, proc.returncode, proc.stderr.decode("utf-8", "replace") or "no tree written")
        return proc.returncode == 0, tuple(sorted(set(p for p in paths if p))), tree

    def synthetic(self, items: Sequence[tuple[Commit, str]]) -> list[str]:
        """Commits S: the given tree, C's first parent as parent, C's date.

        Written straight into the scratch object directory as loose objects,
        which git reads like any other: a commit is a few lines of text, and a
        git process for each (`commit-tree`) cost a third of the merge it
        prepares. Nothing is signed, whatever commit.gpgSign says.
        """
        self.objects()
        trees = list(dict.fromkeys(tree for _, tree in items))
        with self._lock:
            objects = [o for tree in trees for o in self._deferred.get(tree, ())]
        for commit, tree in items:
            parent = f"parent {commit.base}\n" if commit.base else ""
            who = f"backport <backport@invalid> {commit.date}"
            text = f"tree {tree}\n{parent}author {who}\ncommitter {who}\n\nbackport simulation of {commit.id}\n"
            objects.append(("commit", text.encode()))
        ids = self.write_objects(objects)[len(objects) - len(items) :]
        # the deferred trees forgotten only once written: a thread that comes
        # meanwhile writes them too, rather than hand git a tree not there yet
        with self._lock:
            for tree in trees:
                self._deferred.pop(tree, None)
        return ids

    def object_id(self, kind: str, body: bytes) -> str:
        """The id git gives an object, without writing it."""
        self.objects()
        return hashlib.new(self._algorithm, f"{kind} {len(body)}\0".encode() + body).hexdigest()

    def defer(self, tree: str, objects: Sequence[tuple[str, bytes]]) -> None:
        """The objects of a tree (`objects`: (kind, body), the root's among
        them) to write only when a synthetic commit names the tree: most
        picks' trees are never read by git, and writing a loose object
        costs a file."""
        with self._lock:
            self._deferred[tree] = list(objects)

    def write_objects(self, objects: Sequence[tuple[str, bytes]]) -> list[str]:
        """Objects (kind, body) written, their ids in order: PACK_AT or more
        in one pack (two files), fewer as loose objects (a file each). On a
        disk, files cost: a cold report on 1,000,000 commits spent half its
        workers' time writing the batches' sparse trees one file at a time."""
        if len(objects) < PACK_AT:
            return [self.write_object(kind, body) for kind, body in objects]
        ids = [self.object_id(kind, body) for kind, body in objects]
        unique = {oid: (kind, body) for oid, (kind, body) in zip(ids, objects, strict=True)}
        packed = _pack(self._algorithm, [(oid, *found) for oid, found in unique.items()])
        if packed is None:
            return [self.write_object(kind, body) for kind, body in objects]
        pack, index, name = packed
        folder = os.path.join(self._objects, "pack")
        for data, suffix in ((pack, ".pack"), (index, ".idx")):  # the pack first: git looks for the index
            self._write_file(folder, f"pack-{name}{suffix}", data)
        return ids

    def read_loose(self, oid: str, kind: str) -> bytes | None:
        """The body of a loose object in the scratch directory (git writes
        a merge's new trees there), None unless it is there, of that kind."""
        try:
            with open(os.path.join(self._objects, oid[:2], oid[2:]), "rb") as handle:
                data = zlib.decompress(handle.read())
        except (OSError, zlib.error):
            return None
        head, _, body = data.partition(b"\0")
        return body if head == f"{kind} {len(body)}".encode() else None

    def write_object(self, kind: str, body: bytes) -> str:
        """A loose object (its id), written once (_write_file)."""
        data = f"{kind} {len(body)}\0".encode() + body
        oid = hashlib.new(self._algorithm, data).hexdigest()
        folder = os.path.join(self._objects, oid[:2])
        path = os.path.join(folder, oid[2:])
        if not os.path.exists(path):
            self._write_file(folder, oid[2:], zlib.compress(data, 1))
        return oid

    def _write_file(self, folder: str, name: str, data: bytes) -> None:
        """A file of the scratch directory, written whole or not at all (a
        temporary file renamed into place), even with two threads writing
        the same one. The temporary name is ours alone (thread and a
        counter): mkstemp's random names cost 1 ms a file. A full disk is
        the user's to fix: RepoError, saying where."""
        try:
            if folder not in self._folders:
                os.makedirs(folder, exist_ok=True)
                self._folders.add(folder)
            with self._lock:
                self._seq += 1
                temp = os.path.join(folder, f"tmp_obj_{threading.get_ident()}_{self._seq}")
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temp, os.path.join(folder, name))
        except OSError as err:
            raise _unwritable(self._tmp or folder, err) from None

    def diff_trees(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], tuple[Change, ...]]:
        """Raw differences of many tree pairs, in one `git diff-tree`."""
        wanted = [p for p in dict.fromkeys(pairs) if p[0] != p[1]]
        if not wanted:
            return {}
        data = "".join(f"{a} {b}\n" for a, b in wanted).encode()
        out = self.objects().run(["diff-tree", "--stdin", "-r", "-z", "--no-renames"], input=data).stdout
        found = parse_raw(out)
        return {(a, b): tuple(found.get(f"{a} {b}", ())) for a, b in wanted}


def _pack(algorithm: str, objects: Sequence[tuple[str, str, bytes]]) -> tuple[bytes, bytes, str] | None:
    """A pack of these objects (id, kind, body; no id twice), each stored
    whole, its index (version 2), and its name: git's pack formats
    (Documentation/gitformat-pack.txt). None past 2 GiB, where the index
    would need its table of large offsets."""
    pack = bytearray(b"PACK" + struct.pack(">II", 2, len(objects)))
    rows = []
    for oid, kind, body in objects:
        size = len(body)
        header = bytearray()
        byte = _PACK_TYPES[kind] << 4 | size & 0x0F
        size >>= 4
        while size:
            header.append(byte | 0x80)
            byte, size = size & 0x7F, size >> 7
        header.append(byte)
        entry = bytes(header) + zlib.compress(body, 1)
        rows.append((bytes.fromhex(oid), len(pack), zlib.crc32(entry)))
        pack += entry
    if len(pack) >= 1 << 31:
        return None
    checksum = hashlib.new(algorithm, pack).digest()
    pack += checksum
    rows.sort()
    index = bytearray(b"\xfftOc" + struct.pack(">I", 2))
    counts = [0] * 256
    for name, _, _ in rows:
        counts[name[0]] += 1
    running = 0
    for count in counts:
        running += count
        index += struct.pack(">I", running)
    index += b"".join(name for name, _, _ in rows)
    index += b"".join(struct.pack(">I", crc) for _, _, crc in rows)
    index += b"".join(struct.pack(">I", offset) for _, offset, _ in rows)
    index += checksum
    index += hashlib.new(algorithm, index).digest()
    return bytes(pack), bytes(index), checksum.hex()


def _sweep(parent: str) -> None:
    """Remove what runs killed outright (SIGKILL, the out-of-memory killer,
    a power cut) left in `parent`: in memory, that would be held until the
    next boot. A run holds its directory's lock file locked (flock) while
    it lives, and the kernel lets go when the process ends, however it
    ends; so a directory whose lock we can take belongs to no live run,
    whichever pid namespace or host (NFS) it ran in. One without a lock
    file yet (being made) is left, and so is anything not named as ours."""
    try:
        names = [n for n in os.listdir(parent) if SCRATCH_NAME.fullmatch(n)]
    except OSError:
        return
    for name in names:
        path = os.path.join(parent, name)
        try:
            held = os.open(os.path.join(path, LOCK), os.O_RDWR | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live run's
        finally:
            os.close(held)
        if not remove_detached(path):
            shutil.rmtree(path, ignore_errors=True)


def _unwritable(place: str, err: OSError) -> RepoError:
    return RepoError(
        f"cannot write scratch objects in {place}: {err.strerror or err}",
        "free some space there, or set TMPDIR to a directory with room",
    )


def scratch_parent(picks: int) -> str:
    """Where the scratch directory for about `picks` picks goes: where the
    user said (TMPDIR, TEMP or TMP); else in memory (XDG_RUNTIME_DIR, else
    /dev/shm) when the picks fit there twice over, with 64 MiB to spare;
    else the system's temporary directory.

    On a disk, creating a file costs 0.1 to 0.7 ms (ext4 on this project's
    test machine), and a pick writes a dozen or more: a cold check of the
    Xen 4.21.1..2 window took 4.3 s with its objects in /tmp, 2.5 s in
    memory. A container's small /dev/shm (64 MiB by default), a run too big
    for memory (1,000,000 commits), and a system without one all get the disk.
    """
    if any(os.environ.get(name) for name in ("TMPDIR", "TEMP", "TMP")):
        return tempfile.gettempdir()
    need = picks * PICK_BYTES
    if need <= MEMORY_AT_MOST:
        for place in (os.environ.get(MEMORY_VARIABLE), MEMORY_DIRECTORY):
            if place and os.path.isdir(place) and os.access(place, os.W_OK | os.X_OK):
                try:
                    room = os.statvfs(place)
                except OSError:
                    continue
                if room.f_bavail * room.f_frsize >= 2 * need + (64 << 20):
                    return place
    return tempfile.gettempdir()


def _remove(path: str, *, detach: bool) -> None:
    """Remove a scratch directory. A big one goes in the background, so the
    answer is not held up by it: a cold report on 1,000,000 commits leaves
    270,000 loose objects, 21 s of unlinking."""
    if not (detach and remove_detached(path)):
        shutil.rmtree(path, ignore_errors=True)


def read_commits(git: Git, names: Sequence[str]) -> list[Commit | None]:
    """Tree, parents and date of each commit named (None: no commit), in one `git cat-file`."""
    return [
        _parse_commit(found[0], found[2]) if found is not None and found[1] == "commit" else None
        for found in git.read_objects([f"{n}^{{commit}}" for n in names])
    ]


def own_changes(git: Git, commits: Sequence[Commit]) -> dict[str, tuple[Change, ...]]:
    """What each commit changes against its first parent, in one `git diff-tree`."""
    if not commits:
        return {}
    data = "".join(f"{c.id} {c.base}\n" if c.base else f"{c.id}\n" for c in commits).encode()
    out = git.run(["diff-tree", "--stdin", "-r", "-z", "--root", "--always", "--no-renames"], input=data)
    found = parse_raw(out.stdout)
    return {c.id: tuple(found.get(c.id, ())) for c in commits}


def _parse_commit(oid: str, body: bytes) -> Commit:
    tree, parents, date = "", [], ""
    for line in body.split(b"\n"):
        if not line:
            break  # end of headers
        field, _, value = line.decode("utf-8", "replace").partition(" ")
        if field == "tree":
            tree = value
        elif field == "parent":
            parents.append(value)
        elif field == "committer":
            date = " ".join(value.rsplit(" ", 2)[-2:])
    return Commit(oid, tree, tuple(parents), date)


def parse_raw(out: bytes) -> dict[str, list[Change]]:
    """Split `git diff-tree --stdin -r -z` raw output by the header that starts each diff.

    A header is a commit id (commit mode, NUL-terminated) or "<tree> <tree>"
    (tree pairs, newline-terminated and so glued to the next field).
    """
    found: dict[str, list[Change]] = {}
    current: list[Change] = []
    fields = iter(out.decode("utf-8", "surrogateescape").split("\0"))
    for field in fields:
        if not field:
            continue
        if "\n" in field and not field.startswith(":"):
            header, _, field = field.partition("\n")
            current = found.setdefault(header, [])
        if not field.startswith(":"):
            current = found.setdefault(field, [])
            continue
        old_mode, mode, old, blob, status = field[1:].split(" ")
        current.append(Change(next(fields), status[0], mode, blob, old_mode, old))
    return found


def structural(changes: Iterable[Change]) -> bool:
    """Whether files come or go, which can change how git pairs renames."""
    return any(ch.status in ("A", "D") for ch in changes)
