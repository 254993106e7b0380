"""Readers for the specification documents the catalog is written from.

The documents are not copied into this repository (their text is not ours):
they are read from ``EVENT_HUB_SPEC_DIR`` when set, else from ``shared/seeds``
beside the checkout (``<checkout>/../shared/seeds``), else from
``/work/shared/seeds``. Without them the reference tests skip, and fail when
``CI=true``.
Nothing here knows any event name: names, sources and fields are read from the
documents' structure, so a test built on it fails when the catalog drifts from
them.

``tracking-log-events.rst`` is read like this:

* RST comments (``.. text`` and the indented block under it, such as the
  commented-out badging events) and code blocks are blanked out first;
* a section starts at every title (a line underlined with ``=``, ``*``, ``#``,
  ``-``, ``~`` or ``^``); everything before the "Student Events" title (the
  sample event and the common fields) is skipped, as are "Example" titles;
* event names are the double-backquoted words of a title
  (``play_video``/``edx.video.played`` gives a name and its mobile name) and
  the items of bullet lists made only of such words that come before the
  section first talks about member fields (the "This section includes
  descriptions of the following events" lists, the course team lists);
* ``**Event Source**:`` lines give the sources;
* after ``event`` **Member Fields** (or a sentence naming the following
  ``event`` member fields), first-column entries of list tables and top-level
  bullets (``* ``code````) are the ``event`` member fields, with the table's
  Type column when there is one; after ``context`` **Member Fields** they are
  extra ``context`` members. Bullets nested inside table cells (members of
  members) are not top-level fields and are left out.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_CHECKOUT = Path(__file__).resolve().parents[2]
_CANDIDATES = [
    *([Path(os.environ["EVENT_HUB_SPEC_DIR"])] if os.environ.get("EVENT_HUB_SPEC_DIR") else []),
    _CHECKOUT.parent / "shared" / "seeds",
    Path("/work/shared/seeds"),
]
#: The folder holding the specification documents (the first candidate that has them).
SPEC_DIR = next((p for p in _CANDIDATES if (p / "tracking-log-events.rst").exists()), _CANDIDATES[0])
TRACKING_LOG = SPEC_DIR / "tracking-log-events.rst"
SEGMENT = SPEC_DIR / "segment-events-edx-enterprise.rst"
DESIGN = SPEC_DIR / "event-tracking-design.md"



def available() -> bool:
    """Whether the three documents were found."""
    return all(path.exists() for path in (TRACKING_LOG, SEGMENT, DESIGN))


def require_documents() -> None:
    """Skip the calling test when the documents are missing; fail instead under ``CI=true``."""
    import pytest

    if available():
        return
    message = f"specification documents not found (looked in {', '.join(map(str, _CANDIDATES))})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


_ADORNMENT = re.compile(r"^([=*#\-~^])\1{2,}\s*$")
_DIRECTIVE = re.compile(r"^\s*\.\.\s+[\w:-]+::")
_TARGET_OR_SUBSTITUTION = re.compile(r"^\s*\.\.\s+(_|\||\[)")
_COMMENT = re.compile(r"^(\s*)\.\.(\s|$)")
_NAME_PAIR = re.compile(r"``([^`\s]+)``(?:\s*/\s*``([^`\s]+)``)?")
_NAME_BULLET = re.compile(r"^\* ``([^`\s]+)``(?:\s*/\s*``([^`\s]+)``)?\s*$")
_FIELD_BULLET = re.compile(r"^\* ``([^`]+)``")
_TABLE_ROW = re.compile(r"^\s+\* -\s+``([^`]+)``\s*$")
_TABLE_CELL = re.compile(r"^\s+- ?(.*)$")
_EVENT_FIELDS = re.compile(r"^``event`` \*\*Member Fields\*\*:?\s*(.*)$")
_CONTEXT_FIELDS = re.compile(r"^``context`` \*\*Member Fields\*\*")
_SOURCE = re.compile(r"^\*\*Event Source\*\*:\s*(.+)$")
SOURCE_WORDS = {"browser": "browser", "server": "server", "mobile": "mobile"}


@dataclass
class DocumentedSection:
    """What one section of the reference says about the events it names."""

    title: str
    line: int
    #: (name, mobile name or None), in document order.
    names: list[tuple[str, str | None]] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)
    #: ``event`` member field -> the Type column ("" when listed in a bullet list).
    fields: dict[str, str] = field(default_factory=dict)
    #: Extra ``context`` member field -> Type column.
    context_fields: dict[str, str] = field(default_factory=dict)
    #: The section says its events carry no ``event`` member fields.
    no_fields: bool = False
    #: Text after ``event`` **Member Fields**: when it is prose instead of a list (browser problem_check).
    fields_prose: str = ""
    #: The section has an ``event`` member field list (possibly empty, see ``no_fields``).
    has_field_list: bool = False


@dataclass
class TrackingLogReference:
    """Everything :func:`read_tracking_log` found."""

    sections: list[DocumentedSection]

    @property
    def names(self) -> dict[str, str | None]:
        """Every documented event name -> its mobile name (``None`` when it has none)."""
        found: dict[str, str | None] = {}
        for section in self.sections:
            for name, mobile in section.names:
                if mobile or name not in found:
                    found[name] = mobile
        return found

    @property
    def all_names(self) -> set[str]:
        """Documented names including mobile names."""
        return set(self.names) | {mobile for mobile in self.names.values() if mobile}

    def field_sections(self) -> list[DocumentedSection]:
        return [s for s in self.sections if s.names and (s.has_field_list or s.no_fields)]


def _blank_comments_and_code(lines: list[str]) -> list[str]:
    """Blank RST comments (with their indented bodies) and code-block bodies; keep line numbers."""
    out = list(lines)
    index = 0
    while index < len(out):
        line = out[index]
        match = _COMMENT.match(line)
        is_code = bool(re.match(r"^\s*\.\.\s+code-block::", line))
        is_comment = bool(match) and not _DIRECTIVE.match(line) and not _TARGET_OR_SUBSTITUTION.match(line)
        if not (is_comment or is_code):
            index += 1
            continue
        indent = len(line) - len(line.lstrip())
        out[index] = ""
        index += 1
        while index < len(out):
            body = out[index]
            if body.strip() and len(body) - len(body.lstrip()) <= indent:
                break
            out[index] = ""
            index += 1
    return out


def _titles(lines: list[str]) -> list[tuple[int, str]]:
    titles = []
    for index in range(len(lines) - 1):
        text = lines[index]
        if text.strip() and not _ADORNMENT.match(text) and _ADORNMENT.match(lines[index + 1]):
            titles.append((index, text.strip()))
    return titles


def read_common_fields(path: Path = TRACKING_LOG) -> tuple[frozenset[str], frozenset[str]]:
    """The root-level common fields and the common ``context`` member fields of the reference.

    Root fields are the ````name```` Field titles between the "Common Fields" and
    "Student Events" titles; context members are the first column of the list
    table headed "``context`` Member Field" that follows the ``context`` Field title.
    """
    lines = _blank_comments_and_code(path.read_text(encoding="utf-8").splitlines())
    titles = _titles(lines)
    start = next(line for line, title in titles if title == "Common Fields")
    end = next(line for line, title in titles if title == "Student Events")
    root = frozenset(
        match.group(1)
        for line, title in titles
        if start < line < end and (match := re.fullmatch(r"``(\w+)`` Field", title))
    )
    context_start = next(line for line, title in titles if title == "``context`` Field")
    context_end = next(line for line, title in titles if line > context_start and title.endswith("Field"))
    members = frozenset(
        match.group(1)
        for text in lines[context_start:context_end]
        if (match := _TABLE_ROW.match(text)) and match.group(1) != "context"
    )
    return root, members


def read_tracking_log(path: Path = TRACKING_LOG) -> TrackingLogReference:
    """Parse the tracking-log reference into sections (see the module docstring)."""
    lines = _blank_comments_and_code(path.read_text(encoding="utf-8").splitlines())
    titles = _titles(lines)
    starts = [i for i, (_, title) in enumerate(titles) if title == "Student Events"]
    if not starts:
        raise AssertionError(f"{path}: no 'Student Events' title; is this the tracking-log reference?")
    sections = []
    for position in range(starts[0], len(titles)):
        line, title = titles[position]
        end = titles[position + 1][0] if position + 1 < len(titles) else len(lines)
        if title.startswith("Example"):
            continue
        sections.append(_read_section(title, line, lines[line + 2 : end]))
    return TrackingLogReference(sections)


def _read_section(title: str, line: int, body: list[str]) -> DocumentedSection:
    section = DocumentedSection(title=title, line=line + 1)
    section.names.extend((name, mobile or None) for name, mobile in _NAME_PAIR.findall(title))
    names_phase = True
    mode: str | None = None
    pending_row: str | None = None
    in_prose = False
    for text in body:
        if _ADORNMENT.match(text):
            continue
        if in_prose:
            in_prose = bool(text.strip())
            section.fields_prose += " " + text.strip() if in_prose else ""
            continue
        if pending_row is not None and text.strip():
            cell = _TABLE_CELL.match(text)
            target = section.fields if mode == "event" else section.context_fields
            target[pending_row] = cell.group(1).strip() if cell else ""
            pending_row = None
            continue
        if "only the JSON fields that are common" in text:
            section.no_fields = True
        source = _SOURCE.match(text)
        if source:
            words = re.findall(r"[a-z]+", source.group(1).lower())
            section.sources |= {SOURCE_WORDS[word] for word in words if word in SOURCE_WORDS}
            continue
        event_fields = _EVENT_FIELDS.match(text)
        if event_fields:
            mode, names_phase = "event", False
            section.has_field_list = True
            rest = event_fields.group(1).strip()
            if rest.lower().startswith("none"):
                section.no_fields = True
            elif rest:
                section.fields_prose, in_prose = rest, True
            continue
        if _CONTEXT_FIELDS.match(text):
            mode, names_phase = "context", False
            continue
        if "member field" in text.lower():
            names_phase = False
            opens_list = text.startswith("``event`` member field") or "following ``event`` member" in text
            if opens_list and mode is None:
                mode = "event"
                section.has_field_list = True
        if names_phase:
            bullet = _NAME_BULLET.match(text)
            if bullet:
                section.names.append((bullet.group(1), bullet.group(2) or None))
            continue
        if mode is None:
            continue
        row = _TABLE_ROW.match(text)
        if row:
            pending_row = row.group(1)
            continue
        bullet = _FIELD_BULLET.match(text)
        if bullet:
            target = section.fields if mode == "event" else section.context_fields
            target.setdefault(bullet.group(1), "")
    return section


def field_names(documented: str) -> list[str]:
    """The member name(s) a documented field entry stands for.

    ``parts: [criterion, option, feedback]`` is the member ``parts`` (its
    item members follow the colon); ``[answers, contents]`` is not a member at
    all but the two items of an array-valued ``event``.
    """
    if documented.startswith("["):
        return [item.strip() for item in documented.strip("[]").split(",")]
    return [re.split(r"[:\s]", documented, maxsplit=1)[0]]


#: JSON kinds each documented type word stands for.
DOCUMENTED_TYPES = {
    "string": "string",
    "integer": "integer",
    "int": "integer",
    "float": "number",
    "boolean": "boolean",
    "dictionary": "object",
    "object": "object",
    "array": "array",
    "list": "array",
    "datetime": "string",
}


# --- the Segment events document -------------------------------------------------------------


@dataclass
class SegmentEvent:
    name: str
    properties: list[str] = field(default_factory=list)
    same_as: str | None = None


@dataclass
class SegmentReference:
    events: dict[str, SegmentEvent]
    #: Property name -> its documented values (the ``pathway`` list).
    values: dict[str, list[str]]

    def properties(self, name: str) -> list[str]:
        event = self.events[name]
        return self.properties(event.same_as) if event.same_as else event.properties


def read_segment(path: Path = SEGMENT) -> SegmentReference:
    """Titles are event names; "- **x**:" bullets after "contains these properties" are properties."""
    lines = path.read_text(encoding="utf-8").splitlines()
    titles = _titles(lines)[1:]  # the first title is the document's own
    events: dict[str, SegmentEvent] = {}
    values: dict[str, list[str]] = {}
    for position, (line, title) in enumerate(titles):
        end = titles[position + 1][0] if position + 1 < len(titles) else len(lines)
        event = events[title] = SegmentEvent(title)
        collecting: list[str] | None = None
        for text in lines[line + 2 : end]:
            same = re.search(r"same properties as the `([^`]+)`_", text)
            if same:
                event.same_as = same.group(1)
            if "contains these properties" in text:
                collecting = event.properties
                continue
            possible = re.search(r"possible values of the \*\*(\w+)\*\* property", text)
            if possible:
                collecting = values.setdefault(possible.group(1), [])
                continue
            bullet = re.match(r"^- \*\*([\w-]+)\*\*:", text)
            if bullet and collecting is not None:
                collecting.append(bullet.group(1))
            elif text.strip() and not text.startswith((" ", "-")):
                collecting = None
    return SegmentReference(events, values)


# --- the event-tracking design note ----------------------------------------------------------


def read_design_client_events(path: Path = DESIGN) -> dict[str, list[str]]:
    """Client event name -> its ``event_data`` members, from the note's POST body examples."""
    text = path.read_text(encoding="utf-8")
    found: dict[str, list[str]] = {}
    for block in re.findall(r"```\n(.*?)```", text, flags=re.S):
        name = re.search(r'"tracking_event_type":\s*"([^"]+)"', block)
        data = re.search(r'"event_data":\s*\{(.*?)\}', block, flags=re.S)
        if name and data:
            found[name.group(1)] = re.findall(r'"(\w+)"\s*:', data.group(1))
    return found


