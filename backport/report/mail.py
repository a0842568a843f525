"""One ready-to-send plain-text message per owner team: what they owe together.

Built with the stdlib `email` package and `policy.default`: headers are
objects, not strings we glue together, so a subject or a name holding a
line break or a header cannot add headers (the policy refuses it, and we
flatten such text to one line before it gets there).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timezone
from email import policy
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from backport.errors import ConfigError
from backport.escape import one_line
from backport.models import listing
from backport.record import record
from backport.report.grouping import Debt, Entry, Report, pick_command
from backport.report.wording import age, applies_text, as_of, marks, plural, release_text, short

_SLUG = re.compile(r"[^a-z0-9._-]+")
_SMTP_LINE = 998  # RFC 5321 4.5.3.1.6, without CRLF
# Headers are folded only past SMTP's limit, not at 78: Python's folding of an
# address list puts the comma before a non-ASCII name into an encoded word
# (To: ..., =?utf-8?q?=2C?= Roger Pau =?utf-8?q?Monn=C3=A9?= <...>), and
# every address after it is lost to a reader. A team's To: stays one line.
_POLICY = policy.default.clone(max_line_length=_SMTP_LINE)


@record
class Mail:
    slug: str  # file name without .eml
    owners: tuple[str, ...]  # the team it is for, as the report names them
    message: EmailMessage

    @property
    def owner(self) -> str:
        return self.owners[0]


def person(text: str) -> Address:
    """`Name <mail>` as a header address; ConfigError when it has no usable address."""
    # Our people are "Name <mail>" (git's %an <%ae>, MAINTAINERS' M:); the
    # last <...> is the address even when a forged name holds brackets.
    flat = one_line(text)
    opening, closing = flat.rfind("<"), flat.rfind(">")
    if 0 <= opening < closing:
        display, mail = flat[:opening].strip(), flat[opening + 1 : closing].strip()
    else:
        display, mail = "", flat.strip()
    try:
        found = Address(display_name=display, addr_spec=mail)
    except (ValueError, IndexError, HeaderParseError):
        found = None
    if found is None or not found.username or not found.domain:
        raise ConfigError(f"no usable mail address in {one_line(text)!r}", "fix it in MAINTAINERS or git config")
    return found


def messages(
    report: Report, *, sender: Address, now: datetime, cc: Sequence[Address] = ()
) -> tuple[list[Mail], list[str]]:
    """One message per owner team (every co-maintainer in To:, `cc` in Cc:),
    and the owners that could not be written to (no usable address)."""
    mails: list[Mail] = []
    unreachable: list[str] = []
    slugs: set[str] = set()
    for debt in report.debts:
        to: list[Address] = []
        for owner in debt.owners:
            try:
                to.append(person(owner))
            except ConfigError:
                unreachable.append(owner)
        if not to:
            continue
        slug = _slug(to, slugs)
        slugs.add(slug)
        mails.append(Mail(slug, debt.owners, _message(report, debt, to, sender, now, cc, slug)))
    return mails, unreachable


def subject(debt: Debt) -> str:
    return f"[backport] {plural(len(debt.entries), 'pending backport')} for {listing(debt.versions)}"


def _message(
    report: Report, debt: Debt, to: list[Address], sender: Address, now: datetime, cc: Sequence[Address], slug: str
) -> EmailMessage:
    message = EmailMessage(policy=_POLICY)
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = list(cc)
    message["Subject"] = subject(debt)
    message["Date"] = format_datetime(now)
    # Unique per report and team, and the same when the same report is
    # prepared again: a follow-up can say In-Reply-To, a resend is recognised.
    stamp = now.astimezone(timezone.utc).strftime("%Y%m%d%H%M%S")
    message["Message-ID"] = f"<backport.{stamp}.{short(report.result.unstable_commit)}.{slug}@{sender.domain}>"
    body = _body(report, debt, to, sender)
    # 8bit keeps the message readable in an editor before it is sent; only a
    # line over SMTP's limit (a pathological subject) needs quoted-printable.
    too_long = any(len(line.encode("utf-8")) > _SMTP_LINE for line in body.splitlines())
    message.set_content(body, cte="quoted-printable" if too_long else "8bit")
    return message


def _body(report: Report, debt: Debt, to: list[Address], sender: Address) -> str:
    result = report.result
    hello = _together([a.display_name or a.addr_spec for a in to])
    stale = f", {debt.stale} of them stale" if debt.stale else ""
    names = "you" if len(debt.owners) == 1 else "you together"
    out = [
        f"Hello {hello},",
        "",
        f"MAINTAINERS (or authorship) names {names} for {plural(len(debt.entries), 'backport')} that",
        f"{'is' if len(debt.entries) == 1 else 'are'} still pending on {listing(debt.versions)}{stale}",
        f"(checked against {one_line(result.unstable_ref)} {short(result.unstable_commit)} {as_of(report)}).",
    ]
    for version in debt.versions:
        out += _line_part([e for e in debt.entries if e.line.version == version])
    out += [
        "",
        "If one of these should not go back, record why so it stops showing up:",
        "  backport skip COMMIT --for VERSION -m REASON",
        "",
        "Thanks,",
        f"{sender.display_name or sender.addr_spec}",
        "",
        "-- ",
        "Prepared with backport report --mail, and sent by the person above:",
        "backport itself sends nothing.",
    ]
    return "\n".join(out) + "\n"


def _line_part(entries: list[Entry]) -> list[str]:
    """One line's part of the message: its items, then the command that
    picks the clean ones, with what they bring along."""
    line = entries[0].line
    out = ["", f"{line.version} ({one_line(line.ref)}), last release {release_text(line.last_release)}:"]
    for entry in entries:
        out += _item(entry)
    clean = [e for e in entries if e.target.applies == "clean"]
    if clean:
        out += ["", f"  The clean picks, in order, onto {one_line(line.ref)} in the line's style:"]
        out += [f"    {pick_command(line.version, [e.commit for e in clean])}"]
        mine = {e.commit for e in clean}
        first = sorted({short(c) for e in clean for c in e.target.after if c not in mine})
        if first:
            out.append(f"  (it brings {', '.join(first)} along: some need it first)")
    return out


def _together(names: list[str]) -> str:
    """"A", "A and B", "A, B and C"."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _item(entry: Entry) -> list[str]:
    target = entry.target
    facts = [applies_text(target) if target.applies == "conflict" else "applies clean", age(entry)]
    facts += [m.text for m in marks(target, merge=entry.verdict.merge)]
    out = [f"  {short(entry.commit)}  {one_line(entry.subject)}", "      " + "; ".join(f for f in facts if f)]
    if entry.reproduce:
        out.append(f"      reproduce: {entry.reproduce}")
    if target.applies == "conflict":
        out.append(f"      resolve: {entry.resolve}")
    return out


def _slug(team: list[Address], taken: set[str]) -> str:
    """The file name of a team's message: its first address, +N for the others."""
    base = _SLUG.sub("-", team[0].addr_spec.lower().replace("@", "-at-")).strip(".-") or "owner"
    if len(team) > 1:
        base += f"+{len(team) - 1}"
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug
