"""`backport tag`: nominate at submission time, on HEAD or on format-patch files."""

from __future__ import annotations

import click

from backport import completion
from backport.commands import Globals, pass_globals
from backport.maintainer import tagging
from backport.models import listing


@click.command("tag")
@click.option(
    "--to",
    "targets",
    multiple=True,
    metavar="V",
    shell_complete=completion.requests,
    help="Line version: 4.20, 4.18+ or none (repeatable). Default: inferred from Fixes:.",
)
@click.option("-m", "--message", "comment", help="Comment kept with the nomination (after '#').")
@click.option("--fix", is_flag=True, help="Replace a malformed or unknown nomination already there.")
@click.argument("patches", nargs=-1, type=click.Path(exists=True, dir_okay=False), metavar="[PATCH_FILE]...")
@pass_globals
def cli_command(g: Globals, targets: tuple[str, ...], comment: str | None, fix: bool, patches: tuple[str, ...]) -> int:
    """Add a Backport-to trailer to HEAD (amending it) or to git format-patch files."""
    session = g.session()
    bare = session.config["bare-version"]
    value = tagging.Value.parse(targets, comment, session.known_versions, bare) if targets else None
    if value and value.kind == "request" and not session.known_versions:
        click.echo(f"backport: warning: no stable lines here to check {value.text!r} against", err=True)
    if patches:
        results = [tagging.tag_patch(session, path, value, comment, fix=fix) for path in patches]
    else:
        results = [tagging.tag_head(session, value, comment, fix=fix)]
    for result in results:
        if result.trailer:
            click.echo(f"{result.target}: added {result.trailer!r}" + (f" ({result.note})" if result.note else ""))
        else:
            click.echo(f"{result.target}: {result.note}")
    if any(r.trailer for r in results) and session.heads:
        click.echo(f"maintained lines: {listing(line.version for line in session.heads)}")
    return 0
