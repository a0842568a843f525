"""Typed errors. Logic raises these; only the CLI prints them and picks the exit code."""

from __future__ import annotations

import re


class BackportError(Exception):
    """Something the user can fix. `str(err)` is one line that says how."""

    exit_code = 3

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}; {self.hint}"
        return self.message


class UsageError(BackportError):
    """Bad arguments on the command line."""

    exit_code = 2


class ConfigError(BackportError):
    """Bad configuration (.backport.toml, git config) or an unknown stable line."""

    exit_code = 2


class RepoError(BackportError):
    """The repository is missing, unusable, or lacks a ref we need."""

    exit_code = 3


class GitError(BackportError):
    """A git command failed. Carries the command, return code and stderr."""

    exit_code = 3

    def __init__(self, args: list[str], returncode: int, stderr: str) -> None:
        last = stderr.strip().splitlines()[-1] if stderr.strip() else "no message"
        super().__init__(f"git {' '.join(args[:3])} failed ({returncode}): {last}")
        self.args_ = args
        self.returncode = returncode
        self.stderr = stderr


# What git says when an object it needs is not in the repository, or cannot
# be read: a partial clone (`--filter`) whose promisor cannot be reached, a
# damaged pack, a corrupt loose object.
_MISSING = re.compile(
    r"unable to read (?:blob object |tree |sha1 file of )?'?(?P<a>[0-9a-f]{40,64})"
    r"|missing (?:blob|tree|commit) object '?(?P<b>[0-9a-f]{40,64})"
    r"|could not fetch (?P<c>[0-9a-f]{40,64}) from promisor remote"
    r"|bad object (?P<d>[0-9a-f]{40,64})"
    r"|loose object (?P<e>[0-9a-f]{40,64}) .*is corrupt"
    r"|unable to unpack (?P<f>[0-9a-f]{40,64})"
)
MISSING_HINT = "fetch it (git fetch, or git fetch --refetch for a damaged pack), or clone without --filter"


class MissingObject(GitError):
    """A git command failed because an object it needed is not here. Costs
    only the verdicts that need the object; `object_id` names it."""

    def __init__(self, args: list[str], returncode: int, stderr: str, object_id: str) -> None:
        super().__init__(args, returncode, stderr)
        self.object_id = object_id
        self.message = f"object {object_id} is missing (git {' '.join(args[:2])})"
        self.hint = MISSING_HINT


def missing_text(object_id: str) -> str:
    """What a verdict says when an object it needs is missing, and the fix."""
    return f"object {object_id} is missing (a partial clone or a damaged pack); {MISSING_HINT}"


def git_failure(args: list[str], returncode: int, stderr: str) -> GitError:
    """The error for a failed git command: MissingObject when git says an
    object is missing, GitError otherwise."""
    found = _MISSING.search(stderr)
    if found:
        object_id = next(group for group in found.groups() if group)
        return MissingObject(args, returncode, stderr, object_id)
    return GitError(args, returncode, stderr)
