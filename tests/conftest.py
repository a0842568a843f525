from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from builder import ISOLATED_ENV, RepoBuilder


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tool under test must not see the developer's own git configuration."""
    for key, value in ISOLATED_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., RepoBuilder]:
    count = 0

    def make(branch: str = "master") -> RepoBuilder:
        nonlocal count
        count += 1
        return RepoBuilder(tmp_path / f"repo{count}", branch=branch)

    return make


class Result:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def __repr__(self) -> str:
        return f"Result(code={self.code}, out={self.out!r}, err={self.err!r})"


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run the real command-line entry point in-process; return code and output."""
    from backport.cli import main

    def invoke(*args: str, repo: Path | str | None = None) -> Result:
        argv = (["--repo", str(repo)] if repo is not None else []) + list(args)
        capsys.readouterr()
        try:
            main(argv)
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke
