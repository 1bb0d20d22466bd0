"""Encryption at rest for personal data, and blind indexes to look it up.

Values are encrypted with Fernet (AES-128-CBC + HMAC) under the keys of
``settings.FIELD_ENCRYPTION_KEYS``: the first encrypts, every key decrypts, so a key can be
rotated by putting a new one first. Ciphertext is not searchable; a column that must be found by
value stores a keyed hash of the normalised value beside it (a blind index).
"""

import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

PREFIX = "enc1:"


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _keys() -> tuple[str, ...]:
    return tuple(settings.FIELD_ENCRYPTION_KEYS)


def encrypt(value: str) -> str:
    token = _fernet(_keys()).encrypt(value.encode())
    return PREFIX + token.decode()


def decrypt(value: str) -> str:
    if not value.startswith(PREFIX):
        # Rows written before the column was encrypted read as they are.
        return value
    try:
        return _fernet(_keys()).decrypt(value[len(PREFIX) :].encode()).decode()
    except InvalidToken as error:
        raise ValueError("Cannot decrypt a field value: wrong FIELD_ENCRYPTION_KEYS?") from error


def blind_index(value: str, *, purpose: str) -> str:
    """A keyed SHA-256 of ``value`` that equality lookups can use without the plain text.

    ``purpose`` separates indexes of different kinds (phone, email) so equal inputs of
    different kinds do not collide. Callers normalise ``value`` first.
    """
    secret = settings.FIELD_INDEX_KEY or _keys()[0]
    key = hashlib.sha256(("blind-index:" + secret).encode()).digest()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()
