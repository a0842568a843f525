"""`backport nominate` and `backport skip`: decisions recorded after a commit
landed; `backport notes fetch|push`: decisions shared with a remote.

Both are explicit and idempotent: the same decision twice is a no-op that
says so (whether it is in the commit's message or its note); a note line
that does not read, or names no line, is said and replaced only with --fix;
a nomination against a recorded refusal (or the other way round) is refused
with how to change that decision.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from backport.commands import Globals, pass_globals
from backport.config import NOTES_REF
from backport.errors import ConfigError, UsageError
from backport.maintainer import notes
from backport.maintainer.notes import append_lines, read_note, replace_lines
from backport.models import Nomination, Request, Version, listing
from backport.nominations import covers, line_errors, parse, parse_value, well_formed
from backport.record import record
from backport.session import Session


@click.group("notes")
def cli_command() -> None:
    """Share nominations and decisions (refs/notes/backport) with a remote.

    git fetches no notes by default: fetch before the weekly report, push
    after nominating or skipping. REMOTE defaults to the unstable branch's
    upstream, else origin.
    """


@cli_command.command("fetch")
@click.argument("remote", required=False)
@pass_globals
def fetch_command(g: Globals, remote: str | None) -> int:
    """Fetch the remote's decisions and merge them into ours (nothing is lost)."""
    return share(g.session(), remote, "fetch")


@cli_command.command("push")
@click.argument("remote", required=False)
@pass_globals
def push_command(g: Globals, remote: str | None) -> int:
    """Merge the remote's decisions into ours, then push ours there."""
    return share(g.session(), remote, "push")


def share(session: Session, remote: str | None, verb: str) -> int:
    chosen = remote or notes.default_remote(session.git, session.unstable.ref)
    exchange = (notes.fetch if verb == "fetch" else notes.push)(session.git, chosen, session.grammar)
    click.echo(notes.summary(exchange, verb))
    return 0


@record
class Said:
    """What a commit's message and note already say."""

    requests: tuple[Nomination, ...]  # well-formed, in the message or the note
    declines: tuple[Nomination, ...]  # Backport-skip lines of the note
    wrong_note: tuple[tuple[str, str], ...]  # note lines that do not read or name no line
    wrong_message: tuple[tuple[str, str], ...]  # the same in the message, which cannot change any more


def nominate(session: Session, commit: str, targets: Sequence[str], comment: str | None, *, fix: bool = False) -> int:
    sha = _landed(session, commit)
    value, requests = _checked_value(session, targets, allow_plus=True)
    said = _said(session, sha)
    _check_wrong(said, sha, fix)
    if _already(session, sha, said, said.requests, requests, "nominated"):
        return 0
    for nomination in said.declines:
        declined = nomination.versions(session.known_versions)
        if set(declined) & set(_expand(session, requests)):
            raise UsageError(
                f"{sha[:12]} is declined for {listing(declined)} ({_where(nomination)})",
                f"to change that decision, edit the note: git notes --ref={NOTES_REF} edit {sha[:12]}",
            )
    return _write(session, sha, _line(note_key(session), value, comment), said, fix)


def skip(session: Session, commit: str, targets: Sequence[str], reason: str, *, fix: bool = False) -> int:
    sha = _landed(session, commit)
    if not reason.strip():
        raise UsageError("an empty reason", "say why with -m REASON")
    value, requests = _checked_value(session, targets, allow_plus=False)
    said = _said(session, sha)
    _check_wrong(said, sha, fix)
    if _already(session, sha, said, said.declines, requests, "declined"):
        return 0
    if not session.config["skip-keys"]:
        raise ConfigError(
            f"no key to decline with: skip-keys is empty ({session.config.source('skip-keys')})",
            "give it a key, e.g. git config backport.skipKeys Backport-skip",
        )
    key = session.config["skip-keys"][0]
    return _write(session, sha, _line(key, value, reason), said, fix)


def _already(
    session: Session, sha: str, said: Said, decided: Sequence[Nomination], asked: Sequence[Request], verb: str
) -> bool:
    """Whether what is `decided` covers what is `asked` (and the note needs
    no fixing): then the same decision again is a no-op, and it says so."""
    if said.wrong_note or not covers(decided, asked, session.known_versions):
        return False
    where = ", ".join(_where(n) for n in decided)
    click.echo(f"{sha[:12]}: already {verb} for {_versions(session, asked)} ({where}), nothing to do")
    return True


