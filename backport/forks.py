"""Fork points: where each stable line left the unstable branch.

A line's fork point is the best common ancestor of the unstable tip and the
line's tip, what `git merge-base --all` prints (the first one when there are
several). The scanner cuts its reading of unstable at them, and the
detector reads each line's own commits down to its own.

Without a commit-graph, which no fresh clone has, each `merge-base` walks
unstable's history from its tip down to the fork: on a fresh clone of Xen,
one per line for 23 lines took 2.7 s. Here one `git rev-list --boundary
--parents TIP... ^UNSTABLE` walks that history once for every line asked: it
lists the lines' own commits with their parents and marks (`-`) the commits
of unstable they grew from. From each tip, the parents through its own
commits reach those marked commits: when they reach one, that is the fork
point (every common ancestor is below it); when several (a line that merged
unstable again), `merge-base --all` says which are best, for that line
alone; none, no common history. A tip that is not listed is on unstable
itself, and is its own fork point. The walk stops where git's own `A..B`
stops, so it trusts commit dates as much as `git log unstable..line` does.

Fork points never change for given commits: they are cached by (unstable,
tip), so a re-run over unchanged lines asks git nothing. The session's one
ForkPoints (Session.forks) serves the scanner and the detector alike, so
a run walks once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence

from backport.background import Background, background
from backport.git import Git

TYPE_CHECKING = False  # not typing's: importing typing costs the hook 12 ms
if TYPE_CHECKING:
    from backport.cache import Cache

Forks = tuple[str, ...]  # best common ancestors, as `merge-base --all` lists them; () when none

_NAMESPACE = "fork"


class ForkPoints:
    """The fork points of lines from one unstable commit, found by one walk
    for every tip asked at once, cached, and kept for the run."""

    def __init__(self, git: Git, unstable: str, cache: Cache | None = None) -> None:
        self.git = git
        self.unstable = unstable
        self.cache = cache
        self._known: dict[str, Forks] = {}
        self._walks: dict[str, Background[dict[str, Forks]]] = {}  # tip -> the walk that will answer for it
        self._lock = threading.Lock()

    def start(self, tips: Iterable[str]) -> None:
        """Begin finding the fork points of `tips` beside other work: those
        neither known, cached nor being found already, in one walk."""
        with self._lock:
            todo = [t for t in dict.fromkeys(tips) if t and t not in self._known and t not in self._walks]
            todo = [t for t in todo if not self._cached(t)]
            if todo:
                git, unstable = self.git, self.unstable
                started = background(lambda: walk(git, unstable, todo), "fork-points")
                self._walks.update((tip, started) for tip in todo)

    def many(self, tips: Sequence[str]) -> dict[str, Forks]:
        """Each tip's fork points (starting one walk for those not yet asked)."""
        self.start(tips)
        for tip in tips:
            started = self._walks.get(tip)
            if started is not None:
                self._learn(started.result())
        return {tip: self._known[tip] for tip in tips}

    def all_of(self, tip: str) -> Forks:
        """Every best common ancestor of unstable and `tip`."""
        return self.many([tip])[tip]

    def of(self, tip: str) -> str | None:
        """The fork point of `tip` (the first best common ancestor), if any."""
        found = self.all_of(tip)
        return found[0] if found else None

    def learn(self, tip: str, forks: Forks) -> None:
        """What another walk found out (the scanner's, for the oldest line)."""
        self._learn({tip: tuple(forks)})

    def _learn(self, found: Mapping[str, Forks]) -> None:
        with self._lock:
            for tip, forks in found.items():
                self._walks.pop(tip, None)
                if tip not in self._known:
                    self._known[tip] = forks
                    if self.cache is not None:
                        self.cache.put(_NAMESPACE, [self.unstable, tip], list(forks))

    def _cached(self, tip: str) -> bool:
        stored = self.cache.get(_NAMESPACE, [self.unstable, tip]) if self.cache is not None else None
        if isinstance(stored, list) and all(isinstance(c, str) for c in stored):
            self._known[tip] = tuple(stored)
            return True
        return False


def walk(git: Git, unstable: str, tips: Sequence[str]) -> dict[str, Forks]:
    """The fork points of every tip from `unstable`, in one walk (see the module docstring)."""
    listed: dict[str, list[str]] = {}
    boundary: set[str] = set()
    out = git.out(["rev-list", "--boundary", "--parents", *tips, f"^{unstable}", "--"])
    for row in out.split("\n") if out else ():
        if row.startswith("-"):
            boundary.add(row[1:].split(" ", 1)[0])
        else:
            commit, *parents = row.split(" ")
            listed[commit] = parents
    found: dict[str, Forks] = {}
    for tip in tips:
        if tip not in listed:
            found[tip] = (tip,)  # on unstable already
            continue
        reached = _reached(tip, listed, boundary)
        if len(reached) > 1:  # several ways back into unstable: which are best is merge-base's call
            proc = git.run(["merge-base", "--all", unstable, tip], check=False)
            found[tip] = tuple(proc.stdout.decode().split()) if proc.returncode == 0 else ()
        else:
            found[tip] = tuple(reached)
    return found


def _reached(tip: str, listed: Mapping[str, list[str]], boundary: set[str]) -> list[str]:
    """The boundary commits the tip's own commits grow from, in the order met."""
    seen = {tip}
    todo = [tip]
    reached: dict[str, None] = {}
    while todo:
        for parent in listed[todo.pop()]:
            if parent in seen:
                continue
            seen.add(parent)
            if parent in listed:
                todo.append(parent)
            elif parent in boundary:
                reached[parent] = None
    return list(reached)
