"""The content-keyed cache under <git common dir>/backport-cache/v1/."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from builder import RepoBuilder

from backport import cache as cache_module
from backport.cache import Cache
from backport.git import Git, Repository, open_repository
from backport.verdict.simulate import Simulator


@pytest.fixture
def repo(make_repo: Callable[..., RepoBuilder]) -> Repository:
    builder = make_repo()
    builder.commit("base", {"a.c": "a\n"})
    return open_repository(str(builder.path))


def entry_path(cache: Cache, namespace: str, key: object) -> Path:
    return Path(cache._path(namespace, key))


def test_warm_hit_returns_what_was_put(repo: Repository) -> None:
    cache = Cache.open(repo)
    assert cache.enabled
    key = ["engine", "commit", "tree"]
    assert cache.get("pick", key) is None
    cache.put("pick", key, {"clean": True, "conflicts": ["a.c"]})
    again = Cache.open(repo)
    assert again.get("pick", key) == {"clean": True, "conflicts": ["a.c"]}
    assert again.get("pick", ["engine", "commit", "other tree"]) is None
    assert again.get("line", key) is None  # namespaces are apart
    assert entry_path(cache, "pick", key).is_relative_to(Path(repo.common_dir) / "backport-cache" / "v1")


def test_corrupted_entry_is_ignored_and_rebuilt(repo: Repository) -> None:
    cache = Cache.open(repo)
    cache.put("pick", "k", [1, 2, 3])
    path = entry_path(cache, "pick", "k")
    for garbage in (b"", b"{\"format\": 1, \"val", b"\xff\xfe", b"[]", b"{\"format\": 1}"):
        path.write_bytes(garbage)
        assert cache.get("pick", "k") is None
    cache.put("pick", "k", [4])
    assert cache.get("pick", "k") == [4]


def test_entry_of_another_format_is_ignored(repo: Repository, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = Cache.open(repo)
    cache.put("pick", "k", "old layout")
    monkeypatch.setattr(cache_module, "FORMAT", cache_module.FORMAT + 1)
    assert cache.get("pick", "k") is None
    cache.put("pick", "k", "new layout")
    assert json.loads(entry_path(cache, "pick", "k").read_text())["format"] == cache_module.FORMAT
    assert cache.get("pick", "k") == "new layout"


def test_disabled_cache_misses_and_writes_nothing(repo: Repository) -> None:
    cache = Cache.disabled()
    cache.put("pick", "k", 1)
    assert cache.get("pick", "k") is None
    assert not (Path(repo.common_dir) / "backport-cache").exists()


def test_bad_namespace_is_refused(repo: Repository) -> None:
    with pytest.raises(ValueError):
        Cache.open(repo).put("../escape", "k", 1)


@pytest.fixture(params=["read-only git dir", "file in the way"])
def read_only(repo: Repository, request: pytest.FixtureRequest) -> Iterator[Repository]:
    """A repository where the cache directory cannot be created."""
    common = Path(repo.common_dir)
    if request.param == "file in the way":
        # works even for root, who ignores permissions
        (common / "backport-cache").write_text("in the way")
        yield repo
        return
    if os.geteuid() == 0:
        pytest.skip("root ignores permissions")
    mode = common.stat().st_mode
    common.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        yield repo
    finally:
        common.chmod(mode)


def test_read_only_git_dir_runs_without_the_cache(read_only: Repository) -> None:
    cache = Cache.open(read_only)
    assert not cache.enabled
    cache.put("pick", "k", 1)
    assert cache.get("pick", "k") is None
    # and the simulator still works there
    with Simulator(Git(read_only.path), read_only, cache=True) as sim:
        assert sim.pick("HEAD", "HEAD").empty
    assert not (Path(read_only.common_dir) / "backport-cache").is_dir()


def test_unwritable_cache_directory_still_reads(repo: Repository) -> None:
    if os.geteuid() == 0:
        pytest.skip("root ignores permissions")
    cache = Cache.open(repo)
    cache.put("pick", "k", 1)
    root = Path(repo.common_dir) / "backport-cache"
    folders = [Path(d) for d, _, _ in os.walk(root)]
    for folder in folders:
        folder.chmod(0o555)
    try:
        again = Cache.open(repo)
        assert again.get("pick", "k") == 1
        again.put("pick", "other", 2)  # no error, just no entry
        assert again.get("pick", "other") is None
    finally:
        for folder in folders:
            folder.chmod(0o755)


WRITER = textwrap.dedent(
    """
    import sys
    from backport.cache import Cache
    from backport.git import open_repository

    cache = Cache.open(open_repository(sys.argv[1]))
    me = sys.argv[2]
    for n in range(20):
        cache.put("went-in", n, {"writer": me, "n": n, "pad": ""})
    for n in range(20, 400):
        # both writers fight over the same keys, with values of different sizes;
        # every key exists by now, so a miss means a reader saw a half-written entry
        cache.put("went-in", n % 20, {"writer": me, "n": n, "pad": me * (n % 7) * 500})
        value = cache.get("went-in", (n * 7) % 20)
        assert value is not None and value["writer"] in ("a", "b"), value
    """
)


def test_two_processes_writing_at_once_do_not_corrupt(repo: Repository) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, repo.path, name], stderr=subprocess.PIPE)
        for name in ("a", "b")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    cache = Cache.open(repo)
    for n in range(20):
        value = cache.get("went-in", n)
        assert value is not None and value["writer"] in ("a", "b") and value["n"] % 20 == n
    leftovers = [name for _, _, files in os.walk(cache.root or "") for name in files if name.startswith(".tmp-")]
    assert leftovers == []


def test_prune_removes_oldest_entries_beyond_the_limit(repo: Repository) -> None:
    cache = Cache.open(repo)
    for n in range(40):
        cache.put("owners", n, "x" * 1000)
        os.utime(entry_path(cache, "owners", n), (1_000_000 + n, 1_000_000 + n))
    temp = Path(cache.root or "") / "owners" / ".tmp-interrupted"
    temp.write_text("half")
    os.utime(temp, (1_000_000, 1_000_000))
    removed = cache.prune(limit=20_000)
    kept = [n for n in range(40) if cache.get("owners", n) is not None]
    assert removed >= 21 and not temp.exists()
    assert kept == list(range(40 - len(kept), 40))  # the newest survive
    assert sum(entry_path(cache, "owners", n).stat().st_size for n in kept) <= 10_000


def test_open_prunes_at_most_once_a_day(repo: Repository) -> None:
    Cache.open(repo).put("owners", 1, "x" * 5000)
    stamp = Path(repo.common_dir) / "backport-cache" / "v1" / "pruned"
    assert stamp.exists()
    Cache.open(repo, limit=100)
    assert Cache.open(repo).get("owners", 1) is not None  # checked recently: left alone
    os.utime(stamp, (1_000_000, 1_000_000))
    Cache.open(repo, limit=100)
    assert Cache.open(repo).get("owners", 1) is None


def test_a_namespace_version_bump_misses_only_that_namespace(repo: Repository, monkeypatch: pytest.MonkeyPatch) -> None:
    """backport.cache.NAMESPACES is the one place versions live: bumping
    one makes its entries misses and leaves the others."""
    from backport import cache as cache_module

    cache = Cache.open(repo)
    cache.put("pick", "k", "a pick")
    cache.put("line", "k", "a plan")
    monkeypatch.setitem(cache_module.NAMESPACES, "pick", cache_module.NAMESPACES["pick"] + 1)
    assert cache.get("pick", "k") is None and cache.get("line", "k") == "a plan"
