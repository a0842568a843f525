"""`backport nominate` and `backport skip`: decisions recorded after a commit landed."""

from __future__ import annotations

from collections.abc import Sequence

import click

from backport.config import NOTES_REF
from backport.errors import UsageError
from backport.maintainer.notes import append_lines
from backport.models import Nomination, listing
from backport.nominations import line_errors, parse_value
from backport.session import Session


def nominate(session: Session, commit: str, targets: Sequence[str], comment: str | None) -> int:
    sha = _landed(session, commit)
    value = _checked_value(session, targets, allow_plus=True)
    key = note_key(session)
    return _write(session, sha, [_line(key, value, comment)])


def skip(session: Session, commit: str, targets: Sequence[str], reason: str) -> int:
    sha = _landed(session, commit)
    if not reason.strip():
        raise UsageError("an empty reason", "say why with -m REASON")
    value = _checked_value(session, targets, allow_plus=False)
    key = session.config["skip-keys"][0]
    return _write(session, sha, [_line(key, value, reason)])


def note_key(session: Session) -> str:
    """The key a note's request is written with: the first plain key, else
    the first form without a value pattern (Mesa's Backport-to)."""
    plain = [f.key for f in session.config["request-forms"] if f.value is None and not f.opt_out]
    return next(iter([*session.config["keys"], *plain]), "Backport-to")


def _line(key: str, value: str, comment: str | None) -> str:
    comment = " ".join((comment or "").split())  # one line: a note line cannot span lines
    return f"{key}: {value}" + (f" # {comment}" if comment else "")


def _landed(session: Session, commit: str) -> str:
    sha = session.git.resolve(commit)
    if sha is None:
        raise UsageError(f"unknown commit {commit!r}", "give a commit id or revision on the unstable branch")
    if not session.git.is_ancestor(sha, session.unstable.commit):
        raise UsageError(
            f"commit {sha[:12]} is not on {session.unstable.ref}",
            "nominate commits once they have landed on the unstable branch",
        )
    return sha


def _checked_value(session: Session, targets: Sequence[str], *, allow_plus: bool) -> str:
    value = ", ".join(t.strip() for t in targets)
    try:
        kind, requests, _ = parse_value(value, session.config["bare-version"])
    except ValueError as err:
        known = listing(session.known_versions)
        raise UsageError(f"bad version in {value!r}: {err}", f"known lines: {known}") from None
    if kind == "none":
        raise UsageError("'none' is not a line", "use `backport skip COMMIT --line V -m REASON` to decline")
    for request in requests:
        if request.plus and not allow_plus:
            raise UsageError(f"{request} names several lines", "decline one line at a time: --line 4.19")
    errors = line_errors([Nomination("note", value, kind, requests)], session.known_versions)
    if errors:
        raise UsageError(errors[0][1], "give a line that exists")
    return value


def _write(session: Session, sha: str, lines: list[str]) -> int:
    added = append_lines(session.git, sha, lines)
    if added:
        for line in added:
            click.echo(f"{sha[:12]}: noted {line!r} on {NOTES_REF}")
        click.echo(f"share it with: git push origin {NOTES_REF}")
    else:
        click.echo(f"{sha[:12]}: already noted, nothing to do")
    return 0
