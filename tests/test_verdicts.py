"""The verdict engine on real repositories: every state, every evidence kind,
inferred nominations, untagged fixes, ages and staleness, owners."""

from __future__ import annotations

from pathlib import Path

import pytest
from builder import EPOCH, RepoBuilder, xen_like

from backport.models import APPLIED, NOT_NEEDED, PENDING, REVERTED, SKIPPED, CheckResult, Target, Verdict, Version
from backport.session import Session, moment
from backport.verdict.result import check_session

V19, V20 = Version((4, 19)), Version((4, 20))
NOW = "2023-12-14T00:00:00+00:00"  # 30 days after the builder's first commit
TEXT = "".join(f"line {i}\n" for i in range(1, 31))


def check(path: Path, *lines: str, now: str = NOW, commits: tuple[str, ...] = ()) -> CheckResult:
    session = Session.open(str(path), line_specs=lines)
    return check_session(session, moment(now), commits)


def verdict(result: CheckResult, sha: str) -> Verdict:
    found = [v for v in result.verdicts if v.candidate.commit == sha]
    assert found, f"{sha[:12]} has no verdict"
    return found[0]


def target(result: CheckResult, sha: str, version: Version) -> Target:
    found = [t for t in verdict(result, sha).targets if t.version == version]
    assert found, f"{sha[:12]} has no target {version}"
    return found[0]


def pick_onto(repo: RepoBuilder, branch: str, sha: str, *, x: bool = True) -> str:
    repo.checkout(branch)
    picked = repo.cherry_pick(sha, x=x)
    repo.checkout("staging")
    return picked


def on_line(repo: RepoBuilder, branch: str, message: str, files: dict[str, str]) -> str:
    repo.checkout(branch)
    sha = repo.commit(message, files)
    repo.checkout("staging")
    return sha


# -- applied, with each kind of evidence ---------------------------------------------


def test_applied_by_ancestry(tmp_path: Path) -> None:
    repo = RepoBuilder(tmp_path, branch="staging")
    repo.commit("base", {"a.c": TEXT})
    repo.branch("stable-4.19")
    early = repo.commit("early fix\n\nBackport-to: 4.20\n", {"b.c": "b\n"})
    repo.branch("stable-4.20")
    result = check(tmp_path)
    t = target(result, early, V20)
    assert (t.state, t.evidence, t.applied_as) == (APPLIED, "ancestor", early)
    assert [x.version for x in verdict(result, early).targets] == [V20]  # 4.19 was not asked for


@pytest.mark.parametrize(
    "message, evidence",
    [
        ("backport\n\n(cherry picked from commit {sha})\n", "cherry-picked-from"),
        ("backport\n\nmaster commit: {short}\nmaster date: 2023-11-14\n", "master-commit"),
        ("backport\n\ncommit {sha} upstream.\n", "upstream-line"),
        ("backport\n\n[ Upstream commit {short} ]\n", "upstream-line"),
    ],
)
def test_applied_by_reference_line(tmp_path: Path, message: str, evidence: str) -> None:
    repo, _ = xen_like(tmp_path)
    fix = repo.commit("fix\n\nBackport-to: 4.20\n", {"xen/common/a.c": "A\n" + "a\n" * 9})
    carrier = on_line(
        repo, "stable-4.20", message.format(sha=fix, short=fix[:12]), {"xen/common/a.c": "hand-made\n"}
    )
    t = target(check(tmp_path), fix, V20)
    assert (t.state, t.evidence, t.applied_as) == (APPLIED, evidence, carrier)
    assert t.owners == () and t.age_days is None  # only pending verdicts are aged and owned


