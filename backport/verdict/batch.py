"""Many picks in one merge: cherry-picks that only modify files, their
file merges done a batch at a time in sparse trees.

Picking C onto a tree T is a three-way merge of C's parent, T and C. When
C only modifies files, and T has each of them as a file of the same kind
(a symlink where the parent had one, a regular file where it had one), no
file comes or goes on either side at C's paths, so git has no rename and
no directory rename to pair there (merge-ort pairs renames only among
files added and deleted). The pick's result is then T with each of C's
paths merged on its own: C's entry where T has it as C's parent had it,
T's where T has C's already, else git's three-way merge of the file
(content and mode).

Those file merges are git's own, for many picks at once: three sparse trees
(parents' entries, T's, the commits'), each path once in a batch, merged
by one `git merge-tree`. Paths keep their names, so attributes (merge
drivers, binary files) apply to them as they would. Each pick's result tree
is then T's trees with the merged entries put in, written here; the
changed entries are exactly what diff-tree would report between T and it.

The same rules pick a commit onto an overlay (a tree with entries changed
on top: the virtual branch, the `after` replays) without writing the tree
out: pick_on_overlay.

On real Xen most of what a pick costs git is merging large files (6-8 ms
for xen/arch/x86/hvm/hvm.c or vmx.c, in sparse trees as in whole ones); a
batch spares a process and a walk of two trees years apart per pick, and
our diff-tree after it. A cold report's untagged fixes on six lines went
from 1,099 merge-trees (5.4 s of git's time) to 121 (4.1 s).
tests/test_batch.py holds every result to the single merge's and to git's
cherry-pick, and benchmarks/batch_real.py does on a real repository.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from backport.errors import GitError
from backport.verdict.merge import Change, Commit, Outcome, Scratch

TREE = "40000"
FILE_MODES = frozenset({"100644", "100755", "120000"})  # what the batch merges; never a tree or submodule

# File merges per batch: few enough that the batches spread over the
# workers (a batch of large files took git half a second on Xen), many
# enough that the processes are few.
BATCH = 32

Entry = tuple[str, str]  # (mode, object id) of a tree entry
Overlay = dict[str, "Entry | None"]  # path: entry where a tree differs from another (None: deleted)
Sides = dict[str, tuple[Entry, Entry, Entry]]  # path: its entries in the commit's parent, the tree, the commit
Memo = dict[tuple[str, tuple[Entry, ...]], "Outcome"]  # (commit, the tree's entries at its paths): the pick
Mapper = Callable[[Callable[[int], "_Merged | None"], Sequence[int]], list["_Merged | None"]]
_Merged = tuple[frozenset[str], dict[str, Entry]]  # a batch's conflicted paths, and every path's merged entry


def merge_batched(
    scratch: Scratch,
    pairs: Sequence[tuple[Commit, str]],
    own: Mapping[str, tuple[Change, ...]],
    mapper: Mapper,
    trees: TreeReader | None = None,
) -> list[Outcome | None]:
    """Each pick (commit, tree) worked out here when it only modifies files
    the tree has as files (`own`: what each commit changes, old sides and
    all); None for the rest, and for any whose batch git failed to merge:
    those are for Scratch.merge. `mapper` runs the batches' merges (on the
    simulator's workers); `trees` reads the trees picked onto (one of the
    simulator's, which keeps what it read, or a new one)."""
    candidates = {i: own[c.id] for i, (c, _) in enumerate(pairs) if modifies_only(c, own.get(c.id))}
    if not candidates:
        return [None] * len(pairs)
    trees = trees if trees is not None else TreeReader(scratch)
    trees.load((pairs[i][1], ch.path) for i, changes in candidates.items() for ch in changes)
    plans: dict[int, Sides] = {}
    for i, changes in candidates.items():
        sides = _sides(trees, pairs[i][1], changes)
        if sides is not None:
            plans[i] = sides
    files = {i: _to_merge(sides) for i, sides in plans.items()}
    batches = _batches(files, [tree for _, tree in pairs])
    merges = _prepared(scratch, [batch for _, batch in batches])
    merged = mapper(lambda b: _merge(scratch, *merges[b]), range(len(batches)))
    found: dict[int, dict[str, Entry | None]] = {i: {} for i in plans}  # pick: its merged files
    for (members, _), result in zip(batches, merged, strict=True):
        for i in members:
            if result is None:
                plans.pop(i)  # git failed on the batch: these go one by one
            else:
                found[i] = _taken(result, files[i])
    outcomes: list[Outcome | None] = [None] * len(pairs)
    for i, sides in plans.items():
        tree = pairs[i][1]
        conflicts, changes = _resolve(sides, found[i])
        # the tree with conflict markers is never read: not written
        written = "" if conflicts else trees.written(tree, overlaid({}, changes))
        outcomes[i] = Outcome(not conflicts, conflicts, written, changes)
    scratch.live.update(o.tree for o in outcomes if o is not None and o.tree)
    return outcomes


