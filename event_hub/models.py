"""Durable state: the outbox, dead letters and invalid events.

Payloads are stored as the JSON lines the backends receive, so a batch can be
re-published or replayed exactly as it was.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class OutboxBatch(models.Model):
    """A batch waiting to be (re)published because the broker or the backend was unavailable."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    backend = models.CharField(max_length=100)
    payload = models.TextField(help_text="JSON lines, one rendered event per line.")
    event_count = models.PositiveIntegerField()
    attempts = models.PositiveIntegerField(default=0, help_text="Delivery attempts already made.")
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("next_attempt_at", "created_at")
        verbose_name_plural = "outbox batches"

    def __str__(self) -> str:
        return f"{self.backend} batch {self.id} ({self.event_count} events)"


class DeadLetter(models.Model):
    """A batch (or one event of it) that could not be delivered; kept for inspection and replay."""

    class Reason(models.TextChoices):
        PERMANENT = "permanent", "permanent error"
        RETRIES_EXHAUSTED = "retries_exhausted", "retries exhausted"
        REJECTED = "rejected", "event rejected by backend"

    batch_id = models.UUIDField(db_index=True)
    backend = models.CharField(max_length=100, db_index=True)
    payload = models.TextField(help_text="JSON lines, one rendered event per line.")
    event_count = models.PositiveIntegerField()
    reason = models.CharField(max_length=32, choices=Reason.choices)
    error = models.TextField()
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    replayed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    replay_attempts = models.PositiveIntegerField(default=0)
    last_replay_error = models.TextField(blank=True)

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return f"dead letter {self.pk}: {self.backend} ({self.event_count} events, {self.reason})"


class InvalidEvent(models.Model):
    """An event that did not match the catalog, with the reason: held back, or delivered anyway."""

    name = models.CharField(max_length=255, db_index=True)
    event_source = models.CharField(max_length=16)
    payload = models.JSONField(help_text="The event as it was emitted or posted.")
    errors = models.JSONField(help_text="Field path -> messages.")
    user_id = models.BigIntegerField(null=True, blank=True)
    path = models.CharField(max_length=2048, blank=True)
    delivered = models.BooleanField(
        default=False,
        db_index=True,
        help_text="Delivered as it came despite the problem (True), or held back (False).",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return f"invalid {self.name} from {self.event_source} at {self.created_at:%Y-%m-%d %H:%M:%S}"


class DeliveryProgress(models.Model):
    """The newest batch a worker reported delivered to one backend (``manage.py event_hub_status``)."""

    backend = models.CharField(max_length=100, primary_key=True)
    batch_id = models.CharField(max_length=64)
    event_count = models.PositiveIntegerField(help_text="Events of that batch.")
    delivered_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name_plural = "delivery progress"

    def __str__(self) -> str:
        return f"{self.backend}: batch {self.batch_id} delivered at {self.delivered_at:%Y-%m-%d %H:%M:%S}"
