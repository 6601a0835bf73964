"""Who gets in: authentication classes, revocation and tampered tokens."""

import base64
import hashlib
import hmac
import json
import re
import time

import jwt
import pytest

from django.conf import settings
from django.test import Client
from rest_framework.permissions import IsAuthenticated
from rest_framework.test import APIClient

from accounts.tests.factories import (
    BLACKLIST_URL,
    ME_URL,
    PASSWORD,
    PASSWORD_CHANGE_URL,
    REFRESH_URL,
    bearer,
    login,
)
from testing.urls import api_views

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a different long passphrase"
# Every endpoint that is open without a token, and nothing else.
PUBLIC_ENDPOINTS = {
    "api/auth/token/",
    "api/auth/token/refresh/",
    "api/auth/token/blacklist/",
    "api/auth/register/",
    # The email-link flows: the address or the link's token is the credential.
    "api/auth/password/reset/",
    "api/auth/password/reset/confirm/",
    "api/auth/email/verify/",
    "api/auth/email/verify/resend/",
    "api/auth/email/change/confirm/",
    "api/schema/",
    "api/docs/",
}


def refresh_status(token):
    return APIClient().post(REFRESH_URL, {"refresh": token}, format="json").status_code


def me_status(access):
    return bearer(access).get(ME_URL).status_code


