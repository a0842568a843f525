"""The check of one commit message, shared by the hooks, `lint` and `tag`.

`check_message` judges a message: untagged fixes (a `Fixes:` whose target is
on maintained lines, with no nomination), fix-like messages that say
nothing, malformed or unknown versions, nominations outside the trailer
block. `backport lint` runs it over a range; `backport tag` uses `suggest`
to infer a value; `run_hook` is what a hook runs once backport.hook's quick
look found something worth checking.

Light imports only (no click, GitPython or jinja2): it runs on commits.
Message content is only ever matched with regular expressions.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import closing

from backport import config as cfg
from backport.errors import BackportError, GitError
from backport.git import Git, check_revision, refs_query
from backport.lines import select
from backport.models import Line, Nomination, Version, listing
from backport.nominations import Grammar, line_errors, message_body, parse
from backport.record import record
from backport.session import Session

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


@record
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


@record
class Rules:
    """What the check needs from the configuration, resolved once."""

    grammar: Grammar
    request: str  # the request to suggest, in the project's words: "Backport-to: {versions}"
    decline: str  # what says "not for backport" there, or "" where the project has no such form
    fixes_as_request: bool  # a Fixes: whose bug is on a line is itself the request (Linux, Mesa)
    lines: tuple[Line, ...]  # maintained lines, oldest first
    known: tuple[Version, ...]  # every line version that exists
    fix_patterns: tuple[re.Pattern[str], ...]

    @classmethod
    def from_session(cls, session: Session) -> Rules:
        config = session.config
        return cls(
            grammar=session.grammar,
            request=config["request-template"],
            decline=config["decline-template"],
            fixes_as_request=bool(config["fixes-as-request"]),
            lines=tuple(session.heads),  # releases are a report's business
            known=tuple(session.known_versions),
            fix_patterns=fix_patterns(session),
        )

    def asking(self, affected: Iterable[Version] | None = None) -> str:
        """The request to write for these lines (None: the versions are for
        the writer to fill in), in the project's words."""
        maintained = [line.version for line in self.lines]
        return request_text(self.request, affected, maintained, self.grammar.bare)

    def or_decline(self) -> str:
        """" or 'Backport-to: none'", or nothing where the project has no decline form."""
        return f" or '{self.decline}'" if self.decline else ""


def fix_patterns(session: Session) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in session.config["hook.fix-patterns"])


Copies = Callable[[str, Sequence[Line]], "set[Version]"]  # (full id, lines) -> lines with a copy of it


def copies_in(session: Session) -> Copies:
    """Where a commit is on lines as a copy, by the report's own rules
    (backport.verdict.detect): reference lines, patch-id, similar. Imported
    only when a hook needs it: when a fixed commit is not an ancestor of
    every maintained line."""

    def copies(full: str, lines: Sequence[Line]) -> set[Version]:
        from backport.verdict.detect import Detector

        detector = Detector(
            session.git, session.unstable.commit, lines, base=None, cache=session.cache, forks=session.forks
        )
        detection = detector.detect([full], ancestry=False)
        return {line.version for line in lines if detection.on_line(full, line.version)}

    return copies


