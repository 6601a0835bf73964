"""
`make app`: scripts/new_app.py and the app template in templates/app/.

The unit tests call the script's functions. The generated-app tests make one
app, orders, in a copy of the project (the tree under test is never touched)
and run pytest there in a process of its own, on the suite's PostgreSQL: the
app's own tests, and the suite's tests that walk the URLconf (every endpoint
needs a token, every endpoint is in the schema and described), which must
pick the new endpoints up without being told. The fuzzer, mypy and the
migrations check on that app cost too much for every run: make security runs
them (the "slow" marker).
"""

import importlib.util
import os
import re
import shutil
import subprocess
import sys

import pytest

from testing.environment import BACKEND

ROOT = BACKEND.parent
NAME = "orders"
WALKERS = [
    "backend/accounts/tests/test_authentication.py::"
    "test_every_api_endpoint_requires_authentication_unless_it_opts_out_visibly",
    "backend/core/tests/test_schema.py::test_every_api_endpoint_is_in_the_schema",
    "backend/core/tests/test_schema.py::"
    "test_every_operation_is_described_with_its_errors",
    "backend/core/tests/test_schema.py::test_every_api_view_has_a_docstring_of_its_own",
    "backend/core/tests/test_schema.py::test_schema_generation_has_no_warnings",
    "backend/core/tests/test_schema.py::test_schema_is_valid_openapi_3",
]

WALKERS_SEE = """
from accounts.tests.test_authentication import api_views
from core.tests.test_schema import api_routes


def test_the_url_walkers_see_the_new_app():
    assert {"api/orders/", "api/orders/<int:order_id>/"} <= dict(api_views()).keys()
    assert {"/api/orders/", "/api/orders/{order_id}/"} <= set(api_routes())
"""


@pytest.fixture(scope="module")
def new_app():
    spec = importlib.util.spec_from_file_location(
        "new_app", ROOT / "scripts" / "new_app.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("app", "model"),
    [
        ("orders", "Order"),
        ("categories", "Category"),
        ("boxes", "Box"),
        ("addresses", "Address"),
        ("order_lines", "OrderLine"),
        ("inventory", "Inventory"),
        ("news", "New"),  # say MODEL=News when the rule is wrong
    ],
)
def test_model_is_named_for_the_app(new_app, app, model):
    assert new_app.model_name_for(app) == model


def test_snake_case_names_the_services(new_app):
    assert new_app.snake_case("OrderLine") == "order_line"
    assert new_app.snake_case("HTTPCheck") == "http_check"


@pytest.mark.parametrize("name", ["Orders", "2fa", "order-lines", "class", "", "é"])
def test_a_name_that_is_not_a_lowercase_identifier_is_refused(new_app, name):
    with pytest.raises(new_app.Refused, match="not a valid app name"):
        new_app.check_app_name(name, backend=BACKEND, urls="")


@pytest.mark.parametrize("name", ["accounts", "core", "api", "configs", "testing"])
def test_an_existing_directory_is_refused(new_app, name):
    with pytest.raises(new_app.Refused, match=f"backend/{name} already exists"):
        new_app.check_app_name(name, backend=BACKEND, urls="")


def test_a_taken_url_prefix_is_refused(new_app):
    urls = (BACKEND / "api" / "urls.py").read_text()
    with pytest.raises(new_app.Refused, match="/api/schema/ is taken"):
        new_app.check_app_name("schema", backend=BACKEND, urls=urls)


@pytest.mark.parametrize("name", ["json", "yaml", "rest_framework", "django"])
def test_the_name_of_an_importable_module_is_refused(new_app, name):
    with pytest.raises(new_app.Refused, match="importable Python module"):
        new_app.check_app_name(name, backend=BACKEND, urls="")


@pytest.fixture(scope="module")
def template_names(new_app):
    return new_app.names_in_template(ROOT / "templates" / "app")


@pytest.mark.parametrize("name", ["order", "Order_", "class", "2Order"])
def test_a_bad_model_name_is_refused(new_app, template_names, name):
    with pytest.raises(new_app.Refused, match="not a valid model name"):
        new_app.check_model_name(name, taken=template_names)


@pytest.mark.parametrize(
    ("name", "clash"),
    [("User", "User"), ("Request", "Request"), ("Status", "status"), ("Name", "name")],
)
def test_a_model_name_the_template_uses_is_refused(
    new_app, template_names, name, clash
):
    # Status would make a variable status that hides rest_framework.status.
    with pytest.raises(new_app.Refused, match=f"clash with '{clash}'"):
        new_app.check_model_name(name, taken=template_names)


def test_names_in_template_are_its_codes_not_its_texts(template_names):
    assert {"status", "User", "cast", "pytest"} <= template_names
    # "order" is in comments ("makes the order total"), never in code.
    assert "order" not in template_names
    assert not {name for name in template_names if "TEMPLATE_NAME" in name}


