"""The catalog covers the specification documents, read straight from the documents.

Every event name, mobile name, event source, ``event`` member field (and its
documented type) and extra ``context`` member of ``tracking-log-events.rst``
must be in the registry, as must the Segment events and properties of
``segment-events-edx-enterprise.rst`` and the client event of
``event-tracking-design.md``; and the registry holds no name none of them
documents, except the additions :mod:`tests.catalog.provenance` lists with
their source (the current Open edX reference or the emitting code). Failures
list everything missing at once.
"""

from __future__ import annotations

from typing import Any, get_args, get_origin

import attrs
import pytest

from event_hub.catalog import NoFields, RawString, registry
from event_hub.catalog.base import EventType, field_json_name
from event_hub.catalog.schema import json_kinds
from tests.catalog import provenance, reference
from tests.catalog.reference import DOCUMENTED_TYPES, field_names

#: The parser must find at least this many names in the tracking-log reference, or it is broken.
MIN_TRACKING_LOG_NAMES = 130

#: Members the catalog types for an event although that event's own list leaves them out, and why.
UNLISTED_BUT_DOCUMENTED = {
    ("edx.forum.response.created", "category_id"): "the thread table says it is also present on responses",
    ("edx.forum.response.created", "category_name"): "the thread table says it is also present on responses",
    ("edx.forum.comment.created", "category_id"): "the thread table says it is also present on comments",
    ("edx.forum.comment.created", "category_name"): "the thread table says it is also present on comments",
}


@pytest.fixture(name="tracking_log", scope="module")
def fixture_tracking_log() -> reference.TrackingLogReference:
    return reference.read_tracking_log()


@pytest.fixture(name="segment", scope="module")
def fixture_segment() -> reference.SegmentReference:
    return reference.read_segment()


def specs_for(name: str, sources: set[str]) -> list[EventType]:
    """The entries a documented section speaks about: one per documented source, else all of the name."""
    if sources:
        return [spec for source in sorted(sources) if (spec := registry.lookup(name, source)) is not None]
    return registry.entries_for(name)


def member_names(payload: Any) -> set[str]:
    return {field_json_name(a) for a in attrs.fields(payload)} if attrs.has(payload) else set()


def member_type(payload: Any, name: str) -> Any:
    return next(a.type for a in attrs.fields(payload) if field_json_name(a) == name)


class TestTrackingLogNames:
    def test_the_parser_finds_the_documented_events(self, tracking_log):
        """The document yields at least 130 names (a broken parser cannot pass silently)."""
        names = tracking_log.names
        mobile = sum(1 for value in names.values() if value)
        print(f"\ntracking-log-events.rst: {len(names)} event names (+{mobile} mobile names), "
              f"{sum(len(s.fields) for s in tracking_log.sections)} documented event member entries")
        assert len(names) >= MIN_TRACKING_LOG_NAMES

    def test_every_documented_name_is_registered(self, tracking_log):
        """Each event name the reference documents (mobile names included) is in the registry."""
        missing = sorted(name for name in tracking_log.all_names if name not in registry)
        assert not missing, f"names the reference documents but the catalog lacks: {missing}"

    def test_mobile_names_pair_with_their_legacy_names(self, tracking_log):
        """``play_video``/``edx.video.played`` means the mobile entry of ``play_video`` carries that name."""
        wrong = []
        for name, mobile in tracking_log.names.items():
            spec = registry.lookup(name, "mobile") if mobile else None
            if mobile and (spec is None or spec.name != name or spec.mobile_name != mobile):
                wrong.append((name, mobile))
            if not mobile and any(entry.mobile_name for entry in registry.entries_for(name)):
                wrong.append((name, None))
        assert not wrong

    def test_documented_sources_are_allowed(self, tracking_log):
        """Each ``**Event Source**`` the reference gives an event is a source the registry accepts for it."""
        refused = [
            (name, source, section.line)
            for section in tracking_log.sections
            for name, _ in section.names
            for source in section.sources
            if registry.lookup(name, source) is None
        ]
        assert not refused


