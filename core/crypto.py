"""Encryption of secrets the system must read back later (e.g. CMPP shared secrets).

A CMPP shared secret cannot be hashed like a password: the sender needs it in clear to
compute AuthenticatorSource at every login. It is therefore stored encrypted with Fernet
(AES-128-CBC plus HMAC-SHA256) under FIELD_ENCRYPTION_KEY.

FIELD_ENCRYPTION_KEY holds one or more Fernet keys separated by commas: the first
encrypts, all of them decrypt, so a key can be rotated by putting the new key first and
re-encrypting at leisure. When it is empty a key is derived from SECRET_KEY, which is
convenient on a developer machine but ties the stored secrets to SECRET_KEY: production
should set its own key (`python -c "from core.crypto import generate_key; print(generate_key())"`).
"""

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(ValueError):
    """The stored value cannot be decrypted with the configured keys."""


def generate_key() -> str:
    """A new random Fernet key, for FIELD_ENCRYPTION_KEY."""
    return Fernet.generate_key().decode()


def _configured_keys() -> tuple[str, ...]:
    configured = getattr(settings, "FIELD_ENCRYPTION_KEY", "") or ""
    keys = tuple(key.strip() for key in configured.split(",") if key.strip())
    if keys:
        return keys
    digest = hashlib.sha256(b"mas-oss field encryption\x00" + settings.SECRET_KEY.encode()).digest()
    return (base64.urlsafe_b64encode(digest).decode(),)


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def encrypt(plaintext: str) -> str:
    """The Fernet token (text) for `plaintext`, under the first configured key."""
    return _fernet(_configured_keys()).encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """The plaintext of a token made by `encrypt`; DecryptionError if no key opens it."""
    try:
        return _fernet(_configured_keys()).decrypt(token.encode()).decode()
    except (InvalidToken, ValueError) as exc:
        raise DecryptionError("the value cannot be decrypted with FIELD_ENCRYPTION_KEY") from exc