def modifies_only(commit: Commit, changes: tuple[Change, ...] | None) -> bool:
    return (
        len(commit.parents) == 1
        and bool(changes)
        and all(ch.status == "M" and ch.mode in FILE_MODES and ch.old_mode in FILE_MODES for ch in changes or ())
    )


def _sides(
    trees: TreeReader, tree: str, changes: tuple[Change, ...], overlay: Mapping[str, Entry | None] | None = None
) -> Sides | None:
    """Each path's entries in the commit's parent, the tree (with `overlay`
    on top) and the commit; None unless the tree has every path as a file."""
    sides = {}
    for ch in changes:
        ours = overlay[ch.path] if overlay and ch.path in overlay else trees.entry(tree, ch.path)
        if ours is None or ours[0] not in FILE_MODES or _is_link(ours[0]) != _is_link(ch.old_mode):
            # not a file there, or a symlink for a file (or the other way
            # round): git then also keeps one side aside under another name
            return None
        sides[ch.path] = ((ch.old_mode, ch.old_blob), ours, (ch.mode, ch.blob))
    return sides


def _is_link(mode: str) -> bool:
    return mode == "120000"


def _needs_merge(base: Entry, ours: Entry, theirs: Entry) -> bool:
    """Whether git must merge the file: both sides changed it, differently."""
    return ours != base and ours != theirs


def _to_merge(sides: Sides) -> Sides:
    """The files git must merge: both sides changed them, differently."""
    return {p: s for p, s in sides.items() if _needs_merge(*s)}


def _taken(result: _Merged, files: Iterable[str]) -> dict[str, Entry | None]:
    """What a batch's merge gave each of these files (None: it conflicts)."""
    conflicted, entries = result
    return {p: None if p in conflicted else entries[p] for p in files}


def _batches(wanted: Mapping[int, Sides], trees: Sequence[str]) -> list[tuple[list[int], Sides]]:
    """The file merges grouped into batches: each pick's paths in one batch,
    a path at most once in a batch, and one tree picked onto per batch (two
    trees may hold a name as a file and as a directory)."""
    batches: list[tuple[list[int], Sides]] = []
    open_for: dict[str, list[int]] = {}  # tree: its batches
    for i, files in wanted.items():
        if not files:
            continue
        tree = trees[i]
        home = next(
            (
                b
                for b in open_for.get(tree, [])
                if len(batches[b][1]) < BATCH and not files.keys() & batches[b][1].keys()
            ),
            None,
        )
        if home is None:
            home = len(batches)
            batches.append(([], {}))
            open_for.setdefault(tree, []).append(home)
        batches[home][0].append(i)
        batches[home][1].update(files)
    return batches


def _prepared(scratch: Scratch, batches: Sequence[Sides]) -> list[tuple[str, str, Mapping[str, bytes]]]:
    """Each batch's merge made ready: the sparse trees holding its files
    (the parents' entries, the tree's, the commits') and a commit of each,
    every batch's objects written at once (Scratch.write_objects: a pack
    when they are many). Per batch, the two commits merge-tree is to merge,
    and the trees written (id: body), which its result may share."""
    objects: list[tuple[str, bytes]] = []
    ready = []
    for files in batches:
        trees = [_sparse_tree(scratch, {path: sides[k] for path, sides in files.items()}, objects) for k in range(3)]
        base = _commit(scratch, trees[0], None, objects)
        ready.append((_commit(scratch, trees[1], base, objects), _commit(scratch, trees[2], base, objects)))
    scratch.write_objects(objects)
    written = {scratch.object_id(kind, body): body for kind, body in objects if kind == "tree"}
    return [(ours, theirs, written) for ours, theirs in ready]