class TestTrackingLogFields:
    def test_every_documented_member_is_accepted(self, tracking_log):
        """Each top-level ``event`` member field of each event is a member of that event's payload."""
        missing = []
        checked = 0
        for section in tracking_log.field_sections():
            for name, _ in section.names:
                for spec in specs_for(name, section.sources):
                    for documented in section.fields:
                        checked += 1
                        if documented.startswith("["):
                            if not _is_fixed_array(spec.payload, len(field_names(documented))):
                                missing.append((name, documented, spec.payload))
                        elif field_names(documented)[0] not in member_names(spec.payload):
                            missing.append((name, documented, spec.key))
        print(f"\n{checked} (event entry, documented member) pairs checked")
        assert not missing, f"documented members the catalog does not accept: {missing}"

    def test_documented_types_are_accepted(self, tracking_log):
        """A member's documented Type (string, integer, Boolean, dictionary...) is one its type accepts."""
        wrong = []
        for section in tracking_log.field_sections():
            for name, _ in section.names:
                for spec in specs_for(name, section.sources):
                    for documented, type_text in section.fields.items():
                        kind = DOCUMENTED_TYPES.get(type_text.lower())
                        if kind is None or documented.startswith("["):
                            continue
                        tp = member_type(spec.payload, field_names(documented)[0])
                        if kind not in json_kinds(tp):
                            wrong.append((name, documented, type_text, tp))
        assert not wrong

    def test_events_without_members_use_no_fields(self, tracking_log):
        """"``event`` Member Fields: None" (and the common-fields-only course team list) means NoFields."""
        wrong = [
            (name, spec.payload)
            for section in tracking_log.sections
            if section.no_fields
            for name, _ in section.names
            for spec in specs_for(name, section.sources)
            if spec.payload is not NoFields and name not in provenance.VALUE_WHERE_DOCUMENT_SAYS_NONE
        ]
        assert not wrong

    def test_events_sending_a_value_the_document_omits_are_raw_strings(self, tracking_log):
        """``problem_save`` is documented without members but capa's script logs its inputs: a RawString."""
        documented_none = {name for s in tracking_log.sections if s.no_fields for name, _ in s.names}
        for name in provenance.VALUE_WHERE_DOCUMENT_SAYS_NONE:
            assert name in documented_none, name
            assert registry.lookup(name, "browser").payload is RawString

    def test_browser_problem_check_is_a_raw_string(self, tracking_log):
        """The one event whose members are described in prose ("styled as GET parameters") is a RawString."""
        prose = [s for s in tracking_log.sections if s.fields_prose]
        assert [(s.names, s.sources) for s in prose] == [([("problem_check", None)], {"browser"})]
        assert "GET parameters" in prose[0].fields_prose
        assert registry.lookup("problem_check", "browser").payload is RawString

    def test_catalog_members_are_documented(self, tracking_log):
        """No payload invents a member: each is listed for its event, or in UNLISTED_BUT_DOCUMENTED."""
        documented: dict[str, set[str]] = {}
        for section in tracking_log.field_sections():
            for name, _ in section.names:
                members = documented.setdefault(name, set())
                for entry in section.fields:
                    members.update(field_names(entry))
        invented = [
            (name, member)
            for name, members in documented.items()
            for spec in registry.entries_for(name)
            for member in sorted(member_names(spec.payload) - members)
            if (name, member) not in UNLISTED_BUT_DOCUMENTED
            and (name, member) not in provenance.MEMBERS_BEYOND_DOCUMENTS
        ]
        assert not invented

    def test_members_beyond_the_document_are_registered(self):
        """Each (event, member) the provenance list vouches for is a member of that event's payload."""
        missing = [
            key for key in provenance.MEMBERS_BEYOND_DOCUMENTS
            if not any(key[1] in member_names(spec.payload) for spec in registry.entries_for(key[0]))
        ]
        assert not missing

    def test_documented_context_members_are_typed(self, tracking_log):
        """Extra ``context`` member tables (upgrade ``mode``, mobile video) match the context class."""
        missing = []
        for section in tracking_log.sections:
            if not section.context_fields:
                continue
            for name, _ in section.names:
                for spec in specs_for(name, section.sources):
                    members = member_names(spec.context) if spec.context else set()
                    for member, type_text in section.context_fields.items():
                        if member not in members:
                            missing.append((name, member))
                        elif DOCUMENTED_TYPES.get(type_text.lower()) not in json_kinds(
                            member_type(spec.context, member)
                        ):
                            missing.append((name, member, type_text))
        assert not missing

    def test_mobile_video_events_share_the_mobile_context(self, tracking_log):
        """Every event with a mobile name declares the extra context the play_video table documents."""
        play = registry.lookup("play_video", "mobile")
        for name, mobile in tracking_log.names.items():
            if mobile:
                assert registry.lookup(mobile, "mobile").context is play.context, name


