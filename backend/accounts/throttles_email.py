"""
Throttles for the endpoints that mail an address someone types in: password
reset and verification resend.

Each endpoint counts per client IP (DRF's get_ident, as the login throttles)
and per address, with counts of its own; an address is trimmed, NFKC-normalized,
case-folded and hashed, so spelling variants share one count. The counts are
the same whether or not the address has an account, so a 429 says nothing
about one either.
"""

import hashlib
import unicodedata

from rest_framework.request import Request
from rest_framework.views import APIView

from accounts.throttles import CountedThrottle


class EmailThrottle(CountedThrottle):
    def ident_for(self, request: Request) -> str | None:
        raise NotImplementedError

    def key_for(self, request: Request, view: APIView) -> str | None:
        ident = self.ident_for(request)
        # The view's class names the endpoint: reset and resend count apart.
        return None if ident is None else f"{type(view).__name__}:{ident}"


class EmailIpThrottle(EmailThrottle):
    scope = "email_ip"

    def ident_for(self, request: Request) -> str | None:
        ident: str | None = self.get_ident(request)
        return ident


class EmailAddressThrottle(EmailThrottle):
    scope = "email_address"

    def ident_for(self, request: Request) -> str | None:
        data = request.data
        email = data.get("email") if isinstance(data, dict) else None
        if not isinstance(email, str):
            return None  # The serializer rejects it; nothing is mailed.
        normalized = unicodedata.normalize("NFKC", email.strip()).casefold()
        return hashlib.sha256(normalized.encode()).hexdigest()
