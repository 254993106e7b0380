"""Certificate events."""

from __future__ import annotations

import pytest

import event_hub.catalog.certificate  # noqa: F401
from event_hub.catalog import registry
from event_hub.exceptions import InvalidEventError

COMMON = {
    "certificate_id": "b5c7e3a9d1f24c6e8a0b2d4f6a8c0e2f",
    "certificate_url": "https://courses.example.com/certificates/b5c7e3a9",
    "course_id": "course-v1:edX+DemoX+Demo_Course",
    "enrollment_mode": "verified",
    "user_id": 42,
}


class TestCertificateEvents:
    def test_created_is_valid(self):
        """A generated certificate validates and is returned unchanged."""
        data = dict(COMMON, generation_mode="batch")
        assert registry.validate("edx.certificate.created", "server", data).data is data

    def test_created_generation_mode_is_closed(self):
        """``generation_mode`` only takes 'batch' or 'self'."""
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("edx.certificate.created", "server", dict(COMMON, generation_mode="auto"))
        assert list(excinfo.value.errors) == ["generation_mode"]

    @pytest.mark.parametrize("source", ["browser", "server"])
    def test_shared_is_valid(self, source):
        """A share validates from either source the document names."""
        data = dict(COMMON, social_network="LinkedIn")
        assert registry.validate("edx.certificate.shared", source, data).data is data

    def test_evidence_visited_needs_source_url(self):
        """Leaving out ``source_url`` is reported under ``source_url``."""
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("edx.certificate.evidence_visited", "browser", dict(COMMON, social_network="x"))
        assert excinfo.value.errors == {"source_url": ["this field is required"]}

    def test_user_id_must_be_an_integer(self):
        """A string ``user_id`` is reported under ``user_id``."""
        data = dict(COMMON, user_id="42", social_network="Twitter", source_url="https://t.co/x")
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("edx.certificate.evidence_visited", "server", data)
        assert list(excinfo.value.errors) == ["user_id"]
