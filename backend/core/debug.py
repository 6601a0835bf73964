"""
What Django's debug error page (DEBUG on, the technical 500) may show.

Django's SafeExceptionReporterFilter hides a setting, a request.META entry or
a cookie only by its name (API, KEY, PASS, SECRET, TOKEN...), so a credential
under a name such as ``MONGO_URL``, ``REDIS_URL``, ``DATABASE_URL`` or
``CACHES["default"]["LOCATION"]`` was shown whole: the user and password of a
URL are in its value, not its name. This filter also masks, in every value it
shows (settings, request.META, which holds the environment under a
development server, and the traceback's local variables):

- the user information of any URL (``scheme://user:password@host``), the
  password and the user alike (a Sentry DSN's key is its user part);
- the value of a URL's query parameter whose name says it is a credential
  (``?password=...``, ``&token=...``);
- anything under a name that says it is a DSN or a credential, besides
  Django's own list.
"""

import re
from types import FrameType
from typing import Any

from django.http import HttpRequest
from django.utils.regex_helper import _lazy_re_compile
from django.views import debug

# scheme://userinfo@ : everything between the scheme and the last @ before the
# host, so that an @ inside an unescaped password is masked too.
URL_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s]*@")
CREDENTIAL_PARAMETER = re.compile(
    r"(?P<name>[?&;](?:[^=&;#\s]*(?:pass|pwd|secret|token|key|auth|signature)"
    r"[^=&;#\s]*)=)[^&;#\s]*",
    flags=re.IGNORECASE,
)


class SafeExceptionReporterFilter(debug.SafeExceptionReporterFilter):
    hidden_settings = _lazy_re_compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|DSN|CREDENTIAL",
        flags=re.IGNORECASE,
    )

    def mask(self, text: str) -> str:
        """Return text with the credentials in any URL it holds masked."""
        if "://" not in text and "=" not in text:
            return text
        text = URL_USERINFO.sub(rf"\g<scheme>{self.cleansed_substitute}@", text)
        return CREDENTIAL_PARAMETER.sub(rf"\g<name>{self.cleansed_substitute}", text)

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        cleansed = super().cleanse_setting(key, value)
        if isinstance(cleansed, str):
            return self.mask(cleansed)
        return cleansed

    def get_traceback_frame_variables(
        self, request: HttpRequest | None, tb_frame: FrameType
    ) -> Any:
        return [
            (name, self.cleanse_setting(name, value))
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]
