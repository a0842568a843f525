"""`backport suggest` on real repositories with a planted, learnable backport pattern.

The history: a year of unstable commits, one every two days, of two kinds:
"fix" commits (`core: fix ...`, touching core/) and "feature" commits
(`ui: add ...`, touching ui/). Three stable lines fork along the way, and
each takes every fix that lands while it is maintained (cherry-pick -x,
a few days later) and no feature. The model must find that rule itself.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest
from builder import RepoBuilder
from snapshot import snapshot

from backport.suggest.features import split_trailers
from backport.suggest.model import train

DAY = 86400
START = 1_600_000_000  # 2020-09-13


def _fix(repo: RepoBuilder, n: int, when: int, extra: str = "") -> str:
    return repo.commit(
        f"core: fix overflow in handler {n}\n\nThe handler overflowed.\n{extra}\nSigned-off-by: A <a@example.org>\n",
        {f"core/f{n % 7}.c": f"fix {n}\n" * 3},
        when=when,
        author="Fay Fixer <fay@example.org>",
    )


def _feature(repo: RepoBuilder, n: int, when: int) -> str:
    return repo.commit(
        f"ui: add widget {n}\n\nA new widget.\n\nSigned-off-by: B <b@example.org>\n",
        {f"ui/w{n}.c": f"widget {n}\n"},
        when=when,
        author="Finn Feature <finn@example.org>",
    )


def _pick(repo: RepoBuilder, branch: str, commit: str, when: int) -> None:
    repo.checkout(branch)
    env = {"GIT_COMMITTER_DATE": f"@{when} +0000"}
    repo.git("cherry-pick", "-x", commit, env=env)
    repo.checkout("master")


def planted(path: Path, *, fresh: int = 6) -> tuple[RepoBuilder, dict[str, list[str]]]:
    """The planted history; `fresh` recent commits of each kind stay untaken."""
    repo = RepoBuilder(path)
    repo.commit("base", {"core/f0.c": "base\n", "ui/base.c": "ui\n"}, when=START)
    ids: dict[str, list[str]] = {"fix": [], "feature": [], "fresh-fix": [], "fresh-feature": []}
    lines: list[str] = []
    waiting: list[tuple[int, str, str]] = []  # (when, branch, commit) picks to make
    when = START
    total = 180
    for n in range(total):
        when += 2 * DAY
        if n in (10, 70, 130):
            name = f"stable-{1 + (n - 10) // 60}.0"
            repo.branch(name)
            lines.append(name)
        recent = n >= total - 2 * fresh
        if n % 2:
            commit = _fix(repo, n, when)
            ids["fresh-fix" if recent else "fix"].append(commit)
            if not recent:
                waiting.extend((when + 3 * DAY, line, commit) for line in lines)
        else:
            commit = _feature(repo, n, when)
            ids["fresh-feature" if recent else "feature"].append(commit)
        due = [w for w in waiting if w[0] <= when]
        for item in sorted(due):
            _pick(repo, item[1], item[2], item[0])
            waiting.remove(item)
    return repo, ids


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[RepoBuilder, dict[str, list[str]]]:
    return planted(tmp_path_factory.mktemp("planted"))


def _json(run: Callable, path: Path, *args: str) -> dict:  # type: ignore[type-arg]
    result = run("suggest", "--format", "json", *args, repo=path)
    assert result.code == 0, result.err
    return json.loads(result.out)


def _then_and_now(run: Callable, path: Path, moment: int) -> tuple[set[str], set[str]]:  # type: ignore[type-arg]
    """The commits suggested for 3.0 with --as-of `moment`, and without."""
    date = datetime.fromtimestamp(moment, timezone.utc).isoformat()
    then = _json(run, path, "--as-of", date, "--line", "3.0", "--limit", "0")["suggestions"]
    now = _json(run, path, "--line", "3.0", "--limit", "0")["suggestions"]
    return {s["commit"] for s in then}, {s["commit"] for s in now}


def _linux_planted(path: Path) -> tuple[RepoBuilder, dict[str, list[str]]]:
    """The planted history read with Linux's request forms."""
    repo, ids = planted(path, fresh=3)
    repo.git("config", "backport.preset", "linux")
    repo.git("config", "backport.line-patterns", r"stable-(?P<version>\d+\.\d+)")
    return repo, ids


