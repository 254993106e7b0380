"""The browser client (``event-hub.js``) in real headless Chromium.

* ``TestDemoPage`` starts the dev host the way ``./scripts/run`` does (``runserver`` plus a Celery
  worker on the filesystem transport, SQLite, a JSON-lines log, all in a temporary folder), drives
  the demo page and reads the events back from the log.
* ``TestRetries`` and ``TestLeavingThePage`` load the client as an ES module into a page served by
  Playwright itself, whose ``/api/tracking`` answers what each test scripts (503, 400, network
  errors), and watch every ``fetch`` the client makes.

Chromium is the Debian package (``apt-get install chromium``), driven by Python ``playwright``
through ``executable_path``; ``playwright install`` is never needed. Without them the tests skip,
and fail under ``CI=true``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import CI, ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
]
STATIC = ROOT / "event_hub" / "static" / "event_hub"
# Must match devsite/views.py.
VIDEO_ID = "0b9e39477cf34507a7a48f74be381fdd"
COURSE_ID = "course-v1:edX+DemoX+Demo_Course"
VIDEO_MEMBERS = {"code", "currentTime", "id"}
SEEK_MEMBERS = {"code", "id", "new_time", "old_time", "type"}
SEQUENCE_MEMBERS = {"id", "new", "old"}


def chromium_executable() -> str:
    """Path of the Debian ``chromium``; skips (fails under CI) when it or playwright is missing."""
    path = shutil.which("chromium")
    problem = None
    if path is None:
        problem = "the chromium executable is not on PATH (Debian: apt-get install -y chromium)"
    elif importlib.util.find_spec("playwright") is None:
        problem = "Python playwright is not installed (pip install -e '.[test]')"
    if problem:
        if CI:
            pytest.fail(f"{problem} (CI=true: the browser tests must run, not skip)")
        pytest.skip(problem)
    assert path is not None
    return path


@pytest.fixture(name="browser", scope="module")
def fixture_browser() -> Iterator[Browser]:
    """Headless Debian Chromium, shared by the tests of this module."""
    executable = chromium_executable()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# --- the dev host ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DevHost:
    """``./scripts/run`` in a temporary folder: migrate, a Celery worker, ``runserver`` on a free port."""

    def __init__(self, var: Path) -> None:
        self.var = var
        self.log_path = var / "log" / "tracking.log"
        self.url = f"http://127.0.0.1:{free_port()}"
        self.processes: list[tuple[subprocess.Popen[bytes], Path]] = []
        # The embedded defaults of a new user: no DATABASE_URL or CELERY_BROKER_URL.
        hidden = {"DATABASE_URL", "CELERY_BROKER_URL", "EVENT_HUB_TEST_CONFIG", "EVENT_HUB_TEST_DB_NAME"}
        self.env = {key: value for key, value in os.environ.items() if key not in hidden}
        self.env.update(
            DJANGO_SETTINGS_MODULE="devsite.settings",
            DJANGO_DEBUG="1",
            EVENT_HUB_VAR=str(var),
            EVENT_HUB_LOG=str(self.log_path),
            PYTHONPATH=str(ROOT),
        )

    def start(self) -> DevHost:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT,
            env=self.env,
            check=True,
            timeout=180,
        )
        worker = self._spawn(
            "worker",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "devsite",
                "worker",
                "--beat",
                "--loglevel=INFO",
                "--concurrency=1",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
            ],
        )
        self._spawn(
            "server",
            [sys.executable, "manage.py", "runserver", self.url.removeprefix("http://"), "--noreload"],
        )
        self._wait(lambda: "ready." in self.output(worker), "the Celery worker to be ready")
        self._wait(self._answers, f"{self.url}/demo/ to answer")
        return self

    def _spawn(self, name: str, command: list[str]) -> Path:
        output = self.var / f"{name}.out"
        with open(output, "wb") as sink:
            process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.processes.append((process, output))
        return output

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/demo/", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def _wait(self, condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            for process, output in self.processes:
                if process.poll() is not None:
                    log = self.output(output)
                    raise AssertionError(f"{process.args} exited with {process.returncode}:\n{log}")
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}:\n{self.outputs()}")

    @staticmethod
    def output(path: Path) -> str:
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def outputs(self) -> str:
        return "\n".join(f"--- {output.name}\n{self.output(output)}" for _, output in self.processes)

    def events(self) -> list[dict[str, Any]]:
        """The logged events; a browser event's ``event`` (a JSON string, as the platform writes
        it) is decoded, and the line's text kept under ``_line``."""
        if not self.log_path.exists():
            return []
        events = []
        for line in self.log_path.read_text().splitlines():
            if not line.strip():
                continue
            event = json.loads(line)
            if event["event_source"] == "browser":
                assert isinstance(event["event"], str), line
                event["event"] = json.loads(event["event"])
            event["_line"] = line
            events.append(event)
        return events

    def wait_for_events(
        self, page_url_part: str, event_types: set[str], timeout: float = 45
    ) -> list[dict[str, Any]]:
        """The logged events whose page contains ``page_url_part``, once all of ``event_types`` are there."""
        found: list[dict[str, Any]] = []

        def arrived() -> bool:
            found[:] = [event for event in self.events() if page_url_part in (event.get("page") or "")]
            return event_types <= {event["event_type"] for event in found}

        try:
            self._wait(arrived, f"{sorted(event_types)} in {self.log_path}", timeout)
        except AssertionError as exc:
            seen = sorted(event["event_type"] for event in found)
            raise AssertionError(f"{exc}\nlogged for this page so far: {seen}") from exc
        return found

    def stop(self) -> None:
        for process, _ in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process, _ in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@pytest.fixture(name="dev_host", scope="module")
