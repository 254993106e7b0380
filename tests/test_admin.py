"""Tests of the admin pages of the outbox, dead letters and invalid events: read-only fields, real actions."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.db import models
from django.test import Client
from django.urls import reverse

from event_hub.backends import memory
from event_hub.models import DeadLetter, InvalidEvent, OutboxBatch
from tests.support_backends import wire_line

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


def changelist(model: type[models.Model]) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def act(client: Client, model: type[models.Model], action: str, rows: list[models.Model]) -> Any:
    return client.post(
        changelist(model),
        {"action": action, "_selected_action": [str(row.pk) for row in rows], "index": 0},
        follow=True,
    )


def letter_with_events(backend: str = "memory") -> DeadLetter:
    return DeadLetter.objects.create(
        batch_id=uuid.uuid4(),
        backend=backend,
        payload=b"\n".join([wire_line("a1"), wire_line("a2")]).decode(),
        event_count=2,
        reason="permanent",
        error="refused",
    )


class TestActions:
    """The list actions really replay, send on and discard rows."""

    def test_replay_dead_letters(self, admin_client_: Client, memory_hub: Any) -> None:
        """Replaying delivers the events to the backend and marks the letter replayed."""
        letter = letter_with_events()
        response = act(admin_client_, DeadLetter, "replay", [letter])
        assert "Replayed 1, failed 0" in response.content.decode()
        letter.refresh_from_db()
        assert letter.replayed_at is not None
        assert [event["id"] for event in memory.events("memory")] == ["a1", "a2"]

    def test_failed_replay_keeps_the_letter(self, admin_client_: Client, memory_hub: Any) -> None:
        """A letter whose backend is not configured stays, with the replay error, and the page says so."""
        letter = letter_with_events(backend="gone")
        response = act(admin_client_, DeadLetter, "replay", [letter])
        assert "Replayed 0, failed 1" in response.content.decode()
        letter.refresh_from_db()
        assert letter.replayed_at is None
        assert "not configured" in letter.last_replay_error

    def test_send_outbox_batch_now(self, admin_client_: Client, memory_hub: Any) -> None:
        """Sending an outbox batch on delivers it (sync mode) and removes the row."""
        row = OutboxBatch.objects.create(backend="memory", payload=wire_line("o1").decode(), event_count=1)
        response = act(admin_client_, OutboxBatch, "send_now", [row])
        assert "Outbox: delivered 1." in response.content.decode()
        assert not OutboxBatch.objects.exists()
        assert [event["id"] for event in memory.events("memory")] == ["o1"]

    @pytest.mark.parametrize("make", ROWS)
    def test_discard(self, admin_client_: Client, make: Any, caplog: pytest.LogCaptureFixture) -> None:
        """Discarding deletes the selected rows only, after logging each payload."""
        row, other = make(), make()
        act(admin_client_, type(row), "discard", [row])
        assert list(type(row).objects.values_list("pk", flat=True)) == [other.pk]
        assert any(
            "discarded" in r.getMessage() and "admin user 'root'" in r.getMessage() for r in caplog.records
        )

    def test_staff_without_permissions_cannot_act(self, memory_hub: Any) -> None:
        """A staff user who may only view gets no actions, and posting one changes nothing."""
        user = User.objects.create_user("viewer", "viewer@example.invalid", "pw", is_staff=True)
        user.user_permissions.add(Permission.objects.get(codename="view_deadletter"))
        client = Client()
        client.force_login(user)
        letter = letter_with_events()
        assert 'value="replay"' not in client.get(changelist(DeadLetter)).content.decode()
        act(client, DeadLetter, "replay", [letter])
        act(client, DeadLetter, "discard", [letter])
        letter.refresh_from_db()
        assert letter.replayed_at is None
        assert memory.events("memory") == []
