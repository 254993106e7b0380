"""The xAPI 1.0.3 requirements on a statement a client sends, checked member by member.

From the "Statement" part of the xAPI 1.0.3 data specification: what must be
there, what types and formats the members have, which combinations are
forbidden. Returns the problems found (empty when the statement conforms).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_ISO8601 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
STATEMENT_KEYS = {
    "id",
    "actor",
    "verb",
    "object",
    "result",
    "context",
    "timestamp",
    "stored",
    "authority",
    "version",
    "attachments",
}
INTERACTION_TYPES = {
    "true-false",
    "choice",
    "fill-in",
    "long-fill-in",
    "matching",
    "performance",
    "sequencing",
    "likert",
    "numeric",
    "other",
}


def problems(statement: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    _no_nulls(statement, "", found)
    for key in set(statement) - STATEMENT_KEYS:
        found.append(f"unknown statement property {key!r}")
    for key in ("actor", "verb", "object"):
        if key not in statement:
            found.append(f"no {key}")
    if "id" in statement and not _is_uuid(statement["id"]):
        found.append("id is not a UUID")
    if "stored" in statement or "authority" in statement:
        found.append("a client must not set stored or authority")
    if "timestamp" in statement and not _is_timestamp(statement["timestamp"]):
        found.append("timestamp is not ISO 8601 with a zone")
    if "version" in statement and not re.fullmatch(r"1\.0(\.\d+)?", str(statement["version"])):
        found.append("version is not 1.0.x")
    _agent(statement.get("actor"), "actor", found)
    _verb(statement.get("verb"), found)
    obj = statement.get("object")
    if isinstance(obj, Mapping):
        _activity(obj, "object", found)
    else:
        found.append("object is not an object")
    if "result" in statement:
        _result(statement["result"], found)
    if "context" in statement:
        _context(statement["context"], found)
    return found


def _no_nulls(value: Any, path: str, found: list[str]) -> None:
    if value is None:
        found.append(f"{path or 'statement'} is null")
    elif isinstance(value, Mapping):
        for key, member in value.items():
            _no_nulls(member, f"{path}.{key}", found)
    elif isinstance(value, list):
        for i, member in enumerate(value):
            _no_nulls(member, f"{path}[{i}]", found)


def _is_uuid(value: Any) -> bool:
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def _is_timestamp(value: Any) -> bool:
    if not isinstance(value, str) or not _ISO8601.match(value):
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


def _is_iri(value: Any) -> bool:
    return isinstance(value, str) and bool(_IRI.match(value))


def _language_map(value: Any, path: str, found: list[str]) -> None:
    if not isinstance(value, Mapping) or not value:
        found.append(f"{path} is not a language map")
        return
    for tag, text in value.items():
        if not _LANGUAGE_TAG.match(tag) or not isinstance(text, str):
            found.append(f"{path}: bad entry {tag!r}")


def _extensions(value: Any, path: str, found: list[str]) -> None:
    if not isinstance(value, Mapping):
        found.append(f"{path} is not an object")
        return
    for key in value:
        if not _is_iri(key):
            found.append(f"{path}: key {key!r} is not an IRI")


def _agent(value: Any, path: str, found: list[str]) -> None:
    if not isinstance(value, Mapping):
        found.append(f"{path} is not an object")
        return
    if value.get("objectType", "Agent") != "Agent":
        found.append(f"{path} is not an Agent")
    ifis = [key for key in ("mbox", "mbox_sha1sum", "openid", "account") if key in value]
    if len(ifis) != 1:
        found.append(f"{path} has {len(ifis)} inverse functional identifiers, not exactly one")
    account = value.get("account")
    if account is not None:
        if not isinstance(account, Mapping) or set(account) != {"homePage", "name"}:
            found.append(f"{path}.account must have homePage and name only")
        else:
            if not (
                isinstance(account["homePage"], str)
                and account["homePage"].startswith(("http://", "https://"))
            ):
                found.append(f"{path}.account.homePage is not an IRL")
            if not isinstance(account["name"], str) or not account["name"]:
                found.append(f"{path}.account.name is empty")


def _verb(value: Any, found: list[str]) -> None:
    if not isinstance(value, Mapping) or not _is_iri(value.get("id")):
        found.append("verb.id is not an IRI")
        return
    if "display" in value:
        _language_map(value["display"], "verb.display", found)


def _activity(value: Mapping[str, Any], path: str, found: list[str]) -> None:
    if value.get("objectType", "Activity") != "Activity":
        found.append(f"{path}.objectType is {value.get('objectType')!r}, not Activity")
    if not _is_iri(value.get("id")):
        found.append(f"{path}.id is not an IRI: {value.get('id')!r}")
    definition = value.get("definition")
    if definition is None:
        return
    if not isinstance(definition, Mapping):
        found.append(f"{path}.definition is not an object")
        return
    if "type" in definition and not _is_iri(definition["type"]):
        found.append(f"{path}.definition.type is not an IRI")
    for key in ("name", "description"):
        if key in definition:
            _language_map(definition[key], f"{path}.definition.{key}", found)
    if "interactionType" in definition and definition["interactionType"] not in INTERACTION_TYPES:
        found.append(f"{path}.definition.interactionType is not an xAPI interaction type")
    if "extensions" in definition:
        _extensions(definition["extensions"], f"{path}.definition.extensions", found)


def _result(value: Any, found: list[str]) -> None:
    if not isinstance(value, Mapping):
        found.append("result is not an object")
        return
    for key in ("success", "completion"):
        if key in value and not isinstance(value[key], bool):
            found.append(f"result.{key} is not a boolean")
    if "response" in value and not isinstance(value["response"], str):
        found.append("result.response is not a string")
    score = value.get("score")
    if score is not None:
        numbers = {key: score[key] for key in ("scaled", "raw", "min", "max") if key in score}
        if any(isinstance(n, bool) or not isinstance(n, (int, float)) for n in numbers.values()):
            found.append("result.score members are not numbers")
        else:
            if "scaled" in numbers and not -1 <= numbers["scaled"] <= 1:
                found.append("result.score.scaled is outside [-1, 1]")
            if "min" in numbers and "max" in numbers and numbers["min"] > numbers["max"]:
                found.append("result.score.min is above max")
            if "raw" in numbers and not numbers.get("min", numbers["raw"]) <= numbers["raw"] <= numbers.get(
                "max", numbers["raw"]
            ):
                found.append("result.score.raw is outside [min, max]")
    if "extensions" in value:
        _extensions(value["extensions"], "result.extensions", found)


def _context(value: Any, found: list[str]) -> None:
    if not isinstance(value, Mapping):
        found.append("context is not an object")
        return
    activities = value.get("contextActivities", {})
    for kind, members in activities.items():
        if kind not in ("parent", "grouping", "category", "other"):
            found.append(f"context.contextActivities.{kind} is not a context activity kind")
        for i, member in enumerate(members if isinstance(members, list) else [members]):
            _activity(member, f"context.contextActivities.{kind}[{i}]", found)
    if "registration" in value and not _is_uuid(value["registration"]):
        found.append("context.registration is not a UUID")
    if "extensions" in value:
        _extensions(value["extensions"], "context.extensions", found)
