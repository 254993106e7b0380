"""Make event_hub's Open edX entry points visible, as installing the package does."""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from edx_django_utils.plugins.registry import DjangoAppRegistry

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(name="installed_plugin")
def fixture_installed_plugin(tmp_path: Path) -> Iterator[None]:
    """A distribution on ``sys.path`` declaring the Open edX entry points of pyproject.toml.

    The shared development install may predate them; a wheel install carries the same lines.
    """
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    groups = project["project"]["entry-points"]
    dist = tmp_path / "event_hub_plugin_under_test-0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: event-hub-plugin-under-test\nVersion: 0\n")
    lines = []
    for group in ("lms.djangoapp", "cms.djangoapp"):
        lines.append(f"[{group}]")
        lines.extend(f"{name} = {target}" for name, target in groups[group].items())
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n")
    sys.path.insert(0, str(tmp_path))
    DjangoAppRegistry.get_available_plugins.cache_clear()
    yield
    sys.path.remove(str(tmp_path))
    DjangoAppRegistry.get_available_plugins.cache_clear()
