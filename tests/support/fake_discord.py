"""A local fake of Discord's REST API and gateway, for end-to-end tests of the real bot.

It runs an aiohttp app on 127.0.0.1 in a background thread. Every request body is
checked against Discord's OpenAPI spec (``tests.support.discord_spec``); one Discord
would refuse is answered with a 400 and kept in ``violations``. The bot process is pointed
at it with ``QABOT_DISCORD_API_BASE`` and ``QABOT_DISCORD_GATEWAY_URL``. Tests dispatch
gateway events (interactions, messages) and read what the bot sent back over REST.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from aiohttp import WSMsgType, web

from tests.support.discord_spec import problems

APP_ID = "900000000000000001"
BOT_ID = APP_ID
GUILD_ID = "900000000000000100"
CHANNEL_ID = "900000000000000200"
DM_CHANNEL_ID = "900000000000000300"
TIMESTAMP = "2025-01-01T00:00:00.000000+00:00"

BOT_USER = {"id": BOT_ID, "username": "qabot", "discriminator": "0", "global_name": None, "avatar": None, "bot": True}


def user(number: int) -> dict[str, Any]:
    return {
        "id": str(800000000000000000 + number),
        "username": f"user{number}",
        "discriminator": "0",
        "global_name": None,
        "avatar": None,
    }


def member(who: dict[str, Any], permissions: str = "0") -> dict[str, Any]:
    return {
        "user": who,
        "roles": [],
        "joined_at": TIMESTAMP,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "permissions": permissions,
    }


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    at: float = field(default_factory=time.monotonic)


class FakeDiscord:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        # Files users uploaded, by name, served at /attachments/NAME.
        self.files: dict[str, bytes] = {}
        # Requests Discord would refuse (checked against its OpenAPI spec), as one line each.
        self.violations: list[str] = []
        self.sockets: list[web.WebSocketResponse] = []
        self.identifies = 0
        self.invalid_sessions: set[str] = set()
        # Which shard each gateway connection identified as.
        self.shard_of: dict[web.WebSocketResponse, int] = {}
        # A close code every IDENTIFY is answered with (None: READY as usual).
        self.close_on_identify: int | None = None
        # How many of the next IDENTIFYs get no READY (to test the bot's READY timeout).
        self.withhold_ready = 0
        self.resumes = 0
        self.sequence = 0
        self._ids = itertools.count(950000000000000000)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0
        # Overrides for REST routes: a function of (method, path) -> (status, body, headers) or None.
        self.fault: Callable[[str, str], tuple[int, Any, dict[str, str]] | None] | None = None
        self._lock = threading.Lock()
        # Called (in the server's thread) with every REST request as it arrives.
        self.on_request: Callable[[Request], None] | None = None

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> None:
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application()
            app.router.add_get("/gateway", self._gateway)
            app.router.add_get("/attachments/{name}", self._attachment)
            app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
            self._runner = web.AppRunner(app)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            server = site._server
            assert server is not None
            self.port = cast(asyncio.Server, server).sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        ready.wait(10)

    def stop(self) -> None:
        if self._loop is None:
            return

        async def shutdown() -> None:
            for ws in list(self.sockets):
                await ws.close()
            assert self._runner is not None
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def env(self) -> dict[str, str]:
        return {
            "QABOT_DISCORD_API_BASE": f"http://127.0.0.1:{self.port}/api/v10",
            "QABOT_DISCORD_GATEWAY_URL": f"ws://127.0.0.1:{self.port}/gateway",
        }

    def next_id(self) -> str:
        return str(next(self._ids))

    # -- REST ----------------------------------------------------------------------

    @staticmethod
    def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
        # discord.py parses a body as JSON only for exactly this content type.
        return web.Response(
            status=status,
            body=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **(headers or {})},
        )

    def message(self, channel_id: str, body: dict[str, Any], author: dict[str, Any] = BOT_USER) -> dict[str, Any]:
        return {
            "id": self.next_id(),
            "channel_id": channel_id,
            "author": author,
            "content": body.get("content") or "",
            "timestamp": TIMESTAMP,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "type": 0,
            "flags": body.get("flags", 0),
        }

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = {"raw": raw.decode("utf-8", "replace")}
        recorded = Request(request.method, path, dict(request.query), body)
        refused = problems(request.method, path, body)
        with self._lock:
            self.requests.append(recorded)
            if refused:
                self.violations.append(f"{request.method} {path}: {'; '.join(refused)}")
        if self.on_request is not None:
            self.on_request(recorded)
        if self.fault is not None:
            injected = self.fault(request.method, path)
            if injected is not None:
                status, payload, headers = injected
                return self._json(payload, status, headers)
        if refused:
            # As Discord answers a body it refuses.
            return self._json({"message": "Invalid Form Body", "code": 50035, "errors": refused}, 400)
        method = request.method
        parts = path.strip("/").split("/")
        if method == "GET" and path == "/users/@me":
            return self._json(BOT_USER)
        if method == "GET" and path == "/oauth2/applications/@me":
            return self._json(
                {
                    "id": APP_ID,
                    "name": "qabot",
                    "icon": None,
                    "description": "",
                    "bot_public": True,
                    "bot_require_code_grant": False,
                    "verify_key": "0" * 64,
                    "owner": user(1),
                    "team": None,
                    "flags": 0,
                }
            )
        if method == "GET" and path == "/gateway/bot":
            return self._json(
                {
                    "url": f"ws://127.0.0.1:{self.port}/gateway",
                    "shards": 1,
                    "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1},
                }
            )
        if method == "PUT" and parts[0] == "applications" and parts[-1] == "commands":
            return self._json(
                [
                    # As Discord answers: every command has a type and a description ("" for menus).
                    {
                        "type": 1,
                        "description": "",
                        **command,
                        "id": self.next_id(),
                        "application_id": APP_ID,
                        "version": "1",
                    }
                    for command in body or []
                ]
            )
        if method == "POST" and parts[0] == "interactions" and parts[-1] == "callback":
            data = (body or {}).get("data") or {}
            response: dict[str, Any] = {"interaction": {"id": parts[1], "type": 2, "response_message_id": None}}
            if body and body.get("type") in (4, 7):
                msg = self.message(CHANNEL_ID, data)
                response["interaction"]["response_message_id"] = msg["id"]
                response["resource"] = {"type": body["type"], "message": msg}
            elif body:
                response["resource"] = {"type": body["type"]}
            return self._json(response)
        if method == "POST" and parts[0] == "channels" and parts[-1] == "messages":
            return self._json(self.message(parts[1], body or {}))
        if method == "POST" and parts[0] == "webhooks":
            return self._json(self.message(CHANNEL_ID, body or {}))
        if method == "PATCH" and parts[0] == "webhooks":
            return self._json(self.message(CHANNEL_ID, body or {}))
        return self._json({"message": "Unknown route", "code": 0}, 404)

    def sent(self, method: str | None = None, contains: str = "") -> list[Request]:
        with self._lock:
            found = list(self.requests)
        return [r for r in found if (method is None or r.method == method) and contains in r.path]

    async def _attachment(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["name"])
        return web.Response(body=data) if data is not None else web.Response(status=404)

    def attachment(self, filename: str, data: bytes) -> dict[str, Any]:
        """An uploaded file, served as Discord's CDN would serve it."""
        attachment_id = self.next_id()
        self.files[f"{attachment_id}-{filename}"] = data
        url = f"http://127.0.0.1:{self.port}/attachments/{attachment_id}-{filename}"
        return {"id": attachment_id, "filename": filename, "size": len(data), "url": url, "proxy_url": url}

    # -- gateway -------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None}))
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                break
            payload = json.loads(msg.data)
            op = payload.get("op")
            if op == 1:
                await ws.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
            elif op == 2:
                self.identifies += 1
                if self.close_on_identify is not None:
                    # As Discord refuses an IDENTIFY: a bad token (4004), a bad shard (4010) ...
                    await ws.close(code=self.close_on_identify)
                    break
                if self.withhold_ready > 0:
                    self.withhold_ready -= 1
                    continue
                shard = payload["d"].get("shard") or [0, 1]
                self.shard_of[ws] = int(shard[0])
                await self._dispatch(
                    ws,
                    "READY",
                    {
                        "v": 10,
                        "user": BOT_USER,
                        "guilds": [{"id": GUILD_ID, "unavailable": True}],
                        "session_id": f"session-{self.identifies}",
                        "resume_gateway_url": f"ws://127.0.0.1:{self.port}/gateway",
                        "shard": shard,
                        "application": {"id": APP_ID, "flags": 0},
                    },
                )
                await self._dispatch(ws, "GUILD_CREATE", self.guild())
            elif op == 6:
                if payload["d"].get("session_id") in self.invalid_sessions:
                    # As Discord does for a session it no longer knows: identify anew.
                    await ws.send_str(json.dumps({"op": 9, "d": False, "s": None, "t": None}))
                    continue
                self.resumes += 1
                await self._dispatch(ws, "RESUMED", {})
        if ws in self.sockets:
            self.sockets.remove(ws)
        return ws

    def guild(self) -> dict[str, Any]:
        return {
            "id": GUILD_ID,
            "name": "Test server",
            "icon": None,
            "owner_id": user(1)["id"],
            "roles": [
                {
                    "id": GUILD_ID,
                    "name": "@everyone",
                    "permissions": "0",
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
            ],
            "channels": [
                {
                    "id": CHANNEL_ID,
                    "type": 0,
                    "name": "general",
                    "position": 0,
                    "permission_overwrites": [],
                    "guild_id": GUILD_ID,
                }
            ],
            "members": [member(BOT_USER)],
            "member_count": 3,
            "features": [],
            "emojis": [],
            "stickers": [],
            "threads": [],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "unavailable": False,
            "large": False,
            "joined_at": TIMESTAMP,
            "premium_tier": 0,
            "mfa_level": 0,
            "verification_level": 0,
            "explicit_content_filter": 0,
            "default_message_notifications": 0,
            "preferred_locale": "en-US",
            "system_channel_flags": 0,
            "nsfw_level": 0,
        }

    async def _dispatch(self, ws: web.WebSocketResponse, event: str, data: dict[str, Any]) -> None:
        self.sequence += 1
        await ws.send_str(json.dumps({"op": 0, "t": event, "s": self.sequence, "d": data}))

    async def send_event(self, event: str, data: dict[str, Any]) -> None:
        """Send an event over the newest gateway connection (from the server's own loop)."""
        await self._dispatch(self.sockets[-1], event, data)

    def run(self, coroutine: Any) -> Any:
        """Run a coroutine in the server's loop and wait for its result (thread-safe)."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def dispatch(self, event: str, data: dict[str, Any], shard: int | None = None) -> None:
        """Send an event to the bot over the newest gateway connection, or over the newest
        connection that identified as ``shard`` (thread-safe)."""
        assert self._loop is not None
        sockets = self.sockets if shard is None else [ws for ws in self.sockets if self.shard_of.get(ws) == shard]

        async def send() -> None:
            await self._dispatch(sockets[-1], event, data)

        asyncio.run_coroutine_threadsafe(send(), self._loop).result(10)

    def drop_connection(self, code: int = 4000) -> None:
        """Close the gateway connection as Discord does on a fault.

        4000 (unknown error) can be resumed; after 4007 (invalid sequence) or 4009 (session
        timed out) the session is gone, so a RESUME is refused and the bot must identify.
        """
        assert self._loop is not None
        if code in (4007, 4009):
            self.invalid_sessions.add(f"session-{self.identifies}")

        async def close() -> None:
            await self.sockets[-1].close(code=code)

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)

    # -- payloads ------------------------------------------------------------------

    def interaction(
        self,
        kind: int,
        data: dict[str, Any],
        who: dict[str, Any],
        message: dict[str, Any] | None = None,
        permissions: str = "0",
    ) -> dict[str, Any]:
        interaction_id = self.next_id()
        payload: dict[str, Any] = {
            "id": interaction_id,
            "application_id": APP_ID,
            "type": kind,
            "token": f"token-{interaction_id}",
            "version": 1,
            "data": data,
            "guild_id": GUILD_ID,
            "channel_id": CHANNEL_ID,
            "channel": {
                "id": CHANNEL_ID,
                "type": 0,
                "guild_id": GUILD_ID,
                "name": "general",
                "position": 0,
                "permission_overwrites": [],
            },
            "member": member(who, permissions),
            "app_permissions": "0",
            "locale": "en-US",
            "guild_locale": "en-US",
            "attachment_size_limit": 8388608,
            "entitlements": [],
            "authorizing_integration_owners": {"0": GUILD_ID},
            "context": 0,
        }
        if message is not None:
            payload["message"] = message
        return payload

    def slash(
        self, name: str, options: list[dict[str, Any]], who: dict[str, Any], permissions: str = "0"
    ) -> dict[str, Any]:
        return self.interaction(
            2, {"id": self.next_id(), "name": name, "type": 1, "options": options}, who, permissions=permissions
        )

    def incoming_message(
        self,
        content: str,
        who: dict[str, Any],
        *,
        guild: bool,
        mentions: list[dict[str, Any]] | None = None,
        channel_id: str | None = None,
    ) -> dict[str, Any]:
        channel = channel_id or (CHANNEL_ID if guild else DM_CHANNEL_ID)
        message = self.message(channel, {"content": content}, author=who)
        message["mentions"] = mentions or []
        if guild:
            message["guild_id"] = GUILD_ID
            message["member"] = {k: v for k, v in member(who).items() if k != "user"}
        return message
