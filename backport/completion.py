"""Shell completion of line versions and refs (bash, zsh and fish, through
click's completion: `eval "$(_BACKPORT_COMPLETE=bash_source backport)"`).

Commands and options complete from the command line's own definition; these
complete the values that live in the repository. They read it the cheap way
(one ref listing; line discovery for versions), never fail a shell: when the
repository cannot be read, there is nothing to offer.
"""

from __future__ import annotations

import click
from click.shell_completion import CompletionItem

from backport.errors import BackportError


def _repository(ctx: click.Context) -> str:
    """The repository the command line names so far (--repo before or after the command)."""
    from backport.commands import Globals

    found = ctx.find_object(Globals)
    if found is not None:
        return found.repo
    root = ctx.find_root()
    return str(root.params.get("repo") or ".")


def versions(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The stable lines of the repository: 4.18, 4.19, 4.20."""
    from backport.session import Session

    try:
        known = Session.open(_repository(ctx)).known_versions
    except (BackportError, OSError):
        return []
    return [CompletionItem(str(v)) for v in known if str(v).startswith(incomplete)]


def requests(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """What --to takes: a line, a line and newer (4.19+), or none."""
    lines = versions(ctx, param, "")
    offered = [*(i.value for i in lines), *(f"{i.value}+" for i in lines), "none"]
    return [CompletionItem(v) for v in offered if v.startswith(incomplete)]


def refs(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Branches, remote-tracking branches and tags, as git spells them short."""
    from backport.git import Git

    if incomplete.startswith("-"):
        return []
    try:
        rows = Git(_repository(ctx)).refs(["refs/heads", "refs/remotes", "refs/tags"], "%(refname:short)")
    except (BackportError, OSError):
        return []
    names = ["HEAD", *(row[0] for row in rows)]
    return [CompletionItem(name) for name in dict.fromkeys(names) if name.startswith(incomplete)]


def directories(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """--repo: the shell's own directory completion (a file given is said by the run, exit 3)."""
    return [CompletionItem(incomplete, type="dir")]
