"""Authentication of ``/api/tracking``: the classes named by ``API_AUTHENTICATION``.

The default pair covers both kinds of client:

* browsers: :class:`CachedSessionAuthentication`, DRF's ``SessionAuthentication`` (which
  enforces CSRF: the token goes in the ``X-CSRFToken`` header) that remembers a session's user
  for ``API_TOKEN_CACHE_SECONDS``;
* mobile apps: :class:`CachedTokenAuthentication`, DRF's ``Authorization: Token <key>``
  that remembers a token's user for ``API_TOKEN_CACHE_SECONDS``. Add
  ``rest_framework_simplejwt.authentication.JWTAuthentication`` for JWTs.

The classes are imported once and again whenever ``EVENT_HUB`` changes.
"""

from __future__ import annotations

import functools
import time
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model, user_logged_out
from django.db.models.signals import post_delete, post_save
from django.utils.functional import LazyObject, empty
from django.utils.module_loading import import_string
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, TokenAuthentication
from rest_framework.request import Request

from event_hub.conf import hub_settings, on_reload
from event_hub.exceptions import ConfigurationError


def load_authentication_classes(paths: object) -> tuple[type[BaseAuthentication], ...]:
    """Import each path of ``paths``; raise :class:`ConfigurationError` naming the first bad one."""
    if not isinstance(paths, (list, tuple)):
        raise ConfigurationError(
            f"EVENT_HUB['API_AUTHENTICATION'] must be a list of import paths, not {type(paths).__name__}"
        )
    classes: list[type[BaseAuthentication]] = []
    for index, path in enumerate(paths):
        where = f"EVENT_HUB['API_AUTHENTICATION'][{index}]"
        if isinstance(path, str):
            try:
                cls = import_string(path)
            except ImportError as exc:
                raise ConfigurationError(f"{where}: cannot import {path!r}: {exc}") from exc
        else:
            cls = path
        if not (isinstance(cls, type) and issubclass(cls, BaseAuthentication)):
            raise ConfigurationError(f"{where}: {path!r} is not a DRF authentication class")
        classes.append(cls)
    return tuple(classes)


@functools.cache
def authentication_classes() -> tuple[type[BaseAuthentication], ...]:
    """The authentication classes in force."""
    return load_authentication_classes(hub_settings.API_AUTHENTICATION)


on_reload(authentication_classes.cache_clear)


# --- DRF tokens, remembered for a moment ------------------------------------------------------------------

#: Token key -> (user, monotonic expiry). Per process; bounded by MAX_CACHED_TOKENS.
_token_users: dict[str, tuple[Any, float]] = {}
MAX_CACHED_TOKENS = 10_000
_watched: set[type] = set()


class _AuthorizationOnly:
    """A request as DRF's ``get_authorization_header`` reads it: ``headers.get("authorization")``."""

    __slots__ = ("headers",)

    def __init__(self, authorization: str) -> None:
        self.headers = {"authorization": authorization}


class CachedTokenAuthentication(TokenAuthentication):
    """DRF's ``Authorization: Token <key>``, with each token's user remembered ``API_TOKEN_CACHE_SECONDS``.

    A mobile app posts many small requests with the same token; looking the token and
    its user up in the database each time is most of what authentication costs. A
    remembered token is forgotten at once in this process when it is deleted or its user
    is saved (deactivated), and in other processes after at most ``API_TOKEN_CACHE_SECONDS``
    (``0`` turns the memory off). Unknown tokens are never remembered.
    """

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        """DRF's, reading the one header it needs from ``META``.

        DRF reads ``request.headers``, which builds a dictionary of every header on each request.
        """
        header = request._request.META.get("HTTP_AUTHORIZATION")
        if header is None:
            return None
        # DRF's authenticate() reads the request only through get_authorization_header().
        return super().authenticate(_AuthorizationOnly(header))

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        seconds = hub_settings.API_TOKEN_CACHE_SECONDS
        if not seconds:
            return super().authenticate_credentials(key)
        now = time.monotonic()
        remembered = _token_users.get(key)
        if remembered is not None and remembered[1] > now:
            return remembered[0]
        result = super().authenticate_credentials(key)
        _watch(self.get_model())
        if len(_token_users) >= MAX_CACHED_TOKENS:
            _token_users.clear()
        _token_users[key] = (result, now + seconds)
        return result


