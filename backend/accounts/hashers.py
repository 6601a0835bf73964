"""
Django's PBKDF2 password hasher, run on the worker's hashing threads.

The algorithm, its parameters and the stored hashes are Django's own, so
switching this hasher off again needs no migration; only where the hash is
computed differs: on accounts.password_checks' hashing threads, as many as
KEEL_PASSWORD_CHECKS_PER_WORKER, whoever asks for a hash.
"""

from django.contrib.auth import hashers

from accounts.password_checks import run_on_hashing_threads


class PBKDF2PasswordHasher(hashers.PBKDF2PasswordHasher):
    def encode(self, password: str, salt: str, iterations: int | None = None) -> str:
        return run_on_hashing_threads(super().encode, password, salt, iterations)
