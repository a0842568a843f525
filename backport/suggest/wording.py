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
    "exist:some": "fewer than half of the files it changes are on the line",
    "exist:none": "none of the files it changes are on the line",
    "same:new": "adds files only",
    "same:some": "fewer than half of the files it changes are as it found them on the line",
    "same:none": "the files it changes differ on the line from what it found",
    "since:never": "the line never took a fix",
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
    "series": "one of a series of {}",
    "lately": "the line took {} commits of the same area in the last 90 days",
    "lately-author": "the line took {} commits by its author in the last 90 days",
    **_LINE,
}
# line-wide features: the same on every commit of a line's list, so they
# explain nothing about one commit against another; crossed with the kind
# of commit ("&fix") they only repeat what the kind's own feature says
_LINE_WIDE = ("phase:", "age:", "rank:", "recent:", "recentsec:", "since:")
_SAID_BY_EVERY = ("bias", "t:signed-off-by")

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


def _at_least(value: str) -> str:
    """A count the features cap at 3 (trailers, other lines) in words: "3" is "3 or more"."""
    return f"{value} or more" if value == "3" else value


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
        if not count:
            return f"has {key} trailers"
        return f"1 {key} trailer" if count == "1" else f"{_at_least(count)} {key} trailers"
    if name == "taken":
        return "1 other line took it" if value == "1" else f"{_at_least(value)} other lines took it"
    if name in ("lately", "lately-author"):
        return _VALUED[name].format(_count_range(value).replace("10+", "10 or more"))
    if name == "files":
        return f"changes {_count_range(value)} {'file' if value == '1' else 'files'}"
    if name in _RATES:
        return _FEW[name] if value == "few" else _RATES[name].format(_rate_range(value))
    if name in _VALUED:
        return _VALUED[name].format(value)
    return token


def worth_saying(token: str) -> bool:
    """Whether a feature is a reason for one commit rather than another:
    not line-wide, and not one nearly every commit has."""
    if token.startswith("t:") and token.endswith(":1"):
        return False  # one such trailer: "has ... trailers" says it
    return not token.startswith(_LINE_WIDE) and not token.startswith(_SAID_BY_EVERY)


def reasons_text(tokens: list[str]) -> tuple[str, ...]:
    """The reasons in words, each said once."""
    return tuple(dict.fromkeys(reason_text(t) for t in tokens))
