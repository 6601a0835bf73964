"""
Create a domain app from keel's app template and wire it in.

``make app NAME=orders`` renders templates/app/ with Django's startapp into
backend/orders/: one resource owned by a user (the model Order, named from
the app unless MODEL= says otherwise), its services, selectors, thin APIs,
admin, URLs and tests. The app goes into INSTALLED_APPS and its URLs into the
/api/ hub, each above a marked line, then gets its first migration. A bad or
taken name is refused before anything is written; a failure after that puts
every file back as it was.
"""

import argparse
import contextlib
import io
import keyword
import re
import shutil
import subprocess
import sys
import tokenize
from importlib.util import find_spec
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_ANCHOR = "# make app: new apps go above this line."
URLS_ANCHOR = "# make app: new apps' URLs go above this line."
APP_NAME = re.compile(r"[a-z][a-z0-9_]*")
MODEL_NAME = re.compile(r"[A-Z][A-Za-z0-9]*")


class Refused(Exception):
    """The app cannot be made as asked; the message says why and what to do."""


def model_name_for(app_name: str) -> str:
    """Return the model an app is named for: orders -> Order, boxes -> Box."""
    if app_name.endswith("ies"):
        singular = app_name[:-3] + "y"
    elif app_name.endswith(("sses", "xes", "ches", "shes")):
        singular = app_name[:-2]
    elif app_name.endswith("s") and not app_name.endswith("ss"):
        singular = app_name[:-1]
    else:
        singular = app_name
    return "".join(part.capitalize() for part in singular.split("_"))


def snake_case(model_name: str) -> str:
    """Return OrderLine as order_line, the prefix of its services and selectors."""
    words = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", model_name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", words).lower()


def check_app_name(name: str, *, backend: Path, urls: str) -> None:
    """Raise Refused unless name can be a new app's directory and URL prefix."""
    if not APP_NAME.fullmatch(name) or keyword.iskeyword(name):
        raise Refused(
            f"{name!r} is not a valid app name: use lowercase letters, digits and "
            "underscores, starting with a letter (for example: orders)."
        )
    if (backend / name).exists():
        raise Refused(f"backend/{name} already exists: choose another name.")
    if f'path("{name}/"' in urls:
        raise Refused(f"/api/{name}/ is taken in backend/api/urls.py.")
    # The standard library and the installed packages; backend/ is above.
    if find_spec(name) is not None:
        raise Refused(
            f"{name!r} is the name of an importable Python module; an app of that "
            "name would shadow it or be shadowed: choose another name."
        )


def names_in_template(template: Path) -> set[str]:
    """Return every identifier the template's code uses, its text aside."""
    names: set[str] = set()
    for path in template.rglob("*.py-tpl"):
        code = re.sub(r"\{\{.*?\}\}", "TEMPLATE_NAME", path.read_text())
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type == tokenize.NAME and "TEMPLATE_NAME" not in token.string:
                names.add(token.string)
    return names


def check_model_name(name: str, *, taken: set[str]) -> None:
    """Raise Refused unless name is a model name the template can use."""
    if not MODEL_NAME.fullmatch(name) or keyword.iskeyword(name):
        raise Refused(
            f"{name!r} is not a valid model name: use CamelCase letters and digits, "
            "starting with a capital (for example: Order)."
        )
    # The model's class and its snake_case variables sit beside these names.
    clashes = {name, snake_case(name)} & taken
    if clashes:
        raise Refused(
            f"the model name {name!r} would clash with {sorted(clashes)[0]!r} in "
            "the template's code: choose another with MODEL=."
        )


def insert_above(text: str, anchor: str, line: str, *, path: str) -> str:
    """Return text with line above the anchor's line, once: again, it is unchanged."""
    lines = text.splitlines(keepends=True)
    if any(existing.strip() == line for existing in lines):
        return text
    for index, existing in enumerate(lines):
        if existing.strip() == anchor:
            indent = existing[: len(existing) - len(existing.lstrip())]
            lines.insert(index, f"{indent}{line}\n")
            return "".join(lines)
    raise Refused(
        f"{path} has no line {anchor!r}, where make app adds the new app: "
        "put that comment back where it was."
    )


def wire_settings(text: str, name: str) -> str:
    """Return settings.py's text with the app in INSTALLED_APPS."""
    return insert_above(
        text, SETTINGS_ANCHOR, f'"{name}",', path="backend/configs/settings.py"
    )


def wire_urls(text: str, name: str) -> str:
    """Return api/urls.py's text with the app's URLs under /api/<name>/."""
    return insert_above(
        text,
        URLS_ANCHOR,
        f'path("{name}/", include("{name}.urls")),',
        path="backend/api/urls.py",
    )


def render(name: str, model: str, *, root: Path) -> None:
    """Render templates/app/ into backend/<name>/ with Django's startapp."""
    from django.conf import settings
    from django.core.management import call_command
    from django.core.management.commands.startapp import Command as StartApp

    # Rendering needs Django's template engine only, not keel's settings, as
    # with django-admin startapp.
    if not settings.configured:
        settings.configure()

    class StartAppWithModel(StartApp):
        # startapp puts every option into the templates' context.
        def add_arguments(self, parser: Any) -> None:
            super().add_arguments(parser)
            parser.add_argument("--model-name")
            parser.add_argument("--model-snake")

    # startapp makes backend/<name>/ itself, in the working directory: one
    # made first would be importable, and startapp refuses an importable name.
    with contextlib.chdir(root / "backend"):
        call_command(
            StartAppWithModel(),
            name,
            template=str(root / "templates" / "app"),
            model_name=model,
            model_snake=snake_case(model),
            verbosity=0,
        )


def make_app(name: str, model: str, *, root: Path) -> None:
    backend = root / "backend"
    settings_path = backend / "configs" / "settings.py"
    urls_path = backend / "api" / "urls.py"
    originals = {path: path.read_text() for path in (settings_path, urls_path)}
    check_app_name(name, backend=backend, urls=originals[urls_path])
    check_model_name(model, taken=names_in_template(root / "templates" / "app"))
    wired = {
        settings_path: wire_settings(originals[settings_path], name),
        urls_path: wire_urls(originals[urls_path], name),
    }
    bin_dir = Path(sys.executable).parent
    try:
        render(name, model, root=root)
        for path, text in wired.items():
            path.write_text(text)
        # The first load of settings with the app installed: Django refuses a
        # label already taken (auth, sessions, ...) here, and runs its checks.
        subprocess.run(
            [sys.executable, str(root / "scripts" / "makemigrations.py"), name],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        subprocess.run(
            [str(bin_dir / "ruff"), "format", "--quiet", str(backend / name)],
            check=True,
        )
    except BaseException:
        shutil.rmtree(backend / name, ignore_errors=True)
        for path, text in originals.items():
            path.write_text(text)
        raise


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="make app", description="Create a domain app from templates/app/."
    )
    parser.add_argument("name", help="the app's name, lowercase: orders")
    parser.add_argument("--model", help="its model's name (default: from the name)")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    model = args.model or model_name_for(args.name)
    try:
        make_app(args.name, model, root=args.root.resolve())
    except Refused as error:
        print(f"make app: {error}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as error:
        lines = (error.stderr or "").strip().splitlines() or [str(error)]
        print(f"make app: {lines[-1]}\nNothing was changed.", file=sys.stderr)
        return 1
    print(
        f"make app: created backend/{args.name}/ (model {model}) with its first "
        f"migration, in INSTALLED_APPS and under /api/{args.name}/.\n"
        "Next: make test; make dev applies the migration."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
