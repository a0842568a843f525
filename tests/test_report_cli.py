"""`backport report` on real repositories: the demo (golden files for every
format) and small hostile ones built with RepoBuilder."""

from __future__ import annotations

import email
import json
import os
import re
import stat
import subprocess
from collections.abc import Callable
from email import policy
from pathlib import Path

import pytest
from backport.fixtures import xen_demo
from builder import RepoBuilder
from snapshot import snapshot
from test_report import Elements, golden

NOW = xen_demo.NOW


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "xen"
    xen_demo.build(str(path))
    return path


@pytest.mark.parametrize("fmt, name", [("text", "demo.txt"), ("markdown", "demo.md"), ("html", "demo.html")])
def test_demo_golden(run: Callable, demo: Path, fmt: str, name: str) -> None:  # type: ignore[type-arg]
    result = run("report", "--format", fmt, "--now", NOW, repo=demo)
    assert result.code == 0, result.err
    assert result.err == ""  # no progress when stderr is not a terminal
    golden(name, result.out)


def test_demo_json_is_the_check_document(run: Callable, demo: Path) -> None:  # type: ignore[type-arg]
    report = run("report", "--format", "json", "--now", NOW, repo=demo)
    check = run("check", "--format", "json", "--now", NOW, repo=demo)
    assert report.code == 0 and check.code == 0, report.err + check.err
    assert report.out == check.out
    document = json.loads(report.out)
    assert document["schema"] == 1
    assert [line["version"] for line in document["lines"]] == ["4.18", "4.19", "4.20"]
    golden("demo.json", report.out)


def test_demo_report_to_file_has_no_colour(run: Callable, demo: Path, tmp_path: Path) -> None:  # type: ignore[type-arg]
    out = tmp_path / "report.txt"
    result = run("report", "--now", NOW, "--output", str(out), repo=demo)
    assert result.code == 0 and result.out == ""
    text = out.read_text(encoding="utf-8")
    assert "\x1b[" not in text
    assert text == (Path(__file__).parent / "golden" / "demo.txt").read_text(encoding="utf-8")


def test_demo_line_option_limits_the_report(run: Callable, demo: Path) -> None:  # type: ignore[type-arg]
    result = run("--line", "4.20", "report", "--now", NOW, repo=demo)
    assert result.code == 0, result.err
    assert "== 4.20 " in result.out and "== 4.19 " not in result.out and "== 4.18 " not in result.out


def test_demo_mail(run: Callable, demo: Path, tmp_path: Path) -> None:  # type: ignore[type-arg]
    before = snapshot(demo)
    outbox = tmp_path / "outbox"
    result = run(
        "report", "--now", NOW, "--mail", str(outbox), "--output", str(tmp_path / "r.txt"), repo=demo
    )
    assert result.code == 0, result.err
    assert snapshot(demo) == before
    files = sorted(p.name for p in outbox.iterdir())
    # one message per owner team: the x86 maintainers share one, THE REST's seven another
    assert files == [
        "andrew.cooper3-at-citrix.com+6.eml",
        "gwd-at-xenproject.org+2.eml",
        "jbeulich-at-suse.com+2.eml",
        "jun.nakajima-at-intel.com+1.eml",
        "sstabellini-at-kernel.org+3.eml",
    ]
    assert f"wrote {len(files)} messages to {outbox}" in result.err
    raw = (outbox / "jbeulich-at-suse.com+2.eml").read_bytes()
    message = email.message_from_bytes(raw, policy=policy.default)
    assert [a.addr_spec for a in message["To"].addresses] == [
        "jbeulich@suse.com",
        "andrew.cooper3@citrix.com",
        "roger.pau@citrix.com",
    ]
    assert message["Cc"] is None  # no mail.cc set
    assert re.fullmatch(r"\[backport\] \d+ pending backports for [\d., ]+", message["Subject"])
    golden("demo-x86.eml", raw.decode("utf-8"))


def test_mail_cc_is_the_list(run: Callable, demo: Path, tmp_path: Path) -> None:  # type: ignore[type-arg]
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--mirror", str(demo), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "config", "backport.mail.cc", "Xen devel <xen-devel@lists.xenproject.org>"], check=True)
    outbox = tmp_path / "outbox"
    assert run("report", "--now", NOW, "--mail", str(outbox), "-o", str(tmp_path / "r"), repo=clone).code == 0
    for eml in outbox.iterdir():
        message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
        assert message["Cc"] == "Xen devel <xen-devel@lists.xenproject.org>"
    subprocess.run(["git", "-C", str(clone), "config", "backport.mail.cc", "not an address"], check=True)
    bad = run("report", "--now", NOW, "--mail", str(tmp_path / "other"), repo=clone)
    assert bad.code == 2 and bad.out == ""
    assert "git config backport.mail.cc" in bad.err and "not a mail address" in bad.err


