"""Catalog tests that read the specification documents need them (see reference.py)."""

from __future__ import annotations

import pytest

from tests.catalog import reference

_READERS = ("test_coverage.py", "test_examples.py")


@pytest.fixture(autouse=True)
def _documents(request: pytest.FixtureRequest) -> None:
    """Tests of the modules built on the documents skip without them (fail under CI=true)."""
    if request.path.name in _READERS:
        reference.require_documents()

