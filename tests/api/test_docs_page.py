"""The API docs pages of the dev host load Swagger UI and Redoc from its own static files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
EXTERNAL = re.compile(r"^(https?:)?//", re.IGNORECASE)
PAGES = {"/api/docs/": "swagger-ui", "/api/docs/redoc/": "redoc"}

#: Renders the docs pages with the dev host's own settings; prints, per page, its status, its HTML
#: and whether each /static/ file it loads is found by the staticfiles finders.
RENDER = """
import json, re, sys, django
django.setup()
from django.contrib.staticfiles import finders
from django.test import Client
out = {}
for path in sys.argv[1:]:
    response = Client().get(path)
    html = response.content.decode()
    files = re.findall(r'(?:src|href)="/static/([^"?]+)', html)
    out[path] = {"status": response.status_code, "html": html,
                 "missing": [name for name in files if not finders.find(name)]}
print(json.dumps(out))
"""


class _Assets(HTMLParser):
    """The URLs a page loads scripts, styles and icons from."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.urls.append(str(values["src"]))
        elif tag == "link" and values.get("href"):
            self.urls.append(str(values["href"]))


def assets(html: str) -> list[str]:
    parser = _Assets()
    parser.feed(html)
    return parser.urls


@pytest.fixture(name="pages", scope="module")
def fixture_pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    """The docs pages as the dev host (``devsite.settings``) serves them."""
    env = {
        key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "CELERY_BROKER_URL")
    }
    env.update(DJANGO_SETTINGS_MODULE="devsite.settings", EVENT_HUB_VAR=str(tmp_path_factory.mktemp("var")))
    result = subprocess.run(
        [sys.executable, "-c", RENDER, *PAGES],
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    pages: dict[str, dict[str, object]] = json.loads(result.stdout)
    return pages


class TestDocsPages:
    @pytest.mark.parametrize(("path", "bundle"), PAGES.items())
    def test_assets_are_served_from_the_site(
        self, pages: dict[str, dict[str, object]], path: str, bundle: str
    ) -> None:
        """Every script and stylesheet of the page is a static file of the site, none an http(s) URL."""
        page = pages[path]
        assert page["status"] == 200
        html = str(page["html"])
        urls = assets(html)
        assert any(bundle in url and url.startswith("/static/") for url in urls)
        assert [url for url in urls if EXTERNAL.match(url)] == []
        assert "cdn.jsdelivr.net" not in html
        assert page["missing"] == []
