"""Textbook interaction events (tracking-log "Textbook Interaction Events").

``book`` comes from both the PDF and the PNG textbook viewers; the
``textbook.pdf.*`` events (added 16 Apr 2014) come from the PDF viewer only.
Every ``textbook.pdf.*`` payload repeats the event's own name in ``name``.
"""

from __future__ import annotations

from typing import Literal

from attrs import frozen

from event_hub.catalog.base import BROWSER, optional, required
from event_hub.catalog.registry import event_type

DOMAIN = "textbook"

_CHAPTER = "File name of the PDF the learner is reading."
_NAME = "The event's own name, repeated inside the payload."


@event_type("book", sources=BROWSER, domain=DOMAIN)
@frozen(kw_only=True)
class BookPageChanged:
    """The browser recorded a learner moving to another page in the PDF or PNG textbook viewer.

    The common ``page`` URL contains '/pdfbook/' for PDF textbooks and '/book/'
    for PNG ones. ``chapter`` and ``name`` were added to PDF viewer events on
    16 Apr 2014, so PNG viewer and older events lack them.
    """

    chapter: str = optional("File name of the PDF; PDF viewer events since 16 Apr 2014 only.")
    name: Literal[
        "textbook.pdf.page.loaded",
        "textbook.pdf.page.navigatedprevious",
        "textbook.pdf.page.navigatednext",
    ] = optional(
        "Newer name of the action, matching ``type``: 'textbook.pdf.page.loaded' for 'gotopage', "
        "'textbook.pdf.page.navigatedprevious' for 'prevpage', 'textbook.pdf.page.navigatednext' for "
        "'nextpage'. PDF viewer events since 16 Apr 2014 only."
    )
    new: int = required("Number of the page the learner arrived at.")
    old: int = optional("Number of the page the learner left; sent for 'gotopage' only.")
    type: Literal["gotopage", "prevpage", "nextpage"] = required(
        "What moved the learner: 'gotopage' (a page typed in by number finished loading), 'prevpage' "
        "(previous page button) or 'nextpage' (next page button)."
    )


@event_type(
    "textbook.pdf.thumbnails.toggled",
    "textbook.pdf.outline.toggled",
    "textbook.pdf.page.navigated",
    sources=BROWSER,
    domain=DOMAIN,
)
@frozen
class PdfPageAction:
    """The browser recorded a learner in the PDF viewer showing or hiding the page thumbnails or the chapter
    outline, or typing in a page number to go to.
    """

    chapter: str = required(_CHAPTER)
    name: str = required(_NAME)
    page: int = required(
        "Page open when the learner clicked the thumbnails or outline icon; for "
        "``textbook.pdf.page.navigated``, the page number the learner typed in."
    )


@event_type("textbook.pdf.thumbnail.navigated", sources=BROWSER, domain=DOMAIN)
@frozen
class PdfThumbnailNavigated:
    """The browser recorded a learner in the PDF viewer clicking a page thumbnail to go to that page."""

    chapter: str = required(_CHAPTER)
    name: str = required(_NAME)
    page: int = required("Number of the page whose thumbnail was clicked.")
    thumbnail_title: str = required("Label of the thumbnail's destination, e.g. 'Page 2'.")


@event_type("textbook.pdf.chapter.navigated", sources=BROWSER, domain=DOMAIN)
@frozen
class PdfChapterNavigated:
    """The browser recorded a learner in the PDF viewer clicking a chapter link in the outline."""

    chapter: str = required(_CHAPTER)
    chapter_title: str = required("Label of the outline link the learner followed.")
    name: str = required(_NAME)


@event_type("textbook.pdf.zoom.buttons.changed", sources=BROWSER, domain=DOMAIN)
@frozen
class PdfZoomButtonClicked:
    """The browser recorded a learner in the PDF viewer clicking the Zoom In or Zoom Out button."""

    chapter: str = required(_CHAPTER)
    direction: Literal["in", "out"] = required("Which button was clicked: 'in' or 'out'.")
    name: str = required(_NAME)
    page: int = required("Page open when the button was clicked.")


@event_type("textbook.pdf.zoom.menu.changed", "textbook.pdf.display.scaled", sources=BROWSER, domain=DOMAIN)
@frozen
class PdfMagnificationChanged:
    """The browser recorded a learner in the PDF viewer picking a setting from the zoom menu, or the page
    display changing scale after such a choice or a resize of the browser window.
    """

    amount: str = required(
        "The magnification: for the zoom menu, the setting picked (e.g. '1', '0.75', '1.5', 'custom', "
        "'page_actual', 'auto', 'page_width', 'page_fit'); for the display, the resulting scale "
        "(e.g. '0.95', '1.25')."
    )
    chapter: str = required(_CHAPTER)
    name: str = required(_NAME)
    page: int = required("Page open when the magnification changed.")


@event_type("textbook.pdf.display.scrolled", "textbook.pdf.page.scrolled", sources=BROWSER, domain=DOMAIN)
@frozen
class PdfDisplayScrolled:
    """The browser recorded the page shown in the PDF viewer changing while a learner scrolled.

    ``textbook.pdf.page.scrolled`` is the name the current Open edX reference
    gives this event; both names are registered.
    """

    chapter: str = required(_CHAPTER)
    direction: Literal["up", "down"] = required("Which way the learner scrolled: 'up' or 'down'.")
    name: str = required(_NAME)
    page: int = required("Page open when the scrolling happened.")


@event_type(
    "textbook.pdf.search.executed",
    "textbook.pdf.search.highlight.toggled",
    "textbook.pdf.search.casesensitivity.toggled",
    "textbook.pdf.searchcasesensitivity.toggled",
    sources=BROWSER,
    domain=DOMAIN,
)
@frozen
class PdfSearch:
    """The browser recorded a learner in the PDF viewer running a text search, or switching its Highlight
    All or Match Case option.

    The current Open edX reference spells the Match Case event
    ``textbook.pdf.searchcasesensitivity.toggled``; both spellings are registered.

    A search string is the run of characters typed into the search box with
    no more than 500 ms between keystrokes, so one event is sent per run
    rather than per character.
    """

    caseSensitive: bool = required("True when the Match Case option is on.")
    chapter: str = required(_CHAPTER)
    highlightAll: bool = required("True when the Highlight All option is on.")
    name: str = required(_NAME)
    page: int = required("Page open when the search happened.")
    query: str = required("Text in the search box.")
    status: str = required("A 'not found' message when nothing matched; empty when the search succeeded.")


@event_type("textbook.pdf.search.navigatednext", sources=BROWSER, domain=DOMAIN)
@frozen
class PdfSearchStepped:
    """The browser recorded a learner in the PDF viewer clicking Find Next or Find Previous for a search."""

    caseSensitive: bool = required("True when the Match Case option is on.")
    chapter: str = required(_CHAPTER)
    findprevious: bool = required("True for Find Previous, false for Find Next.")
    highlightAll: bool = required("True when the Highlight All option is on.")
    name: str = required(_NAME)
    page: int = required("Page open when the search happened.")
    query: str = required("Text in the search box.")
    status: str = required("A 'not found' message when nothing matched; empty when the search succeeded.")