# --- the JSON examples of the tracking-log reference -----------------------------------------


@dataclass
class JsonExample:
    line: int
    source_text: str
    data: dict[str, Any]
    #: The fixes :func:`tolerant_json` had to apply, for the test report.
    fixes: list[str]


def read_json_examples(path: Path = TRACKING_LOG) -> list[JsonExample]:
    """Every ``.. code-block:: json`` of the reference, parsed with :func:`tolerant_json`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    examples = []
    index = 0
    while index < len(lines):
        if not re.match(r"^\s*\.\.\s+code-block::\s*json\s*$", lines[index]):
            index += 1
            continue
        start = index + 1
        body = []
        index += 1
        while index < len(lines) and (not lines[index].strip() or lines[index].startswith((" ", "\t"))):
            body.append(lines[index])
            index += 1
        text = "\n".join(body).strip("\n")
        data, fixes = tolerant_json(text)
        examples.append(JsonExample(line=start, source_text=text, data=data, fixes=fixes))
    return examples


def tolerant_json(text: str) -> tuple[Any, list[str]]:
    """Parse the document's almost-JSON examples; return the value and the fixes that were needed.

    The reference's examples were edited by hand, and a few are not strict
    JSON. The fixes, applied in this order and only when plain parsing fails:

    1. a timestamp value missing its opening quote (``"time": 2014-03-03T...00:00"``)
       gets it back;
    2. a line break inside a string (the first sample is wrapped at 100
       columns, mid-string) is removed with the next line's indentation; a
       space is kept unless the break follows ``/`` or ``-`` (where the
       wrapping split a URL or an identifier);
    3. a missing comma between a value ending a line and a ``"key"`` starting
       the next is inserted;
    4. a trailing comma before ``}`` or ``]`` is removed.
    """
    try:
        return json.loads(text), []
    except json.JSONDecodeError:
        pass
    fixes = []
    fixed = re.sub(r'(":\s*)(\d{4}-\d\d-\d\dT[\d:.+\-]+")', r'\1"\2', text)
    if fixed != text:
        fixes.append("quoted an unquoted timestamp")
    joined = _join_wrapped_strings(fixed)
    if joined != fixed:
        fixes.append("joined strings wrapped across lines")
    commas = re.sub(r'(["\d\]}]|\btrue|\bfalse|\bnull)([ \t]*\n\s*")', r"\1,\2", joined)
    if commas != joined:
        fixes.append("inserted missing commas")
    trailing = re.sub(r",(\s*[}\]])", r"\1", commas)
    if trailing != commas:
        fixes.append("removed trailing commas")
    return json.loads(trailing), fixes


def _join_wrapped_strings(text: str) -> str:
    out: list[str] = []
    in_string = escaped = False
    index = 0
    while index < len(text):
        char = text[index]
        if in_string and char == "\n":
            index += 1
            while index < len(text) and text[index] in " \t":
                index += 1
            if out and out[-1] not in "/-":
                out.append(" ")
            continue
        out.append(char)
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = in_string
        elif char == '"':
            in_string = not in_string
        index += 1
    return "".join(out)
