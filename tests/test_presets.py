"""Real projects as they are: each project-shaped repository, with only
`preset = "<project>"` configured, reads every request for exactly the lines
the project means, reports no ordinary `Cc:` line, and its hook, lint and
check agree; `backport init` proposes that preset."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from builder import RepoBuilder, xen_like
from shapes import BUILDERS, EXPECTED, TEXT, linux_like

from backport.maintainer.message_check import run_hook

NOW = "2023-12-14T00:00:00+00:00"


def configure(repo: RepoBuilder, preset: str) -> None:
    repo.git("config", "backport.preset", preset)


def verdicts(run: Callable[..., Any], repo: RepoBuilder) -> dict[str, Any]:
    result = run("check", "--format", "json", "--now", NOW, repo=repo.path)
    assert result.code == 0, result.err
    return json.loads(result.out)


@pytest.mark.parametrize("shape", sorted(BUILDERS))
def test_each_request_is_read_for_exactly_the_lines_the_project_means(
    shape: str, tmp_path: Path, run: Callable[..., Any]
) -> None:
    repo, ids = BUILDERS[shape](tmp_path)
    configure(repo, shape)
    document = verdicts(run, repo)
    names = {sha: name for name, sha in ids.items()}
    found = {names[c["commit"]]: {t["version"]: t["state"] for t in c["targets"]} for c in document["candidates"]}
    assert found == EXPECTED[shape]
    assert document["problems"] == []  # ordinary Cc: lines are not problems
    assert "ordinary" not in found


def test_without_the_preset_a_linux_repository_reads_no_request(tmp_path: Path, run: Callable[..., Any]) -> None:
    """What the issue saw on QEMU and Linux: nothing read, nothing pending."""
    repo, _ = linux_like(tmp_path)
    document = verdicts(run, repo)
    assert all(t["state"] != "pending" for c in document["candidates"] for t in c["targets"])
    assert document["problems"] == []


def test_mesa_lines_are_the_staging_branches(tmp_path: Path, run: Callable[..., Any]) -> None:
    repo, _ = BUILDERS["mesa"](tmp_path)
    configure(repo, "mesa")
    document = verdicts(run, repo)
    assert [(line["version"], line["ref"], line["last_release"]) for line in document["lines"]] == [
        ("24.1", "staging/24.1", "mesa-24.1.1"),
        ("24.2", "staging/24.2", "mesa-24.2.1"),
    ]


def test_linux_prerequisite_goes_first(tmp_path: Path, run: Callable[..., Any]) -> None:
    repo, ids = linux_like(tmp_path)
    configure(repo, "linux")
    document = verdicts(run, repo)
    by_commit = {c["commit"]: c for c in document["candidates"]}
    needed = by_commit[ids["prerequisite"]]
    assert [n["source"] for n in needed["nominations"]] == ["prerequisite"]
    assert ids["needs"][:12] in needed["nominations"][0]["text"]
    for target in by_commit[ids["needs"]]["targets"]:
        assert target["after"] == [ids["prerequisite"]] and target["applies"] == "clean"


def test_linux_comments_are_kept_and_opt_out_declines(tmp_path: Path, run: Callable[..., Any]) -> None:
    repo, ids = linux_like(tmp_path)
    configure(repo, "linux")
    document = verdicts(run, repo)
    by_commit = {c["commit"]: c for c in document["candidates"]}
    assert {t["reason"] for t in by_commit[ids["comment"]]["targets"]} == {"after -rc3"}
    assert by_commit[ids["noautosel"]]["targets"] == []
    assert ids["noautosel"] not in [u["commit"] for u in document["untagged_fixes"]]
    # a Fixes: alone is the request: nothing is listed as untagged
    assert document["untagged_fixes"] == []


def test_qemu_fixes_alone_is_an_untagged_fix(tmp_path: Path, run: Callable[..., Any]) -> None:
    """QEMU asks with Cc: qemu-stable; a Fixes: alone is no request there."""
    repo, ids = BUILDERS["qemu"](tmp_path)
    configure(repo, "qemu")
    document = verdicts(run, repo)
    assert [(u["commit"], u["lines"]) for u in document["untagged_fixes"]] == [(ids["fixes_only"], ["9.1", "9.2"])]


# -- the hook, lint and check agree, in the project's words -----------------------------


def hook(repo: RepoBuilder, message: str) -> list[str]:
    path = repo.path / ".git" / "COMMIT_EDITMSG"
    path.write_text(message)
    return [f.message for f in run_hook(str(path), str(repo.path)).findings]


def lint(run: Callable[..., Any], repo: RepoBuilder, revisions: str) -> list[str]:
    result = run("lint", "--format", "json", revisions, repo=repo.path)
    return [f["message"] for f in json.loads(result.out)["findings"]]


def test_the_hook_and_lint_suggest_the_projects_own_form(tmp_path: Path, run: Callable[..., Any]) -> None:
    repo, ids = BUILDERS["qemu"](tmp_path)
    configure(repo, "qemu")
    message = f"hw: fix the mid thing\n\nFixes: {ids['mid'][:12]}\n"
    said = hook(repo, message)
    assert said == [f"fixes {ids['mid'][:12]}, which is in 9.2: add 'Cc: qemu-stable@nongnu.org # 9.2+'"]
    repo.checkout("topic", new=True)
    repo.commit(message, {"hw/fix.c": TEXT})
    assert lint(run, repo, "master..topic") == said


def test_on_linux_a_fixes_alone_needs_nothing_more(tmp_path: Path, run: Callable[..., Any]) -> None:
    repo, ids = linux_like(tmp_path)
    configure(repo, "linux")
    message = f"mm: fix the old thing\n\nFixes: {ids['old'][:12]}\n"
    assert hook(repo, message) == []
    repo.checkout("topic", new=True)
    repo.commit(message, {"mm/fix.c": TEXT})
    assert lint(run, repo, "master..topic") == []
    assert hook(repo, "mm: plug a leak\n") == [
        "looks like a fix ('leak') but says nothing about backporting: if the bug is on stable lines (6.1, 6.6), "
        "add 'Fixes: <commit>' or 'Cc: stable@vger.kernel.org # <version>+'; if not, 'Cc: stable+noautosel@kernel.org # <reason>'"
    ]


def test_hook_lint_and_check_agree_on_a_bug_that_reached_a_line_by_cherry_pick(
    tmp_path: Path, run: Callable[..., Any]
) -> None:
    """The bug landed on unstable after 4.20 forked and was backported there
    with -x: the report lists the fix as untagged on 4.20, and so do the
    hook and lint (before, they looked at ancestry only and said nothing)."""
    repo, _ = xen_like(tmp_path)
    bug = repo.commit("xen: a feature with a bug", {"xen/common/f.c": TEXT})
    repo.checkout("stable-4.20")
    repo.cherry_pick(bug)
    repo.checkout("staging")
    message = f"xen: fix the feature\n\nFixes: {bug[:12]}\n"
    said = hook(repo, message)
    assert said == [f"fixes {bug[:12]}, which is in 4.20: add 'Backport-to: 4.20+' or 'Backport-to: none'"]
    repo.checkout("topic", new=True)
    fix = repo.commit(message, {"xen/common/f.c": TEXT.replace("line 3", "fixed 3")})
    assert lint(run, repo, "staging..topic") == said
    repo.checkout("staging")
    repo.git("merge", "-q", "--ff-only", "topic")
    document = verdicts(run, repo)
    assert [(u["commit"], u["lines"]) for u in document["untagged_fixes"]] == [(fix, ["4.20"])]


def test_a_commit_message_keeps_what_follows_a_dashes_line(tmp_path: Path, run: Callable[..., Any]) -> None:
    """Pasted output with a `---` line: git commits all of it, and the
    Fixes: below it is seen by the hook as by lint."""
    repo, ids = linux_like(tmp_path)  # no preset: a Fixes: alone is no request
    message = f"mm: fix it\n\nThe log said:\n---\nsomething\n\nFixes: {ids['old'][:12]}\n"
    said = hook(repo, message)
    assert said and "Fixes" not in said[0] and ids["old"][:12] in said[0]
    repo.checkout("topic", new=True)
    repo.commit(message, {"mm/fix.c": TEXT})
    assert lint(run, repo, "master..topic") == said


# -- tag writes the project's form ----------------------------------------------------


@pytest.mark.parametrize(
    "shape, to, written",
    [
        ("linux", "6.6", "Cc: stable@vger.kernel.org # 6.6+"),
        ("qemu", "9.1", "Cc: qemu-stable@nongnu.org"),
        ("qemu", "9.2", "Cc: qemu-stable@nongnu.org # 9.2+"),
        ("mesa", "24.2", "Backport-to: 24.2"),
    ],
)
def test_tag_writes_the_projects_form(
    shape: str, to: str, written: str, tmp_path: Path, run: Callable[..., Any]
) -> None:
    repo, _ = BUILDERS[shape](tmp_path)
    configure(repo, shape)
    repo.commit("a fix\n\nSigned-off-by: Ada <ada@example.org>\n", {"new.c": TEXT})
    result = run("tag", "--to", to, repo=repo.path)
    assert result.code == 0, result.err
    assert repo.git("log", "-1", "--format=%B").splitlines()[-1] == written
    assert run("tag", "--to", to, repo=repo.path).out.strip().endswith(f"already nominated ({written!r}), nothing to do")


# -- backport init -------------------------------------------------------------------


@pytest.mark.parametrize("shape", sorted(BUILDERS))
def test_init_proposes_the_shapes_preset(shape: str, tmp_path: Path, run: Callable[..., Any]) -> None:
    repo, _ = BUILDERS[shape](tmp_path)
    result = run("init", repo=repo.path)
    assert result.code == 0, result.err
    assert f'\npreset = "{shape}"\n' in result.out
    assert "# request forms seen:" in result.out


def test_init_on_a_xen_shaped_repository(tmp_path: Path, run: Callable[..., Any]) -> None:
    repo, _ = xen_like(tmp_path)
    fix = repo.commit("x86: fix\n\nBackport: 4.19+\n", {"xen/arch/x86/a.c": TEXT})
    repo.checkout("stable-4.20")
    repo.git("cherry-pick", fix)
    repo.git("commit", "--amend", "-q", "-m", f"x86: fix\n\nmaster commit: {fix}\nmaster date: 2023-11-14\n")
    repo.checkout("staging")
    result = run("init", repo=repo.path)
    assert '\npreset = "xen"\n' in result.out


def test_init_write_writes_the_proposal_once(tmp_path: Path, run: Callable[..., Any]) -> None:
    repo, _ = BUILDERS["linux"](tmp_path)
    result = run("init", "--write", repo=repo.path)
    assert result.code == 0, result.err
    written = (repo.path / ".backport.toml").read_text()
    assert 'preset = "linux"' in written and "commit it there" in result.out
    again = run("init", "--write", repo=repo.path)
    assert again.code == 2 and "exists" in again.err
    repo.git("add", ".backport.toml")
    repo.commit("backport: settings")
    assert "from preset linux" in run("config", repo=repo.path).out


def test_nominate_on_mesa_writes_a_note_mesa_reads_as_it_means(tmp_path: Path, run: Callable[..., Any]) -> None:
    """Mesa has no plain key: the note is `Backport-to: 24.1`, which Mesa
    reads as 24.1 and newer."""
    repo, ids = BUILDERS["mesa"](tmp_path)
    configure(repo, "mesa")
    plain = repo.commit("nir: tidy up", {"src/tidy.c": TEXT})
    result = run("nominate", plain, "--to", "24.1", repo=repo.path)
    assert result.code == 0, result.err
    assert repo.git("notes", "--ref=backport", "show", plain) == "Backport-to: 24.1"
    found = {c["commit"]: c for c in verdicts(run, repo)["candidates"]}
    assert {t["version"]: t["state"] for t in found[plain]["targets"]} == {"24.1": "pending", "24.2": "pending"}


@pytest.mark.parametrize(
    "preset, style", [("xen", "master-commit"), ("linux", "upstream-line"), ("qemu", "cherry-picked-from")]
)
def test_the_preset_says_how_picks_name_their_original(
    preset: str, style: str, tmp_path: Path, run: Callable[..., Any]
) -> None:
    repo, _ = xen_like(tmp_path)
    repo.git("config", "backport.preset", preset)
    document = json.loads(run("config", "--format", "json", repo=repo.path).out)
    assert document["settings"]["pick.reference"] == {"value": style, "source": f"preset {preset}"}


def test_pick_and_hook_run_take_the_preset_given_on_the_command_line(
    tmp_path: Path, run: Callable[..., Any]
) -> None:
    """--preset is a global option: `pick` plans and `hook run` judges by it
    as `check` does, with nothing in the configuration."""
    repo, ids = linux_like(tmp_path)

    def planned(*preset: str) -> list[str]:
        result = run(*preset, "pick", "--line", "6.6", "--dry-run", "--format", "json", repo=repo.path)
        assert result.code == 0, result.err
        return [p["commit"] for p in json.loads(result.out)["picks"]]

    assert planned() == []  # without the preset no Cc: stable line is a request
    assert ids["plus66"] in planned("--preset", "linux")

    message = repo.path / "MSG"
    message.write_text(f"mm: fix the old thing\n\nFixes: {ids['old'][:12]}\n")
    plain = run("hook", "run", "commit-msg", str(message), repo=repo.path)
    assert "Backport-to" in plain.err  # the default form asked for
    linux = run("--preset", "linux", "hook", "run", "commit-msg", str(message), repo=repo.path)
    assert linux.code == 0 and linux.err == ""  # on Linux a Fixes: alone is the request
    # a line only the preset reads: the hook's quick look must not wave it through
    message.write_text("mm: plug a hole\n\nCc: stable@vger.kernel.org # 9.9+\n")
    assert run("hook", "run", "commit-msg", str(message), repo=repo.path).err == ""
    wrong = run("--preset", "linux", "hook", "run", "commit-msg", str(message), repo=repo.path)
    assert "no stable line 9.9 or newer" in wrong.err
