"""The OpenAPI document of ``/api/tracking``: drf-spectacular shows :mod:`event_hub.api.contract`.

The request serializers declare no fields; the extensions here hand drf-spectacular the
contract's JSON Schema instead, so the document shows exactly what the validator checks.
``$defs`` become components (``TrackingEvent``, ``AppContext``, ``MobileApplication``) and,
for OpenAPI 3.0 (drf-spectacular's default ``OAS_VERSION``), ``null`` in a type becomes
``nullable``. Importing this module registers the extensions.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.utils import PolymorphicProxySerializer

from event_hub.api.contract import DEFINITIONS, TRACKING_EVENT, Schema, batch_schema
from event_hub.api.serializers import (
    BatchResultSerializer,
    TrackingBatchSerializer,
    TrackingEventSerializer,
    ValidationErrorSerializer,
)
from event_hub.conf import hub_settings

DEFS = "#/$defs/"
COMPONENTS = "#/components/schemas/"


def openapi_schema(schema: Any, *, nullable_keyword: bool | None = None) -> Any:
    """``schema`` in the dialect of the OpenAPI document (``$ref`` to components; 3.0: ``nullable``)."""
    if nullable_keyword is None:
        nullable_keyword = not str(spectacular_settings.OAS_VERSION).startswith("3.1")
    if isinstance(schema, list):
        return [openapi_schema(item, nullable_keyword=nullable_keyword) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result: Schema = {}
    for key, value in schema.items():
        if key in ("$schema", "$defs"):
            continue
        if key == "$ref" and value.startswith(DEFS):
            result[key] = COMPONENTS + value.removeprefix(DEFS)
        else:
            result[key] = openapi_schema(value, nullable_keyword=nullable_keyword)
    if nullable_keyword:
        types = result.get("type")
        if isinstance(types, list) and "null" in types:
            others = [kind for kind in types if kind != "null"]
            result["type"] = others[0] if len(others) == 1 else others
            result["nullable"] = True
        for keyword in ("oneOf", "anyOf"):
            branches = result.get(keyword)
            if branches and {"type": "null"} in branches:
                result[keyword] = [branch for branch in branches if branch != {"type": "null"}]
                result["nullable"] = True
    return result


class _ContractExtension(OpenApiSerializerExtension):
    """Show a request serializer as its schema in the contract, with the definitions it uses."""

    def schema(self) -> Schema:
        raise NotImplementedError

    def map_serializer(self, auto_schema: Any, direction: Any) -> Any:
        for name, definition in DEFINITIONS.items():
            if name != "TrackingEvent":  # the event's own component comes from its serializer
                auto_schema.registry.register_on_missing(
                    ResolvedComponent(
                        name=name,
                        type=ResolvedComponent.SCHEMA,
                        object=name,
                        schema=openapi_schema(definition),
                    )
                )
        return openapi_schema(self.schema())


class TrackingEventExtension(_ContractExtension):
    target_class = TrackingEventSerializer

    def schema(self) -> Schema:
        return TRACKING_EVENT


class TrackingBatchExtension(_ContractExtension):
    target_class = TrackingBatchSerializer

    def schema(self) -> Schema:
        return batch_schema(hub_settings.API_MAX_BATCH_EVENTS)


#: The request body: one event or a batch.
TRACKING_REQUEST = PolymorphicProxySerializer(
    component_name="TrackingRequest",
    serializers=[TrackingEventSerializer, TrackingBatchSerializer],
    resource_type_field_name=None,
)
#: A 400: the errors of a request or of its one event, or a batch none of whose events was accepted.
TRACKING_REJECTED = PolymorphicProxySerializer(
    component_name="TrackingRejected",
    serializers=[ValidationErrorSerializer, BatchResultSerializer],
    resource_type_field_name=None,
)


class CachedSessionScheme(SessionScheme):
    """The session cookie, for :class:`~event_hub.api.authentication.CachedSessionAuthentication`."""

    target_class = "event_hub.api.authentication.CachedSessionAuthentication"
