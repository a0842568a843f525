"""The bundled Xen demo repository: deterministic, shaped as promised, and its
answer key (`SCENARIOS`) true according to plain git.

The rest of the suite compares `backport` against SCENARIOS, so a wrong claim
there would make a correct tool fail. Every claim is checked here with git
itself: pending picks with a real `git cherry-pick` in a throwaway clone,
evidence by looking for the reference line or the patch-id, staleness from
the committer and tagger dates.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import itertools
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_demo() -> ModuleType:
    try:
        return importlib.import_module("backport.fixtures.xen_demo")
    except ImportError:
        pass
    # Not installed as backport.fixtures (yet): load the directory as a package
    # under a private name, so its relative import of _tree still works.
    name = "_backport_demo_fixtures"
    spec = importlib.util.spec_from_file_location(
        name, ROOT / "fixtures" / "__init__.py", submodule_search_locations=[str(ROOT / "fixtures")]
    )
    assert spec and spec.loader
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    spec.loader.exec_module(package)
    return importlib.import_module(f"{name}.xen_demo")


demo = _load_demo()

# sha256 of `git for-each-ref` over the built repository. A change to the demo
# story changes it: update it together with SCENARIOS and fixtures/README.md.
GOLDEN_REFS_DIGEST = "48c3f82b898b21f8f62ea2ff2f132a17f66795a5e60b2dae940d1570770bd2ee"

NOW = datetime.fromisoformat(demo.NOW)
STALE_AFTER = timedelta(days=demo.STALE_AFTER_DAYS)
LINE_VERSIONS = sorted(demo.LINES, key=lambda v: tuple(int(p) for p in v.split(".")))
NOMINATION_LINE = re.compile(r"^(backport|backport-to|backport-skip)[ \t]*:", re.IGNORECASE | re.MULTILINE)
FIXES_LINE = re.compile(r"^(fixes|amends)[ \t]*:[ \t]*([0-9a-f]{7,40})", re.IGNORECASE | re.MULTILINE)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Demo Test",
        GIT_AUTHOR_EMAIL="test@example.invalid",
        GIT_COMMITTER_NAME="Demo Test",
        GIT_COMMITTER_EMAIL="test@example.invalid",
    )
    return env


def git(repo: Path, *args: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        ["git", "-c", "commit.gpgSign=false", "-c", "core.hooksPath=" + os.devnull, *args],
        cwd=repo,
        env=_env(),
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc


def out(repo: Path, *args: str) -> str:
    return git(repo, *args).stdout


def refs_listing(repo: Path) -> str:
    return out(repo, "for-each-ref", "--format=%(objectname) %(objecttype) %(refname)")


def is_ancestor(repo: Path, commit: str, ref: str) -> bool:
    return git(repo, "merge-base", "--is-ancestor", commit, ref, check=False).returncode == 0


@functools.cache
def message(repo: Path, commit: str) -> str:
    return out(repo, "log", "-1", "--format=%B", commit)


def committed(repo: Path, commit: str) -> datetime:
    return datetime.fromisoformat(out(repo, "log", "-1", "--format=%cI", commit).strip())


def note(repo: Path, commit: str) -> str:
    proc = git(repo, "notes", "--ref", demo.NOTES_REF, "show", commit, check=False)
    return proc.stdout if proc.returncode == 0 else ""


@functools.cache
def line_only(repo: Path, version: str) -> tuple[str, ...]:
    """Commits on the stable line that are not on unstable: its own history."""
    return tuple(out(repo, "rev-list", f"{demo.UNSTABLE}..{demo.LINES[version]}").split())


@functools.cache
def patch_id(repo: Path, commit: str) -> str:
    diff = out(repo, "diff-tree", "-p", "--no-commit-id", commit)
    return git(repo, "patch-id", "--stable", stdin=diff).stdout.split()[0]


def references(repo: Path, version: str, sha: str) -> dict[str, list[str]]:
    """Line-only commits that name `sha`, by the kind of reference line."""
    found: dict[str, list[str]] = {}
    kinds = {
        "cherry-picked-from": re.compile(rf"^\(cherry picked from commit {sha}\)$", re.MULTILINE),
        "master-commit": re.compile(rf"^master commit: {sha}$", re.MULTILINE),
        "upstream-line": re.compile(rf"\A[^\n]*\n\ncommit {sha} upstream\.$", re.MULTILINE),
    }
    for commit in line_only(repo, version):
        text = message(repo, commit)
        for kind, pattern in kinds.items():
            if pattern.search(text):
                found.setdefault(kind, []).append(commit)
    return found


def build_timed(path: Path) -> float:
    start = time.perf_counter()
    demo.build(str(path))
    return time.perf_counter() - start


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    path = tmp_path_factory.mktemp("demo") / "xen"
    return path, build_timed(path)


@pytest.fixture(scope="module")
def repo(built: tuple[Path, float]) -> Path:
    return built[0]


@pytest.fixture(scope="module")
def by_subject(repo: Path) -> dict[str, str]:
    subjects: dict[str, str] = {}
    for row in out(repo, "log", demo.UNSTABLE, "--format=%H %s").splitlines():
        sha, subject = row.split(" ", 1)
        assert subject not in subjects, f"subject not unique on {demo.UNSTABLE}: {subject}"
        subjects[subject] = sha
    return subjects


@pytest.fixture(scope="module")
def scratch(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    clone = tmp_path_factory.mktemp("scratch") / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], env=_env(), check=True)
    for ref in demo.LINES.values():  # the clone has only the checked-out branch locally
        git(clone, "branch", ref, f"origin/{ref}")
    return clone


def try_pick(clone: Path, onto: str, first: list[str], commit: str) -> list[str] | None:
    """Cherry-pick `first` (each must apply) then `commit` onto `onto` in the
    throwaway clone. None if `commit` applies cleanly, else the conflicting paths."""
    git(clone, "reset", "-q", "--hard")
    git(clone, "checkout", "-q", "--detach", onto)
    try:
        for sha in first:
            git(clone, "cherry-pick", "--allow-empty", sha)
        proc = git(clone, "cherry-pick", "--no-commit", commit, check=False)
        if proc.returncode == 0:
            return None
        return sorted(out(clone, "diff", "--name-only", "--diff-filter=U").split())
    finally:
        git(clone, "cherry-pick", "--abort", check=False)
        git(clone, "reset", "-q", "--hard")


def verdicts(state_prefix: str) -> Iterator[Any]:
    for scenario in demo.SCENARIOS:
        for version, verdict in scenario["expected"].items():
            if verdict.split("/")[0] == state_prefix:
                yield pytest.param(scenario, version, id=f"{scenario['name']}@{version}")


# --------------------------------------------------------------------------
# The build itself


@pytest.fixture(scope="module")
def second_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The demo built again, from the command line, under a hostile git setup:
    a global config that signs, strips comments, renames the default branch
    and installs a commit-msg hook, plus stray GIT_* variables."""
    base = tmp_path_factory.mktemp("second")
    home = base / "home"
    (home / "hooks").mkdir(parents=True)
    hook = home / "hooks" / "commit-msg"
    hook.write_text("#!/bin/sh\necho 'Change-Id: I0000' >> \"$1\"\n")
    hook.chmod(0o755)
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Someone Else\n\temail = else@example.invalid\n"
        "[commit]\n\tgpgSign = true\n\tcleanup = strip\n"
        f"[core]\n\thooksPath = {home / 'hooks'}\n\tcommentChar = B\n"
        "[init]\n\tdefaultBranch = main\n"
    )
    env = {
        **os.environ,
        "HOME": str(home),
        "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
        "GIT_AUTHOR_NAME": "Someone Else",
        "GIT_COMMITTER_DATE": "2001-01-01T00:00:00",
        "GIT_NOTES_REF": "refs/notes/commits",
    }
    target = base / "cli"
    script = ROOT / "fixtures" / "xen_demo.py"
    done = subprocess.run(
        [sys.executable, str(script), str(target)], env=env, capture_output=True, text=True, check=False
    )
    return target, done


