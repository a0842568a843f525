"""`backport tag`: on HEAD (amend) and on format-patch files."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from builder import RepoBuilder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_hook import lines_repo

from backport.git import Git
from backport.maintainer.tagging import insert_trailer
from backport.nominations import parse

TRAILER = "Backport-to: 4.19+"


@pytest.fixture
def repo(make_repo: Callable[..., RepoBuilder]) -> tuple[RepoBuilder, dict[str, str]]:
    return lines_repo(make_repo)


def head_fields(builder: RepoBuilder) -> dict[str, str]:
    fmt = "%an%x00%ae%x00%ad%x00%T%x00%P"
    keys = ("author", "email", "date", "tree", "parents")
    return dict(zip(keys, builder.git("log", "-1", f"--format={fmt}", "--date=raw").split("\0"), strict=True))


def raw_message(builder: RepoBuilder) -> bytes:
    raw = subprocess.run(["git", "cat-file", "commit", "HEAD"], cwd=builder.path, capture_output=True, check=True).stdout
    return raw.split(b"\n\n", 1)[1]


def commit_verbatim(builder: RepoBuilder, message: bytes) -> None:
    """A commit whose message is exactly these bytes (no cleanup), on top of HEAD."""
    subprocess.run(
        ["git", "commit", "-q", "--allow-empty", "--cleanup=verbatim", "-F", "-"],
        cwd=builder.path,
        env=builder.env(GIT_AUTHOR_DATE="@1700500000 +0200", GIT_AUTHOR_NAME="Émile Author"),
        input=message,
        check=True,
    )


# -- HEAD ------------------------------------------------------------------------


def test_head_amend_keeps_author_date_tree_and_other_trailers(
    repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object]
) -> None:
    builder, ids = repo
    message = (
        b"x86: fix the thing\n\nA body line with trailing blanks   \n\n"
        b"Fixes: " + ids["mid"][:12].encode() + b"\nSigned-off-by:Ada <ada@example.org>\nReviewed-by: Bob  <bob@example.org>\n"
    )
    commit_verbatim(builder, message)
    before = head_fields(builder)
    result = run("tag", "--to", "4.19+", "-m", "maybe older", repo=builder.path)
    assert result.code == 0, result.err
    assert result.out.startswith("HEAD: added 'Backport-to: 4.19+ # maybe older'")
    assert head_fields(builder) == before
    # every byte of the old message kept (git would have written 'Signed-off-by: Ada'), one line added at the end
    assert raw_message(builder) == message + b"Backport-to: 4.19+ # maybe older\n"
    assert builder.git("interpret-trailers", "--parse", input=builder.git("log", "-1", "--format=%B")).splitlines()[-1] == (
        "Backport-to: 4.19+ # maybe older"
    )


def test_head_without_trailers_gets_a_trailer_paragraph(
    repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object]
) -> None:
    builder, _ = repo
    commit_verbatim(builder, b"Tidy up\n\nJust a body.\n")
    assert run("tag", "--to", "4.20", repo=builder.path).code == 0
    assert raw_message(builder) == b"Tidy up\n\nJust a body.\n\nBackport-to: 4.20\n"


def test_tag_is_idempotent(repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object]) -> None:
    builder, _ = repo
    commit_verbatim(builder, b"Tidy up\n\nSigned-off-by: Ada <ada@example.org>\n")
    assert run("tag", "--to", "4.19", "--to", "4.20", repo=builder.path).code == 0
    after_first = builder.head()
    for again in (("--to", "4.19", "--to", "4.20"), ("--to", "4.19+"), ("--to", "4.20")):
        result = run("tag", *again, repo=builder.path)
        assert (result.code, result.out.strip()) == (0, "HEAD: already nominated ('Backport-to: 4.19, 4.20'), nothing to do")
    assert builder.head() == after_first
    assert run("tag", "--to", "4.18", repo=builder.path).out.startswith("HEAD: added 'Backport-to: 4.18'")
    assert raw_message(builder).endswith(b"Backport-to: 4.19, 4.20\nBackport-to: 4.18\n")


def test_tag_without_to_on_a_nominated_head_says_so(repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object]) -> None:
    """No Fixes: to infer from, but nothing to infer either: it is nominated already."""
    builder, _ = repo
    commit_verbatim(builder, b"Tidy up\n\nBackport-to: 4.20\n")
    before = builder.head()
    result = run("tag", repo=builder.path)
    assert (result.code, result.out, result.err) == (0, "HEAD: already nominated ('Backport-to: 4.20'), nothing to do\n", "")
    assert builder.head() == before


@pytest.mark.parametrize(
    "wrong, said",
    [
        (b"Backport-to: 4.21", "unknown stable line 4.21 (known: 4.18, 4.19, 4.20)"),
        (b"Backport-to: 4.2O", "malformed version '4.2O' (expected e.g. 4.20, 4.18+ or none)"),
    ],
)
def test_a_wrong_nomination_is_said_and_replaced_only_with_fix(
    repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object], wrong: bytes, said: str
) -> None:
    builder, _ = repo
    commit_verbatim(builder, b"Tidy up\n\n" + wrong + b"\nSigned-off-by: Ada <ada@example.org>\n")
    before = builder.head()
    result = run("tag", "--to", "4.20", repo=builder.path)
    assert result.code == 2 and result.out == ""
    assert result.err == (
        f"backport: error: HEAD already has {wrong.decode()!r} ({said}); run again with --fix to replace it\n"
    )
    assert builder.head() == before
    fixed = run("tag", "--to", "4.20", "--fix", repo=builder.path)
    assert fixed.code == 0 and fixed.out.startswith(f"HEAD: added 'Backport-to: 4.20' (replaced {wrong.decode()!r}; ")
    assert raw_message(builder) == b"Tidy up\n\nBackport-to: 4.20\nSigned-off-by: Ada <ada@example.org>\n"
    assert head_fields(builder)["date"] == "1700500000 +0200"
    again = run("tag", "--to", "4.20", "--fix", repo=builder.path)
    assert again.out == "HEAD: already nominated ('Backport-to: 4.20'), nothing to do\n"


def test_fix_in_a_patch_file_changes_only_that_line(
    repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object], tmp_path: Path
) -> None:
    builder, _ = repo
    builder.commit("Fix it\n\nBackport-to: 4.21\nSigned-off-by: Ada <ada@example.org>", {"z.c": "Backport-to: 4.21\n"})
    subprocess.run(["git", "format-patch", "-q", "-1", "-o", str(tmp_path / "out")], cwd=builder.path, check=True)
    (patch,) = (tmp_path / "out").iterdir()
    before = patch.read_bytes()
    assert run("tag", "--to", "4.20", str(patch), repo=builder.path).code == 2
    assert patch.read_bytes() == before
    assert run("tag", "--to", "4.20", "--fix", str(patch), repo=builder.path).code == 0
    after = patch.read_bytes()
    assert after == before.replace(b"\nBackport-to: 4.21\n", b"\nBackport-to: 4.20\n", 1)
    assert b"+Backport-to: 4.21\n" in after  # the diff's own line is the diff's


def test_refuses_with_staged_changes(repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object]) -> None:
    builder, _ = repo
    before = builder.head()
    builder.write({"new.c": "staged\n"})
    builder.git("add", "new.c")
    result = run("tag", "--to", "4.20", repo=builder.path)
    assert result.code == 2
    assert result.err == (
        "backport: error: there are staged changes, which amending HEAD would take in; "
        "commit or unstage them (git restore --staged PATH) first\n"
    )
    assert builder.head() == before


def test_unstaged_changes_are_left_alone(repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object]) -> None:
    builder, _ = repo
    builder.write({"a.c": "edited, not staged\n"})
    tree = head_fields(builder)["tree"]
    assert run("tag", "--to", "4.20", repo=builder.path).code == 0
    assert head_fields(builder)["tree"] == tree
    assert (builder.path / "a.c").read_text() == "edited, not staged\n"


@pytest.mark.parametrize(
    ("to", "error"),
    [
        ("4.21", "unknown stable line 4.21 (known: 4.18, 4.19, 4.20)"),
        ("4.2O", "bad --to '4.2O': malformed version '4.2O'"),
        ("5.0+", "no stable line 5.0 or newer"),
    ],
)
def test_bad_versions_are_refused(
    repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object], to: str, error: str
) -> None:
    builder, _ = repo
    before = builder.head()
    result = run("tag", "--to", to, repo=builder.path)
    assert result.code == 2 and error in result.err
    assert builder.head() == before


def test_a_request_template_the_project_would_not_read_is_refused(
    repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object]
) -> None:
    builder, _ = repo
    before = builder.head()
    builder.git("config", "backport.requestTemplate", "Backport-to: {nope}")
    result = run("tag", "--to", "4.20", repo=builder.path)
    assert result.code == 2 and result.err.count("\n") == 1, result
    assert "request-template (git config backport.requestTemplate) writes 'Backport-to: {nope} # 4.20+'" in result.err
    assert builder.head() == before


def test_none_and_its_contradictions(repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object]) -> None:
    builder, _ = repo
    assert run("tag", "--to", "none", "-m", "cosmetic", repo=builder.path).code == 0
    assert raw_message(builder).endswith(b"\n\nBackport-to: none # cosmetic\n")
    result = run("tag", "--to", "4.20", repo=builder.path)
    assert result.code == 2 and "it already says 'Backport-to: none # cosmetic'" in result.err


def test_value_is_inferred_from_fixes(repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object]) -> None:
    builder, ids = repo
    builder.commit(f"Fix it\n\nFixes: {ids['mid'][:12]}")
    assert run("tag", repo=builder.path).out.startswith("HEAD: added 'Backport-to: 4.19+'")
    builder.commit("Add a knob")
    result = run("tag", repo=builder.path)
    assert result.code == 2 and "cannot tell which lines HEAD is for: it has no Fixes: line" in result.err


def test_published_head_is_not_rewritten(
    repo: tuple[RepoBuilder, dict[str, str]], make_repo: Callable[..., RepoBuilder], run: Callable[..., object]
) -> None:
    builder, _ = repo
    clone = make_repo()
    clone.git("fetch", "-q", str(builder.path), "+refs/heads/*:refs/remotes/origin/*")
    clone.git("checkout", "-q", "-b", "staging", "origin/staging")
    result = run("tag", "--to", "4.20", repo=clone.path)
    assert result.code == 2
    assert "HEAD is already on origin/staging" in result.err and "backport nominate" in result.err


# -- patch files -----------------------------------------------------------------


def make_patches(builder: RepoBuilder, out: Path) -> list[Path]:
    builder.commit("Subject only", {"x.c": "one\n"})
    builder.commit("With a body\n\nIt explains.\n\nSigned-off-by: Ada <ada@example.org>", {"x.c": "two\n"})
    builder.git("format-patch", "-q", "-2", "--cover-letter", "-o", str(out))
    return sorted(out.iterdir())


def split_patch(data: bytes) -> tuple[bytes, bytes]:
    at = re.search(rb"^---\r?$", data, re.MULTILINE)
    assert at
    return data[: at.start()], data[at.start() :]


def test_patch_files_get_the_trailer_before_the_divider(
    repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object], tmp_path: Path
) -> None:
    builder, _ = repo
    cover, first, second = make_patches(builder, tmp_path / "out")
    old = {p: p.read_bytes() for p in (cover, first, second)}
    result = run("tag", "--to", "4.20", str(cover), str(first), str(second), repo=builder.path)
    assert result.code == 0, result.err
    assert f"{cover}: a cover letter, left alone" in result.out
    assert cover.read_bytes() == old[cover]
    for patch in (first, second):
        head, tail = split_patch(patch.read_bytes())
        old_head, old_tail = split_patch(old[patch])
        assert tail == old_tail  # the diff, byte for byte
        added = [line for line in head.split(b"\n") if line not in old_head.split(b"\n")]
        assert added == [b"Backport-to: 4.20"]
    assert split_patch(second.read_bytes())[0].endswith(b"Signed-off-by: Ada <ada@example.org>\nBackport-to: 4.20\n")
    assert split_patch(first.read_bytes())[0].endswith(b"Subject: [PATCH 1/2] Subject only\n\nBackport-to: 4.20\n\n")
    again = run("tag", "--to", "4.20", str(first), str(second), repo=builder.path)
    assert again.out.count("already nominated") == 2


def test_tagged_patch_applies_with_the_trailer_in_its_trailer_block(
    repo: tuple[RepoBuilder, dict[str, str]], make_repo: Callable[..., RepoBuilder], run: Callable[..., object], tmp_path: Path
) -> None:
    builder, ids = repo
    base = builder.head()
    builder.commit(f"Fix it\n\nFixes: {ids['old'][:12]}\nSigned-off-by: Ada <ada@example.org>", {"a.c": "fixed\n"})
    patch = Path(builder.git("format-patch", "-1", "-o", str(tmp_path / "out")))
    assert run("tag", str(patch), repo=builder.path).out.startswith(f"{patch}: added 'Backport-to: 4.18+'")
    builder.git("checkout", "-q", "-b", "apply", base)
    builder.git("am", "-q", str(patch))
    message = builder.git("log", "-1", "--format=%B")
    nominations = parse(message).nominations
    assert [(n.text, n.misplaced) for n in nominations] == [("Backport-to: 4.18+", False)]


def test_crlf_patch_stays_crlf(repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object], tmp_path: Path) -> None:
    builder, _ = repo
    _, _, second = make_patches(builder, tmp_path / "out")
    crlf = second.read_bytes().replace(b"\n", b"\r\n")
    second.write_bytes(crlf)
    assert run("tag", "--to", "4.20", str(second), repo=builder.path).code == 0
    assert second.read_bytes() == crlf.replace(b"Signed-off-by: Ada <ada@example.org>\r\n", b"Signed-off-by: Ada <ada@example.org>\r\nBackport-to: 4.20\r\n")


def test_not_a_patch_and_a_series_file_are_refused(
    repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object], tmp_path: Path
) -> None:
    builder, _ = repo
    plain = tmp_path / "notes.txt"
    plain.write_text("just text\n")
    assert "is not a git format-patch file" in run("tag", "--to", "4.20", str(plain), repo=builder.path).err
    builder.commit("one", {"x.c": "1\n"})
    builder.commit("two", {"x.c": "2\n"})
    series = tmp_path / "series.mbox"
    series.write_text(builder.git("format-patch", "-2", "--stdout") + "\n")
    result = run("tag", "--to", "4.20", str(series), repo=builder.path)
    assert result.code == 2 and "holds several patches" in result.err


# -- properties --------------------------------------------------------------------

_LINES = st.one_of(
    st.sampled_from(["", " ", "---", "# note", "Signed-off-by: A <a@b>", "Fixes:abc", "Key : v", "  cont", "Backport-to: 4.19+"]),
    st.text(alphabet="ab :#-\t\r", max_size=12),
)
_MESSAGES = st.lists(_LINES, min_size=0, max_size=12).map(lambda lines: "\n".join(lines).encode())


def _without_insertion(old: bytes, new: bytes) -> list[bytes]:
    """new's lines with the added trailer (and blank separators) taken out, if they form one block."""
    original = old if old.endswith(b"\n") else old + b"\n"
    a, b = original.split(b"\n"), new.split(b"\n")
    start = 0
    while start < len(a) and a[start] == b[start]:
        start += 1
    block = [line.rstrip(b"\r") for line in b[start : start + len(b) - len(a)]]  # CRLF text gets CRLF lines
    assert block.count(TRAILER.encode()) == 1 and all(not line.strip() or line == TRAILER.encode() for line in block)
    return b[:start] + b[start + len(block) :]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(message=_MESSAGES)