def test_the_planted_kind_comes_first(run: Callable, history: tuple[RepoBuilder, dict[str, list[str]]]) -> None:  # type: ignore[type-arg]
    repo, ids = history
    doc = _json(run, repo.path, "--line", "3.0", "--limit", "6")
    top = [s["commit"] for s in doc["suggestions"] if s["version"] == "3.0"]
    assert sorted(top) == sorted(ids["fresh-fix"])
    first = doc["suggestions"][0]
    assert set(first) >= {"commit", "subject", "version", "score", "reasons", "applies"}
    assert first["applies"] == "clean" and first["reasons"]
    assert doc["lines"][0]["phase"].startswith("active")


def test_a_feature_scores_below_every_fix(run: Callable, history: tuple[RepoBuilder, dict[str, list[str]]]) -> None:  # type: ignore[type-arg]
    repo, ids = history
    doc = _json(run, repo.path, "--line", "3.0", "--limit", "0")
    score = {s["commit"]: s["score"] for s in doc["suggestions"]}
    assert set(ids["fresh-feature"]) <= set(score)
    assert max(score[c] for c in ids["fresh-feature"]) < min(score[c] for c in ids["fresh-fix"])


def test_suggest_changes_nothing(run: Callable, history: tuple[RepoBuilder, dict[str, list[str]]]) -> None:  # type: ignore[type-arg]
    repo, _ = history
    before = snapshot(repo.path)
    text = run("suggest", "--limit", "3", repo=repo.path)
    assert text.code == 0, text.err
    assert "3.0 (stable-3.0): active" in text.out
    assert snapshot(repo.path) == before


def _cut_back(source: Path, target: Path, moment: int) -> None:
    """A clone whose every branch is cut back to its last commit at `moment`,
    and a line that forked later deleted: the repository as it was then."""
    subprocess.run(["git", "clone", "-q", "--bare", "--no-local", str(source), str(target)], check=True)

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=target, check=True, capture_output=True, text=True).stdout.strip()

    branches = git("for-each-ref", "--format=%(refname)", "refs/heads").split()
    forked = {b: int(git("log", "-1", "--format=%ct", git("merge-base", b, "refs/heads/master"))) for b in branches}
    for branch in branches:
        tip = git("rev-list", "-1", f"--before={moment}", branch)
        if tip and (branch == "refs/heads/master" or forked[branch] <= moment):
            git("update-ref", branch, tip)
        else:
            git("update-ref", "-d", branch)


def test_as_of_reads_no_label_from_after_its_date(
    run: Callable, history: tuple[RepoBuilder, dict[str, list[str]]], tmp_path: Path  # type: ignore[type-arg]
) -> None:
    """The same answer from the whole repository with --as-of D as from the
    repository cut back to D: nothing made after D was read. Backports made
    after D would move the scores if they were."""
    repo, ids = history
    moment = START + 250 * DAY  # line 3.0 is ~10 days old, and takes many fixes after this
    later = repo.git("rev-list", "--count", f"--since={moment}", "stable-2.0")
    assert int(later) > 5  # labels after the date exist, and would change the model
    _cut_back(repo.path, tmp_path / "then.git", moment)
    date = datetime.fromtimestamp(moment, timezone.utc).isoformat()
    whole = _json(run, repo.path, "--as-of", date, "--limit", "0")
    then = _json(run, tmp_path / "then.git", "--as-of", date, "--limit", "0")
    assert whole["trained"] == then["trained"]
    assert whole["suggestions"] == then["suggestions"]
    assert whole["suggestions"]
    # and the date is honoured: without it the whole history is learned from
    now = _json(run, repo.path, "--limit", "0")
    assert now["trained"] != whole["trained"]


