"""Admin pages for the outbox, dead letters and invalid events: look, filter, and act.

Rows are never added or edited by hand (the fields are read-only, there is no add page and no
bulk delete): an outbox batch leaves the table when it is published and a dead letter when it
is replayed. What an operator may do are the actions of each list:

* dead letters: *replay* (deliver again in this process, as ``manage.py event_hub_deadletters
  replay`` does) and *discard*;
* outbox batches: *send now* and *discard*;
* invalid events: *discard*.

Replaying or sending needs the model's ``change`` permission, discarding its ``delete``
permission (superusers have both). Discarding logs each row's payload at WARNING level first.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from event_hub import recovery
from event_hub.models import DeadLetter, DeliveryProgress, InvalidEvent, OutboxBatch


class OperatorAdmin(admin.ModelAdmin):
    """Rows are shown, never added or edited; the only writes are the list's actions."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _has_model_perm(self, request: HttpRequest, action: str) -> bool:
        meta = self.model._meta
        return bool(request.user.has_perm(f"{meta.app_label}.{action}_{meta.model_name}"))

    def has_operate_permission(self, request: HttpRequest) -> bool:
        """Replay or send rows on (the model's ``change`` permission)."""
        return self._has_model_perm(request, "change")

    def has_discard_permission(self, request: HttpRequest) -> bool:
        """Discard rows (the model's ``delete`` permission)."""
        return self._has_model_perm(request, "delete")

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(
        description="Discard the selected rows (their payload is logged first)", permissions=["discard"]
    )
    def discard(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        count = recovery.discard(queryset, who=f"admin user {request.user.get_username()!r}")
        self.message_user(request, f"{count} row(s) discarded.", messages.WARNING)


@admin.register(OutboxBatch)
class OutboxBatchAdmin(OperatorAdmin):
    list_display = ("id", "backend", "event_count", "attempts", "next_attempt_at", "created_at")
    list_filter = ("backend", "next_attempt_at", "created_at")
    date_hierarchy = "created_at"
    actions = ("send_now", "discard")

    @admin.action(description="Send the selected batches on now", permissions=["operate"])
    def send_now(self, request: HttpRequest, queryset: QuerySet[OutboxBatch]) -> None:
        outcomes: dict[str, int] = {}
        for row in queryset:
            kind = recovery.send_outbox_batch(row)
            outcomes[kind] = outcomes.get(kind, 0) + 1
        summary = ", ".join(f"{kind} {count}" for kind, count in sorted(outcomes.items()))
        failed = outcomes.get("failed", 0) + outcomes.get("retried", 0)
        self.message_user(request, f"Outbox: {summary}.", messages.ERROR if failed else messages.SUCCESS)


class ReplayedFilter(admin.SimpleListFilter):
    title = "replayed"
    parameter_name = "replayed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "not replayed"), ("yes", "replayed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("no", "yes"):
            return queryset.filter(replayed_at__isnull=self.value() == "no")
        return queryset


@admin.register(DeadLetter)
class DeadLetterAdmin(OperatorAdmin):
    list_display = ("id", "backend", "reason", "event_count", "attempts", "created_at", "replayed_at")
    list_filter = (ReplayedFilter, "backend", "reason", "created_at")
    search_fields = ("batch_id", "error")
    date_hierarchy = "created_at"
    actions = ("replay", "discard")

    @admin.action(
        description="Replay the selected dead letters (deliver them again now)", permissions=["operate"]
    )
    def replay(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        replayed, failed, skipped = 0, 0, 0
        for letter in queryset:
            if letter.replayed_at is not None:
                skipped += 1
            elif recovery.replay_dead_letter(letter):
                replayed += 1
            else:
                failed += 1
        text = f"Replayed {replayed}, failed {failed}"
        text += f", {skipped} already replayed (skipped)." if skipped else "."
        self.message_user(request, text, messages.ERROR if failed else messages.SUCCESS)


@admin.register(InvalidEvent)
class InvalidEventAdmin(OperatorAdmin):
    list_display = ("id", "name", "event_source", "delivered", "user_id", "created_at")
    list_filter = ("delivered", "event_source", "created_at")
    search_fields = ("name", "path")
    date_hierarchy = "created_at"
    actions = ("discard",)


@admin.register(DeliveryProgress)
class DeliveryProgressAdmin(OperatorAdmin):
    list_display = ("backend", "delivered_at", "batch_id", "event_count")
