"""Grouping and rendering of hand-built verdict records (no git needed here);
the command on real repositories is in test_report_cli.py."""

from __future__ import annotations

import email
import html
import os
import re
from datetime import datetime, timezone
from email import policy
from html.parser import HTMLParser
from pathlib import Path

import pytest

from backport.escape import one_line
from backport.models import (
    APPLIED,
    NOT_NEEDED,
    PENDING,
    REVERTED,
    SKIPPED,
    Candidate,
    CheckResult,
    Line,
    Nomination,
    Problem,
    Release,
    Request,
    Target,
    UntaggedFix,
    Verdict,
    Version,
)
from backport.record import replace
from backport.report.grouping import build
from backport.report.html import render_html
from backport.report.mail import messages, person
from backport.report.markdown import escape
from backport.report.markdown import render as render_markdown
from backport.report.text import render as render_text

GOLDEN = Path(__file__).resolve().parent / "golden"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
V19, V20 = Version((4, 19)), Version((4, 20))
JAN = "Jan Kowalski <jan.kowalski@example.org>"
ANDREA = "Andrea Cooper <andrea.cooper@example.org>"
KEVIN = "Kevin Tanaka <kevin.tanaka@example.org>"
HOSTILE_SUBJECT = '<script>alert("x")</script> | *bold* _em_ `tick` [link](http://e.x) & &amp; ~~s~~\nBcc: evil@example.org'
HOSTILE_AUTHOR = 'Mallory "M" <\n>Bcc: x <mallory@example.org>'


