"""Segment events emitted by edx-enterprise."""

from __future__ import annotations

import pytest

import event_hub.catalog.segment_enterprise  # noqa: F401
from event_hub.catalog import registry
from event_hub.exceptions import InvalidEventError

CONSENT_EVENTS = [
    "edx.bi.user.consent_form.shown",
    "edx.bi.user.consent_form.accepted",
    "edx.bi.user.consent_form.denied",
]


def onboarding(**overrides):
    data = {"pathway": "rest-api-enrollment", "course_run_id": "course-v1:edX+X+1", "url_path": None}
    data.update(overrides)
    return data


class TestEnterpriseOnboarding:
    def test_valid_payload_with_null_url_path(self):
        """An onboarding event with a null ``url_path`` validates and is returned unchanged."""
        data = onboarding()
        validated = registry.validate("edx.bi.user.enterprise.onboarding", "server", data)
        assert validated.data is data
        assert validated.spec.audience == "segment"

    def test_pathway_outside_the_seven_values_is_rejected(self):
        """A ``pathway`` that is not one of the documented values is reported under ``pathway``."""
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("edx.bi.user.enterprise.onboarding", "server", onboarding(pathway="magic"))
        assert list(excinfo.value.errors) == ["pathway"]

    def test_missing_url_path_is_rejected(self):
        """``url_path`` may be null but must be present."""
        data = onboarding()
        del data["url_path"]
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("edx.bi.user.enterprise.onboarding", "server", data)
        assert excinfo.value.errors == {"url_path": ["this field is required"]}


class TestEnterpriseCourseEnrollment:
    def test_wrong_type_names_the_field(self):
        """A non-string ``mode`` is reported under ``mode``."""
        data = {
            "label": "course-v1:edX+X+1",
            "enterprise_customer_uuid": "0f4e",
            "enterprise_customer_name": "Acme",
            "mode": 1,
        }
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("edx.bi.user.enterprise.enrollment.course", "server", data)
        assert list(excinfo.value.errors) == ["mode"]


class TestConsentForm:
    def test_consent_events_share_one_properties_class(self):
        """The shown, accepted and denied consent events are registered on the same payload class."""
        payloads = {registry.lookup(name, "server").payload for name in CONSENT_EVENTS}
        assert len(payloads) == 1

    @pytest.mark.parametrize("name", CONSENT_EVENTS)
    def test_camel_case_properties_validate(self, name):
        """The camelCase properties validate as spelled, with ``programId`` optional."""
        data = {
            "deferCreation": False,
            "successUrl": "/ok",
            "failureUrl": "/no",
            "courseId": "course-v1:edX+X+1",
        }
        assert registry.validate(name, "server", data).data == data

    def test_defer_creation_must_be_boolean(self):
        """A ``deferCreation`` neither boolean nor 'true'/'false' is reported under ``deferCreation``."""
        data = {"deferCreation": "yes", "successUrl": "/ok", "failureUrl": "/no", "programId": None}
        with pytest.raises(InvalidEventError) as excinfo:
            registry.validate("edx.bi.user.consent_form.shown", "server", data)
        assert list(excinfo.value.errors) == ["deferCreation"]