class Ancestry:
    """Which maintained lines contain a commit. Answers are cached, so lint
    asks git once per fixed commit however many commits name it.

    `branches` names lines that are a branch's tip by full ref name
    (Session.line_branches): they need not be looked up again. `wider`, an
    Ancestry on the same git whose walks were started ahead, answers for
    these lines too when its refs include all of theirs (the hook guesses
    the lines before the configuration says which are maintained)."""

    def __init__(
        self,
        git: Git,
        lines: Sequence[Line],
        branches: Mapping[str, Version] | None = None,
        wider: Ancestry | None = None,
        copies: Copies | None = None,
    ) -> None:
        self.git = git
        self.lines = tuple(lines)
        self._wider = wider
        self._copies = copies
        versions = {line.version for line in self.lines}
        self._branches = {name: v for name, v in (branches or {}).items() if v in versions}
        self._ids: dict[str, str | None] = {}
        self._found: dict[str, tuple[Version, ...]] = {}
        self._refs: dict[str, list[Version]] | None = None

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
            self._found[full] = self._containing(full)
        return full, self._found[full]

    def holding(self, name: str) -> tuple[Version, ...] | None:
        """The lines holding the commit `name` stands for; None if it names none.

        Unless `name` was primed, git gets it as written, not resolved
        first: one process less on a commit with one `Fixes:`."""
        check_revision(name)
        if name in self._ids:
            full, lines = self.locate(name)
            return lines if full else None
        if name not in self._found:
            try:
                self._found[name] = self._containing(f"{name}^{{commit}}")
            except GitError:
                self.prime([name])  # git fails on an id that names no commit, or several
                if self._ids[name] is None:
                    return None
                raise
        return self._found[name]

    def ahead(self, name: str) -> None:
        """Start the walk `holding(name)` will wait for, and go on (see Git.ahead)."""
        refs = self._line_refs()
        if refs and name and not name.startswith("-"):
            self.git.ahead(self._walk(f"{name}^{{commit}}", refs))

    @staticmethod
    def _walk(commit: str, refs: Iterable[str]) -> list[str]:
        return refs_query(["--contains", commit, *refs], "%(refname)")

    def _containing(self, commit: str) -> tuple[Version, ...]:
        """The lines that hold the commit: by ancestry, and where it is not
        an ancestor, by a copy (a reference line, an equal patch-id, a
        similar hand-made one), judged as the report judges it."""
        found = set(self._descending(commit))
        rest = [line for line in self.lines if line.version not in found]
        if rest and self._copies is not None:
            self.prime([commit])  # `commit` may be `<name>^{commit}`: the full id, in one process
            full = self._ids.get(commit)
            if full is not None:
                found.update(self._copies(full, rest))
        return tuple(line.version for line in self.lines if line.version in found)

    def _descending(self, commit: str) -> tuple[Version, ...]:
        # An old commit costs a long walk down from each line's tip. One
        # `for-each-ref --contains` over the lines' refs does them all in one
        # process that parses history once (25 ms of CPU against 33 for three
        # `merge-base --is-ancestor` on 50,000 commits). Lines that are not a
        # ref's tip (a configured revision) fall back to the latter.
        refs = self._line_refs()
        found: set[Version] = set()
        if refs:
            walked, wider = refs, self._wider
            if wider is not None and wider.git is self.git and refs.keys() <= wider._line_refs().keys():
                walked = wider._line_refs()  # its walk, started ahead, says it for these refs too
            for name in self.git.out(self._walk(commit, walked)).splitlines():
                found.update(refs.get(name, ()))
        covered = {v for versions in refs.values() for v in versions}
        for line in self.lines:
            if line.version not in covered and self.git.is_ancestor(commit, line.commit):
                found.add(line.version)
        return tuple(line.version for line in self.lines if line.version in found)

    def _line_refs(self) -> dict[str, list[Version]]:
        """Full ref names whose tip is a line's commit, e.g. refs/remotes/origin/stable-4.20."""
        if self._refs is None:
            self._refs = {}
            for refname, version in self._branches.items():
                self._refs.setdefault(refname, []).append(version)
            names: dict[str, list[Line]] = {}
            for line in self.lines:
                if line.version in self._branches.values():
                    continue
                for prefix in ("", "refs/heads/", "refs/remotes/", "refs/tags/"):
                    if prefix or line.ref.startswith("refs/"):
                        names.setdefault(prefix + line.ref, []).append(line)
            rows = self.git.refs(list(names), "%(refname)%00%(objectname)%00%(*objectname)") if names else []
            for refname, obj, peeled in rows:
                for line in names.get(refname, ()):
                    if line.commit == (peeled or obj):
                        self._refs.setdefault(refname, []).append(line.version)
        return self._refs


def request_text(
    template: str, affected: Iterable[Version] | None, maintained: Iterable[Version], bare: str = "exact"
) -> str:
    """A request line from the project's template: `{versions}` in our
    grammar ("4.18+", "4.19, 4.20"), `{version}` the lowest version, for
    dialects where a bare version means it and newer (Mesa's
    `Backport-to: 24.1`, Linux's `# 6.1+`). A template with neither asks
    for every line where the bug is (QEMU's `Cc: qemu-stable@nongnu.org`);
    given lines that are not all of those, ` # 6.1+` is added."""
    chosen = sorted(set(affected)) if affected is not None else None
    lines = sorted(set(maintained))
    if not chosen:
        return template.replace("{versions}", "<version>").replace("{version}", "<version>")
    versions = suggest(chosen, lines) if bare == "exact" else f"{chosen[0]}+"
    if "{versions}" in template or "{version}" in template:
        return template.replace("{versions}", versions).replace("{version}", str(chosen[0]))
    if not lines or chosen[0] <= lines[0]:
        return template  # from the oldest maintained line up: what the versionless form asks for
    return f"{template} # {chosen[0]}+"


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
        Finding(UNKNOWN_LINE, text, f"{text!r}: {error}")
        for text, error in line_errors(parsed.nominations, rules.known)
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
    lines = ancestry.holding(target)
    if lines is None:
        return [
            Finding(
                FIX_HINT,
                text,
                f"fixes {target}, which names no commit here: check the id (or fetch), "
                f"then add '{rules.asking()}' if the bug is on stable lines{rules.or_decline()}",
            )
        ]
    if not lines or rules.fixes_as_request:
        # the bug came after every maintained line forked: nothing to
        # backport; or, where a Fixes: is itself the request, nothing to add
        return []
    return [
        Finding(
            UNTAGGED_FIX,
            text,
            f"fixes {target}, which is in {_and_list(lines)}: "
            f"add '{rules.asking(lines)}'{rules.or_decline()}",
        )
    ]


