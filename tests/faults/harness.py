"""The fault matrix: the whole pipeline on real services, one fault per cell, every event counted.

A *stack* is one broker (Redis or RabbitMQ) and one hand-off mode (``spool`` or ``direct``):
PostgreSQL (a database of its own), gunicorn serving ``/api/tracking`` (two sync workers), a
real Celery worker, and a *republisher* process calling the ``event_hub.republish_outbox``
task's function every second (``CONFIRM_TIMEOUT_SECONDS`` is 3). Every process reaches the
broker through a TCP proxy the matrix controls, and the web process reaches PostgreSQL through
another one, so a cell can cut either without touching the machine's services. The backend is
the JSON-lines file with ``extra_fields=["id"]``.

A *cell* runs load into a stack: a loader posting to ``/api/tracking`` (single events and
batches, alternately) and a script calling ``track()``, each event carrying its cell, its
source and a sequence number; each writes down the id of every event it was answered for
(``2xx``, or returned by ``track``). The fault is injected during the load. Afterwards the
checker reads the log and counts, for the cell's events: sent, accepted, delivered (accepted
ids in the log), missing, duplicated (lines beyond the first per id), malformed (unreadable
lines, or a line whose payload is not the one accepted under its id), extra (delivered but
never answered: a request cut by a kill), and the recovery time (from the end of the fault
until every event accepted by then was in the log). A cell passes when every accepted event
is delivered exactly once and no line is malformed.

Extending it: a cell is a function ``fault(run)`` registered with :func:`cell` (name, the
hand-off modes it runs in, one sentence saying what it proves). It is called once the load
runs and returns when the fault is over; :class:`Run` gives it the stack's processes and
proxies. A cell for another backend (Segment, the event bus) adds that backend to
:meth:`Stack.config` and a reader for its sink beside :class:`LogReader`.
"""

from __future__ import annotations

import contextlib
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import attrs
import orjson

from tests.support_net import TcpProxy

ROOT = Path(__file__).resolve().parent.parent.parent
MODES = ("spool", "direct")

# --- what a run may take ----------------------------------------------------------------------------


@attrs.frozen
class Profile:
    """How long and how hard each cell runs."""

    name: str
    lead: float  # seconds of load before the fault
    tail: float  # seconds of load after it
    outage: float  # seconds a broker or the database stays cut, or the disk full
    kills: int  # kills of a killing cell
    kill_gap: float  # seconds between two kills
    api_rate: float  # requests per second (one single event, then one batch, …)
    api_batch: int  # events per batch request
    script_rate: float  # track() calls per second
    drain: float  # the longest wait for every accepted event to be delivered


SHORT = Profile("short", lead=1.5, tail=1.5, outage=3, kills=2, kill_gap=1.5, api_rate=16, api_batch=10,
                script_rate=30, drain=60)
LONG = Profile("long", lead=5, tail=10, outage=10, kills=4, kill_gap=5, api_rate=50, api_batch=10,
               script_rate=100, drain=240)


# --- services ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        address = (parsed.hostname or "127.0.0.1", parsed.port or default_port)
        with socket.create_connection(address, timeout=2):
            return True
    except OSError:
        return False


def with_address(url: str, host: str, port: int) -> str:
    """``url`` with its host and port replaced (user and password kept)."""
    parsed = urlparse(url)
    userinfo = parsed.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}:{port}" if userinfo else f"{host}:{port}"
    return urlunparse(parsed._replace(netloc=netloc))


