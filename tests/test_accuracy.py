"""What real history showed the verdicts getting wrong: an explicit request
lost to an inference, hand-resolved backports without a reference line, and
a missing object that aborted the whole run."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from builder import RepoBuilder, xen_like
from test_verdicts import NOW, TEXT, V19, V20, check, on_line, target, verdict

from backport.models import APPLIED, NOT_NEEDED, PENDING, UNKNOWN

# -- an explicit request wins over what Fixes: infers ---------------------------------


def test_line_asked_for_by_name_stays_pending_when_its_fixes_target_is_absent(tmp_path: Path) -> None:
    """Xen 55719030b0bb: its Fixes: names a rework that only unstable has,
    while the bug it fixes is older and on both lines; the maintainer asked
    for 4.19 and 4.20 by name. A range in the same situation still expands
    by the bug's presence."""
    repo, _ = xen_like(tmp_path)
    rework = repo.commit("rework", {"rework.c": "new\n"})
    named = repo.commit(
        f"fix it\n\nFixes: {rework[:12]} (\"rework\")\nBackport-to: 4.19, 4.20 # the bug is older\n",
        {"xen/common/a.c": "A\n" + "a\n" * 9},
    )
    ranged = repo.commit(
        f"fix it too\n\nFixes: {rework[:12]} (\"rework\")\nBackport-to: 4.19+\n", {"xen/common/b.c": "B\n"}
    )
    result = check(tmp_path)
    for version in (V19, V20):
        kept = target(result, named, version)
        assert kept.state == PENDING and kept.applies == "clean"
        assert kept.warning and rework[:12] in kept.warning and str(version) in kept.warning
        assert kept.reason == "the bug is older"  # the request's own comment, still shown
        assert target(result, ranged, version).state == NOT_NEEDED


def test_the_warning_is_in_every_format(tmp_path: Path, run: Callable[..., Any]) -> None:
    repo, _ = xen_like(tmp_path)
    rework = repo.commit("rework", {"rework.c": "new\n"})
    named = repo.commit(f"fix it\n\nFixes: {rework[:12]}\nBackport-to: 4.20\n", {"n.c": "n\n"})
    document = json.loads(run("check", "--format", "json", "--now", NOW, repo=tmp_path).out)
    (candidate,) = [c for c in document["candidates"] if c["commit"] == named]
    (shown,) = candidate["targets"]
    assert shown["state"] == "pending" and shown["reason"].startswith(f"warning: its Fixes: target {rework[:12]}")
    for args in (["check"], ["report"], ["report", "--format", "markdown"], ["report", "--format", "html"]):
        out = run(*args, "--now", NOW, repo=tmp_path).out
        assert "warning" in out and rework[:12] in out, args


# -- similar: hand-resolved backports without a reference line -------------------------


def test_hand_resolved_backport_without_reference_line_is_similar(tmp_path: Path) -> None:
    """The line's copy was edited by hand (another context, one line
    different), carries no reference line, and its subject has the usual
    decoration: not the same patch-id, found as `similar`."""
    repo, _ = xen_like(tmp_path)
    body = "".join(f"    step({n});\n" for n in range(12))
    on_line(repo, "stable-4.20", "line's own edit", {"xen/common/d.c": "line header\n" + body})
    repo.commit("base of d.c on unstable", {"xen/common/d.c": "unstable header\n" + body})
    fixed = body.replace("step(3)", "checked_step(3)").replace("step(7)", "checked_step(7)")
    fix = repo.commit(
        "xen/d: check every step\n\nBackport-to: 4.20\n", {"xen/common/d.c": "unstable header\n" + fixed + "done\n"}
    )
    by_hand = fixed.replace("checked_step(7)", "checked_step(7, LEGACY)")
    carrier = on_line(
        repo, "stable-4.20", "[PATCH 4.20] xen/d: check every step", {"xen/common/d.c": "line header\n" + by_hand + "done\n"}
    )
    t = target(check(tmp_path), fix, V20)
    assert (t.state, t.evidence, t.applied_as) == (APPLIED, "similar", carrier)


def test_a_backport_rewritten_line_by_line_is_similar_by_its_tokens(tmp_path: Path) -> None:
    """As Xen's 1e12cbd6af2c on 4.20: the line's code was laid out
    differently, so the hand-made copy shares no changed line with the
    original, but nearly all of their words and symbols."""
    repo, _ = xen_like(tmp_path)
    on_line(repo, "stable-4.20", "line's layout", {"ci/wait.exp": 'expect {\n    -re "$env(PASSED)" {\n        exit 0\n    }\n}\n'})
    repo.commit("unstable's layout", {"ci/wait.exp": 'expect -re "$env(PASSED)"\nexit 0\n'})
    fix = repo.commit(
        "CI: fix waiting for the final message\n\nBackport-to: 4.20\n",
        {"ci/wait.exp": 'expect -notransfer -re "$env(PASSED)"\nexit 0\n'},
    )
    carrier = on_line(
        repo,
        "stable-4.20",
        "CI: fix waiting for the final message",
        {"ci/wait.exp": 'expect {\n    -notransfer -re "$env(PASSED)" {\n        exit 0\n    }\n}\n'},
    )
    t = target(check(tmp_path), fix, V20)
    assert (t.state, t.evidence, t.applied_as) == (APPLIED, "similar", carrier)


