"""`backport notes fetch|push`: decisions shared between clones through a
remote, concurrent ones merged, none lost."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from builder import RepoBuilder, xen_like

NOW = "2024-01-01T00:00:00+00:00"
NOTES = "refs/notes/backport"


def team(tmp_path: Path) -> tuple[Path, RepoBuilder, RepoBuilder, dict[str, str]]:
    """A bare "remote" with staging and two stable lines, and two clones of
    it: a, with a work tree, and b, bare. Neither has any notes."""
    src, ids = xen_like(tmp_path / "src")
    for name in ("x", "y", "z", "w"):
        ids[name] = src.commit(f"x86: fix {name}", {f"xen/common/{name}.c": f"{name}\n"})
    remote = tmp_path / "remote.git"
    src.git("clone", "-q", "--bare", str(src.path), str(remote))
    return remote, clone(remote, tmp_path / "a"), clone(remote, tmp_path / "b", bare=True), ids


def clone(remote: Path, path: Path, *, bare: bool = False) -> RepoBuilder:
    scratch = RepoBuilder.__new__(RepoBuilder)
    scratch.path, scratch.clock = path.parent, 1_700_000_000
    scratch.git("clone", "-q", *(["--bare"] if bare else []), str(remote), str(path))
    made = RepoBuilder.__new__(RepoBuilder)
    made.path, made.clock = path, 1_800_000_000
    return made


def held(repo: RepoBuilder | Path) -> set[tuple[str, str]]:
    """(commit, line) of every non-empty line of every note on refs/notes/backport."""
    path = repo.path if isinstance(repo, RepoBuilder) else repo
    git = RepoBuilder.__new__(RepoBuilder)
    git.path = path
    listed = git.git("for-each-ref", NOTES)
    if not listed:
        return set()
    found = set()
    for row in git.git("notes", f"--ref={NOTES}", "list").splitlines():
        _, commit = row.split()
        found.update((commit, line) for line in git.git("notes", f"--ref={NOTES}", "show", commit).splitlines() if line)
    return found


def states(run, repo: RepoBuilder) -> dict[tuple[str, str], str]:
    result = run("check", "--format", "json", "--now", NOW, repo=repo.path)
    assert result.code == 0, result
    return {(c["subject"], t["version"]): t["state"] for c in json.loads(result.out)["candidates"] for t in c["targets"]}


def test_a_fresh_clone_gets_the_decisions_it_lacks(tmp_path: Path, run) -> None:
    remote, a, b, ids = team(tmp_path)
    assert run("nominate", ids["x"], "--to", "4.19+", "-m", "XSA-1", repo=a.path).code == 0
    assert run("skip", ids["y"], "--for", "4.19", "-m", "not there", repo=a.path).code == 0
    assert run("nominate", ids["y"], "--to", "4.20", repo=a.path).code == 0
    pushed = run("notes", "push", repo=a.path)
    assert (pushed.code, pushed.err) == (0, ""), pushed
    assert pushed.out == "pushed decisions to origin: 3 new there, on 2 commits; refs/notes/backport holds 3 decisions\n"
    assert states(run, b) == {}  # git clone fetched no notes: nothing is nominated here
    assert "; no decisions in notes (backport notes fetch)\n" in run("report", "--now", NOW, repo=b.path).out
    fetched = run("notes", "fetch", repo=b.path)
    assert fetched.out == "fetched decisions from origin: 3 new here, on 2 commits; refs/notes/backport holds 3 decisions\n"
    assert states(run, b) == {
        ("x86: fix x", "4.19"): "pending",
        ("x86: fix x", "4.20"): "pending",
        ("x86: fix y", "4.19"): "skipped",
        ("x86: fix y", "4.20"): "pending",
    }
    assert "; 3 decisions in notes\n" in run("report", "--now", NOW, repo=b.path).out
    again = run("notes", "fetch", repo=b.path)
    assert again.out == "fetched decisions from origin: nothing new; refs/notes/backport holds 3 decisions\n"
    # the fetched notes went where they belong, and nowhere else
    for repo in (b.path, remote):
        refs = RepoBuilder.__new__(RepoBuilder)
        refs.path = repo
        assert refs.git("for-each-ref", "--format=%(refname)", "refs/notes") == NOTES
    assert not (b.path / "FETCH_HEAD").exists()


def test_concurrent_decisions_are_merged_and_none_is_lost(tmp_path: Path, run) -> None:
    """a and b decide about the same commits at the same time; b's push
    finds a's in the remote, then (its pre-push hook pushes for a, as if a
    pushed at that very moment) is refused once more: every decision of
    both ends up in both clones and in the remote."""
    remote, a, b, ids = team(tmp_path)
    assert run("nominate", ids["x"], "--to", "4.20", repo=a.path).code == 0
    assert run("notes", "push", repo=a.path).code == 0
    assert run("notes", "fetch", repo=b.path).code == 0
    # now at the same time
    assert run("nominate", ids["x"], "--to", "4.19", "-m", "needed there too", repo=a.path).code == 0
    assert run("skip", ids["z"], "--for", "4.19", "-m", "no such code", repo=a.path).code == 0
    assert run("skip", ids["x"], "--for", "4.19", "-m", "the code differs", repo=b.path).code == 0
    assert run("nominate", ids["w"], "--to", "4.19+", repo=b.path).code == 0
    assert run("notes", "push", repo=a.path).code == 0
    late = a.path / "late-note"
    hook = b.path / "hooks" / "pre-push"
    hook.write_text(
        "#!/bin/sh\n"
        "unset GIT_DIR\n"  # git sets it for a bare repository's hooks
        f"[ -e '{late}' ] && exit 0\n"
        f"touch '{late}'\n"
        f"git -C '{a.path}' notes --ref={NOTES} append -m 'Backport-to: 4.19' {ids['y']} &&\n"
        f"exec git -C '{a.path}' push -q origin {NOTES}\n"
    )
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    pushed = run("notes", "push", repo=b.path)
    assert (pushed.code, pushed.err) == (0, ""), pushed
    assert pushed.out == (
        "pushed decisions to origin: 2 new there, on 2 commits (3 decisions came in first and were merged); "
        "refs/notes/backport holds 6 decisions\n"
    )
    assert late.exists()
    assert run("notes", "fetch", repo=a.path).code == 0
    everything = {
        (ids["x"], "Backport-to: 4.20"),
        (ids["x"], "Backport-to: 4.19 # needed there too"),
        (ids["x"], "Backport-skip: 4.19 # the code differs"),
        (ids["z"], "Backport-skip: 4.19 # no such code"),
        (ids["w"], "Backport-to: 4.19+"),
        (ids["y"], "Backport-to: 4.19"),
    }
    assert held(a) == held(b) == held(remote) == everything
    assert states(run, a) == states(run, b)
    assert states(run, a)[("x86: fix x", "4.19")] == "skipped"


def test_the_default_remote_is_the_unstable_branchs_upstream(tmp_path: Path, run) -> None:
    remote, a, b, ids = team(tmp_path)
    a.git("remote", "rename", "origin", "upstream")  # staging now tracks upstream/staging
    fetched = run("notes", "fetch", repo=a.path)
    assert fetched.out == "upstream has no decisions yet (no refs/notes/backport there); refs/notes/backport holds 0 decisions\n"
    assert run("nominate", ids["x"], "--to", "4.20", repo=a.path).code == 0
    pushed = run("notes", "push", repo=a.path)
    assert pushed.out.startswith("pushed decisions to upstream: 1 new there, on 1 commit;"), pushed
    b.git("remote", "remove", "origin")
    lost = run("notes", "fetch", repo=b.path)
    assert lost.code == 2 and "no remote to share notes with" in lost.err and lost.err.count("\n") == 1, lost
    assert run("notes", "fetch", str(remote), repo=b.path).out.startswith(f"fetched decisions from {remote}: 1 new here")
    nowhere = run("notes", "push", str(tmp_path / "nowhere"), repo=b.path)
    assert nowhere.code == 3 and "cannot fetch refs/notes/backport with" in nowhere.err, nowhere
    assert "does not appear to be a git repository" in nowhere.err  # what git said, not its advice
    assert "Traceback" not in nowhere.err and nowhere.err.count("\n") == 1
    dash = run("notes", "fetch", "--", "-x", repo=b.path)
    assert dash.code == 2 and "invalid revision '-x'" in dash.err
    assert run("notes", "push", repo=RepoBuilder(tmp_path / "alone").path).code != 0
