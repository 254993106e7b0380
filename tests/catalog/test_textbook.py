"""Textbook interaction events: ``book`` and the ``textbook.pdf.*`` PDF viewer events."""

from __future__ import annotations

import pytest

import event_hub.catalog.textbook  # noqa: F401
from event_hub.catalog import registry
from event_hub.exceptions import InvalidEventError

PDF = "/c4x/edX/DemoX/asset/book.pdf"


class TestTextbookEvents:
    def test_pdf_book_event_is_valid(self):
        """A PDF viewer ``book`` event with ``chapter`` and ``name`` validates unchanged."""
        data = {"chapter": PDF, "name": "textbook.pdf.page.loaded", "new": 5, "old": 2, "type": "gotopage"}
        validated = registry.validate("book", "browser", data)
        assert validated.data is data
        assert validated.spec.domain == "textbook"

    def test_png_book_event_needs_only_new_and_type(self):
        """A PNG viewer ``book`` event without ``chapter``, ``name`` or ``old`` validates."""
        data = {"new": 4, "type": "nextpage"}
        assert registry.validate("book", "browser", data).data is data

    def test_book_type_outside_the_set_names_the_field(self):
        """A ``type`` other than gotopage/prevpage/nextpage is reported under ``type``."""
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("book", "browser", {"new": 4, "type": "lastpage"})
        assert list(excinfo.value.errors) == ["type"]

    @pytest.mark.parametrize(
        ("name", "data"),
        [
            ("textbook.pdf.thumbnails.toggled", {"page": 3}),
            ("textbook.pdf.thumbnail.navigated", {"page": 2, "thumbnail_title": "Page 2"}),
            ("textbook.pdf.outline.toggled", {"page": 3}),
            ("textbook.pdf.chapter.navigated", {"chapter_title": "Chapter 2"}),
            ("textbook.pdf.page.navigated", {"page": 7}),
            ("textbook.pdf.zoom.buttons.changed", {"direction": "in", "page": 3}),
            ("textbook.pdf.zoom.menu.changed", {"amount": "page_fit", "page": 3}),
            ("textbook.pdf.display.scaled", {"amount": "1.25", "page": 3}),
            ("textbook.pdf.display.scrolled", {"direction": "down", "page": 4}),
        ],
    )
    def test_pdf_viewer_events_are_valid(self, name, data):
        """Each PDF viewer event accepts its documented members, ``name`` repeating the event name."""
        payload = {"chapter": PDF, "name": name, **data}
        assert registry.validate(name, "browser", payload).data is payload

    @pytest.mark.parametrize(
        "name",
        [
            "textbook.pdf.search.executed",
            "textbook.pdf.search.highlight.toggled",
            "textbook.pdf.search.casesensitivity.toggled",
        ],
    )
    def test_search_events_are_valid(self, name):
        """The search events accept the two option flags, query and status."""
        data = {
            "caseSensitive": False,
            "chapter": PDF,
            "highlightAll": True,
            "name": name,
            "page": 3,
            "query": "entropy",
            "status": "",
        }
        assert registry.validate(name, "browser", data).data is data

    def test_search_flags_must_be_booleans(self):
        """A quoted 'true' flag and a missing ``findprevious`` are reported by path."""
        data = {
            "caseSensitive": "true",
            "chapter": PDF,
            "highlightAll": False,
            "name": "textbook.pdf.search.navigatednext",
            "page": 3,
            "query": "x",
            "status": "",
        }
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("textbook.pdf.search.navigatednext", "browser", data)
        assert excinfo.value.errors.keys() == {"caseSensitive", "findprevious"}
        assert excinfo.value.errors["findprevious"] == ["this field is required"]

    def test_scroll_direction_is_up_or_down(self):
        """Zoom directions are not valid scroll directions."""
        data = {"chapter": PDF, "direction": "in", "name": "textbook.pdf.display.scrolled", "page": 4}
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("textbook.pdf.display.scrolled", "browser", data)
        assert list(excinfo.value.errors) == ["direction"]
