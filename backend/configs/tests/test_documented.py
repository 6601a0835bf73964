"""Every variable settings reads is in backend/.env.example and the README."""

import ast

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
