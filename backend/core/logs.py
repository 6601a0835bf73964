"""
Logging for keel: JSON lines on stdout in production, readable text in debug.

structlog renders both structlog's own loggers and the standard library's
(Django's included), so every line carries the request id bound by
RequestLogMiddleware. Values under sensitive keys are masked before rendering.
"""

import logging.config
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


def configure_logging(config: dict[str, Any]) -> None:
    """
    Configure structlog, then the standard library from config (Django's LOGGING).

    Django calls this once, in django.setup(), as settings.LOGGING_CONFIG, so
    importing settings configures nothing.
    """
    structlog.configure(
        processors=[
            *SHARED_PROCESSORS,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    logging.config.dictConfig(config)


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
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "structlog",
            }
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
