"""Everything a command needs about one repository: where it is, its effective
configuration, the unstable branch and the stable lines of this run."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

from backport import config as cfg
from backport.errors import BackportError, ConfigError, RepoError, UsageError
from backport.git import Git, Repository, check_revision, config_query, open_repository
from backport.lines import LineSpec, Selection, select, with_releases
from backport.models import Line, Version
from backport.nominations import Grammar
from backport.record import record

TYPE_CHECKING = False  # not typing's: importing typing costs the hook 12 ms
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any

    from backport.cache import Cache
    from backport.forks import ForkPoints


@record
class Unstable:
    ref: str
    commit: str


class Session:
    """One run's repository, configuration, unstable branch and stable lines."""

    def __init__(
        self, repo: Repository, git: Git, config: cfg.Config, unstable: Unstable, line_specs: Sequence[LineSpec] = ()
    ) -> None:
        self.repo = repo
        self.git = git
        self.config = config
        self.unstable = unstable
        self.line_specs = tuple(line_specs)
        self.paging = False  # text for a terminal goes through the user's pager (off: --no-pager)

    def pager(self) -> str | None:
        """The pager to show this run's text through, if any (backport.output.emit)."""
        return self.git.pager() if self.paging else None

    @classmethod
    def open(
        cls,
        path: str,
        *,
        unstable: str | None = None,
        line_specs: Sequence[str] = (),
        git: Git | None = None,
        preset: str | None = None,
        now: str | None = None,
    ) -> Session:
        """The session of the repository at `path`. `git`, when given, runs in
        `path` and becomes the session's (with what it started ahead); `now`
        is the --now flag (ISO 8601), over any `now` setting."""
        specs = tuple(LineSpec.parse(s) for s in line_specs)
        flag_unstable = check_revision(unstable) if unstable else None
        repo, git = _opened(path, git, flag_unstable)
        git_values = cfg.parse_git_config(git.config_regexp(cfg.GIT_CONFIG_KEYS))
        chosen, ref, commit, toml_blob = _unstable_branch(git, flag_unstable, git_values)
        config = _layered(git, ref, toml_blob, preset, git_values)
        if flag_unstable:
            config = cfg.layer(config, {"unstable": flag_unstable}, "--unstable")
        elif config["unstable"] and config["unstable"] != ref and not chosen:
            ref, commit = _toml_unstable(git, config)  # .backport.toml names the unstable branch
        if not config["unstable"]:
            config = cfg.layer(config, {"unstable": ref}, "detected")
        return cls(repo, git, _with_flags(config, specs, now), Unstable(ref, commit), specs)

    @cached_property
    def now(self) -> datetime:
        """The moment ages and staleness are judged at: the `now` setting
        (--now, git config backport.now, .backport.toml), else the clock."""
        from datetime import datetime, timezone  # not at the top: the hook never asks

        return moment(self.config["now"]) if self.config["now"] else datetime.now(timezone.utc)

    @property
    def clock(self) -> str | None:
        """Where `now` comes from when it is not the clock, for a report's header."""
        return self.config.source("now") if self.config["now"] else None

    @cached_property
    def selection(self) -> Selection:
        """The stable lines of this run, and the discovered ones it leaves out."""
        return select(
            self.git,
            specs=self.line_specs,
            configured=() if self.line_specs else self.config["lines"],
            maintained=self.config["maintained"],
            oldest=self.config["oldest"],
            line_patterns=self.config["line-patterns"],
            within=self.config["maintained-within"],
            release_patterns=self.config["release-patterns"],
            unstable=self.unstable.commit,
            now=int(self.now.timestamp()) if self.config["now"] else None,
        )

    @property
    def heads(self) -> list[Line]:
        """The stable lines of this run with their tips only: what the scanner
        and the hook need, without a tag walk per line for the releases."""
        return self.selection.lines

    @cached_property
    def lines(self) -> list[Line]:
        """The stable lines this run works on, oldest first, with their releases."""
        return with_releases(self.git, self.heads, self.config["release-patterns"], self.cache)

    @cached_property
    def forks(self) -> ForkPoints:
        """Where the lines left unstable: found once for the run, for every
        line at a time, by whoever asks first (the scanner, the detector)."""
        from backport.forks import ForkPoints  # not on the hook's path

        return ForkPoints(self.git, self.unstable.commit, self.cache)

    @cached_property
    def cache(self) -> Cache:
        """The repository's result cache (disabled when the repository is read-only)."""
        from backport.cache import Cache

        return Cache.open(self.repo)

    @property
    def known_versions(self) -> list[Version]:
        """Every line version that exists, maintained or not."""
        return self.selection.known

    @property
    def line_branches(self) -> dict[str, Version]:
        """Full ref names (refs/remotes/origin/stable-4.20) of the lines of
        this run that are a branch, whose tip is the line's commit."""
        return self.selection.branches

    @property
    def grammar(self) -> Grammar:
        return grammar_of(self.config)

    def require_history(self) -> None:
        """History-reading commands need the whole history."""
        if self.repo.shallow:
            raise RepoError(
                "this is a shallow clone: the history backport needs is missing",
                "run git fetch --unshallow",
            )


def grammar_of(config: cfg.Config) -> Grammar:
    """The request grammar the configuration says: plain keys, the
    project's forms, and what a bare version means."""
    return Grammar(
        keys=tuple(config["keys"]),
        skip_keys=tuple(config["skip-keys"]),
        fixes_keys=tuple(config["fixes-keys"]),
        forms=tuple(config["request-forms"]),
        bare=config["bare-version"],
    )


