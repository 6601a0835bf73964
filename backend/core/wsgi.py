"""
The WSGI wrapper in front of Django: /healthz answered before Django sees it.

It imports nothing from Django, so configs.wsgi can wrap the application
before the app registry is ready.
"""

import json
from collections.abc import Callable, Iterable
from typing import Any

LIVENESS_BODY = json.dumps({"status": "ok"}).encode()

WSGIApplication = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class LivenessProbe:
    """
    Answer /healthz ahead of application, a WSGI application (Django's).

    A liveness probe asks only whether the process answers, so it is answered
    without building a request, sending Django's request signals or running
    any middleware: it stays cheap however often it is asked, and says nothing
    about the database (that is /readyz).
    """

    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(LIVENESS_BODY))),
    ]

    def __init__(self, application: WSGIApplication) -> None:
        self.application = application

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", list(self.headers))
            return [LIVENESS_BODY]
        return self.application(environ, start_response)
