"""``manage.py event_hub_schema``: export the catalog as JSON Schema (draft 2020-12).

``--out FILE`` writes one document (an index of every entry plus every schema
under ``$defs``); ``--dir DIR`` writes one file per schema plus ``index.json``;
with neither, the one document goes to standard output. See
:mod:`event_hub.catalog.schema` for what the schemas contain.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from django.core.management.base import BaseCommand, CommandError, CommandParser

from event_hub.catalog import registry
from event_hub.catalog.schema import DEFAULT_BASE_URI, catalog_document, schema_files

_DUMP_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE


class Command(BaseCommand):
    help = "Write JSON Schemas of every event in the catalog: one combined file (--out) or a folder (--dir)."

    def add_arguments(self, parser: CommandParser) -> None:
        target = parser.add_mutually_exclusive_group()
        target.add_argument("--out", type=Path, help="write one combined JSON document to this file")
        target.add_argument(
            "--dir", type=Path, help="write one file per schema, plus index.json, to this folder"
        )
        parser.add_argument(
            "--base-uri",
            default=DEFAULT_BASE_URI,
            help=f"prefix of every $id (default {DEFAULT_BASE_URI!r}; e.g. https://example.org/schemas/)",
        )
        parser.add_argument(
            "--lenient",
            action="store_true",
            help="allow members the catalog does not list (as with EVENT_HUB STRICT_FIELDS=False)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        strict = not options["lenient"]
        base_uri: str = options["base_uri"]
        if options["dir"] is not None:
            folder: Path = options["dir"]
            if folder.exists() and not folder.is_dir():
                raise CommandError(f"{folder} exists and is not a folder")
            folder.mkdir(parents=True, exist_ok=True)
            files = schema_files(registry, strict=strict, base_uri=base_uri)
            for name, schema in files.items():
                (folder / name).write_bytes(orjson.dumps(schema, option=_DUMP_OPTIONS))
            self.stdout.write(f"wrote {len(files)} schema files for {len(registry)} event types to {folder}")
            return
        document = orjson.dumps(
            catalog_document(registry, strict=strict, base_uri=base_uri), option=_DUMP_OPTIONS
        )
        if options["out"] is None:
            self.stdout.write(document.decode(), ending="")
            return
        out: Path = options["out"]
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(document)
        self.stdout.write(f"wrote the schemas of {len(registry)} event types to {out}")