@attrs.define
class Database:
    """A PostgreSQL database of the matrix's own, created and migrated once, dropped at the end."""

    admin_url: str
    name: str = attrs.field(factory=lambda: f"event_hub_faults_{os.getpid()}_{secrets.token_hex(3)}")

    def url(self, host: str | None = None, port: int | None = None) -> str:
        parsed = urlparse(self.admin_url)
        url = urlunparse(parsed._replace(path=f"/{self.name}"))
        return url if host is None or port is None else with_address(url, host, port)

    @property
    def address(self) -> tuple[str, int]:
        parsed = urlparse(self.admin_url)
        return parsed.hostname or "127.0.0.1", parsed.port or 5432

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(sql)

    def create(self) -> None:
        self._admin(f'CREATE DATABASE "{self.name}"')
        env = {**base_env(), "DATABASE_URL": self.url(), "EVENT_HUB_TEST_DB_NAME": self.name}
        subprocess.run(
            [sys.executable, "-m", "django", "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True
        )

    def drop(self) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def count(self, table: str) -> int:
        import psycopg

        with psycopg.connect(self.url()) as connection:
            row = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
        return int(row[0]) if row else 0


@attrs.frozen
class Broker:
    """A real broker: ``kind`` is ``redis`` or ``rabbitmq``."""

    kind: str
    url: str

    @property
    def address(self) -> tuple[str, int]:
        parsed = urlparse(self.url)
        return parsed.hostname or "127.0.0.1", parsed.port or (6379 if self.kind == "redis" else 5672)

    def clear(self, queues: list[str]) -> None:
        """Empty the matrix's Redis database, or delete its RabbitMQ queues."""
        if self.kind == "redis":
            import redis

            redis.Redis.from_url(self.url).flushdb()
            return
        from kombu import Connection, Queue

        with Connection(self.url, connect_timeout=5) as connection:
            channel = connection.channel()
            for name in queues:  # deleting a queue that was never declared is no error
                Queue(name, channel=channel).delete()


def default_brokers() -> dict[str, str]:
    """Broker URLs: ``FAULTS_REDIS_URL`` / ``FAULTS_AMQP_URL``, else the test broker, the local RabbitMQ."""
    configured = os.environ.get("CELERY_BROKER_URL", "")
    redis_url = configured if configured.startswith("redis") else "redis://127.0.0.1:6379/15"
    return {
        "redis": os.environ.get("FAULTS_REDIS_URL", redis_url),
        "rabbitmq": os.environ.get("FAULTS_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"),
    }


def default_database_url() -> str:
    return os.environ.get("FAULTS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def base_env() -> dict[str, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)}
    env.pop("EVENT_HUB_TEST_CONFIG", None)
    return env


# --- processes --------------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes] | None, timeout: float = 20) -> None:
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class Stack:
    """The processes and proxies of one broker and one hand-off mode."""

    def __init__(
        self, broker: Broker, database: Database, mode: str, directory: Path, *, proxied: bool = True
    ) -> None:
        self.proxied = proxied  # False: every process reaches the services directly (the soak)
        self.broker = broker
        self.database = database
        self.mode = mode
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.queue = f"faults-{broker.kind}-{mode}-{os.getpid()}-{secrets.token_hex(2)}"
        self.log = directory / "tracking.log"
        self.broker_proxy = TcpProxy(*broker.address)
        self.db_proxy = TcpProxy(*database.address)
        self.web: subprocess.Popen[bytes] | None = None
        self.web_port = free_port()
        self.worker: subprocess.Popen[bytes] | None = None
        self.republisher: subprocess.Popen[bytes] | None = None
        self.worker_starts = 0
        self.worker_exits: list[str] = []  # unexpected exits of the worker seen by heal()
        self.reader = LogReader(directory, self.log.name)

    def config(self) -> dict[str, Any]:
        return {
            "DELIVERY": "celery",
            "HANDOFF": self.mode,
            "CELERY_QUEUE": self.queue,
            "SPOOL_DIR": str(self.directory / "spool"),
            "CONFIRM_TIMEOUT_SECONDS": 3.0,
            "BROKER_COOLDOWN_SECONDS": 1.0,
            "RETRY_MAX": 1,
            "RETRY_BACKOFF_SECONDS": 0.3,
            "RETRY_BACKOFF_MAX_SECONDS": 1.0,
            "UNREGISTERED_EVENTS": "accept",
            "API_ANONYMOUS_EVENTS": ["play_video"],
            "API_THROTTLE_RATES": {"anon": "10000000/minute", "user": "10000000/minute"},
            "BACKENDS": {
                "log": {
                    "ENGINE": "event_hub.backends.jsonlog.JsonLinesBackend",
                    "OPTIONS": {"path": str(self.log), "extra_fields": ["id"]},
                }
            },
        }

    def env(self, *, web: bool = False) -> dict[str, str]:
        """Environment of a process of this stack; the web process reaches PostgreSQL through the proxy."""
        database, broker = self.database.url(), self.broker.url
        if self.proxied:
            broker = with_address(broker, "127.0.0.1", self.broker_proxy.port)
            if web:
                database = self.database.url("127.0.0.1", self.db_proxy.port)
        return {
            **base_env(),
            "EVENT_HUB_TEST_CONFIG": orjson.dumps(self.config()).decode(),
            "DATABASE_URL": database,
            "EVENT_HUB_TEST_DB_NAME": self.database.name,
            "CELERY_BROKER_URL": broker,
        }

    def _spawn(self, argv: list[str], log_name: str, *, web: bool = False, **options: Any) -> Any:
        log = open(self.directory / log_name, "ab")  # noqa: SIM115 - the child keeps it
        try:
            return subprocess.Popen(
                argv, cwd=ROOT, env=self.env(web=web), stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, **options,
            )
        finally:
            log.close()

    # -- lifecycle --

    def start(self) -> None:
        self.broker.clear([self.queue])
        self.broker_proxy.up()
        self.db_proxy.up()
        self.web = self._spawn(
            [sys.executable, "-m", "gunicorn", "tests.faults.wsgi:application", "--workers", "2",
             "--bind", f"127.0.0.1:{self.web_port}", "--log-level", "warning", "--graceful-timeout", "10"],
            "web.log", web=True,
        )
        self.start_republisher()
        self.start_worker()
        wait_for(self._served, 60, "gunicorn")

    def _served(self) -> bool:
        if self.web is not None and self.web.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {self.web.returncode}: {self.tail('web.log')}")
        try:
            with socket.create_connection(("127.0.0.1", self.web_port), timeout=0.5):
                return len(children(self.web.pid if self.web else 0)) >= 2
        except OSError:
            return False

    def start_republisher(self) -> None:
        self.republisher = self._spawn(
            [sys.executable, "-m", "tests.faults.agents", "republisher", "--stop",
             str(self.directory / "republisher.stop"), "--every", "1"],
            "republisher.log",
        )

    def start_worker(self, *, file_size_limit: int | None = None) -> None:
        """Start a Celery worker (2 pool processes) and wait until it is ready.

        ``file_size_limit``: the largest file it may write (``RLIMIT_FSIZE``): a full disk for the log.
        """
        self.worker_starts += 1
        log_name = f"worker-{self.worker_starts}.log"

        def limit() -> None:
            if file_size_limit is not None:
                resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, resource.RLIM_INFINITY))

        self.worker = self._spawn(
            [sys.executable, "-m", "celery", "-A", "tests.celery_app", "worker", "--loglevel=INFO",
             "--concurrency=2", "--pool=prefork", "--without-mingle", "--without-gossip",
             "--without-heartbeat", "-Q", self.queue, "-n", f"{self.queue}-{self.worker_starts}@%h"],
            log_name, preexec_fn=limit,
        )
        worker = self.worker

        def ready() -> bool:
            if worker.poll() is not None:
                raise RuntimeError(f"worker exited with {worker.returncode}: {self.tail(log_name)}")
            return "ready." in (self.directory / log_name).read_text(errors="replace")

        wait_for(ready, 60, "the Celery worker")

    def tail(self, log_name: str, size: int = 3000) -> str:
        try:
            return (self.directory / log_name).read_text(errors="replace")[-size:]
        except OSError:
            return ""

    def stop_worker(self) -> None:
        _stop(self.worker)
        self.worker = None

    def heal(self) -> None:
        """Bring everything back as a cell found it: proxies up, a worker, the web server, the republisher."""
        self.broker_proxy.up()
        self.db_proxy.up()
        self.supervise()

    def supervise(self) -> None:
        """Restart the worker or the republisher if it exited, as a process supervisor would
        (systemd ``Restart=always``): an exit of the worker is noted in the cell's result.
        gunicorn restarts its own workers; its arbiter gone is an error."""
        if self.worker is not None and self.worker.poll() is not None:
            self.worker_exits.append(f"worker exited with {self.worker.returncode}")
            self.worker = None
        if self.worker is None:
            self.start_worker()
        if self.republisher is None or self.republisher.poll() is not None:
            self.start_republisher()
        if self.web is None or self.web.poll() is not None:
            raise RuntimeError(f"gunicorn is gone: {self.tail('web.log')}")

    def stop(self) -> None:
        (self.directory / "republisher.stop").touch()
        _stop(self.web)
        _stop(self.worker)
        if self.republisher is not None:
            try:
                self.republisher.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _stop(self.republisher)
        self.broker_proxy.down()
        self.db_proxy.down()
        self.broker.clear([self.queue])

    def web_workers(self) -> list[int]:
        return children(self.web.pid) if self.web is not None else []

    def pool_processes(self) -> list[int]:
        return children(self.worker.pid) if self.worker is not None else []

    def outbox_rows(self) -> int:
        return self.database.count("event_hub_outboxbatch")

    def dead_letters(self) -> int:
        return self.database.count("event_hub_deadletter WHERE replayed_at IS NULL")

    def spool_bytes(self) -> int:
        total = 0
        for path in (self.directory / "spool").glob("*.spool"):
            with contextlib.suppress(OSError):
                total += path.stat().st_size
        return total

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "django", *args], cwd=ROOT, env=self.env(), capture_output=True,
            timeout=120, check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed: {result.stderr.decode()[-3000:]}")
        return result.stdout.decode()


