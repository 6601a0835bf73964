"""keel's PBKDF2 hasher: Django's hashes, computed at a low CPU priority."""

import os
import threading

import pytest

from django.contrib.auth import hashers as django_hashers

from accounts.hashers import PBKDF2PasswordHasher
from accounts.password_checks import HASHING_NICENESS


def test_hashes_are_exactly_djangos():
    ours = PBKDF2PasswordHasher().encode("a long passphrase", "salt1234", 1000)
    theirs = django_hashers.PBKDF2PasswordHasher().encode(
        "a long passphrase", "salt1234", 1000
    )
    assert ours == theirs
    assert PBKDF2PasswordHasher().verify("a long passphrase", theirs)


@pytest.mark.skipif(
    not hasattr(os, "getpriority"), reason="thread priorities are a POSIX feature"
)
def test_hashing_runs_on_a_low_priority_thread(monkeypatch):
    seen = {}
    original = django_hashers.PBKDF2PasswordHasher.encode

    def spy(self, *args):
        seen["thread"] = threading.get_native_id()
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, seen["thread"])
        return original(self, *args)

    monkeypatch.setattr(django_hashers.PBKDF2PasswordHasher, "encode", spy)
    PBKDF2PasswordHasher().encode("a long passphrase", "salt1234", 1000)
    assert seen["thread"] != threading.get_native_id()
    assert seen["nice"] >= min(HASHING_NICENESS, 19)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < seen["nice"]


def test_keel_hasher_is_the_default():
    # The suite swaps in a fast hasher; the project's settings module is intact.
    from configs import settings as project_settings

    assert (
        project_settings.PASSWORD_HASHERS[0] == "accounts.hashers.PBKDF2PasswordHasher"
    )
