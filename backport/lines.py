"""Stable lines: discovered from branch names, point releases from tags.

Local branches win over remote-tracking ones (the user's own view), and
`origin` over other remotes, when several refs carry the same version.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from backport.config import UNSTABLE_NAMES
from backport.errors import ConfigError, GitError, RepoError, UsageError
from backport.git import Git, check_revision, refs_query
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


@record
class Branch:
    """A discovered line's branch (or a configured line's ref)."""

    ref: str  # as shown: stable-4.20, origin/stable-4.20, or the configured revision
    commit: str  # its tip; "" when not known from the listing
    refname: str  # full ref name; "" for a configured line
    date: int | None  # the tip's committer date, seconds; None when not known


@record
class Dormant:
    """A discovered line that is not maintained by default: nothing on it
    (tip or release tag) within `maintained-within` of the unstable tip."""

    version: Version
    ref: str
    last: int | None  # its last activity, seconds: the newer of its tip's and its last release's dates


@record
class Selection:
    """What `select` found: the lines of the run and what else there is."""

    lines: list[Line]  # the run's lines, oldest first, tips only
    known: list[Version]  # every line version that exists, maintained or not
    branches: dict[str, Version]  # full ref name -> version, for the run's lines that are a branch's tip
    dormant: tuple[Dormant, ...] = ()  # lines left out for their age, oldest first
    cutoff: int | None = None  # the oldest activity that counted (seconds), when age decided
    from_now: bool = False  # the cutoff was measured from the `now` setting, not the unstable tip


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


def discover(rows: Iterable[Sequence[str]], patterns: Sequence[str]) -> dict[Version, Branch]:
    """Every branch of the listing (Git.branches) that looks like a stable
    line, by version."""
    compiled = [re.compile(p) for p in patterns]
    found: dict[Version, tuple[tuple[int, int, str], Branch]] = {}
    for refname, obj, kind, peeled, date, peeled_date in rows:
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
                    when = _seconds(date if kind == "commit" else peeled_date)
                    found[version] = (rank, Branch(display, commit, refname, when))
                break
    return {v: branch for v, (_, branch) in found.items()}


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
        version = release_version(tag, compiled)
        for line_version, found in tagged.items():
            if version is not None and line_version.contains(version):
                found.append(Release(tag, version, peeled or obj, date))
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
    within: int = 0,
    release_patterns: Sequence[str] = (),
    unstable: str | None = None,
    now: int | None = None,
) -> Selection:
    """The lines this run works on (tips only, no releases yet), every
    known line version, and the full ref names of the lines that are a
    discovered branch (their commit is that branch's tip).

    `--line` flags limit the run to the lines they name. Otherwise the
    maintained lines: the configured list, or `oldest` and newer, or else
    every line active within `within` months of the unstable tip's commit
    date (`unstable`, a commit id; None: the first of the usual unstable
    branch names the listing has), or all of them when `within` is 0.
    `now` (seconds), the run's `now` setting, stands for a tip committed
    after it: as of `now`, that commit has not happened.
    """
    rows = git.branches()
    discovered = discover(rows, line_patterns)
    branches = {v: b.refname for v, b in discovered.items()}
    _add_configured(discovered, branches, configured)
    known = sorted(discovered)
    dormant: tuple[Dormant, ...] = ()
    cutoff, from_now = None, False
    wanted: dict[Version, str]
    if specs:
        wanted = _flagged(specs, discovered, branches, known)
        known = sorted({*known, *wanted})
    elif maintained or oldest:
        wanted = {v: discovered[v].ref for v in _configured(maintained, oldest, discovered, known)}
    else:
        if within:
            cutoff, from_now = _cutoff(git, rows, unstable, within, now)
        dormant = _idle(git, discovered, branches, cutoff, release_patterns)
        left_out = {d.version for d in dormant}
        wanted = {v: discovered[v].ref for v in known if v not in left_out}
    # a discovered branch's tip came with the listing; only other refs need resolving
    tips = {v: discovered[v].commit for v in wanted if v in branches and discovered[v].commit}
    lines = _resolved(git, wanted, tips)
    return Selection(lines, known, {branches[v]: v for v in tips}, dormant, cutoff, from_now)


def _add_configured(discovered: dict[Version, Branch], branches: dict[Version, str], configured: Iterable[str]) -> None:
    """The lines configuration names (VERSION=REF) over the discovered ones."""
    for item in configured:
        spec = LineSpec.parse(item)
        if spec.ref is None:
            raise ConfigError(f"configured line {item!r} has no ref", "write it as VERSION=REF")
        discovered[spec.version] = Branch(spec.ref, "", "", None)
        branches.pop(spec.version, None)


def _idle(
    git: Git,
    discovered: Mapping[Version, Branch],
    branches: Mapping[Version, str],
    cutoff: int | None,
    release_patterns: Sequence[str],
) -> tuple[Dormant, ...]:
    """The discovered branches with no commit or release since `cutoff`.
    Lines named by configuration (VERSION=REF) count whatever their age."""
    if cutoff is None:
        return ()
    idle = {v: b for v, b in discovered.items() if v in branches and (b.date or 0) < cutoff}
    return _dormant(git, idle, cutoff, release_patterns)


def _resolved(git: Git, wanted: Mapping[Version, str], tips: Mapping[Version, str]) -> list[Line]:
    """The lines `wanted` names (version -> ref), oldest first; `tips`: the
    commits already known, from the branch listing."""
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
    return lines


def _flagged(
    specs: Sequence[LineSpec], discovered: Mapping[Version, Branch], branches: dict[Version, str], known: list[Version]
) -> dict[Version, str]:
    """The lines `--line` flags name, with their refs; a flag that sets a
    ref takes the line out of `branches`."""
    wanted = {}
    for spec in specs:
        if spec.ref is not None:
            wanted[spec.version] = spec.ref
            branches.pop(spec.version, None)
        elif spec.version in discovered:
            wanted[spec.version] = discovered[spec.version].ref
        else:
            raise UsageError(
                f"no stable line {spec.version} found",
                f"known lines: {listing(known)}; or give its ref as --line {spec.version}=REF",
            )
    return wanted


def _configured(
    maintained: Sequence[str], oldest: str | None, discovered: Mapping[Version, Branch], known: list[Version]
) -> list[Version]:
    """The lines the `maintained` list names, or every known line; then
    those from `oldest` up."""
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
    return chosen


# The mean Gregorian month: `maintained-within` counts months, and a year of
# them is 365.2425 days wherever the unstable tip falls.
MONTH = 2_629_746  # seconds


def _cutoff(
    git: Git, rows: Sequence[Sequence[str]], unstable: str | None, within: int, now: int | None = None
) -> tuple[int | None, bool]:
    """The oldest activity that still makes a line maintained: `within`
    months before the unstable tip was committed. Measured from the tip, not
    from today, so that an old clone gives the answer it gave then; from
    `now` (the run's `now` setting, seconds) when that is earlier than the
    tip or there is no tip (then the second value is True). None when
    there is neither."""
    when = None
    if unstable is None:
        unstable = _usual_unstable(rows)
    if unstable:
        # the tip is a branch's, usually: the branch listing has its date
        when = next((_seconds(row[4]) for row in rows if row[1] == unstable and row[2] == "commit"), None)
        if when is None:
            when = _commit_time(git, unstable)
    from_now = now is not None and (when is None or now < when)
    if from_now:
        when = now
    return (None if when is None else when - within * MONTH), from_now


def _usual_unstable(rows: Sequence[Sequence[str]]) -> str | None:
    """The commit of the first usual unstable branch name (staging, master,
    main, then origin's) the branch listing has: for a guess made before
    the configuration is read (the commit-msg hook's walk started ahead)."""
    commits = {row[0]: row[1] for row in rows if row[2] == "commit"}
    for name in UNSTABLE_NAMES:
        for refname in (f"refs/heads/{name}", f"refs/remotes/{name}"):
            if refname in commits:
                return commits[refname]
    return None


def _commit_time(git: Git, commit: str) -> int | None:
    """A commit's committer date (seconds), read from the commit object."""
    proc = git.run(["cat-file", "commit", commit], check=False)
    headers = proc.stdout.partition(b"\n\n")[0] if proc.returncode == 0 else b""
    for row in headers.split(b"\n"):
        if row.startswith(b"committer "):
            seconds = row[row.rfind(b">") + 1 :].split()[:1]
            return _seconds(seconds[0].decode()) if seconds else None
    return None


def _dormant(
    git: Git, idle: Mapping[Version, Branch], cutoff: int, release_patterns: Sequence[str]
) -> tuple[Dormant, ...]:
    """Of the lines whose tip is older than `cutoff`, those without a
    release tag of their version newer than it either, with their last
    activity. Only these lines' tags are listed (by a glob on the version)."""
    if not idle:
        return ()
    last = {v: b.date for v, b in idle.items()}
    for version, when in _release_dates(git, list(idle), release_patterns):
        if when > (last[version] or 0):
            last[version] = when
    return tuple(Dormant(v, idle[v].ref, when) for v, when in sorted(last.items()) if (when or 0) < cutoff)


def _release_dates(git: Git, versions: Sequence[Version], patterns: Sequence[str]) -> list[tuple[Version, int]]:
    """(line version, date) of each release tag of those versions. Only their
    tags are listed (by a glob on the version), asked once: the hook's
    guess and its session ask the same (Git.once)."""
    if not patterns:
        return []
    compiled = [re.compile(p) for p in patterns]
    globs = [f"refs/tags/**/*{v}.*" for v in versions]
    listed = git.once(refs_query(globs, "%(refname)%00%(creatordate:unix)")).stdout.decode("utf-8", "replace")
    found = []
    for refname, date in (row.split("\0") for row in listed.splitlines() if row):
        release, when = release_version(refname[len("refs/tags/") :], compiled), _seconds(date)
        if release is not None and when is not None:
            found += [(v, when) for v in versions if v.contains(release)]
    return found


def release_version(tag: str, patterns: Sequence[re.Pattern[str]]) -> tuple[int, ...] | None:
    """The version a release tag names (RELEASE-4.20.1: (4, 20, 1)), by the
    first pattern it matches whole; None if it matches none."""
    for pattern in patterns:
        match = pattern.fullmatch(tag)
        if match:
            return tuple(int(p) for p in match.group("version").split("."))
    return None


def _seconds(text: str) -> int | None:
    """A git `:unix` date field as seconds; None when git printed none."""
    try:
        return int(text)
    except ValueError:
        return None
