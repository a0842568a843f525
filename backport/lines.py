"""Stable lines: discovered from branch names, point releases from tags.

Local branches win over remote-tracking ones (the user's own view), and
`origin` over other remotes, when several refs carry the same version.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from backport.errors import ConfigError, GitError, RepoError, UsageError
from backport.git import Git, check_revision
from backport.models import Line, Release, Version, listing
from backport.record import record, replace

TYPE_CHECKING = False  # not typing's: importing typing costs the hook 12 ms
if TYPE_CHECKING:
    from backport.cache import Cache


@record
class LineSpec:
    """A `--line VERSION[=REF]` argument."""

    version: Version
    ref: str | None

    @classmethod
    def parse(cls, text: str) -> LineSpec:
        version_text, eq, ref = text.partition("=")
        version = Version.parse(version_text)
        if version is None or (eq and not ref.strip()):
            raise UsageError(
                f"bad --line {text!r}", "write --line VERSION=REF (e.g. 4.20=stable-4.20) or --line VERSION"
            )
        return cls(version, check_revision(ref.strip()) if eq else None)


def _rank(refname: str) -> tuple[int, str]:
    if refname.startswith("refs/heads/"):
        return (0, refname)
    if refname.startswith("refs/remotes/origin/"):
        return (1, refname)
    return (2, refname)


def _short(refname: str) -> str:
    """Branch name without refs/heads/ or refs/remotes/<remote>/."""
    if refname.startswith("refs/heads/"):
        return refname[len("refs/heads/") :]
    parts = refname.split("/", 3)
    return parts[3] if len(parts) == 4 else refname


def discover(git: Git, patterns: Sequence[str]) -> dict[Version, tuple[str, str, str]]:
    """Every branch that looks like a stable line: version -> (short ref,
    commit, full ref name)."""
    compiled = [re.compile(p) for p in patterns]
    found: dict[Version, tuple[tuple[int, int, str], str, str, str]] = {}
    for refname, obj, kind, peeled in git.branches():
        # a branch may point at an annotated tag (peel it) or at no commit at
        # all (an empty id: resolved later, and reported as unknown)
        commit = obj if kind == "commit" else peeled if kind == "tag" else ""
        short = _short(refname)
        if short == "HEAD":
            continue
        for order, pattern in enumerate(compiled):
            match = pattern.fullmatch(short)
            if match:
                version = Version.parse(match.group("version"))
                if version is None:
                    break
                display = short if refname.startswith("refs/heads/") else refname[len("refs/remotes/") :]
                # the earlier pattern wins (Mesa: staging/24.1 over 24.1), then the user's own branch
                rank = (order, *_rank(refname))
                if version not in found or rank < found[version][0]:
                    found[version] = (rank, display, commit, refname)
                break
    return {v: (ref, commit, refname) for v, (_, ref, commit, refname) in found.items()}


def with_releases(git: Git, heads: Sequence[Line], patterns: Sequence[str], cache: Cache | None = None) -> list[Line]:
    """The lines with their point releases: tags matching the patterns, of the
    line's version (4.20.1 for 4.20), reachable from the line's tip.

    One tag listing serves every line. Reachability costs a walk down each
    line's history (a `for-each-ref --merged`, about 10 ms each on 20,000
    commits), so it is cached by the tip and the line's tags: a re-run over
    unchanged lines walks nothing.
    """
    if not patterns or not heads:
        return [replace(line, releases=()) for line in heads]  # nothing can match: spare the listing
    compiled = [re.compile(p) for p in patterns]
    tagged: dict[Version, list[Release]] = {line.version: [] for line in heads}
    rows = git.refs(["refs/tags"], "%(refname)%00%(objectname)%00%(*objectname)%00%(creatordate:iso-strict)")
    for refname, obj, peeled, date in rows:
        tag = refname[len("refs/tags/") :]
        for pattern in compiled:
            match = pattern.fullmatch(tag)
            if not match:
                continue
            version = tuple(int(p) for p in match.group("version").split("."))
            for line_version, found in tagged.items():
                if line_version.contains(version):
                    found.append(Release(tag, version, peeled or obj, date))
            break
    lines = []
    for line in heads:
        found = tagged[line.version]
        if found:
            reachable = set(_reachable(git, line, found, cache))
            found = sorted((r for r in found if r.tag in reachable), key=lambda r: (r.version, r.date))
        lines.append(replace(line, releases=tuple(found)))
    return lines


def _reachable(git: Git, line: Line, tags: Sequence[Release], cache: Cache | None) -> list[str]:
    """Which of the tags the line's tip reaches."""
    key = [line.commit, sorted([r.tag, r.commit] for r in tags)]
    stored = cache.get("releases", key) if cache is not None else None
    if isinstance(stored, list) and all(isinstance(tag, str) for tag in stored):
        return stored
    try:
        rows = git.refs([f"--merged={line.commit}", *(f"refs/tags/{r.tag}" for r in tags)], "%(refname)")
    except GitError:
        require_tips(git, [line])
        raise
    reached = [refname[len("refs/tags/") :] for (refname,) in rows]
    if cache is not None:
        cache.put("releases", key, reached)
    return reached