def test_same_subject_for_another_change_is_not_similar(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    on_line(repo, "stable-4.20", "tools: fix the build", {"tools/Makefile": "CFLAGS += -Wno-error\n"})
    fix = repo.commit("tools: fix the build\n\nBackport-to: 4.20\n", {"tools/rules.mk": "LDFLAGS += -lm\n"})
    t = target(check(tmp_path), fix, V20)
    assert t.state == PENDING


# -- a missing object costs one verdict -------------------------------------------------


def drop_blob(repo: RepoBuilder, commit: str, path: str) -> str:
    """Delete the loose object of `path` as `commit` has it: what a partial
    clone or a damaged pack leaves."""
    blob = repo.git("rev-parse", f"{commit}:{path}")
    os.unlink(repo.path / ".git" / "objects" / blob[:2] / blob[2:])
    return blob


def test_missing_blob_makes_one_verdict_unknown_and_the_rest_stands(tmp_path: Path, run: Callable[..., Any]) -> None:
    repo, _ = xen_like(tmp_path)
    fine = repo.commit("fine\n\nBackport-to: 4.20\n", {"xen/common/fine.c": "fine\n"})
    damaged = repo.commit("damaged\n\nBackport-to: 4.19+\n", {"xen/common/a.c": "edited\n" + "a\n" * 9})
    later = repo.commit("later\n\nBackport-to: 4.20\n", {"xen/common/later.c": "later\n"})
    picked = repo.commit("picked\n\nBackport-to: 4.20\n", {"xen/common/p.c": "p\n"})
    repo.checkout("stable-4.20")
    repo.cherry_pick(picked)
    repo.checkout("staging")
    repo.git("checkout", "-q", "--detach", "staging~4")  # the blob is not in the work tree either
    blob = drop_blob(repo, damaged, "xen/common/a.c")

    result = run("check", "--format", "json", "--now", NOW, repo=tmp_path)
    assert result.code == 0, result.err
    document = json.loads(result.out)
    states = {(c["commit"], t["version"]): t for c in document["candidates"] for t in c["targets"]}
    for version in ("4.19", "4.20"):
        unknown = states[(damaged, version)]
        assert unknown["state"] == UNKNOWN and blob in unknown["reason"] and "git fetch" in unknown["reason"]
    assert states[(fine, "4.20")]["state"] == "pending" and states[(fine, "4.20")]["applies"] == "clean"
    assert states[(later, "4.20")]["state"] == "pending"
    assert states[(picked, "4.20")]["state"] == "applied"
    assert [p["commit"] for p in document["problems"]] == [damaged]
    assert blob in document["problems"][0]["error"]

    report = run("report", "--now", NOW, repo=tmp_path)
    assert report.code == 0, report.err
    assert "Unknown (1, could not be judged)" in report.out and blob in report.out
    assert "fine" in report.out


def test_an_unknown_verdict_is_not_remembered(tmp_path: Path, run: Callable[..., Any]) -> None:
    """Once the object is back (a fetch), the next run judges the commit:
    the cache keeps no verdict that an object was missing."""
    repo, _ = xen_like(tmp_path)
    damaged = repo.commit("damaged\n\nBackport-to: 4.20\n", {"xen/common/a.c": "edited\n" + "a\n" * 9})
    repo.git("checkout", "-q", "--detach", "staging~1")
    content = repo.git("cat-file", "blob", f"{damaged}:xen/common/a.c") + "\n"
    drop_blob(repo, damaged, "xen/common/a.c")
    assert target(check(tmp_path), damaged, V20).state == UNKNOWN
    repo.git("hash-object", "-w", "--stdin", input=content)  # what a fetch would bring back
    t = target(check(tmp_path), damaged, V20)
    assert (t.state, t.applies) == (PENDING, "clean")


def test_missing_blob_on_a_line_commit_is_a_problem_not_a_failure(tmp_path: Path) -> None:
    repo, _ = xen_like(tmp_path)
    line_commit = on_line(repo, "stable-4.20", "line work", {"xen/common/l.c": TEXT})
    fix = repo.commit("fix\n\nBackport-to: 4.20\n", {"xen/common/f.c": "f\n"})
    repo.git("checkout", "-q", "--detach", "staging~1")
    drop_blob(repo, line_commit, "xen/common/l.c")
    result = check(tmp_path)
    assert target(result, fix, V20).state == PENDING
    assert any(p.commit == line_commit and "l.c" not in p.error and "missing" in p.error for p in result.problems)
    assert verdict(result, fix).candidate.subject == "fix"


def test_a_line_commit_missing_an_object_is_looked_at_again_next_run(tmp_path: Path) -> None:
    """Its diff could not be read, so nothing was compared with it; once the
    object is back, the hand-made copy it is is found."""
    repo, _ = xen_like(tmp_path)
    fix = repo.commit("fix\n\nBackport-to: 4.20\n", {"xen/common/f.c": "f\n"})
    copy = on_line(repo, "stable-4.20", "a copy", {"xen/common/f.c": "f\n"})
    repo.git("checkout", "-q", "--detach", "staging~1")
    content = repo.git("cat-file", "blob", f"{copy}:xen/common/f.c") + "\n"
    drop_blob(repo, copy, "xen/common/f.c")  # the fix has the same blob: it is unknown meanwhile
    first = check(tmp_path)
    assert any(p.commit == copy for p in first.problems)
    assert target(first, fix, V20).state == UNKNOWN
    repo.git("hash-object", "-w", "--stdin", input=content)
    t = target(check(tmp_path), fix, V20)
    assert (t.state, t.evidence, t.applied_as) == (APPLIED, "patch-id", copy)


# -- untagged fixes as a coordinator needs them ----------------------------------------


def test_untagged_fix_is_simulated_aged_and_owned_on_each_line(tmp_path: Path, run: Callable[..., Any]) -> None:
    """On real Xen, untagged fixes are where the work is: each says, per
    line, whether it picks clean (after which pending commits) or
    conflicts, its age, a release tagged without it, and whom to ask."""
    repo, ids = xen_like(tmp_path)
    bug = ids["pre19"]  # on both lines
    on_line(repo, "stable-4.19", "4.19's own change", {"xen/common/b.c": "b on 4.19\n"})
    first = repo.commit("prepare\n\nBackport-to: 4.20\n", {"xen/common/c.c": "c\nprepared\n"})
    fix = repo.commit(
        f"fix the old bug\n\nFixes: {bug[:12]}\n",
        {"xen/common/b.c": "b fixed\n", "xen/common/c.c": "c\nprepared\nfixed\n"},
        author="Fay Fixer <fay@example.org>",
    )
    repo.tag("RELEASE-4.20.1", "stable-4.20")  # tagged after the fix landed, without it
    document = json.loads(run("check", "--format", "json", "--now", NOW, repo=tmp_path).out)
    (untagged,) = document["untagged_fixes"]
    assert (untagged["commit"], untagged["fixes"], untagged["lines"]) == (fix, bug, ["4.19", "4.20"])
    assert untagged["author"] == "Fay Fixer <fay@example.org>" and untagged["owners"] == ["Fay Fixer <fay@example.org>"]
    assert untagged["age_days"] == 28
    on = {t["version"]: t for t in untagged["targets"]}
    assert (on["4.19"]["applies"], on["4.19"]["conflicts"]) == ("conflict", ["xen/common/b.c", "xen/common/c.c"])
    assert (on["4.20"]["applies"], on["4.20"]["after"]) == ("clean", [first])
    assert on["4.20"]["stale_reason"] == "missed RELEASE-4.20.1"


def test_untagged_fixes_come_oldest_first_and_age_on_a_warm_run(tmp_path: Path, run: Callable[..., Any]) -> None:
    repo, ids = xen_like(tmp_path)
    older = repo.commit(f"fix one\n\nFixes: {ids['pre19'][:12]}\n", {"one.c": "1\n"})
    newer = repo.commit(f"fix two\n\nFixes: {ids['pre19'][:12]}\n", {"two.c": "2\n"})
    cold = json.loads(run("check", "--format", "json", "--now", NOW, repo=tmp_path).out)
    assert [u["commit"] for u in cold["untagged_fixes"]] == [older, newer]
    later = json.loads(run("check", "--format", "json", "--now", "2024-01-14T00:00:00+00:00", repo=tmp_path).out)
    assert [u["age_days"] for u in later["untagged_fixes"]] == [u["age_days"] + 31 for u in cold["untagged_fixes"]]


def test_a_corrupt_object_costs_the_verdicts_that_read_it(tmp_path: Path, run: Callable[..., Any]) -> None:
    """A loose object whose bytes are damaged: git cannot read it, and says
    so differently from a missing one; it costs the same."""
    repo, _ = xen_like(tmp_path)
    fine = repo.commit("fine\n\nBackport-to: 4.20\n", {"xen/common/fine.c": "fine\n"})
    damaged = repo.commit("damaged\n\nBackport-to: 4.20\n", {"xen/common/a.c": "edited\n" + "a\n" * 9})
    repo.git("checkout", "-q", "--detach", "staging~2")
    blob = repo.git("rev-parse", f"{damaged}:xen/common/a.c")
    path = repo.path / ".git" / "objects" / blob[:2] / blob[2:]
    os.chmod(path, 0o644)
    path.write_bytes(b"garbage")
    result = run("check", "--format", "json", "--now", NOW, repo=tmp_path)
    assert result.code == 0, result.err
    states = {c["commit"]: c["targets"][0] for c in json.loads(result.out)["candidates"]}
    assert states[damaged]["state"] == "unknown" and blob in states[damaged]["reason"]
    assert (states[fine]["state"], states[fine]["applies"]) == ("pending", "clean")
