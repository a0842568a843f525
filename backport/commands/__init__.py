"""One module per command: plain values in, an exit code out.

Commands that live in their own module expose `cli_command` (a click
command); `backport.cli` loads them lazily, so `backport --help` and the
hook stay quick.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from backport.record import record
from backport.session import Session

FORMATS = ("text", "markdown", "html", "json")


@record
class Globals:
    """The options every command takes, before or after its name."""

    repo: str = "."
    unstable: str | None = None
    lines: tuple[str, ...] = ()
    pager: bool = True  # --no-pager turns it off
    preset: str | None = None

    def session(self, *, now: str | None = None) -> Session:
        """The run's session; `now` is the command's --now, if it has one."""
        session = Session.open(
            self.repo, unstable=self.unstable, line_specs=self.lines, preset=self.preset, now=now
        )
        session.paging = self.pager
        return session


pass_globals = click.make_pass_decorator(Globals)


def format_options(formats: tuple[str, ...] = FORMATS) -> Callable[[Any], Any]:
    """--format and --output, as every reporting command takes them."""

    def decorate(func: Any) -> Any:
        func = click.option(
            "--output", "-o", type=click.Path(dir_okay=False), help="Write to FILE instead of stdout."
        )(func)
        return click.option(
            "--format", "fmt", type=click.Choice(formats), default="text", show_default=True, help="Output format."
        )(func)

    return decorate


def now_option(func: Any) -> Any:
    """--now: judge ages and staleness as of this moment (reproducible
    reports). The value is the text given, or None: pass it to
    `Globals.session(now=...)`, which layers it over the `now` setting."""
    return click.option(
        "--now",
        "now",
        metavar="DATETIME",
        help="Pretend it is this ISO 8601 time (default: the `now` setting, else the current time).",
    )(func)