def require_tips(git: Git, lines: Sequence[Line]) -> None:
    """Raise the error that says so when a line's commit is gone: found at
    discovery, deleted or pruned since. For a git failure to explain itself."""
    present = git.resolve_many(line.commit for line in lines)
    for line in lines:
        if line.commit not in present:
            raise RepoError(
                f"line {line.version}: commit {line.commit[:12]} is gone (branch deleted or pruned during the run)",
                "run again",
            )


def select(
    git: Git,
    *,
    specs: Sequence[LineSpec],
    configured: Iterable[str],
    maintained: Sequence[str],
    oldest: str | None,
    line_patterns: Sequence[str],
) -> tuple[list[Line], list[Version], dict[str, Version]]:
    """The lines this run works on (tips only, no releases yet), every
    known line version, and the full ref names of the lines that are a
    discovered branch (their commit is that branch's tip).

    `--line` flags limit the run to the lines they name. Otherwise the
    maintained lines (configured list, or `oldest` and newer, or all).
    """
    discovered = discover(git, line_patterns)
    branches = {v: refname for v, (_, _, refname) in discovered.items()}
    for item in configured:
        spec = LineSpec.parse(item)
        if spec.ref is None:
            raise ConfigError(f"configured line {item!r} has no ref", "write it as VERSION=REF")
        discovered[spec.version] = (spec.ref, "", "")
        branches.pop(spec.version, None)
    known = sorted(discovered)
    wanted: dict[Version, str]
    if specs:
        wanted = {}
        for spec in specs:
            if spec.ref is not None:
                wanted[spec.version] = spec.ref
                branches.pop(spec.version, None)
            elif spec.version in discovered:
                wanted[spec.version] = discovered[spec.version][0]
            else:
                raise UsageError(
                    f"no stable line {spec.version} found",
                    f"known lines: {listing(known)}; or give its ref as --line {spec.version}=REF",
                )
        known = sorted({*known, *wanted})
    else:
        chosen = list(known)
        if maintained:
            versions = []
            for text in maintained:
                version = Version.parse(text)
                if version is None:
                    raise ConfigError(f"maintained: {text!r} is not a version", "write e.g. 4.20")
                if version not in discovered:
                    raise ConfigError(
                        f"maintained line {version} has no branch",
                        f"known lines: {listing(known)}; add it with git config backport.lines {version}=REF",
                    )
                versions.append(version)
            chosen = sorted(set(versions))
        if oldest:
            floor = Version.parse(oldest)
            if floor is None:
                raise ConfigError(f"oldest: {oldest!r} is not a version", "write e.g. 4.19")
            chosen = [v for v in chosen if v >= floor]
        wanted = {v: discovered[v][0] for v in chosen}
    # a discovered branch's tip came with the listing; only other refs need resolving
    tips = {v: discovered[v][1] for v in wanted if v in branches and discovered[v][1]}
    resolved = git.resolve_many(ref for v, ref in wanted.items() if v not in tips)
    lines = []
    for version in sorted(wanted):
        ref = wanted[version]
        commit = tips.get(version) or resolved.get(ref)
        if commit is None:
            raise RepoError(
                f"line {version}: unknown revision {ref!r}",
                "check the branch name, or fetch it (git fetch origin)",
            )
        lines.append(Line(version, ref, commit))
    return lines, known, {branches[v]: v for v in tips}