def _opened(path: str, git: Git | None, flag_unstable: str | None) -> tuple[Repository, Git]:
    """The repository at `path`, and a git that runs at its top. Git config
    and the unstable branch (as named by the flag, or found among the usual
    names) are asked beside finding where the repository is."""
    started = git or Git(path)
    started.ahead(config_query(cfg.GIT_CONFIG_KEYS))
    probe, names = cfg.unstable_query([flag_unstable] if flag_unstable else cfg.UNSTABLE_NAMES)
    started.ahead(probe, input=names)
    try:
        repo = open_repository(path, started)
    except BackportError:
        started.close()
        raise
    return repo, git or started.moved_to(repo.path)  # the rest runs at the top: pathspecs are relative to it


def _unstable_branch(
    git: Git, flag_unstable: str | None, git_values: dict[str, tuple[Any, str]]
) -> tuple[str | None, str, str, str | None]:
    """The unstable branch as the flag or git config names it (`chosen`),
    else the first usual name: (chosen, ref, commit, its .backport.toml blob)."""
    configured = git_values["unstable"][0] if "unstable" in git_values else None
    chosen = flag_unstable or (_configured_ref(configured, git_values["unstable"][1]) if configured else None)
    found = _find_unstable(git, [chosen] if chosen else cfg.UNSTABLE_NAMES)
    if found is None:
        raise _no_unstable(chosen, "" if flag_unstable or not chosen else git_values["unstable"][1])
    ref, commit, toml_blob = found
    return chosen, ref, commit, toml_blob


def _layered(
    git: Git, ref: str, toml_blob: str | None, preset: str | None, git_values: dict[str, tuple[Any, str]]
) -> cfg.Config:
    """Defaults < the preset < .backport.toml (from `ref`) < git config < --preset."""
    toml_values = {}
    if toml_blob:
        toml = git.blobs([toml_blob])[toml_blob]
        toml_values = cfg.parse_toml(toml, f"{cfg.TOML_FILE} ({ref})")
    config = cfg.with_preset(cfg.defaults(), preset, toml_values, git_values)
    if toml_values:
        config = cfg.layer(config, toml_values, f"{cfg.TOML_FILE} ({ref})")
    for name, (value, where) in git_values.items():
        config = cfg.layer(config, {name: value}, where)
    if preset:
        config = cfg.layer(config, {"preset": preset}, "--preset")
    return config


def _toml_unstable(git: Git, config: cfg.Config) -> tuple[str, str]:
    """The unstable branch .backport.toml names: its ref and commit."""
    ref = _configured_ref(config["unstable"], config.source("unstable"))
    commit = git.resolve(ref)
    if commit is None:
        raise RepoError(
            f"{config.source('unstable')}: unknown revision {ref!r} for the unstable branch",
            "fix the setting or pass --unstable REF",
        )
    return ref, commit


def moment(text: str) -> datetime:
    """An ISO 8601 time (checked by the configuration) as an aware datetime; UTC when it names no zone."""
    from datetime import datetime, timezone

    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _no_unstable(chosen: str | None, where: str) -> RepoError:
    """The error for an unstable branch not found: the one named (by the flag, or
    by git config at `where`), or none of the usual names."""
    if chosen:
        return RepoError(
            f"{where + ': ' if where else ''}unknown revision {chosen!r} for the unstable branch",
            "pass --unstable REF (e.g. --unstable master) or set git config backport.unstable",
        )
    return RepoError(
        f"no unstable branch found (looked for {', '.join(cfg.UNSTABLE_CANDIDATES)})",
        "pass --unstable REF or set git config backport.unstable",
    )


def _with_flags(config: cfg.Config, specs: Sequence[LineSpec], now: str | None) -> cfg.Config:
    """The command line's --line and --now over everything else."""
    if specs:
        config = cfg.layer(config, {"lines": tuple(_spec_text(s) for s in specs)}, "--line")
    if now:
        config = cfg.layer(config, {"now": cfg.checked("now", now, "--now")}, "--now")
    return config


def _configured_ref(ref: str, source: str) -> str:
    """A ref named by configuration: one git would read as an option is a
    configuration error, said with where it was set."""
    try:
        return check_revision(ref)
    except UsageError as err:
        raise ConfigError(f"{source}: unstable: {err.message}", "set a branch name there") from None


def _spec_text(spec: LineSpec) -> str:
    return f"{spec.version}={spec.ref}" if spec.ref else str(spec.version)


def _find_unstable(git: Git, names: Sequence[str]) -> tuple[str, str, str | None] | None:
    """The first of `names` that is a commit: (name, commit, blob id of its
    .backport.toml or None), or None. One git process whatever the number
    of names: this runs on every commit the hook checks."""
    usable = [n for n in names if "\n" not in n]  # a newline would split a batch request
    probe, asked = cfg.unstable_query(usable)
    rows = git.run(probe, input=asked).stdout
    # "<id> <type>", or "<name as given> missing|ambiguous"
    answers = [row.rpartition(" ") for row in rows.decode("utf-8", "replace").splitlines()]
    for i, name in enumerate(usable):
        commit, _, kind = answers[2 * i]
        if kind == "commit":
            blob, _, toml_kind = answers[2 * i + 1]
            return name, commit, blob if toml_kind == "blob" else None
    return None
