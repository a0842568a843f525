"""The commit-msg check, and the entry point git hooks run.

`check_message` judges one commit message: untagged fixes (a `Fixes:` whose
target is on maintained lines, with no nomination), fix-like messages that
say nothing, malformed or unknown versions, nominations outside the trailer
block. `backport lint` runs the same check over a range; `backport tag` uses
`suggest` to infer a value.

The hooks run `python -m backport.hook commit-msg FILE` on every commit, so
this module and what it imports stay light: no click, no GitPython, no
jinja2 (test_hook checks it). A hook must never block a commit because of
our own failure: `main` turns any error into one line on stderr and exit 0.
Message content is only ever matched with regular expressions.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, replace
from typing import Iterable, Sequence

from backport import config as cfg
from backport.git import Git
from backport.models import Line, Nomination, Version, listing
from backport.nominations import Grammar, message_body, parse
from backport.scan import _unknown_lines
from backport.session import Session

HOOKS = ("commit-msg", "applypatch-msg")

UNTAGGED_FIX, FIX_HINT, MALFORMED, UNKNOWN_LINE, MISPLACED = (
    "untagged-fix",
    "fix-hint",
    "malformed",
    "unknown-line",
    "misplaced",
)
SEVERITY = {
    MALFORMED: "error",
    UNKNOWN_LINE: "error",
    UNTAGGED_FIX: "warning",
    MISPLACED: "warning",
    FIX_HINT: "hint",
}
# Messages git or a workflow writes for us: judging them as fixes is noise.
_GENERATED_SUBJECT = re.compile(r"^(?:Merge |fixup! |squash! |amend! )")


@dataclass(frozen=True)
class Finding:
    kind: str  # one of SEVERITY's keys
    text: str  # the message line it is about, as written
    message: str  # what is wrong and how to fix it

    @property
    def severity(self) -> str:
        return SEVERITY[self.kind]

    @property
    def blocking(self) -> bool:
        """Hints never block a commit or fail lint (unless lint --strict)."""
        return self.kind != FIX_HINT


@dataclass(frozen=True)
class Rules:
    """What the check needs from the configuration, resolved once."""

    grammar: Grammar
    key: str  # the nomination key to suggest, e.g. Backport-to
    lines: tuple[Line, ...]  # maintained lines, oldest first
    known: tuple[Version, ...]  # every line version that exists
    fix_patterns: tuple[re.Pattern[str], ...]

    @classmethod
    def from_session(cls, session: Session) -> "Rules":
        return cls(
            grammar=session.grammar,
            key=session.config["keys"][0],
            lines=tuple(session.lines),
            known=tuple(session.known_versions),
            fix_patterns=tuple(re.compile(p, re.IGNORECASE) for p in session.config["hook.fix-patterns"]),
        )


class Ancestry:
    """Which maintained lines contain a commit. Answers are cached, so lint
    asks git once per (fixed commit, line) however many commits name it."""

    def __init__(self, git: Git, lines: Sequence[Line]) -> None:
        self.git = git
        self.lines = tuple(lines)
        self._ids: dict[str, str | None] = {}
        self._found: dict[str, tuple[Version, ...]] = {}

    def prime(self, names: Iterable[str]) -> None:
        """Resolve many abbreviated ids in one git process."""
        todo = [n for n in dict.fromkeys(names) if n not in self._ids]
        if todo:
            resolved = self.git.resolve_many(todo)
            for name in todo:
                self._ids[name] = resolved.get(name)

    def locate(self, name: str) -> tuple[str | None, tuple[Version, ...]]:
        """The full id `name` stands for (None if no commit) and the lines holding it."""
        self.prime([name])
        full = self._ids[name]
        if full is None:
            return None, ()
        if full not in self._found:
            self._found[full] = tuple(
                line.version for line in self.lines if self.git.is_ancestor(full, line.commit)
            )
        return full, self._found[full]


def suggest(affected: Iterable[Version], maintained: Iterable[Version]) -> str:
    """`4.18+` when the lines are every maintained line from 4.18 up, else a list."""
    chosen = sorted(set(affected))
    if not chosen:
        raise ValueError("no lines to suggest")
    newest_run = [v for v in sorted(set(maintained)) if v >= chosen[0]]
    if newest_run == chosen:
        return f"{chosen[0]}+"
    return ", ".join(str(v) for v in chosen)


def check_message(message: str, rules: Rules, ancestry: Ancestry) -> list[Finding]:
    """Everything worth saying about one commit message (as committed: no comments)."""
    parsed = parse(message, rules.grammar, "trailer")
    findings = [
        Finding(MALFORMED, written, f"{written!r}: {error}; known lines: {listing(rules.known)}")
        for written, error in parsed.errors
    ]
    findings += [
        Finding(UNKNOWN_LINE, problem.text, f"{problem.text!r}: {problem.error}")
        for problem in _unknown_lines("", parsed.nominations, rules.known)
    ]
    findings += [
        Finding(
            MISPLACED,
            n.text,
            f"{n.text!r} is outside the trailer block, where git's trailer tools do not see it: "
            "move it into the last paragraph, next to Signed-off-by",
        )
        for n in parsed.nominations
        if n.misplaced
    ]
    # A nomination, even a broken one, means the author thought about it.
    if parsed.errors or any(_decides(n) for n in parsed.nominations):
        return findings
    maintained = [line.version for line in rules.lines]
    if parsed.fixes:
        ancestry.prime(parsed.fixes)
        for target in parsed.fixes:
            findings.extend(_untagged(target, rules, ancestry, maintained))
        return findings
    hint = _fix_hint(message, rules, maintained)
    return findings + ([hint] if hint else [])


def _decides(nomination: Nomination) -> bool:
    return nomination.kind in ("request", "none")


def _untagged(target: str, rules: Rules, ancestry: Ancestry, maintained: list[Version]) -> list[Finding]:
    text = f"Fixes: {target}"
    if not maintained:
        return []
    full, lines = ancestry.locate(target)
    if full is None:
        return [
            Finding(
                FIX_HINT,
                text,
                f"fixes {target}, which names no commit here: check the id (or fetch), "
                f"then add '{rules.key}: <version>' if the bug is on stable lines, or '{rules.key}: none'",
            )
        ]
    if not lines:
        return []  # the bug came after every maintained line forked: nothing to backport
    return [
        Finding(
            UNTAGGED_FIX,
            text,
            f"fixes {target}, which is in {_and_list(lines)}: "
            f"add '{rules.key}: {suggest(lines, maintained)}' or '{rules.key}: none'",
        )
    ]


def _fix_hint(message: str, rules: Rules, maintained: list[Version]) -> Finding | None:
    subject = message.lstrip("\n").split("\n", 1)[0]
    if not maintained or _GENERATED_SUBJECT.match(subject):
        return None
    for pattern in rules.fix_patterns:
        match = pattern.search(message)
        if match:
            return Finding(
                FIX_HINT,
                subject,
                f"looks like a fix ({match.group(0)!r}) but says nothing about backporting: "
                f"if the bug is on stable lines ({listing(maintained)}), add 'Fixes: <commit>' "
                f"or '{rules.key}: <version>'; if not, '{rules.key}: none'",
            )
    return None


def _and_list(versions: Sequence[Version]) -> str:
    names = [str(v) for v in sorted(versions)]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


# -- the hook -------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    findings: tuple[Finding, ...]
    strict: bool
    note: str | None = None  # why the check could not say everything

    @property
    def blocked(self) -> bool:
        return self.strict and any(f.blocking for f in self.findings)


def run_hook(message_file: str, repo: str = ".") -> Outcome:
    """Check the message a hook was given, in the repository at `repo`."""
    with open(message_file, encoding="utf-8", errors="replace") as handle:
        message = message_body(handle.read())
    session = Session.open(repo)
    # Point releases are a report's business; finding them costs a
    # for-each-ref per line, which a hook on every commit cannot afford.
    session = replace(session, config=cfg.layer(session.config, {"release-patterns": ()}, "hook"))
    strict = bool(session.config["hook.strict"])
    if _on_stable_branch(session):
        return Outcome((), strict)  # a backport being committed onto its line
    rules = Rules.from_session(session)
    findings = tuple(check_message(message, rules, Ancestry(session.git, rules.lines)))
    note = None
    if not rules.lines and parse(message, rules.grammar).fixes:
        note = "no maintained stable lines here (branches like stable-4.20): cannot tell which lines it fixes"
    return Outcome(findings, strict, note)


def _on_stable_branch(session: Session) -> bool:
    proc = session.git.run(["symbolic-ref", "--quiet", "--short", "HEAD"], check=False)
    branch = proc.stdout.decode("utf-8", "replace").strip()
    if proc.returncode != 0 or not branch:
        return False
    return any(re.fullmatch(p, branch) for p in session.config["line-patterns"])


def main(argv: Sequence[str], repo: str = ".") -> int:
    """`python -m backport.hook HOOK MESSAGE_FILE`: 1 blocks the commit, 0 lets it through."""
    if len(argv) != 2 or argv[0] not in HOOKS:
        print(f"usage: python -m backport.hook {{{','.join(HOOKS)}}} MESSAGE_FILE", file=sys.stderr)
        return 2
    name, message_file = argv
    try:
        outcome = run_hook(message_file, repo)
    except Exception as err:  # noqa: BLE001 - our failure must never block a commit
        text = " ".join(str(err).split()) or type(err).__name__
        print(f"backport: {name} check skipped: {text}", file=sys.stderr)
        return 0
    for finding in outcome.findings:
        print(f"backport: {finding.severity}: {finding.message}", file=sys.stderr)
    if outcome.note:
        print(f"backport: {outcome.note}", file=sys.stderr)
    if outcome.blocked:
        print(
            f"backport: {name} refused (git config backport.hook.strict is true): fix the message "
            f"(it is saved in {message_file}) and try again, or bypass the hook with --no-verify",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
