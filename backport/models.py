"""Plain records passed between the scanner, the verdict engine and the reports.

All frozen (backport.record): change one with `backport.record.replace`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from backport.record import record

TYPE_CHECKING = False  # not typing's: importing typing costs the hook 12 ms

_VERSION = re.compile(r"\d+(?:\.\d+)*")


@record
class Version:
    """A stable-line version such as 4.20; compares numerically (4.9 < 4.10)."""

    parts: tuple[int, ...]

    if TYPE_CHECKING:  # a tuple underneath: ordered field by field, as versions are

        def __lt__(self, other: Version) -> bool: ...
        def __le__(self, other: Version) -> bool: ...
        def __gt__(self, other: Version) -> bool: ...
        def __ge__(self, other: Version) -> bool: ...

    @classmethod
    def parse(cls, text: str) -> Version | None:
        text = text.strip()
        if not _VERSION.fullmatch(text):
            return None
        return cls(tuple(int(p) for p in text.split(".")))

    def contains(self, release: tuple[int, ...]) -> bool:
        """Whether a point release (4.20.1) belongs to this line (4.20)."""
        return len(release) > len(self.parts) and release[: len(self.parts)] == self.parts

    def __str__(self) -> str:
        return ".".join(str(p) for p in self.parts)


def plural(count: int, word: str, words: str | None = None) -> str:
    """"1 decision", "2 decisions", "3 fixes" (with `words`) for messages."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


def listing(versions: Iterable[Version]) -> str:
    """"4.18, 4.19, 4.20" for messages."""
    return ", ".join(str(v) for v in sorted(versions)) or "none"


@record
class Release:
    """A point release found from a tag, e.g. RELEASE-4.20.1."""

    tag: str
    version: tuple[int, ...]
    commit: str
    date: str  # ISO 8601, the tagger date (committer date for lightweight tags)


@record
class Line:
    """A maintained stable line: a version and the ref that carries it."""

    version: Version
    ref: str
    commit: str
    releases: tuple[Release, ...] = ()  # oldest first

    @property
    def last_release(self) -> Release | None:
        return self.releases[-1] if self.releases else None


@record
class Request:
    """One item of a nomination value: `4.20` or `4.18+`."""

    version: Version
    plus: bool = False

    def __str__(self) -> str:
        return f"{self.version}+" if self.plus else str(self.version)

    def expand(self, versions: Iterable[Version]) -> list[Version]:
        if self.plus:
            return [v for v in versions if v >= self.version]
        return [v for v in versions if v == self.version]


@record
class Form:
    """One way a project asks for a backport, as a declarative rule.

    `Backport-to: 4.20` is Form("Backport-to"); Linux's `Cc:
    stable@vger.kernel.org # 6.1+` is Form("Cc", value=<the address>,
    versions="comment", bare="and-newer", versionless="all"). A line with
    the key whose value the rule does not match is an ordinary trailer:
    never a problem.
    """

    key: str  # the trailer key, matched without regard to case
    # a regular expression the value (before any `# comment`) must match
    # whole, case aside; None: the value is the versions. A group
    # (?P<versions>...) says where in the value the versions are.
    value: str | None = None
    versions: str = "value"  # where the versions are written: "value" or "comment" (after `#`)
    bare: str | None = None  # what `4.20` means: "exact" or "and-newer"; None: the grammar's default
    # a request with no version: "error" (malformed) or "all" (every
    # maintained line, those the bug is on where it names a Fixes: target)
    versionless: str = "error"
    opt_out: bool = False  # a match declines: no request, never suggested (Linux's stable+noautosel)


@record
class Nomination:
    """A request (or refusal) to backport a commit, as found in a message or note."""

    source: str  # "trailer" | "note" | "fixes"
    text: str  # the line as written, e.g. "Backport-to: 4.19+ # maybe older"
    kind: str  # "request" | "none" | "skip" | "prerequisite" (asks for the commits in `needs`, not this one)
    requests: tuple[Request, ...] = ()
    comment: str | None = None
    misplaced: bool = False  # found outside the message's final trailer block
    all_lines: bool = False  # no version given (`Cc: stable@...`) or `*`: every line (where the bug is)
    needs: tuple[str, ...] = ()  # commits to pick first, as written (Linux: `# 5.15.x: <sha>: subject`)

    def versions(self, known: Iterable[Version]) -> list[Version]:
        known = sorted(set(known))
        if self.all_lines:
            return known
        found: set[Version] = set()
        for request in self.requests:
            found.update(request.expand(known))
        return sorted(found)