def _merge(scratch: Scratch, ours: str, theirs: str, written: Mapping[str, bytes]) -> _Merged | None:
    """One merge-tree of a batch's two commits (_prepared): the conflicted
    paths and each path's merged entry; None when git cannot do it."""
    try:
        _, conflicts, result = scratch.merge_tree(ours, theirs)
        entries = _files(scratch, result, written)
        if entries is None:
            entries = scratch.objects().tree_files(result)
    except GitError:
        return None
    return frozenset(conflicts), entries


def _files(scratch: Scratch, root: str, written: Mapping[str, bytes]) -> dict[str, Entry] | None:
    """Every file of a merge's result tree, from its tree objects: those
    we wrote (`written`) and those git wrote, loose, in the scratch
    directory. No process: a `git ls-tree` costs 2 to 3 ms, and the `after`
    replays of a check wait for a hundred merges one after another. None
    when a tree is elsewhere (git found it made already, in the repository)."""
    entries: dict[str, Entry] = {}
    todo = [("", root)]
    while todo:
        folder, oid = todo.pop()
        body = written.get(oid)
        if body is None:
            body = scratch.read_loose(oid, "tree")
        if body is None:
            return None
        for mode, name, child in _parse_tree(body, len(oid) // 2):
            path = f"{folder}/{name}" if folder else name
            if mode == TREE:
                todo.append((path, child))
            else:
                entries[path] = (mode, child)
    return entries


def _commit(scratch: Scratch, tree: str, parent: str | None, objects: list[tuple[str, bytes]]) -> str:
    """A commit of `tree`, its object put in `objects` to be written."""
    who = "backport <backport@invalid> 0 +0000"
    head = f"tree {tree}\n" + (f"parent {parent}\n" if parent else "")
    body = f"{head}author {who}\ncommitter {who}\n\nbackport batch\n".encode()
    objects.append(("commit", body))
    return scratch.object_id("commit", body)


def _resolve(sides: Sides, merged: Mapping[str, Entry | None]) -> tuple[tuple[str, ...], tuple[Change, ...]]:
    """A pick's conflicted paths and changed entries (against the tree
    picked onto), from its paths' sides and git's merges of some of them."""
    result: dict[str, Entry] = {}
    for path, (_, _, theirs) in sides.items():
        # where git need not merge, ours is the parent's or already theirs: theirs it is
        entry = merged[path] if path in merged else theirs
        if entry is not None:
            result[path] = entry
    conflicts = tuple(sorted(p for p, e in merged.items() if e is None))
    changes = tuple(
        Change(path, "M", *entry, *sides[path][1])  # a clean pick keeps each file's type (see _sides)
        for path, entry in sorted(result.items())
        if entry != sides[path][1]
    )
    return conflicts, changes


def overlaid(overlay: Mapping[str, Entry | None], changes: Iterable[Change]) -> Overlay:
    """An overlay (path: entry, None where deleted) with the changes on top."""
    found = dict(overlay)
    found.update((ch.path, None if ch.status == "D" else (ch.mode, ch.blob)) for ch in changes)
    return found


def pick_on_overlay(
    scratch: Scratch,
    reader: TreeReader,
    tree: str,
    overlay: Mapping[str, Entry | None],
    commit: Commit,
    changes: tuple[Change, ...],
    memo: Memo,
) -> Outcome | None:
    """`commit` (which changes `changes`) picked onto `tree` with `overlay`
    on top, as git would, without a merge of the whole trees: its paths'
    entries resolved here, the rest by one merge-tree of sparse trees. None
    when the commit does more than modify files the tree has as files, or
    git fails on it: that is a pick for Scratch.merge. The outcome's tree is
    not worked out (""): its changes say what it is.

    Such a pick depends only on what the tree has at the commit's paths:
    `memo` keeps each by those entries, for the next pick of the commit onto
    a tree that has them too (the `after` replays drop one commit at a time,
    and most picks after it see the same files: on the Xen 4.21.1..2
    window, 86 of 315 picks)."""
    return picks_on_overlays(scratch, reader, tree, [(commit, changes, overlay)], memo)[0]


def picks_on_overlays(
    scratch: Scratch,
    reader: TreeReader,
    tree: str,
    wanted: Sequence[tuple[Commit, tuple[Change, ...], Mapping[str, Entry | None]]],
    memo: Memo,
) -> list[Outcome | None]:
    """Each (commit, its changes, an overlay on `tree`) picked as
    pick_on_overlay does, into `memo` too; the file merges of them all in
    as few merge-trees as a path once in each allows."""
    outcomes: list[Outcome | None] = [None] * len(wanted)
    local = [i for i, (commit, changes, _) in enumerate(wanted) if modifies_only(commit, changes)]
    reader.load((tree, ch.path) for i in local for ch in wanted[i][1] if ch.path not in wanted[i][2])
    plans: dict[int, Sides] = {}
    keys: dict[tuple[str, tuple[Entry, ...]], int] = {}  # a pick's memo key: the first of `wanted` asking for it
    same: dict[int, int] = {}  # a repeat in `wanted`: the first asking for the same pick
    for i in local:
        commit, changes, overlay = wanted[i]
        sides = _sides(reader, tree, changes, overlay)
        if sides is None:
            continue
        key = (commit.id, tuple(ours for _, ours, _ in sides.values()))
        if key in memo:
            outcomes[i] = memo[key]
        elif key in keys:
            same[i] = keys[key]
        else:
            keys[key] = i
            plans[i] = sides
    files = {i: _to_merge(sides) for i, sides in plans.items()}
    found: dict[int, dict[str, Entry | None]] = {i: {} for i in plans}
    batches = _batches(files, [tree] * len(wanted))
    for (members, _), merge in zip(batches, _prepared(scratch, [batch for _, batch in batches]), strict=True):
        result = _merge(scratch, *merge)
        for i in members:
            if result is None:
                plans.pop(i)  # git failed: a pick for Scratch.merge
            else:
                found[i] = _taken(result, files[i])
    for key, i in keys.items():
        if i in plans:
            conflicts, changed = _resolve(plans[i], found[i])
            outcomes[i] = memo[key] = Outcome(not conflicts, conflicts, "", changed)
    for i, first in same.items():
        outcomes[i] = outcomes[first]
    return outcomes


class TreeReader:
    """The directories of the trees picked onto, read raw (TreeReader.load),
    and trees written from them with an overlay on top (TreeReader.written).

    What it read it keeps: a tree's contents never change. Threads may share
    one: each read or kept directory is one dict operation, and two threads
    reading the same directory at once only read it twice."""

    def __init__(self, scratch: Scratch) -> None:
        self.scratch = scratch
        self._raw: dict[tuple[str, str], list[tuple[str, str, str]] | None] = {}  # (tree, dir): (mode, name, oid)

    def load(self, wanted: Iterable[tuple[str, str]]) -> None:
        """Read every directory on the way to each (tree, path): by object
        id, a level at a time (one `git cat-file --batch` for each depth),
        never by `tree:path`, which a path's own characters could change."""
        folders: dict[str, set[str]] = {}  # tree: the directories wanted in it
        for tree, path in wanted:
            parts = path.split("/")[:-1]
            folders.setdefault(tree, set()).update("/".join(parts[:depth]) for depth in range(len(parts) + 1))
        level = [(tree, "", tree) for tree in folders]
        while level:
            bodies = _read_trees(self.scratch, {oid for tree, folder, oid in level if (tree, folder) not in self._raw})
            below = []
            for tree, folder, oid in level:
                if (tree, folder) not in self._raw:
                    self._raw[(tree, folder)] = bodies.get(oid)
                for mode, name, child in self._raw[(tree, folder)] or ():
                    inner = f"{folder}/{name}" if folder else name
                    if mode == TREE and inner in folders[tree]:
                        below.append((tree, inner, child))
            level = below
        for tree, wanted_folders in folders.items():
            for folder in wanted_folders:
                self._raw.setdefault((tree, folder), None)  # not a directory there

    def entry(self, tree: str, path: str) -> Entry | None:
        folder, _, name = path.rpartition("/")
        for mode, entry_name, oid in self._raw.get((tree, folder)) or ():
            if entry_name == name:
                return mode, oid
        return None

    def written(self, tree: str, overlay: Mapping[str, Entry | None]) -> str:
        """`tree` with `overlay` on top (path: entry, None to delete; files
        may come, go, and make or empty directories): the new root's id, its
        objects deferred (written when git is to read the tree: Scratch.defer)."""
        if not overlay:
            return tree
        self.load((tree, path) for path in overlay)
        by_folder: dict[str, dict[str, Entry | None]] = {}
        for path, entry in overlay.items():
            folder, _, name = path.rpartition("/")
            by_folder.setdefault(folder, {})[name] = entry
            while folder:  # every directory above it changes too
                folder, _, name = folder.rpartition("/")
                by_folder.setdefault(folder, {})
        objects: list[tuple[str, bytes]] = []
        oid = tree
        for folder in sorted(by_folder, key=lambda f: f.count("/") if f else -1, reverse=True):
            rows = {name: (mode, oid) for mode, name, oid in self._raw.get((tree, folder)) or ()}
            for name, entry in by_folder[folder].items():
                if entry is None:
                    rows.pop(name, None)
                else:
                    rows[name] = entry
            body = _serialize((mode, name, oid) for name, (mode, oid) in rows.items())
            oid = self.scratch.object_id("tree", body)
            if not folder:
                objects.append(("tree", body))
                break
            parent, _, name = folder.rpartition("/")
            if rows:
                objects.append(("tree", body))
                by_folder[parent][name] = (TREE, oid)
            elif overlay.get(folder) is None:
                by_folder[parent][name] = None  # emptied: it goes (a file the overlay puts there stays)
        self.scratch.defer(oid, objects)
        return oid


def _sparse_tree(scratch: Scratch, files: Mapping[str, Entry], objects: list[tuple[str, bytes]]) -> str:
    """A tree holding just these files (and the directories above them),
    its objects put in `objects` to be written."""
    nested: dict[str, Any] = {}  # name: subdirectory (a dict), or an Entry at a leaf
    for path, entry in files.items():
        *folders, name = path.split("/")
        node = nested
        for folder in folders:
            node = node.setdefault(folder, {})
        node[name] = entry

    def write(node: dict[str, Any]) -> str:
        rows = [
            (TREE, name, write(child)) if isinstance(child, dict) else (child[0], name, child[1])
            for name, child in node.items()
        ]
        body = _serialize(rows)
        objects.append(("tree", body))
        return scratch.object_id("tree", body)

    return write(nested)


def _serialize(rows: Iterable[tuple[str, str, str]]) -> bytes:
    """A tree object's body, entries in git's order: by name, a directory's as if it ended in '/'."""
    encoded = [(mode.encode(), name.encode("utf-8", "surrogateescape"), oid) for mode, name, oid in rows]
    encoded.sort(key=lambda r: r[1] + b"/" if r[0] == TREE.encode() else r[1])
    return b"".join(mode + b" " + name + b"\0" + bytes.fromhex(oid) for mode, name, oid in encoded)


def _read_trees(scratch: Scratch, ids: Iterable[str]) -> dict[str, list[tuple[str, str, str]]]:
    """The entries of each tree named by id, in one `git cat-file --batch`; what is not a tree is left out."""
    wanted = sorted(ids)
    if not wanted:
        return {}
    read = scratch.objects().read_objects(wanted)
    return {
        oid: _parse_tree(found[2], len(found[0]) // 2)
        for oid, found in zip(wanted, read, strict=True)
        if found is not None and found[1] == "tree"
    }


def _canonical(mode: str) -> str:
    """The mode git writes for an entry (old trees hold 100664, 040000 and the like)."""
    number = int(mode, 8)
    kind = number & 0o170000
    if kind == 0o040000:
        return TREE
    if kind == 0o100000:
        return "100755" if number & 0o100 else "100644"
    return f"{number:o}"


def _parse_tree(body: bytes, width: int) -> list[tuple[str, str, str]]:
    """A raw tree object's entries: (mode as git writes it, name, hex id);
    `width`: an id's length in bytes."""
    rows = []
    pos = 0
    while pos < len(body):
        space = body.index(b" ", pos)
        nul = body.index(b"\0", space)
        rows.append(
            (
                _canonical(body[pos:space].decode()),
                body[space + 1 : nul].decode("utf-8", "surrogateescape"),
                body[nul + 1 : nul + 1 + width].hex(),
            )
        )
        pos = nul + 1 + width
    return rows
