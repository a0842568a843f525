"""A small, fast builder of real git repositories for tests.

Every repository is isolated from the user's git configuration and gets fixed,
increasing dates, so ids are stable within a test and nothing depends on the
machine.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

ISOLATED_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "Ada Author",
    "GIT_AUTHOR_EMAIL": "ada@example.org",
    "GIT_COMMITTER_NAME": "Carl Committer",
    "GIT_COMMITTER_EMAIL": "carl@example.org",
    "GIT_TERMINAL_PROMPT": "0",
}
EPOCH = 1_700_000_000  # 2023-11-14; each commit is one hour after the previous


class RepoBuilder:
    def __init__(self, path: Path, branch: str = "master") -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.clock = EPOCH
        self.git("init", "-q", "-b", branch)
        self.git("config", "commit.gpgsign", "false")
        self.git("config", "user.name", "Carl Committer")
        self.git("config", "user.email", "carl@example.org")

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, **ISOLATED_ENV, **extra}

    def git(self, *args: str, input: str | None = None, env: Mapping[str, str] | None = None) -> str:
        proc = subprocess.run(
            ["git", *args],
            cwd=self.path,
            env={**self.env(), **(env or {})},
            input=input,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
        return proc.stdout.strip()

    def tick(self) -> str:
        self.clock += 3600
        return f"@{self.clock} +0000"

    def dated(self, **extra: str) -> dict[str, str]:
        """The environment of a commit made by a raw git command (merge,
        revert, commit -F), dated by the builder's clock like every other:
        with the machine's date it would make the lines look years idle."""
        date = self.tick()
        return {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date, **extra}

    def write(self, files: Mapping[str, str | bytes | None]) -> None:
        for name, content in files.items():
            target = self.path / name
            if content is None:
                if target.exists():
                    target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content)

    def commit(
        self,
        message: str,
        files: Mapping[str, str | bytes | None] | None = None,
        *,
        author: str | None = None,
        when: int | None = None,
    ) -> str:
        """Write `files` (None deletes), commit everything, return the id."""
        self.write(files or {})
        self.git("add", "-A")
        date = f"@{when} +0000" if when is not None else self.tick()
        env = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
        if author:
            name, _, mail = author.partition(" <")
            env.update(GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=mail.rstrip(">"))
        self.git("commit", "-q", "--allow-empty", "-m", message, env=env)
        return self.head()

    def head(self, rev: str = "HEAD") -> str:
        return self.git("rev-parse", rev)

    def checkout(self, branch: str, *, new: bool = False, at: str | None = None) -> None:
        if new:
            self.git("checkout", "-q", "-b", branch, *([at] if at else []))
        else:
            self.git("checkout", "-q", branch)

    def branch(self, name: str, at: str = "HEAD") -> None:
        self.git("branch", "-f", name, at)

    def tag(self, name: str, at: str = "HEAD", *, annotated: bool = True) -> None:
        date = self.tick()
        if annotated:
            self.git("tag", "-a", "-m", name, name, at, env={"GIT_COMMITTER_DATE": date})
        else:
            self.git("tag", name, at)

    def note(self, commit: str, text: str, ref: str = "refs/notes/backport") -> None:
        self.git("notes", f"--ref={ref}", "append", "-m", text, commit, env={"GIT_COMMITTER_DATE": self.tick()})

    def cherry_pick(self, commit: str, *, x: bool = True) -> str:
        date = self.tick()
        args = ["cherry-pick", *(["-x"] if x else []), commit]
        self.git(*args, env={"GIT_COMMITTER_DATE": date})
        return self.head()


def xen_like(tmp: Path) -> tuple[RepoBuilder, dict[str, str]]:
    """staging with stable-4.19 and stable-4.20 forked from it, and a release each."""
    repo = RepoBuilder(tmp, branch="staging")
    ids = {"base": repo.commit("base", {"xen/common/a.c": "a\n" * 10, "MAINTAINERS": ""})}
    ids["pre19"] = repo.commit("pre 4.19 work", {"xen/common/b.c": "b\n"})
    repo.branch("stable-4.19")
    ids["pre20"] = repo.commit("pre 4.20 work", {"xen/common/c.c": "c\n"})
    repo.branch("stable-4.20")
    repo.tag("RELEASE-4.19.0", "stable-4.19")
    repo.tag("RELEASE-4.20.0", "stable-4.20")
    return repo, ids
