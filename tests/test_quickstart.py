"""docs/quickstart.rst, followed word for word: a throwaway project built from its commands and blocks.

The sections "From ``startproject`` to events in the log", "Events on the Open edX event bus"
(it needs Redis on 127.0.0.1:6379) and "Events at a Segment endpoint" are parsed, in that order:
console lines
starting with ``$`` are run with a shell in an empty folder, Python blocks are appended
to the file their caption names, in page order. ``pip install`` lines are the one thing
not run: the package under test is already installed, in the environment of the Python
running this test (``.ci/run`` runs it from a fresh virtualenv holding the built wheel;
set ``EVENT_HUB_QUICKSTART_INSTALLED=1`` there). Without that variable the checkout's
``event_hub`` is put first on ``PYTHONPATH``, so the test checks the code next to it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "quickstart.rst"
SECTION = "From ``startproject`` to events in the log"
BUS_SECTION = "Events on the Open edX event bus"
SEGMENT_SECTION = "Events at a Segment endpoint"
BLOCK = re.compile(
    r"^(?P<indent> *)\.\. code-block:: (?P<lang>\w+)\n(?P<options>(?:(?P=indent) +:.*\n)*)\n", re.MULTILINE
)


def section(text: str, title: str) -> str:
    """The body of section ``title`` (up to the next title of the same level)."""
    start = text.index(f"{title}\n{'-' * len(title)}\n")
    body = text[start + 2 * (len(title) + 1) :]
    following = re.search(r"^\S.*\n-{3,}\n", body, flags=re.MULTILINE)
    return body[: following.start()] if following else body


def steps(text: str) -> list[tuple[str, str]]:
    """``("run", command)`` and ``(file, python)`` steps of the code blocks of ``text``, in order."""
    found: list[tuple[str, str]] = []
    for match in BLOCK.finditer(text):
        content_indent = None
        lines: list[str] = []
        for line in text[match.end() :].splitlines():
            if line.strip() and content_indent is None:
                content_indent = len(line) - len(line.lstrip())
            if (
                line.strip()
                and content_indent is not None
                and len(line) - len(line.lstrip()) < content_indent
            ):
                break
            lines.append(line[content_indent or 0 :])
        code = "\n".join(lines).strip("\n") + "\n"
        if match["lang"] == "console":
            found.extend(("run", line[2:]) for line in code.splitlines() if line.startswith("$ "))
        else:
            caption = re.search(r":caption: (\S+)", match["options"])
            assert caption, f"a {match['lang']} block of the quickstart names no file"
            found.append((caption[1], code))
    return found


class TestQuickstart:
    """A project made exactly as the quickstart says writes the emitted event to its tracking log."""

    def test_page_has_the_steps(self) -> None:
        """The section has the commands and files the walk-through needs, in order."""
        kinds = [kind if kind == "run" else "file" for kind, _ in steps(section(PAGE.read_text(), SECTION))]
        assert kinds[:2] == ["run", "run"]
        assert "file" in kinds

    def test_walk_through(self, tmp_path: Path) -> None:
        """Running the steps in an empty folder ends with the event in tracking.log, on the bus, then at the
        Segment sink."""
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        if not os.environ.get("EVENT_HUB_QUICKSTART_INSTALLED"):
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        page = PAGE.read_text()
        output = walk(steps(section(page, SECTION)), tmp_path, env)
        event = orjson.loads(output.strip().splitlines()[-1])
        assert event["event_type"] == "edx.instructor.report.requested"
        assert event["event"] == {"report_type": "grades"}
        output = walk(steps(section(page, BUS_SECTION)), tmp_path, env)
        assert output.strip() == "org.openedx.analytics.tracking.event.emitted.v1"
        output = walk(steps(section(page, SEGMENT_SECTION)), tmp_path, env)
        assert output.strip() == "edx.instructor.report.requested"


def walk(found: list[tuple[str, str]], folder: Path, env: dict[str, str]) -> str:
    """Run ``found`` steps in ``folder``; the output of the last command."""
    output = ""
    for kind, text in found:
        if kind == "run":
            if text.startswith("pip install"):
                continue
            result = subprocess.run(
                text, shell=True, cwd=folder, env=env, capture_output=True, text=True, timeout=120
            )
            assert result.returncode == 0, f"{text}\n{result.stdout}\n{result.stderr}"
            output = result.stdout
        else:
            target = folder / kind
            assert target.exists(), f"the quickstart extends {kind}, which the commands did not create"
            target.write_text(target.read_text() + "\n" + text)
    return output