def test_never_suggested(run: Callable, make_repo: Callable[..., RepoBuilder], tmp_path: Path) -> None:  # type: ignore[type-arg]
    repo, ids = planted(tmp_path / "r", fresh=3)
    when = START + 400 * DAY
    declined = _fix(repo, 900, when, "Backport-to: none")
    requested = _fix(repo, 901, when + DAY, "Backport-to: 3.0")
    opted_out = _fix(repo, 902, when + 2 * DAY, "Cc: stable+noautosel@kernel.org # no")
    skipped = _fix(repo, 903, when + 3 * DAY)
    repo.note(skipped, "Backport-skip: 3.0 # not there")
    applied = _fix(repo, 904, when + 4 * DAY)
    _pick(repo, "stable-3.0", applied, when + 5 * DAY)
    plain = _fix(repo, 905, when + 6 * DAY)
    doc = _json(run, repo.path, "--line", "3.0", "--limit", "0")
    listed = {s["commit"] for s in doc["suggestions"]}
    assert plain in listed
    assert not listed & {declined, requested, opted_out, skipped, applied}
    # a request for 3.0 is the report's business there only: the other lines may take it too
    every = _json(run, repo.path, "--limit", "0")
    where = {s["version"] for s in every["suggestions"] if s["commit"] == requested}
    assert where == {"1.0", "2.0"}
    assert not {s["commit"] for s in every["suggestions"]} & {declined, opted_out}


def _needs_an_earlier_commit(tmp_path: Path, extra: str = "") -> tuple[RepoBuilder, str, str]:
    """The planted history, then a fix that conflicts on line 3.0 unless an
    earlier, unremarkable change (with `extra` in its message) goes first:
    (the repository, that earlier commit, the fix)."""
    repo, _ = planted(tmp_path / "r", fresh=3)
    when = START + 400 * DAY
    text = "".join(f"line {i}\n" for i in range(20))
    repo.commit("core: add table", {"core/table.c": text}, when=when)
    _pick(repo, "stable-3.0", repo.head(), when + 1)
    # an unremarkable change the line never took ...
    first = repo.commit(
        f"ui: rename an entry\n\n{extra}\n", {"core/table.c": text.replace("line 10\n", "entry 10\n")}, when=when + 2 * DAY
    )
    # ... and a fix on the same lines, which conflicts without it
    repo.commit(
        "core: fix overflow in the table\n\nSigned-off-by: A <a@example.org>\n",
        {"core/table.c": text.replace("line 10\n", "entry 10 fixed\n")},
        when=when + 3 * DAY + 60,
        author="Fay Fixer <fay@example.org>",
    )
    return repo, first, repo.head()


def test_prerequisite_for_a_conflict_one_earlier_commit_resolves(
    run: Callable, tmp_path: Path  # type: ignore[type-arg]
) -> None:
    repo, first, fix = _needs_an_earlier_commit(tmp_path)
    doc = _json(run, repo.path, "--line", "3.0", "--limit", "8")
    found = {s["commit"]: s for s in doc["suggestions"]}
    assert found[fix]["applies"] == "conflict"
    assert found[fix]["conflicts"] == ["core/table.c"]
    assert found[first]["needed_by"] == fix
    assert found[first]["reasons"][0] == f"needed first by {fix[:12]}"
    assert found[first]["applies"] == "clean"


@pytest.mark.parametrize(
    ("extra", "note"),
    [("Backport-to: none", None), ("Cc: stable+noautosel@kernel.org # no", None), ("", "Backport-skip: 3.0")],
    ids=["none", "opt-out", "skip"],
)
def test_a_commit_never_to_suggest_is_no_prerequisite_either(
    run: Callable, tmp_path: Path, extra: str, note: str | None  # type: ignore[type-arg]
) -> None:
    """The earlier commit that would make the fix apply is declined, opted
    out or skipped on the line: it is not suggested, as a prerequisite or
    otherwise, and the fix stays a conflict."""
    repo, first, fix = _needs_an_earlier_commit(tmp_path, extra)
    if note:
        repo.note(first, note)
    doc = _json(run, repo.path, "--line", "3.0", "--limit", "0")
    found = {s["commit"]: s for s in doc["suggestions"]}
    assert first not in found
    assert found[fix]["applies"] == "conflict"


def test_bad_as_of_is_a_usage_error(run: Callable, make_repo: Callable[..., RepoBuilder]) -> None:  # type: ignore[type-arg]
    repo = make_repo()
    repo.commit("base")
    result = run("suggest", "--as-of", "last tuesday", repo=repo.path)
    assert result.code == 2
    assert "--as-of" in result.err and "Traceback" not in result.err
    lineless = run("suggest", "--as-of", "2020-01-01", repo=repo.path)
    assert lineless.code == 2 and "no stable line found to rank; name one with --line" in lineless.err


