"""Command line: parses arguments, hands plain values to `backport.commands`,
and is the only place that prints errors and picks exit codes.

Exit codes: 0 done; 1 lint or hook findings; 2 usage or configuration error;
3 git or repository error.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import signal
import sys
from collections.abc import Sequence

import click

from backport import __version__, completion
from backport.commands import Globals, pass_globals
from backport.errors import BackportError
from backport.git import REPOSITORY_ENV
from backport.record import replace

# Commands in their own module (backport.commands.<name>.cli_command), loaded
# only when run or listed.
MODULE_COMMANDS = ("check", "report", "tag", "lint", "hook", "init", "pick", "notes", "suggest")
# Commands that run another command line of their own and take no global options.
_NO_GLOBALS = ("demo",)


def global_options() -> list[click.Option]:
    """--repo, --unstable, --line and --no-pager: the options every command
    takes, before its name (as git's) or after it (as people type them)."""
    return [
        click.Option(
            ["--repo"],
            metavar="PATH",
            shell_complete=completion.directories,
            help="Repository to work on (default: the current directory).",
        ),
        click.Option(
            ["--unstable"],
            metavar="REF",
            shell_complete=completion.refs,
            help="Unstable branch (default: staging, master or main).",
        ),
        click.Option(
            ["--line", "lines"],
            multiple=True,
            metavar="VERSION[=REF]",
            shell_complete=completion.versions,
            help="Limit the run to this stable line, optionally at REF (any revision). Repeatable.",
        ),
        click.Option(
            ["--preset"],
            metavar="NAME",
            help="A project's conventions: xen, linux, qemu or mesa (default: as configured; see backport init).",
        ),
        click.Option(["--no-pager"], is_flag=True, help="Print text straight to the terminal, not through a pager."),
    ]


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        present = [n for n in MODULE_COMMANDS if importlib.util.find_spec(f"backport.commands.{n}")]
        return sorted({*super().list_commands(ctx), *present})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in MODULE_COMMANDS and importlib.util.find_spec(f"backport.commands.{name}"):
            command: click.Command | None = importlib.import_module(f"backport.commands.{name}").cli_command
        else:
            command = super().get_command(ctx, name)
        if command is not None and name not in _NO_GLOBALS:
            accept_globals(command)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as err:
            # click suggests among the commands it has loaded; ours load lazily
            raise click.exceptions.NoSuchCommand(
                click.utils.make_str(args[0]), possibilities=self.list_commands(ctx), ctx=ctx
            ) from err


def accept_globals(command: click.Command) -> None:
    """Let `command` (and a group's subcommands) take the global options
    after its name too. An option the command has of its own keeps its
    meaning there (`skip --line`, deprecated)."""
    if getattr(command, "_backport_globals", False):
        return
    taken = {opt for param in command.params for opt in getattr(param, "opts", ())}
    for option in global_options():
        if not taken & set(option.opts):
            option.expose_value = False
            option.callback = _late_global
            command.params.append(option)
    command._backport_globals = True  # type: ignore[attr-defined]
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            accept_globals(sub)


def _late_global(ctx: click.Context, param: click.Parameter, value: object) -> None:
    """A global option given after the command name: it updates the run's
    Globals for this command (a repeated --line adds to those before)."""
    if value in (None, (), False):
        return
    g = ctx.find_object(Globals) or Globals()
    if param.name == "repo":
        _forget_repository_env()
        ctx.obj = replace(g, repo=value)
    elif param.name == "lines":
        ctx.obj = replace(g, lines=(*g.lines, *value))  # type: ignore[misc]
    elif param.name == "no_pager":
        ctx.obj = replace(g, pager=False)
    else:
        ctx.obj = replace(g, **{str(param.name): value})


def _forget_repository_env() -> None:
    # --repo names the repository: an inherited GIT_DIR (say, from a hook
    # of another repository) must not silently point git elsewhere
    for name in REPOSITORY_ENV:
        os.environ.pop(name, None)


@click.group(cls=LazyGroup, params=global_options(), context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="backport")
@click.pass_context
def cli(
    ctx: click.Context,
    repo: str | None,
    unstable: str | None,
    lines: tuple[str, ...],
    preset: str | None,
    no_pager: bool,
) -> None:
    """Track stable-branch backports: nominations, verdicts, reports, hooks.

    These options go before or after the command name: `backport --line
    4.20 report` and `backport report --line 4.20` are the same.
    """
    if repo is not None:
        _forget_repository_env()
    ctx.obj = Globals(repo or ".", unstable, lines, pager=not no_pager, preset=preset)


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write to FILE instead of stdout.")
@pass_globals
def scan(g: Globals, fmt: str, output: str | None) -> int:
    """List the nominations found on the unstable branch."""
    from backport.commands import scan as command

    return command.run(g.session(), fmt, output)


@cli.command()
@click.argument("commit", shell_complete=completion.refs)
@click.option(
    "--to",
    "targets",
    multiple=True,
    required=True,
    metavar="V",
    shell_complete=completion.requests,
    help="Line version, e.g. 4.20 or 4.18+.",
)
@click.option("-m", "--message", "comment", help="Comment kept with the nomination.")
@click.option("--fix", is_flag=True, help="Replace a malformed or unknown line already in the note.")
@pass_globals
def nominate(g: Globals, commit: str, targets: tuple[str, ...], comment: str | None, fix: bool) -> int:
    """Nominate a commit already on unstable, with a note on refs/notes/backport."""
    from backport.commands import notes as command

    return command.nominate(g.session(), commit, targets, comment, fix=fix)


@cli.command()
@click.argument("commit", shell_complete=completion.refs)
@click.option(
    "--for",
    "targets",
    multiple=True,
    metavar="V",
    shell_complete=completion.versions,
    help="Line version to decline, e.g. 4.18. Repeatable.",
)
@click.option(  # SPEC's first spelling, deprecated: --line is the global option
    "--line", "old_targets", multiple=True, metavar="V", hidden=True, shell_complete=completion.versions
)
@click.option("-m", "--message", "reason", required=True, help="Why it is not backported.")
@click.option("--fix", is_flag=True, help="Replace a malformed or unknown line already in the note.")
@pass_globals
def skip(
    g: Globals, commit: str, targets: tuple[str, ...], old_targets: tuple[str, ...], reason: str, fix: bool
) -> int:
    """Decline a commit for a line, with the reason, on refs/notes/backport."""
    from backport.commands import notes as command

    if old_targets:
        click.echo(
            "backport: warning: 'skip --line V' is deprecated: say 'skip --for V' "
            "(--line is the global option that limits a run to lines)",
            err=True,
        )
    if not targets + old_targets:
        raise click.UsageError("Missing option '--for'.")
    return command.skip(g.session(), commit, targets + old_targets, reason, fix=fix)


@cli.command("config")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_globals
def config_(g: Globals, fmt: str) -> int:
    """Print the effective configuration and where each value came from."""
    from backport.commands import config as command

    return command.run(g.session(), fmt)


@cli.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("--keep", type=click.Path(file_okay=False), help="Build the demo repository here and keep it.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def demo(keep: str | None, command: tuple[str, ...]) -> int:
    """Run backport on a bundled Xen-shaped demo repository.

    Extra arguments are a backport command to run there instead of the
    default (e.g. `backport demo check --format json`).
    """
    from backport.commands import demo as demo_command

    def run_here(args: list[str]) -> int:
        code = cli.main(args=args, prog_name="backport", standalone_mode=False)
        return code if isinstance(code, int) else 0

    return demo_command.run(keep, list(command), run_here)


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM. Not KeyboardInterrupt: click answers that with a
    blank line on stderr, and a script reading our one error line would get two."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: never ends in a traceback for a user's mistake."""
    # SIGTERM ends the run like Ctrl-C: cleanup (scratch object directories,
    # git processes) runs on the way out. The handlers go back when we are
    # done: a program that calls main() keeps its own.
    # A signal someone chose to ignore (a background job's SIGINT) stays ignored.
    defaults = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}
    previous = {}
    for sig, default in defaults.items():
        if signal.getsignal(sig) is default:
            previous[sig] = signal.signal(sig, _interrupted)
    try:
        _main(argv)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _main(argv: Sequence[str] | None) -> None:
    args = list(argv) if argv is not None else sys.argv[1:]
    try:
        code = cli.main(args=args, prog_name="backport", standalone_mode=False)
    except Interrupted as interrupted:
        if interrupted.signum == signal.SIGINT and sys.stderr.isatty():
            click.echo(err=True)  # after the terminal's ^C
        _fail("interrupted", 128 + interrupted.signum)  # 130 for SIGINT, 143 for SIGTERM
    except click.exceptions.Abort:
        _fail("interrupted", 130)
    except click.ClickException as err:
        _fail(err.format_message().replace("\n", " ") + _help_hint(err, args), 2)
    except BackportError as err:
        _fail(str(err), err.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except BrokenPipeError:
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            # the reader of our output went away (| head): stop quietly, and
            # keep Python from complaining while it flushes stdout on exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        _fail("a git process ended before reading all we sent it; run again", 3)
    sys.exit(code if isinstance(code, int) else 0)


def _help_hint(err: click.ClickException, args: list[str]) -> str:
    """Where to read more: the help of the command that was misused."""
    if not isinstance(err, click.UsageError):
        return ""
    where = err.ctx.command_path if err.ctx is not None else _command_path(args)
    return f" (see '{where} --help')"


def _command_path(args: list[str]) -> str:
    """"backport hook install" of a command line: the commands it names
    (click does not say which command a missing option value belongs to)."""
    path: list[str] = ["backport"]
    group: click.Command = cli
    ctx = click.Context(cli, info_name="backport", resilient_parsing=True)
    taking_value = {opt for option in global_options() if not option.is_flag for opt in option.opts}
    words = iter(args)
    for word in words:
        if word in taking_value:
            next(words, None)
        elif not word.startswith("-"):
            command = group.get_command(ctx, word) if isinstance(group, click.Group) else None
            if command is None:
                break
            path.append(word)
            group = command
    return " ".join(path)


def _interrupted(signum: int, frame: object) -> None:
    raise Interrupted(signum)


def _fail(message: str, code: int) -> None:
    click.echo(f"backport: error: {message}", err=True)
    sys.exit(code)
