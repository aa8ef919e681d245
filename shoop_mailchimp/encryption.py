"""Encryption at rest for the secrets this app stores (the Mailchimp API key).

Fernet from ``cryptography``: AES-128-CBC with a random IV per value, authenticated with
HMAC-SHA256, so a wrong key is detected (never garbage) and equal keys do not encrypt alike.

The keys come from ``SHOOP_MAILCHIMP["ENCRYPTION_KEYS"]``, newest first: the first encrypts,
every one decrypts (MultiFernet), so a new key can go in front while values written with the
old one stay readable until ``manage.py mailchimp_rotate_keys`` re-encrypts them. Each entry is a
secret string, not a Fernet key: the Fernet key is derived from it with HKDF-SHA256 and a fixed
salt of this app's own, so a string also used elsewhere (Django's SECRET_KEY) yields an
unrelated key. Without the setting the one entry is SECRET_KEY; docs/security.rst tells the
trade-off. The same keys make the digests of merge field values the sync keeps (:func:`digests`).
"""
import base64
import functools
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from shoop_mailchimp.conf import SETTING_NAME, get_setting

#: Changing either makes every stored value unreadable.
HKDF_SALT = b"shoop_mailchimp.encryption"
HKDF_INFO = b"api key at rest"
#: The key of :func:`digests` (changing it makes every stored digest unmatched).
DIGEST_INFO = b"merge field digests"
#: Hex digits of a digest: a match by chance among a field's few values is out of the question.
DIGEST_LENGTH = 16


class UndecryptableValue(Exception):
    """None of the configured keys decrypts the stored value (the keys changed, or it is not ours)."""


def configured_secrets():
    """``ENCRYPTION_KEYS`` as a tuple, newest first; ``(SECRET_KEY,)`` when it is not set."""
    secrets = get_setting("ENCRYPTION_KEYS")
    if secrets is None:
        return (settings.SECRET_KEY,)
    if isinstance(secrets, str) or not isinstance(secrets, (list, tuple)) or not secrets or not all(
        isinstance(secret, str) and secret for secret in secrets
    ):
        raise ImproperlyConfigured(
            "%s['ENCRYPTION_KEYS'] must be a list of non-empty strings, the newest first." % SETTING_NAME
        )
    return tuple(secrets)


def derive_fernet_key(secret):
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=HKDF_SALT, info=HKDF_INFO)
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode("utf-8")))


@functools.lru_cache(maxsize=16)
def _fernets(secrets):
    return [Fernet(derive_fernet_key(secret)) for secret in secrets]


@functools.lru_cache(maxsize=16)
def _digest_keys(secrets):
    return [HKDF(algorithm=hashes.SHA256(), length=32, salt=HKDF_SALT, info=DIGEST_INFO).derive(
        secret.encode("utf-8")) for secret in secrets]


def digests(text):
    """Every digest ``text`` may have been stored under, the newest first: keyed (HMAC-SHA256) with each configured
    key, so that a stored digest of a short value (a birthday, a phone number) cannot be reversed by trying every
    value without the key; and the unkeyed one of digests stored before they were keyed. Compare with all; store
    the first."""
    data = text.encode("utf-8")
    return [hmac.new(key, data, hashlib.sha256).hexdigest()[:DIGEST_LENGTH]
            for key in _digest_keys(configured_secrets())] + [hashlib.sha256(data).hexdigest()[:DIGEST_LENGTH]]


def digest_key_ids():
    """A short id of each configured key's digest key, newest first: stored beside digests, it tells whether they can
    still be compared (review aud58 F1: once a rotation removed the key they were made with, none matches)."""
    return [hmac.new(key, b"key id", hashlib.sha256).hexdigest()[:8] for key in _digest_keys(configured_secrets())]


def encrypt(text):
    """A Fernet token (ASCII text) for ``text``, made with the newest key."""
    return _fernets(configured_secrets())[0].encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token):
    """The text inside ``token``; raises :class:`UndecryptableValue` when no configured key reads it."""
    try:
        return MultiFernet(_fernets(configured_secrets())).decrypt(token.encode("utf-8")).decode("utf-8")
    except InvalidToken:
        raise UndecryptableValue() from None


def reencrypt(token):
    """``token`` encrypted again with the newest key; raises :class:`UndecryptableValue`."""
    try:
        return MultiFernet(_fernets(configured_secrets())).rotate(token.encode("utf-8")).decode("ascii")
    except InvalidToken:
        raise UndecryptableValue() from None


def is_encrypted_with_newest_key(token):
    try:
        _fernets(configured_secrets())[0].decrypt(token.encode("utf-8"))
    except InvalidToken:
        return False
    return True
