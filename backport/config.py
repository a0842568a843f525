"""Layered configuration: defaults < .backport.toml (read from the unstable ref)
< `git config backport.*` < command-line flags. Every value remembers where it
came from, so `backport config` can say.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping

from backport.errors import ConfigError, UsageError
from backport.record import record

TYPE_CHECKING = False  # not typing's: importing typing costs the hook 12 ms
if TYPE_CHECKING:
    from typing import Any

    from backport.models import Form

TOML_FILE = ".backport.toml"
NOTES_REF = "refs/notes/backport"
UNSTABLE_CANDIDATES = ("staging", "master", "main")
# What is taken for unstable when nothing names it, most wanted first.
UNSTABLE_NAMES = (*UNSTABLE_CANDIDATES, *(f"origin/{name}" for name in UNSTABLE_CANDIDATES))
GIT_CONFIG_KEYS = r"^backport\."  # the keys of git config that are ours


def unstable_query(names: Iterable[str]) -> tuple[list[str], bytes]:
    """Arguments and input of one `cat-file` that says, for each name that
    could be the unstable branch, its commit and its .backport.toml blob:
    rows "<id> <type>", or "<name> missing", two per name. The session and
    the hook's quick look ask it alike, so a run asks git once."""
    probe = "".join(f"{n}^{{commit}}\n{n}:{TOML_FILE}\n" for n in names if "\n" not in n)
    return ["cat-file", "--batch-check=%(objectname) %(objecttype)"], os.fsencode(probe)

# Branch short names that carry a stable line. The version group is what counts.
DEFAULT_LINE_PATTERNS = (
    r"(?:stable|release)[-/]v?(?P<version>\d+(?:\.\d+)+)",
    r"(?:linux-)?v?(?P<version>\d+(?:\.\d+)+)\.[xy]",
    r"v?(?P<version>\d+\.\d+)",
)
# Tags that mark point releases; the version must extend the line's version.
DEFAULT_RELEASE_PATTERNS = (
    r"(?:RELEASE-|release-|v|[a-z]+-)?(?P<version>\d+(?:\.\d+){2,})",
)
DEFAULT_KEYS = ("Backport-to", "Backport")  # Backport is Xen's documented key
DEFAULT_SKIP_KEYS = ("Backport-skip",)
DEFAULT_FIXES_KEYS = ("Fixes", "Amends")  # Amends is Xen's


def key_line(keys: Iterable[str], engine: str = "re") -> str:
    """Where a `Key:` line starts, for any of `keys`: the one rule the
    parser (backport.nominations), the hook's quick look and git's filter
    in the scanner (backport.scan.history) share.

    A line that starts with the key (any case: the caller's flag), then
    spaces or tabs, then a colon; the key as written is group 1. Longest
    keys first, so that a key that starts with another is taken whole.
    `^` must anchor at every line start (re.MULTILINE; git's `--grep`
    matches a line at a time). `engine` says whose syntax: "re" is Python's,
    which PCRE reads alike (re.escape quotes only characters that are not
    letters, digits or `_`, and a backslash makes any such character literal
    to PCRE); "ere" is POSIX extended, for `git log -E`. A key must not hold
    a line break, which git's `--grep` splits patterns at: the scanner
    leaves those out of git's filter (config accepts them).
    """
    ordered = sorted(set(keys), key=lambda key: (-len(key), key))
    if engine == "ere":
        # a bracket expression has no escapes: its tab is a real one
        return "^(" + "|".join(_ERE_SPECIAL.sub(r"\\\g<0>", k) for k in ordered) + ")[ \t]*:"
    return "^(" + "|".join(re.escape(k) for k in ordered) + r")[ \t]*:"


# What POSIX extended regular expressions give a meaning to outside a
# bracket expression; a backslash before one makes it literal (POSIX leaves
# a backslash before anything else undefined, and GNU gives `\w`, `\<` ...
# meanings). `]` and `}` alone are literal.
_ERE_SPECIAL = re.compile(r"[\\.\[()*+?{|^$]")

DEFAULT_FIX_PATTERNS = (
    r"\bXSA-\d+",
    r"\bCVE-\d{4}-\d+",
    r"\bfix(es|ed)?\b",
    r"\bregression\b",
    r"\bcrash(es|ed)?\b",
    r"\bleaks?\b",
    r"\boverflows?\b",
    r"\buse[- ]after[- ]free\b",
    r"\bdeadlocks?\b",
    r"\brace\b",
)


def _words(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(w for w in re.split(r"[,\s]+", value) if w)
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float)) for v in value):
        return tuple(str(v) for v in value)
    raise ValueError("expected a list of strings")


