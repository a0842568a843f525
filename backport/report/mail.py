"""One ready-to-send plain-text message per owner: what that person owes.

Built with the stdlib `email` package and `policy.default`: headers are
objects, not strings we glue together, so a subject or a name holding a
line break or a header cannot add headers (the policy refuses it, and we
flatten such text to one line before it gets there).
"""

from __future__ import annotations

import re
from datetime import datetime
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
from backport.report.wording import age, moment, name, plural, release_text, short
from backport.verdict.owners import address

_SLUG = re.compile(r"[^a-z0-9._-]+")
_SMTP_LINE = 998  # RFC 5321 4.5.3.1.6, without CRLF


@record
class Mail:
    slug: str  # file name without .eml
    owner: str
    message: EmailMessage


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


def messages(report: Report, *, sender: Address, now: datetime) -> tuple[list[Mail], list[str]]:
    """The messages, and the owners that could not get one (no usable address)."""
    mails: list[Mail] = []
    unreachable: list[str] = []
    slugs: set[str] = set()
    for debt in report.debts:
        try:
            to = person(debt.owner)
        except ConfigError:
            unreachable.append(debt.owner)
            continue
        slug = _slug(to.addr_spec, slugs)
        slugs.add(slug)
        mails.append(Mail(slug, debt.owner, _message(report, debt, to, sender, now)))
    return mails, unreachable


def subject(debt: Debt) -> str:
    return f"[backport] {plural(len(debt.entries), 'pending backport')} for {listing(debt.versions)}"


def _message(report: Report, debt: Debt, to: Address, sender: Address, now: datetime) -> EmailMessage:
    message = EmailMessage(policy=policy.default)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject(debt)
    message["Date"] = format_datetime(now)
    body = _body(report, debt, to, sender)
    # 8bit keeps the message readable in an editor before it is sent; only a
    # line over SMTP's limit (a pathological subject) needs quoted-printable.
    too_long = any(len(line.encode("utf-8")) > _SMTP_LINE for line in body.splitlines())
    message.set_content(body, cte="quoted-printable" if too_long else "8bit")
    return message


def _body(report: Report, debt: Debt, to: Address, sender: Address) -> str:
    result = report.result
    hello = to.display_name or to.addr_spec
    stale = f", {debt.stale} of them stale" if debt.stale else ""
    out = [
        f"Hello {hello},",
        "",
        f"MAINTAINERS (or authorship) names you for {plural(len(debt.entries), 'backport')} that",
        f"{'is' if len(debt.entries) == 1 else 'are'} still pending on {listing(debt.versions)}{stale}",
        f"(checked against {one_line(result.unstable_ref)} {short(result.unstable_commit)}"
        f" as of {moment(result.now)}).",
    ]
    for version in debt.versions:
        entries = [e for e in debt.entries if e.line.version == version]
        line = entries[0].line
        out += ["", f"{version} ({one_line(line.ref)}), last release {release_text(line.last_release)}:"]
        for entry in entries:
            out += _item(entry, to)
        clean = [e for e in entries if e.target.applies == "clean"]
        if clean:
            out += ["", f"  Your clean picks, in order, onto {one_line(line.ref)} in the line's style:"]
            out += [f"    {pick_command(version, [e.commit for e in clean])}"]
            mine = {e.commit for e in clean}
            first = sorted({short(c) for e in clean for c in e.target.after if c not in mine})
            if first:
                out.append(f"  (it brings {', '.join(first)} along: some need it first)")
    out += [
        "",
        "If one of these should not go back, record why so it stops showing up:",
        "  backport skip COMMIT --line VERSION -m REASON",
        "",
        "Thanks,",
        f"{sender.display_name or sender.addr_spec}",
        "(sent with backport report --mail)",
    ]
    return "\n".join(out) + "\n"


def _item(entry: Entry, to: Address) -> list[str]:
    target = entry.target
    facts = [f"applies {target.applies}" if target.applies == "clean" else "conflicts", age(entry)]
    if target.after:
        facts.append("after " + ", ".join(short(c) for c in target.after))
    if entry.verdict.merge:
        facts.append("a merge: pick with -m 1")
    if target.stale:
        facts.append(f"STALE: {target.stale_reason or 'waiting'}")
    if target.reason:
        facts.append(f"# {one_line(target.reason)}")
    out = [f"  {short(entry.commit)}  {one_line(entry.subject)}", "      " + "; ".join(f for f in facts if f)]
    others = [one_line(name(o)) for o in entry.owners if address(o) != to.addr_spec.lower()]
    if others:
        out.append("      shared with " + ", ".join(others))
    if target.conflicts:
        out.append("      conflicting paths: " + ", ".join(one_line(p) for p in target.conflicts))
    if entry.reproduce:
        out.append(f"      reproduce: {entry.reproduce}")
    if target.applies == "conflict":
        out.append(f"      resolve: {entry.resolve}")
    return out


def _slug(mail: str, taken: set[str]) -> str:
    base = _SLUG.sub("-", mail.lower().replace("@", "-at-")).strip(".-") or "owner"
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug
