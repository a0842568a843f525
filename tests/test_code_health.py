"""Limits a reader of the code relies on, checked on the package itself.

Cyclomatic complexity is ruff's C901 (McCabe, at most 15, in CI through
pyproject.toml). This holds the other limit: no function of backport/ over
60 lines, unless a comment on its `def` line or the line above says why
(`# long: ...`).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "backport"
LIMIT = 60


def test_no_function_is_longer_than_the_limit_unless_it_says_why() -> None:
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(source))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                said = "# long:" in source[node.lineno - 1] or "# long:" in source[node.lineno - 2]
                if length > LIMIT and not said:
                    long.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name} ({length} lines)")
    assert long == []


def test_every_subpackage_is_installed() -> None:
    """A plain `pip install .` (what CI and users run) ships each package listed
    in pyproject.toml and nothing else: a subpackage missing there imports in
    an editable checkout and fails everywhere else."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    listed = set(tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    present = {
        ".".join(init.parent.relative_to(PACKAGE.parent).parts)
        for init in PACKAGE.rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert present - listed == set()
