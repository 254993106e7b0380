"""Fixtures of the API tests (defined in api_support, shared by every module here)."""

from tests.api.api_support import (  # noqa: F401 - pytest finds fixtures by their names here
    fixture_api_client,
    fixture_api_hub,
    fixture_other_user,
    fixture_refusing_catalog,
    fixture_user,
    fixture_user_client,
)