def test_trailers_are_not_words() -> None:
    body, trailers = split_trailers("Explain the leak.\n\nFixes: 0123456789ab (\"x\")\nReviewed-by: R <r@x.org>\n")
    assert "leak" in body and "Fixes" not in body
    assert trailers == [("fixes", '0123456789ab ("x")'), ("reviewed-by", "R <r@x.org>")]


def test_the_model_learns_a_rule_and_is_deterministic() -> None:
    rows = [(["bias", "w:fix", f"n:{i}"], True) for i in range(30)]
    rows += [(["bias", "w:add", f"n:{i}"], False) for i in range(60)]
    model = train(rows)
    assert model.score(["bias", "w:fix"]) > 0.5 > model.score(["bias", "w:add"])
    assert train(rows, c=10).score(["bias", "w:fix"]) > 0.8  # weaker L2, bolder weights
    assert train(rows) == model
    assert model.reasons(["bias", "w:fix", "w:add"])[0][0] == "w:fix"


@pytest.mark.parametrize("fmt", ["text", "markdown", "html", "json"])
def test_report_suggest_section_in_every_format(
    run: Callable, history: tuple[RepoBuilder, dict[str, list[str]]], fmt: str  # type: ignore[type-arg]
) -> None:
    repo, ids = history
    result = run("--line", "3.0", "report", "--suggest", "--format", fmt, repo=repo.path)
    assert result.code == 0, result.err
    first = min(ids["fresh-fix"])  # any of them: all rank first
    if fmt == "json":
        doc = json.loads(result.out)
        rows = doc["suggestions"]
        assert {r["commit"] for r in rows[:6]} == set(ids["fresh-fix"])
        assert set(rows[0]) >= {"commit", "subject", "version", "score", "reasons", "applies"}
        assert doc["schema"] == 1 and "candidates" in doc
        return
    assert "Suggested (" in result.out or "Suggested <span" in result.out
    assert "the line is active" in result.out
    # ranked as of the newest commit read, which the report's own date is long after
    newest = datetime.fromtimestamp(int(repo.git("log", "-1", "--format=%ct", "--all")), timezone.utc)
    assert f"as of {newest.date().isoformat()}" in result.out
    assert first[:12] in result.out
    plain = run("--line", "3.0", "report", "--format", fmt, repo=repo.path)
    assert "Suggested" not in plain.out


def test_prerequisite_of_a_pending_commit(run: Callable, tmp_path: Path) -> None:  # type: ignore[type-arg]
    repo, _ = planted(tmp_path / "r", fresh=3)
    when = START + 400 * DAY
    text = "".join(f"line {i}\n" for i in range(20))
    repo.commit("ui: add list", {"ui/list.c": text}, when=when)
    _pick(repo, "stable-3.0", repo.head(), when + 1)
    first = repo.commit("ui: reword an entry\n", {"ui/list.c": text.replace("line 7\n", "item 7\n")}, when=when + DAY)
    nominated = repo.commit(
        "ui: correct the entry\n\nBackport-to: 3.0\n",
        {"ui/list.c": text.replace("line 7\n", "item 7 corrected\n")},
        when=when + 2 * DAY,
    )
    # without a check result at hand, suggest does not run one (minutes on a large history) ...
    doc = _json(run, repo.path, "--line", "3.0", "--limit", "3")
    assert first not in {s["commit"] for s in doc["suggestions"]}
    # ... with one, the pending commit's prerequisite comes first
    assert run("--line", "3.0", "check", repo=repo.path).code == 0
    doc = _json(run, repo.path, "--line", "3.0", "--limit", "3")
    found = {s["commit"]: s for s in doc["suggestions"]}
    assert nominated not in found  # a request is the report's business
    assert found[first]["reasons"] == [f"needed first by {nominated[:12]} (pending)"]
    assert found[first]["needed_by"] == nominated
    report = json.loads(run("--line", "3.0", "report", "--suggest", "--format", "json", repo=repo.path).out)
    assert first in {s["commit"] for s in report["suggestions"]}


