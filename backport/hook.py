"""The entry point git hooks run: `python -m backport.hook commit-msg FILE`.

It runs on every commit, so it starts with a quick look that needs neither
the records nor the session (half the hook's import time) nor the stable
lines: when no nomination key, no `Fixes:`-like key and no fix pattern of the
configuration in force appears anywhere in the message, the check could not
say anything, and the commit goes on. The configuration in force is the
built-in defaults plus `git config backport.*`; when any branch that could
be the unstable one carries a .backport.toml (which may change keys or
patterns), the quick look steps aside for the full check
(backport.maintainer.message_check.run_hook).

When the check must run, its git processes start before it needs them
(Git.ahead): the branch listing while the check is imported, then the
ancestry walk of a `Fixes:` target, which is most of a hook's time, while
the session opens beside it.

A hook must never block a commit because of our own failure: any error
becomes one line on stderr and exit 0. Exit 1 (block) only in strict mode.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence

from backport import config as cfg
from backport.errors import ConfigError
from backport.git import BRANCHES_QUERY, Git, config_query

HOOKS = ("commit-msg", "applypatch-msg")


def main(argv: Sequence[str], repo: str = ".", *, preset: str | None = None, unstable: str | None = None) -> int:
    """`python -m backport.hook HOOK MESSAGE_FILE`: 1 blocks the commit, 0 lets it through.
    `preset` and `unstable` are `backport hook run`'s global options."""
    if len(argv) != 2 or argv[0] not in HOOKS:
        print(f"usage: python -m backport.hook {{{','.join(HOOKS)}}} MESSAGE_FILE", file=sys.stderr)
        return 2
    name, message_file = argv
    git = Git(repo)
    try:
        if nothing_to_say(message_file, repo, git, preset=preset, unstable=unstable):
            return 0
        git.ahead(BRANCHES_QUERY)  # the check's first question: git answers it while we import the check
        from backport.maintainer.message_check import run_hook

        outcome = run_hook(message_file, repo, git, preset=preset, unstable=unstable)
    except Exception as err:  # noqa: BLE001 - our failure must never block a commit
        text = " ".join(str(err).split()) or type(err).__name__
        print(f"backport: {name} check skipped: {text}", file=sys.stderr)
        return 0
    finally:
        git.close()
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


def nothing_to_say(
    message_file: str, repo: str, git: Git | None = None, *, preset: str | None = None, unstable: str | None = None
) -> bool:
    """True when the check is sure to find nothing in this message; False
    when it must run (including when we cannot tell). `git`, when given,
    runs in `repo`; `preset` and `unstable` as the global options give them."""
    with open(message_file, encoding="utf-8", errors="replace") as handle:
        text = handle.read().replace("\r\n", "\n").replace("\r", "\n")
    defaults = cfg.defaults()
    if _mentions(text, defaults):
        return False  # the common fix: no need to ask git about the configuration first
    git = git or Git(repo)
    # both at once; when the check runs after all, its session takes both answers
    git.ahead(config_query(cfg.GIT_CONFIG_KEYS))
    probe, names = cfg.unstable_query([unstable] if unstable else cfg.UNSTABLE_NAMES)
    git.ahead(probe, input=names)
    try:
        values = cfg.parse_git_config(git.config_regexp(cfg.GIT_CONFIG_KEYS))
        effective = cfg.with_preset(defaults, preset, {}, values)
    except ConfigError:
        return False  # the full check says what is wrong
    configured = [unstable] if unstable else [values["unstable"][0]] if "unstable" in values else []
    if _project_config(git, configured):
        return False
    effective = cfg.layer(effective, {name: value for name, (value, _) in values.items()}, "git config")
    return not _mentions(text, effective)


def _mentions(text: str, config: cfg.Config) -> bool:
    """Whether the text has a line with one of the keys, or a fix pattern.

    A superset of what the check looks at (it strips comments first)."""
    forms = [form.key for form in config["request-forms"]]
    keys = [*config["keys"], *forms, *config["skip-keys"], *config["fixes-keys"]]
    if keys and re.search(cfg.key_line(keys), text, re.IGNORECASE | re.MULTILINE):
        return True
    return any(re.search(pattern, text, re.IGNORECASE) for pattern in config["hook.fix-patterns"])


def _project_config(git: Git, configured: Iterable[str]) -> bool:
    """Whether any branch the session could take for unstable has a .backport.toml."""
    names = [n for n in [*configured, *cfg.UNSTABLE_NAMES] if n and not n.startswith("-")]
    probe, asked = cfg.unstable_query(names)
    return any(row.endswith(b" blob") for row in git.run(probe, input=asked).stdout.splitlines())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
