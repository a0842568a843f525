"""Layered configuration and `backport config`."""

from __future__ import annotations

import json
from pathlib import Path

from builder import RepoBuilder

from backport.session import Session


def setup(tmp_path: Path, toml: str | None = None) -> RepoBuilder:
    repo = RepoBuilder(tmp_path, branch="main")
    files = {".backport.toml": toml} if toml is not None else {}
    repo.commit("base", files)
    repo.branch("stable-2.0")
    return repo


def test_layers_and_sources(tmp_path: Path) -> None:
    repo = setup(tmp_path, 'stale-after = 45\nkeys = ["Stable-to"]\n[hook]\nstrict = true\n')
    session = Session.open(str(tmp_path))
    assert session.config["stale-after"] == 45
    assert session.config.source("stale-after") == ".backport.toml (main)"
    assert session.config["keys"] == ("Stable-to",)
    assert session.config["hook.strict"] is True
    repo.git("config", "backport.staleAfter", "10")
    session = Session.open(str(tmp_path))
    assert session.config["stale-after"] == 10
    assert session.config.source("stale-after") == "git config backport.staleAfter"
    assert session.config.source("unstable") == "detected"
    assert Session.open(str(tmp_path), unstable="main").config.source("unstable") == "--unstable"


def test_toml_is_read_from_the_unstable_ref_so_bare_clones_work(tmp_path: Path) -> None:
    setup(tmp_path / "src", "stale-after = 7\n")
    bare = tmp_path / "bare.git"
    RepoBuilder(tmp_path / "scratch").git("clone", "-q", "--bare", str(tmp_path / "src"), str(bare))
    session = Session.open(str(bare))
    assert session.repo.bare
    assert session.config["stale-after"] == 7
    assert [str(line.version) for line in session.lines] == ["2.0"]


def test_toml_naming_another_unstable_branch_reads_that_branch(tmp_path: Path, run) -> None:
    """A .backport.toml found on the first usual name (main) that names
    another branch: the run reads that branch's history, not main's."""
    repo = setup(tmp_path, 'unstable = "develop"\n')
    repo.git("branch", "develop")
    repo.git("checkout", "-q", "develop")
    only_there = repo.commit("fix a leak\n\nBackport-to: 2.0", {"a.c": "x\n"})
    repo.git("checkout", "-q", "main")
    session = Session.open(str(tmp_path))
    assert (session.unstable.ref, session.unstable.commit) == ("develop", only_there)
    document = json.loads(run("check", "--format", "json", repo=tmp_path).out)
    assert document["unstable"] == {"ref": "develop", "commit": only_there}
    assert [c["commit"] for c in document["candidates"]] == [only_there]


def test_config_command_text_and_json(tmp_path: Path, run) -> None:
    setup(tmp_path, "stale-after = 45\n")
    text = run("config", repo=tmp_path)
    assert text.code == 0, text
    assert "stale-after" in text.out and ".backport.toml (main)" in text.out
    assert "2.0" in text.out and "stable-2.0" in text.out
    document = json.loads(run("config", "--format", "json", repo=tmp_path).out)
    assert document["settings"]["stale-after"] == {"value": 45, "source": ".backport.toml (main)"}
    assert document["lines"][0]["ref"] == "stable-2.0"


def test_git_config_takes_the_dashed_spelling_too(tmp_path: Path) -> None:
    repo = setup(tmp_path)
    repo.git("config", "backport.stale-after", "5")
    repo.git("config", "backport.hook.fix-patterns", "oops")
    session = Session.open(str(tmp_path))
    assert session.config["stale-after"] == 5
    assert session.config.source("stale-after") == "git config backport.stale-after"
    assert session.config["hook.fix-patterns"] == ("oops",)
    repo.git("config", "--unset", "backport.stale-after")
    repo.git("config", "backport.staleAfter", "6")
    assert Session.open(str(tmp_path)).config.source("stale-after") == "git config backport.staleAfter"


def test_malformed_toml_names_the_line(tmp_path: Path, run) -> None:
    setup(tmp_path, "stale-after = 45\nkeys = = 1\n")
    result = run("config", repo=tmp_path)
    assert result.code == 2
    assert ".backport.toml (main)" in result.err and "at line 2" in result.err
    assert result.err.count("\n") == 1


def test_unknown_key_and_bad_value(tmp_path: Path, run) -> None:
    setup(tmp_path, "stale_after = 45\n")
    result = run("config", repo=tmp_path)
    assert result.code == 2 and "unknown key 'stale_after'" in result.err
    repo = setup(tmp_path / "two")
    repo.git("config", "backport.staleAfter", "soon")
    result = run("scan", repo=tmp_path / "two")
    assert result.code == 2
    assert "git config backport.staleAfter: expected a whole number of days (got 'soon')" in result.err
