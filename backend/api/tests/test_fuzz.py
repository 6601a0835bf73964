"""
Fuzzing: schemathesis against the schema keel serves, over HTTP, signed in.

Every operation in /api/schema/ gets generated requests, valid and invalid, sent
to a live server with a real user's real access token, and every response is
put through all of schemathesis' checks: no 5xx, the body matches the schema,
the status code and content type are documented, invalid input is refused,
valid input is accepted, a missing token is refused, unsupported methods get
405. A finding is a bug in keel or in its schema, and is fixed there.

The budget is Hypothesis' profile (backend/conftest.py): a few
examples per operation in ``make test``, more in ``make security``. Generation is
derandomized, so a run repeats, and no request may take longer than
REQUEST_TIMEOUT.
"""

import json
import secrets
import string
import time
from collections import Counter
from typing import Any

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from accounts.tests.factories import TOKEN_URL, make_user

REQUEST_TIMEOUT = 5

# Throttling has tests of its own (accounts/tests/test_throttling.py); here the
# limits are high enough that the fuzzer reaches the code behind them, while
# the throttles still count every attempt.
HIGH_RATES = {
    "login_ip": "100000/min",
    "login_username": "100000/min",
    "register": "100000/min",
    "refresh": "100000/min",
    "email_ip": "100000/min",
    "email_address": "100000/min",
}

# Schemathesis' coverage phase (every boundary case the schema defines, built
# when the module is collected: about 5 s a process) runs in the deeper pass
# only; every run fuzzes with generated examples.
DEEP = settings.get_current_profile_name() == "security"

CONFIG = SchemathesisConfig.from_dict(
    {
        "request-timeout": REQUEST_TIMEOUT,
        "phases": {"coverage": {"enabled": DEEP}},
        "generation": {
            "deterministic": True,
            # Every text field refuses NUL with a 400 (DRF's
            # ProhibitNullCharactersValidator; api/tests/test_errors.py proves
            # it), a rule the schema leaves unsaid rather than put a pattern on
            # every string.
            "allow-x00": False,
        },
        "operations": [
            # A schema-valid body is not enough to succeed here: old_password
            # must be the user's current password and new_password must pass
            # the password validators, rules no JSON schema states. Both answer
            # 400 by design, so "valid data is accepted" does not apply. Every
            # other check, invalid data refused included, still runs.
            {
                "include-name": "POST /api/auth/password/change/",
                "checks": {"positive_data_acceptance": {"enabled": False}},
            },
            # Likewise: the password validators (length, common, numeric, too
            # like the username) and a username already taken answer 400.
            {
                "include-name": "POST /api/auth/register/",
                "checks": {"positive_data_acceptance": {"enabled": False}},
            },
            # An email link's uid and token are an HMAC the fuzzer cannot
            # forge: every schema-valid guess is a bad link, 400 by design.
            *(
                {
                    "include-name": f"POST /api/auth/{path}",
                    "checks": {"positive_data_acceptance": {"enabled": False}},
                }
                for path in (
                    "password/reset/confirm/",
                    "email/verify/",
                    "email/change/confirm/",
                )
            ),
        ],
    }
)


def django_accepts_email(address: str) -> bool:
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


def emails_django_accepts() -> st.SearchStrategy[str]:
    """
    Return addresses Django's EmailValidator accepts, which is what an email is
    to keel: narrower than JSON Schema's "email", which takes "a@b.c" (Django
    wants a top-level domain of two letters or more). Built from parts, as
    Hypothesis' own emails() costs seconds to start.
    """
    local = st.text(
        string.ascii_letters + string.digits + "!#$%&'*+-/=?^_`{|}~",
        min_size=1,
        max_size=30,
    )
    label = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=12)
    top = st.text(string.ascii_lowercase, min_size=2, max_size=8)
    return st.builds(
        lambda name, labels, tld: f"{name}@{'.'.join([*labels, tld])}",
        local,
        st.lists(label, min_size=1, max_size=3),
        top,
    ).filter(django_accepts_email)


# Valid examples of "format: email" are drawn from what keel accepts.
schemathesis.openapi.format("email", emails_django_accepts())


def generated_schema() -> dict[str, Any]:
    """Return the OpenAPI schema as GET /api/schema/ renders it, without a request."""
    generator = SchemaGenerator()
    rendered = OpenApiJsonRenderer().render(generator.get_schema(public=True))
    schema: dict[str, Any] = json.loads(rendered)
    return schema


# Parametrizing by operation needs the operations when the module is collected:
# they are generated in-process, no request sent, and the test below checks
# that they are exactly what the server serves. (schemathesis' lazy loader,
# from_fixture, does not run under pytest 9.2.)
schema = schemathesis.openapi.from_dict(generated_schema(), config=CONFIG)


@pytest.mark.django_db
def test_the_fuzzed_schema_is_the_one_served(live):
    status, _, body = live.request(
        "GET", "/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"}
    )
    assert status == 200, body
    assert json.loads(body) == schema.raw_schema


class SignedIn:
    """
    A real user signed in over HTTP through POST /api/auth/token/.

    The access token is renewed once half its lifetime has passed, so a long
    run never sends an expired one. Its password is random: no generated
    request can change it, so nothing the fuzzer does revokes the token.
    """

    def __init__(self, live):
        self.live = live
        self.username = "fuzzer"
        self.password = secrets.token_urlsafe(24)
        make_user(username=self.username, password=self.password)
        self.sign_in()

    def sign_in(self):
        status, _, body = self.live.request(
            "POST",
            TOKEN_URL,
            body=json.dumps({"username": self.username, "password": self.password}),
            headers={"Content-Type": "application/json"},
        )
        assert status == 200, body
        self.access = json.loads(body)["access"]
        lifetime = django_settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
        self.renew_at = time.monotonic() + lifetime.total_seconds() / 2

    def headers(self):
        if time.monotonic() >= self.renew_at:
            self.sign_in()
        return {"Authorization": f"Bearer {self.access}"}


@pytest.fixture
def signed_in(live, transactional_db, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": HIGH_RATES,
    }
    # Registration is fuzzed open; closed, it is a plain 404.
    settings.KEEL = {**settings.KEEL, "ALLOW_REGISTRATION": True}
    session = SignedIn(live)
    yield session
    # The token still works after everything the fuzzer sent.
    status, _, _ = live.request("GET", "/api/auth/me/", headers=session.headers())
    assert status == 200


@pytest.fixture
def statuses(record_property):
    """Count each response's status code; the counts go into the test's report."""
    counts: Counter[int] = Counter()
    yield counts
    record_property("examples", sum(counts.values()))
    record_property("statuses", json.dumps(dict(sorted(counts.items()))))


@schema.parametrize()
# The user and token are made once per operation, not per example, on purpose.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_api_operation_passes_every_check(case, live_server, signed_in, statuses):
    response = case.call_and_validate(
        base_url=live_server.url, headers=signed_in.headers()
    )
    statuses[response.status_code] += 1