class CachedSessionAuthentication(SessionAuthentication):
    """DRF's session authentication, with each session's user remembered ``API_TOKEN_CACHE_SECONDS``.

    Loading a session and its user costs two database queries per request, as much as the rest
    of a one-event request. CSRF is checked on every request, remembered or not. A remembered
    session is forgotten at once in this process when its user logs out, its row is deleted
    (database sessions) or its user is saved (deactivated, password changed), and in other
    processes after at most ``API_TOKEN_CACHE_SECONDS`` (``0`` turns the memory off). Anonymous
    sessions are never remembered.
    """

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        seconds = hub_settings.API_TOKEN_CACHE_SECONDS
        django_request = request._request
        key = django_request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        if not key and _unread_lazy_user(django_request):
            # No session cookie, and nothing has set the user: the middleware's lazy user would
            # load an empty session and answer AnonymousUser, and DRF would then return None.
            # The session was consulted all the same: the answer still varies on Cookie.
            django_request.session.accessed = True
            return None
        if not key or not seconds:
            return super().authenticate(request)
        now = time.monotonic()
        remembered = _session_users.get(key)
        if remembered is not None and remembered[1] > now:
            self.enforce_csrf(request)
            return (remembered[0], None)
        result = super().authenticate(request)
        if result is not None:
            user = result[0]
            if isinstance(user, LazyObject):
                if user._wrapped is empty:  # type: ignore[attr-defined]
                    user._setup()  # type: ignore[attr-defined]
                user = user._wrapped  # type: ignore[attr-defined]
            _watch_sessions()
            if len(_session_users) >= MAX_CACHED_TOKENS:
                _session_users.clear()
            _session_users[key] = (user, now + seconds)
            result = (user, result[1])
        return result


def _unread_lazy_user(request: Any) -> bool:
    """Whether ``request.user`` is still ``AuthenticationMiddleware``'s lazy user, not evaluated yet.

    Then it comes from the session alone: without a session cookie the session is new, so the
    user is anonymous unless something wrote a user into it during this request (a login sets
    ``request.user`` itself, so it is no longer the lazy one).
    """
    user = request.__dict__.get("user")
    session = request.__dict__.get("session")
    return (
        isinstance(user, LazyObject)
        and user._wrapped is empty  # type: ignore[attr-defined]
        and session is not None
        and not getattr(session, "modified", True)
        and not getattr(session, "accessed", True)
    )


#: Session key -> (user, monotonic expiry). Per process; bounded by MAX_CACHED_TOKENS.
_session_users: dict[str, tuple[Any, float]] = {}
_sessions_watched: list[bool] = []


def forget_tokens(**kwargs: Any) -> None:
    """Forget every remembered token and session (on settings changes, and for tests)."""
    _token_users.clear()
    _session_users.clear()


on_reload(forget_tokens)


def _watch(token_model: type) -> None:
    """Forget a token when it is deleted, and a user's tokens when the user is saved."""
    if token_model in _watched:
        return
    _watched.add(token_model)
    post_delete.connect(
        _token_deleted, sender=token_model, weak=False, dispatch_uid="event_hub.api.token_deleted"
    )
    post_save.connect(
        _user_saved, sender=get_user_model(), weak=False, dispatch_uid="event_hub.api.user_saved"
    )


def _watch_sessions() -> None:
    """Forget a session when its user logs out, its row is deleted, or its user is saved."""
    if _sessions_watched:
        return
    _sessions_watched.append(True)
    user_logged_out.connect(_logged_out, weak=False, dispatch_uid="event_hub.api.session_logged_out")
    post_save.connect(
        _user_saved, sender=get_user_model(), weak=False, dispatch_uid="event_hub.api.user_saved"
    )
    if apps.is_installed("django.contrib.sessions"):
        post_delete.connect(
            _session_deleted,
            sender=apps.get_model("sessions", "Session"),
            weak=False,
            dispatch_uid="event_hub.api.session_deleted",
        )


def _logged_out(sender: Any, request: Any = None, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    _session_users.pop(getattr(session, "session_key", None) or "", None)


def _session_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    _session_users.pop(getattr(instance, "session_key", ""), None)


def _token_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    _token_users.pop(getattr(instance, "key", ""), None)


def _user_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    for key, ((user, _), _) in list(_token_users.items()):
        if user.pk == instance.pk:
            _token_users.pop(key, None)
    for key, (user, _) in list(_session_users.items()):
        if user.pk == instance.pk:
            _session_users.pop(key, None)