def test_valid_basic_credentials_get_401(user):
    credentials = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    response = APIClient().get(ME_URL, HTTP_AUTHORIZATION=f"Basic {credentials}")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_request_without_credentials_gets_401_with_a_bearer_challenge():
    response = APIClient().get(ME_URL)
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Authentication credentials were not provided.",
        "code": "not_authenticated",
    }
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_session_serves_the_browsable_api_and_needs_csrf_to_write(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get(ME_URL, HTTP_ACCEPT="text/html").status_code == 200
    response = client.patch(
        ME_URL, json.dumps({"first_name": "A"}), content_type="application/json"
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def sample_parameter(match):
    """
    Return a value the route parameter's converter matches, so that a request
    reaches the view: its 401 must come before any lookup of the object.
    """
    converter = match.group(1)
    return "00000000-0000-0000-0000-000000000001" if converter == "uuid" else "1"


def test_every_api_endpoint_requires_authentication_unless_it_opts_out_visibly():
    routes = dict(api_views())
    assert set(routes) >= PUBLIC_ENDPOINTS | {
        "api/auth/me/",
        "api/auth/password/change/",
    }
    for route, view in routes.items():
        if route in PUBLIC_ENDPOINTS:
            declared = {
                name
                for klass in view.__mro__[:-1]
                if klass.__module__.startswith(("accounts", "api"))
                for name in vars(klass)
            }
            assert "permission_classes" in declared, route
        else:
            assert list(view.permission_classes) == [IsAuthenticated], route
            url = "/" + re.sub(r"<(?:(\w+):)?\w+>", sample_parameter, route)
            for method in ("get", "post", "patch", "put", "delete"):
                status = getattr(APIClient(), method)(url).status_code
                assert status in (401, 405), (route, method, status)


def test_deactivated_users_access_and_refresh_tokens_are_rejected_at_once(user, tokens):
    assert me_status(tokens["access"]) == 200
    user.is_active = False
    user.save()
    assert me_status(tokens["access"]) == 401
    assert refresh_status(tokens["refresh"]) == 401


def test_deleted_users_tokens_get_401_not_500(user, tokens):
    user.delete()
    assert refresh_status(tokens["refresh"]) == 401
    assert me_status(tokens["access"]) == 401


def test_password_change_revokes_every_token_issued_before_it(user, tokens):
    other_device = login(APIClient()).json()
    response = bearer(tokens["access"]).post(
        PASSWORD_CHANGE_URL,
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
    )
    assert response.status_code == 204
    for pair in (tokens, other_device):
        assert me_status(pair["access"]) == 401
        assert refresh_status(pair["refresh"]) == 401
    fresh = login(APIClient(), password=NEW_PASSWORD).json()
    assert me_status(fresh["access"]) == 200
    assert refresh_status(fresh["refresh"]) == 200


def test_password_set_outside_the_api_revokes_tokens_too(user, tokens):
    user.set_password(NEW_PASSWORD)
    user.save()
    assert me_status(tokens["access"]) == 401
    assert refresh_status(tokens["refresh"]) == 401


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(token):
    return jwt.decode(token, options={"verify_signature": False})


def sign(payload, algorithm="HS256", key=None):
    return jwt.encode(
        payload, key or settings.SIMPLE_JWT["SIGNING_KEY"], algorithm=algorithm
    )


def with_header(payload, header, signer=None):
    """Return a token with a hand-made header, signed by signer or unsigned."""
    signing_input = (
        f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    )
    signature = signer(signing_input.encode()) if signer else b""
    return f"{signing_input}.{b64(signature)}"


def hs256(message):
    key = settings.SIMPLE_JWT["SIGNING_KEY"].encode()
    return hmac.new(key, message, hashlib.sha256).digest()


def expired(payload):
    leeway = settings.SIMPLE_JWT["LEEWAY"]
    return sign({**payload, "exp": int(time.time()) - leeway - 1})


TAMPERINGS = {
    "alg none": lambda payload: with_header(payload, {"alg": "none", "typ": "JWT"}),
    "HS512 with the real key": lambda payload: sign(payload, "HS512"),
    "RS256 header on an HS256 signature": lambda payload: with_header(
        payload, {"alg": "RS256", "typ": "JWT"}, hs256
    ),
    "bad signature": lambda payload: sign(payload, key="another key " * 4),
    "one second past expiry and leeway": expired,
}


def test_honest_re_signed_token_is_accepted_so_the_tampering_tests_mean_something(
    tokens,
):
    payload = claims(tokens["access"])
    assert me_status(sign(payload)) == 200
    assert me_status(with_header(payload, {"alg": "HS256", "typ": "JWT"}, hs256)) == 200
    assert me_status(sign({**payload, "exp": int(time.time()) + 5})) == 200
    assert refresh_status(sign(claims(tokens["refresh"]))) == 200


@pytest.mark.parametrize("tamper", TAMPERINGS.values(), ids=TAMPERINGS.keys())
def test_tampered_access_token_gets_401(tokens, tamper):
    response = bearer(tamper(claims(tokens["access"]))).get(ME_URL)
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


@pytest.mark.parametrize("tamper", TAMPERINGS.values(), ids=TAMPERINGS.keys())
def test_tampered_refresh_token_gets_401(tokens, tamper):
    assert refresh_status(tamper(claims(tokens["refresh"]))) == 401


def test_refresh_token_used_as_bearer_token_gets_401(tokens):
    response = bearer(tokens["refresh"]).get(ME_URL)
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


# Claims a holder of the signing key could write that are not what keel issues:
# each must be a 401, never a login as someone (user_id 1.0 would be user 1 to
# the database) and never a 500. The tokens are signed with the real key, so a
# leaked key mints nothing keel would not mint itself.
MALFORMED_CLAIMS = {
    "user_id 1.0": ("user_id", 1.0),
    "user_id ' 1'": ("user_id", " 1"),
    "user_id '1 '": ("user_id", "1 "),
    "user_id '+1'": ("user_id", "+1"),
    "user_id '01'": ("user_id", "01"),
    "user_id full-width 1": ("user_id", "\uff11"),
    "user_id true": ("user_id", True),
    "user_id 1, a number where keel writes a string": ("user_id", 1),
    "user_id [1]": ("user_id", [1]),
    "user_id '0'": ("user_id", "0"),
    "user_id past bigint": ("user_id", str(2**63)),
    "user_id null": ("user_id", None),
    "exp as a string": ("exp", "9999999999"),
    "exp as a float": ("exp", 9999999999.0),
    "exp past year 9999": ("exp", 10**20),
    "exp true": ("exp", True),
    "exp null": ("exp", None),
    "exp a list": ("exp", [9999999999]),
    "iat as a string": ("iat", "1"),
    "iat past year 9999": ("iat", -(10**20)),
    "iat a list": ("iat", [1]),
    "jti a number": ("jti", 1),
    "jti longer than the blacklist's column": ("jti", "a" * 300),
    "jti empty": ("jti", ""),
    "token_type a list": ("token_type", ["access", "refresh"]),
    "token_type null": ("token_type", None),
}


@pytest.fixture
def user_one(db):
    """Return the user whose id is 1, whom 1.0, " 1" or true would speak for."""
    from accounts.tests.factories import make_user

    return make_user("one", id=1)


@pytest.fixture
def honest_claims(user_one):
    from accounts.services import token_pair_for

    pair = token_pair_for(user_one)
    return {"access": claims(pair["access"]), "refresh": claims(pair["refresh"])}


def test_honest_claims_signed_here_authenticate_so_the_malformed_ones_mean_something(
    honest_claims,
):
    assert me_status(sign(honest_claims["access"])) == 200
    assert refresh_status(sign(honest_claims["refresh"])) == 200


@pytest.mark.parametrize(
    "claim, value", MALFORMED_CLAIMS.values(), ids=MALFORMED_CLAIMS.keys()
)
def test_access_token_with_a_malformed_claim_gets_401(honest_claims, claim, value):
    response = bearer(sign({**honest_claims["access"], claim: value})).get(ME_URL)
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


@pytest.mark.parametrize(
    "claim, value", MALFORMED_CLAIMS.values(), ids=MALFORMED_CLAIMS.keys()
)
@pytest.mark.parametrize("url", [REFRESH_URL, BLACKLIST_URL])
def test_refresh_token_with_a_malformed_claim_gets_401(
    honest_claims, url, claim, value
):
    token = sign({**honest_claims["refresh"], claim: value})
    response = APIClient().post(url, {"refresh": token}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
