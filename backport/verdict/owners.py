"""Who owns a path: the Xen/Linux MAINTAINERS file.

Format (as Xen's and Linux's scripts/get_maintainer.pl read it): a line that is
not `X: value` starts a section (its title); `M:` maintainers, `R:` reviewers,
`L:` lists, `S:` status, `F:` file patterns, `X:` excluded patterns, `N:` a
regular expression on file names, `K:` content keywords (ignored: we match
paths, not diffs). Blank lines are skipped, so the prose preamble of Xen's file
becomes title-only sections that match nothing.

Patterns, as get_maintainer.pl's `file_match_pattern`:
  - `dir/` is the directory and everything below it;
  - `*` and `?` are globs; in a pattern without a trailing `/` the path must
    have as many `/` as the pattern, so the glob never reaches into
    subdirectories (`xen/arch/x86/*.c` is not `xen/arch/x86/mm/p2m.c`);
  - a pattern without wildcards or trailing `/` names a file, or a directory
    and everything below it (get_maintainer.pl asks the file system with `-d`;
    we have no checkout, so a path below it proves it is a directory);
  - `{a,b}` alternatives as in Xen's version.
Deliberate difference: a file pattern must match the whole name (the Perl
regex is anchored only at the start, so `F: foo.c` there also matches
`foo.cc`).

Ranking. get_maintainer.pl gives every matching section, ordered by the
depth of the matching pattern (its `/` count, +1 unless it ends in `/`; -1
for a pattern starting with `*`), and Xen's version drops THE REST when any
other section matched. Backports need the people who must act, not a Cc
list, so we keep the sections of the greatest depth only ("most specific
match wins", SPEC "Owners"); THE REST (`F: *`, `F: */`, depth -1) is
therefore the fallback, and Xen's THE REST rule falls out of it. Only
sections that name an `M:` take part, so an orphaned area falls to the
next most specific section (in the end THE REST). When a section has
several `F:` patterns that match, the deepest counts (Perl keeps the last).

Owners are the `M:` people. `R:` reviewers are never chased: they review,
they do not have to do the backport. `reviewers_for` answers who they are;
no report shows them yet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from backport.git import Git, check_revision
from backport.record import record

_ENTRY = re.compile(r"([A-Z]):\s*(.*)")
_WILD = re.compile(r"[*?{]")
_NAME_DEPTH = 0  # N: is a regex anywhere in the name; get_maintainer.pl ranks it 0
_BRACES = re.compile(r"\{([^{}]*)\}")
_ADDRESS = re.compile(r"<([^<>]*)>")


@record
class Pattern:
    """One F:/X: pattern, compiled once."""

    text: str
    prefix: str  # the text before the first wildcard: a cheap first test
    regex: re.Pattern[str] | None  # None for a pattern without wildcards
    directory: bool  # ends in `/`: everything below
    slashes: int
    depth: int  # get_maintainer.pl's rank: deeper is more specific

    @classmethod
    def compile(cls, text: str) -> Pattern:
        wild = _WILD.search(text)
        regex = re.compile(_glob_regex(text), re.DOTALL) if wild else None
        directory = text.endswith("/")
        slashes = text.count("/")
        depth = -1 if text.startswith("*") else slashes + (0 if directory else 1)
        return cls(text, text[: wild.start()] if wild else text, regex, directory, slashes, depth)

    def matches(self, path: str) -> bool:
        # Most patterns are plain directories or files: no regex needed, and
        # a path that does not start with the prefix fails them all.
        if not path.startswith(self.prefix):
            return False
        if self.regex is None:
            # a file, or (get_maintainer.pl's `-d` test) a directory and below
            return self.directory or len(path) == len(self.text) or path[len(self.text)] == "/"
        if self.directory:
            return self.regex.match(path) is not None
        return path.count("/") == self.slashes and self.regex.fullmatch(path) is not None


@record
class Section:
    title: str
    maintainers: tuple[str, ...] = ()  # M:
    reviewers: tuple[str, ...] = ()  # R:
    lists: tuple[str, ...] = ()  # L:
    status: str | None = None  # S:
    files: tuple[Pattern, ...] = ()  # F:
    excludes: tuple[Pattern, ...] = ()  # X:
    names: tuple[re.Pattern[str], ...] = ()  # N:


class Maintainers:
    """A parsed MAINTAINERS file: who owns which paths."""

    def __init__(self, sections: Sequence[Section] = ()) -> None:
        self.sections = tuple(sections)
        # directory -> (section number, is an exclusion, pattern) for every
        # pattern whose literal prefix lies in that directory: a path only
        # needs the patterns of its own ancestors (Linux has ~20,000 F: lines)
        self._index: dict[str, list[tuple[int, bool, Pattern]]] = {}
        self._named: list[int] = []  # sections with N:
        for number, section in enumerate(self.sections):
            if section.names:
                self._named.append(number)
            for excluded, patterns in ((False, section.files), (True, section.excludes)):
                for pattern in patterns:
                    folder = pattern.prefix[: max(pattern.prefix.rfind("/"), 0)]
                    self._index.setdefault(folder, []).append((number, excluded, pattern))

    def __eq__(self, other: object) -> bool:
        return self.sections == other.sections if isinstance(other, Maintainers) else NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Maintainers(sections={self.sections!r})"

    @classmethod
    def load(cls, git: Git, rev: str, path: str) -> Maintainers:
        """The file at `rev`; an empty one when it is not there."""
        data = git.show_file(check_revision(rev), path)
        return cls() if data is None else cls.parse(data.decode("utf-8", "replace"))

    @classmethod
    def parse(cls, text: str) -> Maintainers:
        """Never raises: a line we cannot use is skipped, as get_maintainer.pl does."""
        sections: list[Section] = []
        title: str | None = None
        entries: list[tuple[str, str]] = []
        for raw in text.splitlines():
            line = raw.rstrip()
            if not line.strip():
                continue
            entry = _ENTRY.match(line)
            if entry:
                entries.append((entry.group(1), entry.group(2).strip()))
                continue
            if title is not None or entries:
                sections.append(_section(title or "", entries))
            title, entries = line.strip(), []
        if title is not None or entries:
            sections.append(_section(title or "", entries))
        return cls(tuple(s for s in sections if s.files or s.names))

    def sections_for(self, path: str) -> tuple[Section, ...]:
        """The most specific sections with maintainers that cover `path`."""
        depth: dict[int, int] = {}
        excluded: set[int] = set()
        parts = path.split("/")
        for folder in ("/".join(parts[:i]) for i in range(len(parts))):
            for number, exclusion, pattern in self._index.get(folder, ()):
                if pattern.matches(path):
                    if exclusion:
                        excluded.add(number)
                    else:
                        depth[number] = max(depth.get(number, pattern.depth), pattern.depth)
        for number in self._named:
            if any(n.search(path) for n in self.sections[number].names):
                depth[number] = max(depth.get(number, _NAME_DEPTH), _NAME_DEPTH)
        found = {n: d for n, d in depth.items() if n not in excluded and self.sections[n].maintainers}
        if not found:
            return ()
        best = max(found.values())
        return tuple(self.sections[n] for n in sorted(found) if found[n] == best)

    def owners_for(self, paths: Sequence[str]) -> tuple[str, ...]:
        """M: people of the most specific section of each path, first seen first."""
        return _unique(m for path in paths for s in self.sections_for(path) for m in s.maintainers)

    def reviewers_for(self, paths: Sequence[str]) -> tuple[str, ...]:
        """R: people of the same sections, for display only."""
        return _unique(r for path in paths for s in self.sections_for(path) for r in s.reviewers)


def address(person: str) -> str:
    """The mail address of "Name <mail>" (or of a bare address), lower-cased."""
    found = _ADDRESS.search(person)
    return (found.group(1) if found else person).strip().lower()


def _unique(people: Iterable[str]) -> tuple[str, ...]:
    seen: set[str] = set()
    out: list[str] = []
    for person in people:
        key = address(person)
        if key and key not in seen:
            seen.add(key)
            out.append(person)
    return tuple(out)


def _section(title: str, entries: list[tuple[str, str]]) -> Section:
    values: dict[str, list[str]] = {}
    for kind, value in entries:
        if value:
            values.setdefault(kind, []).append(value)
    status = values.get("S", [None])[-1]
    return Section(
        title=title,
        maintainers=tuple(values.get("M", ())),
        reviewers=tuple(values.get("R", ())),
        lists=tuple(values.get("L", ())),
        status=status,
        files=tuple(Pattern.compile(v) for v in values.get("F", ())),
        excludes=tuple(Pattern.compile(v) for v in values.get("X", ())),
        names=tuple(r for r in (_name_regex(v) for v in values.get("N", ())) if r is not None),
    )


def _glob_regex(pattern: str) -> str:
    """get_maintainer.pl's conversion: `*` -> `.*`, `?` -> `.`, `{a,b}` -> `(a|b)`;
    everything else literal (Perl leaves other metacharacters live, which only
    ever matters for typos)."""
    out: list[str] = []
    pos = 0
    for brace in _BRACES.finditer(pattern):
        out.append(_glob_part(pattern[pos : brace.start()]))
        alternatives = brace.group(1).split(",")
        out.append("(?:" + "|".join(_glob_part(a) for a in alternatives) + ")")
        pos = brace.end()
    out.append(_glob_part(pattern[pos:]))
    return "".join(out)


def _glob_part(text: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)


def _name_regex(value: str) -> re.Pattern[str] | None:
    """An `N:` pattern (a regex, from the repository's MAINTAINERS), or None
    if Python cannot read it. Python's warnings about what a future version
    may read differently ("Possible nested set") are the file's business,
    not the user's: silenced."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        try:
            return re.compile(value, re.VERBOSE)
        except (re.error, OverflowError, RecursionError):
            return None