def note_key(session: Session) -> str:
    """The key a note's request is written with: the first plain key, else
    the first form without a value pattern (Mesa's Backport-to)."""
    plain = [f.key for f in session.config["request-forms"] if f.value is None and not f.opt_out]
    key: str | None = next(iter([*session.config["keys"], *plain]), None)
    if key is None:  # a note nobody would read
        raise ConfigError(
            f"no key to nominate with: keys is empty ({session.config.source('keys')})"
            " and no request form takes a bare version",
            "give it a key, e.g. git config backport.keys Backport-to",
        )
    return key


def _said(session: Session, sha: str) -> Said:
    raw = session.git.run(["cat-file", "commit", sha]).stdout.decode("utf-8", "replace")
    message = raw.split("\n\n", 1)[1] if "\n\n" in raw else ""
    known = session.known_versions
    in_message, wrong_message = well_formed(parse(message, session.grammar), known)
    in_note, wrong_note = well_formed(parse(read_note(session.git, sha), session.grammar, "note"), known)
    requests = [n for n in (*in_message, *in_note) if n.kind == "request"]
    declines = [n for n in in_note if n.kind == "skip"]
    return Said(tuple(requests), tuple(declines), tuple(wrong_note), tuple(wrong_message))


def _check_wrong(said: Said, sha: str, fix: bool) -> None:
    if said.wrong_note and not fix:
        text, error = said.wrong_note[0]
        raise UsageError(f"the note on {sha[:12]} already has {text!r} ({error})", "run again with --fix to replace it")
    for text, error in said.wrong_message:
        click.echo(
            f"backport: warning: {sha[:12]}'s message has {text!r} ({error}); "
            "a landed message cannot change: the note speaks for it now",
            err=True,
        )


def _where(nomination: Nomination) -> str:
    return f"{nomination.text!r} in its {'note' if nomination.source == 'note' else 'message'}"


def _expand(session: Session, requests: Sequence[Request]) -> list[Version]:
    return [v for r in requests for v in r.expand(session.known_versions)]


def _versions(session: Session, requests: Sequence[Request]) -> str:
    return listing(_expand(session, requests)) if session.known_versions else ", ".join(map(str, requests))


def _line(key: str, value: str, comment: str | None) -> str:
    comment = " ".join((comment or "").split())  # one line: a note line cannot span lines
    return f"{key}: {value}" + (f" # {comment}" if comment else "")


def _landed(session: Session, commit: str) -> str:
    from backport.verdict.result import resolve_commits

    sha = resolve_commits(session, [commit])[commit]
    if not session.git.is_ancestor(sha, session.unstable.commit):
        raise UsageError(
            f"commit {sha[:12]} is not on {session.unstable.ref}",
            "nominate commits once they have landed on the unstable branch",
        )
    return sha


def _checked_value(session: Session, targets: Sequence[str], *, allow_plus: bool) -> tuple[str, tuple[Request, ...]]:
    value = ", ".join(t.strip() for t in targets)
    try:
        kind, requests, _ = parse_value(value, session.config["bare-version"])
    except ValueError as err:
        known = listing(session.known_versions)
        raise UsageError(f"bad version in {value!r}: {err}", f"known lines: {known}") from None
    if kind == "none":
        raise UsageError("'none' is not a line", "use `backport skip COMMIT --for V -m REASON` to decline")
    for request in requests:
        if request.plus and not allow_plus:
            raise UsageError(f"{request} names several lines", "decline one line at a time: --for 4.19")
    errors = line_errors([Nomination("note", value, kind, requests)], session.known_versions)
    if errors:
        raise UsageError(errors[0][1], "give a line that exists")
    return value, requests


def _write(session: Session, sha: str, line: str, said: Said, fix: bool) -> int:
    if fix and said.wrong_note:
        wrong = {text for text, _ in said.wrong_note}
        replace_lines(session.git, sha, wrong, [line])
        click.echo(f"{sha[:12]}: replaced {', '.join(map(repr, sorted(wrong)))} with {line!r} on {NOTES_REF}")
    elif append_lines(session.git, sha, [line]):
        click.echo(f"{sha[:12]}: noted {line!r} on {NOTES_REF}")
    else:
        click.echo(f"{sha[:12]}: already noted, nothing to do")
        return 0
    click.echo("share it with: backport notes push")
    return 0
