"""Sphinx configuration of the event_hub documentation.

Build: ``.venv/bin/pip install -e '.[docs]' && .venv/bin/sphinx-build -W -b html docs docs/_build/html``.
The event catalog pages and the JSON Schemas are generated from the registry by ``_ext/event_catalog.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path[:0] = [str(DOCS / "_ext"), str(DOCS.parent)]

project = "event_hub"
author = "event_hub contributors"
copyright = "event_hub contributors"
release = "0.1.0"

extensions = ["event_catalog"]
exclude_patterns = ["_build", "catalog/generated/_extra"]
html_theme = "alabaster"
html_extra_path = ["catalog/generated/_extra"]
html_title = "event_hub"
