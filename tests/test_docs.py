"""docs/ stays true to the code: every setting, command, option and JSON
field it should name is named; its TOML example reads; its links and the
README's lead somewhere inside the repository."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click
import pytest
from backport.fixtures import xen_demo

from backport.cli import cli
from backport.config import SETTINGS, git_key, parse_toml

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def text(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_every_setting_is_in_the_configuration_table() -> None:
    rows = [row for row in text("configuration.md").splitlines() if row.startswith("| `")]
    named = {re.match(r"\| `([^`]+)` \| (`[^`]+`|only in `.backport.toml`)", row).groups() for row in rows}  # type: ignore[union-attr]
    tables_only = {"request-forms"}  # a list of tables: git config cannot hold it
    assert named == {
        (s.name, "only in `.backport.toml`" if s.name in tables_only else f"`{git_key(s.name)}`") for s in SETTINGS
    }


def test_the_toml_example_reads() -> None:
    example = re.search(r"```toml\n(.*?)```", text("configuration.md"), re.S)
    assert example
    values = parse_toml(example.group(1).encode(), "docs/configuration.md")
    assert values["mail.cc"] == ("xen-devel@lists.xenproject.org",) and "{commit}" in values["web-url"]


def commands() -> dict[str, click.Command]:
    ctx = click.Context(cli, info_name="backport")
    found = {}
    for name in cli.list_commands(ctx):
        command = cli.get_command(ctx, name)
        assert command is not None
        if isinstance(command, click.Group):
            found.update({f"{name} {sub}": c for sub, c in command.commands.items()})
        else:
            found[name] = command
    return found


def test_every_command_and_option_is_in_commands_md() -> None:
    page = text("commands.md")
    for name, command in commands().items():
        assert f"backport {name}" in page, name
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert any(opt in page for opt in param.opts), (name, param.opts)


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    repo = tmp_path_factory.mktemp("docs") / "xen"
    xen_demo.build(str(repo))
    from backport.output import check_json
    from backport.session import Session
    from backport.verdict.result import check_session

    session = Session.open(str(repo))
    return check_json(check_session(session, session.now))


def test_every_json_field_is_in_json_md(document: dict[str, Any]) -> None:
    page = text("json.md")
    candidate = document["candidates"][0]
    fields = [*document, *document["unstable"], *document["lines"][0], *candidate, *candidate["targets"][0]]
    fields += [*document["untagged_fixes"][0], *document["problems"][0]]
    for field in fields:
        assert f'"{field}"' in page, field
    states = {t["state"] for c in document["candidates"] for t in c["targets"]}
    evidence = {t["evidence"] for c in document["candidates"] for t in c["targets"]} - {None}
    for word in states | evidence:
        assert f"`{word}`" in page and f"`{word}`" in text("verdicts.md"), word


def anchors(page: str) -> set[str]:
    """GitHub's ids for a page's headings."""
    found = set()
    for heading in re.findall(r"^#+ (.+)$", page, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        found.add(slug)
    return found


@pytest.mark.parametrize("page", ["../README.md", *sorted(p.name for p in DOCS.glob("*.md"))])
def test_links_stay_inside_the_repository_and_lead_somewhere(page: str) -> None:
    source = (DOCS / page).resolve()
    body = source.read_text(encoding="utf-8")
    assert "../shared" not in body
    for target in re.findall(r"\]\(([^)#\s]*)(?:#([^)\s]*))?\)", body):
        path, anchor = target
        if path.startswith(("http://", "https://")):
            continue
        linked = (source.parent / path).resolve() if path else source
        assert linked.exists(), f"{page}: {path}"
        assert ROOT in linked.parents or linked == ROOT, f"{page}: {path} is outside the repository"
        if anchor and linked.suffix == ".md":
            assert anchor in anchors(linked.read_text(encoding="utf-8")), f"{page}: {path}#{anchor}"


def test_the_readme_leads_to_every_docs_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/README.md" in readme
    index = text("README.md")
    for page in DOCS.glob("*.md"):
        if page.name != "README.md":
            assert f"]({page.name})" in index, page.name


def test_the_json_examples_are_json() -> None:
    for example in re.findall(r"```json\n(.*?)```", text("json.md"), re.S):
        json.loads(example.replace('"...": {}', '"more": {}'))
