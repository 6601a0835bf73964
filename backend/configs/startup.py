"""Turn a configuration error at start-up into one short message and exit 1."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from configs.env import ConfigurationError


@contextmanager
def exit_on_configuration_error() -> Iterator[None]:
    """Exit with the error's message alone; a traceback would bury it."""
    try:
        yield
    except ConfigurationError as error:
        sys.exit(str(error))
