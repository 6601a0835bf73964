"""keel has one version: pyproject, the OpenAPI document, the image, the changelog."""

import re
import tomllib

from django.conf import settings

from testing.environment import BACKEND

ROOT = BACKEND.parent


def project_version():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def test_openapi_document_has_the_project_version():
    assert settings.SPECTACULAR_SETTINGS["VERSION"] == project_version()


def test_image_label_has_the_project_version():
    containerfile = (BACKEND / "Containerfile").read_text()
    labels = re.findall(r'org\.opencontainers\.image\.version="([^"]+)"', containerfile)
    assert labels == [project_version()]


def test_changelog_opens_with_this_version():
    # Changes not yet released are listed above the newest release.
    releases = re.findall(r"^## (\S+)", (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert next(r for r in releases if r != "Unreleased") == project_version()


def test_lock_file_has_the_project_version():
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    (keel,) = [package for package in lock["package"] if package["name"] == "keel"]
    assert keel["version"] == project_version()


def test_changelog_lists_every_renamed_variable():
    from configs.env import RENAMED

    changelog = (ROOT / "CHANGELOG.md").read_text()
    for old, new in RENAMED.items():
        assert f"| `{old}` | `{new}` |" in changelog
