"""Checks request bodies against Discord's OpenAPI spec (a vendored part of it, MIT: see LICENSE).

Besides the schema, it checks what the spec does not encode: at most 6,000 characters
across a message's embeds, and custom ids unique within a message's components.
Snowflakes may be integers as well as strings, as Discord accepts.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

SPEC = Path(__file__).with_name("openapi.json")
_ROOT = "urn:discord-api-spec"
EMBED_TOTAL_LIMIT = 6000


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


@functools.cache
def _routes() -> list[tuple[re.Pattern[str], str, Draft202012Validator]]:
    spec: dict[str, Any] = json.loads(SPEC.read_text(encoding="utf-8"))
    spec["$id"] = _ROOT
    snowflake = spec["components"]["schemas"]["SnowflakeType"]
    spec["components"]["schemas"]["SnowflakeType"] = {"anyOf": [snowflake, {"type": "integer", "minimum": 0}]}
    registry: Registry[Any] = Registry().with_resource(_ROOT, DRAFT202012.create_resource(spec))
    routes = []
    for path, operations in spec["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")
        for method in operations:
            pointer = _pointer("paths", path, method, "requestBody", "content", "application/json", "schema")
            validator = Draft202012Validator({"$ref": f"{_ROOT}#/{pointer}"}, registry=registry)
            routes.append((pattern, method.upper(), validator))
    return routes


def _embeds_and_components(body: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    data = body.get("data") if isinstance(body.get("data"), dict) else body
    assert isinstance(data, dict)
    return list(data.get("embeds") or []), list(data.get("components") or [])


def _embed_length(embed: dict[str, Any]) -> int:
    size = len(embed.get("title") or "") + len(embed.get("description") or "")
    size += len((embed.get("footer") or {}).get("text") or "") + len((embed.get("author") or {}).get("name") or "")
    for item in embed.get("fields") or []:
        size += len(item.get("name") or "") + len(item.get("value") or "")
    return size


def _custom_ids(components: list[Any]) -> list[str]:
    found = []
    for component in components:
        if isinstance(component, dict):
            if "custom_id" in component:
                found.append(str(component["custom_id"]))
            found += _custom_ids(component.get("components") or [])
    return found


def problems(method: str, path: str, body: Any) -> list[str]:
    """What Discord would refuse in this request's JSON body (empty when it is fine)."""
    if body is None:
        return []
    for pattern, route_method, validator in _routes():
        if route_method == method and pattern.match(path):
            found = [
                f"{'/'.join(map(str, error.absolute_path)) or 'body'}: {error.message}"[:300]
                for error in validator.iter_errors(body)
            ]
            break
    else:
        return []  # a route the spec part does not cover (GETs, for example)
    if isinstance(body, dict):
        embeds, components = _embeds_and_components(body)
        total = sum(_embed_length(embed) for embed in embeds if isinstance(embed, dict))
        if total > EMBED_TOTAL_LIMIT:
            found.append(f"embeds hold {total} characters; the limit is {EMBED_TOTAL_LIMIT}")
        ids = _custom_ids(components)
        if len(ids) != len(set(ids)):
            found.append(f"duplicate custom ids: {sorted(i for i in set(ids) if ids.count(i) > 1)}")
    return found
