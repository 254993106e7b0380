"""``/api/tracking``: authenticate, validate through the serializer, answer with the event id."""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from event_hub.api.serializers import TrackingEventSerializer


class TrackingView(APIView):
    """Accept one client event."""

    serializer_class = TrackingEventSerializer

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = TrackingEventSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        envelope = serializer.save()
        return Response({"id": envelope.id}, status=status.HTTP_201_CREATED)
