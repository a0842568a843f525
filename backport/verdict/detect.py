"""Already-applied detection: is an unstable commit on a stable line, and why we think so.

Evidence, strongest first:
  ancestor            the commit itself is reachable from the line's tip;
  cherry-picked-from  a line commit says `(cherry picked from commit X)` (`cherry-pick -x`);
  master-commit       Xen's `master commit: X` line;
  upstream-line       Linux stable's `commit X upstream.` or `[ Upstream commit X ]`;
  patch-id            a line commit has the same `git patch-id --stable`.

Reference lines are read before patch-ids because they survive what patch-ids
do not: on real Xen history 388 of 412 stable-4.20 backports carry a
reference line, while only 289 kept their original patch-id (context lines
drift, conflicts get resolved by hand).

Cost: one walk finds every line's fork point (backport.forks, shared with
the scanner), one `git rev-list` every line's ancestry above the scan base
(reach_masks); per line one streamed `git log` of the line's own commits
(fork point..tip); one batch resolves every
abbreviated id; patch-ids only for what is still undecided, one two-process
pipeline for the line commits (those no reference line explains) and one,
beside it, for the commits asked about. The per-line index is cached by
(tip, fork point): history below a commit never changes.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from backport.background import Background, background
from backport.cache import version as cache_version
from backport.errors import MissingObject
from backport.forks import ForkPoints
from backport.git import Git
from backport.models import Line, Version
from backport.record import record, replace

if TYPE_CHECKING:  # the cache module is optional at import time for the hook's light path
    from backport.cache import Cache

ANCESTOR = "ancestor"
CHERRY_PICKED_FROM = "cherry-picked-from"
MASTER_COMMIT = "master-commit"
UPSTREAM_LINE = "upstream-line"
PATCH_ID = "patch-id"
SIMILAR = "similar"
EVIDENCE = (ANCESTOR, CHERRY_PICKED_FROM, MASTER_COMMIT, UPSTREAM_LINE, PATCH_ID, SIMILAR)

_HEX = rb"([0-9a-fA-F]{7,40})"
_REFERENCES: tuple[tuple[str, re.Pattern[bytes]], ...] = (
    (CHERRY_PICKED_FROM, re.compile(rb"^[ \t]*\(cherry picked from commit " + _HEX + rb"\)", re.M | re.I)),
    (MASTER_COMMIT, re.compile(rb"^[ \t]*master commit:[ \t]*" + _HEX + rb"\b", re.M | re.I)),
    (UPSTREAM_LINE, re.compile(rb"^[ \t]*commit " + _HEX + rb"\s+upstream\b", re.M | re.I)),
    (UPSTREAM_LINE, re.compile(rb"^[ \t]*\[[ \t]*upstream commit " + _HEX + rb"[ \t]*\]", re.M | re.I)),
)
_REVERTS = re.compile(rb"^This reverts commit " + _HEX, re.M)
_COMMIT_LINE = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
# Same diff on both sides, whatever the user's diff config: --full-index so two
# different binary changes to one path do not share a patch-id.
_DIFF = ("diff-tree", "--stdin", "-p", "--root", "--full-index", "--no-renames", "--no-color")
_PATCH_ID = ("patch-id", "--stable")
# What a backport's subject may add to the original's: "[PATCH 4.20]",
# "[4.19]", "backport:", "[backport]", "(backport)" and the like.
_DECORATION = re.compile(
    r"^(?:\s*(?:\[[^\]]*\]|\((?:backport|cherry[- ]pick(?:ed)?)\)|(?:backport|cherry[- ]pick(?:ed)?)\s*:))+\s*"
    r"|\s*\((?:backport|cherry[- ]pick(?:ed)?)\)\s*$",
    re.IGNORECASE,
)
# `similar`: the share of the larger side's changed lines that the two
# diffs have in common (each added and each removed line, blanks aside,
# compared without leading and trailing white space), at least this much.
SIMILAR_SHARE = 0.5
# ... or, where the lines were rewrapped, reindented or reordered by hand, the
# share of their words and symbols (each with its + or -). Measured on Xen
# (every unstable commit against every line commit with the same subject,
# lines 4.11 to 4.22): of 4,943 pairs where the line commit names the
# unstable one, 4,819 share half their lines and 36 more share 0.7 of their
# tokens; of 12 pairs where it names another commit, none is caught by the
# tokens alone (benchmarks/README.md).
SIMILAR_TOKENS = 0.7
_TOKEN = re.compile(r"\w+|[^\w\s]+")


@record
class Applied:
    """One commit found on one line."""

    commit: str  # the line's commit that carries it (the commit itself for `ancestor`)
    evidence: str  # one of EVIDENCE


@record
class LineIndex:
    """What a line's own commits (fork point..tip) carry, ids as written in them."""

    tip: str
    fork: str | None
    commits: tuple[str, ...]  # non-merge commits, oldest first
    references: tuple[tuple[str, str, str], ...]  # (id as written, line commit, evidence), oldest first
    reverts: tuple[tuple[str, str], ...]  # (line commit, id it reverts as written)
    subjects: tuple[tuple[str, str], ...] = ()  # (subject as compared, line commit) of non-merge commits
    patch_ids: Mapping[str, str] | None = None  # patch-id -> oldest line commit; None until needed

    def to_json(self) -> dict[str, Any]:
        return {
            "version": cache_version("line-index"),
            "commits": list(self.commits),
            "references": [list(r) for r in self.references],
            "reverts": [list(r) for r in self.reverts],
            "subjects": [list(s) for s in self.subjects],
            "patch_ids": dict(self.patch_ids) if self.patch_ids is not None else None,
        }

    @classmethod
    def from_json(cls, tip: str, fork: str | None, data: Any) -> LineIndex | None:
        """The cached index, or None when the entry is not one we wrote."""
        try:
            if data["version"] != cache_version("line-index"):
                return None
            patch_ids = data["patch_ids"]
            return cls(
                tip,
                fork,
                tuple(str(c) for c in data["commits"]),
                tuple((str(a), str(b), str(c)) for a, b, c in data["references"]),
                tuple((str(a), str(b)) for a, b in data["reverts"]),
                tuple((str(a), str(b)) for a, b in data["subjects"]),
                {str(k): str(v) for k, v in patch_ids.items()} if patch_ids is not None else None,
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None


@record
class Detection:
    """Per (commit, line version): where the line carries it."""

    applied: Mapping[tuple[str, Version], Applied]
    # commit -> an object its diff needs that is missing: where it is not found
    # by ancestry or a reference line, whether it is on a line cannot be told
    missing: Mapping[str, str] = {}

    def find(self, commit: str, version: Version) -> Applied | None:
        return self.applied.get((commit, version))

    def on_line(self, commit: str, version: Version) -> bool:
        return (commit, version) in self.applied


def effective_reverts(reverts: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Reverted commit -> the revert that still stands.

    `reverts` maps a commit to the commits it reverts (full ids). A revert
    that is itself reverted (a reapply) no longer counts, so the original
    is live again; parity decides arbitrarily long chains.
    """
    reverted_by: dict[str, list[str]] = {}
    for reverter, targets in reverts.items():
        for target in targets:
            reverted_by.setdefault(target, []).append(reverter)
    memo: dict[str, str | None] = {}

    def standing_revert(commit: str, seen: frozenset[str]) -> str | None:
        if commit in memo:
            return memo[commit]
        result = None
        for reverter in reverted_by.get(commit, ()):
            if reverter not in seen and standing_revert(reverter, seen | {commit}) is None:
                result = reverter
                break
        memo[commit] = result
        return result

    found: dict[str, str] = {}
    for commit in reverted_by:
        standing = standing_revert(commit, frozenset())
        if standing is not None:
            found[commit] = standing
    return found


def read_line_index(git: Git, tip: str, fork: str | None) -> LineIndex:
    """One streamed `git log` of the line's own commits."""
    args = ["log", "-z", "--no-color", "--format=%H%x00%P%x00%B", tip]
    if fork:
        args.append(f"^{fork}")
    commits: list[str] = []
    references: list[tuple[str, str, str]] = []
    reverts: list[tuple[str, str]] = []
    subjects: list[tuple[str, str]] = []
    for sha_raw, parents, body in git.records([*args, "--"], 3):
        sha = sha_raw.decode()
        if len(parents.split()) <= 1:
            commits.append(sha)
            subjects.append((compared_subject(body.split(b"\n", 1)[0].decode("utf-8", "replace")), sha))
        for evidence, pattern in _REFERENCES:
            for match in pattern.finditer(body):
                references.append((match.group(1).decode().lower(), sha, evidence))
        for match in _REVERTS.finditer(body):
            reverts.append((sha, match.group(1).decode().lower()))
    # git log gives newest first; the oldest carrier is the one that brought the change
    commits.reverse()
    order = {sha: i for i, sha in enumerate(commits)}
    references.sort(key=lambda r: order.get(r[1], -1))
    subjects.reverse()
    return LineIndex(tip, fork, tuple(commits), tuple(references), tuple(reverts), tuple(subjects))


def compared_subject(subject: str) -> str:
    """A subject as `similar` compares it: without a backport's decorations
    ("[PATCH 4.20] x86: fix" is "x86: fix"), case and runs of blanks."""
    return " ".join(_DECORATION.sub("", subject).split()).lower()


def patch_ids(git: Git, commits: Sequence[str], parents: Mapping[str, Sequence[str]] | None = None) -> dict[str, str]:
    """commit -> `git patch-id --stable`, in one pipeline. Commits whose diff is
    empty have none. A merge is diffed against its first parent (as cherry-pick -m 1)."""
    if not commits:
        return {}
    out = git.pipe(_DIFF, _PATCH_ID, diff_tree_input(commits, parents or {}))
    found = {}
    for row in out.decode().splitlines():
        parts = row.split()
        if len(parts) == 2:
            found[parts[1]] = parts[0]
    return found


def diff_tree_input(commits: Iterable[str], parents: Mapping[str, Sequence[str]]) -> bytes:
    """`git diff-tree --stdin` lines: a merge names its first parent, so it is
    diffed against it alone (a bare merge id would print nothing)."""
    lines = []
    for commit in commits:
        known = parents.get(commit, ())
        lines.append(f"{commit} {known[0]}\n" if len(known) > 1 else f"{commit}\n")
    return "".join(lines).encode()


def reach_masks(git: Git, tips: Sequence[str], base: str | None) -> tuple[dict[str, int], int]:
    """Which tips reach each commit that is not below `base`, in one walk for
    every tip: {commit: bit mask of `tips` (bit i for tips[i])}, and the
    mask of the tips that reach `base` itself.

    One `rev-list --topo-order --parents --boundary TIP... ^base`: in topo
    order every commit comes after all its children, so one pass hands
    each commit's mask down to its parents. `base` is among the commits
    just outside (`-`) exactly when some tip reaches it, with their mask.
    Without a commit-graph a walk per tip would read the history between
    base and the lines' forks once for each line."""
    bits: dict[str, int] = {}
    for i, tip in enumerate(tips):
        bits[tip] = bits.get(tip, 0) | 1 << i
    below = [f"^{base}"] if base else []
    out = git.out(["rev-list", "--topo-order", "--parents", "--boundary", *bits, *below, "--"])
    masks: dict[str, int] = {}
    base_mask = 0
    for row in out.split("\n") if out else ():
        if row[:1] == "-":  # below base (the boundary comes last): its mask is whole by now
            boundary = row[1:].split(" ", 1)[0]
            mask = masks.pop(boundary, 0)
            if boundary == base:
                base_mask = mask
            continue
        commit, *parents = row.split(" ")
        mask = masks[commit] = masks.get(commit, 0) | bits.get(commit, 0)
        for parent in parents:
            masks[parent] = masks.get(parent, 0) | mask
    return masks, base_mask


def ancestors_of(git: Git, commits: Iterable[str], base: str) -> set[str]:
    """Which of `commits` are ancestors of `base` (or `base` itself).

    One `rev-list C... ^base`: what it lists is not below base, so the rest is.
    """
    commits = list(dict.fromkeys(commits))
    if not commits:
        return set()
    revs = "".join(f"{c}\n" for c in [*commits, f"^{base}"]).encode()
    listed = set(git.out(["rev-list", "--stdin"], input=revs).split())
    return {c for c in commits if c not in listed}


class Detector:
    """Finds where the lines of a run carry given unstable commits."""

    def __init__(
        self,
        git: Git,
        unstable: str,
        lines: Sequence[Line],
        *,
        base: str | None,
        cache: Cache | None = None,
        forks: ForkPoints | None = None,
        above_base: Collection[str] = (),
    ) -> None:
        self.git = git
        # commits known to be on unstable above the scan base (the scanned
        # ones): none of them is below it, which spares asking git
        self.above_base = frozenset(above_base)
        self.unstable = unstable
        self.lines = list(lines)
        self.base = base
        self.cache = cache
        # the run's fork points (Session.forks), shared with the scanner, which found them already
        self.forks = forks or ForkPoints(git, unstable, cache)
        self._indexes: dict[Version, LineIndex] | None = None
        self._reachable: tuple[dict[str, int], int] | None = None
        self._resolved: dict[str, str] | None = None
        # commits whose diff needs an object that is missing -> that object
        self.missing: dict[str, str] = {}
        self.line_missing: dict[Version, dict[str, str]] = {}  # the same for the lines' own commits
        self._patch_ids: dict[str, str] | None = None  # commit -> patch-id, "" without a diff (the cache's entry)
        self._patch_lock = threading.Lock()
        self._ahead: tuple[frozenset[str], Background[dict[str, str]]] | None = None  # ahead(): its commits, its job

    # -- per line --------------------------------------------------------

    def indexes(self) -> dict[Version, LineIndex]:
        if self._indexes is None:
            forks = self.forks.many([line.commit for line in self.lines])  # one walk for every line
            self._indexes = {line.version: self._index(line, _first(forks[line.commit])) for line in self.lines}
        return self._indexes

    def _index(self, line: Line, fork: str | None) -> LineIndex:
        key = f"{line.commit}:{fork}"
        if self.cache is not None:
            cached = LineIndex.from_json(line.commit, fork, self.cache.get("line-index", key))
            if cached is not None:
                return cached
        index = read_line_index(self.git, line.commit, fork)
        self._store(index)
        return index

    def _store(self, index: LineIndex) -> None:
        if self.cache is not None:
            self.cache.put("line-index", f"{index.tip}:{index.fork}", index.to_json())

    def _with_patch_ids(self, version: Version, present: Collection[str]) -> LineIndex:
        """The line's index with its patch-ids; `present`: the ids written in
        reference lines that name a commit we have (_present)."""
        index = self.indexes()[version]
        if index.patch_ids is None:
            # A commit whose reference line names a commit we have carries
            # that one already (references come first); its diff would only
            # say so again. On Xen that is most backports: 388 of 412.
            named = {carrier for written, carrier, _ in index.references if written in present}
            by_commit, missing = set_aside_missing(
                lambda todo: patch_ids(self.git, todo), [c for c in index.commits if c not in named]
            )
            oldest_first: dict[str, str] = {}
            for commit in index.commits:
                pid = by_commit.get(commit)
                if pid is not None:
                    oldest_first.setdefault(pid, commit)
            index = replace(index, patch_ids=oldest_first)
            assert self._indexes is not None
            self._indexes[version] = index
            if missing:  # kept for this run only: a fetch may bring what is missing
                self.line_missing[version] = missing
            else:
                self._store(index)
        return index

    # -- the question ------------------------------------------------------

    def detect(
        self,
        commits: Iterable[str],
        parents: Mapping[str, Sequence[str]] | None = None,
        subjects: Mapping[str, str] | None = None,
        *,
        ancestry: bool = True,
    ) -> Detection:
        """Where each of `commits` (full ids) is on each line, with the
        evidence. `parents` and `subjects`, where known, spare asking git.
        `ancestry=False`: the caller knows already that they are not
        ancestors of the lines (the hook asks git that its own way); only
        copies are looked for."""
        wanted = list(dict.fromkeys(commits))
        if not wanted or not self.lines:
            return Detection({})
        indexes = self.indexes()
        found: dict[tuple[str, Version], Applied] = {}
        if ancestry:
            self._by_ancestry(wanted, found)
        resolved = self._resolve_written(indexes.values())
        for line in self.lines:
            carried = carriers(indexes[line.version], resolved)
            for commit in wanted:
                if (commit, line.version) not in found and commit in carried:
                    carrier, evidence = carried[commit]
                    found[(commit, line.version)] = Applied(carrier, evidence)
        self._by_patch_id(wanted, parents or {}, resolved, found)
        self._by_similarity(wanted, parents or {}, subjects or {}, resolved, found)
        return Detection(found, {c: self.missing[c] for c in wanted if c in self.missing})

    def _by_ancestry(self, wanted: list[str], found: dict[tuple[str, Version], Applied]) -> None:
        # one rev-list of every line's tip ^base answers everything above the
        # scan base, and which lines contain base; one more rev-list sorts
        # the rest into "below base" (on every line that contains base) and
        # "elsewhere". Ancestry never changes for given ids, so the answers
        # are cached and a warm run asks git nothing.
        above = {
            line.version: self._known(
                ["reach", line.commit, self.base], wanted, partial(self._reached, line)
            )
            for line in self.lines
        }
        below_base: set[str] = set()
        base_on: set[str] = set()
        if self.base:
            base = self.base
            seen = set().union(*above.values()) | self.above_base
            below_base = self._known(
                ["below", base], [c for c in wanted if c not in seen], lambda todo: ancestors_of(self.git, todo, base)
            )
            base_on = self._known(["contains", base], [line.commit for line in self.lines], self._contain_base)
        for line in self.lines:
            for commit in wanted:
                if commit in above[line.version] or (line.commit in base_on and commit in below_base):
                    found[(commit, line.version)] = Applied(commit, ANCESTOR)

    def _reached(self, line: Line, todo: Sequence[str]) -> set[str]:
        """Which of `todo` the line's tip reaches above the scan base."""
        masks, _ = self._reach()
        bit = self._bit(line.commit)
        return {c for c in todo if masks.get(c, 0) & bit}

    def _contain_base(self, tips: Sequence[str]) -> set[str]:
        """Which of the lines' tips reach the scan base."""
        _, base_mask = self._reach()
        return {tip for tip in tips if tip == self.base or base_mask & self._bit(tip)}

    def _bit(self, tip: str) -> int:
        return 1 << [line.commit for line in self.lines].index(tip)

    def _reach(self) -> tuple[dict[str, int], int]:
        """reach_masks of every line's tip, walked once and only when asked."""
        if self._reachable is None:
            self._reachable = reach_masks(self.git, [line.commit for line in self.lines], self.base)
        return self._reachable

    def _known(self, key: list[Any], wanted: Sequence[str], compute: Callable[[list[str]], set[str]]) -> set[str]:
        """Which of `wanted` have a property that never changes for `key`
        (ancestry of fixed ids); `compute` is asked only about unknown ones."""
        yes, no = _yes_no(self.cache.get("ancestry", key) if self.cache is not None else None)
        todo = [c for c in dict.fromkeys(wanted) if c not in yes and c not in no]
        if todo:
            found = compute(todo)
            yes.update(c for c in todo if c in found)
            no.update(c for c in todo if c not in found)
            if self.cache is not None:
                self.cache.put("ancestry", key, {"yes": sorted(yes), "no": sorted(no)})
        return {c for c in wanted if c in yes}

    def resolved(self) -> dict[str, str]:
        """Every id written in the lines' reference and revert lines -> full id."""
        return self._resolve_written(self.indexes().values())

    def _resolve_written(self, indexes: Iterable[LineIndex]) -> dict[str, str]:
        """Every id written in the lines' messages -> full id, in one batch per run."""
        if self._resolved is not None:
            return self._resolved
        written: set[str] = set()
        for index in indexes:
            written.update(r[0] for r in index.references)
            written.update(r[1] for r in index.reverts)
        full = {w for w in written if len(w) == 40}
        resolved = self.git.resolve_many(sorted(written - full))
        # a full id need not name an object here (a commit of another tree): keep it as is
        resolved.update({w: w for w in full})
        self._resolved = resolved
        return resolved

    def _by_patch_id(
        self,
        wanted: list[str],
        parents: Mapping[str, Sequence[str]],
        resolved: Mapping[str, str],
        found: dict[tuple[str, Version], Applied],
    ) -> None:
        open_lines = [line for line in self.lines if any((c, line.version) not in found for c in wanted)]
        if not open_lines:
            return
        undecided = [c for c in wanted if any((c, line.version) not in found for line in open_lines)]
        # The commits' diffs and the lines' diffs are independent pipelines:
        # on two cores, one runs while the other does.
        asked = background(lambda: self._commit_patch_ids(undecided, parents), "patch-ids")
        try:
            present = self._present([line.version for line in open_lines], resolved)
            indexes = {line.version: self._with_patch_ids(line.version, present) for line in open_lines}
        finally:
            asked.close()  # waited for in any case; its own error, if any, is raised just below
        ids = asked.result()
        for version, index in indexes.items() if ids else ():
            _match_patch_ids(version, index, _live(index, resolved), undecided, ids, found)

    def _by_similarity(
        self,
        wanted: list[str],
        parents: Mapping[str, Sequence[str]],
        subjects: Mapping[str, str],
        resolved: Mapping[str, str],
        found: dict[tuple[str, Version], Applied],
    ) -> None:
        """`similar`: a backport resolved by hand with no reference line,
        whose patch-id changed. The weaker evidence, asked last: a live line
        commit that carries nothing else (no reference line naming a commit
        here, no patch-id match), with the same subject as compared
        (compared_subject), whose diff shares at least SIMILAR_SHARE of the
        larger side's changed lines, or SIMILAR_TOKENS of its tokens
        (_most_alike). Both conditions are needed: a subject alone repeats
        ("x86: fix build"), and so does a one-line change."""
        undecided = [c for c in wanted if any((c, line.version) not in found for line in self.lines)]
        free = self._free_by_subject(resolved, {a.commit for a in found.values()})
        if not undecided or not any(free.values()):
            return  # nothing to compare: spare asking git for subjects
        known = self._compared_subjects(undecided, subjects)
        pairs = _same_subject(undecided, known, free, found)
        if not pairs:
            return
        involved = list(dict.fromkeys([c for c, _, _ in pairs] + [x for _, _, xs in pairs for x in xs]))  # in order
        changed, missing = set_aside_missing(lambda some: changed_lines(self.git, some, parents), involved)
        self.missing.update((c, o) for c, o in missing.items() if c in known)
        for commit, version, carriers in pairs:
            best = _most_alike(changed, commit, carriers)
            if best is not None:
                found[(commit, version)] = Applied(best, SIMILAR)

    def _free_by_subject(
        self, resolved: Mapping[str, str], taken: Collection[str]
    ) -> dict[Version, dict[str, list[str]]]:
        """Per line, subject as compared -> the live line commits with it
        that carry nothing else: no reference line naming a commit here,
        not found for another commit already."""
        free_by_line: dict[Version, dict[str, list[str]]] = {}
        for line in self.lines:
            index = self.indexes()[line.version]
            named = {carrier for written, carrier, _ in index.references if written in resolved}
            free = _live(index, resolved) - named - set(taken)
            by_subject = free_by_line.setdefault(line.version, {})
            for subject, carrier in index.subjects:
                if carrier in free and subject:
                    by_subject.setdefault(subject, []).append(carrier)
        return free_by_line

    def _compared_subjects(self, commits: Sequence[str], subjects: Mapping[str, str]) -> dict[str, str]:
        """commit -> subject as compared: from `subjects` where the caller
        described it, else from git."""
        known = {c: compared_subject(subjects[c]) for c in commits if c in subjects}
        known.update(self._subjects([c for c in commits if c not in known]))
        return known

    def _subjects(self, commits: Sequence[str]) -> dict[str, str]:
        """commit -> subject as compared, for commits the caller did not describe: one git log."""
        if not commits:
            return {}
        data = "".join(f"{c}\n" for c in commits).encode()
        out = self.git.run(["log", "--no-walk=unsorted", "--stdin", "-z", "--format=%H%x00%s", "--"], input=data)
        fields = out.stdout.decode("utf-8", "replace").split("\0")
        return {fields[i]: compared_subject(fields[i + 1]) for i in range(0, len(fields) - 1, 2)}

    def _present(self, versions: Sequence[Version], resolved: Mapping[str, str]) -> set[str]:
        """The ids written in the lines' reference lines that name a commit
        here. An abbreviated one that _resolve_written resolved does; a full
        one is taken as written there, so the full ids of the lines still
        without patch-ids are asked about, in one batch for all of them."""
        indexes = [self.indexes()[v] for v in versions]
        full = {w for index in indexes if index.patch_ids is None for w, _, _ in index.references if len(w) == 40}
        present = {w for w in resolved if len(w) != 40}
        return present | set(self.git.resolve_many(sorted(full))) if full else present

    @contextmanager
    def ahead(self, commits: Sequence[str], parents: Mapping[str, Sequence[str]]) -> Iterator[None]:
        """While in this context, the patch-ids of `commits`, which a
        detect() in it is to ask about, are worked out on a thread beside
        what the caller does; a detect() asking about one of them waits for
        it. Leaving waits for the thread; its error, if any, is dropped (a
        detect() that needed its answer has raised it).

        The report detects twice: where the commits that fixes name are
        (the lines their bugs are on), then where those fixes are. On a
        fresh Xen clone each asks git for 300 to 800 patch-ids (0.6 s
        each), and the first leaves a core idle."""
        job = background(lambda: self._work_out_patch_ids(list(commits), parents), "patch-ids ahead")
        self._ahead = (frozenset(commits), job)
        try:
            yield
        finally:
            self._ahead = None
            job.close()

    def _commit_patch_ids(self, commits: list[str], parents: Mapping[str, Sequence[str]]) -> dict[str, str]:
        """Patch-ids of the commits asked about (a commit's diff never changes);
        those an ahead() job is working out come from it."""
        stored = self._stored_patch_ids()
        covered, job = self._ahead if self._ahead is not None else (frozenset(), None)
        later = [c for c in commits if c in covered and c not in stored]
        found = self._work_out_patch_ids([c for c in commits if c not in later], parents)
        if later and job is not None:
            ready = job.result()
            found.update((c, ready[c]) for c in later if c in ready)
        return found

    def _stored_patch_ids(self) -> dict[str, str]:
        """The patch-ids the cache holds, read once. One cache entry per scan
        base holds them all: a warm run reads one file instead of one per commit."""
        with self._patch_lock:
            if self._patch_ids is None:
                entry = self.cache.get("patch-id", ["commits", self.base]) if self.cache is not None else None
                self._patch_ids = {str(k): str(v) for k, v in entry.items()} if isinstance(entry, dict) else {}
            return self._patch_ids

    def _work_out_patch_ids(self, commits: list[str], parents: Mapping[str, Sequence[str]]) -> dict[str, str]:
        """Patch-ids of these commits, from the cache or from git (the
        results kept in the cache; "" records a commit without a diff)."""
        stored = self._stored_patch_ids()
        todo = [c for c in commits if c not in stored]
        if todo:
            fresh, missing = set_aside_missing(lambda some: patch_ids(self.git, some, parents), todo)
            with self._patch_lock:
                self.missing.update(missing)
                stored.update({c: fresh.get(c, "") for c in todo if c not in missing})
                if self.cache is not None:
                    self.cache.put("patch-id", ["commits", self.base], dict(stored))
        return {c: stored[c] for c in commits if stored.get(c)}


def changed_lines(
    git: Git, commits: Sequence[str], parents: Mapping[str, Sequence[str]]
) -> dict[str, Counter[str]]:
    """commit -> its added and removed lines ("+text", "-text"; white space
    around them and blank lines left out), from one `git diff-tree -p -U0`."""
    if not commits:
        return {}
    out = git.run([*_DIFF, "-U0"], input=diff_tree_input(commits, parents)).stdout
    found: dict[str, Counter[str]] = {}
    current: Counter[str] | None = None
    in_hunk = False
    for raw in out.decode("utf-8", "replace").split("\n"):
        if _COMMIT_LINE.fullmatch(raw):
            current, in_hunk = found.setdefault(raw, Counter()), False
        elif raw.startswith("diff --git "):
            in_hunk = False
        elif raw.startswith("@@"):
            in_hunk = True
        elif in_hunk and current is not None and raw[:1] in ("+", "-") and raw[1:].strip():
            current[raw[0] + raw[1:].strip()] += 1
    return found


def _match_patch_ids(
    version: Version,
    index: LineIndex,
    live: Collection[str],
    commits: Sequence[str],
    ids: Mapping[str, str],
    found: dict[tuple[str, Version], Applied],
) -> None:
    """Each of `commits` not found on the line yet whose patch-id (`ids`) a
    live line commit has: applied there, by patch-id."""
    assert index.patch_ids is not None
    for commit in commits:
        carrier = index.patch_ids.get(ids[commit]) if ids.get(commit) else None
        if carrier is not None and carrier in live and (commit, version) not in found:
            found[(commit, version)] = Applied(carrier, PATCH_ID)


def _yes_no(entry: object) -> tuple[set[str], set[str]]:
    """An ancestry cache entry read back: the commits known to have the
    property and those known not to (both empty if it is not one)."""
    if isinstance(entry, dict) and isinstance(entry.get("yes"), list) and isinstance(entry.get("no"), list):
        return {str(c) for c in entry["yes"]}, {str(c) for c in entry["no"]}
    return set(), set()


def _same_subject(
    undecided: Sequence[str],
    subjects: Mapping[str, str],
    free: Mapping[Version, Mapping[str, list[str]]],
    found: Mapping[tuple[str, Version], Applied],
) -> list[tuple[str, Version, list[str]]]:
    """(commit, line, the line's free commits with its subject as compared)
    for every undecided commit and line where there are such commits."""
    return [
        (commit, version, by_subject[subjects[commit]])
        for version, by_subject in free.items()
        for commit in undecided
        if subjects.get(commit) in by_subject and (commit, version) not in found
    ]


def _most_alike(changed: Mapping[str, Counter[str]], commit: str, carriers: Sequence[str]) -> str | None:
    """The carrier whose changed lines share the most with the commit's
    (then the most tokens), if they share at least SIMILAR_SHARE of the
    larger side's lines or SIMILAR_TOKENS of its tokens."""
    ours = changed.get(commit)
    if not ours:
        return None
    words = tokens(ours)
    scored = [(share(ours, changed[x]), share(words, tokens(changed[x])), x) for x in carriers if x in changed]
    alike = [(lines, shared, x) for lines, shared, x in scored if lines >= SIMILAR_SHARE or shared >= SIMILAR_TOKENS]
    return max(alike)[2] if alike else None


def share(ours: Counter[str], theirs: Counter[str]) -> float:
    """What two diffs' changed lines (or tokens) have in common, as a share of the larger one."""
    larger = max(sum(ours.values()), sum(theirs.values()))
    return sum((ours & theirs).values()) / larger if larger else 0.0


def tokens(lines: Counter[str]) -> Counter[str]:
    """The words and runs of symbols of changed lines ("+text"), each with its sign."""
    found: Counter[str] = Counter()
    for line, count in lines.items():
        for token in _TOKEN.findall(line[1:]):
            found[line[0] + token] += count
    return found


_T = TypeVar("_T")


def set_aside_missing(
    call: Callable[[list[str]], dict[str, _T]], commits: Sequence[str]
) -> tuple[dict[str, _T], dict[str, str]]:
    """`call(commits)`, with the commits whose diff needs a missing object
    set aside: (what call found, commit -> the missing object). One object
    missing costs a bisection of the batch, not the run."""
    commits = list(commits)
    try:
        return call(commits), {}
    except MissingObject as err:
        if len(commits) <= 1:
            return {}, dict.fromkeys(commits, err.object_id)
        half = len(commits) // 2
        first, gone = set_aside_missing(call, commits[:half])
        second, more = set_aside_missing(call, commits[half:])
        return {**first, **second}, {**gone, **more}


def _first(forks: Sequence[str]) -> str | None:
    """The fork point `git merge-base` would print: the first best common ancestor."""
    return forks[0] if forks else None


def _live(index: LineIndex, resolved: Mapping[str, str]) -> set[str]:
    """The line's commits that still stand: one reverted on the line (and not
    reapplied) carries nothing."""
    reverts: dict[str, list[str]] = {}
    for reverter, written in index.reverts:
        target = resolved.get(written)
        if target:
            reverts.setdefault(reverter, []).append(target)
    gone = effective_reverts(reverts)
    return {c for c in index.commits if c not in gone} | {
        r[1] for r in index.references if r[1] not in gone
    }


def carriers(index: LineIndex, resolved: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Referenced full id -> (oldest live line commit naming it, evidence).

    When one commit is named several ways the strongest evidence wins, then
    the oldest carrier.
    """
    live = _live(index, resolved)
    rank = {e: i for i, e in enumerate(EVIDENCE)}
    best: dict[str, tuple[str, str]] = {}
    for written, carrier, evidence in index.references:
        target = resolved.get(written)
        if target is None or carrier not in live:
            continue
        current = best.get(target)
        if current is None or rank[evidence] < rank[current[1]]:
            best[target] = (carrier, evidence)
    return best
