"""Vendor the part of Discord's OpenAPI spec that the fake Discord checks requests against.

    python scripts/vendor_discord_spec.py PATH/TO/openapi.json

Keeps the operations the bot calls (command sync, interaction callbacks and follow-ups,
channel messages), only their JSON request bodies, and the component schemas those
reach through ``$ref``; writes ``tests/support/discord_spec/openapi.json``. The spec is
MIT-licensed (``discord/discord-api-spec``); its licence sits beside the copy.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

TARGET = Path(__file__).resolve().parent.parent / "tests" / "support" / "discord_spec" / "openapi.json"
PATHS = (
    "/applications/{application_id}/commands",
    "/applications/{application_id}/guilds/{guild_id}/commands",
    "/channels/{channel_id}/messages",
    "/interactions/{interaction_id}/{interaction_token}/callback",
    "/webhooks/{webhook_id}/{webhook_token}",
    "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
)
_REF = "#/components/schemas/"


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF):
            found.add(ref[len(_REF) :])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def trim(spec: dict[str, Any]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path in PATHS:
        operations = {}
        for method, operation in spec["paths"][path].items():
            if not isinstance(operation, dict):
                continue  # path-level parameters
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                operations[method] = {"requestBody": {"content": {"application/json": body}}}
        paths[path] = operations
    schemas = spec["components"]["schemas"]
    wanted: set[str] = set()
    _refs(paths, wanted)
    done: set[str] = set()
    while wanted - done:
        name = sorted(wanted - done)[0]
        done.add(name)
        _refs(schemas[name], wanted)
    return {
        "openapi": spec["openapi"],
        "info": spec["info"],
        "paths": paths,
        "components": {"schemas": {name: schemas[name] for name in sorted(done)}},
    }


def main() -> None:
    source = Path(sys.argv[1])
    TARGET.write_text(json.dumps(trim(json.loads(source.read_text(encoding="utf-8"))), indent=1) + "\n")
    (TARGET.parent / "LICENSE").write_text((source.parent / "LICENSE").read_text(encoding="utf-8"))
    print(f"wrote {TARGET} ({TARGET.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
