"""Admin pages for the outbox, dead letters and invalid events (read-only views)."""

from __future__ import annotations

from django.contrib import admin

from event_hub.models import DeadLetter, InvalidEvent, OutboxBatch


@admin.register(OutboxBatch)
class OutboxBatchAdmin(admin.ModelAdmin):
    list_display = ("id", "backend", "event_count", "attempts", "next_attempt_at", "created_at")
    list_filter = ("backend",)
    readonly_fields = [f.name for f in OutboxBatch._meta.fields]


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = ("id", "backend", "reason", "event_count", "attempts", "created_at", "replayed_at")
    list_filter = ("backend", "reason")
    readonly_fields = [f.name for f in DeadLetter._meta.fields]


@admin.register(InvalidEvent)
class InvalidEventAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "event_source", "user_id", "created_at")
    list_filter = ("event_source",)
    search_fields = ("name",)
    readonly_fields = [f.name for f in InvalidEvent._meta.fields]
