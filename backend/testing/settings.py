"""Load configs/settings.py in-process from a given environment, for its tests."""

import os
import runpy
from collections.abc import Mapping
from typing import Any
from unittest import mock

from testing.environment import BACKEND

SETTINGS = BACKEND / "configs" / "settings.py"


def load_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """
    Return the names configs/settings.py defines when run with exactly environ.

    The module runs afresh under another name, so Django's own settings are
    untouched; its ConfigurationError propagates. os.environ is environ for
    the duration (settings read it and nothing else), then restored.
    """
    with mock.patch.dict(os.environ, environ, clear=True):
        return runpy.run_path(str(SETTINGS), run_name="keel_settings_under_test")
