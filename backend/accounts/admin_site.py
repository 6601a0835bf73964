"""
Keel's admin site: Django's, with the API's brute-force protection on its login.

``/admin/login/`` checks a password like ``POST /api/auth/token/`` does, so it
counts each attempt under the same throttles and the same keys (per client IP
and per username, accounts.throttles), waits in the same fair queue for one of
the same password-check slots (accounts.password_checks; a refusal counts
against the address alike) and refunds the attempt when the password was
right or none was checked (a GET, or a form with a blank field). A guess
therefore costs the same whichever door it comes through: an account locked
through the API is locked in the admin, and the other way round, while its
owner signs in from another address once the per-username count ends.

The hook is AdminSite.login rather than an authentication backend or the login
form's clean(): only the view can answer 429 with Retry-After and an HTML page,
and a backend would also count the API's own checks twice.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from rest_framework.request import Request

from accounts.guesses import first_refusal, refund_password_guess
from accounts.password_checks import PasswordChecksBusy, password_check_slot
from accounts.throttles import (
    AdminPasswordGuessUsernameThrottle,
    PasswordGuessIpThrottle,
)

THROTTLED_TEMPLATE = "admin/keel_login_refused.html"


class KeelAdminSite(admin.AdminSite):
    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method != "POST":
            # Only a POST checks a password; a GET shows the form.
            return super().login(request, extra_context)
        guess = Request(request)
        throttles = (PasswordGuessIpThrottle(), AdminPasswordGuessUsernameThrottle())
        refusing = first_refusal(throttles, guess, None)
        if refusing is not None:
            reason = "Too many failed sign-ins."
            return self.refused(request, 429, reason, refusing.wait())
        try:
            with password_check_slot(guess):
                response = super().login(request, extra_context)
        except PasswordChecksBusy as busy:
            return self.refused(request, busy.status_code, str(busy.detail), busy.wait)
        if response.status_code == 302 or not checked_a_password(response):
            # Signed in (the password was right), or stopped before a password
            # was checked: no failed guess either way.
            refund_password_guess(guess)
        return response

    def refused(
        self, request: HttpRequest, status: int, reason: str, retry_after: float
    ) -> HttpResponse:
        """Return the admin-styled page that says why the login was refused."""
        seconds = max(int(retry_after), 1)
        context = {
            **self.each_context(request),
            "title": reason,
            "reason": reason,
            "retry_after": seconds,
        }
        response = TemplateResponse(request, THROTTLED_TEMPLATE, context, status=status)
        response["Retry-After"] = str(seconds)
        return response


def checked_a_password(response: HttpResponse) -> bool:
    """Return whether the login form that response shows checked a password."""
    context = getattr(response, "context_data", None) or {}
    form = context.get("form")
    # Django's AuthenticationForm checks a password only when both fields are
    # valid; a blank or over-long one is a field error, and a wrong password
    # is an error of the whole form.
    return form is None or not ({"username", "password"} & set(form.errors))
