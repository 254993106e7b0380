"""The processes a fault-matrix cell runs beside the web server and the Celery worker.

``python -m tests.faults.agents <role> ...`` with the test settings in the environment
(:func:`tests.faults.harness.Stack.env`):

``loader``
    Posts events to ``/api/tracking`` (single events and batches, alternately) at a steady rate
    until its stop file exists. Each event carries ``{"cell": …, "src": "api", "seq": n}``. Every
    accepted event (``201``, or an ``id`` in a ``202`` result) is written to the ids file as
    ``<id> <seq>`` at once; at the end it writes how many events it sent to ``<ids>.sent``.
``emitter``
    Calls ``event_hub.track()`` at a steady rate until its stop file exists, each event carrying
    ``{"cell": …, "src": "script-<instance>", "seq": n}``, and writes ``<id> <seq>`` for each event
    ``track`` returned, unbuffered (the matrix SIGKILLs it).
``republisher``
    Calls the ``event_hub.republish_outbox`` task's function every ``--every`` seconds: due
    outbox rows and orphaned spool files go out (what a Celery beat would schedule).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import time
from pathlib import Path

#: The browser event the loader posts (a catalog type; the cell, source and sequence number are extra
#: members of its payload) and the server event the emitter tracks (unknown to the catalog, accepted as
#: it is: UNREGISTERED_EVENTS = "accept").
API_EVENT = "play_video"
VIDEO = {"code": "html5", "currentTime": 12.5, "id": "i4x-edX-DemoX-video-0b9e39477cf34507a7a48f74be381fdd"}
SERVER_EVENT = "faults.server"
PAGE = "https://lms.example.com/courses/course-v1:edX+DemoX+2024/courseware/week1/"


def _paced(rate: float, stop: Path) -> object:
    """Yield 0, 1, 2, … at ``rate`` per second until ``stop`` exists."""
    started = time.monotonic()
    count = 0
    while not stop.exists():
        yield count
        count += 1
        delay = started + count / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def loader(args: argparse.Namespace) -> None:
    out = os.open(args.ids, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    seq = sent = 0
    for request in _paced(args.rate, Path(args.stop)):
        size = 1 if request % 2 == 0 else args.batch
        events = [
            {
                "event_type": API_EVENT,
                "event": {**VIDEO, "cell": args.cell, "src": "api", "seq": seq + n},
                "page": PAGE,
                "timestamp": "2024-05-01T10:00:00.000Z",
            }
            for n in range(size)
        ]
        seqs = [seq + n for n in range(size)]
        seq += size
        sent += size
        body = json.dumps(events[0] if size == 1 else {"events": events}).encode()
        connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=10)
        try:
            connection.request("POST", "/api/tracking", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException):
            continue  # the web process is down or was killed: nothing accepted
        finally:
            connection.close()
        if response.status == 201:
            accepted = [(json.loads(answer)["id"], seqs[0])]
        elif response.status == 202:
            accepted = [(r["id"], seqs[r["index"]]) for r in json.loads(answer)["results"] if "id" in r]
        else:
            accepted = []
        if accepted:
            os.write(out, "".join(f"{event_id} {n}\n" for event_id, n in accepted).encode())
    os.close(out)
    Path(args.ids + ".sent").write_text(str(sent))


def emitter(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from event_hub import track

    out = os.open(args.ids, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    source = f"script-{args.instance}"
    for seq in _paced(args.rate, Path(args.stop)):
        envelope = track(SERVER_EVENT, data={"cell": args.cell, "src": source, "seq": seq})
        if envelope is not None:
            os.write(out, f"{envelope.id} {seq}\n".encode())
    os.close(out)


def republisher(args: argparse.Namespace) -> None:
    import django

    django.setup()
    import tests.celery_app  # noqa: F401 - the Celery app publishes the republished batches
    from event_hub.delivery.tasks import republish_outbox

    stop = Path(args.stop)
    while not stop.exists():
        try:
            republish_outbox()
        except Exception as exc:  # noqa: BLE001 - the database may be cut: say so and go on
            print(f"republish failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        time.sleep(args.every)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=("loader", "emitter", "republisher"))
    parser.add_argument("--cell", default="")
    parser.add_argument("--ids", default="")
    parser.add_argument("--stop", required=True)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--instance", type=int, default=0)
    parser.add_argument("--every", type=float, default=1.0)
    args = parser.parse_args()
    {"loader": loader, "emitter": emitter, "republisher": republisher}[args.role](args)


if __name__ == "__main__":
    main()
