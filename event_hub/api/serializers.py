"""Serializers of ``/api/tracking``: they validate the request and call the Tracker."""

from __future__ import annotations

from typing import Any

import orjson
from rest_framework import serializers

from event_hub.exceptions import InvalidEventError
from event_hub.tracker import tracker


class TrackingEventSerializer(serializers.Serializer):
    """One client event: the design-note shape or the Open edX browser shape."""

    tracking_event_type = serializers.CharField(required=False, max_length=255)
    event_type = serializers.CharField(required=False, max_length=255)
    node_id = serializers.CharField(required=False, allow_blank=True, max_length=1024)
    event_data = serializers.JSONField(required=False)
    event = serializers.JSONField(required=False)
    page = serializers.CharField(required=False, allow_blank=True, max_length=2048)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        name = attrs.get("tracking_event_type") or attrs.get("event_type")
        if not name:
            raise serializers.ValidationError({"tracking_event_type": ["This field is required."]})
        data = attrs["event_data"] if "event_data" in attrs else attrs.get("event")
        if isinstance(data, str) and data[:1] in ("{", "["):
            try:
                data = orjson.loads(data)
            except orjson.JSONDecodeError as exc:
                raise serializers.ValidationError({"event": [f"not valid JSON: {exc}"]}) from exc
        attrs["name"], attrs["data"] = name, data
        return attrs

    def create(self, validated_data: dict[str, Any]) -> Any:
        try:
            envelope = tracker.send(
                validated_data["name"],
                validated_data["data"],
                source="browser",
                page=validated_data.get("page"),
                course_content_node=validated_data.get("node_id") or None,
                on_invalid="record_and_raise",
            )
        except InvalidEventError as exc:
            prefix = "event_data" if "event_data" in validated_data else "event"
            raise serializers.ValidationError(
                {(f"{prefix}.{path}" if path else prefix): messages for path, messages in exc.errors.items()}
            ) from exc
        return envelope
