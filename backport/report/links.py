"""Commit ids as links to the project's web viewer (gitweb, cgit, GitLab,
GitHub): the `web-url` setting, a URL with `{commit}` in it, or when it is
unset a preset derived from the `origin` remote's URL for the hosts whose
commit pages have a known address.
"""

from __future__ import annotations

import re

from backport.session import Session

# scp-like "git@host:path", or "scheme://[user@]host[:port]/path"
_SCP = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?!//)(?P<path>.+)$")
_URL = re.compile(r"^(?:[a-z+]+)://(?:[^@/]+@)?(?P<host>[^:/]+)(?::\d+)?/(?P<path>.+)$")


def web_url(session: Session) -> str | None:
    """The run's commit link template, or None: no links."""
    configured = session.config["web-url"]
    if configured:
        return str(configured)
    proc = session.git.run(["config", "--get", "remote.origin.url"], check=False)
    remote = proc.stdout.decode("utf-8", "replace").strip()
    return preset(remote) if proc.returncode == 0 and remote else None


def preset(remote: str) -> str | None:
    """The commit page template of a remote URL on a known host, else None.

    GitHub (github.com) and GitLab (gitlab.com, or a host named gitlab.*)
    give https://HOST/PATH/commit/{commit} and .../-/commit/{commit};
    Xen's xenbits gives its gitweb."""
    match = _URL.match(remote) or _SCP.match(remote)
    if match is None:
        return None
    host = match.group("host").lower()
    path = match.group("path").strip("/")
    path = path[:-4] if path.endswith(".git") else path
    if not path or not re.fullmatch(r"[A-Za-z0-9._~/-]+", path):
        return None
    if host == "github.com":
        return f"https://github.com/{path}/commit/{{commit}}"
    if host == "gitlab.com" or host.startswith("gitlab."):
        return f"https://{host}/{path}/-/commit/{{commit}}"
    if host == "xenbits.xen.org":
        project = path.removeprefix("git-http/") + ".git"
        return f"https://xenbits.xen.org/gitweb/?p={project};a=commit;h={{commit}}"
    return None
