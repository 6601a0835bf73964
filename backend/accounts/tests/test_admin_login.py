"""
The admin's login shares the API's guess accounting: the same counts per client
IP and per username, whichever door a guess comes through.
"""

import pytest

from django.test import Client

from accounts.tests.factories import PASSWORD, login, make_user

pytestmark = pytest.mark.django_db

# The defaults: KEEL_LOGIN_IP_THROTTLE_RATE and KEEL_LOGIN_USERNAME_THROTTLE_RATE.
PER_IP = 10
PER_USERNAME = 5
ADMIN_LOGIN_URL = "/admin/login/"


@pytest.fixture
def owner(db):
    return make_user("root", is_staff=True, is_superuser=True)


def admin_login(username="root", password=PASSWORD, address="10.0.0.1"):
    """Return the admin's answer to a sign-in from a fresh browser at address."""
    return Client().post(
        ADMIN_LOGIN_URL,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def assert_refused_in_the_admins_look(response):
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Too many failed sign-ins." in page
    assert "Django administration" in page  # the admin's header: its look


def test_admin_login_signs_the_owner_in(owner):
    response = admin_login()
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_failed_admin_logins_are_throttled_per_username(owner):
    for number in range(PER_USERNAME):
        assert admin_login(password="wrong", address=f"10.0.0.{number}").status_code
    # From yet another address, and even with the right password.
    assert_refused_in_the_admins_look(admin_login(address="10.0.1.1"))


def test_failed_admin_logins_show_the_form_until_the_limit(owner):
    for number in range(PER_USERNAME):
        response = admin_login(password="wrong", address=f"10.0.0.{number}")
        assert response.status_code == 200
        assert b"Please enter the correct username and password" in response.content


def test_an_account_locked_through_the_api_is_locked_in_the_admin(owner, api_client):
    for number in range(PER_USERNAME):
        response = login(api_client, "root", "wrong", REMOTE_ADDR=f"10.0.2.{number}")
        assert response.status_code == 401
    assert_refused_in_the_admins_look(admin_login(address="10.0.3.1"))


def test_an_account_locked_through_the_admin_is_locked_in_the_api(owner, api_client):
    for number in range(PER_USERNAME):
        admin_login(password="wrong", address=f"10.0.4.{number}")
    response = login(api_client, "root", REMOTE_ADDR="10.0.5.1")
    assert response.status_code == 429


def test_admin_guesses_from_one_ip_are_throttled_and_the_owner_gets_in_elsewhere(
    owner,
):
    for number in range(PER_IP):
        admin_login(f"nobody{number}", "wrong", address="192.0.2.66")
    assert_refused_in_the_admins_look(admin_login(address="192.0.2.66"))
    assert admin_login(address="198.51.100.7").status_code == 302


def test_admin_logins_refused_for_their_address_leave_the_username_alone(owner):
    for number in range(PER_IP):
        admin_login(f"nobody{number}", "wrong", address="192.0.2.68")
    for _ in range(PER_USERNAME + 1):
        assert_refused_in_the_admins_look(admin_login("root", "wrong", "192.0.2.68"))
    assert admin_login(address="198.51.100.8").status_code == 302


def test_api_and_admin_guesses_from_one_ip_share_one_count(owner, api_client):
    for number in range(PER_IP // 2):
        login(api_client, f"nobody{number}", "wrong", REMOTE_ADDR="192.0.2.67")
        admin_login(f"other{number}", "wrong", address="192.0.2.67")
    assert_refused_in_the_admins_look(admin_login(address="192.0.2.67"))


def test_successful_admin_logins_are_not_counted(owner):
    for _ in range(PER_USERNAME + PER_IP):
        assert admin_login().status_code == 302


@pytest.mark.parametrize("method", ["get", "head", "options"])
def test_the_admin_login_form_is_not_a_guess(owner, method, record_property):
    for _ in range(PER_IP * 2 + 1):
        response = getattr(Client(), method)(ADMIN_LOGIN_URL, REMOTE_ADDR="10.0.6.1")
        assert response.status_code == 200
    assert admin_login(address="10.0.6.1").status_code == 302
    record_property("requests", PER_IP * 2 + 1)


@pytest.mark.parametrize(
    "form",
    [{"username": "root"}, {"username": "", "password": "guess"}],
    ids=["no password", "a blank username"],
)
def test_an_admin_form_without_both_fields_is_not_a_guess(owner, form):
    # Django's form checks a password only when both fields are filled in.
    for _ in range(PER_IP * 2 + 1):
        response = Client().post(ADMIN_LOGIN_URL, form, REMOTE_ADDR="10.0.6.2")
        assert response.status_code == 200
    assert admin_login(address="10.0.6.2").status_code == 302


def test_admin_logins_refused_a_password_slot_count_against_the_address(
    owner, settings
):
    from accounts.password_checks import password_check_queue

    settings.KEEL = {**settings.KEEL, "PASSWORD_CHECK_WAIT": 0}
    queue = password_check_queue()
    assert queue.enter("198.51.100.8")  # another address's check holds the slot
    try:
        for _ in range(PER_IP):
            response = admin_login(address="192.0.2.68")
            assert response.status_code == 503
            assert response["Retry-After"] == "1"
            assert "Too many sign-ins at once" in response.content.decode()
        assert_refused_in_the_admins_look(admin_login(address="192.0.2.68"))
    finally:
        queue.leave("198.51.100.8")
    # The username was refunded each time: its owner signs in elsewhere.
    assert admin_login(address="198.51.100.9").status_code == 302
