"""Corrections made to match the shapes Open edX code really emits (each test names its source)."""

from __future__ import annotations

import copy

import pytest

from event_hub.catalog import registry
from event_hub.exceptions import InvalidEventError
from tests.catalog.samples import SAMPLE_EVENT

_P2 = "i4x-edx-AN101-problem-a0effb954cca4759994f1ac9e9434bf4_2_1"
_SEQ = "block-v1:edX+DemoX+Demo_Course+type@sequential+block@basic_questions"
_VIDEO_ID = "block-v1:edX+DemoX+Demo_Course+type@video+block@0b9e39477cf34507a7a48f74be381fdd"


@pytest.fixture(name="sample")
def fixture_sample():
    return copy.deepcopy(SAMPLE_EVENT)


class TestCapaShapes:
    def test_correct_map_entry_carries_answervariable(self, sample):
        """openedx/edx-platform xmodule/capa/correctmap.py writes ``answervariable`` into every entry."""
        sample["correct_map"][_P2]["answervariable"] = None
        assert registry.validate("problem_check", "server", sample).data is sample
        sample["correct_map"][_P2]["answervariable"] = "$x"
        registry.validate("problem_check", "server", sample)
        sample["correct_map"][_P2]["answervariable"] = 3
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("problem_check", "server", sample)
        assert list(excinfo.value.errors) == [f"correct_map[{_P2!r}].answervariable"]

    def test_partial_credit_gives_fractional_points(self, sample):
        """Partial credit (correctmap.py's 'partially-correct') awards fractional ``npoints`` such as 0.5."""
        sample["correct_map"][_P2].update(correctness="partially-correct", npoints=0.5)
        assert registry.validate("problem_check", "server", sample).data is sample
        sample["correct_map"][_P2]["correctness"] = "half-right"
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("problem_check", "server", sample)
        assert list(excinfo.value.errors) == [f"correct_map[{_P2!r}].correctness"]

    @pytest.mark.parametrize("name", ["showanswer", "show_answer"])
    def test_showanswer_is_the_emitted_name(self, name):
        """openedx/edx-platform xmodule/capa_block.py ``get_answer`` publishes ``showanswer`` (problem_id)."""
        data = {"problem_id": "block-v1:edX+DemoX+Demo_Course+type@problem+block@d1b84dcd39b0423d9e288f27"}
        assert registry.validate(name, "server", data).data is data
        legacy, current = registry.lookup("showanswer", "server"), registry.lookup("show_answer", "server")
        assert legacy.payload is current.payload
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate(name, "server", {})
        assert list(excinfo.value.errors) == ["problem_id"]


class TestSequenceShapes:
    @pytest.mark.parametrize("name", ["seq_goto", "seq_next", "seq_prev"])
    def test_id_is_the_sequence_usage_key(self, name):
        """The sequence block's script logs ``id`` as the sequence's usage key string
        (openedx/edx-platform xmodule/js/src/sequence/display.js, seq_block.py passes the key)."""
        data = {"old": 1, "new": 2, "id": _SEQ}
        assert registry.validate(name, "browser", data).data is data
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate(name, "browser", {"old": 1, "new": 2, "id": [_SEQ]})
        assert list(excinfo.value.errors) == ["id"]


#: Members openedx/edx-platform xmodule/js/src/video/09_events_plugin.js merges into every video event.
_PLAYER = {"id": _VIDEO_ID, "code": "html5", "duration": 195.3}