def test_reasons_say_counts_in_words() -> None:
    """The feature names are the model's; the words are the reader's."""
    from backport.suggest.wording import reason_text

    assert [reason_text(f"files:{v}") for v in ("1", "2-4", "4-10", "10+")] == [
        "changes 1 file",
        "changes 2 or 3 files",
        "changes 4 to 9 files",
        "changes 10+ files",
    ]
    assert [reason_text(t) for t in ("t:reviewed-by:2", "t:reviewed-by:3", "taken:1", "taken:3")] == [
        "2 reviewed-by trailers",
        "3 or more reviewed-by trailers",
        "1 other line took it",
        "3 or more other lines took it",
    ]
    assert reason_text("lately:1-3") == "the line took 1 or 2 commits of the same area in the last 90 days"
    assert reason_text("since:never") == "the line never took a fix"
    # no feature name is shown as it is
    for token in ("same:new", "same:none", "same:some", "exist:none", "exist:some", "lately-author:10+"):
        assert ":" not in reason_text(token), token
    assert [reason_text(f"filerate:{v}") for v in ("0", "0.15-0.3", "0.5+")] == [
        "none of the earlier commits to its files were backported",
        "15% to 30% of the earlier commits to its files were backported",
        "50% or more of the earlier commits to its files were backported",
    ]


def test_backport_rates_count_only_what_was_taken_by_then(tmp_path: Path) -> None:
    """A row's backport rates (of the commit's files, of its author) count
    the earlier commits the lines had taken at the row's moment, not those
    taken later: here an author's six earlier fixes of a.c, all backported,
    but only after the moment the seventh is seen."""
    from backport.git import Git
    from backport.models import Line, Version
    from backport.suggest.engine import Rows, read_knowledge

    repo = RepoBuilder(tmp_path / "r")
    repo.commit("base", {"a.c": "0\n", "b.c": "b\n"}, when=START)
    repo.branch("stable-1.0")
    fixes = [
        repo.commit(f"a: fix {n}", {"a.c": f"v{n}\n"}, when=START + (n + 1) * DAY, author="Al <al@example.org>")
        for n in range(7)
    ]
    for n, fix in enumerate(fixes[:6]):  # backported a month later
        _pick(repo, "stable-1.0", fix, START + (30 + n) * DAY)
    lines = [Line(Version.parse("1.0"), "stable-1.0", repo.head("stable-1.0"))]
    knowledge = read_knowledge(Git(str(repo.path)), repo.head("master"), lines)
    seventh = next(c for c in knowledge.commits if c.id == fixes[6])

    def rates(at: int) -> list[str]:
        return [t for t in Rows(knowledge).row(seventh, lines[0].version, at).tokens if "rate:" in t]

    assert rates(seventh.committed + DAY) == ["filerate:0", "authorrate:0"]
    assert rates(START + 40 * DAY) == ["filerate:0.5+", "authorrate:0.5+"]


def test_a_series_mate_that_fixes_the_line_is_seen(tmp_path: Path) -> None:
    """The preparatory patch of a series whose last patch fixes a bug the
    line has is seen as such; a series whose fix is for code the line lacks
    is not, and one whose mate names an advisory says that."""
    from backport.git import Git
    from backport.models import Line, Version
    from backport.suggest.engine import Rows, read_knowledge
    from backport.suggest.wording import reason_text

    repo = RepoBuilder(tmp_path / "r")
    old = repo.commit("a: add a", {"a.c": "a\n", "b.c": "b\n"}, when=START)
    repo.branch("stable-1.0")
    new = repo.commit("b: add more", {"b.c": "more\n"}, when=START + DAY)
    ids = {}
    for name, target, when in (("on", old, 10), ("off", new, 20)):
        t = START + when * DAY
        ids[name] = repo.commit(f"{name}: prepare", {f"{name}.c": "1\n"}, when=t, author="Al <al@example.org>")
        fix = f"{name}: fix\n\nFixes: {target[:12]}\n"
        repo.commit(fix, {f"{name}.c": "2\n"}, when=t + 60, author="Al <al@example.org>")
    t = START + 30 * DAY
    ids["sec"] = repo.commit("c: prepare", {"c.c": "1\n"}, when=t, author="Al <al@example.org>")
    repo.commit("c: fix\n\nThis is XSA-1.\n", {"c.c": "2\n"}, when=t + 60, author="Al <al@example.org>")
    line = Line(Version.parse("1.0"), "stable-1.0", repo.head("stable-1.0"))
    knowledge = read_knowledge(Git(str(repo.path)), repo.head("master"), [line])
    rows = Rows(knowledge)

    def mates(name: str) -> list[str]:
        commit = next(c for c in knowledge.commits if c.id == ids[name])
        return [t for t in rows.row(commit, line.version, commit.committed).tokens if t.startswith("series:")]

    assert mates("on") == ["series:2", "series:mate-fixes"]
    assert mates("off") == ["series:2"]
    assert mates("sec") == ["series:2", "series:mate-security"]
    assert reason_text("series:mate-fixes") == "another patch of its series fixes something on the line"


