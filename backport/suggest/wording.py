"""A model's reasons in words: each feature name said the way a coordinator would."""

from __future__ import annotations

_PEOPLE = {
    "a": "by {}",
    "c": "committed by {}",
    "r": "reviewed by {}",
    "k": "acked by {}",
    "rep": "reported by {}",
    "t": "tested by {}",
    "sug": "suggested by {}",
}
_FIXED = {
    "security": "names a security advisory (XSA/CVE)",
    "fixes:on-line": "what it fixes is on the line",
    "fixes:absent": "has a Fixes: tag",
    "fixes:unknown": "has a Fixes: tag",
    "fixed-later": "a later commit fixes it",
    "revert": "a revert",
    "taken:newer": "a newer line took it",
    "taken:older": "an older line took it",
    "series:mate-taken": "another patch of its series was taken",
    "series:mate-fixes": "another patch of its series fixes something on the line",
    "series:mate-security": "another patch of its series names a security advisory",
    "series:alone": "a single patch, not part of a series",
    "exist:all": "every file it changes is on the line",
    "exist:most": "most files it changes are on the line",
    "same:all": "the files it changes are as it found them on the line",
    "same:most": "most files it changes are as it found them on the line",
    "exist:new": "adds files only",
}
_LINE = {
    "phase": "the line is {}",
    "age": "the line is {} months old",
    "rank": "line rank {} (0 = newest)",
    "recent": "the line took {} fixes in 90 days",
    "recentsec": "the line took {} security fixes in 90 days",
    "since": "the line's last fix was {} days ago",
    "waited": "landed {} days ago",
}
# a feature with one value, in words; with the line's own features
_VALUED = {
    "w": "'{}' in the subject",
    "s": "subject starts '{}:'",
    "p": "touches {}/",
    "ext": "changes .{} files",
    "taken": "{} other lines took it",
    "series": "one of a series of {}",
    **_LINE,
}

# a backport rate (engine.Rows._rate), of the commit's files or of its author
_RATES = {
    "filerate": "{} of the earlier commits to its files were backported",
    "authorrate": "{} of its author's earlier commits were backported",
}

_FEW = {"filerate": "few earlier commits to its files", "authorrate": "few earlier commits by its author"}

_KIND = {"sec": "a security fix", "fix": "a fix of a bug on the line", "other": "this kind of commit"}


def _count_range(value: str) -> str:
    """A bucket's name in words: "2-4" (upper end left out) is "2 to 3"."""
    low, dash, high = value.partition("-")
    if dash and low.isdigit() and high.isdigit():
        return f"{low} to {int(high) - 1}" if int(high) - int(low) > 2 else f"{low} or {int(low) + 1}"
    return value


def _rate_range(value: str) -> str:
    """A rate's bucket in words: "0.15-0.3" is "15% to 30%" ("few": _FEW)."""
    low, dash, high = value.partition("-")
    if value.endswith("+"):
        return f"{float(value[:-1]):.0%} or more"
    if dash:
        return f"{float(low):.0%} to {float(high):.0%}"
    return "none" if float(value) == 0 else f"{float(value):.0%}"


def reason_text(token: str) -> str:
    """`token` (a feature name) in words."""
    if "&" in token:
        base, _, kind = token.partition("&")
        return f"{reason_text(base)}, for {_KIND.get(kind, kind)}"
    if token in _FIXED:
        return _FIXED[token]
    name, _, value = token.partition(":")
    if name in _PEOPLE and "@" in value:
        return _PEOPLE[name].format(value)
    if name == "t":
        key, _, count = value.partition(":")
        return f"{count} {key} trailers" if count else f"has {key} trailers"
    if name == "files":
        return f"changes {_count_range(value)} {'file' if value == '1' else 'files'}"
    if name in _RATES:
        return _FEW[name] if value == "few" else _RATES[name].format(_rate_range(value))
    if name in _VALUED:
        return _VALUED[name].format(value)
    return token