def test_an_unwritable_mail_directory_fails_before_any_output(run: Callable, demo: Path) -> None:  # type: ignore[type-arg]
    # /proc takes no new directory, whoever runs the test (root included)
    result = run("report", "--now", NOW, "--mail", "/proc/backport-outbox", repo=demo)
    assert result.code == 2 and result.out == ""
    assert result.err.startswith("backport: error: cannot write to --mail /proc/backport-outbox: ")
    assert result.err.count("\n") == 1


def test_mail_needs_the_coordinators_address(
    run: Callable, demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # type: ignore[type-arg]
) -> None:
    for name in ("GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "GIT_AUTHOR_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--mirror", str(demo), str(clone)], check=True)
    result = run("report", "--now", NOW, "--mail", str(tmp_path / "out"), repo=clone)
    assert result.code == 2
    assert "git config user.email" in result.err and "Traceback" not in result.err
    assert not (tmp_path / "out").exists()


def test_report_changes_nothing_in_the_repository(run: Callable, demo: Path) -> None:  # type: ignore[type-arg]
    before = snapshot(demo)
    for fmt in ("text", "json"):
        assert run("report", "--format", fmt, "--now", NOW, repo=demo).code == 0
    assert snapshot(demo) == before


def test_bad_now_is_a_usage_error(run: Callable, demo: Path) -> None:  # type: ignore[type-arg]
    result = run("report", "--now", "yesterday", repo=demo)
    assert result.code == 2 and "ISO 8601" in result.err


# -- hostile commits ----------------------------------------------------------------------

EVIL_SUBJECT = '<script>alert("pwned")</script> | *x* _y_ `z` [a](javascript:b)'


def raw_commit(repo: RepoBuilder, parent: str, tree_from: str, author: bytes, message: bytes) -> str:
    """A commit object written byte for byte, as no porcelain would write it."""
    tree = repo.git("rev-parse", f"{tree_from}^{{tree}}")
    body = b"tree %s\nparent %s\nauthor %s 1700100000 +0000\ncommitter Carl <carl@example.org> 1700100000 +0000\n\n%s" % (
        tree.encode(),
        parent.encode(),
        author,
        message,
    )
    proc = subprocess.run(
        ["git", "hash-object", "-t", "commit", "-w", "--literally", "--stdin"],
        cwd=repo.path,
        input=body,
        capture_output=True,
        env=repo.env(),
        check=True,
    )
    return proc.stdout.decode().strip()


@pytest.fixture
def hostile(make_repo: Callable[..., RepoBuilder]) -> RepoBuilder:
    return build_hostile(make_repo("staging"))


def build_hostile(repo: RepoBuilder) -> RepoBuilder:
    repo.commit("base", {"xen/common/a.c": "a\n" * 5, "MAINTAINERS": 'THE "REST" <b>\nM: Eve <x> "Q" <eve@example.org>\nF: *\nF: */\n'})
    repo.branch("stable-4.20")
    repo.tag("RELEASE-4.20.0", "stable-4.20")
    repo.commit(f"{EVIL_SUBJECT}\n\nBackport-to: 4.20", {"xen/common/b.c": "b\n"}, author="Mal <mal@example.org>")
    top = repo.commit("plain\n\nBackport-to: 4.20", {"xen/common/c.c": "c\n"})
    # a Latin-1 subject with no encoding header, a carriage return and a terminal escape in it, and an
    # author name with quotes, a pipe and angle brackets
    changed = repo.commit("placeholder", {"xen/common/d.c": "d\n"})
    forged = raw_commit(
        repo,
        top,
        changed,
        b'Bob "the" | <Builder> <bob@example.org>',
        b"caf\xe9: fix \xff\xfe bytes\rBcc: evil@example.org\x1b[31m\n\nBackport-to: 4.20\n",
    )
    repo.git("update-ref", "refs/heads/staging", forged)
    repo.git("reset", "-q", "--hard", forged)
    return repo


def test_hostile_html(run: Callable, hostile: RepoBuilder) -> None:  # type: ignore[type-arg]
    result = run("report", "--format", "html", "--now", "2024-01-01T00:00:00+00:00", repo=hostile.path)
    assert result.code == 0, result.err
    page = result.out
    parsed = Elements()
    parsed.feed(page)
    assert parsed.tags.count("script") == 1 and "b" not in parsed.tags
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in page
    assert "caf\ufffd: fix" in page  # undecodable bytes shown as replacement characters
    assert "<Builder>" not in page


def test_hostile_markdown(run: Callable, hostile: RepoBuilder) -> None:  # type: ignore[type-arg]
    result = run("report", "--format", "markdown", "--now", "2024-01-01T00:00:00+00:00", repo=hostile.path)
    assert result.code == 0, result.err
    assert not re.search(r"(?<!\\)<", result.out)
    assert r"\<script\>alert(" in result.out and r"\| \*x\* \_y\_ \`z\` \[a\]" in result.out


def test_hostile_mail(run: Callable, hostile: RepoBuilder, tmp_path: Path) -> None:  # type: ignore[type-arg]
    outbox = tmp_path / "outbox"
    result = run(
        "report", "--now", "2024-01-01T00:00:00+00:00", "--mail", str(outbox), "-o", str(tmp_path / "r"), repo=hostile.path
    )
    assert result.code == 0, result.err
    (eml,) = outbox.iterdir()
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert sorted(message.keys()) == sorted(
        ["From", "To", "Subject", "Date", "Message-ID", "Content-Type", "Content-Transfer-Encoding", "MIME-Version"]
    )
    assert message["To"].addresses[0].addr_spec == "eve@example.org"
    assert message["From"].addresses[0].addr_spec == "carl@example.org"
    body = message.get_content()
    assert EVIL_SUBJECT in body and "caf\ufffd: fix \ufffd\ufffd bytes\\x0dBcc: evil@example.org\\x1b[31m" in body


def test_hostile_text_cannot_drive_the_terminal(run: Callable, hostile: RepoBuilder) -> None:  # type: ignore[type-arg]
    result = run("report", "--now", "2024-01-01T00:00:00+00:00", repo=hostile.path)
    assert result.code == 0, result.err
    assert "\x1b" not in result.out and "\r" not in result.out
    assert "bytes\\x0dBcc: evil@example.org\\x1b[31m" in result.out


def test_mail_into_a_file_is_a_usage_error(run: Callable, hostile: RepoBuilder, tmp_path: Path) -> None:  # type: ignore[type-arg]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run("report", "--mail", str(blocker), "-o", str(tmp_path / "r"), repo=hostile.path)
    assert result.code == 2 and "is a file" in result.err
    result = run("report", "--mail", str(blocker / "sub"), "-o", str(tmp_path / "r"), repo=hostile.path)
    assert result.code == 2 and "cannot write to --mail" in result.err and "Traceback" not in result.err


def test_progress_only_on_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    from backport.commands.report import Progress

    quiet = Progress(False)
    quiet("simulating 4.20")
    quiet.done()
    assert capsys.readouterr().err == ""
    shown = Progress(True)
    shown("simulating 4.20")
    shown.done()
    err = capsys.readouterr().err
    assert "simulating 4.20" in err and err.endswith("\r\x1b[K")


def test_written_files_get_the_usual_mode(run: Callable, hostile: RepoBuilder, tmp_path: Path) -> None:  # type: ignore[type-arg]
    old = os.umask(0o022)
    try:
        out, outbox = tmp_path / "r.html", tmp_path / "outbox"
        assert run("report", "--format", "html", "-o", str(out), "--mail", str(outbox), repo=hostile.path).code == 0
        assert stat.S_IMODE(out.stat().st_mode) == 0o644
        assert all(stat.S_IMODE(p.stat().st_mode) == 0o644 for p in outbox.iterdir())
        out.chmod(0o600)  # a file the user made private stays private
        assert run("report", "-o", str(out), repo=hostile.path).code == 0
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_a_warm_report_walks_no_history(run: Callable, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[type-arg]
    """Run again over unchanged history, the report reads its cache: no
    rev-list (what went in since each release included), no log."""
    repo = RepoBuilder(tmp_path / "repo", branch="staging")
    repo.commit("base", {"a.c": "a\n"})
    repo.branch("stable-4.20")
    repo.tag("RELEASE-4.20.0", "stable-4.20")
    repo.checkout("stable-4.20")
    repo.commit("on the line", {"b.c": "b\n"})
    repo.checkout("staging")
    repo.commit("x86: fix\n\nBackport-to: 4.20\n", {"a.c": "fixed\n"})
    first = run("report", "--now", NOW, repo=repo.path)
    assert first.code == 0 and "Last release RELEASE-4.20.0" in first.out, first
    trace = tmp_path / "trace"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    again = run("report", "--now", NOW, repo=repo.path)
    monkeypatch.delenv("GIT_TRACE")
    assert again.out == first.out
    commands = [row.split("built-in: git ", 1)[1].split()[0] for row in trace.read_text().splitlines() if "built-in: git " in row]
    assert not {"rev-list", "log", "merge-base"} & set(commands), commands