def test_as_of_reads_the_notes_as_they_were(run: Callable, tmp_path: Path) -> None:  # type: ignore[type-arg]
    """With --as-of D, a decision noted before D counts and one noted after
    D does not: the notes are read as the notes ref was at D."""
    repo, ids = planted(tmp_path / "r", fresh=3)
    moment = START + 370 * DAY  # after the last commit
    early, late, merged = ids["fresh-fix"][:3]
    noted = ((early, "backport", moment - 3 * DAY), (late, "backport", moment + DAY), (merged, "other", moment - DAY))
    for commit, ref, when in noted:
        env = {"GIT_COMMITTER_DATE": f"@{when} +0000"}
        repo.git("notes", f"--ref=refs/notes/{ref}", "append", "-m", "Backport-to: none", commit, env=env)
    # another clone's notes, merged in after the date: its own commit is older than the date
    repo.git("notes", "--ref=refs/notes/backport", "merge", "refs/notes/other", env={"GIT_COMMITTER_DATE": f"@{moment + 2 * DAY} +0000"})
    then, now = _then_and_now(run, repo.path, moment)
    assert early not in then and late in then and merged in then
    assert not now & {early, late, merged}


def test_as_of_reads_no_request_for_a_prerequisite_made_later(run: Callable, tmp_path: Path) -> None:  # type: ignore[type-arg]
    """Linux's `Cc: stable@vger.kernel.org # 3.0.x: <sha>` asks for <sha> on
    3.0: the report's business, never a suggestion there. With --as-of D,
    such a request counts when its note was written or its commit landed by
    D, and not when either came later."""
    repo, ids = _linux_planted(tmp_path / "r")
    moment = START + 370 * DAY  # after the planted history
    early, late, landed = ids["fresh-fix"][:3]
    asker = ids["fresh-feature"][0]
    for needed, when in ((early, moment - DAY), (late, moment + DAY)):
        note = f"Cc: stable@vger.kernel.org # 3.0.x: {needed[:12]}: core: fix"
        env = {"GIT_COMMITTER_DATE": f"@{when} +0000"}
        repo.git("notes", "--ref=refs/notes/backport", "append", "-m", note, asker, env=env)
    message = f"core: fix it more\n\nCc: stable@vger.kernel.org # 3.0.x: {landed[:12]}: core: fix\n"
    repo.commit(message, {"core/more.c": "more\n"}, when=moment + 2 * DAY)
    then, now = _then_and_now(run, repo.path, moment)
    assert early not in then and late in then and landed in then
    assert not now & {early, late, landed}


def test_as_of_sees_the_requests_since_an_older_lines_fork(run: Callable, tmp_path: Path) -> None:  # type: ignore[type-arg]
    """A line maintained at the date, long quiet now, is ranked with
    --as-of; a commit since its fork whose message says `none` is not
    suggested there, though today's lines forked after that commit."""
    repo = RepoBuilder(tmp_path / "r")
    repo.commit("base", {"core/f0.c": "base\n", "ui/base.c": "ui\n"}, when=START)
    declined = ""
    for n in range(1, 360):
        when = START + n * 2 * DAY
        if n == 2:
            repo.branch("stable-1.0")
        if n == 300:
            repo.branch("stable-2.0")
        if 100 < n < 300:
            continue  # a quiet year: 1.0 is not maintained today
        if n == 41:
            declined = _fix(repo, n, when, "Backport-to: none")
            continue
        commit = _fix(repo, n, when) if n % 2 else _feature(repo, n, when)
        if n % 2 and (2 < n < 40 or 300 < n < 350):
            _pick(repo, "stable-1.0" if n < 40 else "stable-2.0", commit, when + DAY)
    date = datetime.fromtimestamp(START + 90 * DAY, timezone.utc).isoformat()
    doc = _json(run, repo.path, "--as-of", date, "--limit", "0")
    assert [line["version"] for line in doc["lines"]] == ["1.0"]
    assert declined not in {s["commit"] for s in doc["suggestions"]}


