"""`backport init`: read a repository's history and propose its settings.

What is counted, and why each says something about the project:

- request forms: on the last SAMPLE commits of the unstable branch, how
  many carry each preset's own way of asking (Xen's `Backport:`, Linux's
  `Cc: stable@vger.kernel.org`, QEMU's `Cc: qemu-stable@nongnu.org`,
  Mesa's `Cc: mesa-stable` and `Backport-to:`), and how many a `Fixes:`;
- back-references: on the last LINE_SAMPLE commits of each stable line,
  which reference line its backports carry (Xen's `master commit:`,
  `(cherry picked from commit ...)`, Linux's `commit <sha> upstream.`);
- names: the branches each preset's line patterns find, and the tags its
  release patterns find.

Each preset scores what it alone explains; the highest score wins, and
nothing found proposes no preset (the defaults). One streamed `git log` of
unstable, one short log per line, one branch and one tag listing.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime

from backport.config import DEFAULT_LINE_PATTERNS, DEFAULT_RELEASE_PATTERNS
from backport.git import Git
from backport.lines import discover
from backport.models import Version
from backport.presets import NAMES, PRESETS
from backport.record import record

SAMPLE = 5000  # unstable commits read
LINE_SAMPLE = 300  # commits read of each line

# What only one project writes (the plain Backport-to is read everywhere).
_FORMS: dict[str, re.Pattern[bytes]] = {
    "xen": re.compile(rb"^Backport:[ \t]*\S", re.M | re.I),
    "linux": re.compile(rb"^Cc:.*\bstable(?:\+noautosel)?@(?:vger\.)?kernel\.org", re.M | re.I),
    "qemu": re.compile(rb"^Cc:.*\bqemu-stable\b", re.M | re.I),
    # Mesa also writes Backport-to: 24.1, but so does every user of this
    # tool: only its `*` says Mesa
    "mesa": re.compile(rb"^(?:Cc:.*\bmesa-stable\b|Backport-to:[ \t]*\*)", re.M | re.I),
}
_FIXES = re.compile(rb"^Fixes:[ \t]*[0-9a-f]{7,}", re.M | re.I)
_STYLES: dict[str, re.Pattern[bytes]] = {
    "master-commit": re.compile(rb"^[ \t]*master commit:[ \t]*[0-9a-f]{7,}", re.M | re.I),
    "cherry-picked-from": re.compile(rb"^[ \t]*\(cherry picked from commit [0-9a-f]{7,}", re.M | re.I),
    "upstream-line": re.compile(rb"^[ \t]*(?:commit [0-9a-f]{7,40} upstream\b|\[[ \t]*upstream commit )", re.M | re.I),
}
# Which back-reference style is each project's own.
_STYLE_OF = {
    "xen": "master-commit",
    "linux": "upstream-line",
    "qemu": "cherry-picked-from",
    "mesa": "cherry-picked-from",
}


@record
class LineSeen:
    version: Version
    ref: str
    last: str  # ISO 8601 committer date of its tip
    styles: tuple[tuple[str, int], ...]  # back-reference style -> commits that carry it (of the sample)


@record
class Survey:
    unstable: str
    sampled: int  # unstable commits read
    forms: tuple[tuple[str, int], ...]  # preset -> commits with its request form
    fixes: int  # commits with a Fixes:
    lines: tuple[LineSeen, ...]  # newest first
    branches: tuple[tuple[str, int], ...]  # preset -> line branches its patterns find (default: "")
    tags: tuple[tuple[str, int], ...]  # preset -> release tags its patterns find
    scores: tuple[tuple[str, int], ...]  # preset -> score, best first
    preset: str | None  # the proposal; None: nothing points anywhere


def survey(git: Git, unstable: str) -> Survey:
    forms, fixes, sampled = _forms(git, unstable)
    rows = git.branches()
    lines = _lines(git, rows)
    branches = {name: len(discover(rows, PRESETS[name].get("line-patterns", DEFAULT_LINE_PATTERNS))) for name in NAMES}
    tags = _tags(git)
    styles: Counter[str] = Counter()
    for line in lines:
        styles.update(dict(line.styles))
    scores = {name: _score(name, forms, styles, branches, tags) for name in NAMES}
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    best = ranked[0] if ranked and ranked[0][1] > 0 else None
    return Survey(
        unstable=unstable,
        sampled=sampled,
        forms=tuple(forms.items()),
        fixes=fixes,
        lines=tuple(lines),
        branches=tuple(branches.items()),
        tags=tuple(tags.items()),
        scores=tuple(ranked),
        preset=best[0] if best else None,
    )


def _score(
    name: str, forms: Mapping[str, int], styles: Mapping[str, int], branches: Mapping[str, int], tags: Mapping[str, int]
) -> int:
    """A request form seen is worth most; the lines' back-reference style
    next; names last, as several projects share them (stable-X.Y, vX.Y.Z)."""
    return 100 * forms.get(name, 0) + 10 * styles.get(_STYLE_OF[name], 0) + branches.get(name, 0) + tags.get(name, 0)


def _forms(git: Git, unstable: str) -> tuple[dict[str, int], int, int]:
    counts = dict.fromkeys(NAMES, 0)
    fixes = sampled = 0
    for _sha, body in git.records(["log", "-z", "--no-color", "--format=%H%x00%B", f"-{SAMPLE}", unstable, "--"], 2):
        sampled += 1
        for name, pattern in _FORMS.items():
            if pattern.search(body):
                counts[name] += 1
        if _FIXES.search(body):
            fixes += 1
    return counts, fixes, sampled


def _lines(git: Git, rows: Sequence[Sequence[str]]) -> list[LineSeen]:
    """Every line any preset's patterns find, with its back-reference styles."""
    patterns = dict.fromkeys(
        p for name in NAMES for p in PRESETS[name].get("line-patterns", DEFAULT_LINE_PATTERNS)
    )
    found = discover(rows, [*DEFAULT_LINE_PATTERNS, *patterns])
    lines = []
    for version, branch in sorted(found.items(), reverse=True):
        ref, commit = branch.ref, branch.commit
        if not commit:
            continue
        styles: Counter[str] = Counter()
        last = ""
        for index, (date, body) in enumerate(
            git.records(["log", "-z", "--no-color", "--format=%cI%x00%B", f"-{LINE_SAMPLE}", commit, "--"], 2)
        ):
            if index == 0:
                last = date.decode()
            for style, pattern in _STYLES.items():
                if pattern.search(body):
                    styles[style] += 1
        lines.append(LineSeen(version, ref, last, tuple(styles.most_common())))
    return lines