def golden(name: str, text: str) -> None:
    """Compare with tests/golden/NAME; UPDATE_GOLDEN=1 rewrites it."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs; UPDATE_GOLDEN=1 to accept"


def sha(n: int) -> str:
    return f"{n:02x}" * 20


def candidate(n: int, subject: str, author: str = JAN, *, days_ago: int = 10, parents: int = 1) -> Candidate:
    landed = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc).timestamp() - days_ago * 86400
    when = datetime.fromtimestamp(landed, timezone.utc).isoformat()
    return Candidate(
        commit=sha(n),
        subject=subject,
        author=author,
        date=when,
        committed=when,
        parents=tuple(sha(200 + n + i) for i in range(parents)),
        order=n,
        nominations=(Nomination("trailer", "Backport-to: 4.19+", "request", (Request(V19, plus=True),)),),
    )


def pending(version: Version, applies: str = "clean", **fields: object) -> Target:
    base: dict[str, object] = {"state": PENDING, "applies": applies, "age_days": 10, "owners": (JAN,)}
    base.update(fields)
    return Target(version, **base)  # type: ignore[arg-type]


def sample_result() -> CheckResult:
    lines = (
        Line(V19, "stable-4.19", sha(190), (Release("RELEASE-4.19.0", (4, 19, 0), sha(191), "2024-07-29T10:00:00+00:00"),)),
        Line(
            V20,
            "stable-4.20",
            sha(180),
            (
                Release("RELEASE-4.20.0", (4, 20, 0), sha(181), "2025-03-05T10:00:00+00:00"),
                Release("RELEASE-4.20.1", (4, 20, 1), sha(182), "2025-05-20T10:00:00+00:00"),
            ),
        ),
    )
    verdicts = (
        Verdict(
            candidate(1, "x86/mm: fix refcount leak in p2m teardown", days_ago=47),
            candidate(1, "").nominations,
            (
                pending(V19, age_days=47, stale=True, stale_reason="waiting 47 days", owners=(JAN, ANDREA)),
                Target(V20, APPLIED, applied_as=sha(101), evidence="cherry-picked-from"),
            ),
        ),
        Verdict(
            candidate(2, "vmx: correct the EPT violation handling", KEVIN, days_ago=20),
            (),
            (
                pending(V19, "conflict", conflicts=("xen/arch/x86/hvm/vmx/vmx.c",), age_days=20, owners=(KEVIN,)),
                pending(
                    V20,
                    "conflict",
                    conflicts=("xen/arch/x86/hvm/vmx/vmx.c", "xen/arch/x86/mm/p2m-ept.c"),
                    age_days=20,
                    stale=True,
                    stale_reason="missed RELEASE-4.20.1",
                    owners=(KEVIN,),
                ),
            ),
        ),
        Verdict(
            candidate(3, "x86/mm: follow-up to the refcount fix", days_ago=5),
            (),
            (pending(V19, after=(sha(1),), age_days=5, owners=(JAN, ANDREA)), Target(V20, APPLIED, applied_as=sha(183), evidence="patch-id")),
        ),
        Verdict(candidate(4, "Merge branch 'xsa-470'", ANDREA, parents=2), (), (pending(V20, owners=(ANDREA,)),), merge=True),
        Verdict(candidate(5, "tools: build with gcc 15"), (), (pending(V20, age_days=3, owners=(ANDREA,)),)),
        Verdict(candidate(6, "docs: new feature"), (), (Target(V19, SKIPPED, reason="feature, not a fix"),)),
        Verdict(
            replace(candidate(7, "sched: fix credit2 accounting"), fixes=(sha(77),)),
            (),
            (Target(V19, NOT_NEEDED, evidence="fixes"),),
        ),
        Verdict(candidate(8, "x86: speculative hardening"), (), (Target(V20, REVERTED, reason="reverted by 0909090909"),)),
        Verdict(candidate(9, "argo: an old backport"), (), (Target(V20, APPLIED, applied_as=sha(9), evidence="ancestor"),)),
    )
    return CheckResult(
        unstable_ref="staging",
        unstable_commit=sha(250),
        lines=lines,
        verdicts=verdicts,
        untagged_fixes=(UntaggedFix(candidate(10, "xen/sched: fix a use-after-free"), sha(88), (V19, V20)),),
        problems=(Problem(sha(11), "Backport-to: 4.2O", "unknown version '4.2O'"),),
        now=NOW.isoformat(),
    )


def reproduce(commit: str, ref: str) -> str:
    return f"git worktree add --detach /tmp/bp {ref} && git -C /tmp/bp cherry-pick -x {commit}"


@pytest.fixture
def report():  # type: ignore[no-untyped-def]
    return build(sample_result(), went_in={V20: frozenset({sha(183)})}, reproduce=reproduce)


# -- grouping -----------------------------------------------------------------------


def test_lines_are_grouped_by_state_in_unstable_order(report) -> None:  # type: ignore[no-untyped-def]
    l19, l20 = report.lines
    assert [e.commit for e in l19.clean] == [sha(1), sha(3)]
    assert [e.commit for e in l19.conflict] == [sha(2)]
    assert [e.commit for e in l19.skipped] == [sha(6)]
    assert [e.commit for e in l19.not_needed] == [sha(7)]
    assert [e.commit for e in l20.clean] == [sha(4), sha(5)]
    assert [e.commit for e in l20.reverted] == [sha(8)]
    assert (l19.applied, l20.applied) == (0, 3)


def test_stale_is_a_mark_on_pending_rows_not_a_list_of_its_own(report) -> None:  # type: ignore[no-untyped-def]
    l19, l20 = report.lines
    assert [(e.commit, e.target.stale_reason) for e in l19.stale] == [(sha(1), "waiting 47 days")]
    assert [(e.commit, e.target.stale_reason) for e in l20.stale] == [(sha(2), "missed RELEASE-4.20.1")]
    assert report.stale == 2 and report.pending == 6
    text = render_text(report)
    assert "Stale (" not in text and "### Stale" not in render_markdown(report)
    # every pending row once per line, its staleness on it
    assert text.count("010101010101  x86/mm: fix refcount leak") == 1
    assert "STALE: waiting 47 days" in next(row for row in text.splitlines() if row.startswith("  010101010101"))


def test_went_in_since_release_counts_applied_after_the_tag(report) -> None:  # type: ignore[no-untyped-def]
    # sha(101) and sha(9) are on 4.20 but were there before RELEASE-4.20.1
    assert [line.went_in_since_release for line in report.lines] == [0, 1]


def test_ready_picks_are_one_backport_pick_per_line(report) -> None:  # type: ignore[no-untyped-def]
    l19, l20 = report.lines
    # backport pick takes the clean ones in unstable order, merges (-m 1) included
    assert (l19.pick_command, l20.pick_command) == ("backport pick --line 4.19", "backport pick --line 4.20")


def test_a_conflict_row_says_how_to_start_its_resolution(report) -> None:  # type: ignore[no-untyped-def]
    entry = report.lines[1].conflict[0]
    assert entry.resolve == f"backport pick --line 4.20 {sha(2)}"
    text = render_text(report)
    assert f"    # 020202020202: resolve it\n    backport pick --line 4.20 {sha(2)}\n" in text
    assert "git cherry-pick -x" not in text.replace(entry.reproduce or "", "")


def test_conflicts_get_a_reproduce_command(report) -> None:  # type: ignore[no-untyped-def]
    entry = report.lines[1].conflict[0]
    assert entry.reproduce == reproduce(sha(2), "stable-4.20")
    assert report.lines[0].clean[0].reproduce is None


def test_debts_are_owner_teams_each_entry_in_one(report) -> None:  # type: ignore[no-untyped-def]
    owed = {d.owners: [(str(e.line.version), e.commit) for e in d.entries] for d in report.debts}
    assert owed == {
        (JAN, ANDREA): [("4.19", sha(1)), ("4.19", sha(3))],
        (ANDREA,): [("4.20", sha(4)), ("4.20", sha(5))],
        (KEVIN,): [("4.19", sha(2)), ("4.20", sha(2))],
    }
    # most owed first; then most stale; then by name
    assert [d.owners for d in report.debts] == [(JAN, ANDREA), (KEVIN,), (ANDREA,)]
    kevin = report.debts[1]
    assert (kevin.conflicts, kevin.stale, kevin.versions) == (2, 1, (V19, V20))
    every = [(e.line.version, e.commit) for d in report.debts for e in d.entries]
    assert len(every) == len(set(every)) == report.pending


def test_the_author_owns_what_maintainers_does_not_cover() -> None:
    result = sample_result()
    verdict = result.verdicts[4]
    bare = Verdict(verdict.candidate, (), (pending(V20, owners=()),))
    report = build(CheckResult("staging", sha(250), result.lines, (bare,), now=result.now))
    assert [d.owner for d in report.debts] == [JAN]


def test_same_address_spelled_twice_is_one_debt() -> None:
    result = sample_result()
    a = Verdict(candidate(1, "a"), (), (pending(V19, owners=("Jan K <JAN.KOWALSKI@example.org>",)),))
    b = Verdict(candidate(2, "b"), (), (pending(V20, owners=(JAN,)),))
    report = build(CheckResult("staging", sha(250), result.lines, (a, b), now=result.now))
    assert len(report.debts) == 1 and len(report.debts[0].entries) == 2


# -- rendering: golden files ------------------------------------------------------------


def test_text_golden(report) -> None:  # type: ignore[no-untyped-def]
    golden("records.txt", render_text(report))


def test_markdown_golden(report) -> None:  # type: ignore[no-untyped-def]
    golden("records.md", render_markdown(report))


def test_html_golden(report) -> None:  # type: ignore[no-untyped-def]
    golden("records.html", render_html(report))


def test_text_is_coloured_only_when_asked(report) -> None:  # type: ignore[no-untyped-def]
    assert "\x1b[" not in render_text(report)
    coloured = render_text(report, colour=True)
    assert "\x1b[31m" in coloured  # stale rows in red
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == render_text(report)


def test_empty_report_says_so() -> None:
    result = sample_result()
    report = build(CheckResult("staging", sha(250), result.lines, (), now=result.now))
    text = render_text(report)
    assert text.count("Nothing pending.") == 2 and "Nobody owes a backport." in text
    assert "Nobody owes a backport." in render_markdown(report)
    assert "Nobody owes a backport." in render_html(report)


# -- hostile text -------------------------------------------------------------------------


def hostile_report():  # type: ignore[no-untyped-def]
    result = sample_result()
    bad = Candidate(
        commit=sha(42),
        subject=HOSTILE_SUBJECT,
        author=HOSTILE_AUTHOR,
        date=result.verdicts[0].candidate.date,
        committed=result.verdicts[0].candidate.committed,
        parents=(sha(43),),
        order=42,
    )
    targets = (
        pending(V19, owners=(HOSTILE_AUTHOR,)),
        pending(V20, "conflict", conflicts=("a|b\nc<i>.c",), owners=(HOSTILE_AUTHOR,), stale=True, stale_reason="<b>x</b>"),
    )
    verdicts = (Verdict(bad, (), targets), Verdict(bad, (), (Target(V19, SKIPPED, reason="<img src=x onerror=alert(1)>"),)))
    fix = UntaggedFix(bad, sha(44), (V19,))
    problem = Problem(sha(42), "Backport-to: <script>", "bad </td> value")
    return build(
        CheckResult("staging", sha(250), result.lines, verdicts, (fix,), (problem,), now=result.now),
        reproduce=reproduce,
    )


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.scripts: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def test_html_escapes_everything_from_the_repository() -> None:
    page = render_html(hostile_report())
    parsed = Elements()
    parsed.feed(page)
    assert parsed.tags.count("script") == 1  # ours, at the end
    assert "img" not in parsed.tags and "i" not in parsed.tags and "b" not in parsed.tags
    assert not any(name.startswith("on") for name, _ in parsed.attrs)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "bad &lt;/td&gt; value" in page
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp
    policy_text = html.unescape(csp.group(1))
    assert "script-src 'sha256-" in policy_text and "unsafe-inline" not in policy_text


def test_markdown_escapes_everything_from_the_repository() -> None:
    page = render_markdown(hostile_report())
    assert not re.search(r"(?<!\\)<", page), "an unescaped < could start raw HTML"
    assert r"\<script\>alert(" in page and r"\<img src=x" in page
    for row in (r for r in page.splitlines() if r.startswith("|")):
        # every table row keeps its column count: no cell was split by a `|`
        cells = re.split(r"(?<!\\)\|", row)
        header = next(h for h in page.splitlines()[page.splitlines().index(row) :: -1] if h.startswith("| Commit") or h.startswith("| Line"))
        assert len(cells) == len(re.split(r"(?<!\\)\|", header)), row


def test_markdown_escape() -> None:
    assert escape("a|b") == r"a\|b"
    assert escape("*x* _y_ `z`") == r"\*x\* \_y\_ \`z\`"
    assert escape("<script>") == r"\<script\>"
    assert escape("one\ntwo\r\nthree") == "one two three"
    assert escape("a\\|b") == r"a\\\|b"
    assert escape("&amp;") == r"\&amp;"


def test_one_line_flattens_and_shows_control_characters() -> None:
    assert one_line("a\nb\rc\u2028d") == "a b c d"
    assert one_line("bell\x07 esc\x1b[31m") == "bell\\x07 esc\\x1b[31m"


def test_text_output_cannot_drive_the_terminal() -> None:
    text = render_text(hostile_report())
    assert "\x1b" not in text
    assert "Bcc: evil" in text and "\nBcc" not in text


# -- mail ---------------------------------------------------------------------------------


SENDER = person("Carla Coordinator <carla@example.org>")


def test_one_message_per_owner_team(report) -> None:  # type: ignore[no-untyped-def]
    lists = (person("Xen devel <xen-devel@example.org>"),)
    mails, unreachable = messages(report, sender=SENDER, now=NOW, cc=lists)
    assert unreachable == []
    assert [m.slug for m in mails] == [
        "jan.kowalski-at-example.org+1",
        "kevin.tanaka-at-example.org",
        "andrea.cooper-at-example.org",
    ]
    team = email.message_from_bytes(mails[0].message.as_bytes(), policy=policy.default)
    assert [a.addr_spec for a in team["To"].addresses] == ["jan.kowalski@example.org", "andrea.cooper@example.org"]
    assert team["Cc"] == "Xen devel <xen-devel@example.org>"
    kevin = email.message_from_bytes(mails[1].message.as_bytes(), policy=policy.default)
    assert kevin["To"] == KEVIN
    assert kevin["From"] == "Carla Coordinator <carla@example.org>"
    assert kevin["Subject"] == "[backport] 2 pending backports for 4.19, 4.20"
    assert kevin["Date"] == "Sun, 01 Jun 2025 12:00:00 +0000"
    body = kevin.get_content()
    assert "STALE: missed RELEASE-4.20.1" in body
    assert reproduce(sha(2), "stable-4.20") in body
    assert "conflict: xen/arch/x86/hvm/vmx/vmx.c, xen/arch/x86/mm/p2m-ept.c" in body
    # threading-ready: an id per message, unique, and the same when the same report is prepared again
    ids = [m.message["Message-ID"] for m in mails]
    assert len(set(ids)) == 3 and all(re.fullmatch(r"<backport\.20250601120000\.fafafafafafa\.[^<>@]+@example\.org>", i) for i in ids)
    assert ids == [m.message["Message-ID"] for m in messages(report, sender=SENDER, now=NOW, cc=lists)[0]]
    # what the footer says is true: prepared, not sent
    assert body.endswith("-- \nPrepared with backport report --mail, and sent by the person above:\nbackport itself sends nothing.\n")
    assert "sent with" not in body


def test_mail_golden(report) -> None:  # type: ignore[no-untyped-def]
    mails, _ = messages(report, sender=SENDER, now=NOW)
    golden("records-team.eml", mails[0].message.as_bytes().decode("utf-8"))


def test_mail_headers_cannot_be_injected() -> None:
    mails, unreachable = messages(hostile_report(), sender=SENDER, now=NOW)
    assert unreachable == []
    (mail,) = mails
    raw = mail.message.as_bytes()
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert sorted(parsed.keys()) == sorted(
        ["From", "To", "Subject", "Date", "Message-ID", "Content-Type", "Content-Transfer-Encoding", "MIME-Version"]
    )
    assert parsed["To"].addresses[0].addr_spec == "mallory@example.org"
    assert b"\nBcc:" not in raw and b"\r\nBcc:" not in raw
    body = parsed.get_content()
    assert HOSTILE_SUBJECT.replace("\n", " ") in body


def test_owner_without_an_address_gets_no_mail() -> None:
    result = sample_result()
    verdict = Verdict(candidate(1, "x"), (), (pending(V19, owners=("Nobody Atall",)),))
    report = build(CheckResult("staging", sha(250), result.lines, (verdict,), now=result.now))
    mails, unreachable = messages(report, sender=SENDER, now=NOW)
    assert mails == [] and unreachable == ["Nobody Atall"]


def test_by_owner_lists_each_team_once_with_its_totals_once() -> None:
    result = sample_result()
    both = (JAN, ANDREA)
    verdicts = (
        Verdict(candidate(1, "a"), (), (pending(V19, owners=both),)),
        Verdict(candidate(2, "b"), (), (pending(V20, owners=(ANDREA, "Jan K <JAN.KOWALSKI@example.org>")),)),
        Verdict(candidate(3, "c"), (), (pending(V20, owners=(KEVIN,)),)),
        Verdict(candidate(4, "d"), (), (pending(V20, owners=(JAN,)),)),
    )
    report = build(CheckResult("staging", sha(250), result.lines, verdicts, now=result.now))
    # the same people however ordered or spelled are one team; Jan alone is another
    assert [(d.owners, len(d.entries)) for d in report.debts] == [(both, 2), ((JAN,), 1), ((KEVIN,), 1)]
    text = render_text(report)
    owners = text[text.index("== By owner ==") :]
    assert owners.count("2 pending") == 1 and "(each)" not in owners
    assert "Jan Kowalski, Andrea Cooper: 2 pending (4.19: 1, 4.20: 1)" in owners
    markdown = render_markdown(report)
    assert markdown.count("### Jan Kowalski, Andrea Cooper\n") == 1
    assert "| Owner |" not in markdown  # the totals are the team's heading, not a column on every row


def test_a_team_member_without_an_address_is_said_and_the_others_get_it() -> None:
    result = sample_result()
    verdict = Verdict(candidate(1, "x"), (), (pending(V19, owners=(JAN, "Nobody Atall")),))
    report = build(CheckResult("staging", sha(250), result.lines, (verdict,), now=result.now))
    (mail,), unreachable = messages(report, sender=SENDER, now=NOW)
    assert unreachable == ["Nobody Atall"] and mail.message["To"] == JAN


def test_a_huge_subject_is_quoted_printable_not_a_broken_line() -> None:
    result = sample_result()
    verdict = Verdict(candidate(1, "x" * 2000), (), (pending(V19),))
    report = build(CheckResult("staging", sha(250), result.lines, (verdict,), now=result.now))
    (mail,), _ = messages(report, sender=SENDER, now=NOW)
    raw = mail.message.as_bytes()
    assert mail.message["Content-Transfer-Encoding"] == "quoted-printable"
    assert max(len(line) for line in raw.splitlines()) <= 998
    assert "x" * 2000 in email.message_from_bytes(raw, policy=policy.default).get_content()


def test_mail_says_when_a_pick_needs_someone_elses_first() -> None:
    result = sample_result()
    verdicts = (
        Verdict(candidate(1, "a"), (), (pending(V19, owners=(KEVIN,)),)),
        Verdict(candidate(3, "b"), (), (pending(V19, after=(sha(1),), owners=(JAN,)),)),
    )
    report = build(CheckResult("staging", sha(250), result.lines, verdicts, now=result.now))
    mails, _ = messages(report, sender=SENDER, now=NOW)
    jan = next(m for m in mails if m.owner == JAN).message.get_content()
    assert f"backport pick --line 4.19 {sha(3)}\n  (it brings {sha(1)[:12]} along: some need it first)" in jan
    kevin = next(m for m in mails if m.owner == KEVIN).message.get_content()
    assert f"backport pick --line 4.19 {sha(1)}\n" in kevin and "brings" not in kevin
