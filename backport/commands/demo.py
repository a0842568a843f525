"""`backport demo`: build the bundled Xen-shaped repository and run there."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from types import ModuleType

import click

from backport.errors import UsageError

# The coordinator's job. The demo's history is dated: the repository carries
# its own "now" (git config backport.now), so ages and staleness stay what
# they were, whenever and wherever the demo (or a kept copy) is run.
DEFAULT_COMMAND = ["report"]


def run(keep: str | None, command: list[str], run_here: Callable[[list[str]], int]) -> int:
    xen_demo = _demo_builder()
    if keep and os.path.exists(keep) and os.listdir(keep):
        raise UsageError(f"{keep} is not empty", "give --keep a new or empty directory")
    path = keep or tempfile.mkdtemp(prefix="backport-demo-")
    try:
        xen_demo.build(path)
        where = path if keep else "a temporary directory"
        said = f"# demo: a Xen-shaped repository in {where}; its now is {xen_demo.NOW} (git config backport.now)"
        click.echo(said, err=True)
        return run_here(["--repo", path, *(command or DEFAULT_COMMAND)])
    finally:
        if not keep:
            shutil.rmtree(path, ignore_errors=True)


def _demo_builder() -> ModuleType:
    """The builder ships as backport.fixtures; in a source checkout run without
    installing, it is the top-level fixtures/ directory."""
    try:
        from backport.fixtures import xen_demo

        builder: ModuleType = xen_demo
    except ImportError:
        import importlib.util

        source = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "fixtures", "xen_demo.py")
        spec = importlib.util.spec_from_file_location("backport_demo_fixture", source)
        if spec is None or spec.loader is None or not os.path.exists(source):
            raise UsageError("the demo repository builder is missing", "reinstall backport") from None
        loaded = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(loaded)
        return loaded
    return builder