def _tags(git: Git) -> dict[str, int]:
    names = [row[0][len("refs/tags/") :] for row in git.refs(["refs/tags"], "%(refname)")]
    counts = {}
    for name in NAMES:
        compiled = [re.compile(p) for p in PRESETS[name].get("release-patterns", DEFAULT_RELEASE_PATTERNS)]
        counts[name] = sum(1 for tag in names if any(p.fullmatch(tag) for p in compiled))
    return counts


def proposal(found: Survey, now: datetime) -> str:
    """The proposed .backport.toml, with the counts that justify it as comments."""
    forms = dict(found.forms)
    out = [f"# proposed by `backport init` on {now.date().isoformat()}"]
    out.append(f"# from the last {found.sampled} commits of {found.unstable} and of each line")
    out.append("# request forms seen: " + ", ".join(f"{name} {count}" for name, count in found.forms))
    out.append(f"# commits with Fixes: {found.fixes}")
    for line in found.lines:
        styles = ", ".join(f"{style} {count}" for style, count in line.styles) or "no back-references"
        out.append(f"# line {line.version} ({line.ref}, last commit {line.last[:10]}): {styles}")
    out.append("# scores: " + ", ".join(f"{name} {score}" for name, score in found.scores))
    if found.preset is None:
        out += ["# nothing here points to a preset: the defaults apply", ""]
        return "\n".join(out)
    out.append(f'preset = "{found.preset}"')
    if found.preset == "xen" and not forms.get("xen"):
        out.append("# no Backport: line in the sample: nominate with `backport nominate`, or see `backport suggest`")
    return "\n".join(out) + "\n"

