"""The password-check slots report to core.metrics: in flight and refused."""

from prometheus_client import REGISTRY

from accounts.password_checks import password_check_queue
from accounts.tests.factories import login


def sample(name):
    return REGISTRY.get_sample_value(name) or 0.0


def test_a_login_refused_for_want_of_a_slot_is_counted(user, api_client, settings):
    settings.KEEL = {**settings.KEEL, "PASSWORD_CHECK_WAIT": 0}
    before = sample("keel_password_checks_refused_total")
    queue = password_check_queue()
    assert queue.enter("198.51.100.7")
    try:
        assert login(api_client).status_code == 503
    finally:
        queue.leave("198.51.100.7")
    assert sample("keel_password_checks_refused_total") == before + 1


def test_a_password_check_is_in_flight_only_while_it_runs(
    user, api_client, monkeypatch
):
    seen = []
    original = user.check_password.__func__

    def check_password(self, raw):
        seen.append(sample("keel_password_checks_in_flight"))
        return original(self, raw)

    monkeypatch.setattr(type(user), "check_password", check_password)
    assert login(api_client).status_code == 200
    assert seen == [1.0]
    assert sample("keel_password_checks_in_flight") == 0.0
