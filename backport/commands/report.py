"""`backport report`: what is pending, stale, conflicting, and who owes it."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from backport.commands import Globals, format_options, now_option, pass_globals
from backport.errors import ConfigError, UsageError
from backport.git import Git
from backport.models import CheckResult, Line, Version
from backport.output import check_json, dumps, emit, is_terminal, write_atomically
from backport.report.grouping import Report, build
from backport.report.links import web_url
from backport.report.mail import person
from backport.session import Session
from backport.verdict.result import check_session

if TYPE_CHECKING:
    from email.headerregistry import Address

    from backport.cache import Cache
    from backport.suggest.rank import SuggestResult


@click.command("report")
@format_options()
@now_option
@click.option(
    "--mail",
    "mail_dir",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Also prepare one message per owner team in DIR/<owner>.eml (To: the team, Cc: mail.cc), for you to send.",
)
@click.option(
    "--suggest",
    "suggest",
    is_flag=True,
    help="Add a Suggested section per line: the untagged commits `backport suggest` ranks first.",
)
@pass_globals
def cli_command(
    g: Globals, fmt: str, output: str | None, now: str | None, mail_dir: str | None, suggest: bool
) -> int:
    """Pending, conflicting and stale backports per line, and who owes them.

    Runs over every maintained line, or the ones given with --line.
    """
    session = g.session(now=now)
    return run(session, fmt, output, session.now, mail_dir, suggest=suggest)


def run(
    session: Session,
    fmt: str,
    output: str | None,
    now: datetime,
    mail_dir: str | None = None,
    *,
    suggest: bool = False,
) -> int:
    # --mail's sender, list and directory: wrong ones fail before the long part, and before any output
    sender = coordinator(session.git) if mail_dir else None
    cc = _copies(session) if mail_dir else ()
    if mail_dir:
        writable_directory(mail_dir)
    progress = Progress(sys.stderr.isatty())
    progress(f"reading {session.unstable.ref}")
    try:
        result = check_session(session, now, progress=progress)
        suggestions = None
        if suggest:
            from backport.commands.suggest import conflicting
            from backport.suggest.rank import suggest as ranked

            progress("learning from the lines' history")
            suggestions = ranked(session, pending=lambda: conflicting(result))
    finally:
        progress.done()
    if fmt == "json" and not mail_dir:
        emit(dumps(report_json(result, suggestions)), output, pager=session.pager)
        return 0
    from backport.verdict.simulate import reproduce_command

    report = build(
        result,
        went_in=went_in_since_release(session.git, result.lines, session.cache),
        reproduce=reproduce_command,
        clock=session.clock,
        web_url=web_url(session),
        suggestions=suggestions,
    )
    emit(render(report, fmt, colour=_colour(output)), output, pager=session.pager)
    if mail_dir and sender is not None:
        write_mail(report, mail_dir, sender, now, cc)
    return 0


def report_json(result: CheckResult, suggestions: SuggestResult | None) -> dict[str, Any]:
    """SPEC's schema 1, with `suggestions` when the report suggests."""
    doc = check_json(result)
    if suggestions is not None:
        from backport.commands.suggest import suggestion_json

        doc["suggestions"] = [suggestion_json(s) for line in suggestions.lines for s in line.suggestions]
    return doc


def render(report: Report, fmt: str, *, colour: bool = False) -> str:
    if fmt == "json":
        return dumps(report_json(report.result, report.suggestions))
    if fmt == "markdown":
        from backport.report.markdown import render as markdown

        return markdown(report)
    if fmt == "html":
        from backport.report.html import render_html

        return render_html(report)
    from backport.report.text import render as text

    return text(report, colour=colour)


def went_in_since_release(
    git: Git, lines: tuple[Line, ...], cache: Cache | None = None
) -> dict[Version, frozenset[str]]:
    """For each line, the commits it gained after its last point release:
    one rev-list per line, cached by the tip and the release (a warm report
    asks git nothing here)."""
    found: dict[Version, frozenset[str]] = {}
    for line in lines:
        release = line.last_release
        if release is None:
            continue
        key = [line.commit, release.commit]
        stored = cache.get("went-in", key) if cache is not None else None
        if not (isinstance(stored, list) and all(isinstance(c, str) for c in stored)):
            stored = git.out(["rev-list", line.commit, f"^{release.commit}", "--"]).split()
            if cache is not None:
                cache.put("went-in", key, stored)
        found[line.version] = frozenset(stored)
    return found


def coordinator(git: Git) -> Address:
    """The sender of --mail: the identity git would commit as (user.name and
    user.email, or GIT_COMMITTER_* in the environment); read, never set."""
    proc = git.run(["var", "GIT_COMMITTER_IDENT"], check=False)
    ident = proc.stdout.decode("utf-8", "replace").strip()
    if proc.returncode != 0 or ">" not in ident:
        raise ConfigError("--mail needs your address for From:", "set it with git config user.email YOU@EXAMPLE.ORG")
    return person(ident[: ident.rindex(">") + 1])


def _copies(session: Session) -> tuple[Address, ...]:
    """mail.cc's addresses, for Cc:."""
    try:
        return tuple(person(a) for a in session.config["mail.cc"])
    except ConfigError as err:
        where = session.config.source("mail.cc")
        raise ConfigError(f"{where}: {err.message}", "correct the mail.cc setting") from None


def writable_directory(directory: str) -> None:
    """Make --mail's directory (it is asked for) and prove it takes a file,
    so a wrong one fails before the report is printed, not after."""
    import tempfile

    if os.path.exists(directory) and not os.path.isdir(directory):
        raise UsageError(f"--mail {directory} is not a directory", "give a new or existing directory")
    try:
        os.makedirs(directory, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".backport-", dir=directory)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise UsageError(f"cannot write to --mail {directory}: {err.strerror}", "choose another directory") from None


def write_mail(report: Report, directory: str, sender: Address, now: datetime, cc: tuple[Address, ...] = ()) -> None:
    from backport.report.mail import messages

    mails, unreachable = messages(report, sender=sender, now=now, cc=cc)
    try:
        for mail in mails:
            write_atomically(os.path.join(directory, f"{mail.slug}.eml"), mail.message.as_bytes())
    except OSError as err:
        raise UsageError(f"cannot write to --mail {directory}: {err.strerror}", "choose another directory") from None
    for owner in unreachable:
        click.echo(f"backport: no mail for {owner!r}: no usable address", err=True)
    click.echo(f"backport: wrote {len(mails)} message{'' if len(mails) == 1 else 's'} to {directory}", err=True)


def _colour(output: str | None) -> bool:
    """Colour for a person at a terminal; never in files or pipes."""
    return (output is None or output == "-") and is_terminal() and not os.environ.get("NO_COLOR")


class Progress:
    """One status line on stderr, rewritten in place; silent unless stderr is a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.shown = False

    def __call__(self, message: str) -> None:
        if self.enabled:
            # \r and erase-line redraw the one status line in place
            sys.stderr.write(f"\r\x1b[K{message}…")
            sys.stderr.flush()
            self.shown = True

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self.shown = False
