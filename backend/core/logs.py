"""
Logging for keel: JSON lines on stdout in production, readable text in debug.

structlog renders both structlog's own loggers and the standard library's
(Django's included), so every line carries the request id bound by
RequestLogMiddleware. Values under sensitive keys are masked before rendering.

keel's own loggers (structlog.get_logger) skip the standard library: the
request line is written once per request, and a LogRecord, the caller lookup
and the handler's lock held around rendering cost more than the rest of the
line. They filter at the root level (DJANGO_LOG_LEVEL) and render with the
same processors; the standard library's records still pass its loggers and
levels. Both end in one LineWriter, one whole line per write.
"""

import logging
import logging.config
import sys
import threading
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

SENSITIVE_KEYS = frozenset(
    {
        "authorization",
        "password",
        "old_password",
        "new_password",
        "token",
        "access",
        "refresh",
        "secret",
        "cookie",
    }
)


def mask_sensitive(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    """Mask the value of any key that names a credential."""
    for key in event:
        if key.lower() in SENSITIVE_KEYS:
            event[key] = "[masked]"
    return event


def drop_request(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    """Drop the HttpRequest Django attaches to its records: it is not JSON."""
    event.pop("request", None)
    return event


SHARED_PROCESSORS: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    drop_request,
    mask_sensitive,
]


class LineWriter:
    """Write rendered lines to stdout, one whole line per write, flushed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def write(self, line: str) -> None:
        # sys.stdout is looked up on each line, so a capture (a test's) sees it.
        stream = sys.stdout
        with self._lock:
            stream.write(line + "\n")
            stream.flush()


OUTPUT = LineWriter()


class LineLogger:
    """What structlog wraps for keel's own loggers: a named line on stdout."""

    def __init__(self, name: str) -> None:
        # add_logger_name reads it.
        self.name = name

    def msg(self, message: str) -> None:
        OUTPUT.write(message)

    debug = info = warning = error = critical = exception = log = msg


def line_logger(*args: Any) -> LineLogger:
    """Return a LineLogger named by structlog.get_logger's first argument."""
    return LineLogger(str(args[0]) if args else "")


class LineHandler(logging.Handler):
    """The standard library's handler: its records, formatted, to OUTPUT."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            OUTPUT.write(self.format(record))
        except Exception:  # the standard library's own rule for handlers
            self.handleError(record)


def configure_logging(config: dict[str, Any]) -> None:
    """
    Configure the standard library from config (Django's LOGGING), then structlog.

    structlog's loggers take the root level and the renderer from config.
    Django calls this once, in django.setup(), as settings.LOGGING_CONFIG, so
    importing settings configures nothing.
    """
    # Read before dictConfig, which consumes parts of the dicts it is given.
    renderer = config["formatters"]["structlog"]["processors"][-1]
    level = logging.getLevelNamesMapping()[config["root"]["level"]]
    logging.config.dictConfig(config)
    structlog.configure(
        processors=[
            *SHARED_PROCESSORS,
            structlog.processors.format_exc_info,
            renderer,
        ],
        logger_factory=line_logger,
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )


def build_logging(*, json: bool, level: str) -> dict[str, Any]:
    """Return the LOGGING dict for Django: JSON lines, or text with json off."""
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structlog": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": SHARED_PROCESSORS,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    renderer,
                ],
            }
        },
        "handlers": {
            "stdout": {"class": "core.logs.LineHandler", "formatter": "structlog"}
        },
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            # Every request is logged once by keel.request; Django's own
            # per-request lines for 4xx/5xx would log it twice.
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "WARNING"},
            # Procrastinate lists its tasks at info in every process that
            # loads Django; its worker's own lines (procrastinate.worker) stay.
            "procrastinate.blueprints": {"level": "WARNING"},
            "procrastinate.periodic": {"level": "WARNING"},
        },
    }
