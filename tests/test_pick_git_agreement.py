"""`backport pick` against real `git cherry-pick`, commit by commit.

Two questions. The message: in the `cherry-picked-from` style a pick's
message is byte for byte what `git cherry-pick -x` (with pick.signoff:
`-x -s`) writes, for messages that probe git's trailer rules. The picks: on
randomly grown histories (tests/test_pick_agreement.py's generator), every
unstable commit nominated, `backport pick` gives the same outcome (picked,
empty, conflict), the same tree, author, author date and message as a plain
`git cherry-pick -x` loop of the same commits in the same order.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from builder import RepoBuilder
from test_pick_agreement import SEEDS, Clone, grow

from backport.pick import style
from backport.verdict.detect import CHERRY_PICKED_FROM

PICKER = "Carl Committer <carl@example.org>"
MESSAGES = [
    "subject only",
    "subject only, no newline at the end",
    "subject\n\nbody\n",
    "subject\n\nbody\n\nSigned-off-by: A U Thor <a@example.org>\n",
    'subject\n\nFixes: 0123456789ab ("x")\nReviewed-by: R <r@example.org>\n',
    "subject\n\nbody\n\nSigned-off-by: A <a@example.org>\nprose one\nprose two\nprose three\n",
    "subject\n\nbody\n\nSigned-off-by: A <a@example.org>\nprose one\nprose two\nprose three\nprose four\n",
    "subject\n\nnot a: trailer line\n  but continued\n",
    "subject\n\nKey: value\n  continued value\nOther: x\n",
    "subject   \n\nbody with trailing blanks   \n\n\n\nSigned-off-by: A <a@example.org>\n\n\n",
    "subject\n\nbody\n\n# a comment line\nSigned-off-by: A <a@example.org>\n",
    "subject\n\nbody\n\nSigned-off-by: A <a@example.org>\n\n# a closing comment\n",
    "subject\nwith a second line\n\nSigned-off-by: A <a@example.org>\n",
    "subject\n\nSee http://example.org/bug for the story.\n",
    "subject\n\nhttp://example.org/bug\n",
    f"subject\n\nbody\n\nSigned-off-by: {PICKER}\n",
    "subject\n\nbody\n\nCc: stable@vger.kernel.org # 5.10.x\n",
    "subject\n\n(cherry picked from commit 0123456789abcdef0123456789abcdef01234567)\n",
    "subject\n\nbody\nSigned-off-by: not its own paragraph <a@example.org>\n",
]


@pytest.fixture(scope="module")
def picked(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, bytes, bytes, bytes]]:
    """(message, original raw commit, git's -x message, git's -x -s message) for each MESSAGE."""
    repo = RepoBuilder(tmp_path_factory.mktemp("messages") / "repo")
    repo.commit("base", {"f": "0\n"})
    repo.branch("line")
    originals = []
    for n, text in enumerate(MESSAGES):
        repo.write({"f": f"{n + 1}\n"})
        repo.git("add", "f")
        tree = repo.git("write-tree")
        data = text.encode() if text.endswith("\n") or "no newline" in text else (text + "\n").encode()
        proc = subprocess.run(
            ["git", "commit-tree", tree, "-p", "HEAD"],
            cwd=repo.path,
            input=data,
            capture_output=True,
            env=repo.env(GIT_COMMITTER_DATE=repo.tick()),
            check=True,
        )
        commit = proc.stdout.decode().strip()
        repo.git("update-ref", "HEAD", commit)
        repo.git("reset", "-q", "--hard")
        originals.append(commit)
    results = []
    for commit, text in zip(originals, MESSAGES, strict=True):
        messages = []
        for options in (["-x"], ["-x", "-s"]):
            repo.git("checkout", "-q", "--detach", "line")
            repo.git("cherry-pick", "--strategy-option=theirs", *options, commit)
            messages.append(_raw(repo, "HEAD").partition(b"\n\n")[2])
        results.append((text, _raw(repo, commit), messages[0], messages[1]))
    return results


def _raw(repo: RepoBuilder, commit: str) -> bytes:
    """The commit object as stored: the builder's git() strips what it prints."""
    proc = subprocess.run(["git", "cat-file", "commit", commit], cwd=repo.path, env=repo.env(), capture_output=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("index", range(len(MESSAGES)))
def test_the_cherry_picked_from_message_is_gits_own(picked: list[tuple[str, bytes, bytes, bytes]], index: int) -> None:
    text, raw, with_x, with_x_s = picked[index]
    commit = with_x.decode().rsplit("(cherry picked from commit ", 1)[1][:40]
    original = style.parse_commit(commit, raw)
    assert style.message(original, CHERRY_PICKED_FROM).encode() == with_x, text
    assert style.message(original, CHERRY_PICKED_FROM, PICKER).encode() == with_x_s, text


# -- whole runs on random histories ----------------------------------------------------


def nominate_all(repo: RepoBuilder, commits: list[str]) -> None:
    for commit in commits:
        repo.note(commit, "Backport-to: 1.0")


def git_loop(clone: Clone, tip: str, commits: list[tuple[str, bool]]) -> list[tuple[str, str | None, str | None]]:
    """`git cherry-pick -x` of each commit in turn: (outcome, tree, message) each."""
    clone.git("checkout", "-q", "-B", "loop", tip)
    out: list[tuple[str, str | None, str | None]] = []
    for commit, merge in commits:
        proc = clone.git("cherry-pick", "-x", *(["-m", "1"] if merge else []), commit, check=False)
        if proc.returncode == 0:
            raw = clone.git("cat-file", "commit", "HEAD").stdout
            out.append(("picked", clone.tree("HEAD"), raw.partition("\n\n")[2]))
            continue
        kind = "conflict" if clone.git("ls-files", "-u").stdout else "empty"
        clone.git("cherry-pick", "--skip")
        out.append((kind, None, None))
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_backport_pick_agrees_with_a_git_cherry_pick_loop(tmp_path: Path, seed: int, run: Callable[..., Any]) -> None:
    repo, tip, picks = grow(tmp_path, seed)
    nominate_all(repo, picks)
    spec = ["--line", "1.0=line"]
    plan = json.loads(run("pick", *spec, "--dry-run", "--format", "json", repo=repo.path).out)["picks"]
    assert plan, "the generator should leave some clean picks"
    result = run("pick", *spec, repo=repo.path)
    outcomes = []
    while True:
        outcomes += [row.split()[:2] for row in result.out.splitlines() if row.startswith("  ") and "  " in row[2:]]
        if result.code != 1:
            break
        result = run("pick", "--skip", repo=repo.path)
    assert result.code == 0, result
    ours = {sha: kind for kind, sha in outcomes if kind in ("picked", "empty", "conflict")}
    clone = Clone(repo, tmp_path / "clone")
    theirs = git_loop(clone, tip, [(p["commit"], p["merge"]) for p in plan])
    branch = repo.git("log", "--reverse", "-z", "--format=%H", "line..backport/1.0").split("\0")
    picked_here = iter(c for c in branch if c)
    for item, (kind, tree, message) in zip(plan, theirs, strict=True):
        assert ours[item["commit"][:12]] == kind, item
        if kind == "picked":
            mine = next(picked_here)
            assert repo.git("rev-parse", f"{mine}^{{tree}}") == tree, item
            raw = repo.git("cat-file", "commit", mine)
            assert raw.partition("\n\n")[2] == message.rstrip("\n"), item
            original = repo.git("log", "-1", "--format=%an %ae %ad", "--date=raw", item["commit"])
            assert repo.git("log", "-1", "--format=%an %ae %ad", "--date=raw", mine) == original
    assert next(picked_here, None) is None
    assert os.path.isdir(repo.path / ".git") and not (repo.path / ".git" / "backport-pick").exists()