def _fix_hint(message: str, rules: Rules, maintained: list[Version]) -> Finding | None:
    subject = message.lstrip("\n").split("\n", 1)[0]
    if not maintained or _GENERATED_SUBJECT.match(subject):
        return None
    match = _fix_word(message, rules.fix_patterns)
    if match is None:
        return None
    return Finding(
        FIX_HINT,
        subject,
        f"looks like a fix ({match.group(0)!r}) but says nothing about backporting: "
        f"if the bug is on stable lines ({listing(maintained)}), add 'Fixes: <commit>' "
        f"or '{rules.asking()}'" + (f"; if not, '{rules.decline}'" if rules.decline else ""),
    )


def _fix_word(message: str, patterns: Sequence[re.Pattern[str]]) -> re.Match[str] | None:
    for pattern in patterns:
        match = pattern.search(message)
        if match:
            return match
    return None


def _and_list(versions: Sequence[Version]) -> str:
    names = [str(v) for v in sorted(versions)]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


# -- the hook -------------------------------------------------------------------


@record
class Outcome:
    findings: tuple[Finding, ...]
    strict: bool
    note: str | None = None  # why the check could not say everything

    @property
    def blocked(self) -> bool:
        return self.strict and any(f.blocking for f in self.findings)


def run_hook(
    message_file: str,
    repo: str = ".",
    git: Git | None = None,
    *,
    preset: str | None = None,
    unstable: str | None = None,
) -> Outcome:
    """Check the message a hook was given, in the repository at `repo`
    (`preset` and `unstable` as the global options give them).

    `git`, when given, runs in `repo` and may have work started ahead; the
    caller closes it."""
    if git is None:
        with closing(Git(repo)) as own:
            return run_hook(message_file, repo, own, preset=preset, unstable=unstable)
    with open(message_file, encoding="utf-8", errors="replace") as handle:
        message = message_body(handle.read())
    guessed = _walk_ahead(git, message)
    session = Session.open(repo, git=git, preset=preset, unstable=unstable)
    strict = bool(session.config["hook.strict"])
    parsed = parse(message, session.grammar)
    if not (parsed.nominations or parsed.errors or parsed.fixes or _fix_word(message, fix_patterns(session))):
        return Outcome((), strict)  # nothing to say whatever the lines: spare finding them
    if _on_stable_branch(session):
        return Outcome((), strict)  # a backport being committed onto its line
    rules = Rules.from_session(session)
    ancestry = Ancestry(session.git, rules.lines, session.line_branches, wider=guessed, copies=copies_in(session))
    findings = tuple(check_message(message, rules, ancestry))
    note = None
    if not rules.lines and parsed.fixes:
        note = "no maintained stable lines here (branches like stable-4.20): cannot tell which lines it fixes"
    return Outcome(findings, strict, note)


def _walk_ahead(git: Git, message: str) -> Ancestry | None:
    """Start the ancestry walk of each fixed commit before the session is
    open, on the lines maintained by default (line patterns, and activity
    within `maintained-within` of the usual unstable branch's tip): the walk
    is most of the hook's time, and the session's own git processes and our
    imports then run beside it. The Ancestry returned answers for any of
    those lines (the configuration may maintain fewer). When the
    configuration in force finds other lines or reads other keys, the check
    walks again and `git.close()` stops these."""
    parsed = parse(message)
    if not parsed.fixes or parsed.errors or any(_decides(n) for n in parsed.nominations):
        return None  # the check will not walk
    defaults = cfg.defaults()
    try:
        # the default maintained lines, measured from the usual unstable branch
        guess = select(
            git,
            specs=(),
            configured=(),
            maintained=(),
            oldest=None,
            line_patterns=defaults["line-patterns"],
            within=defaults["maintained-within"],
            release_patterns=defaults["release-patterns"],
        )
    except BackportError:
        return None  # the check proper says what is wrong
    ancestry = Ancestry(git, guess.lines, guess.branches)
    for target in parsed.fixes:
        ancestry.ahead(target)
    return ancestry


def _on_stable_branch(session: Session) -> bool:
    """Whether HEAD is a branch named like a stable line. Read from the HEAD
    file, not with `git symbolic-ref`: one process less on every commit."""
    try:
        with open(os.path.join(session.repo.git_dir, "HEAD"), encoding="utf-8") as handle:
            head = handle.read().strip()
    except OSError:
        return False
    prefix = "ref: refs/heads/"
    if not head.startswith(prefix):
        return False  # detached
    branch = head[len(prefix) :]
    return any(re.fullmatch(p, branch) for p in session.config["line-patterns"])
