"""Pseudonyms: the anonymous user id and the hashed session key.

Both are keyed HMAC-SHA256 digests: stable for the same input and secret, not
reversible without the secret, and different from the digests another site
with another secret computes. The secret is ``EVENT_HUB['ANONYMOUS_ID_SECRET']``
or, when unset, one derived from Django's ``SECRET_KEY`` with a salt of our own.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from typing import Any

from django.conf import settings

from event_hub.conf import hub_settings, on_reload

_SALT = b"event_hub.identity.v1"


@functools.cache
def _secret() -> bytes:
    configured = hub_settings.ANONYMOUS_ID_SECRET
    if configured:
        return str(configured).encode()
    return hmac.new(str(settings.SECRET_KEY).encode(), _SALT, hashlib.sha256).digest()


def pseudonym(kind: str, value: str) -> str:
    """32 hex characters standing for ``value`` (``kind`` keeps namespaces apart)."""
    message = f"{kind}:{value}".encode()
    return hmac.new(_secret(), message, hashlib.sha256).hexdigest()[:32]


@functools.lru_cache(maxsize=4096)
def _user_pseudonym(user_pk: str) -> str:
    return pseudonym("user", user_pk)


def anonymous_user_id(user: Any) -> str:
    """The anonymous id of ``user``: stable per user, never the username or pk.

    ``""`` for anonymous visitors. ``ANONYMOUS_ID_FUNCTION`` replaces the
    built-in derivation (an LMS that already has anonymous ids plugs them in
    there).
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    custom = hub_settings.ANONYMOUS_ID_FUNCTION
    if custom is not None:
        return str(custom(user))
    return _user_pseudonym(str(user.pk))


@functools.lru_cache(maxsize=4096)
def session_id(session_key: str) -> str:
    """The value of the ``session`` field: a 32-character digest, never the raw key."""
    return pseudonym("session", session_key)


@on_reload
def _forget_secret() -> None:
    _secret.cache_clear()
    _user_pseudonym.cache_clear()
    session_id.cache_clear()
