"""
Error tracking with Sentry, on when SENTRY_DSN is set.

Nothing personal leaves keel: ``send_default_pii`` stays off (its default;
sentry-sdk 2.75 deprecates passing it, in favour of ``data_collection``,
whose explicit form would also turn off the SDK's event scrubber), so Sentry
drops cookies, the Authorization header and the user's address and scrubs
values under names like ``password`` and ``token``; request bodies (which
carry passwords and tokens) are never sent at all, nor are stack frames'
local variables: the scrubber knows ``password`` but not ``new_password``,
and a request's repr holds its query string. The query string itself is
dropped from every event, as keel's request log drops it (it may carry a
token), and so are the credential headers Sentry would send as
``[Filtered]``. The release is keel's
version, the environment KEEL_ENVIRONMENT; tracing samples
SENTRY_TRACES_SAMPLE_RATE of requests (0 by default: errors only).
"""

from typing import Any

from django.conf import settings

CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


def without_credentials(event: Any, hint: Any) -> Any:
    """Return event without its request's query string, cookies and auth headers."""
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("query_string", None)
        request.pop("cookies", None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {
                name: value
                for name, value in headers.items()
                if name.lower() not in CREDENTIAL_HEADERS
            }
    return event


def sentry_options() -> dict[str, Any]:
    """Return the options keel initialises Sentry with."""
    from sentry_sdk.integrations.django import DjangoIntegration

    options = settings.KEEL["SENTRY"]
    return {
        "dsn": options["DSN"],
        "integrations": [DjangoIntegration()],
        "max_request_body_size": "never",
        "include_local_variables": False,
        "before_send": without_credentials,
        "before_send_transaction": without_credentials,
        "release": options["RELEASE"],
        "environment": options["ENVIRONMENT"],
        "traces_sample_rate": options["TRACES_SAMPLE_RATE"],
    }


def init_sentry() -> bool:
    """Initialise Sentry if SENTRY_DSN is set; return whether it was."""
    if not settings.KEEL["SENTRY"]["DSN"]:
        return False
    # Imported only when used: without a DSN no process pays for loading it.
    import sentry_sdk

    sentry_sdk.init(**sentry_options())
    return True
