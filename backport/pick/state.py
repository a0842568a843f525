"""A pick run's state, kept in the git directory.

`<git common dir>/backport-pick/<version>/state.json` says what the run is
doing: which commits, in which phase, what the user left out, and what to
put back on `--abort`. Which commits are picked already is not kept here:
the branch says (each pick names its original), and git's own sequencer
state says where a cherry-pick stopped. The file is rewritten (through a
temporary file, fsynced, then renamed) before every step that moves the
branch, so whatever stops the run (Ctrl-C, a kill, a power cut) leaves a
state that `--continue` and `--abort` understand. The private worktree lives
beside it, in `backport-<version>/`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

from backport.errors import RepoError, UsageError
from backport.models import Version
from backport.pick.plan import PlanItem
from backport.record import record

SCHEMA = 1
DIRECTORY = "backport-pick"
STATE_FILE = "state.json"

PICKED, EMPTY, SKIPPED = "picked", "empty", "skipped"


@record
class Done:
    """What became of one commit of the plan."""

    commit: str
    outcome: str  # PICKED | EMPTY | SKIPPED
    picked_as: str | None = None  # the line commit, when picked


@record
class State:
    version: str
    line_ref: str
    line_commit: str
    branch: str  # full ref name the picks go on
    branch_created: bool  # the run made it: --abort deletes it
    branch_before: str | None  # where it was when the run began (None: it did not exist)
    start: str  # the commit the first pick went onto
    worktree: str  # where git runs: the private worktree, or the user's with --onto-current
    onto_current: bool
    reference: str
    signoff: str | None  # "Name <mail>" to sign off as, or None
    push: str  # the command that publishes the branch
    format_patch: str | None  # directory for the series, written when the run ends
    items: tuple[PlanItem, ...]
    phase: str = "starting"  # starting | picking | conflict | rewriting
    left_out: tuple[Done, ...] = ()  # skipped with --skip, or resolved to nothing
    sequenced: str = ""  # rewriting: the branch's tip as git's cherry-pick left it
    rewritten: str = ""  # rewriting: the tip with every message in the line's style
    done: tuple[Done, ...] = ()  # rewriting: what became of each item, plan order

    @property
    def short_branch(self) -> str:
        return self.branch.removeprefix("refs/heads/")


def directory(common_dir: str, version: Version | str) -> str:
    return os.path.join(common_dir, DIRECTORY, str(version))


def path(common_dir: str, version: Version | str) -> str:
    return os.path.join(directory(common_dir, version), STATE_FILE)


def worktree_path(common_dir: str, version: Version | str) -> str:
    # named after the line: `git worktree list` then says which run it is
    return os.path.join(directory(common_dir, version), f"backport-{version}")


def create(common_dir: str, state: State) -> None:
    """Write the first state of a run; a run already under way for the line is an error."""
    folder = directory(common_dir, state.version)
    os.makedirs(folder, exist_ok=True)
    try:
        fd = os.open(path(common_dir, state.version), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise in_progress(state.version) from None
    os.close(fd)
    save(common_dir, state)


def save(common_dir: str, state: State) -> None:
    target = path(common_dir, state.version)
    tmp = target + ".tmp"
    data = json.dumps(_to_json(state), indent=1, ensure_ascii=False).encode("utf-8", "surrogateescape")
    with open(tmp, "wb") as handle:
        handle.write(data + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, target)
    _sync_directory(os.path.dirname(target))


def _sync_directory(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # not every filesystem syncs a directory; the rename still stands
    finally:
        os.close(fd)


def remove(common_dir: str, version: str) -> None:
    """Forget the run: its state file and its (by then empty) directories."""
    folder = directory(common_dir, version)
    for name in (STATE_FILE, STATE_FILE + ".tmp"):
        try:
            os.unlink(os.path.join(folder, name))
        except FileNotFoundError:
            pass
    for empty in (folder, os.path.dirname(folder)):
        try:
            os.rmdir(empty)
        except OSError:
            break  # not empty: another line's run, or a worktree git still holds


def load(common_dir: str, version: str) -> State:
    try:
        with open(path(common_dir, version), "rb") as handle:
            data = json.loads(handle.read().decode("utf-8", "surrogateescape"))
        return _from_json(data)
    except FileNotFoundError:
        raise UsageError(
            f"no backport pick in progress for {version}", "start one with backport pick --line VERSION"
        ) from None
    except (ValueError, KeyError, TypeError) as err:
        raise RepoError(
            f"unreadable pick state {path(common_dir, version)}: {err}",
            "remove that directory by hand (and git worktree prune), then start again",
        ) from None


def in_progress_versions(common_dir: str) -> list[str]:
    """Lines with a run under way, by their state files."""
    root = os.path.join(common_dir, DIRECTORY)
    return sorted(v for v in _listdir(root) if os.path.exists(os.path.join(root, v, STATE_FILE)))


def _listdir(folder: str) -> Iterator[str]:
    try:
        yield from os.listdir(folder)
    except OSError:
        return


def in_progress(version: str) -> UsageError:
    return UsageError(
        f"a backport pick is already under way for {version}",
        "finish it with backport pick --continue, --skip or --abort (--status shows where it is)",
    )


def _to_json(state: State) -> dict[str, Any]:
    data: dict[str, Any] = {"schema": SCHEMA, **state._asdict()}  # type: ignore[attr-defined]
    data["items"] = [item._asdict() for item in state.items]  # type: ignore[attr-defined]
    data["done"] = [done._asdict() for done in state.done]  # type: ignore[attr-defined]
    data["left_out"] = [done._asdict() for done in state.left_out]  # type: ignore[attr-defined]
    return data


def _from_json(data: dict[str, Any]) -> State:
    if data.get("schema") != SCHEMA:
        raise ValueError(f"schema {data.get('schema')!r}, this backport writes {SCHEMA}")
    fields = {k: v for k, v in data.items() if k != "schema"}
    fields["items"] = tuple(_item(i) for i in fields["items"])
    fields["done"] = tuple(Done(**d) for d in fields["done"])
    fields["left_out"] = tuple(Done(**d) for d in fields["left_out"])
    return State(**fields)


def _item(data: dict[str, Any]) -> PlanItem:
    data = dict(data)
    data["after"] = tuple(data["after"])
    data["needed_by"] = tuple(data["needed_by"])
    return PlanItem(**data)
