"""
Django's PBKDF2 password hasher, run at a low CPU priority.

The algorithm, its parameters and the stored hashes are Django's own, so
switching this hasher off again needs no migration; only where the hash is
computed differs: on accounts.password_checks' low-priority threads.
"""

from django.contrib.auth import hashers

from accounts.password_checks import run_at_low_priority


class PBKDF2PasswordHasher(hashers.PBKDF2PasswordHasher):
    def encode(self, password: str, salt: str, iterations: int | None = None) -> str:
        return run_at_low_priority(super().encode, password, salt, iterations)
