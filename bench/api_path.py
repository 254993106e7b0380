"""µs per event of the ``/api/tracking`` path, in process, beside a server ``emit`` of the same event.

Run: ``.venv/bin/python bench/api_path.py`` (``--profile`` adds a cProfile of the API path;
``--batch N``, ``--requests N``; ``--single`` posts one event per request instead of a batch).

Everything runs in this process, in the **default** configuration (``DELIVERY="celery"``,
``HANDOFF="spool"``: each request's batch is appended to the spool file; the spool is
published, untimed, between cases, to ``BENCH_BROKER_URL``, default Redis db 14):

* ``api batch (token)``: a POST of ``{"events": [...]}`` (``--batch`` browser ``play_video``
  events, as bench/api_load.py sends them) through Django's whole handler (the dev host's
  middleware, DRF, ``Authorization: Token``): parse, authenticate, authorize, validate,
  envelope, render, spool append; per event.
* ``api batch (session)``: the same with a session cookie and its CSRF token.
* ``bare view``: the same body through the same handler to a view that only parses it.
* ``bare view + session``: the same behind the session (CSRF checked, the user loaded from the
  database on every request: it has no memory of sessions, the API has).
* ``server emit``: what a server request does for the same events: the request context
  and unit of work of ``EventHubMiddleware`` around ``emit("play_video", event, source=
  "browser", page=...)`` ``--batch`` times (the same unit size, so the same hand-offs).

Beside each case: the CPU time per event of publishing what it spooled, by ``spool.flush()``,
untimed, in the main thread after the case (plus the publisher thread's own CPU clock, which
stays at zero: ``SPOOL_FLUSH_SECONDS`` and ``SPOOL_MAX_BATCH_EVENTS`` are set so that it never
wakes during a case, and publishes each case's events as one message). The µs/event column holds
none of it: a publisher publishing during the timed part would take the interpreter from the
path being timed, by an amount that depends on when it wakes (it did before: the api_path
figures in bench/README.rst above its section "Issue 14, third pass" include that).

Goal: API per event ≤ 2x server emit (printed beside the ratio, never asserted).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from api_load import EVENT, PAGE  # noqa: E402 - the very event bench/api_load.py posts

BATCH = 100
REQUESTS = 40



def setup() -> Path:
    """Django with the settings of bench/api_load.py, in the default configuration, in a temp folder."""
    tmp = Path(tempfile.mkdtemp(prefix="event_hub_api_path_"))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="bench.api_settings",
        BENCH_API_TMP=str(tmp),
        BENCH_API_SPOOL_FLUSH_SECONDS="3600",
        BENCH_API_SPOOL_MAX_BATCH_EVENTS="100000000",
        EVENT_HUB_VAR=str(tmp),
    )
    os.environ.setdefault("BENCH_API_BROKER", os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14"))
    import atexit

    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    return tmp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=BATCH, help="events per request")
    parser.add_argument("--requests", type=int, default=REQUESTS, help="requests per round and case")
    parser.add_argument(
        "--single", action="store_true", help="post one event per request (not a batch): per-request costs"
    )
    parser.add_argument(
        "--profile", choices=("token", "session"), help="also profile the API path with this authentication"
    )
    args = parser.parse_args()
    setup()
    import _common as c
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.handlers.wsgi import WSGIHandler
    from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret
    from django.test import RequestFactory
    from rest_framework.authtoken.models import Token

    from event_hub import context as ctx
    from event_hub.conf import hub_settings
    from event_hub.delivery import spool
    from event_hub.delivery.unit_of_work import unit_of_work
    from event_hub.middleware import request_info
    from event_hub.tracker import emit

    user = get_user_model().objects.create_user("bench")
    token = Token.objects.create(user=user).key
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    csrf_secret = _get_new_csrf_string()

    handler = WSGIHandler()
    factory = RequestFactory()
    size = 1 if args.single else args.batch
    body = json.dumps(EVENT if args.single else {"events": [EVENT] * size}).encode()

    def post(path: str, **extra: Any) -> Any:
        request = factory.generic(
            "POST", path, body, content_type="application/json", HTTP_HOST="127.0.0.1", **extra
        )
        return handler.get_response(request)

    auth_headers: dict[str, dict[str, Any]] = {
        "token": {"HTTP_AUTHORIZATION": f"Token {token}"},
        "session": {
            "HTTP_COOKIE": f"{settings.SESSION_COOKIE_NAME}={session.session_key}; "
            f"{settings.CSRF_COOKIE_NAME}={csrf_secret}",
            "HTTP_X_CSRFTOKEN": _mask_cipher_secret(csrf_secret),
        },
    }
    for name, headers in auth_headers.items():
        response = post("/api/tracking", **headers)
        if args.single:
            ok = response.status_code == 201
        else:
            ok = response.status_code == 202 and json.loads(response.content).get("accepted") == size
        if not ok:
            raise SystemExit(f"api ({name}) answered {response.status_code}: {response.content[:300]!r}")
    if post("/bench/bare").status_code != 201:
        raise SystemExit("the bare view failed")
    if post("/bench/bare-auth", **auth_headers["session"]).status_code != 201:
        raise SystemExit("the bare view behind the session failed")
    if (hub_settings.DELIVERY, hub_settings.HANDOFF) != ("celery", "spool"):
        raise SystemExit(f"not the default configuration: {hub_settings.DELIVERY}/{hub_settings.HANDOFF}")

    fake = c.FakeRequest()
    fake.user = user  # type: ignore[assignment]

    def server_emit() -> None:
        with ctx.push("request", request=request_info(fake)), unit_of_work():  # type: ignore[arg-type]
            for _ in range(size):
                emit("play_video", copy.copy(EVENT["event"]), source="browser", page=PAGE)

    publisher_cpu: dict[str, list[float]] = {}

    def timed(label: str, workload: Any) -> Any:
        def case() -> int:
            if not spool.flush(timeout=30):
                raise SystemExit("the spool could not be published")
            before = _publisher_cpu()
            started = c.time.perf_counter_ns()
            for _ in range(args.requests):
                workload()
            elapsed = c.time.perf_counter_ns() - started
            flushing = time.thread_time()
            if not spool.flush(timeout=30):  # publishes what is left, in this thread
                raise SystemExit("the spool could not be published")
            flushing = time.thread_time() - flushing
            publisher_cpu.setdefault(label, []).append(_publisher_cpu() - before + flushing)
            return elapsed

        return case

    kind = "single" if args.single else "batch"
    cases = {
        f"api {kind} (token)": lambda: post("/api/tracking", **auth_headers["token"]),
        f"api {kind} (session)": lambda: post("/api/tracking", **auth_headers["session"]),
        "bare view (parse only)": lambda: post("/bench/bare"),
        "bare view + session": lambda: post("/bench/bare-auth", **auth_headers["session"]),
        "server emit": server_emit,
    }
    shape = "one play_video per request" if args.single else f"batches of {size} play_video"
    c.print_header(f"/api/tracking in process: µs per event, {shape}, default configuration")
    print(
        f"DELIVERY={hub_settings.DELIVERY}, HANDOFF={hub_settings.HANDOFF}; "
        f"{args.requests} requests (or units of work) per round and case"
    )
    results = c.side_by_side([(label, timed(label, workload)) for label, workload in cases.items()])
    figures = {label: c.per_unit(samples, args.requests * size) for label, samples in results.items()}
    events = args.requests * size
    c.print_table(
        ["case", "µs/event", "publisher CPU µs/event"],
        [
            (label, c.fmt_us(*f), f"{statistics.median(publisher_cpu[label]) * 1e6 / events:.2f}")
            for label, f in figures.items()
        ],
    )
    emit_us = figures["server emit"][0]
    bare_us = figures["bare view (parse only)"][0]
    rows = []
    for label in (f"api {kind} (token)", f"api {kind} (session)"):
        api_us = figures[label][0]
        rows.append(
            (f"{label} / server emit", f"{api_us / emit_us:.2f}x", "<= 2x", _met(api_us / emit_us <= 2))
        )
        rows.append((f"bare view / {label}", f"{bare_us / api_us:.2f}x", "(for reference)", ""))
        rows.append(
            (
                f"{label} minus bare view / server emit",
                f"{(api_us - bare_us) / emit_us:.2f}x",
                "(for reference)",
                "",
            )
        )
    print()
    c.print_table(["ratio", "value", "goal", ""], rows)
    spool.flush(timeout=30)
    if args.profile:
        print()
        workload = cases[f"api {kind} ({args.profile})"]
        c.profile(lambda: [workload() for _ in range(args.requests)], args.requests * size, top=40)


def _publisher_cpu() -> float:
    """CPU seconds of this process's threads but the main one: the spool's publisher."""
    total = 0.0
    for thread in threading.enumerate():
        if thread is threading.main_thread() or thread.ident is None:
            continue
        try:
            total += time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
        except (OSError, ProcessLookupError):  # the thread ended meanwhile
            continue
    return total


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


if __name__ == "__main__":
    main()