@record
class Problem:
    """A nomination we could not understand, kept so it is never lost silently."""

    commit: str
    text: str
    error: str


@record
class Candidate:
    """An unstable commit that matters to backporting: nominated, a fix, or a revert."""

    commit: str
    subject: str
    author: str  # "Name <mail>"
    date: str  # author date, ISO 8601
    committed: str  # committer date on unstable, ISO 8601: when it landed
    parents: tuple[str, ...]
    order: int  # position in unstable history, 0 = oldest scanned
    nominations: tuple[Nomination, ...] = ()
    fixes: tuple[str, ...] = ()  # Fixes:/Amends: targets as written (may be abbreviated)
    reverts: tuple[str, ...] = ()  # "This reverts commit X" targets

    @property
    def nominated(self) -> bool:
        return any(n.kind in ("request", "none") for n in self.nominations)

    @property
    def declined(self) -> bool:
        """Tagged `none`: deliberately not for backport."""
        return any(n.kind == "none" for n in self.nominations)


@record
class ScanResult:
    unstable_ref: str
    unstable_commit: str
    base: str | None  # the oldest line's fork point: where the scan stopped
    commits: tuple[Candidate, ...]  # interesting commits, oldest first
    problems: tuple[Problem, ...] = ()

    @property
    def candidates(self) -> tuple[Candidate, ...]:
        """Commits with at least one nomination (request, none or skip)."""
        return tuple(c for c in self.commits if c.nominations)


# -- verdicts: what `check` decides and `report` groups ------------------------

APPLIED, PENDING, NOT_NEEDED, SKIPPED, REVERTED = "applied", "pending", "not-needed", "skipped", "reverted"
UNKNOWN = "unknown"  # an object the verdict needs is missing: the rest of the run stands
STATES = (APPLIED, PENDING, NOT_NEEDED, SKIPPED, REVERTED, UNKNOWN)


@record
class Target:
    """The verdict for one (candidate, line) pair; fields as SPEC's JSON `targets`."""

    version: Version
    state: str  # one of STATES
    applies: str | None = None  # "clean" | "conflict" for pending, else None
    conflicts: tuple[str, ...] = ()  # conflicted paths when applies == "conflict"
    after: tuple[str, ...] = ()  # pending candidates it needs first (full ids, unstable order)
    applied_as: str | None = None  # the line's commit that carries it
    evidence: str | None = None  # ancestor|cherry-picked-from|master-commit|upstream-line|patch-id|fixes|note
    age_days: int | None = None  # days since it landed on unstable (pending only)
    stale: bool = False
    stale_reason: str | None = None  # "missed RELEASE-4.20.1" | "waiting 47 days"
    owners: tuple[str, ...] = ()  # "Name <mail>"
    reason: str | None = None  # why skipped, reverted or unknown, or the nomination's comment
    empty: bool = False  # picks clean but changes nothing: there in substance
    # pending although something says otherwise: asked for this line by name
    # while its Fixes: target is not on the line (the request wins)
    warning: str | None = None


@record
class Verdict:
    """A candidate with every nomination (inferred ones included) and its targets."""

    candidate: Candidate
    nominations: tuple[Nomination, ...]
    targets: tuple[Target, ...]
    merge: bool = False  # a merge commit, judged against its first parent


@record
class UntaggedFix:
    """A `Fixes:`/`Amends:` commit whose bug is on lines, with no nomination."""

    candidate: Candidate
    fixes: str  # full id of the fixed commit
    lines: tuple[Version, ...]
    # on each of those lines as a pending backport would be: applies, after,
    # age, stale (a point release tagged without it), owners
    targets: tuple[Target, ...] = ()


@record
class CheckResult:
    unstable_ref: str
    unstable_commit: str
    lines: tuple[Line, ...]
    verdicts: tuple[Verdict, ...]  # unstable order, oldest first
    untagged_fixes: tuple[UntaggedFix, ...] = ()
    problems: tuple[Problem, ...] = ()
    now: str = ""  # ISO 8601: the moment ages were computed at
    incomplete: bool = False  # an object was missing: what it cost is in problems; never cached
