"""`backport lint`: the commit-msg check over every commit of a range, for CI.

One streamed `git log` reads the messages; the `Fixes:` targets of the whole
range are resolved in one batch, and each (fixed commit, line) ancestry
question is asked once however many commits share it.
"""

from __future__ import annotations

from collections.abc import Sequence

from backport.errors import GitError, UsageError
from backport.escape import printable
from backport.git import check_revision
from backport.maintainer.message_check import Ancestry, Finding, Rules, check_message, copies_in
from backport.nominations import parse
from backport.record import record
from backport.session import Session

_FIELDS = 2
_FORMAT = "%H%x00%B"


@record
class Flagged:
    """A commit of the range with something to say about it."""

    commit: str
    subject: str
    findings: tuple[Finding, ...]


@record
class LintResult:
    revisions: tuple[str, ...]
    commits: int  # how many commits were checked
    flagged: tuple[Flagged, ...]  # oldest first

    def failed(self, strict: bool = False) -> bool:
        return any(f.blocking or strict for item in self.flagged for f in item.findings)


def lint(session: Session, revisions: Sequence[str]) -> LintResult:
    """Check every non-merge commit in `revisions` (e.g. origin/staging..HEAD).

    Merges are skipped: git writes their messages, and the commits they bring
    in are in the range themselves."""
    session.require_history()
    for revision in revisions:
        check_revision(revision)
    args = ["log", "-z", "--no-color", "--no-merges", f"--format={_FORMAT}", *revisions, "--"]
    try:
        messages = [(sha.decode(), body.decode("utf-8", "replace")) for sha, body in session.git.records(args, _FIELDS)]
    except GitError as err:
        if err.returncode == 128:
            raise UsageError(
                f"bad revision range {' '.join(revisions)!r}: {(err.stderr.strip().splitlines() or ['?'])[-1]}",
                "give e.g. origin/staging..HEAD, with both ends fetched",
            ) from None
        raise
    rules = Rules.from_session(session)
    ancestry = Ancestry(session.git, rules.lines, session.line_branches, copies=copies_in(session))
    ancestry.prime(target for _, message in messages for target in parse(message, rules.grammar).fixes)
    flagged = []
    for sha, message in reversed(messages):
        findings = check_message(message, rules, ancestry)
        if findings:
            subject = printable(message.split("\n", 1)[0].strip())
            flagged.append(Flagged(sha, subject, tuple(findings)))
    return LintResult(tuple(revisions), len(messages), tuple(flagged))
