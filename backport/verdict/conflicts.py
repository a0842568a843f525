"""What a conflict looks like, for the people who resolve it: the
conflicting hunks of a simulated pick, and a command that replays the pick
in a throwaway worktree."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

from backport.errors import git_failure
from backport.escape import printable
from backport.verdict.merge import Commit, Scratch


def conflict_hunks(scratch: Scratch, commit: Commit, tip: Commit, onto_name: str) -> str:
    """The conflicting hunks of picking `commit` onto `tip`, as unified diff text.

    Only hunks that carry conflict markers are kept; a conflict without
    markers (binary, modify/delete, rename) is named by git's own message.
    """
    onto = scratch.onto(commit, tip.tree)
    args = ["merge-tree", "--write-tree", "--name-only", "-z"]
    git = scratch.objects()
    proc = git.run([*args, *scratch.merge_args(commit, onto)], check=False)
    if proc.returncode not in (0, 1):
        raise git_failure(args, proc.returncode, proc.stderr.decode("utf-8", "replace"))
    if proc.returncode == 0:
        return ""
    head, _, messages = proc.stdout.partition(b"\0\0")
    tree, *paths = head.decode("utf-8", "surrogateescape").split("\0")
    conflicted = sorted(set(p for p in paths if p))
    literal = git.with_env({"GIT_LITERAL_PATHSPECS": "1"})  # a path is a path, never a glob
    diff = literal.run(
        # names as written (no octal escapes): this text is for people
        ["-c", "core.quotePath=false", "diff-tree", "-p", "--no-color", "--no-ext-diff", "--no-renames"]
        + [tip.tree, tree, "--", *conflicted]
    ).stdout.decode("utf-8", "replace")
    labels = {onto: f"{onto_name[:12]} (line)", commit.id: f"{commit.id[:12]} (picked)"}
    out = [_relabel(hunk, labels) for hunk in _marker_hunks(diff)]
    notes = _conflict_messages(messages)
    return printable("".join(out) + "".join(f"# {note}\n" for note in notes))


def reproduce_command(commit: str, line_ref: str, *, merge: bool = False) -> str:
    """A paste-ready command that replays the pick in a throwaway worktree, never the user's checkout."""
    pick = "cherry-pick -x -m 1" if merge else "cherry-pick -x"
    return (
        f'd=$(mktemp -d) && git worktree add -q --detach "$d" {shlex.quote(line_ref)} '
        f'&& git -C "$d" {pick} {shlex.quote(commit)}; '
        f'echo "look in $d; then: git worktree remove --force $d"'
    )


def _conflict_messages(data: bytes) -> list[str]:
    """git's CONFLICT messages from `merge-tree -z`: records of a path count, the paths, a type, a message."""
    fields = data.decode("utf-8", "replace").split("\0")
    notes: list[str] = []
    i = 0
    while i < len(fields) and fields[i].isdigit():
        i += 1 + int(fields[i])
        if i + 1 >= len(fields):
            break
        kind, message = fields[i], fields[i + 1]
        i += 2
        if kind.startswith("CONFLICT"):
            notes.extend(line for line in message.splitlines() if line)
    return notes


def _marker_hunks(diff: str) -> Iterator[str]:
    """The file headers and hunks of a patch, keeping only hunks with conflict markers."""
    from unidiff import PatchSet  # only conflict detail needs it

    for patched in PatchSet(diff):
        hunks = [h for h in patched if any(line.value.startswith("<<<<<<<") for line in h if line.is_added)]
        if hunks:
            yield f"{patched.patch_info}--- {patched.source_file}\n+++ {patched.target_file}\n"
            yield from (str(h) for h in hunks)


def _relabel(text: str, labels: dict[str, str]) -> str:
    """Name the sides of conflict markers after the line and the commit, not our synthetic ids."""
    for oid, label in labels.items():
        text = text.replace(oid, label)
    return text