def test_insert_trailer_keeps_every_other_line(tmp_path: Path, message: bytes) -> None:
    git = Git(str(tmp_path))
    new = insert_trailer(git, message, TRAILER, patch=False)
    if new is None:  # git saw the same trailer in the trailer block already
        assert TRAILER.encode() in message
        return
    original = message if message.endswith(b"\n") else message + b"\n"
    assert _without_insertion(message, new) == original.split(b"\n")
    if re.search(rb"^#", original, re.MULTILINE):
        return  # git drops comment lines inside a trailer block; we keep every line, so there we may differ
    # git reads the same trailers from our result as from its own
    interpret = ["interpret-trailers", "--no-divider"]
    theirs = git.run([*interpret, "--trailer", TRAILER], input=original).stdout
    assert git.run([*interpret, "--parse"], input=new).stdout == git.run([*interpret, "--parse"], input=theirs).stdout


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(message=st.lists(st.sampled_from(["Body words.", "", "Signed-off-by: A <a@b>", "Key:v", "# hash", "---"]), max_size=6))
def test_tag_head_keeps_every_other_line(
    repo: tuple[RepoBuilder, dict[str, str]], run: Callable[..., object], message: list[str]
) -> None:
    builder, _ = repo
    text = ("Subject\n" + "\n".join(message) + "\n").encode()
    commit_verbatim(builder, text)
    result = run("tag", "--to", "4.19+", repo=builder.path)
    assert result.code == 0, result.err
    assert _without_insertion(text, raw_message(builder)) == text.split(b"\n")
