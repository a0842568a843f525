"""`backport config`: every effective value and where it came from."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from backport.config import SETTINGS, describe_form, form_table, git_key
from backport.models import Form
from backport.output import SCHEMA, dumps, emit
from backport.session import Session


def run(session: Session, fmt: str) -> int:
    emit(dumps(_json(session)) if fmt == "json" else _text(session), None, pager=session.pager)
    return 0


def _json(session: Session) -> dict[str, Any]:
    config = session.config
    return {
        "schema": SCHEMA,
        "repository": session.repo.path,
        "settings": {s.name: {"value": _plain(config[s.name]), "source": config.source(s.name)} for s in SETTINGS},
        "unstable": {"ref": session.unstable.ref, "commit": session.unstable.commit},
        "lines": [
            {
                "version": str(line.version),
                "ref": line.ref,
                "commit": line.commit,
                "last_release": line.last_release.tag if line.last_release else None,
            }
            for line in session.lines
        ],
        "known_lines": [str(v) for v in session.known_versions],
        "unmaintained_lines": [
            {"version": str(d.version), "ref": d.ref, "last_activity": _date(d.last)} for d in session.selection.dormant
        ],
    }


def _text(session: Session) -> str:
    config = session.config
    out = [
        f"repository  {session.repo.path}",
        f"unstable    {session.unstable.ref} ({session.unstable.commit[:12]})",
        "",
        "lines:",
    ]
    lines = session.lines
    for line in lines:
        release = line.last_release.tag if line.last_release else "no release yet"
        out.append(f"  {str(line.version):<8} {line.ref:<24} {line.commit[:12]}  last release {release}")
    if not lines:
        out.append("  none found; name them with --line VERSION=REF or git config backport.lines")
    dormant = session.selection.dormant
    if dormant:
        basis = f"now ({session.clock})" if session.selection.from_now else f"{session.unstable.ref}'s tip"
        out.append(
            f"  not maintained: no commit or release since {_date(session.selection.cutoff)}, "
            f"{config['maintained-within']} months before {basis}"
            " (maintained, oldest or maintained-within change that):"
        )
        for idle in reversed(dormant):
            out.append(f"  {str(idle.version):<8} {idle.ref:<24} last activity {_date(idle.last)}")
    others = sorted(set(session.known_versions) - {line.version for line in lines} - {d.version for d in dormant})
    if others:
        out.append("  not in this run: " + ", ".join(map(str, others)))
    out.append("")
    out.append("settings:")
    width = max(len(s.name) for s in SETTINGS)
    for setting in SETTINGS:
        value = _shown(config[setting.name])
        out.append(f"  {setting.name:<{width}}  {value}")
        where = "[[request-forms]] in .backport.toml" if setting.name == "request-forms" else git_key(setting.name)
        out.append(f"  {'':<{width}}    from {config.source(setting.name)}; {where}")
    return "\n".join(out)


def _date(seconds: int | None) -> str | None:
    """A date (UTC) for people, from seconds."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, timezone.utc).date().isoformat()


def _plain(value: Any) -> Any:
    if isinstance(value, tuple) and value and isinstance(value[0], Form):
        return [form_table(form) for form in value]
    return list(value) if isinstance(value, tuple) else value


def _shown(value: Any) -> str:
    if isinstance(value, tuple) and value and isinstance(value[0], Form):
        return "\n    ".join(["", *(describe_form(form) for form in value)])
    if isinstance(value, tuple):
        return ", ".join(value) if value else "(none)"
    if value is None:
        return "(unset)"
    return str(value).lower() if isinstance(value, bool) else str(value)