class TestSegmentEvents:
    def test_every_segment_event_is_registered(self, segment):
        """The five edx-enterprise Segment events are registered for the server, in the segment audience."""
        print(f"\nsegment-events-edx-enterprise.rst: {len(segment.events)} event names, "
              f"{sum(len(segment.properties(name)) for name in segment.events)} properties")
        assert len(segment.events) == 5
        for name in segment.events:
            spec = registry.lookup(name, "server")
            assert spec is not None, name
            assert spec.audience == "segment"

    def test_every_property_is_a_member(self, segment):
        """Each documented property (inherited ones too) is a member of the event's payload."""
        missing = [
            (name, prop)
            for name in segment.events
            for prop in segment.properties(name)
            if prop not in member_names(registry.lookup(name, "server").payload)
        ]
        assert not missing

    def test_no_member_is_invented(self, segment):
        """Payload members are exactly the documented properties, plus those the provenance list sources."""
        for name in segment.events:
            members = member_names(registry.lookup(name, "server").payload)
            extra = {prop for (event, prop) in provenance.SEGMENT_PROPERTIES_BEYOND_DOCUMENT if event == name}
            assert members == set(segment.properties(name)) | extra, name

    def test_pathway_values_are_the_documented_seven(self, segment):
        """``pathway`` accepts exactly the seven documented values."""
        assert len(segment.values["pathway"]) == 7
        spec = registry.lookup("edx.bi.user.enterprise.onboarding", "server")
        tp = member_type(spec.payload, "pathway")
        assert set(get_args(tp)) == set(segment.values["pathway"])


class TestDesignNoteEvents:
    def test_client_events_are_registered_with_their_members(self):
        """The design note's ``video`` POST body: its ``event_data`` members are the payload's members."""
        events = reference.read_design_client_events()
        assert events == {"video": ["video_id", "video_event_type"]}
        for name, members in events.items():
            for source in ("browser", "mobile"):
                spec = registry.lookup(name, source)
                assert spec is not None
                assert spec.audience == "client"
                assert member_names(spec.payload) == set(members)


class TestDocuments:
    def test_documents_found(self) -> None:
        """The specification documents are reachable, so the reference tests are not silently empty."""
        assert reference.available(), f"documents not found in {reference.SPEC_DIR}"


class TestNothingInvented:
    def test_every_registered_name_is_documented(self, tracking_log, segment):
        """Each name in the registry comes from one of the three documents."""
        documented = (
            tracking_log.all_names | set(segment.events) | set(reference.read_design_client_events())
        )
        invented = sorted(set(registry.names()) - documented - set(provenance.NAMES_BEYOND_DOCUMENTS))
        print(f"\nregistry: {len(registry.names())} names, {len(registry)} entries; "
              f"documented: {len(documented)}; sourced beyond the documents: "
              f"{len(provenance.NAMES_BEYOND_DOCUMENTS)}")
        assert not invented

    def test_names_beyond_the_documents_are_registered_and_not_documented(self, tracking_log, segment):
        """Each name the provenance list sources is registered and really missing from the documents."""
        documented = tracking_log.all_names | set(segment.events)
        for name, source in provenance.NAMES_BEYOND_DOCUMENTS.items():
            assert name in registry, name
            assert name not in documented, name
            assert source, name


def _is_fixed_array(payload: Any, size: int) -> bool:
    args = get_args(payload)
    return get_origin(payload) is tuple and len(args) == size and Ellipsis not in args
