"""Admin pages for the outbox, dead letters and invalid events: read-only.

Staff can list, filter and open rows but not add, edit or delete them: an
outbox batch leaves the table when it is published, dead letters are replayed
with ``manage.py event_hub_deadletters``, and both hold events that would be
lost if a row were deleted by hand.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from event_hub.models import DeadLetter, InvalidEvent, OutboxBatch


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows are shown, never added, changed or deleted (the delete action is gone too)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutboxBatch)
class OutboxBatchAdmin(ReadOnlyAdmin):
    list_display = ("id", "backend", "event_count", "attempts", "next_attempt_at", "created_at")
    list_filter = ("backend",)


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyAdmin):
    list_display = ("id", "backend", "reason", "event_count", "attempts", "created_at", "replayed_at")
    list_filter = ("backend", "reason")


@admin.register(InvalidEvent)
class InvalidEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "name", "event_source", "user_id", "created_at")
    list_filter = ("event_source",)
    search_fields = ("name",)