def test_wiring_inserts_above_the_anchors_once(new_app):
    settings = (BACKEND / "configs" / "settings.py").read_text()
    urls = (BACKEND / "api" / "urls.py").read_text()
    wired_settings = new_app.wire_settings(settings, NAME)
    wired_urls = new_app.wire_urls(urls, NAME)
    assert wired_settings.count('\n    "orders",\n') == 1
    assert (
        '    "orders",\n    # make app: new apps go above this line.\n'
        in wired_settings
    )
    assert wired_urls.count('path("orders/", include("orders.urls")),') == 1
    # Above the anchor, so above the catch-all 404 that must stay last.
    assert wired_urls.index("orders.urls") < wired_urls.index("not_found)")
    assert new_app.wire_settings(wired_settings, NAME) == wired_settings
    assert new_app.wire_urls(wired_urls, NAME) == wired_urls


def test_a_missing_anchor_is_refused_with_what_to_do(new_app):
    with pytest.raises(new_app.Refused, match=r"has no line .*put that comment back"):
        new_app.wire_settings('INSTALLED_APPS = [\n    "api",\n]\n', NAME)


def project_copy(tmp_path):
    """Return a copy of what make app reads and writes: the tree is not touched."""
    ignore = shutil.ignore_patterns(
        "__pycache__", "staticfiles", ".env", "db.env", ".mypy_cache"
    )
    for name in ("backend", "scripts", "templates"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def child_environment():
    """Return the suite's environment, with a test database of the child's own."""
    # pytest-django names the test database test_<DB_NAME>; this run's is in use.
    return {**os.environ, "DB_NAME": "keel_make_app"}


def run(args, cwd, **kwargs):
    return subprocess.run(
        args,
        cwd=cwd,
        env=child_environment(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        **kwargs,
    )


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Return a copy of the project in which make app has made orders."""
    root = project_copy(tmp_path_factory.mktemp("project"))
    made = run([sys.executable, "scripts/new_app.py", NAME, "--root", root], root)
    assert made.returncode == 0, made.stderr
    assert "created backend/orders/ (model Order)" in made.stdout
    return root


def test_make_app_refuses_an_app_that_exists_and_changes_nothing(generated):
    settings = (generated / "backend" / "configs" / "settings.py").read_text()
    again = run(
        [sys.executable, "scripts/new_app.py", NAME, "--root", generated], generated
    )
    assert again.returncode == 2
    assert (
        again.stderr
        == "make app: backend/orders already exists: choose another name.\n"
    )
    assert (generated / "backend" / "configs" / "settings.py").read_text() == settings


def test_a_label_django_has_taken_is_refused_and_every_file_put_back(generated):
    # sessions is no module of its own but django.contrib.sessions' label:
    # Django refuses it when settings first load with it installed.
    before = {
        path: path.read_text()
        for path in (
            generated / "backend" / "configs" / "settings.py",
            generated / "backend" / "api" / "urls.py",
        )
    }
    refused = run(
        [sys.executable, "scripts/new_app.py", "sessions", "--root", generated],
        generated,
    )
    assert refused.returncode == 1
    assert "Application labels aren't unique, duplicates: sessions" in refused.stderr
    assert "Nothing was changed." in refused.stderr
    assert not (generated / "backend" / "sessions").exists()
    assert {path: path.read_text() for path in before} == before


def test_generated_app_is_formatted_linted_and_its_tests_and_the_walkers_pass(
    generated,
):
    app = generated / "backend" / NAME
    assert sorted(path.name for path in (app / "migrations").glob("0*.py")) == [
        "0001_initial.py"
    ]
    # The walkers pass whether or not they see the app; this proves they do.
    (generated / "backend" / "test_walkers_see_the_app.py").write_text(WALKERS_SEE)
    ruff = str(ROOT / ".venv" / "bin" / "ruff")
    for check in ([ruff, "format", "--check", app], [ruff, "check", app]):
        result = run(check, generated)
        assert result.returncode == 0, result.stdout + result.stderr
    tests = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"backend/{NAME}",
            "backend/test_walkers_see_the_app.py",
            *WALKERS,
        ],
        generated,
    )
    assert tests.returncode == 0, tests.stdout[-5000:] + tests.stderr[-2000:]


@pytest.mark.slow
def test_generated_app_passes_the_fuzzer_mypy_and_the_migrations_check(
    generated, record_property
):
    fuzz = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "backend/api/tests/test_fuzz.py",
            "-k",
            NAME,
        ],
        generated,
    )
    assert fuzz.returncode == 0, fuzz.stdout[-5000:]
    # -k selects the app's operations: list, create, and three on one object.
    fuzzed = re.search(r"(\d+) passed", fuzz.stdout)
    assert fuzzed and fuzzed.group(1) == "5", fuzz.stdout[-3000:]
    record_property("operations", 5)
    mypy = run([str(ROOT / ".venv" / "bin" / "mypy"), f"backend/{NAME}"], generated)
    assert mypy.returncode == 0, mypy.stdout
    migrations = run(
        [sys.executable, "scripts/makemigrations.py", "--check", "--dry-run"],
        generated,
    )
    assert migrations.returncode == 0, migrations.stdout + migrations.stderr
