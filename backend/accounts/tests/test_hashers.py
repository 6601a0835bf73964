"""keel's PBKDF2 hasher: Django's hashes, computed on the hashing threads."""

import threading

from django.contrib.auth import hashers as django_hashers

from accounts.hashers import PBKDF2PasswordHasher


def test_hashes_are_exactly_djangos():
    ours = PBKDF2PasswordHasher().encode("a long passphrase", "salt1234", 1000)
    theirs = django_hashers.PBKDF2PasswordHasher().encode(
        "a long passphrase", "salt1234", 1000
    )
    assert ours == theirs
    assert PBKDF2PasswordHasher().verify("a long passphrase", theirs)


def test_hashing_runs_on_the_hashing_threads(monkeypatch):
    seen = {}
    original = django_hashers.PBKDF2PasswordHasher.encode

    def spy(self, *args):
        seen["thread"] = threading.current_thread().name
        return original(self, *args)

    monkeypatch.setattr(django_hashers.PBKDF2PasswordHasher, "encode", spy)
    PBKDF2PasswordHasher().encode("a long passphrase", "salt1234", 1000)
    assert seen["thread"].startswith("password-hashing")


def test_passwords_are_hashed_by_keels_hasher_under_the_projects_settings(
    settings, monkeypatch
):
    # The suite swaps in a fast hasher; the project's own list is put back here.
    from configs import settings as project_settings

    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    threads = []
    original = django_hashers.PBKDF2PasswordHasher.encode

    def spy(self, *args):
        threads.append(threading.current_thread().name)
        return original(self, *args)

    monkeypatch.setattr(django_hashers.PBKDF2PasswordHasher, "encode", spy)
    encoded = django_hashers.make_password("a long passphrase")
    assert isinstance(django_hashers.identify_hasher(encoded), PBKDF2PasswordHasher)
    assert threads and threads[0].startswith("password-hashing")


def test_hashing_threads_are_as_many_as_password_checks_per_worker(settings):
    from accounts.password_checks import hashing_pool

    settings.KEEL = {**settings.KEEL, "PASSWORD_CHECKS_PER_WORKER": 3}
    assert hashing_pool()._max_workers == 3
    settings.KEEL = {**settings.KEEL, "PASSWORD_CHECKS_PER_WORKER": 1}
    assert hashing_pool()._max_workers == 1
