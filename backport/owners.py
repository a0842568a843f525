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
sections that name an `M:` take part: an orphaned area falls back to the
next most specific section, as Xen's file intends. When a section has
several `F:` patterns that match, the deepest counts (Perl keeps the last).

Owners are the `M:` people. `R:` reviewers are shown (reviewers_for), never
chased: they review, they do not have to do the backport.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from backport.git import Git, check_revision

_ENTRY = re.compile(r"([A-Z]):\s*(.*)")
_BRACES = re.compile(r"\{([^{}]*)\}")
_ADDRESS = re.compile(r"<([^<>]*)>")


@dataclass(frozen=True)
class Pattern:
    """One F:/X: pattern, compiled once."""

    text: str
    regex: re.Pattern[str]
    directory: bool  # ends in `/`: everything below
    literal: bool  # no wildcard: a file, or a directory and everything below
    slashes: int
    depth: int  # get_maintainer.pl's rank: deeper is more specific

    @classmethod
    def compile(cls, text: str) -> "Pattern":
        directory = text.endswith("/")
        literal = not any(c in text for c in "*?{")
        slashes = text.count("/")
        depth = -1 if text.startswith("*") else slashes + (0 if directory else 1)
        return cls(text, re.compile(_glob_regex(text), re.DOTALL), directory, literal, slashes, depth)

    def matches(self, path: str) -> bool:
        if self.directory:
            return self.regex.match(path) is not None
        if self.literal and path.startswith(self.text + "/"):
            return True
        return self.regex.fullmatch(path) is not None and path.count("/") == self.slashes


@dataclass(frozen=True)
class Section:
    title: str
    maintainers: tuple[str, ...] = ()  # M:
    reviewers: tuple[str, ...] = ()  # R:
    lists: tuple[str, ...] = ()  # L:
    status: str | None = None  # S:
    files: tuple[Pattern, ...] = ()  # F:
    excludes: tuple[Pattern, ...] = ()  # X:
    names: tuple[re.Pattern[str], ...] = ()  # N:

    def depth(self, path: str) -> int | None:
        """How specifically this section covers `path`; None when it does not."""
        if any(x.matches(path) for x in self.excludes):
            return None
        depths = [p.depth for p in self.files if p.matches(path)]
        # N: is a regex anywhere in the name; get_maintainer.pl ranks it 0
        depths += [0 for n in self.names if n.search(path)]
        return max(depths) if depths else None


@dataclass(frozen=True)
class Maintainers:
    sections: tuple[Section, ...] = ()

    @classmethod
    def load(cls, git: Git, rev: str, path: str) -> "Maintainers":
        """The file at `rev`; an empty one when it is not there."""
        data = git.show_file(check_revision(rev), path)
        return cls() if data is None else cls.parse(data.decode("utf-8", "replace"))

    @classmethod
    def parse(cls, text: str) -> "Maintainers":
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
        ranked = [(s.depth(path), s) for s in self.sections if s.maintainers]
        found = [(d, s) for d, s in ranked if d is not None]
        if not found:
            return ()
        best = max(d for d, _ in found)
        return tuple(s for d, s in found if d == best)

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
    try:
        return re.compile(value, re.VERBOSE)
    except (re.error, OverflowError, RecursionError):
        return None
