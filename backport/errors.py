"""Typed errors. Logic raises these; only the CLI prints them and picks the exit code."""

from __future__ import annotations


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
