"""Maintained lines by default: a line is maintained when its tip or a
release tag of its version is at most `maintained-within` (12 months)
older than the unstable tip's commit. Dates are set explicitly, years
before the day the tests run: the answer is measured from the unstable
tip, never from the clock, so an old clone gives the answer it gave then."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from builder import RepoBuilder

from backport.maintainer.message_check import run_hook
from backport.session import Session

DAY = 86_400
MONTH = 2_629_746  # the mean Gregorian month, as backport counts them
TIP = 1_700_000_000 + 400 * DAY  # the unstable tip: 2024-12-18 22:13 UTC


def old_and_active(tmp_path: Path) -> tuple[RepoBuilder, dict[str, str]]:
    """staging with five stable lines of different ages:

    4.10  tip 36 months before unstable's tip          idle
    4.13  tip 14 months, last release 13 months before idle (last activity: the tag)
    4.14  tip 13 months, a release tagged 2 months before  maintained by its tag
    4.15  tip 11 months before                          maintained
    4.16  tip a day before                             maintained
    """
    repo = RepoBuilder(tmp_path, branch="staging")
    ids = {"base": repo.commit("base", {"a.c": "a\n"}, when=TIP - 48 * MONTH)}
    ages = {"4.10": 36 * MONTH, "4.13": 14 * MONTH, "4.14": 13 * MONTH, "4.15": 11 * MONTH, "4.16": DAY}
    for version, age in ages.items():
        repo.checkout(f"stable-{version}", new=True, at=ids["base"])
        ids[version] = repo.commit(f"{version} work", {f"{version}.c": "x\n"}, when=TIP - age)
    tag(repo, "RELEASE-4.13.5", "stable-4.13", TIP - 13 * MONTH)
    tag(repo, "RELEASE-4.14.3", "stable-4.14", TIP - 2 * MONTH)
    tag(repo, "RELEASE-4.10.9", "stable-4.10", TIP - 36 * MONTH)
    repo.checkout("staging")
    ids["tip"] = repo.commit("unstable tip", {"b.c": "b\n"}, when=TIP)
    return repo, ids


def tag(repo: RepoBuilder, name: str, at: str, when: int) -> None:
    repo.git("tag", "-a", "-m", name, name, at, env={"GIT_COMMITTER_DATE": f"@{when} +0000"})


def versions(path: Path, *specs: str) -> list[str]:
    return [str(line.version) for line in Session.open(str(path), line_specs=specs).heads]


def test_lines_active_within_twelve_months_of_the_unstable_tip(tmp_path: Path) -> None:
    old_and_active(tmp_path)
    assert versions(tmp_path) == ["4.14", "4.15", "4.16"]
    session = Session.open(str(tmp_path))
    # every line still exists for the nomination grammar: Backport-to: 4.10 is no unknown line
    assert [str(v) for v in session.known_versions] == ["4.10", "4.13", "4.14", "4.15", "4.16"]
    assert [(str(d.version), d.last) for d in session.selection.dormant] == [
        ("4.10", TIP - 36 * MONTH),
        ("4.13", TIP - 13 * MONTH),  # the release tag, newer than its tip
    ]
    assert [line.version for line in session.lines] == [line.version for line in session.heads]


@pytest.mark.parametrize(
    "setting, expected",
    [
        (("backport.maintainedWithin", "6"), ["4.14", "4.16"]),
        (("backport.maintainedWithin", "3 years"), ["4.10", "4.13", "4.14", "4.15", "4.16"]),
        (("backport.maintainedWithin", "0"), ["4.10", "4.13", "4.14", "4.15", "4.16"]),
        (("backport.oldest", "4.13"), ["4.13", "4.14", "4.15", "4.16"]),  # oldest wins over age
        (("backport.maintained", "4.10"), ["4.10"]),  # and so does the list
    ],
)
def test_maintained_within_and_the_settings_that_win(tmp_path: Path, setting: tuple[str, str], expected: list[str]) -> None:
    repo, _ = old_and_active(tmp_path)
    repo.git("config", *setting)
    assert versions(tmp_path) == expected


def test_line_flags_and_configured_lines_count_whatever_their_age(tmp_path: Path) -> None:
    repo, ids = old_and_active(tmp_path)
    assert versions(tmp_path, "4.10") == ["4.10"]
    repo.git("config", "backport.lines", f"4.9={ids['base']}")
    assert versions(tmp_path) == ["4.9", "4.14", "4.15", "4.16"]


def test_the_toml_setting_and_a_bad_value(tmp_path: Path, run) -> None:
    repo, _ = old_and_active(tmp_path)
    repo.commit("config", {".backport.toml": 'maintained-within = "2y"\n'}, when=TIP + DAY)
    assert versions(tmp_path) == ["4.13", "4.14", "4.15", "4.16"]
    repo.git("config", "backport.maintainedWithin", "a while")
    result = run("config", repo=tmp_path)
    assert result.code == 2
    assert "git config backport.maintainedWithin: expected a number of months" in result.err


def test_config_lists_the_lines_left_out_with_their_last_activity(tmp_path: Path, run) -> None:
    old_and_active(tmp_path)
    text = run("config", repo=tmp_path)
    assert text.code == 0, text
    assert "not maintained: no commit or release since 2023-12-19, 12 months before staging's tip" in text.out
    assert "  4.13     stable-4.13              last activity 2023-11-19\n" in text.out
    assert "  4.10     stable-4.10              last activity 2021-12-19\n" in text.out
    document = json.loads(run("config", "--format", "json", repo=tmp_path).out)
    assert [line["version"] for line in document["lines"]] == ["4.14", "4.15", "4.16"]
    assert document["unmaintained_lines"] == [
        {"version": "4.10", "ref": "stable-4.10", "last_activity": "2021-12-19"},
        {"version": "4.13", "ref": "stable-4.13", "last_activity": "2023-11-19"},
    ]
    assert document["settings"]["maintained-within"] == {"value": 12, "source": "default"}


def test_a_tip_committed_after_the_now_setting_is_measured_from_now(tmp_path: Path, run) -> None:
    """The kept demo: its `now` is set, and a commit made today puts the tip
    years later. As of `now` that commit has not happened: the lines are
    measured from `now`. A `now` after the tip changes nothing."""
    repo, _ = old_and_active(tmp_path)
    repo.git("config", "backport.now", "2024-12-18T22:13:20+00:00")  # TIP
    repo.commit("made today, long after the now setting", {"c.c": "c\n"}, when=TIP + 30 * MONTH)
    assert versions(tmp_path) == ["4.14", "4.15", "4.16"]
    text = run("config", repo=tmp_path)
    assert "12 months before now (git config backport.now)" in text.out, text
    repo.git("config", "--unset", "backport.now")
    assert versions(tmp_path) == []  # measured from that tip, nothing is maintained
    repo.git("config", "backport.now", "2030-01-01T00:00:00+00:00")
    assert versions(tmp_path) == []  # a later now does not move the tip


def test_the_hook_names_only_the_maintained_lines(tmp_path: Path) -> None:
    repo, ids = old_and_active(tmp_path)
    message = tmp_path / "msg"
    message.write_text(f"Fix a crash\n\nFixes: {ids['base'][:12]}\n")
    outcome = run_hook(str(message), str(tmp_path))
    (finding,) = outcome.findings
    assert finding.message == (
        f"fixes {ids['base'][:12]}, which is in 4.14, 4.15 and 4.16: add 'Backport-to: 4.14+' or 'Backport-to: none'"
    )


def test_the_report_covers_the_maintained_lines(tmp_path: Path, run) -> None:
    repo, ids = old_and_active(tmp_path)
    repo.commit("x86: fix\n\nBackport-to: 4.10+\n", {"a.c": "fixed\n"}, when=TIP + DAY)
    document = json.loads(run("report", "--format", "json", "--now", "2025-01-01T00:00:00+00:00", repo=tmp_path).out)
    assert [line["version"] for line in document["lines"]] == ["4.14", "4.15", "4.16"]
    (candidate,) = document["candidates"]
    assert [t["version"] for t in candidate["targets"]] == ["4.14", "4.15", "4.16"]


def test_the_hook_walks_the_maintained_lines_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk the hook starts ahead is over the lines maintained by
    default, and the session takes it; the idle lines' tags are listed once."""
    from backport.hook import main

    repo, ids = old_and_active(tmp_path / "repo")
    message = tmp_path / "msg"
    message.write_text(f"Fix a crash\n\nFixes: {ids['base'][:12]}\n")
    trace = tmp_path / "trace"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    assert main(["commit-msg", str(message)], repo=str(repo.path)) == 0
    monkeypatch.delenv("GIT_TRACE")
    commands = [row.split("trace: built-in: git ", 1)[1] for row in trace.read_text().splitlines() if "built-in: git " in row]
    (walk,) = [c for c in commands if "--contains" in c]
    assert [word for word in walk.split() if word.startswith("refs/")] == [
        "refs/heads/stable-4.14",
        "refs/heads/stable-4.15",
        "refs/heads/stable-4.16",
    ]
    assert len([c for c in commands if "refs/tags/" in c]) == 1