def _patterns(value: Any) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(v, str) for v in items):
        raise ValueError("expected a list of regular expressions")
    for item in items:
        try:
            re.compile(item)
        except re.error as err:
            raise ValueError(f"bad regular expression {item!r}: {err}") from None
    return tuple(items)


def _version_patterns(value: Any) -> tuple[str, ...]:
    patterns = _patterns(value)
    for item in patterns:
        if "version" not in re.compile(item).groupindex:
            raise ValueError(f"{item!r} has no (?P<version>...) group to say where the version is")
    return patterns


def _text(value: Any) -> str:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    raise ValueError("expected a string")


def _count(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected a whole number of days")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValueError("expected a whole number of days") from None
    if number < 0:
        raise ValueError("expected a whole number of days")
    return number


def _choice(*allowed: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = str(value).strip().lower()
        if text not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}")
        return text

    return parse


def _preset(value: Any) -> str | None:
    from backport.presets import NAMES

    text = str(value).strip().lower()
    if text in ("", "none"):
        return None
    if text not in NAMES:
        raise ValueError(f"no preset {text!r} (known: {', '.join(NAMES)})")
    return text


_FORM_FIELDS = {"key", "value", "versions", "bare", "versionless", "opt-out"}


def _forms(value: Any) -> tuple[Form, ...]:
    """Request forms from `[[request-forms]]` tables of a .backport.toml."""
    from backport.models import Form  # here: the hook's quick look reads configuration without the records

    if isinstance(value, str):
        raise ValueError("request forms are tables: write them as [[request-forms]] in .backport.toml")
    if not isinstance(value, (list, tuple)):
        raise ValueError("expected [[request-forms]] tables")
    forms = []
    for item in value:
        if isinstance(item, Form):
            forms.append(item)
            continue
        if not isinstance(item, dict) or not isinstance(item.get("key"), str) or not item["key"].strip():
            raise ValueError("each request form needs a key, e.g. key = \"Cc\"")
        unknown = set(item) - _FORM_FIELDS
        if unknown:
            known = ", ".join(sorted(_FORM_FIELDS))
            raise ValueError(f"unknown field {sorted(unknown)[0]!r} in a request form (known: {known})")
        pattern = item.get("value")
        if pattern is not None:
            _patterns([pattern])
        forms.append(
            Form(
                key=item["key"].strip(),
                value=pattern,
                versions=_choice("value", "comment")(item.get("versions", "value")),
                bare=_choice("exact", "and-newer")(item["bare"]) if "bare" in item else None,
                versionless=_choice("error", "all")(item.get("versionless", "error")),
                opt_out=_flag(item.get("opt-out", False)),
            )
        )
    return tuple(forms)


def form_table(form: Form) -> dict[str, Any]:
    """A request form as its [[request-forms]] table says it (defaults left out)."""
    table: dict[str, Any] = {"key": form.key}
    if form.value is not None:
        table["value"] = form.value
    if form.versions != "value":
        table["versions"] = form.versions
    if form.bare is not None:
        table["bare"] = form.bare
    if form.versionless != "error":
        table["versionless"] = form.versionless
    if form.opt_out:
        table["opt-out"] = True
    return table


def describe_form(form: Form) -> str:
    """One line that says what a request form reads, for `backport config`."""
    if form.opt_out:
        return f"{form.key}: {form.value} declines (opt-out)"
    what = f"{form.key}: {form.value}" if form.value is not None else f"{form.key}: <versions>"
    where = "versions after '#'" if form.versions == "comment" else "versions in the value"
    bare = {"exact": "a version is that line", "and-newer": "a version is it and newer"}.get(form.bare or "", "")
    versionless = "none given: every line the bug is on" if form.versionless == "all" else "a version is required"
    return "; ".join(p for p in (what, where, bare, versionless) if p)


def _moment(value: Any) -> str:
    """An ISO 8601 time, kept as written (a time without a zone is UTC)."""
    from datetime import datetime  # here: the hook never reads this setting

    text = _text(value).strip()
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("expected an ISO 8601 time, e.g. 2025-06-01T12:00:00+00:00") from None
    return text


def _addresses(value: Any) -> tuple[str, ...]:
    """Mail addresses: a list, or one string with commas between them."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(v, str) for v in items):
        raise ValueError("expected mail addresses, e.g. xen-devel@lists.xenproject.org")
    found = tuple(v.strip() for v in items if v.strip())
    for item in found:
        if "@" not in item or "\n" in item:
            raise ValueError(f"{item!r} is not a mail address")
    return found


def _url_template(value: Any) -> str:
    """A commit page address with {commit} where the id goes."""
    text = _text(value).strip()
    if not re.fullmatch(r"https?://[^\s\"'<>`\\]+", text) or "{commit}" not in text:
        raise ValueError("expected an http(s) URL with {commit} where the commit id goes")
    return text


_MONTHS = re.compile(r"(\d+)[ \t]*(months?|m|years?|y)?", re.IGNORECASE)


def _months(value: Any) -> int:
    """A span in months: 12, "12", "12 months", "18m", "1 year", "2y"."""
    if isinstance(value, bool):
        raise ValueError("expected a number of months, e.g. 12 or 18 months or 1 year")
    match = _MONTHS.fullmatch(str(value).strip())
    if match is None:
        raise ValueError("expected a number of months, e.g. 12 or 18 months or 1 year")
    number = int(match.group(1))
    return number * 12 if (match.group(2) or "m").lower().startswith("y") else number


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("", "1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


REFERENCE_STYLES = ("auto", "master-commit", "cherry-picked-from", "upstream-line")


def _reference(value: Any) -> str:
    text = _text(value).strip().lower()
    if text not in REFERENCE_STYLES:
        raise ValueError(f"expected one of {', '.join(REFERENCE_STYLES)}")
    return text


def _branch_pattern(value: Any) -> str:
    text = _text(value).strip()
    if not text or text.startswith("-") or "{version}" not in text:
        raise ValueError("expected a branch name holding {version}, e.g. backport/{version}")
    return text


@record
class Setting:
    name: str
    parse: Callable[[Any], Any]
    default: Any
    help: str
    multi: bool = False  # git config: several entries add up


SETTINGS: tuple[Setting, ...] = (
    Setting("preset", _preset, None, "a project's conventions: xen, linux, qemu or mesa (backport init proposes one)"),
    Setting("unstable", _text, None, "unstable branch (default: first of staging, master, main)"),
    Setting("maintained", _words, (), "maintained line versions (default: see maintained-within)", True),
    Setting("oldest", _text, None, "oldest maintained line; older discovered lines are ignored"),
    Setting(
        "maintained-within",
        _months,
        12,
        "months: without maintained or oldest, a line is maintained when its tip or a release tag "
        "is at most this much older than the unstable tip's commit; 0: every discovered line",
    ),
    Setting("lines", _words, (), "explicit lines as VERSION=REF, added to the discovered ones", True),
    Setting("keys", _words, DEFAULT_KEYS, "message/note keys that nominate", True),
    Setting("skip-keys", _words, DEFAULT_SKIP_KEYS, "note keys that decline", True),
    Setting("fixes-keys", _words, DEFAULT_FIXES_KEYS, "keys naming the commit a fix fixes", True),
    Setting("request-forms", _forms, (), "the project's own request forms ([[request-forms]] tables)"),
    Setting("bare-version", _choice("exact", "and-newer"), "exact", "a bare version: that line, or it and newer"),
    Setting("fixes-as-request", _flag, False, "a Fixes: whose bug is on a line asks for that line"),
    Setting("request-template", _text, "Backport-to: {versions}", "the request tag writes and the hook suggests"),
    Setting("decline-template", _text, "Backport-to: none", "what says 'not for backport' (empty: none)"),
    Setting("stale-after", _count, 30, "days a pending backport may wait before it is stale"),
    Setting("maintainers", _text, "MAINTAINERS", "MAINTAINERS file, read from the unstable ref"),
    Setting("now", _moment, None, "judge ages and staleness as of this ISO 8601 time (default: the current time)"),
    Setting("line-patterns", _version_patterns, DEFAULT_LINE_PATTERNS, "branch names of stable lines", True),
    Setting("release-patterns", _version_patterns, DEFAULT_RELEASE_PATTERNS, "tag names of point releases", True),
    Setting(
        "web-url",
        _url_template,
        None,
        "commit links in HTML and Markdown: a URL with {commit} (default: from remote.origin.url on GitHub, GitLab)",
    ),
    Setting("mail.cc", _addresses, (), "addresses every report --mail message is copied to (the project list)", True),
    Setting("hook.strict", _flag, False, "make hook warnings block the commit"),
    Setting("hook.fix-patterns", _patterns, DEFAULT_FIX_PATTERNS, "subject words that suggest a fix", True),
    Setting(
        "pick.reference",
        _reference,
        "auto",
        "how a pick names its original: master-commit, cherry-picked-from, upstream-line, or auto (the line's own)",
    ),
    Setting("pick.signoff", _flag, False, "pick adds the picker's Signed-off-by"),
    Setting("pick.branch", _branch_pattern, "backport/{version}", "branch pick works on"),
    Setting("pick.remote", _text, None, "remote the picks are pushed to (default: the line's remote, else origin)"),
    Setting("pick.target", _text, None, "branch the picks are pushed to, {version} allowed (default: the line's)"),
)
_BY_NAME = {s.name: s for s in SETTINGS}
# git config keys are case-insensitive and cannot hold '-': staleAfter, hook.fixPatterns
_BY_GIT_KEY = {"backport." + s.name.replace("-", "").lower(): s for s in SETTINGS}


@record
class Config:
    values: Mapping[str, Any]
    sources: Mapping[str, str]

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def source(self, name: str) -> str:
        return self.sources.get(name, "default")


def defaults() -> Config:
    return Config({s.name: s.default for s in SETTINGS}, {s.name: "default" for s in SETTINGS})


def git_key(name: str) -> str:
    """How a setting is spelled in git config, e.g. backport.staleAfter."""
    head, _, tail = name.rpartition(".")
    words = tail.split("-")
    camel = words[0] + "".join(w.capitalize() for w in words[1:])
    return "backport." + (f"{head}.{camel}" if head else camel)


def parse_toml(data: bytes, origin: str) -> dict[str, Any]:
    """Settings from a .backport.toml; unknown keys and bad values are errors."""
    # imported here: 8 ms the commit-msg hook spends only when a project has the file
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{origin}: not UTF-8 text", "save it as UTF-8") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{origin}: {err}", "fix the TOML syntax there") from None
    flat: dict[str, Any] = {}
    for key, value in document.items():
        if isinstance(value, dict):
            for sub, subvalue in value.items():
                flat[f"{key}.{sub}"] = subvalue
        else:
            flat[key] = value
    result = {}
    for key, value in flat.items():
        setting = _BY_NAME.get(key)
        if setting is None:
            known = ", ".join(s.name for s in SETTINGS)
            raise ConfigError(f"{origin}: unknown key {key!r}", f"known keys: {known}")
        result[key] = _checked(setting, value, f"{origin}: {key}")
    return result


def parse_git_config(entries: list[tuple[str, str]]) -> dict[str, tuple[Any, str]]:
    """Settings from `git config -z --get-regexp ^backport\\.` output."""
    collected: dict[str, list[str]] = {}
    spelled: dict[str, str] = {}
    for key, value in entries:
        # git's own spelling is staleAfter; stale-after (as .backport.toml and
        # the SPEC write it) is the same variable to a reader, so to us too
        setting = _BY_GIT_KEY.get(key.lower().replace("-", ""))
        if setting is None:
            continue  # other tools' backport.* keys, or hook state: not ours to judge
        collected.setdefault(setting.name, []).append(value)
        spelled[setting.name] = key
    result = {}
    for name, values in collected.items():
        setting = _BY_NAME[name]
        where = f"git config {git_key(name) if spelled[name].lower() == git_key(name).lower() else spelled[name]}"
        if setting.multi:
            merged: list[Any] = []
            for value in values:
                merged.extend(_checked(setting, value, where))
            result[name] = (tuple(merged), where)
        else:
            result[name] = (_checked(setting, values[-1], where), where)
    return result


def checked(name: str, value: Any, flag: str) -> Any:
    """A command-line value for setting `name`, checked as the setting is."""
    try:
        return _BY_NAME[name].parse(value)
    except ValueError as err:
        raise UsageError(f"bad {flag} {value!r}: {err}", f"correct the value of {flag}") from None


def _checked(setting: Setting, value: Any, where: str) -> Any:
    try:
        return setting.parse(value)
    except ValueError as err:
        hint = "correct that value; backport config lists every setting"
        raise ConfigError(f"{where}: {err} (got {value!r})", hint) from None


def with_preset(
    base: Config, flag: str | None, toml: Mapping[str, Any], git: Mapping[str, tuple[Any, str]]
) -> Config:
    """`base` with the preset's bundle layered on, where the flag, git config
    or .backport.toml (the first that says) names one. The layers above
    then still win over any of its values."""
    name = flag or (git["preset"][0] if "preset" in git else toml.get("preset"))
    if flag:
        name = _checked(_BY_NAME["preset"], flag, "--preset")
    if not name:
        return base
    from backport.presets import PRESETS

    return layer(base, PRESETS[name], f"preset {name}")


def layer(base: Config, values: Mapping[str, Any], origin: str) -> Config:
    merged = dict(base.values)
    sources = dict(base.sources)
    for name, value in values.items():
        merged[name] = value
        sources[name] = origin
    return Config(merged, sources)
