"""One self-contained HTML page: inline CSS and script, no external assets.

Autoescaping is on for the whole template, and a Content-Security-Policy
allows only this page's own style and script (by hash), so even a value
that slipped through escaping could not run or load anything.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache, lru_cache
from importlib import resources

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from backport import __version__
from backport.escape import one_line
from backport.report import wording
from backport.report.grouping import Report
from backport.report.sections import line_tables, report_tables, team_tables


def render_html(report: Report) -> str:
    return render_page(
        "report.html.j2",
        report=report,
        result=report.result,
        teams=team_tables(report),
        tail=report_tables(report),
        web_url=report.web_url,
    )


def render_page(template: str, **values: object) -> str:
    """A page from one of our templates, with the shared style, script and policy."""
    css, js = _asset("report.css"), _asset("report.js")
    csp = f"default-src 'none'; style-src '{_hash(css)}'; script-src '{_hash(js)}'; img-src data:"
    return _environment().get_template(template).render(
        css=Markup(css), js=Markup(js), csp=csp, version=__version__, **values
    )


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("backport.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(
        short=wording.short,
        moment=wording.moment,
        as_of=wording.as_of,
        name=wording.name,
        plural=wording.plural,
        decisions_text=wording.decisions_text,
        one_line=one_line,
        since_text=wording.since_text,
        commit_url=wording.commit_url,
        line_tables=line_tables,
    )
    return env


@cache
def _asset(name: str) -> str:
    text = resources.files("backport.report").joinpath("templates").joinpath(name).read_text(encoding="utf-8")
    # Inline <style>/<script> end at the first "</"; ours never contain one.
    assert "</" not in text, f"{name} must not contain '</'"
    return text


def _hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")