def test_as_of_ranks_the_lines_of_its_date(run: Callable, history: tuple[RepoBuilder, dict[str, list[str]]]) -> None:  # type: ignore[type-arg]
    """--as-of ranks the lines maintained at the date, not today's: a line
    forked later is neither ranked nor said to be idle; a date before any
    line, or one after every line went quiet, is a usage error."""
    repo, _ = history
    between = datetime.fromtimestamp(START + 200 * DAY, timezone.utc).isoformat()  # 1.0 and 2.0 exist, 3.0 not yet
    doc = _json(run, repo.path, "--as-of", between, "--limit", "1")
    assert [line["version"] for line in doc["lines"]] == ["1.0", "2.0"]
    assert doc["not_ranked"] == []
    for date, said in (("2019-01-01", "no stable line had forked by 2019-01-01"), ("2031-01-01", "no line had a commit")):
        result = run("suggest", "--as-of", date, repo=repo.path)
        assert result.code == 2 and said in result.err and "Traceback" not in result.err
    named = run("--line", "3.0", "suggest", "--as-of", between, repo=repo.path)
    assert named.code == 2 and "not forked by" in named.err


def test_reasons_are_about_the_commit() -> None:
    """What is the same for every commit of a line's list (its phase, age,
    rank), or on nearly every commit (a Signed-off-by), is never a reason.
    A reason is said once."""
    from backport.suggest.wording import reasons_text, worth_saying

    line_wide = ("phase:active", "phase:active&fix", "rank:0", "since:15-30", "t:signed-off-by", "t:reported-by:1")
    assert [t for t in line_wide if worth_saying(t)] == []
    assert worth_saying("fixes:on-line") and worth_saying("t:reported-by") and worth_saying("w:overflow")
    assert reasons_text(["exist:new", "same:new", "w:leak"]) == ("adds files only", "'leak' in the subject")


def test_a_history_with_nothing_to_learn_says_so(run: Callable, tmp_path: Path) -> None:  # type: ignore[type-arg]
    """No line has taken anything yet: every commit scores alike, and the
    text says why instead of ranking as if it knew."""
    repo = RepoBuilder(tmp_path / "r")
    repo.commit("base", {"a.c": "a\n"}, when=START)
    repo.branch("stable-1.0")
    for n in range(3):
        _fix(repo, n, START + (n + 1) * DAY, "")
    result = run("suggest", repo=repo.path)
    assert result.code == 0, result.err
    assert "nothing learned yet: no line has taken a commit that names its original" in result.out
    repo.commit("core: fix a " + "very " * 60 + "long subject", {"core/x.c": "x\n"}, when=START + 9 * DAY)
    shown = run("suggest", repo=repo.path).out
    assert "very very" in shown and max(len(row) for row in shown.splitlines()) < 140


def test_as_of_makes_no_request_of_a_note_the_scan_does_not_read(run: Callable, tmp_path: Path) -> None:  # type: ignore[type-arg]
    """A note on a commit the scan does not read (here: on the line's own
    tip, outside `unstable ^line`) naming a prerequisite: today's scan makes
    no request of it, so the commit is suggested; --as-of a date after
    every commit and note should agree."""
    repo, ids = _linux_planted(tmp_path / "r")
    moment = START + 370 * DAY
    needed = ids["fresh-fix"][0]
    outside = repo.git("rev-parse", "stable-3.0").strip()
    note = f"Cc: stable@vger.kernel.org # 3.0.x: {needed[:12]}: core: fix"
    env = {"GIT_COMMITTER_DATE": f"@{moment - DAY} +0000"}
    repo.git("notes", "--ref=refs/notes/backport", "append", "-m", note, outside, env=env)
    then, now = _then_and_now(run, repo.path, moment)
    assert needed in now
    assert needed in then
