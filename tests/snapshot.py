"""Everything a user could see change in a repository, to assert that we changed nothing.

`snapshot(path)` before and after running backport must compare equal. It
records refs (notes included), HEAD, the status, the index, reflogs, config,
the stash, the worktree list, the object store (count, loose objects, packs),
every other file in the git directory and every file of the work tree. Our
own cache directory is the one thing left out: writing it is allowed.

`snapshot(path, objects=False)` leaves the object store out: what a command
that writes commits (pick, then --abort) may leave behind is unreachable
objects, as git's own cherry-pick --abort does; everything a user sees must
still compare equal.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path
from typing import Any

CACHE_DIR = "backport-cache"


def _git(path: Path, *args: str) -> str:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    # paths and ref names are bytes to git: keep the ones that are not UTF-8
    proc = subprocess.run(["git", *args], cwd=path, env=env, capture_output=True, text=True, errors="surrogateescape")
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout


def _digest(path: Path) -> str:
    if path.is_symlink():
        return "link:" + os.readlink(path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(root: Path, skip: set[str]) -> dict[str, str]:
    """Relative path -> content hash (and executable bit) of every file under root."""
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if os.path.relpath(os.path.join(folder, d), root) not in skip)
        for name in files:
            full = Path(folder, name)
            rel = str(full.relative_to(root))
            if rel in skip:
                continue
            mode = "x" if os.access(full, os.X_OK) and not full.is_symlink() else "-"
            found[rel] = f"{mode} {_digest(full)}"
    return found


def snapshot(path: str | os.PathLike[str], *, objects: bool = True) -> dict[str, Any]:
    """The user-visible state of the repository at `path` (work tree or bare)."""
    path = Path(path)
    git_dir = Path(_git(path, "rev-parse", "--absolute-git-dir").strip())
    common = Path(path, _git(path, "rev-parse", "--git-common-dir").strip()).resolve()
    bare = _git(path, "rev-parse", "--is-bare-repository").strip() == "true"
    store = common / "objects"
    state: dict[str, Any] = {
        # file contents first: the git commands below must not be what changes them
        "git_dir_files": _files(common, {CACHE_DIR} if objects else {CACHE_DIR, "objects"}),
        "refs": _git(path, "for-each-ref", "--format=%(refname) %(objectname) %(symref)"),
        "head": (git_dir / "HEAD").read_text(),
        "head_commit": _git(path, "rev-parse", "--verify", "--quiet", "HEAD^{commit}").strip()
        if (git_dir / "HEAD").exists() and _has_commits(path)
        else None,
        "index": _digest(git_dir / "index") if (git_dir / "index").exists() else None,
        "reflogs": _files(common / "logs", set()) if (common / "logs").exists() else {},
        "config": (common / "config").read_bytes(),
        "count_objects": _git(path, "count-objects", "-v"),
        "loose_objects": sorted(
            f"{d.name}/{f.name}" for d in store.iterdir() if len(d.name) == 2 and d.is_dir() for f in d.iterdir()
        ),
        "packs": sorted(p.name for p in (store / "pack").iterdir()) if (store / "pack").exists() else [],
        "worktrees": _git(path, "worktree", "list", "--porcelain"),
    }
    if not objects:
        for key in ("count_objects", "loose_objects", "packs"):
            del state[key]
    if not bare:
        top = Path(_git(path, "rev-parse", "--show-toplevel").strip())
        state["work_tree_files"] = _files(top, {".git"})
        state["status"] = _git(path, "status", "--porcelain=v2", "--branch", "--untracked-files=all")
        state["stash"] = _git(path, "stash", "list", "--format=%H %gd %gs")
    return state


def _has_commits(path: Path) -> bool:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    proc = subprocess.run(["git", "rev-parse", "--verify", "--quiet", "HEAD"], cwd=path, env=env, capture_output=True)
    return proc.returncode == 0
