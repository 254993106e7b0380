"""Tests of the admin pages of the outbox, dead letters and invalid events: read-only."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import models
from django.test import Client
from django.urls import reverse

from event_hub.models import DeadLetter, InvalidEvent, OutboxBatch

pytestmark = pytest.mark.django_db


def outbox_row() -> models.Model:
    return OutboxBatch.objects.create(backend="log", payload='{"id": "1"}\n', event_count=1)


def dead_letter_row() -> models.Model:
    return DeadLetter.objects.create(
        batch_id=uuid.uuid4(),
        backend="log",
        payload='{"id": "1"}\n',
        event_count=1,
        reason="permanent",
        error="refused",
    )


def invalid_event_row() -> models.Model:
    return InvalidEvent.objects.create(
        name="edx.video.played",
        event_source="browser",
        payload={"event": {}},
        errors={"event.id": ["required"]},
    )


ROWS = [outbox_row, dead_letter_row, invalid_event_row]


@pytest.fixture(name="admin_client_")
def fixture_admin_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.invalid", "pw"))
    return client


def url(row: models.Model, view: str) -> str:
    meta = row._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=(row.pk,))


@pytest.mark.parametrize("make", ROWS)
class TestReadOnlyAdmin:
    """Even a superuser can list and open rows, never add, edit or delete them."""

    def test_rows_can_be_listed_and_viewed(self, admin_client_: Client, make: Any) -> None:
        """The list and each row's page answer 200, the row page without a save button."""
        row = make()
        meta = row._meta
        listing = admin_client_.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        assert listing.status_code == 200
        assert str(row.pk) in listing.content.decode()
        page = admin_client_.get(url(row, "change"))
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()

    def test_no_add_page(self, admin_client_: Client, make: Any) -> None:
        """The add page is forbidden, and posting to it creates nothing."""
        row = make()
        meta = row._meta
        add = reverse(f"admin:{meta.app_label}_{meta.model_name}_add")
        assert admin_client_.get(add).status_code == 403
        assert admin_client_.post(add, {"backend": "other", "name": "x"}).status_code == 403
        assert type(row).objects.count() == 1

    def test_rows_cannot_be_edited(self, admin_client_: Client, make: Any) -> None:
        """Posting the change form is forbidden and leaves the row as it was."""
        row = make()
        before = {f.name: getattr(row, f.name) for f in row._meta.fields}
        response = admin_client_.post(
            url(row, "change"), {"backend": "other", "name": "other", "attempts": 9}
        )
        assert response.status_code == 403
        row.refresh_from_db()
        assert {f.name: getattr(row, f.name) for f in row._meta.fields} == before

    def test_rows_cannot_be_deleted(self, admin_client_: Client, make: Any) -> None:
        """The delete page and the bulk delete action are refused; the row stays."""
        row = make()
        meta = row._meta
        assert admin_client_.get(url(row, "delete")).status_code == 403
        assert admin_client_.post(url(row, "delete"), {"post": "yes"}).status_code == 403
        admin_client_.post(
            reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"),
            {"action": "delete_selected", "_selected_action": [str(row.pk)], "post": "yes"},
        )
        assert type(row).objects.filter(pk=row.pk).exists()
