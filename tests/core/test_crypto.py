"""core.crypto: secrets stored encrypted, readable back, with rotatable keys."""

import pytest
from cryptography.fernet import Fernet

from core import crypto


def test_a_value_round_trips_and_is_not_stored_in_clear(settings):
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    token = crypto.encrypt("Abc123")
    assert "Abc123" not in token
    assert crypto.decrypt(token) == "Abc123"


def test_field_encryption_keys_can_be_rotated(settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = old_key
    token = crypto.encrypt("Abc123")
    settings.FIELD_ENCRYPTION_KEY = f"{new_key},{old_key}"
    assert crypto.decrypt(token) == "Abc123"
    settings.FIELD_ENCRYPTION_KEY = new_key
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token)


def test_without_a_configured_key_one_is_derived_from_the_secret_key(settings):
    settings.FIELD_ENCRYPTION_KEY = ""
    token = crypto.encrypt("Abc123")
    assert crypto.decrypt(token) == "Abc123"
    settings.SECRET_KEY = "another-secret-key-for-this-test"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token)