def fixture_dev_host(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevHost]:
    """The dev host, started once for the demo-page tests (after Chromium, so a missing one skips first)."""
    host = DevHost(tmp_path_factory.mktemp("devhost"))
    try:
        yield host.start()
    finally:
        host.stop()


def by_type(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        grouped.setdefault(event["event_type"], []).append(event)
    return grouped


def open_demo(browser: Browser, dev_host: DevHost, run: str) -> Page:
    page = browser.new_page()
    page.goto(f"{dev_host.url}/demo/?run={run}")
    # Ready once the script ran and the video (fetched into a blob) has its metadata.
    page.wait_for_function("window.eventHubDemoReady && document.getElementById('video').readyState >= 1")
    return page


class TestDemoPage:
    """The demo page served by the dev host, its events read back from the JSON-lines log."""

    def test_video_and_navigation_events_reach_the_log(self, browser: Browser, dev_host: DevHost) -> None:
        """Play, pause, seek, next, previous, navigating away and closing the page each log one browser
        event with the catalog's members and types, the page URL and Chromium's user agent."""
        run = uuid.uuid4().hex
        page = open_demo(browser, dev_host, run)
        first_url = page.url
        user_agent = page.evaluate("navigator.userAgent")
        posts: list[dict[str, str]] = []
        page.on("request", lambda r: posts.append(r.headers) if r.url.endswith("/api/tracking") else None)
        csrf_cookie = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")

        page.click("#play")
        page.wait_for_function("document.getElementById('video').currentTime > 0.5")
        # load_video and play_video leave after flushInterval; the demo shows the server's answer.
        page.wait_for_function("document.getElementById('activity').textContent.includes('<- 202')")
        page.click("#pause")
        page.click("#seek-forward")
        page.wait_for_function("!document.getElementById('video').seeking")
        page.click("#seq-next")
        page.click("#seq-prev")
        # Navigating away sends page_close for the first URL ...
        page.goto(f"{dev_host.url}/demo/?run={run}&step=2")
        page.wait_for_function("window.eventHubDemoReady")
        second_url = page.url
        page.click(".unit-tab[data-unit='3']")
        # ... and so does closing the page, whose last events leave with keepalive requests.
        page.close(run_before_unload=True)

        first = dev_host.wait_for_events(
            f"run={run}",
            {
                "load_video",
                "play_video",
                "pause_video",
                "seek_video",
                "seq_next",
                "seq_prev",
                "seq_goto",
                "page_close",
            },
        )
        events = by_type(first)
        assert len({event["_line"] for event in first}) == len(first)  # none delivered twice
        for event in first:
            assert event["event_source"] == "browser", event
            assert event["agent"] == user_agent, event
            assert event["page"] in (first_url, second_url), event
            assert event["name"] == event["event_type"], event
            assert isinstance(event["context"]["user_id"], int), event  # the demo learner
            assert event["context"]["client_time"], event  # the client's timestamp

        (play,) = events["play_video"]
        (pause,) = events["pause_video"]
        for video_event in (play, pause):
            assert set(video_event["event"]) == VIDEO_MEMBERS
            assert video_event["event"]["code"] == "html5"
            assert video_event["event"]["id"] == VIDEO_ID
            assert isinstance(video_event["event"]["currentTime"], (int, float))
            assert video_event["page"] == first_url
            assert video_event["context"]["course_id"] == COURSE_ID
        assert pause["event"]["currentTime"] > play["event"]["currentTime"]

        (seek,) = events["seek_video"]
        assert set(seek["event"]) == SEEK_MEMBERS
        assert seek["event"]["type"] == "onSlideSeek"
        assert all(isinstance(seek["event"][key], int) for key in ("new_time", "old_time"))
        assert seek["event"]["new_time"] - seek["event"]["old_time"] == 2

        assert [e["event"] for e in events["seq_next"]] == [{"id": 1, "old": 1, "new": 2}]
        assert [e["event"] for e in events["seq_prev"]] == [{"id": 1, "old": 2, "new": 1}]
        assert [e["event"] for e in events["seq_goto"]] == [{"id": 1, "old": 1, "new": 3}]
        assert events["seq_goto"][0]["page"] == second_url
        assert sorted((e["page"], e["event"]) for e in events["page_close"]) == [
            (first_url, {}),
            (second_url, {}),
        ]

        assert posts, "no request to /api/tracking was seen"
        assert all(headers.get("x-csrftoken") == csrf_cookie for headers in posts)
        assert all(headers.get("content-type") == "application/json" for headers in posts)

    def test_invalid_event_is_rejected_and_its_batch_neighbours_logged(
        self, browser: Browser, dev_host: DevHost
    ) -> None:
        """An event the catalog rejects comes back with its errors, is not retried, and the valid event
        sent in the same batch is logged."""
        run = uuid.uuid4().hex
        page = open_demo(browser, dev_host, run)
        answers = page.evaluate(
            """async () => {
                const answers = [];
                const client = EventHub.createClient({
                    flushInterval: 60000, retryDelay: 50,
                    onResponse: (r) => answers.push({status: r.status, accepted: r.accepted,
                                                     rejected: r.rejected, body: r.body}),
                    onError: () => {},
                });
                client.track("seq_goto", {id: 1, old: 1, new: 2});
                let deep = {};  // nested deeper than the API takes: refused, whoever sends it
                for (let i = 0; i < 40; i++) deep = {d: deep};
                client.track("seq_goto", deep);
                await client.flush();
                await new Promise((resolve) => setTimeout(resolve, 300));
                return {answers, stats: client.stats};
            }"""
        )
        page.close()
        assert len(answers["answers"]) == 1, answers
        (answer,) = answers["answers"]
        assert answer["status"] == 202
        assert (answer["accepted"], answer["rejected"]) == (1, 1)
        results = answer["body"]["results"]
        assert [result["index"] for result in results] == [0, 1]
        assert "id" in results[0]
        assert results[1]["errors"]
        assert answers["stats"]["retries"] == 0

        logged = dev_host.wait_for_events(f"run={run}", {"seq_goto"})
        time.sleep(1)  # anything wrongly accepted would be delivered by now
        logged = [e for e in dev_host.events() if f"run={run}" in (e.get("page") or "")]
        assert [(e["event_type"], e["event"]) for e in logged if e["event_type"] == "seq_goto"] == [
            ("seq_goto", {"id": 1, "old": 1, "new": 2})
        ]


# --- a page served by Playwright, with a scripted /api/tracking ---------------------------------------

ORIGIN = "http://event-hub.test"
TEST_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body>
<script>
  // Every fetch the client makes, with its keepalive flag and time.
  window.calls = [];
  const realFetch = window.fetch;
  window.fetch = function (url, init) {
    window.calls.push({t: performance.now(), keepalive: !!(init && init.keepalive), url: String(url),
                       body: init && init.body, headers: init && init.headers});
    return realFetch.apply(this, arguments);
  };
  document.cookie = "csrftoken=cookie-token; path=/";
</script>
<script type="module">
  import EventHub, {createClient} from "/static/event_hub/event-hub.mjs";
  window.reports = [];
  window.makeClient = (options) => createClient({
    endpoint: "/api/tracking", onError: (info) => window.reports.push(info), ...options,
  });
  window.sameGlobal = EventHub === window.EventHub;
  window.ready = true;
</script>
</body></html>
"""


class ScriptedEndpoint:
    """``/api/tracking`` answering from a script: a status code, or ``"network"`` to abort."""

    def __init__(self, answers: list[int | str]) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []

    def __call__(self, route: Route) -> None:
        request = route.request
        body = json.loads(request.post_data or "{}")
        self.requests.append({"headers": request.headers, "body": body})
        answer = self.answers.pop(0) if self.answers else 202
        if answer == "network":
            route.abort("connectionreset")
            return
        count = len(body.get("events", []))
        if answer == 202:
            payload: dict[str, Any] = {
                "results": [{"index": i, "id": f"id-{i}"} for i in range(count)],
                "accepted": count,
                "rejected": 0,
            }
        elif answer == 400:
            payload = {
                "results": [{"index": i, "errors": {"event": ["invalid"]}} for i in range(count)],
                "accepted": 0,
                "rejected": count,
            }
        else:
            payload = {"detail": "unavailable"}
        route.fulfill(status=int(answer), content_type="application/json", body=json.dumps(payload))


@pytest.fixture(name="scripted_page")
def fixture_scripted_page(browser: Browser) -> Iterator[Callable[..., tuple[Page, ScriptedEndpoint]]]:
    """``scripted_page([503, 503, 202])``: the test page with ``/api/tracking`` answering in that order."""
    pages: list[Page] = []

    def open_page(answers: list[int | str]) -> tuple[Page, ScriptedEndpoint]:
        endpoint = ScriptedEndpoint(answers)
        page = browser.new_page()
        pages.append(page)
        page.route(f"{ORIGIN}/api/tracking", endpoint)
        page.route(f"{ORIGIN}/", lambda route: route.fulfill(content_type="text/html", body=TEST_PAGE))
        page.route(
            f"{ORIGIN}/static/event_hub/*",
            lambda route: route.fulfill(
                content_type="text/javascript",
                body=(STATIC / route.request.url.rsplit("/", 1)[1]).read_text(),
            ),
        )
        page.goto(f"{ORIGIN}/")
        page.wait_for_function("window.ready")
        return page, endpoint

    yield open_page
    for page in pages:
        if not page.is_closed():
            page.close()


def fetch_calls(page: Page) -> list[dict[str, Any]]:
    return list(page.evaluate("window.calls.filter((c) => c.url.endsWith('/api/tracking'))"))


class TestRetries:
    """Failed requests are retried with growing, jittered delays; rejected ones never are."""

    def test_5xx_is_retried_with_backoff(self, scripted_page: Callable[..., Any]) -> None:
        """Two 503 answers, then 202: the same batch is sent three times, the second wait longer than
        the first, and nothing is left queued."""
        page, endpoint = scripted_page([503, 503, 202])
        page.evaluate(
            """() => {
                window.client = makeClient({flushInterval: 0, retryDelay: 400});
                client.track("play_video", {code: "html5", currentTime: 1.5, id: "intro"});
            }"""
        )
        page.wait_for_function("client.stats.accepted === 1", timeout=10000)
        calls = fetch_calls(page)
        assert len(calls) == 3
        assert len(endpoint.requests) == 3
        assert len({call["body"] for call in calls}) == 1
        first_wait, second_wait = calls[1]["t"] - calls[0]["t"], calls[2]["t"] - calls[1]["t"]
        # Waits are drawn from [delay/2, delay]: the first from [200, 400] ms, the second from [400, 800].
        assert 190 <= first_wait <= 1000, first_wait
        assert 390 <= second_wait <= 1500, second_wait
        assert page.evaluate("[client.pending(), client.stats.retries, client.stats.dropped]") == [0, 2, 0]
        assert endpoint.requests[0]["headers"]["x-csrftoken"] == "cookie-token"
        (event,) = endpoint.requests[0]["body"]["events"]
        assert event["event_type"] == "play_video"
        assert event["page"] == f"{ORIGIN}/"
        assert event["event"] == {"code": "html5", "currentTime": 1.5, "id": "intro"}
        assert event["timestamp"].endswith("Z")

    def test_network_error_is_retried(self, scripted_page: Callable[..., Any]) -> None:
        """A connection reset is retried like a 5xx answer."""
        page, endpoint = scripted_page(["network", 202])
        page.evaluate(
            """() => {
                window.client = makeClient({flushInterval: 0, retryDelay: 50});
                client.track("page_close");
            }"""
        )
        page.wait_for_function("client.stats.accepted === 1", timeout=10000)
        assert len(endpoint.requests) == 2
        assert endpoint.requests[1]["body"]["events"][0]["event"] == {}

    def test_4xx_is_not_retried(self, scripted_page: Callable[..., Any]) -> None:
        """A 400 answer drops the batch at once and reports it as rejected."""
        page, endpoint = scripted_page([400, 202])
        page.evaluate(
            """() => {
                window.client = makeClient({flushInterval: 0, retryDelay: 50});
                client.track("seq_next", {id: "not an int", old: 1, new: 2});
            }"""
        )
        page.wait_for_function("client.stats.rejected === 1", timeout=10000)
        page.wait_for_timeout(600)  # several retry delays
        assert len(endpoint.requests) == 1
        assert page.evaluate("[client.pending(), client.stats.retries]") == [0, 0]
        (report,) = page.evaluate("reports")
        assert (report["reason"], report["count"], report["status"]) == ("rejected", 1, 400)

    def test_gives_up_after_max_retries(self, scripted_page: Callable[..., Any]) -> None:
        """A server that keeps failing gets maxRetries + 1 attempts, then the batch is dropped."""
        page, endpoint = scripted_page([503] * 10)
        page.evaluate(
            """() => {
                window.client = makeClient({flushInterval: 0, retryDelay: 20, maxRetries: 2});
                client.track("page_close");
            }"""
        )
        page.wait_for_function("client.stats.dropped === 1", timeout=10000)
        page.wait_for_timeout(300)
        assert len(endpoint.requests) == 3
        assert [r["reason"] for r in page.evaluate("reports")] == ["gave_up"]

    def test_queue_is_bounded(self, scripted_page: Callable[..., Any]) -> None:
        """While the server is unreachable the queue keeps the newest maxQueue events."""
        page, endpoint = scripted_page(["network"] * 10)
        result = page.evaluate(
            """() => {
                window.client = makeClient({flushInterval: 60000, maxQueue: 3});
                for (let i = 0; i < 5; i++) client.track("seq_goto", {id: 1, old: i, new: i + 1});
                return [client.pending(), client.stats.dropped, reports.map((r) => r.reason)];
            }"""
        )
        assert result == [3, 2, ["queue_full", "queue_full"]]
        assert endpoint.requests == []

    def test_track_never_throws(self, scripted_page: Callable[..., Any]) -> None:
        """Bad input is reported and refused, never thrown into the page; both module and global work."""
        page, _ = scripted_page([])
        result = page.evaluate(
            """() => {
                window.client = makeClient({flushInterval: 60000});
                const circular = {}; circular.self = circular;
                return [client.track(42), client.track("x", circular), client.pending(), window.sameGlobal];
            }"""
        )
        assert result == [False, False, 0, True]
        assert [r["reason"] for r in page.evaluate("reports")] == ["invalid", "invalid"]

    def test_batches_respect_batch_size(self, scripted_page: Callable[..., Any]) -> None:
        """Events tracked together leave in batches of at most batchSize, in order."""
        page, endpoint = scripted_page([])
        page.evaluate(
            """() => {
                window.client = makeClient({flushInterval: 60000, batchSize: 3});
                for (let i = 0; i < 7; i++) client.track("seq_goto", {id: 1, old: i, new: i + 1});
                client.flush();
            }"""
        )
        page.wait_for_function("client.stats.accepted === 7", timeout=10000)
        sizes = [len(r["body"]["events"]) for r in endpoint.requests]
        assert sizes == [3, 3, 1]
        olds = [e["event"]["old"] for r in endpoint.requests for e in r["body"]["events"]]
        assert olds == list(range(7))


class TestLeavingThePage:
    """Hiding or leaving the page sends the queue at once, with keepalive requests under 64 KiB."""

    def test_hidden_page_flushes_with_keepalive_in_chunks(self, scripted_page: Callable[..., Any]) -> None:
        """200 KB of queued events go out when the page is hidden: keepalive requests while their bodies
        fit the browser's 64 KiB budget, ordinary ones after; every event exactly once."""
        page, endpoint = scripted_page([])
        page.evaluate(
            """() => {
                window.client = makeClient({flushInterval: 60000, batchSize: 1000});
                const padding = "x".repeat(2000);
                for (let i = 0; i < 100; i++) client.track("textbook.pdf.search.executed", {i, padding});
                Object.defineProperty(document, "visibilityState", {value: "hidden", configurable: true});
                document.dispatchEvent(new Event("visibilitychange"));
            }"""
        )
        page.wait_for_function("client.stats.accepted === 100", timeout=10000)
        calls = fetch_calls(page)
        keepalive = [call for call in calls if call["keepalive"]]
        assert keepalive, "no keepalive request"
        assert sum(len(call["body"].encode()) for call in keepalive) <= 65536
        assert any(not call["keepalive"] for call in calls)
        indexes = [e["event"]["i"] for r in endpoint.requests for e in r["body"]["events"]]
        assert sorted(indexes) == list(range(100))

    def test_pagehide_tracks_page_close(self, scripted_page: Callable[..., Any]) -> None:
        """With pageClose, leaving the page queues page_close and sends it with the rest at once."""
        page, endpoint = scripted_page([])
        page.evaluate(
            """() => {
                window.client = makeClient({flushInterval: 60000, pageClose: true});
                client.track("seq_next", {id: 1, old: 1, new: 2});
            }"""
        )
        page.evaluate("window.dispatchEvent(new PageTransitionEvent('pagehide', {persisted: false}))")
        page.wait_for_function("client.stats.accepted === 2", timeout=10000)
        (call,) = fetch_calls(page)
        assert call["keepalive"] is True
        assert [e["event_type"] for e in endpoint.requests[0]["body"]["events"]] == ["seq_next", "page_close"]
