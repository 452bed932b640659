"""Magento's Encryptor for cipher version 3 (C2.4): `<keyVersion>:3:base64(nonce . ciphertext+tag)`.

ChaCha20-Poly1305 IETF with a 12-byte random nonce that is also the associated data, keyed by the
env.php crypt key (the last key of a whitespace-separated list; a `base64` prefix means encoded).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import string

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

CIPHER_CHACHA = 3
_ALNUM_LOWER = string.ascii_lowercase + string.digits


def _decode_key(key: str) -> bytes:
    if key.startswith("base64"):
        return base64.b64decode(key[6:])
    return key.encode()


class Encryptor:
    def __init__(self, crypt_key: str) -> None:
        self.keys = crypt_key.split()
        self.version = len(self.keys) - 1

    def encrypt(self, plain: str) -> str:
        nonce = os.urandom(12)
        aead = ChaCha20Poly1305(_decode_key(self.keys[self.version]))
        blob = nonce + aead.encrypt(nonce, plain.encode(), nonce)
        return f"{self.version}:{CIPHER_CHACHA}:{base64.b64encode(blob).decode()}"

    def decrypt(self, value: str) -> str:
        parts = value.split(":", 2)
        if len(parts) != 3:
            return value
        version, _cipher, payload = int(parts[0]), parts[1], parts[2]
        blob = base64.b64decode(payload)
        aead = ChaCha20Poly1305(_decode_key(self.keys[min(version, self.version)]))
        return aead.decrypt(blob[:12], blob[12:], blob[:12]).decode()


def random_token(length: int = 32) -> str:
    """Magento's Oauth helper: lowercase letters and digits."""
    return "".join(secrets.choice(_ALNUM_LOWER) for _ in range(length))


def random_crypt_key() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))


def hash_password(password: str) -> str:
    """`hash:salt:version` as Magento's Encryptor::getHash (version 1 = sha256)."""
    salt = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    return hashlib.sha256((salt + password).encode()).hexdigest() + ":" + salt + ":1"


def verify_password(password: str, stored: str) -> bool:
    parts = stored.split(":")
    if len(parts) < 2:
        return False
    digest = hashlib.sha256((parts[1] + password).encode()).hexdigest()
    return secrets.compare_digest(digest, parts[0])


def random_form_key() -> str:
    """The session form key: 16 letters (both cases) and digits, as Math\\Random::getRandomString makes it."""
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(16))


def random_base64_key() -> str:
    """`base64` + 32 random bytes, base64-encoded: the crypt key form setup:install writes since 2.4.7."""
    return "base64" + base64.b64encode(os.urandom(32)).decode()