# --- the log ----------------------------------------------------------------------------------------


@attrs.define
class Seen:
    """What the log holds of one cell."""

    ids: Counter[str] = attrs.field(factory=Counter)
    payloads: dict[str, tuple[str, int]] = attrs.field(factory=dict)  # id -> (src, seq)
    wrong: int = 0  # lines of this cell repeating an id with another payload


class LogReader:
    """Reads the JSON-lines log and its rotated files as they grow, sorting lines by cell."""

    def __init__(self, directory: Path, stem: str) -> None:
        self.directory = directory
        self.stem = stem
        self.offsets: dict[int, int] = {}  # inode -> bytes read
        self.cells: dict[str, Seen] = {}
        self.unreadable = 0

    def poll(self) -> None:
        for path in sorted(self.directory.glob(self.stem + "*")):
            if path.name.endswith((".batches", ".tmp")):
                continue
            try:
                with open(path, "rb") as handle:
                    inode = os.fstat(handle.fileno()).st_ino
                    offset = self.offsets.get(inode, 0)
                    handle.seek(offset)
                    data = handle.read()
            except FileNotFoundError:
                continue
            complete = data.rfind(b"\n") + 1
            for line in data[:complete].splitlines():
                self._line(line)
            self.offsets[inode] = offset + complete

    def _line(self, line: bytes) -> None:
        try:
            record = orjson.loads(line)
            event = record["event"]
            if isinstance(event, str):
                event = orjson.loads(event)
            event_id, cell_name = record["id"], event["cell"]
            payload = (str(event["src"]), int(event["seq"]))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            self.unreadable += 1
            return
        seen = self.cells.setdefault(cell_name, Seen())
        if event_id in seen.payloads and seen.payloads[event_id] != payload:
            seen.wrong += 1
        seen.ids[event_id] += 1
        seen.payloads.setdefault(event_id, payload)

    def seen(self, cell_name: str) -> Seen:
        return self.cells.get(cell_name, Seen())


