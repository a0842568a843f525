"""`backport lint RANGE`: the hook's check over a series, for CI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from builder import RepoBuilder
from test_hook import lines_repo


@pytest.fixture
def series(make_repo: Callable[..., RepoBuilder]) -> tuple[RepoBuilder, dict[str, str]]:
    """A topic branch on staging with one commit of each kind."""
    repo, ids = lines_repo(make_repo)
    repo.checkout("topic", new=True)
    ids["untagged"] = repo.commit(f"Fix the mid thing\n\nFixes: {ids['mid'][:12]}\nSigned-off-by: Ada <ada@example.org>")
    ids["tagged"] = repo.commit(f"Fix the old thing\n\nFixes: {ids['old'][:12]}\nBackport-to: 4.18+")
    ids["hint"] = repo.commit("Plug a memory leak in the parser")
    ids["malformed"] = repo.commit("Tune it\n\nBackport-to: 4.19.x")
    ids["unknown"] = repo.commit("Tune it more\n\nBackport-to: 3.0")
    ids["misplaced"] = repo.commit("Tune it again\n\nBackport: 4.20\n\nMore words.\n\nSigned-off-by: Ada <ada@example.org>")
    ids["plain"] = repo.commit("Add a knob")
    return repo, ids


def test_findings_in_range_order_and_exit_code(series: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object]) -> None:
    repo, ids = series
    result = run("lint", "staging..topic", repo=repo.path)
    assert result.code == 1
    assert result.out == "\n".join(
        [
            f"{ids['untagged'][:12]}  Fix the mid thing",
            f"    warning: fixes {ids['mid'][:12]}, which is in 4.19 and 4.20: add 'Backport-to: 4.19+' or 'Backport-to: none'",
            f"{ids['hint'][:12]}  Plug a memory leak in the parser",
            "    hint: looks like a fix ('leak') but says nothing about backporting: if the bug is on stable lines "
            "(4.18, 4.19, 4.20), add 'Fixes: <commit>' or 'Backport-to: <version>'; if not, 'Backport-to: none'",
            f"{ids['malformed'][:12]}  Tune it",
            "    error: 'Backport-to: 4.19.x': malformed version '4.19.x' (expected e.g. 4.20, 4.18+ or none); "
            "known lines: 4.18, 4.19, 4.20",
            f"{ids['unknown'][:12]}  Tune it more",
            "    error: 'Backport-to: 3.0': unknown stable line 3.0 (known: 4.18, 4.19, 4.20)",
            f"{ids['misplaced'][:12]}  Tune it again",
            "    warning: 'Backport: 4.20' is outside the trailer block, where git's trailer tools do not see it: "
            "move it into the last paragraph, next to Signed-off-by",
            "",
            "7 commits checked, 5 findings in 5 commits",
            "",
        ]
    )


def test_json_lists_every_finding(series: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object]) -> None:
    repo, ids = series
    result = run("lint", "--format", "json", "staging..topic", repo=repo.path)
    assert result.code == 1
    document = json.loads(result.out)
    assert (document["schema"], document["range"], document["commits"]) == (1, ["staging..topic"], 7)
    assert [(f["commit"], f["kind"], f["severity"]) for f in document["findings"]] == [
        (ids["untagged"], "untagged-fix", "warning"),
        (ids["hint"], "fix-hint", "hint"),
        (ids["malformed"], "malformed", "error"),
        (ids["unknown"], "unknown-line", "error"),
        (ids["misplaced"], "misplaced", "warning"),
    ]
    first = document["findings"][0]
    assert first["subject"] == "Fix the mid thing"
    assert first["text"] == f"Fixes: {ids['mid'][:12]}"
    assert first["message"].startswith(f"fixes {ids['mid'][:12]}, which is in 4.19 and 4.20")


def test_clean_range_exits_zero(series: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object]) -> None:
    repo, ids = series
    result = run("lint", f"{ids['untagged']}..{ids['tagged']}", repo=repo.path)
    assert (result.code, result.out) == (0, "1 commit checked, no findings\n")


def test_hints_alone_pass_unless_strict(series: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object]) -> None:
    repo, ids = series
    only_hint = f"{ids['tagged']}..{ids['hint']}"
    assert run("lint", only_hint, repo=repo.path).code == 0
    assert run("lint", "--strict", only_hint, repo=repo.path).code == 1


def test_merges_are_skipped(series: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object]) -> None:
    repo, _ = series
    repo.checkout("staging")
    start = repo.head()
    repo.git("merge", "-q", "--no-ff", "-m", "Merge branch 'fix-crash-topic'", "topic")
    result = run("lint", "--format", "json", f"{start}..staging", repo=repo.path)
    assert json.loads(result.out)["commits"] == 7  # the topic's commits, not the merge


def test_output_file(series: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object], tmp_path: Path) -> None:
    repo, _ = series
    target = tmp_path / "lint.json"
    result = run("lint", "--format", "json", "-o", str(target), "staging..topic", repo=repo.path)
    assert result.code == 1 and result.out == ""
    assert len(json.loads(target.read_text())["findings"]) == 5


@pytest.mark.parametrize("revision", ["nosuch..topic", "-n1"])
def test_bad_range_is_a_usage_error(
    series: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object], revision: str
) -> None:
    repo, _ = series
    result = run("lint", "--", revision, repo=repo.path)
    assert result.code == 2
    assert result.err.startswith("backport: error: ") and len(result.err.splitlines()) == 1


def test_shallow_clone_is_refused(
    series: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object], tmp_path: Path
) -> None:
    repo, _ = series
    clone = tmp_path / "shallow"
    repo.git("clone", "-q", "--depth", "2", "--no-single-branch", f"file://{repo.path}", str(clone))
    result = run("lint", "HEAD~1..HEAD", repo=clone)
    assert result.code == 3 and "git fetch --unshallow" in result.err
