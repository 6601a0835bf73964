"""The ceiling: a raw WSGI app that does nothing, under keel's server."""

from collections.abc import Callable, Iterable
from typing import Any

BODY = b'{"status": "ok"}'


def application(
    environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    start_response(
        "200 OK",
        [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))],
    )
    return [BODY]
