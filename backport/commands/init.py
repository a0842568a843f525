"""`backport init`: propose (or write) a .backport.toml from what the history shows."""

from __future__ import annotations

import os
from datetime import datetime, timezone

import click

from backport.commands import Globals, pass_globals
from backport.config import TOML_FILE
from backport.errors import UsageError
from backport.output import emit, write_atomically
from backport.survey import proposal, survey


@click.command("init")
@click.option("--write", is_flag=True, help=f"Write the proposal to {TOML_FILE} at the top of the work tree.")
@click.option("--force", is_flag=True, help=f"With --write, replace an existing {TOML_FILE}.")
@pass_globals
def cli_command(g: Globals, write: bool, force: bool) -> int:
    """Read the history and propose settings: the preset, with the counts behind it."""
    session = g.session()
    session.require_history()
    found = survey(session.git, session.unstable.ref)
    text = proposal(found, datetime.now(timezone.utc))
    if not write:
        emit(text, None)
        return 0
    top = session.repo.work_tree
    if top is None:
        raise UsageError(
            "this repository has no work tree to write .backport.toml into",
            f"copy the proposal (backport init) into {TOML_FILE} on {session.unstable.ref} in a clone with one",
        )
    path = os.path.join(top, TOML_FILE)
    if os.path.exists(path) and not force:
        raise UsageError(f"{path} exists", "compare it with `backport init`, or replace it with --write --force")
    write_atomically(path, text.encode("utf-8"))
    click.echo(f"wrote {path}" + (f" (preset {found.preset})" if found.preset else ""))
    click.echo(
        f"backport reads it from {session.unstable.ref}: commit it there"
        + (f" (for this clone only, now: git config backport.preset {found.preset})" if found.preset else "")
    )
    return 0
