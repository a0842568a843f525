"""A small content-keyed store for results that are slow to recompute.

Entries live under `<git common dir>/backport-cache/v1/<namespace>/`, one JSON
file each, named by a hash of the key. A key must name every input of the
value (commit ids, tree ids, settings), so an entry never goes stale: a changed
input is a different key. That is why nothing here checks for staleness.

Writes go to a temporary file in the entry's directory and are renamed into
place, so two runs at once never see half an entry and an interrupted run
leaves none. Anything unreadable (corrupt, another format, a permission
problem) is treated as a miss and overwritten by the next `put`. A repository
we cannot write to simply runs without the cache.

Light on purpose: the commit-msg hook may import it.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any

from backport.git import Repository

FORMAT = 1  # bump when the entry layout changes; old entries then read as misses
DIRECTORY = os.path.join("backport-cache", "v1")

# Every namespace, what it holds, and its version: the one place to bump
# when what is stored under the same key changes (its old entries then read
# as misses; the others stay). A namespace not here is a programming error.
NAMESPACES: dict[str, int] = {
    "scan": 4,  # a history range's ScanResult (backport.scan.scanner); also in the check's key
    "fork": 1,  # where a line left unstable (backport.forks)
    "releases": 1,  # which release tags a line's tip reaches (backport.lines)
    "line-index": 2,  # a line's own commits: references, reverts, subjects, patch-ids (verdict.detect)
    "ancestry": 1,  # which commits a line's tip reaches above a base (verdict.detect)
    "patch-id": 1,  # the candidates' patch-ids above a base (verdict.detect)
    "pick": 5,  # the simulated picks onto one tree (verdict.simulate); also in the simulator's fingerprint
    "line": 4,  # a line's whole plan: alone, chained, after (verdict.simulate)
    "owners": 1,  # MAINTAINERS owners of each commit (verdict.judge)
    # the whole check result (verdict.check_cache): up whenever what decides a
    # verdict changes, detection and judging included (2: `similar` by tokens)
    "check": 2,
    "went-in": 1,  # what a line gained since its last release (commands.report)
    "suggest": 2,  # ranked suggestions (suggest.rank)
    "suggest-model": 2,  # a trained model (suggest.rank)
}


def version(namespace: str) -> int:
    """The version of what `namespace` holds, for keys other caches build from it."""
    return NAMESPACES[namespace]
DEFAULT_LIMIT = 64 << 20  # bytes kept before pruning
PRUNE_EVERY = 24 * 3600  # seconds between size checks
_TEMP_PREFIX = ".tmp-"
_STAMP = "pruned"


class Cache:
    """get/put of JSON values by (namespace, key); a disabled cache misses every time."""

    def __init__(self, root: str | None, *, limit: int = DEFAULT_LIMIT) -> None:
        self.root = root
        self.limit = limit

    @classmethod
    def open(cls, repo: Repository, *, limit: int = DEFAULT_LIMIT) -> Cache:
        root = os.path.join(repo.common_dir, DIRECTORY)
        try:
            os.makedirs(root, exist_ok=True)
        except OSError:
            return cls.disabled()  # read-only repository: run without the cache
        cache = cls(root, limit=limit)
        cache._maybe_prune()
        return cache

    @classmethod
    def disabled(cls) -> Cache:
        return cls(None)

    @property
    def enabled(self) -> bool:
        return self.root is not None

    @staticmethod
    def digest(key: Any) -> str:
        """The file name of a key: a hash of its canonical JSON."""
        text = json.dumps(key, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def _path(self, namespace: str, key: Any) -> str:
        if namespace not in NAMESPACES:
            raise ValueError(f"unknown cache namespace {namespace!r}: add it to backport.cache.NAMESPACES")
        assert self.root is not None
        name = self.digest([NAMESPACES[namespace], key])
        return os.path.join(self.root, namespace, name[:2], name[2:] + ".json")

    def get(self, namespace: str, key: Any) -> Any | None:
        if self.root is None:
            return None
        try:
            with open(self._path(namespace, key), "rb") as handle:
                entry = json.loads(handle.read())
        except (OSError, ValueError):
            return None  # missing, unreadable or corrupt: recompute
        if not isinstance(entry, dict) or entry.get("format") != FORMAT or "value" not in entry:
            return None
        return entry["value"]

    def put(self, namespace: str, key: Any, value: Any) -> None:
        if self.root is None:
            return
        path = self._path(namespace, key)
        data = json.dumps({"format": FORMAT, "value": value}, separators=(",", ":")).encode()
        directory = os.path.dirname(path)
        temp = None
        try:
            import tempfile  # here: a run that writes nothing spares its import (9 ms)

            os.makedirs(directory, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=directory)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temp, path)
            temp = None
        except OSError:
            pass  # a cache that cannot be written only costs time
        finally:
            if temp is not None:
                _remove(temp)

    # -- size bound ---------------------------------------------------------

    def _maybe_prune(self) -> None:
        """Check the size at most once a day: walking the tree on every run would cost more than it saves."""
        assert self.root is not None
        stamp = os.path.join(self.root, _STAMP)
        try:
            if time.time() - os.stat(stamp).st_mtime < PRUNE_EVERY:
                return
        except OSError:
            pass
        try:
            with open(stamp, "w"):
                pass
        except OSError:
            return
        self.prune()

    def prune(self, limit: int | None = None) -> int:
        """Remove the oldest entries until the cache holds half its limit; return how many went.

        Leftover temporary files of interrupted runs go as well, once they are an hour old.
        """
        if self.root is None:
            return 0
        limit = self.limit if limit is None else limit
        now = time.time()
        entries: list[tuple[float, int, str]] = []
        removed = 0
        for folder, _dirs, files in os.walk(self.root):
            for name in files:
                path = os.path.join(folder, name)
                try:
                    info = os.stat(path)
                except OSError:
                    continue
                if name.startswith(_TEMP_PREFIX):
                    if now - info.st_mtime > 3600:
                        removed += _remove(path)
                elif name.endswith(".json"):
                    entries.append((info.st_mtime, info.st_size, path))
        total = sum(size for _, size, _ in entries)
        if total <= limit:
            return removed
        for _mtime, size, path in sorted(entries):
            if total <= limit // 2:
                break
            removed += _remove(path)
            total -= size
        return removed


def _remove(path: str) -> int:
    try:
        os.unlink(path)
        return 1
    except OSError:
        return 0
