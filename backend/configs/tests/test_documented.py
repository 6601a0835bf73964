"""
The documentation agrees with the code: every variable settings reads is in
backend/.env.example and the README's table, every make target is in
docs/development.md, every link resolves, and CI runs only README commands.
"""

import ast
import re

import pytest

from testing.environment import BACKEND


def variables_read_by_settings():
    tree = ast.parse((BACKEND / "configs" / "settings.py").read_text())
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "env"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.args[0].value


VARIABLES = sorted(set(variables_read_by_settings()))


def test_settings_read_the_variables_this_test_expects():
    assert {"DJANGO_SECRET_KEY", "DB_HOST", "DJANGO_DEBUG"} <= set(VARIABLES)


@pytest.mark.parametrize("name", VARIABLES)
def test_every_variable_is_in_the_env_example(name):
    lines = (BACKEND / ".env.example").read_text().splitlines()
    assert any(line.startswith(f"{name}=") for line in lines)


@pytest.mark.parametrize("name", VARIABLES)
def test_every_variable_is_in_the_readme(name):
    assert f"`{name}`" in (BACKEND.parent / "README.md").read_text()


ROOT = BACKEND.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def heading_anchors(path):
    """Return GitHub's anchors for the headings of a Markdown file."""
    anchors = set()
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_relative_link_resolves(document):
    for target in re.findall(r"\]\(([^)]+)\)", document.read_text()):
        if re.match(r"[a-z]+://", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        assert linked.exists(), f"{document.name}: {target}"
        if anchor:
            assert anchor in heading_anchors(linked), f"{document.name}: {target}"


def test_every_make_target_is_in_the_targets_table():
    makefile = (ROOT / "Makefile").read_text()
    targets = re.findall(r"^([a-z0-9-]+):.*## ", makefile, re.M)
    assert {"dev", "test", "up", "clean"} <= set(targets)
    table = (ROOT / "docs" / "development.md").read_text()
    for target in targets:
        assert f"| `make {target}` |" in table, target


def test_ci_runs_only_commands_the_readme_gives():
    readme = (ROOT / "README.md").read_text()
    commands = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith(("#", "set ", "cd "))
    ]
    assert "make test" in commands
    for command in commands:
        assert f"`{command}`" in readme or f"{command}  " in readme, command