class TestVideoPlayerShapes:
    @pytest.mark.parametrize("name", ["show_transcript", "hide_transcript"])
    def test_transcript_events_carry_current_time(self, name):
        """09_events_plugin.js logs show/hide_transcript with ``current_time`` (a float position)."""
        data = {**_PLAYER, "current_time": 12.48}
        assert registry.validate(name, "browser", data).data is data
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate(name, "browser", {**_PLAYER, "current_time": "12.48"})
        assert list(excinfo.value.errors) == ["current_time"]

    def test_seek_positions_are_numbers(self):
        """09_events_plugin.js ``onSeek`` passes the player's positions as they are (fractions included)."""
        data = {**_PLAYER, "old_time": 10.376, "new_time": 42, "type": "onSlideSeek"}
        assert registry.validate("seek_video", "browser", data).data is data
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("seek_video", "browser", dict(data, new_time="42"))
        assert list(excinfo.value.errors) == ["new_time"]

    def test_speed_change_carries_id_code_and_string_speeds(self):
        """09_events_plugin.js ``onSpeedChange`` logs ``speedToString`` values ('1.50') plus id and code."""
        data = {**_PLAYER, "current_time": 33.1, "old_speed": "1.0", "new_speed": "1.50"}
        assert registry.validate("speed_change_video", "browser", data).data is data
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("speed_change_video", "browser", dict(data, id=7))
        assert list(excinfo.value.errors) == ["id"]

    @pytest.mark.parametrize(
        ("name", "extra"),
        [
            ("play_video", {"currentTime": 3.2}),
            ("pause_video", {"currentTime": 3.2}),
            ("stop_video", {"currentTime": 195.3}),
            ("complete_video", {"currentTime": 190.0}),
            ("load_video", {}),
            ("edx.video.closed_captions.shown", {"current_time": 4.0}),
            ("edx.video.closed_captions.hidden", {"current_time": 4.0}),
            ("edx.video.language_menu.shown", {}),
            ("edx.video.language_menu.hidden", {"language": "fr"}),
            ("auto_advance_change_video", {"enabled": True}),
        ],
    )
    def test_every_player_event_accepts_id_code_and_duration(self, name, extra):
        """Each event 09_events_plugin.js logs validates with the members its ``log`` function merges in."""
        data = {**_PLAYER, **extra}
        assert registry.validate(name, "browser", data).data is data
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate(name, "browser", dict(data, duration="long"))
        assert list(excinfo.value.errors) == ["duration"]


class TestPdfTextbookNames:
    def test_page_scrolled_is_the_current_name(self):
        """The current Open edX reference (docs.openedx.org, Textbook Interaction Events) names
        ``textbook.pdf.page.scrolled`` with chapter, direction, name and page."""
        data = {"chapter": "/c4x/edX/DemoX/asset/book.pdf", "direction": "down",
                "name": "textbook.pdf.page.scrolled", "page": 4}
        assert registry.validate("textbook.pdf.page.scrolled", "browser", data).data is data
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("textbook.pdf.page.scrolled", "browser", dict(data, direction="sideways"))
        assert list(excinfo.value.errors) == ["direction"]

    def test_searchcasesensitivity_is_the_current_spelling(self):
        """docs.openedx.org spells the Match Case event ``textbook.pdf.searchcasesensitivity.toggled``."""
        data = {"caseSensitive": True, "chapter": "/c4x/edX/DemoX/asset/book.pdf", "highlightAll": False,
                "name": "textbook.pdf.searchcasesensitivity.toggled", "page": 2, "query": "entropy",
                "status": ""}
        assert registry.validate("textbook.pdf.searchcasesensitivity.toggled", "browser", data).data is data
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("textbook.pdf.searchcasesensitivity.toggled", "browser",
                              dict(data, caseSensitive="true"))
        assert list(excinfo.value.errors) == ["caseSensitive"]


class TestConsentFormShape:
    def test_consent_form_as_the_page_sends_it(self):
        """openedx/edx-enterprise grant_data_sharing_permissions.html/.js: ``licenseUuid`` is sent ('null'
        when there is none) and ``deferCreation`` is rendered as the string 'true' or 'false'."""
        data = {"deferCreation": "false", "successUrl": "/courses/course-v1:edX+DemoX+Demo_Course/courseware",
                "failureUrl": "/dashboard", "courseId": "course-v1:edX+DemoX+Demo_Course", "programId": None,
                "licenseUuid": "null"}
        assert registry.validate("edx.bi.user.consent_form.shown", "server", data).data is data
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("edx.bi.user.consent_form.shown", "server", dict(data, licenseUuid=5))
        assert list(excinfo.value.errors) == ["licenseUuid"]
