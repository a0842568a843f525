"""The commit-msg check: what it says about a message, on real repositories."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from builder import RepoBuilder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backport.hook import nothing_to_say
from backport.maintainer.message_check import (
    FIX_HINT,
    MALFORMED,
    MISPLACED,
    UNKNOWN_LINE,
    UNTAGGED_FIX,
    run_hook,
    suggest,
)
from backport.models import Version


def lines_repo(make_repo: Callable[..., RepoBuilder]) -> tuple[RepoBuilder, dict[str, str]]:
    """staging with stable-4.18, -4.19 and -4.20 forked one after the other.

    old is on every line, mid on 4.19 and 4.20, new on 4.20 only, late on none."""
    repo = make_repo("staging")
    ids = {"old": repo.commit("old work", {"a.c": "a\n"})}
    repo.branch("stable-4.18")
    ids["mid"] = repo.commit("mid work", {"b.c": "b\n"})
    repo.branch("stable-4.19")
    ids["new"] = repo.commit("new work", {"c.c": "c\n"})
    repo.branch("stable-4.20")
    ids["late"] = repo.commit("late work", {"d.c": "d\n"})
    return repo, ids


@pytest.fixture
def repo(make_repo: Callable[..., RepoBuilder]) -> tuple[RepoBuilder, dict[str, str]]:
    return lines_repo(make_repo)


def check(repo: RepoBuilder, message: str) -> list[tuple[str, str]]:
    path = repo.path / ".git" / "COMMIT_EDITMSG"
    path.write_text(message)
    outcome = run_hook(str(path), str(repo.path))
    return [(f.kind, f.message) for f in outcome.findings]


def test_untagged_fix_names_the_lines_and_the_trailer(repo: tuple[RepoBuilder, dict[str, str]]) -> None:
    builder, ids = repo
    found = check(builder, f"Fix the thing\n\nFixes: {ids['mid'][:10]} (\"mid work\")\nSigned-off-by: A <a@b>\n")
    assert found == [
        (
            UNTAGGED_FIX,
            f"fixes {ids['mid'][:10]}, which is in 4.19 and 4.20: add 'Backport-to: 4.19+' or 'Backport-to: none'",
        )
    ]


def test_amends_counts_as_a_fix_and_every_line_is_listed(repo: tuple[RepoBuilder, dict[str, str]]) -> None:
    builder, ids = repo
    found = check(builder, f"Tweak\n\nAmends: {ids['old'][:12]}\n")
    assert found[0][0] == UNTAGGED_FIX
    assert "which is in 4.18, 4.19 and 4.20: add 'Backport-to: 4.18+'" in found[0][1]


@pytest.mark.parametrize("trailer", ["Backport-to: 4.19+", "Backport-to: none # only a cosmetic bug", "Backport: 4.20"])
def test_a_nomination_silences_the_warning(repo: tuple[RepoBuilder, dict[str, str]], trailer: str) -> None:
    builder, ids = repo
    assert check(builder, f"Fix the thing\n\nFixes: {ids['mid'][:10]}\n{trailer}\n") == []


def test_fix_of_a_commit_no_line_has_is_silent(repo: tuple[RepoBuilder, dict[str, str]]) -> None:
    builder, ids = repo
    assert check(builder, f"Fix the late thing\n\nFixes: {ids['late'][:10]}\n") == []


def test_plain_work_is_silent(repo: tuple[RepoBuilder, dict[str, str]]) -> None:
    builder, _ = repo
    assert check(builder, "Add a feature\n\nIt does things.\n\nSigned-off-by: A <a@b>\n") == []


def test_fix_like_message_gets_a_hint(repo: tuple[RepoBuilder, dict[str, str]]) -> None:
    builder, _ = repo
    found = check(builder, "x86: avoid a use-after-free in the timer code\n\nSigned-off-by: A <a@b>\n")
    assert found == [
        (
            FIX_HINT,
            "looks like a fix ('use-after-free') but says nothing about backporting: if the bug is on stable "
            "lines (4.18, 4.19, 4.20), add 'Fixes: <commit>' or 'Backport-to: <version>'; if not, "
            "'Backport-to: none'",
        )
    ]


@pytest.mark.parametrize("subject", ["Merge branch 'fixes'", "fixup! Fix a crash", "squash! Fix a leak"])
def test_generated_subjects_get_no_hint(repo: tuple[RepoBuilder, dict[str, str]], subject: str) -> None:
    builder, _ = repo
    assert check(builder, f"{subject}\n") == []


def test_fix_patterns_come_from_configuration(repo: tuple[RepoBuilder, dict[str, str]]) -> None:
    builder, _ = repo
    assert check(builder, "Plug a hole in the wall\n") == []
    builder.git("config", "backport.hook.fixPatterns", r"\bplug\b")
    assert [kind for kind, _ in check(builder, "Plug a hole in the wall\n")] == [FIX_HINT]
    assert check(builder, "Fix a crash\n") == []  # the configured patterns replace the defaults


def test_unknown_fixes_target_is_a_hint(repo: tuple[RepoBuilder, dict[str, str]]) -> None:
    builder, _ = repo
    found = check(builder, "Fix it\n\nFixes: 0123456789ab\n")
    assert found[0][0] == FIX_HINT
    assert "names no commit here" in found[0][1]


def test_malformed_version_lists_the_known_lines(repo: tuple[RepoBuilder, dict[str, str]]) -> None:
    builder, ids = repo
    found = check(builder, f"Fix it\n\nFixes: {ids['old'][:10]}\nBackport-to: 4.2O\n")
    assert found == [
        (
            MALFORMED,
            "'Backport-to: 4.2O': malformed version '4.2O' (expected e.g. 4.20, 4.18+ or none); "
            "known lines: 4.18, 4.19, 4.20",
        )
    ]


def test_unknown_line_lists_the_known_lines(repo: tuple[RepoBuilder, dict[str, str]]) -> None:
    builder, _ = repo
    found = check(builder, "Fix it\n\nBackport-to: 4.17, 4.21+\n")
    assert [kind for kind, _ in found] == [UNKNOWN_LINE, UNKNOWN_LINE]
    assert "unknown stable line 4.17 (known: 4.18, 4.19, 4.20)" in found[0][1]
    assert "no stable line 4.21 or newer" in found[1][1]


def test_misplaced_nomination_is_flagged_and_still_counts(repo: tuple[RepoBuilder, dict[str, str]]) -> None:
    builder, ids = repo
    message = f"Fix it\n\nSome words.\n\nBackport: 4.19+\n\nSome more words.\n\nFixes: {ids['mid'][:10]}\n"
    found = check(builder, message)
    assert [kind for kind, _ in found] == [MISPLACED]
    assert "'Backport: 4.19+' is outside the trailer block" in found[0][1]


def test_comments_and_the_scissors_part_are_not_the_message(repo: tuple[RepoBuilder, dict[str, str]]) -> None:
    builder, ids = repo
    message = (
        f"Fix it\n\nFixes: {ids['mid'][:10]}\n"
        "# Backport-to: 4.19+\n"
        "# ------------------------ >8 ------------------------\n"
        "Backport-to: 4.20\n"
    )
    assert [kind for kind, _ in check(builder, message)] == [UNTAGGED_FIX]


def test_committing_on_a_stable_branch_is_silent(repo: tuple[RepoBuilder, dict[str, str]]) -> None:
    builder, ids = repo
    builder.checkout("stable-4.19")
    assert check(builder, f"Fix it\n\nFixes: {ids['mid'][:10]}\n") == []


def test_strict_comes_from_git_config(repo: tuple[RepoBuilder, dict[str, str]]) -> None:
    builder, ids = repo
    path = builder.path / ".git" / "COMMIT_EDITMSG"
    path.write_text(f"Fix it\n\nFixes: {ids['mid'][:10]}\n")
    assert not run_hook(str(path), str(builder.path)).blocked
    builder.git("config", "backport.hook.strict", "true")
    assert run_hook(str(path), str(builder.path)).blocked
    path.write_text("Fix a crash\n")  # hints never block
    assert not run_hook(str(path), str(builder.path)).blocked


def test_suggest_uses_plus_only_for_a_newest_run() -> None:
    v = [Version.parse(t) for t in ("4.18", "4.19", "4.20")]
    assert suggest(v, v) == "4.18+"
    assert suggest(v[1:], v) == "4.19+"
    assert suggest([v[0], v[2]], v) == "4.18, 4.20"
    assert suggest(v[:2], v) == "4.18, 4.19"


def test_hook_run_command_and_exit_codes(
    repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object], tmp_path: Path
) -> None:
    builder, ids = repo
    message = tmp_path / "msg"
    message.write_text(f"Fix it\n\nFixes: {ids['mid'][:10]}\n")
    result = run("hook", "run", "commit-msg", str(message), repo=builder.path)
    assert (result.code, result.out) == (0, "")
    assert "backport: warning: fixes" in result.err
    builder.git("config", "backport.hook.strict", "true")
    result = run("hook", "run", "commit-msg", str(message), repo=builder.path)
    assert result.code == 1
    assert "commit-msg refused" in result.err


def test_our_failure_never_blocks(make_repo: Callable[..., RepoBuilder], run: Callable[..., object], tmp_path: Path) -> None:
    builder = make_repo("trunk")  # no unstable branch to find
    builder.commit("start")
    builder.git("config", "backport.hook.strict", "true")
    message = tmp_path / "msg"
    message.write_text("Fix a crash\n")
    result = run("hook", "run", "commit-msg", str(message), repo=builder.path)
    assert result.code == 0
    assert result.err.startswith("backport: commit-msg check skipped: no unstable branch found")
    assert len(result.err.strip().splitlines()) == 1
    result = run("hook", "run", "commit-msg", str(tmp_path / "missing"), repo=builder.path)
    assert result.code == 0 and "check skipped" in result.err


def test_no_lines_says_so_only_for_fixes(make_repo: Callable[..., RepoBuilder], tmp_path: Path) -> None:
    builder = make_repo("master")
    first = builder.commit("start")
    path = tmp_path / "msg"
    path.write_text("Fix a crash\n")
    assert run_hook(str(path), str(builder.path)).note is None
    path.write_text(f"Fix a crash\n\nFixes: {first[:10]}\n")
    outcome = run_hook(str(path), str(builder.path))
    assert outcome.findings == () and "no maintained stable lines" in (outcome.note or "")


def _imported(module: str) -> set[str]:
    code = f"import sys, {module}\nprint(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_the_hook_path_imports_nothing_heavy() -> None:
    assert {m.split(".")[0] for m in _imported("backport.maintainer.message_check")} & {"click", "git", "jinja2", "unidiff"} == set()
    # the quick look does without the records and the session altogether
    assert _imported("backport.hook") & {"backport.models", "backport.session", "backport.maintainer.message_check"} == set()


def test_quick_look(repo: tuple[RepoBuilder, dict[str, str]], tmp_path: Path) -> None:
    builder, _ = repo
    path = tmp_path / "msg"

    def quiet(message: str) -> bool:
        path.write_text(message)
        return nothing_to_say(str(path), str(builder.path))

    assert quiet("Add a knob\n\nSigned-off-by: A <a@b>\n")
    assert not quiet("Fix a crash\n")
    assert not quiet("Add a knob\n\nAmends: 1234567\n")
    assert not quiet("Add a knob\n\nbackport : 4.20\n")
    builder.git("config", "--add", "backport.keys", "Stable")
    assert not quiet("Add a knob\n\nStable: 4.20\n")
    builder.git("config", "backport.hook.fixPatterns", r"\bknob\b")
    assert not quiet("Add a knob\n")
    builder.git("config", "--unset-all", "backport.hook.fixPatterns")
    assert quiet("Add a knob\n")
    builder.commit("project configuration", {".backport.toml": 'keys = ["Wanted-in"]\n'})
    assert not quiet("Add a knob\n")  # a project file may change anything: the full check runs


_WORDS = st.sampled_from(
    ["Add", "knob", "Fix", "fixes", "crash", "Backport-to: 4.19", "Fixes: 1234567", "# comment", "Amends:", "leak", "tidy"]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.lists(_WORDS, max_size=4).map(" ".join), min_size=1, max_size=5))
def test_quick_look_never_hides_a_finding(
    repo: tuple[RepoBuilder, dict[str, str]], tmp_path: Path, lines: list[str]
) -> None:
    builder, _ = repo
    path = tmp_path / "msg"
    path.write_text("\n".join(lines) + "\n")
    if nothing_to_say(str(path), str(builder.path)):
        assert run_hook(str(path), str(builder.path)).findings == ()