def test_applied_by_patch_id(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    fix = repo.commit("fix\n\nBackport-to: 4.20\n", {"xen/common/a.c": "A\n" + "a\n" * 9})
    picked = pick_onto(repo, "stable-4.20", fix, x=False)
    t = target(check(tmp_path), fix, V20)
    assert (t.state, t.evidence, t.applied_as) == (APPLIED, "patch-id", picked)


# -- reverted, skipped, not-needed, none ---------------------------------------------


def test_reverted_on_unstable(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    fix = repo.commit("fix\n\nBackport-to: 4.19+\n", {"f.c": "f\n"})
    revert = repo.commit(f'Revert "fix"\n\nThis reverts commit {fix[:10]}.\n', {"f.c": None})
    result = check(tmp_path)
    for version in (V19, V20):
        t = target(result, fix, version)
        assert t.state == REVERTED
        assert t.reason == f"reverted by {revert}"


def test_applied_beats_reverted(tmp_path: Path) -> None:
    """Already on the line is a fact; the revert is its own candidate to nominate."""
    repo, _ = xen_like(tmp_path)
    fix = repo.commit("fix\n\nBackport-to: 4.20\n", {"f.c": "f\n"})
    pick_onto(repo, "stable-4.20", fix)
    repo.commit(f'Revert "fix"\n\nThis reverts commit {fix}.\n', {"f.c": None})
    assert target(check(tmp_path), fix, V20).state == APPLIED


def test_skipped_with_reason_from_a_note(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    fix = repo.commit("fix\n\nBackport-to: 4.19\n", {"f.c": "f\n"})
    repo.note(fix, "Backport-skip: 4.19 # 4.19 lacks the feature")
    t = target(check(tmp_path), fix, V19)
    assert (t.state, t.evidence, t.reason) == (SKIPPED, "note", "4.19 lacks the feature")


def test_skip_alone_makes_a_skipped_target(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    fix = repo.commit("fix", {"f.c": "f\n"})
    repo.note(fix, "Backport-skip: 4.20 # too invasive")
    result = check(tmp_path)
    assert [(t.version, t.state) for t in verdict(result, fix).targets] == [(V20, SKIPPED)]


def test_not_needed_when_the_fixed_commit_never_reached_the_line(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    bug = repo.commit("feature", {"feat.c": "buggy\n"})
    fix = repo.commit(f"fix feature\n\nFixes: {bug[:12]} (\"feature\")\nBackport-to: 4.19+\n", {"feat.c": "ok\n"})
    result = check(tmp_path)
    for version in (V19, V20):
        t = target(result, fix, version)
        assert (t.state, t.evidence) == (NOT_NEEDED, "fixes")
        assert bug[:12] in (t.reason or "")
    # no inferred nomination: the bug is on no line
    assert [n.source for n in verdict(result, fix).nominations] == ["trailer"]


def test_fix_of_a_bug_on_the_line_is_needed_there(tmp_path: Path) -> None:
    repo, ids = xen_like(tmp_path)
    fix = repo.commit(f"fix old bug\n\nFixes: {ids['pre20'][:10]}\nBackport-to: 4.19+\n", {"xen/common/c.c": "C\n"})
    result = check(tmp_path)
    assert target(result, fix, V20).state == PENDING  # pre20 is on 4.20 by ancestry
    assert target(result, fix, V19).state == NOT_NEEDED  # 4.19 forked before it
    assert [n.text for n in verdict(result, fix).nominations if n.source == "fixes"] == [
        f"Fixes: {ids['pre20'][:10]} (in 4.20)"
    ]


def test_none_means_no_targets(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    docs = repo.commit("docs\n\nBackport-to: none # docs only\n", {"d.txt": "d\n"})
    result = check(tmp_path)
    assert verdict(result, docs).targets == ()
    assert result.untagged_fixes == ()


def test_request_for_a_line_outside_the_run_is_not_a_target(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    fix = repo.commit("fix\n\nBackport-to: 4.20\n", {"f.c": "f\n"})
    pick_onto(repo, "stable-4.20", fix)
    result = check(tmp_path, "4.19")
    assert verdict(result, fix).targets == ()
    assert [str(line.version) for line in result.lines] == ["4.19"]


# -- inferred nominations and untagged fixes --------------------------------------------


def test_inferred_nomination_is_shown_not_requested(tmp_path: Path) -> None:
    repo, ids = xen_like(tmp_path)
    fix = repo.commit(f"fix old bug\n\nFixes: {ids['pre19'][:10]}\nBackport-to: 4.20\n", {"xen/common/b.c": "B\n"})
    pick_onto(repo, "stable-4.20", fix)
    result = check(tmp_path)
    v = verdict(result, fix)
    inferred = [n for n in v.nominations if n.source == "fixes"]
    assert [n.text for n in inferred] == [f"Fixes: {ids['pre19'][:10]} (in 4.19, 4.20)"]
    assert [t.version for t in v.targets] == [V20]  # 4.19 is shown as affected, not made a target
    assert result.untagged_fixes == ()  # it has a nomination


def test_untagged_fix(tmp_path: Path) -> None:
    repo, ids = xen_like(tmp_path)
    fix = repo.commit(f"fix old bug\n\nAmends: {ids['pre19'][:8]}\n", {"xen/common/b.c": "B\n"})
    result = check(tmp_path)
    assert [v.candidate.commit for v in result.verdicts] == []  # not a candidate
    [untagged] = result.untagged_fixes
    assert (untagged.candidate.commit, untagged.fixes, untagged.lines) == (fix, ids["pre19"], (V19, V20))


def test_untagged_fix_leaves_out_lines_that_have_it(tmp_path: Path) -> None:
    repo, ids = xen_like(tmp_path)
    fix = repo.commit(f"fix old bug\n\nFixes: {ids['pre19']}\n", {"xen/common/b.c": "B\n"})
    pick_onto(repo, "stable-4.20", fix)
    [untagged] = check(tmp_path).untagged_fixes
    assert untagged.lines == (V19,)
    pick_onto(repo, "stable-4.19", fix)
    assert check(tmp_path).untagged_fixes == ()


def test_bug_backported_to_a_line_is_on_that_line(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    bug = repo.commit("feature\n\nBackport-to: 4.20\n", {"feat.c": "buggy\n"})
    pick_onto(repo, "stable-4.20", bug)
    fix = repo.commit(f"fix feature\n\nFixes: {bug}\n", {"feat.c": "ok\n"})
    [untagged] = check(tmp_path).untagged_fixes
    assert (untagged.candidate.commit, untagged.lines) == (fix, (V20,))


def test_reverted_untagged_fix_is_not_listed(tmp_path: Path) -> None:
    repo, ids = xen_like(tmp_path)
    fix = repo.commit(f"fix old bug\n\nFixes: {ids['pre19']}\n", {"xen/common/b.c": "B\n"})
    repo.commit(f'Revert "fix old bug"\n\nThis reverts commit {fix}.\n', {"xen/common/b.c": "b\n"})
    assert check(tmp_path).untagged_fixes == ()


# -- problems and selection ----------------------------------------------------------------


def test_problems_pass_through(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    bad = repo.commit("typo\n\nBackport-to: 4.2O\n", {"t.c": "t\n"})
    result = check(tmp_path)
    assert [(p.commit, p.text) for p in result.problems] == [(bad, "Backport-to: 4.2O")]


def test_only_selected_commits_are_returned(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    one = repo.commit("one\n\nBackport-to: 4.20\n", {"one.c": "1\n"})
    two = repo.commit("two\n\nBackport-to: 4.20\n", {"two.c": "2\n"})
    pick_onto(repo, "stable-4.20", one)
    pick_onto(repo, "stable-4.20", two)
    result = check(tmp_path, commits=(two[:9],))
    assert [v.candidate.commit for v in result.verdicts] == [two]
    assert result.now == "2023-12-14T00:00:00+00:00"
    assert EPOCH  # the builder's clock starts here; NOW is 30 days later


# -- pending: simulation, age, staleness, owners ------------------------------------


DAY = 86400


def iso(epoch: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(epoch, timezone.utc).isoformat()


def test_pending_clean_with_its_age(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    fix = repo.commit("fix\n\nBackport-to: 4.20 # needed for the XSA\n", {"new.c": "n\n"}, when=EPOCH + 10 * DAY)
    t = target(check(tmp_path, now=iso(EPOCH + 20 * DAY + 3600)), fix, V20)
    assert (t.state, t.applies, t.conflicts, t.after) == (PENDING, "clean", (), ())
    assert (t.age_days, t.stale, t.stale_reason) == (10, False, None)
    assert t.reason == "needed for the XSA"
    assert t.owners == ("Ada Author <ada@example.org>",)  # no MAINTAINERS entry: the author


def test_stale_after_waiting_too_long(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    fix = repo.commit("fix\n\nBackport-to: 4.20\n", {"new.c": "n\n"}, when=EPOCH + 10 * DAY)
    fresh = check(tmp_path, now=iso(EPOCH + 40 * DAY))
    assert (target(fresh, fix, V20).stale, target(fresh, fix, V20).age_days) == (False, 30)  # 30 is not more than 30
    late = target(check(tmp_path, now=iso(EPOCH + 41 * DAY)), fix, V20)
    assert (late.stale, late.stale_reason) == (True, "waiting 31 days")


def test_stale_configurable(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    fix = repo.commit("fix\n\nBackport-to: 4.20\n", {"new.c": "n\n"}, when=EPOCH + 10 * DAY)
    repo.git("config", "backport.staleAfter", "5")
    t = target(check(tmp_path, now=iso(EPOCH + 16 * DAY)), fix, V20)
    assert t.stale_reason == "waiting 6 days"


def test_missed_release_wins_over_waiting(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    fix = repo.commit("fix\n\nBackport-to: 4.19+\n", {"new.c": "n\n"})
    repo.checkout("stable-4.20")
    repo.commit("4.20.1 release", {"Config.mk": "4.20.1\n"})
    repo.tag("RELEASE-4.20.1")
    repo.commit("4.20.2 release", {"Config.mk": "4.20.2\n"})
    repo.tag("RELEASE-4.20.2")
    repo.checkout("staging")
    result = check(tmp_path, now=iso(EPOCH + 90 * DAY))
    t20 = target(result, fix, V20)
    assert (t20.stale, t20.stale_reason) == (True, "missed RELEASE-4.20.1")  # the first release it missed
    t19 = target(result, fix, V19)  # RELEASE-4.19.0 came before it landed
    assert t19.stale_reason is not None and t19.stale_reason.startswith("waiting ")


def test_release_after_now_is_not_missed_yet(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    fix = repo.commit("fix\n\nBackport-to: 4.20\n", {"new.c": "n\n"})
    repo.checkout("stable-4.20")
    repo.tag("RELEASE-4.20.1")
    repo.checkout("staging")
    t = target(check(tmp_path, now=iso(EPOCH)), fix, V20)  # --now before the tag
    assert (t.stale, t.age_days) == (False, 0)  # and a landing in the future ages 0, not negative


def test_conflict_names_the_paths(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    on_line(repo, "stable-4.20", "line-only change", {"xen/common/a.c": "LINE\n" + "a\n" * 9})
    fix = repo.commit("fix\n\nBackport-to: 4.20\n", {"xen/common/a.c": "FIX\n" + "a\n" * 9, "ok.c": "ok\n"})
    t = target(check(tmp_path), fix, V20)
    assert (t.state, t.applies, t.conflicts) == (PENDING, "conflict", ("xen/common/a.c",))


def test_after_names_the_pending_commit_it_needs_first(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    first = repo.commit("prep\n\nBackport-to: 4.20\n", {"xen/common/a.c": "PREP\n" + "a\n" * 9})
    second = repo.commit("fix\n\nBackport-to: 4.20\n", {"xen/common/a.c": "PREP FIX\n" + "a\n" * 9})
    result = check(tmp_path)
    assert (target(result, first, V20).applies, target(result, first, V20).after) == ("clean", ())
    t = target(result, second, V20)
    assert (t.state, t.applies, t.after) == (PENDING, "clean", (first,))


def test_empty_pick_is_applied_in_substance(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    fix = repo.commit("fix\n\nBackport-to: 4.20\n", {"xen/common/a.c": "A\n" + "a\n" * 9})
    # the line got the same change folded into a bigger, unrelated-looking commit
    on_line(repo, "stable-4.20", "squashed backports", {"xen/common/a.c": "A\n" + "a\n" * 9, "other.c": "o\n"})
    t = target(check(tmp_path), fix, V20)
    assert (t.state, t.evidence, t.applied_as, t.empty) == (APPLIED, "empty-pick", None, True)


def test_owners_from_maintainers(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    repo.commit(
        "MAINTAINERS",
        {
            "MAINTAINERS": "THE REST\nM: Rest Person <rest@example.org>\nF: *\nF: */\n\n"
            "X86\nM: Jan X86 <jan@example.org>\nR: Rev Iewer <rev@example.org>\nF: xen/arch/x86/\n"
        },
    )
    x86 = repo.commit("x86 fix\n\nBackport-to: 4.20\n", {"xen/arch/x86/mm.c": "m\n"})
    tools = repo.commit("tools fix\n\nBackport-to: 4.20\n", {"tools/x.c": "x\n"})
    result = check(tmp_path)
    assert target(result, x86, V20).owners == ("Jan X86 <jan@example.org>",)
    assert target(result, tools, V20).owners == ("Rest Person <rest@example.org>",)


def test_merge_candidate_is_picked_against_its_first_parent(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    repo.checkout("topic", new=True)
    repo.commit("topic work", {"t.c": "t\n"})
    repo.checkout("staging")
    repo.commit("unrelated", {"u.c": "u\n"})
    repo.git("merge", "--no-ff", "-q", "-m", "Merge topic\n\nBackport-to: 4.20", "topic", env=repo.dated())
    merge = repo.head()
    result = check(tmp_path)
    assert verdict(result, merge).merge
    assert target(result, merge, V20).applies == "clean"


def test_fix_of_a_pending_backport_is_pending_too(tmp_path: Path) -> None:
    """The bug is not on the line yet, but it is on its way there."""
    repo, _ = xen_like(tmp_path)
    bug = repo.commit("feature\n\nBackport-to: 4.20\n", {"feat.c": "buggy\n"})
    fix = repo.commit(f"fix feature\n\nFixes: {bug[:12]}\nBackport-to: 4.19+\n", {"feat.c": "ok\n"})
    result = check(tmp_path)
    assert target(result, fix, V20).state == PENDING
    assert target(result, fix, V19).state == NOT_NEEDED


def test_unknown_fixes_target_leaves_it_pending(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    fix = repo.commit("fix\n\nFixes: deadbeefdead\nBackport-to: 4.20\n", {"n.c": "n\n"})
    assert target(check(tmp_path), fix, V20).state == PENDING


def test_reapplied_commit_is_pending_again(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    fix = repo.commit("fix\n\nBackport-to: 4.20\n", {"f.c": "f\n"})
    revert = repo.commit(f'Revert "fix"\n\nThis reverts commit {fix}.\n', {"f.c": None})
    repo.commit(f'Reapply "fix"\n\nThis reverts commit {revert}.\n', {"f.c": "f\n"})
    assert target(check(tmp_path), fix, V20).state == PENDING


def test_nomination_for_an_unknown_line_is_a_problem_not_a_candidate(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    only_bad = repo.commit("typo\n\nBackport-to: 4.2\n", {"t.c": "t\n"})
    mixed = repo.commit("mixed\n\nBackport-to: 4.2, 4.20\n", {"m.c": "m\n"})
    pick_onto(repo, "stable-4.20", mixed)
    result = check(tmp_path)
    assert [v.candidate.commit for v in result.verdicts] == [mixed]  # its 4.20 request still counts
    assert [t.version for t in verdict(result, mixed).targets] == [V20]
    assert {p.commit for p in result.problems} == {only_bad, mixed}