def test_command_line_builds_the_demo(second_build: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    target, done = second_build
    assert done.returncode == 0, done.stderr
    assert (target / "MAINTAINERS").is_file()


def test_build_is_deterministic_and_isolated(
    repo: Path, second_build: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    assert refs_listing(second_build[0]) == refs_listing(repo)
    digest = hashlib.sha256(refs_listing(repo).encode()).hexdigest()
    assert digest == GOLDEN_REFS_DIGEST, (
        f"the demo's commit ids changed (digest {digest}); if the story was changed on "
        "purpose, update GOLDEN_REFS_DIGEST"
    )


def test_build_is_fast(built: tuple[Path, float]) -> None:
    # The target is ~3 s; the bound leaves room for a loaded CI machine.
    assert built[1] < 15, f"building the demo took {built[1]:.1f}s"


def test_build_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine\n")
    with pytest.raises(FileExistsError):
        demo.build(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_command_line_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine\n")
    script = ROOT / "fixtures" / "xen_demo.py"
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "not an empty directory" in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


# --------------------------------------------------------------------------
# Shape


def test_branches_and_push_gate(repo: Path) -> None:
    heads = out(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads").split()
    assert sorted(heads) == sorted([demo.UNSTABLE, demo.MASTER, *demo.LINES.values()])
    assert out(repo, "symbolic-ref", "--short", "HEAD").strip() == demo.UNSTABLE
    assert out(repo, "status", "--porcelain") == ""
    assert out(repo, "rev-parse", demo.MASTER) == out(repo, "rev-parse", f"{demo.UNSTABLE}~{demo.MASTER_LAG}")
    assert out(repo, "rev-list", "--merges", "--all") == ""


def test_lines_fork_from_unstable_in_order(repo: Path) -> None:
    forks = [out(repo, "merge-base", demo.UNSTABLE, demo.LINES[v]).strip() for v in LINE_VERSIONS]
    assert len(set(forks)) == len(forks)
    for older, newer in itertools.pairwise(forks):
        assert is_ancestor(repo, older, newer)


def test_release_tags(repo: Path) -> None:
    tags = out(repo, "tag", "--list").split()
    assert sorted(tags) == sorted([*(t for ts in demo.RELEASES.values() for t in ts), *demo.DECOY_TAGS])
    for version, names in demo.RELEASES.items():
        dates = []
        for name in names:
            assert out(repo, "cat-file", "-t", name).strip() == "tag", f"{name} is not annotated"
            assert is_ancestor(repo, name, demo.LINES[version])
            assert not is_ancestor(repo, name, demo.UNSTABLE)
            dates.append(out(repo, "for-each-ref", "--format=%(taggerdate:iso-strict)", f"refs/tags/{name}"))
        assert dates == sorted(dates)
    for name in demo.DECOY_TAGS:
        assert is_ancestor(repo, name, demo.UNSTABLE)
        for ref in demo.LINES.values():
            assert not is_ancestor(repo, name, ref), f"decoy {name} is on {ref}"


def test_dates_increase_and_span_the_year(repo: Path) -> None:
    rows = out(repo, "log", "--all", "--format=%H %ct %at %P").splitlines()
    when = {row.split()[0]: int(row.split()[1]) for row in rows}
    for row in rows:
        sha, commit_ts, author_ts, *parents = row.split()
        assert int(author_ts) <= int(commit_ts)
        for parent in parents:
            assert when[parent] < int(commit_ts), f"{sha} is not newer than its parent"
    first, last = min(when.values()), max(when.values())
    assert datetime.fromtimestamp(first).year == 2024
    assert datetime.fromtimestamp(last, NOW.tzinfo) < NOW
    count = int(out(repo, "rev-list", "--count", "--all").strip())
    assert 40 <= count <= 90


def test_several_authors_some_non_ascii(repo: Path) -> None:
    authors = set(out(repo, "log", "--all", "--format=%an <%ae>").splitlines())
    assert len(authors) >= 6
    assert any(not a.isascii() for a in authors)


def test_maintainers_file_is_in_xen_format(repo: Path) -> None:
    text = out(repo, "show", f"{demo.UNSTABLE}:MAINTAINERS")
    for field in ("M:\t", "R:\t", "S:\t", "F:\t", "X:\t", "L:\t"):
        assert any(line.startswith(field) for line in text.splitlines()), field
    assert "THE REST\n" in text and "F:\t*\nF:\t*/\n" in text
    for section in ("X86 ARCHITECTURE", "ARM (W/ VIRTUALISATION EXTENSIONS) ARCHITECTURE", "LIBXL"):
        assert f"\n{section}\n" in text


def maintainers_for(text: str, path: str) -> list[str]:
    """The M: lines of the most specific section covering `path`.

    Enough of the format for this demo's MAINTAINERS (directory prefixes,
    `*` and `*/`); the product's parser is tested against the same answers.
    """

    def matches(pattern: str) -> bool:
        if pattern == "*":
            return "/" not in path
        if pattern == "*/":
            return "/" in path
        if pattern.endswith("/"):
            return path.startswith(pattern)
        return path == pattern

    best: tuple[int, list[str]] = (-1, [])
    for block in text.split("\n\n"):
        lines = block.splitlines()
        entries = [(ln[:2], ln[3:].strip()) for ln in lines if re.match(r"^[A-Z]:\t", ln)]
        if not entries:
            continue
        if any(k == "X:" and matches(v) for k, v in entries):
            continue
        score = max((len(v) for k, v in entries if k == "F:" and matches(v)), default=-1)
        if score > best[0]:
            best = (score, [v for k, v in entries if k == "M:"])
    return best[1]


@pytest.mark.parametrize("scenario", demo.SCENARIOS, ids=lambda s: s["name"])
def test_scenario_commit_files_and_owners(
    scenario: dict[str, Any], repo: Path, by_subject: dict[str, str]
) -> None:
    sha = by_subject.get(scenario["subject"])
    assert sha, f"no commit on {demo.UNSTABLE} with subject {scenario['subject']!r}"
    assert is_ancestor(repo, sha, demo.MASTER) == scenario["on_master"]
    for version in demo.LINES:
        on_line = is_ancestor(repo, sha, demo.LINES[version])
        assert not on_line or scenario["expected"].get(version) == "applied/ancestor"
    touched = out(repo, "diff-tree", "--no-commit-id", "--name-only", "-r", sha).split()
    assert sorted(touched) == sorted(scenario["files"])
    text = out(repo, "show", f"{demo.UNSTABLE}:MAINTAINERS")
    owners = {o for path in touched for o in maintainers_for(text, path)}
    assert owners == set(scenario["owners"])


# --------------------------------------------------------------------------
# The answer key, claim by claim


@pytest.mark.parametrize("scenario", demo.SCENARIOS, ids=lambda s: s["name"])
def test_nominations_are_where_the_key_says(
    scenario: dict[str, Any], repo: Path, by_subject: dict[str, str]
) -> None:
    sha = by_subject[scenario["subject"]]
    text = message(repo, sha)
    parsed_trailers = git(repo, "interpret-trailers", "--parse", stdin=text).stdout
    written = [n["text"] for n in scenario["nominations"] if n["source"] == "trailer"] + scenario["problems"]
    assert sorted(m.group(0) for m in re.finditer(r"^(?i:backport(?:-to)?)[ \t]*:.*$", text, re.MULTILINE)) == sorted(
        written
    )
    for nomination in scenario["nominations"]:
        if nomination["source"] == "trailer":
            # Misplaced means: git's own trailer parser does not see it.
            assert (nomination["text"] in parsed_trailers.splitlines()) != nomination["misplaced"]
        else:
            assert nomination["text"] in note(repo, sha).splitlines()
    if not any(n["source"] == "note" for n in scenario["nominations"]):
        assert note(repo, sha) == ""


def requested_lines(text: str) -> set[str]:
    """The lines a well-formed nomination value names: `4.20`, `4.18+`, lists, `none`."""
    value = text.partition(":")[2].partition("#")[0]

    def key(v: str) -> tuple[int, ...]:
        return tuple(int(p) for p in v.split("."))

    named: set[str] = set()
    for token in re.split(r"[,\s]+", value.strip()):
        if token == "none":
            continue
        version = token.rstrip("+")
        named |= {v for v in demo.LINES if (key(v) >= key(version) if token.endswith("+") else v == version)}
    return named


@pytest.mark.parametrize("scenario", demo.SCENARIOS, ids=lambda s: s["name"])
def test_every_requested_line_has_a_verdict(scenario: dict[str, Any]) -> None:
    requested: set[str] = set()
    declined: set[str] = set()
    for nomination in scenario["nominations"]:
        lines = requested_lines(nomination["text"])
        (declined if nomination["text"].lower().startswith("backport-skip") else requested).update(lines)
    assert set(scenario["expected"]) == requested
    assert {v for v, verdict in scenario["expected"].items() if verdict == "skipped"} == declined
    assert set(scenario["skip_reasons"]) == declined
    pending = {v for v, verdict in scenario["expected"].items() if verdict.startswith("pending/")}
    assert set(scenario["stale"]) == pending
    assert set(scenario["conflicts"]) == {v for v in pending if scenario["expected"][v] == "pending/conflict"}


def test_answer_key_is_complete(repo: Path, by_subject: dict[str, str]) -> None:
    """Every commit on unstable that nominates, declines or fixes something is a scenario."""
    keyed = {s["subject"] for s in demo.SCENARIOS}
    for subject, sha in by_subject.items():
        text = message(repo, sha)
        if NOMINATION_LINE.search(text) or FIXES_LINE.search(text) or note(repo, sha):
            assert subject in keyed, f"unkeyed nomination or fix on {demo.UNSTABLE}: {subject}"


@pytest.mark.parametrize(("scenario", "version"), list(verdicts("pending")))
def test_pending_claim_matches_real_cherry_pick(
    scenario: dict[str, Any], version: str, repo: Path, scratch: Path, by_subject: dict[str, str]
) -> None:
    sha = by_subject[scenario["subject"]]
    ref = demo.LINES[version]
    applies = scenario["expected"][version].split("/")[1]
    first = [by_subject[s] for s in scenario["after"].get(version, [])]
    conflicts = try_pick(scratch, ref, first, sha)
    if applies == "clean":
        assert conflicts is None, f"expected a clean pick onto {ref}, got conflicts in {conflicts}"
    else:
        assert conflicts == scenario["conflicts"][version]
    if version in scenario["conflicts_alone"]:
        assert first, "conflicts_alone only makes sense with `after`"
        assert try_pick(scratch, ref, [], sha) == scenario["conflicts_alone"][version]
    # Pending means: no evidence at all that it is on the line already.
    assert not is_ancestor(repo, sha, ref)
    assert references(repo, version, sha) == {}
    assert patch_id(repo, sha) not in {patch_id(repo, c) for c in line_only(repo, version)}


@pytest.mark.parametrize(("scenario", "version"), list(verdicts("pending")))
def test_stale_claim_matches_dates(
    scenario: dict[str, Any], version: str, repo: Path, by_subject: dict[str, str]
) -> None:
    sha = by_subject[scenario["subject"]]
    landed = committed(repo, sha)
    reasons = ["age"] if NOW - landed > STALE_AFTER else []
    for tag in demo.RELEASES[version]:
        tagged = datetime.fromisoformat(
            out(repo, "for-each-ref", "--format=%(taggerdate:iso-strict)", f"refs/tags/{tag}").strip()
        )
        if tagged > landed:
            reasons.append(tag)
    assert reasons == scenario["stale"][version]
    # Thresholds are days away, so neither rounding nor time zones can flip one.
    assert abs((NOW - landed) - STALE_AFTER) > timedelta(days=2)


def test_missed_release_case_is_stale_only_by_landing_date(repo: Path, by_subject: dict[str, str]) -> None:
    """Its author date is old: a tool measuring age from it gets this wrong."""
    scenario = next(s for s in demo.SCENARIOS if s["name"] == "missed-release")
    sha = by_subject[scenario["subject"]]
    authored = datetime.fromisoformat(out(repo, "log", "-1", "--format=%aI", sha).strip())
    assert NOW - authored > STALE_AFTER >= NOW - committed(repo, sha)


@pytest.mark.parametrize(("scenario", "version"), list(verdicts("applied")))
def test_applied_claim_has_its_evidence(
    scenario: dict[str, Any], version: str, repo: Path, by_subject: dict[str, str]
) -> None:
    sha = by_subject[scenario["subject"]]
    evidence = scenario["expected"][version].split("/")[1]
    found = references(repo, version, sha)
    if evidence == "ancestor":
        assert is_ancestor(repo, sha, demo.LINES[version])
        assert found == {}
    elif evidence == "patch-id":
        assert found == {}
        same = [c for c in line_only(repo, version) if patch_id(repo, c) == patch_id(repo, sha)]
        assert len(same) == 1
        assert sha not in message(repo, same[0]) and sha[:7] not in message(repo, same[0])
    else:
        assert list(found) == [evidence] and len(found[evidence]) == 1


def test_cherry_pick_x_backport_is_what_git_writes(repo: Path, scratch: Path, by_subject: dict[str, str]) -> None:
    """The builder composes backport messages itself; for `-x` they must be git's own."""
    for scenario, version in ((s, v) for s in demo.SCENARIOS for v, e in s["expected"].items()):
        if scenario["expected"][version] != "applied/cherry-picked-from":
            continue
        sha = by_subject[scenario["subject"]]
        backport = references(repo, version, sha)["cherry-picked-from"][0]
        git(scratch, "checkout", "-q", "--detach", f"{backport}~1")
        git(scratch, "cherry-pick", "-x", sha)
        assert out(scratch, "log", "-1", "--format=%B", "HEAD") == message(repo, backport)
        assert out(scratch, "rev-parse", "HEAD^{tree}") == out(repo, "rev-parse", f"{backport}^{{tree}}")
        git(scratch, "checkout", "-q", "--detach", demo.UNSTABLE)


@pytest.mark.parametrize(("scenario", "version"), list(verdicts("not-needed")))
def test_not_needed_claim(scenario: dict[str, Any], version: str, repo: Path, by_subject: dict[str, str]) -> None:
    sha = by_subject[scenario["subject"]]
    target = by_subject[scenario["fixes"]]
    assert f"Fixes: {target[:12]}" in message(repo, sha)
    assert not is_ancestor(repo, target, demo.LINES[version])
    assert references(repo, version, target) == {}
    # ... while the bug is on the lines the nomination also names.
    assert any(is_ancestor(repo, target, demo.LINES[v]) for v in scenario["expected"] if v != version)


@pytest.mark.parametrize(("scenario", "version"), list(verdicts("reverted")))
def test_reverted_claim(scenario: dict[str, Any], version: str, repo: Path, by_subject: dict[str, str]) -> None:
    sha = by_subject[scenario["subject"]]
    revert = by_subject[scenario["reverted_by"]]
    assert f"\nThis reverts commit {sha}.\n" in message(repo, revert)
    assert is_ancestor(repo, sha, revert)
    assert out(repo, "diff", f"{sha}~1", revert, "--", *scenario["files"]) == ""


@pytest.mark.parametrize(("scenario", "version"), list(verdicts("skipped")))
def test_skipped_claim(scenario: dict[str, Any], version: str, repo: Path, by_subject: dict[str, str]) -> None:
    sha = by_subject[scenario["subject"]]
    reason = scenario["skip_reasons"][version]
    assert f"Backport-skip: {version} # {reason}" in note(repo, sha).splitlines()


@pytest.mark.parametrize("scenario", [s for s in demo.SCENARIOS if s["untagged_fix"]], ids=lambda s: s["name"])
def test_untagged_fix_claim(scenario: dict[str, Any], repo: Path, by_subject: dict[str, str]) -> None:
    sha = by_subject[scenario["subject"]]
    text = message(repo, sha)
    claim = scenario["untagged_fix"]
    target = by_subject[claim["fixes_subject"]]
    match = FIXES_LINE.search(text)
    assert match and match.group(1) == claim["key"] and target.startswith(match.group(2))
    assert not NOMINATION_LINE.search(text) and note(repo, sha) == ""
    assert scenario["expected"] == {}
    lines = [
        v for v in LINE_VERSIONS if is_ancestor(repo, target, demo.LINES[v]) or references(repo, v, target)
    ]
    assert lines == claim["lines"]


def test_declined_fix_is_a_fix(repo: Path, by_subject: dict[str, str]) -> None:
    scenario = next(s for s in demo.SCENARIOS if s["name"] == "declined-none")
    target = by_subject[scenario["fixes"]]
    text = message(repo, by_subject[scenario["subject"]])
    assert f"Fixes: {target[:12]}" in text and "\nBackport-to: none\n" in text
    assert all(is_ancestor(repo, target, ref) for ref in demo.LINES.values())