def read_ids(path: Path) -> dict[str, int]:
    """``<id> <seq>`` lines written by a loader or an emitter (a line cut by a kill is skipped)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    accepted = {}
    for line in data[: data.rfind(b"\n") + 1].splitlines():
        event_id, seq = line.decode().split()
        accepted[event_id] = int(seq)
    return accepted


# --- cells ------------------------------------------------------------------------------------------


@attrs.frozen
class Result:
    """The figures of one cell."""

    broker: str
    mode: str
    cell: str
    sent: int
    accepted: int
    delivered: int
    missing: int
    duplicated: int
    malformed: int
    extra: int
    recovery: float | None
    notes: str = ""

    @property
    def passed(self) -> bool:
        return self.accepted > 0 and self.missing == 0 and self.duplicated == 0 and self.malformed == 0

    def row(self) -> str:
        recovery = "-" if self.recovery is None else f"{self.recovery:.1f}"
        return (
            f"{self.broker:<9}{self.mode:<7}{self.cell:<15}{self.sent:>7}{self.accepted:>9}{self.delivered:>10}"
            f"{self.missing:>8}{self.duplicated:>11}{self.malformed:>10}{self.extra:>6}{recovery:>10}  "
            f"{'PASS' if self.passed else 'FAIL'}  {self.notes}"
        )


HEADER = (
    f"{'broker':<9}{'mode':<7}{'cell':<15}{'sent':>7}{'accepted':>9}{'delivered':>10}{'missing':>8}"
    f"{'duplicated':>11}{'malformed':>10}{'extra':>7}{'recovery s':>11}  result"
)


@attrs.frozen
class Cell:
    name: str
    modes: tuple[str, ...]
    proves: str
    fault: Callable[[Run], None]


#: Every cell, in the order they run.
CELLS: dict[str, Cell] = {}


def cell(name: str, proves: str, modes: tuple[str, ...] = MODES) -> Callable[[Callable[[Run], None]], Any]:
    """Register ``fault`` as the cell ``name`` (run in each of ``modes``)."""

    def register(fault: Callable[[Run], None]) -> Callable[[Run], None]:
        CELLS[name] = Cell(name, modes, proves, fault)
        return fault

    return register


class Run:
    """One cell running in a stack: its load processes, and what they were answered."""

    def __init__(self, stack: Stack, cell: Cell, profile: Profile) -> None:
        self.stack = stack
        self.cell = cell
        self.profile = profile
        self.tag = f"{cell.name}-{stack.mode}-{secrets.token_hex(3)}"
        self.folder = stack.directory / self.tag
        self.folder.mkdir()
        self.stop_file = self.folder / "stop"
        self.loader: subprocess.Popen[bytes] | None = None
        self.emitters: list[subprocess.Popen[bytes]] = []
        self.notes: list[str] = []

    def _agent(self, *args: str) -> subprocess.Popen[bytes]:
        return self.stack._spawn(
            [sys.executable, "-m", "tests.faults.agents", *args, "--cell", self.tag,
             "--stop", str(self.stop_file)],
            f"{self.tag}/agents.log",
        )

    def start_load(self) -> None:
        self.loader = self._agent(
            "loader", "--ids", str(self.folder / "api.ids"), "--port", str(self.stack.web_port),
            "--rate", str(self.profile.api_rate), "--batch", str(self.profile.api_batch),
        )
        self.start_emitter()

    def start_emitter(self) -> subprocess.Popen[bytes]:
        instance = len(self.emitters)
        emitter = self._agent(
            "emitter", "--ids", str(self.folder / f"script-{instance}.ids"), "--instance", str(instance),
            "--rate", str(self.profile.script_rate),
        )
        self.emitters.append(emitter)
        return emitter

    def stop_load(self) -> None:
        self.stop_file.touch()
        for process in [self.loader, *self.emitters]:
            if process is None or process.poll() is not None:
                continue
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.notes.append("a load process did not stop")
                _stop(process)

    def accepted(self) -> dict[str, tuple[str, int]]:
        accepted = {event_id: ("api", seq) for event_id, seq in read_ids(self.folder / "api.ids").items()}
        for instance in range(len(self.emitters)):
            for event_id, seq in read_ids(self.folder / f"script-{instance}.ids").items():
                accepted[event_id] = (f"script-{instance}", seq)
        return accepted

    def sent(self, seen: Seen) -> int:
        try:
            api = int((self.folder / "api.ids.sent").read_text())
        except (FileNotFoundError, ValueError):
            api = 0
        last: dict[str, int] = {}
        for src, seq in [*self.accepted().values(), *seen.payloads.values()]:
            if src != "api":
                last[src] = max(last.get(src, -1), seq)
        return api + sum(seq + 1 for seq in last.values())

    def pause(self, seconds: float) -> None:
        time.sleep(seconds)


def run_cell(stack: Stack, cell_: Cell, profile: Profile) -> Result:
    """Run ``cell_`` in ``stack`` (which must be started) and count its events."""
    run = Run(stack, cell_, profile)
    unreadable = stack.reader.unreadable
    run.start_load()
    try:
        time.sleep(profile.lead)
        cell_.fault(run)
        fault_end = time.monotonic()
        snapshot = set(run.accepted())
        recovered_at = _watch(stack, run.tag, snapshot, time.monotonic() + profile.tail)
    finally:
        run.stop_load()
        stack.heal()
    accepted = run.accepted()
    deadline = time.monotonic() + profile.drain
    while True:
        stack.supervise()  # a worker may exit after heal() too (its reconnection comes seconds later)
        stack.reader.poll()
        seen = stack.reader.seen(run.tag)
        if recovered_at is None and snapshot <= seen.ids.keys():
            recovered_at = time.monotonic()
        done = accepted.keys() <= seen.ids.keys()
        if (done and stack.outbox_rows() == 0 and stack.spool_bytes() == 0) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    time.sleep(0.5)  # anything written twice right after the last confirmation shows now
    stack.reader.poll()
    seen = stack.reader.seen(run.tag)
    delivered = sum(1 for event_id in accepted if event_id in seen.ids)
    wrong = sum(
        1
        for event_id, payload in accepted.items()
        if event_id in seen.payloads and seen.payloads[event_id] != payload
    )
    notes = list(run.notes)
    if stack.worker_exits:
        notes.append("; ".join(stack.worker_exits))
        stack.worker_exits.clear()
    left = stack.outbox_rows()
    if left:
        notes.append(f"{left} outbox row(s) left")
    dead = stack.dead_letters()
    if dead:
        notes.append(f"{dead} dead letter(s)")
    if not (accepted.keys() <= seen.ids.keys()):
        notes.append(f"drain timed out after {profile.drain:.0f}s")
    return Result(
        broker=stack.broker.kind,
        mode=stack.mode,
        cell=cell_.name,
        sent=run.sent(seen),
        accepted=len(accepted),
        delivered=delivered,
        missing=len(accepted) - delivered,
        duplicated=sum(count - 1 for count in seen.ids.values()),
        malformed=seen.wrong + wrong + stack.reader.unreadable - unreadable,
        extra=sum(1 for event_id in seen.ids if event_id not in accepted),
        recovery=None if recovered_at is None else max(0.0, recovered_at - fault_end),
        notes="; ".join(notes),
    )


def _watch(stack: Stack, tag: str, snapshot: set[str], until: float) -> float | None:
    """Poll the log until ``until``; when every id of ``snapshot`` was seen (``None``: not yet)."""
    recovered_at = None
    while time.monotonic() < until:
        stack.reader.poll()
        if recovered_at is None and snapshot <= stack.reader.seen(tag).ids.keys():
            recovered_at = time.monotonic()
        time.sleep(0.2)
    return recovered_at


# --- the faults -------------------------------------------------------------------------------------


@cell("baseline", "no fault: every accepted event is in the log once")
def baseline(run: Run) -> None:
    return


@cell("worker-kill", "the worker's main process SIGKILLed repeatedly (restarted each time): batches "
      "the broker loses with it are published again from the outbox and written once")
def worker_kill(run: Run) -> None:
    stack = run.stack
    for _ in range(run.profile.kills):
        assert stack.worker is not None
        os.kill(stack.worker.pid, signal.SIGKILL)  # the main process only: its pool processes die orphaned
        stack.worker.wait(timeout=10)
        stack.worker = None
        stack.start_worker()
        run.pause(run.profile.kill_gap)


@cell("pool-kill", "pool processes SIGKILLed mid-batch: their batches are redelivered and written once")
def pool_kill(run: Run) -> None:
    stack = run.stack
    for _ in range(run.profile.kills):
        pool = wait_for(stack.pool_processes, 30, "a pool process")
        os.kill(pool[0], signal.SIGKILL)
        run.pause(run.profile.kill_gap)


@cell("broker-stop", "the broker unreachable for the outage (every process): batches wait in the spool or "
      "the outbox and go out once it is back")
def broker_stop(run: Run) -> None:
    run.stack.broker_proxy.down()
    run.pause(run.profile.outage)
    run.stack.broker_proxy.up()


@cell("db-cut", "PostgreSQL unreachable for the web process: requests still answer, their batches wait "
      "in the spool file and are replayed")
def db_cut(run: Run) -> None:
    run.stack.db_proxy.down()
    run.pause(run.profile.outage)
    run.stack.db_proxy.up()


@cell("db-broker-cut", "PostgreSQL (web) and the broker (all) unreachable together: the spool file keeps "
      "every accepted batch, none ends as a log record")
def db_broker_cut(run: Run) -> None:
    run.stack.db_proxy.down()
    run.stack.broker_proxy.down()
    run.pause(run.profile.outage)
    run.stack.broker_proxy.up()
    run.stack.db_proxy.up()


@cell("web-kill", "gunicorn's workers SIGKILLed mid-burst (gunicorn starts new ones): what was answered "
      "is delivered (the dead workers' spool files are recovered)")
def web_kill(run: Run) -> None:
    stack = run.stack
    for _ in range(run.profile.kills):
        for pid in stack.web_workers():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        run.pause(run.profile.kill_gap)
    wait_for(lambda: len(stack.web_workers()) >= 2, 30, "gunicorn's new workers")


@cell("script-kill", "a script calling track() SIGKILLed (restarted each time): every event track() "
      "returned was in the spool file and is recovered", modes=("spool",))
def script_kill(run: Run) -> None:
    for _ in range(run.profile.kills):
        emitter = run.emitters[-1]
        os.kill(emitter.pid, signal.SIGKILL)
        emitter.wait(timeout=10)
        run.start_emitter()
        run.pause(run.profile.kill_gap)


@cell("disk-full", "the log's disk full for the outage (RLIMIT_FSIZE on the worker): batches are retried, "
      "then dead-lettered; replayed once the space is back, each event written once", modes=("spool",))
def disk_full(run: Run) -> None:
    stack = run.stack
    stack.stop_worker()
    stack.start_worker(file_size_limit=stack.log.stat().st_size + 20_000)
    run.pause(run.profile.outage)
    try:  # the space comes back once batches were dead-lettered, so the replay is exercised
        wait_for(stack.dead_letters, 30, "a dead letter")
    except RuntimeError:
        run.notes.append("no batch was dead-lettered")
    stack.stop_worker()
    stack.start_worker()
    stack.manage("event_hub_deadletters", "replay", "--all", "--no-progress")


@cell("logrotate", "the log renamed mid-run (logrotate without copytruncate): the backend reopens the "
      "path, nothing is lost or written twice across the two files", modes=("spool",))
def logrotate(run: Run) -> None:
    log = run.stack.log
    log.rename(log.with_name(f"{log.name}.{run.tag}"))
    run.pause(run.profile.kill_gap)


# --- running many cells -----------------------------------------------------------------------------


class Matrix:
    """Stacks started on demand (one at a time), on one database made for the run."""

    def __init__(self, directory: Path, brokers: dict[str, str], database_url: str) -> None:
        self.directory = directory
        self.brokers = {kind: Broker(kind, url) for kind, url in brokers.items()}
        self.database = Database(database_url)
        self.database.create()
        self.stack: Stack | None = None

    def stack_for(self, kind: str, mode: str) -> Stack:
        if self.stack is not None and (self.stack.broker.kind, self.stack.mode) == (kind, mode):
            return self.stack
        self.close_stack()
        self.stack = Stack(self.brokers[kind], self.database, mode, self.directory / f"{kind}-{mode}")
        try:
            self.stack.start()
        except BaseException:
            self.close_stack()
            raise
        return self.stack

    def run(self, kind: str, mode: str, name: str, profile: Profile) -> Result:
        return run_cell(self.stack_for(kind, mode), CELLS[name], profile)

    def close_stack(self) -> None:
        if self.stack is not None:
            self.stack.stop()
            self.stack = None

    def log_tails(self, lines: int = 40) -> str:
        """The last ``lines`` of each log of the current stack (worker, web, republisher, …), for the
        report of a failing cell: the stack's directory is gone once the run ends."""
        if self.stack is None:
            return ""
        parts = []
        for path in sorted(self.stack.directory.glob("*.log")):
            if path == self.stack.log:
                continue  # the tracking log itself
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {path.name} (last {len(tail)} lines)\n" + "\n".join(tail))
        return "\n".join(parts)

    def close(self) -> None:
        self.close_stack()
        self.database.drop()


def plan(brokers: tuple[str, ...] = ("redis", "rabbitmq")) -> Iterator[tuple[str, str, str]]:
    """(broker, mode, cell) for every cell, grouped by stack."""
    for kind in brokers:
        for mode in MODES:
            for name, cell_ in CELLS.items():
                if mode in cell_.modes:
                    yield kind, mode, name
